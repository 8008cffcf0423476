"""What a component declares about its values: constraints on parameters and its support.

A :class:`Constraint` checks one parameter (or setting) at construction, with an error that
names it, counts its free values for BIC, and writes and reads it in model files. A
:class:`Support` says which rows a component can produce: rows outside get density 0, are
left out of the component's statistics, and give the conformance kit rows to try.

The ready-made ones cover the usual cases::

    real, positive, non_negative, probability        # one value per feature
    positive_number, non_negative_number, flag       # one scalar
    reals, positive_reals, non_negative_reals, counts, binary   # supports
    Interval(low, high, ...), Box(low, high)         # your own bounds
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from mixture.file_types import read_flag, read_numbers, read_real

__all__ = [
    "Bounds",
    "Box",
    "ColumnBlocks",
    "Constraint",
    "Flag",
    "Interval",
    "Number",
    "ProbabilityVectors",
    "RealArray",
    "Support",
    "binary",
    "counts",
    "flag",
    "non_negative",
    "non_negative_number",
    "non_negative_reals",
    "positive",
    "positive_number",
    "positive_reals",
    "probability",
    "real",
    "reals",
]


class Constraint(ABC):
    """The allowed values of one declared parameter or setting.

    Subclasses implement :meth:`check`; the other methods have defaults for per-feature
    vectors of floats.
    """

    #: True when the value holds one entry per feature (``len(value) == n_features``).
    per_feature: bool = True

    @abstractmethod
    def check(self, value: Any, name: str) -> Any:
        """The value in canonical form (read-only arrays), or ``ValueError`` naming ``name``."""

    def n_free(self, value: Any) -> int:
        """Free values it contributes to the component's parameter count."""
        return int(np.size(value))

    def to_json(self, value: Any) -> Any:
        """The value as plain JSON (lists of floats for arrays)."""
        return np.asarray(value, dtype=np.float64).tolist()

    def from_json(self, value: Any, name: str) -> Any:
        """Read the value back from JSON, refusing anything but numbers."""
        return read_numbers(value, name)

    def equal(self, a: Any, b: Any) -> bool:
        """Whether two checked values are the same."""
        return bool(np.array_equal(a, b))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _bounds_text(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or math.isinf(low) else "["
    right = ")" if high_open or math.isinf(high) else "]"
    return f"{left}{low:g}, {high:g}{right}"


@dataclass(frozen=True)
class Interval(Constraint):
    """One finite value per feature, each in an interval.

    Parameters
    ----------
    low, high : float
        Bounds (``-inf`` / ``inf`` for none).
    low_open, high_open : bool
        Whether the bound itself is excluded.
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def check(self, value: Any, name: str) -> np.ndarray:
        raw = np.asarray(value)
        if raw.dtype.kind not in "biuf":
            raise ValueError(f"{name} must contain only real numbers; got dtype {raw.dtype}")
        vector = np.array(raw, dtype=np.float64)
        if vector.ndim != 1 or vector.shape[0] == 0:
            raise ValueError(
                f"{name} must be a non-empty 1-D array, one value per feature; got shape "
                f"{vector.shape}"
            )
        if not np.isfinite(vector).all():
            raise ValueError(f"{name} contains NaN or infinity: {vector.tolist()}")
        inside = (vector > self.low if self.low_open else vector >= self.low) & (
            vector < self.high if self.high_open else vector <= self.high
        )
        if not inside.all():
            index = int(np.argmin(inside))
            bounds = _bounds_text(self.low, self.high, self.low_open, self.high_open)
            raise ValueError(f"{name} must lie in {bounds}; {name}[{index}] is {vector[index]}")
        return _frozen(vector)

    def from_json(self, value: Any, name: str) -> np.ndarray:
        return read_numbers(value, name, ndim=1)


@dataclass(frozen=True)
class Number(Constraint):
    """One finite real scalar in an interval (a setting such as a pseudocount, or a scalar
    parameter such as degrees of freedom)."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    per_feature = False

    def check(self, value: Any, name: str) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number; got {value!r}")
        number = float(value)
        below = number <= self.low if self.low_open else number < self.low
        above = number >= self.high if self.high_open else number > self.high
        if not math.isfinite(number) or below or above:
            bounds = _bounds_text(self.low, self.high, self.low_open, self.high_open)
            raise ValueError(f"{name} must be a finite number in {bounds}; got {number}")
        return number

    def n_free(self, value: Any) -> int:
        return 1

    def to_json(self, value: Any) -> float:
        return float(value)

    def from_json(self, value: Any, name: str) -> float:
        return read_real(value, name)

    def equal(self, a: Any, b: Any) -> bool:
        return a == b


@dataclass(frozen=True)
class Flag(Constraint):
    """``True`` or ``False`` (a setting)."""

    per_feature = False

    def check(self, value: Any, name: str) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {value!r}")
        return bool(value)

    def n_free(self, value: Any) -> int:
        return 0

    def to_json(self, value: Any) -> bool:
        return bool(value)

    def from_json(self, value: Any, name: str) -> bool:
        return read_flag(value, name)

    def equal(self, a: Any, b: Any) -> bool:
        return a == b


@dataclass(frozen=True)
class ProbabilityVectors(Constraint):
    """One probability vector per feature (each in ``[0, 1]``, summing to 1 within 1e-6,
    then renormalised exactly); the vectors may differ in length.

    Counts ``len(vector) - 1`` free values per feature.
    """

    tolerance: float = 1e-6

    def check(self, value: Any, name: str) -> tuple[np.ndarray, ...]:
        if isinstance(value, np.ndarray) and value.ndim < 2:
            raise ValueError(
                f"{name} must be a sequence of 1-D arrays, one per feature; got an array of "
                f"shape {value.shape} (for a single feature, wrap it: [{name}])"
            )
        if not isinstance(value, (list, tuple, np.ndarray)) or len(value) == 0:
            raise ValueError(
                f"{name} must be a non-empty sequence of 1-D arrays, one per feature; got "
                f"{type(value).__name__}"
            )
        vectors = []
        for feature, entry in enumerate(value):
            where = f"{name}[{feature}]"
            vector = Interval(0.0, 1.0).check(entry, where)
            total = float(vector.sum())
            if abs(total - 1.0) > self.tolerance:
                raise ValueError(f"{where} must sum to 1; it sums to {total!r}")
            # Renormalise only beyond round-off, so rebuilding a component (a model file's
            # round trip) never changes its probabilities.
            if abs(total - 1.0) > vector.shape[0] * np.finfo(np.float64).eps:
                vector = _frozen(vector / total)
            vectors.append(vector)
        return tuple(vectors)

    def n_free(self, value: Any) -> int:
        return sum(len(vector) - 1 for vector in value)

    def to_json(self, value: Any) -> list[list[float]]:
        return [vector.tolist() for vector in value]

    def from_json(self, value: Any, name: str) -> tuple[np.ndarray, ...]:
        if not isinstance(value, list):
            raise ValueError(f"{name} must be a list with one list of probabilities per feature")
        return tuple(read_numbers(v, f"{name}[{j}]", ndim=1) for j, v in enumerate(value))

    def equal(self, a: Any, b: Any) -> bool:
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class RealArray(Constraint):
    """A finite real array of any shape (a component checks the shape it needs, e.g. a
    scale matrix whose form depends on a setting, in its ``__post_init__``)."""

    per_feature = False

    def check(self, value: Any, name: str) -> np.ndarray:
        raw = np.asarray(value)
        if raw.dtype.kind not in "biuf":
            raise ValueError(f"{name} must contain only real numbers; got dtype {raw.dtype}")
        array = np.array(raw, dtype=np.float64)
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return _frozen(array)


@dataclass(frozen=True)
class Bounds(Constraint):
    """A pair ``(low, high)`` of finite numbers with ``floor < low < high`` (a setting such as
    the interval searched for a parameter)."""

    floor: float = -math.inf
    per_feature = False

    def check(self, value: Any, name: str) -> tuple[float, float]:
        try:
            low, high = value
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair (low, high); got {value!r}") from None
        low = Number().check(low, f"{name}[0]")
        high = Number().check(high, f"{name}[1]")
        if not self.floor < low < high:
            raise ValueError(f"{name} must have {self.floor:g} < low < high; got {(low, high)!r}")
        return (low, high)

    def n_free(self, value: Any) -> int:
        return 0

    def to_json(self, value: Any) -> list[float]:
        return [float(v) for v in value]

    def from_json(self, value: Any, name: str) -> tuple[float, float]:
        pair = read_numbers(value, name, ndim=1)
        if pair.shape != (2,):
            raise ValueError(f"{name} must be a pair of numbers")
        return (float(pair[0]), float(pair[1]))

    def equal(self, a: Any, b: Any) -> bool:
        return tuple(a) == tuple(b)


real = Interval()
positive = Interval(0.0, low_open=True)
non_negative = Interval(0.0)
probability = Interval(0.0, 1.0)
positive_number = Number(0.0, low_open=True)
non_negative_number = Number(0.0)
flag = Flag()


# -- supports ------------------------------------------------------------------------------------
class Support(ABC):
    """The rows a component gives positive density."""

    @abstractmethod
    def contains(self, X: np.ndarray) -> np.ndarray:
        """Whether each row lies inside.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), bool
        """

    def outside_values(self, n_features: int) -> np.ndarray:
        """Values that put a row outside when written into one of its features (the
        conformance kit tries them): ``values[v, j]`` for feature ``j``, NaN where no value
        of feature ``j`` is outside. Empty when every finite row is inside.

        Returns
        -------
        ndarray of shape (n_values, n_features)
        """
        return np.empty((0, n_features))

    #: True when every finite row is inside (the layer then skips the test).
    everything: bool = False


@dataclass(frozen=True)
class _Elementwise(Support):
    """Every feature of a row in one set of values (an interval, integers or not)."""

    low: float
    low_open: bool
    integers: bool
    high: float = math.inf
    description: str = ""

    def contains(self, X: np.ndarray) -> np.ndarray:
        above = X > self.low if self.low_open else X >= self.low
        inside = above & (X <= self.high)
        if self.integers:
            inside &= np.floor(X) == X
        return inside.all(axis=1)

    def outside_values(self, n_features: int) -> np.ndarray:
        values = [] if math.isinf(self.low) else [self.low - 1.0]
        if self.low_open:
            values.append(self.low)
        if math.isfinite(self.high):
            values.append(self.high + 1.0)
        if self.integers:
            values.append(self.low + 0.5 if self.low_open else max(self.low, 0.0) + 0.5)
        return np.repeat(np.array(values, dtype=np.float64)[:, None], n_features, axis=1)

    def __repr__(self) -> str:
        return self.description

    @property
    def everything(self) -> bool:  # type: ignore[override]
        return math.isinf(self.low) and math.isinf(self.high) and not self.integers


reals = _Elementwise(-math.inf, False, False, description="reals")
positive_reals = _Elementwise(0.0, True, False, description="positive_reals")
non_negative_reals = _Elementwise(0.0, False, False, description="non_negative_reals")
counts = _Elementwise(0.0, False, True, description="counts")
binary = _Elementwise(0.0, False, True, high=1.0, description="binary")


@dataclass(frozen=True, eq=False)
class Box(Support):
    """``low <= x <= high`` in every feature.

    Parameters
    ----------
    low, high : ndarray of shape (n_features,)
    integers : bool, default False
        Whether only whole numbers are inside (codes ``0 .. C - 1``: ``Box(0, C - 1, True)``).
    """

    low: np.ndarray
    high: np.ndarray
    integers: bool = False

    def contains(self, X: np.ndarray) -> np.ndarray:
        inside = (X >= self.low) & (X <= self.high)
        if self.integers:
            inside &= np.floor(X) == X
        return inside.all(axis=1)

    def outside_values(self, n_features: int) -> np.ndarray:
        low = np.broadcast_to(self.low, (n_features,))
        high = np.broadcast_to(self.high, (n_features,))
        values = [low - 1.0, high + 1.0]
        if self.integers:
            values.append(low + 0.5)
        return np.array(values, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ColumnBlocks(Support):
    """The support of a product over column blocks: each block inside its own support.

    Parameters
    ----------
    supports : tuple of (Support or None)
        One per block; ``None`` for a part that declares none (every row inside).
    blocks : tuple of tuple of int
        The columns of each block.
    """

    supports: tuple[Support | None, ...]
    blocks: tuple[tuple[int, ...], ...]

    def contains(self, X: np.ndarray) -> np.ndarray:
        inside = np.ones(X.shape[0], dtype=bool)
        for support, block in zip(self.supports, self.blocks, strict=True):
            if support is not None:
                inside &= support.contains(X[:, list(block)])
        return inside

    def outside_values(self, n_features: int) -> np.ndarray:
        rows = []
        for support, block in zip(self.supports, self.blocks, strict=True):
            if support is None:
                continue
            for values in support.outside_values(len(block)):
                row = np.full(n_features, np.nan)
                row[list(block)] = values
                rows.append(row)
        return np.array(rows).reshape(len(rows), n_features)
