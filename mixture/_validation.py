"""Input validation with errors that name the problem.

Every public entry point passes user arrays through these functions, so a bad input fails
early with a :class:`ValueError` that says what is wrong, instead of a traceback from deep
inside numpy or, worse, silent NaN parameters.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from mixture._chunking import row_slices

_FINITE_CHECK_ROWS = 65536


def check_data(
    X: Any,
    *,
    name: str = "X",
    n_features: int | None = None,
    min_rows: int = 1,
    first_row: int = 0,
    allow_missing: bool = False,
) -> np.ndarray:
    """Validate a data matrix and return it as a float32 or float64 array.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data. float32 stays float32; any other real dtype becomes float64. No copy is made
        when ``X`` is already a float32 or float64 array (a ``numpy.memmap`` stays on disk).
    name : str
        Name used in error messages.
    n_features : int, optional
        Required number of columns (e.g. the number a mixture was fitted with).
    min_rows : int
        Minimum number of rows.
    first_row : int
        Row number of ``X``'s first row in the caller's data (a chunk of a stream), used in
        messages.
    allow_missing : bool, default False
        Accept NaN as a missing value (EM that marginalises them); infinity and rows with
        no observed value are still refused.

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        If ``X`` is sparse, has a datetime column, is not numeric, not 2-D, has too few rows,
        the wrong number of columns, or contains NaN or infinity.
    """
    check_container(X, name=name)
    try:
        array = np.asarray(X)  # no copy for an ndarray; np.matrix becomes a plain array
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise ValueError(f"{name} could not be read as a rectangular array: {exc}") from None
    if array.dtype.kind in "Mm":
        raise ValueError(_datetime_message(name, f"dtype {array.dtype}"))
    if array.dtype.kind in "OUSV":
        try:
            array = array.astype(np.float64)
        except (ValueError, TypeError):
            raise ValueError(_non_numeric_message(array, name)) from None
    elif array.dtype.kind == "c":
        raise ValueError(f"{name} must be real-valued; got complex dtype {array.dtype}")
    elif array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {array.dtype}")
    if array.dtype != np.float32 and array.dtype != np.float64:
        array = array.astype(np.float64)

    if array.ndim != 2:
        hint = " Use X.reshape(-1, 1) for a single feature." if array.ndim == 1 else ""
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features); got {array.ndim}-D "
            f"array of shape {array.shape}.{hint}"
        )
    n_rows, n_cols = array.shape
    if n_cols == 0:
        raise ValueError(f"{name} has 0 features (shape {array.shape}); need at least 1")
    if n_rows < min_rows:
        raise ValueError(
            f"{name} has {n_rows} row(s); need at least {min_rows}"
            + ("" if n_rows else " (the input is empty)")
        )
    if n_features is not None and n_cols != n_features:
        raise ValueError(
            f"{name} has {n_cols} features, but the model was fitted with {n_features}"
        )
    if allow_missing:
        _check_observed(array, name, first_row)
    else:
        _check_finite(array, name, first_row)
    return array


def check_container(X: Any, *, name: str = "X") -> None:
    """Refuse, before any conversion, inputs that cannot become a float matrix.

    Sparse matrices and arrays (densifying them silently could exhaust memory), and
    datetime or timedelta columns (numpy would either fail with a ``DTypePromotionError``
    or silently turn them into nanosecond counts).

    Raises
    ------
    ValueError
        Naming the problem and the fix.
    """
    if _is_sparse(X):
        raise ValueError(
            f"{name}: sparse input is not supported; convert with .toarray() "
            f"(got {type(X).__name__})"
        )
    dtypes = getattr(X, "dtypes", None)  # a pandas DataFrame's column dtypes
    if dtypes is not None and hasattr(dtypes, "items"):
        dated = [str(column) for column, dtype in dtypes.items() if _is_datetime_dtype(dtype)]
        if dated:
            raise ValueError(_datetime_message(name, f"column(s) {dated}"))
    elif isinstance(X, np.ndarray) and X.dtype.kind in "Mm":
        raise ValueError(_datetime_message(name, f"dtype {X.dtype}"))
    elif isinstance(X, np.ndarray) and X.dtype.kind == "O":
        try:
            X.astype(np.float64)
        except (ValueError, TypeError):
            bad = _first_non_numeric(X)
            if bad is not None and _is_datetime_value(bad[1]):
                raise ValueError(_non_numeric_message(X, name)) from None
            # Other non-numeric objects are left to the caller's conversion and its error.


def _is_sparse(X: Any) -> bool:
    module = type(X).__module__ or ""
    if not module.startswith("scipy.sparse"):
        return False
    from scipy import sparse  # only when the input came from scipy.sparse

    return bool(sparse.issparse(X))


def _is_datetime_dtype(dtype: Any) -> bool:
    return getattr(dtype, "kind", "") in ("M", "m")


def _datetime_message(name: str, where: str) -> str:
    return (
        f"{name} has a datetime/timedelta (non-numeric) column ({where}); convert it to "
        "numbers (e.g. seconds since a reference time) or drop it"
    )


def _first_non_numeric(array: np.ndarray) -> tuple[str, Any] | None:
    """Where the first cell that ``float()`` refuses is, and its value (None if none)."""
    flat = array.reshape(array.shape[0], -1) if array.ndim >= 2 else array.reshape(-1, 1)
    for (row, column), value in np.ndenumerate(flat):
        try:
            float(value)
        except (ValueError, TypeError):
            return (f"row {row}, column {column}" if array.ndim >= 2 else f"entry {row}"), value
    return None


def _non_numeric_message(array: np.ndarray, name: str) -> str:
    """One line naming the first cell that is not a number (and whether it is a date)."""
    bad = _first_non_numeric(array)
    if bad is None:
        return f"{name} must contain only numbers; found non-numeric values (dtype {array.dtype})"
    where, value = bad
    if _is_datetime_value(value):
        return _datetime_message(name, f"{where} holds {type(value).__name__} {value}")
    return (
        f"{name} must contain only numbers; found the non-numeric value {value!r} at {where} "
        f"(dtype {array.dtype})"
    )


def _is_datetime_value(value: Any) -> bool:
    import datetime

    return isinstance(value, (datetime.date, datetime.time, datetime.timedelta)) or (
        isinstance(value, np.generic) and value.dtype.kind in "Mm"
    )


def _check_finite(array: np.ndarray, name: str, first_row: int = 0) -> None:
    """Raise naming the first non-finite cell; checks chunk by chunk to bound memory."""
    for rows in row_slices(array.shape[0], _FINITE_CHECK_ROWS):
        block = array[rows]
        finite = np.isfinite(block)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            value = block[row, col]
            what = "NaN" if np.isnan(value) else "infinity"
            total = int(array.shape[0] * array.shape[1] - _count_finite(array))
            raise ValueError(
                f"{name} contains {what} at row {first_row + rows.start + row}, column {col} "
                f"({total} non-finite value(s) in {'all' if not first_row else 'this chunk'}); "
                "remove or impute them before fitting, or fit with missing='marginalize' to "
                "treat NaN as missing values"
            )


def _check_observed(array: np.ndarray, name: str, first_row: int = 0) -> None:
    """Raise naming the first infinite cell, or the first row with no observed value."""
    for rows in row_slices(array.shape[0], _FINITE_CHECK_ROWS):
        block = array[rows]
        infinite = np.isinf(block)
        if infinite.any():
            row, col = np.argwhere(infinite)[0]
            raise ValueError(
                f"{name} contains infinity at row {first_row + rows.start + row}, column {col}"
            )
        empty = np.flatnonzero(np.isnan(block).all(axis=1))
        if empty.size:
            raise ValueError(
                f"{name} row {first_row + rows.start + int(empty[0])} has no observed value "
                "(every value is missing): it carries no information; drop it"
            )


def check_observed_columns(array: np.ndarray, name: str = "X") -> None:
    """Raise naming a column with no observed value (NaN in every row): fitting can estimate
    nothing for it. (Scoring or imputing a few rows may have such columns.)"""
    seen = np.zeros(array.shape[1], dtype=bool)
    for rows in row_slices(array.shape[0], _FINITE_CHECK_ROWS):
        seen |= ~np.isnan(array[rows]).all(axis=0)
        if seen.all():
            return
    column = int(np.flatnonzero(~seen)[0])
    raise ValueError(
        f"{name} column {column} has no observed value (every value is missing): nothing "
        "can be estimated for it; drop it"
    )


def _count_finite(array: np.ndarray) -> int:
    return sum(
        int(np.isfinite(array[rows]).sum())
        for rows in row_slices(array.shape[0], _FINITE_CHECK_ROWS)
    )


def check_sample_weight(
    sample_weight: Any, n_rows: int, *, name: str = "sample_weight"
) -> np.ndarray | None:
    """Validate per-row weights.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative, finite weights with a positive sum. ``None`` means all ones.
    n_rows : int
        Number of rows of the data they weight.

    Returns
    -------
    ndarray of shape (n_samples,), float64, or None
    """
    if sample_weight is None:
        return None
    weights = check_vector(sample_weight, name=name)
    if weights.shape[0] != n_rows:
        raise ValueError(f"{name} has {weights.shape[0]} entries but the data has {n_rows} rows")
    if (weights < 0).any():
        raise ValueError(
            f"{name} must be non-negative; found {int((weights < 0).sum())} negative "
            f"value(s), e.g. {weights[weights < 0][0]!r} at row {int(np.argmax(weights < 0))}"
        )
    total = weights.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to zero; at least one row needs a positive weight")
    if not np.isfinite(total):
        raise ValueError(f"{name} sums to infinity; divide the weights by a common factor")
    return weights


def check_vector(values: Any, *, name: str) -> np.ndarray:
    """Validate a finite 1-D real vector and return it as float64."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must contain only real numbers; got dtype {raw.dtype}")
    vector = raw.astype(np.float64)
    if vector.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {vector.shape}")
    if not np.isfinite(vector).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return vector


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int, a ``Generator`` or a ``RandomState`` into a ``Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, an int, a numpy.random.Generator or a RandomState; "
        f"got {type(random_state).__name__}"
    )


def check_int(value: Any, *, name: str, minimum: int) -> int:
    """Validate an integer parameter with a lower bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def check_nonnegative_float(value: Any, *, name: str) -> float:
    """Validate a finite, non-negative real parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0; got {value}")
    return float(value)


def check_rows_and_weights(X: Any, weights: Any, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate the arguments of a component's ``statistics(X, weights)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite rows; zero rows are allowed (an empty chunk).
    weights : array-like of shape (n_samples,)
        Non-negative row weights, one per row.
    n_features : int
        Columns the component describes.

    Returns
    -------
    data : ndarray of shape (n_samples, n_features), float32 or float64
    row_weights : ndarray of shape (n_samples,), float64
    """
    data = check_data(X, n_features=n_features, min_rows=0)
    row_weights = check_vector(weights, name="weights")
    if row_weights.shape != (data.shape[0],) or (row_weights < 0).any():
        raise ValueError(f"weights must be {data.shape[0]} non-negative numbers, one per row of X")
    return data, row_weights
