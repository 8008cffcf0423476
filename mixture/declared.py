"""Writing a component by declaring it: parameters with constraints, a support, and the maths.

A :class:`DeclaredComponent` subclass lists its parameters and settings as class attributes::

    class Poisson(WeightedSumsComponent):
        rate = Parameter(non_negative)       # one rate per feature, checked at construction
        support = counts                      # rows of non-negative integers

and gets, from that declaration alone: a constructor that validates every value with an error
naming it, read-only attributes, ``n_features``, ``n_parameters``, ``repr``, equality,
pickling, warm starts (:meth:`~mixture.Component.with_parameters_from`) and a model-file
type (``mixture.model_file.save`` writes it, ``load`` reads it back). Its ``log_density``
gives rows outside the support ``-inf`` and its statistics leave them out, so the maths the
author writes only ever sees rows inside.

:class:`WeightedSumsComponent` adds what exponential families share: statistics that are
weighted sums of per-row features (:class:`WeightedSums`), their type and zero-weight guards,
and an M-step written from weighted means.

The hand-written :class:`~mixture.Component` contract stays for unusual components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mixture._missing import missing_patterns
from mixture._validation import check_data, check_rows_and_weights
from mixture.constraints import Constraint, Support
from mixture.contract import Component, Statistics
from mixture.exceptions import DegenerateComponentError
from mixture.file_types import read_fields, register

__all__ = [
    "DeclaredComponent",
    "Parameter",
    "Setting",
    "WeightedSums",
    "WeightedSumsComponent",
]

_NO_DEFAULT = object()


class Parameter:
    """A fitted value of a component, declared as a class attribute.

    Parameters
    ----------
    constraint : Constraint
        Its allowed values (:mod:`mixture.constraints`).
    doc : str, optional
        What it is, for ``help()`` on the attribute.
    """

    is_setting = False

    def __init__(self, constraint: Constraint, doc: str = "") -> None:
        if not isinstance(constraint, Constraint):
            raise TypeError(f"Parameter needs a mixture.constraints.Constraint; got {constraint!r}")
        self.constraint = constraint
        self.default: Any = _NO_DEFAULT
        self.__doc__ = doc or None
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance._declared_values[self.name]


class Setting(Parameter):
    """A value the M-step keeps (a regularisation, a pseudocount): keyword-only, with a
    default, not counted in ``n_parameters``."""

    is_setting = True

    def __init__(self, constraint: Constraint, default: Any, doc: str = "") -> None:
        super().__init__(constraint, doc)
        self.default = default


def _rebuild(cls: type, values: dict[str, Any]) -> Any:
    """Unpickle a declared component: construct it again (so the values are checked)."""
    return cls(**values)


class DeclaredComponent(Component):
    """A component whose parameters, settings and support are declared (see the module).

    Subclasses declare :class:`Parameter` and :class:`Setting` attributes and a
    :attr:`support`, and implement :meth:`log_density_inside`, :meth:`statistics_inside`,
    :meth:`from_statistics` and :meth:`sample`. Optional hooks: :meth:`__post_init__`
    (checks across parameters, precomputed values), ``scipy_twin``, ``mean`` and
    ``variance`` (see :class:`~mixture.Component`).

    Attributes
    ----------
    support : Support
        Rows of positive density (default: every finite row). May be a property when it
        depends on the parameters (a box).
    file_type : str or None
        The ``"type"`` written in model files; ``None`` for an abstract intermediate class
        that should not be registered. Default: the class name for the package's own
        components, ``"module.ClassName"`` for yours (so it never clashes with a built-in
        name); set it to keep files readable after you move the class.
    """

    support: ClassVar[Support | None] = None
    file_type: ClassVar[str | None] = None
    _declared: ClassVar[tuple[Parameter, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Parameter] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Parameter):
                    declared.pop(name, None)
                    declared[name] = value
        for setting in declared.values():
            if setting.is_setting and setting.name in vars(cls):  # a default must be allowed
                setting.default = setting.constraint.check(
                    setting.default, f"the default of {setting.name}"
                )
        parameters = [p for p in declared.values() if not p.is_setting]
        cls._declared = (*parameters, *(p for p in declared.values() if p.is_setting))
        if "file_type" not in vars(cls):
            cls.file_type = _default_file_type(cls)
        if cls.file_type is not None and parameters:
            register(cls, cls.file_type, _to_fields, _from_fields_of(cls))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        parameters = [p for p in self._declared if not p.is_setting]
        if len(args) > len(parameters):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(parameters)} positional values "
                f"({', '.join(p.name for p in parameters)}); got {len(args)}"
            )
        given = dict(zip((p.name for p in parameters), args, strict=False))
        for name in kwargs:
            if name in given:
                raise TypeError(f"{type(self).__name__} got two values for {name!r}")
        given.update(kwargs)
        known = {p.name for p in self._declared}
        unknown = sorted(set(given) - known)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no parameter or setting {unknown[0]!r}; it takes "
                f"{', '.join(p.name for p in self._declared)}"
            )
        values: dict[str, Any] = {}
        for declared in self._declared:
            if declared.name in given:
                values[declared.name] = declared.constraint.check(
                    given[declared.name], declared.name
                )
            elif declared.default is not _NO_DEFAULT:
                values[declared.name] = declared.default
            else:
                raise TypeError(f"{type(self).__name__} needs a value for {declared.name!r}")
        self._declared_values = values
        self._check_lengths()
        self.__post_init__()

    def _check_lengths(self) -> None:
        lengths = {
            p.name: len(self._declared_values[p.name])
            for p in self._declared
            if p.constraint.per_feature and not p.is_setting
        }
        if len(set(lengths.values())) > 1:
            described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
            raise ValueError(
                f"{type(self).__name__}'s parameters need one entry per feature each; {described}"
            )

    def __post_init__(self) -> None:
        """Checks across parameters and precomputed values; raise ``ValueError``."""

    # -- what the declaration gives -------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Any]:
        """The declared parameters (not settings), by name."""
        return {p.name: self._declared_values[p.name] for p in self._declared if not p.is_setting}

    @property
    def settings(self) -> dict[str, Any]:
        """The declared settings, by name."""
        return {p.name: self._declared_values[p.name] for p in self._declared if p.is_setting}

    def replace(self, **changes: Any) -> DeclaredComponent:
        """A component of the same type with some parameters or settings changed."""
        return type(self)(**{**self._declared_values, **changes})

    @property
    def n_features(self) -> int:
        for declared in self._declared:
            if declared.constraint.per_feature and not declared.is_setting:
                return len(self._declared_values[declared.name])
        raise NotImplementedError(
            f"{type(self).__name__} declares no per-feature parameter; define n_features"
        )

    @property
    def n_parameters(self) -> int:
        """Free values of the declared parameters (their constraints count them)."""
        return sum(
            p.constraint.n_free(self._declared_values[p.name])
            for p in self._declared
            if not p.is_setting
        )

    def __repr__(self) -> str:
        shown = []
        for p in self._declared:
            value = self._declared_values[p.name]
            if p.is_setting and p.constraint.equal(value, p.default):
                continue
            shown.append(f"{p.name}={_plain(value)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, DeclaredComponent)
        return all(
            p.constraint.equal(self._declared_values[p.name], other._declared_values[p.name])
            for p in self._declared
        )

    def __hash__(self) -> int:
        return hash((type(self), repr(self)))

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _rebuild, (type(self), dict(self._declared_values))

    def with_parameters_from(self, other: Component) -> Component:
        """``other``'s parameters with this component's settings (for warm starts)."""
        if type(other) is not type(self) or other.n_features != self.n_features:
            raise ValueError(
                f"cannot start a {type(self).__name__} with {self.n_features} features from "
                f"{other!r}"
            )
        assert isinstance(other, DeclaredComponent)
        try:
            return type(self)(**other.parameters, **self.settings)
        except ValueError as error:
            raise ValueError(f"cannot start {self!r} from {other!r}: {error}") from None

    # -- the support, applied once here -----------------------------------------------------
    def inside(self, data: np.ndarray) -> np.ndarray:
        """Whether each row lies in the support, shape ``(n_samples,)``."""
        support = self.support
        if support is None or support.everything:
            return np.ones(data.shape[0], dtype=bool)
        return support.contains(data)

    def log_density(self, X: Any) -> np.ndarray:
        """Log-density of each row; ``-inf`` outside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        data = check_data(X, n_features=self.n_features, min_rows=0).astype(np.float64, copy=False)
        inside = self.inside(data)
        if inside.all():
            return np.asarray(self.log_density_inside(data), dtype=np.float64)
        out = np.full(data.shape[0], -np.inf)
        out[inside] = self.log_density_inside(data[inside])
        return out

    def statistics(self, X: Any, weights: Any) -> Statistics:
        """Weighted sufficient statistics of the rows inside the support (rows outside have
        zero likelihood whatever the parameters, so they carry no information).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        weights : array-like of shape (n_samples,)
            Non-negative row weights.

        Returns
        -------
        Statistics
        """
        data, row_weights = check_rows_and_weights(X, weights, self.n_features)
        data = data.astype(np.float64, copy=False)
        inside = self.inside(data)
        if not inside.all():
            data, row_weights = data[inside], row_weights[inside]
        return self.statistics_inside(data, row_weights)

    def log_density_inside(self, X: np.ndarray) -> np.ndarray:
        """Log-density of rows that all lie in the support.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float64

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise NotImplementedError(f"{type(self).__name__} must define log_density_inside")

    def statistics_inside(self, X: np.ndarray, weights: np.ndarray) -> Statistics:
        """Weighted sufficient statistics of rows that all lie in the support.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float64
        weights : ndarray of shape (n_samples,), float64
        """
        raise NotImplementedError(f"{type(self).__name__} must define statistics_inside")

    #: The class of the statistics :meth:`statistics_inside` returns; ``from_statistics``
    #: refuses any other (and statistics with an ``owner`` made by another component type).
    statistics_type: ClassVar[type[Statistics]] = Statistics

    def from_statistics(self, statistics: Statistics) -> Component:
        """M-step: :meth:`m_step`, with the guards every component needs.

        Raises
        ------
        TypeError
            For statistics of another component type.
        DegenerateComponentError
            For statistics that carry no weight (unless :meth:`from_no_weight` has an
            answer), or estimates that break a declared constraint (a rate that overflowed,
            a variance of 0).
        """
        name = type(self).__name__
        owner = getattr(statistics, "owner", type(self))
        if not isinstance(statistics, self.statistics_type) or owner is not type(self):
            raise TypeError(
                f"{name}.from_statistics needs a {name}'s statistics; got {statistics!r}"
            )
        if not statistics.total_weight > 0:
            return self.from_no_weight()
        try:
            return self.m_step(statistics)
        except DegenerateComponentError:
            raise
        except ValueError as error:  # the estimates broke a declared constraint
            raise DegenerateComponentError(
                f"{name}'s M-step gave parameters outside their constraints ({error}): the "
                "component collapsed, or the data need rescaling"
            ) from None

    def m_step(self, statistics: Any) -> Component:
        """The maximum-likelihood component given summed statistics of positive weight
        (of :attr:`statistics_type`, made by this component type)."""
        raise NotImplementedError(f"{type(self).__name__} must define m_step")

    def from_no_weight(self) -> Component:
        """The M-step when no row inside the support had weight: by default an error."""
        raise DegenerateComponentError(
            f"{type(self).__name__}.from_statistics got statistics with zero total weight (no "
            "rows inside the support had positive weight), so there is nothing to estimate from"
        )


def _default_file_type(cls: type) -> str:
    if cls.__module__.split(".")[0] == "mixture":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def _plain(value: Any) -> Any:
    """A value as repr shows it: arrays as lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple) and value and isinstance(value[0], np.ndarray):
        return [v.tolist() for v in value]
    return value


def _to_fields(component: DeclaredComponent) -> dict[str, Any]:
    return {
        p.name: p.constraint.to_json(component._declared_values[p.name])
        for p in component._declared
    }


def _from_fields_of(cls: type[DeclaredComponent]) -> Callable[[dict[str, Any]], Any]:
    def from_fields(fields: dict[str, Any]) -> DeclaredComponent:
        required = tuple(p.name for p in cls._declared if not p.is_setting)
        optional = tuple(p.name for p in cls._declared if p.is_setting)
        read_fields(fields, required, optional)
        values = {
            p.name: p.constraint.from_json(fields[p.name], p.name)
            for p in cls._declared
            if p.name in fields
        }
        return cls(**values)

    return from_fields


# -- exponential families: statistics that are weighted sums ------------------------------------
@dataclass(frozen=True, eq=False)
class WeightedSums(Statistics):
    """The summed row weight and weighted sums of per-row features, for one component type.

    Adding two gives the statistics of both row sets, scaling multiplies everything (as
    multiplying every row weight would); statistics of different component types never add.

    Attributes
    ----------
    owner : type
        The component class that made them.
    weight : float
        ``sum_i w_i``.
    sums : tuple of ndarray
        ``sum_i w_i t(x_i)`` for each feature map ``t`` the component declares.
    """

    owner: type
    weight: float
    sums: tuple[np.ndarray, ...]
    #: With missing values: the summed weight of the rows that observe each feature, shape
    #: ``(n_features,)`` (then each sum is per feature); None when every row observes all.
    feature_weight: np.ndarray | None = None

    def __add__(self, other: Statistics) -> WeightedSums:
        if not isinstance(other, WeightedSums) or other.owner is not self.owner:
            return NotImplemented
        if [a.shape for a in self.sums] != [b.shape for b in other.sums]:
            raise ValueError(
                f"cannot add statistics of {self.owner.__name__} components with different "
                f"shapes: {[a.shape for a in self.sums]} and {[b.shape for b in other.sums]}"
            )
        feature_weight = None
        if self.feature_weight is not None or other.feature_weight is not None:
            feature_weight = self._feature_weight(other) + other._feature_weight(self)
        return WeightedSums(
            self.owner,
            self.weight + other.weight,
            tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            feature_weight,
        )

    def _feature_weight(self, other: WeightedSums) -> np.ndarray:
        """Per-feature weights, every feature observed by every row when none are kept."""
        if self.feature_weight is not None:
            return self.feature_weight
        assert other.feature_weight is not None
        return np.full(other.feature_weight.shape, self.weight)

    def scale(self, factor: float) -> WeightedSums:
        return WeightedSums(
            self.owner,
            self.weight * factor,
            tuple(a * factor for a in self.sums),
            None if self.feature_weight is None else self.feature_weight * factor,
        )

    @property
    def total_weight(self) -> float:
        return self.weight

    def means(self) -> tuple[np.ndarray, ...]:
        """``sums / weight``: the weighted means of the feature maps (per feature, over the
        rows that observe it, when :attr:`feature_weight` is kept)."""
        divisor = self.weight if self.feature_weight is None else self.feature_weight
        return tuple(s / divisor for s in self.sums)


class WeightedSumsComponent(DeclaredComponent):
    """A declared component whose sufficient statistics are weighted sums of per-row
    features (exponential families, and any component whose M-step needs only such sums).

    Implement :meth:`row_features` (the per-row maps ``t(x)``) or, when a direct reduction is
    cheaper, :meth:`weighted_sums`; and :meth:`from_means`, the M-step from the weighted
    means. The statistics type check and the zero-weight guard are done here.
    """

    file_type = None

    def row_features(self, X: np.ndarray) -> Iterator[np.ndarray] | tuple[np.ndarray, ...]:
        """The per-row feature maps ``t(x)`` whose weighted sums are the statistics.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows inside the support.

        Returns
        -------
        tuple of ndarray, each of shape (n_samples, ...)
        """
        raise NotImplementedError(f"{type(self).__name__} must define row_features")

    def weighted_sums(self, X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
        """``sum_i w_i t(x_i)`` for each feature map (default: from :meth:`row_features`).

        The engine runs chunks in threads with the BLAS held at one thread, so a plain
        ``weights @ features`` is the right product here.
        """
        return tuple(
            np.tensordot(weights, np.asarray(feature, dtype=np.float64), axes=1)
            for feature in self.row_features(X)
        )

    def statistics_inside(self, X: np.ndarray, weights: np.ndarray) -> WeightedSums:
        return WeightedSums(type(self), float(weights.sum()), self.weighted_sums(X, weights))

    statistics_type = WeightedSums

    def m_step(self, statistics: WeightedSums) -> Component:
        """M-step: :meth:`from_means` of the weighted means (with missing values, each
        feature's mean over the rows that observe it, and the weights per feature)."""
        if statistics.feature_weight is None:
            return self.from_means(statistics.means(), statistics.weight)
        unseen = np.flatnonzero(~(statistics.feature_weight > 0))
        if unseen.size:
            raise DegenerateComponentError(
                f"{type(self).__name__}: feature {int(unseen[0])} is missing in every row the "
                "component holds, so its parameters cannot be estimated; use fewer components"
            )
        return self.from_means(statistics.means(), statistics.feature_weight)

    # -- missing values: components over independent features -------------------------------
    #: Declare True when the component is a product over features, every parameter is per
    #: feature and every feature map of :meth:`row_features` is per feature: missing values
    #: are then marginalised by leaving the feature out (:meth:`feature_marginal`).
    marginalizes_features: ClassVar[bool] = False

    @property
    def handles_missing(self) -> bool:  # type: ignore[override]
        return type(self).marginalizes_features

    def feature_marginal(self, features: np.ndarray) -> Component:
        """The component of the selected features (a boolean mask or indices): every
        parameter restricted to them, the settings kept."""
        return self.replace(
            **{name: np.asarray(value)[features] for name, value in self.parameters.items()}
        )

    def log_density_observed(self, X: np.ndarray) -> np.ndarray:
        """Sum of the observed features' log-densities (NaN is missing), shape ``(n,)``."""
        self._refuse_unless_marginalizing()
        out = np.zeros(X.shape[0])
        for observed, rows in missing_patterns(X):
            if observed.any():
                marginal = self.feature_marginal(observed)
                out[rows] = marginal.log_density(X[rows][:, observed])
        return out

    def statistics_observed(self, X: np.ndarray, weights: np.ndarray) -> WeightedSums:
        """Per-feature weighted sums over the rows that observe each feature, with the
        per-feature weights (:attr:`WeightedSums.feature_weight`)."""
        self._refuse_unless_marginalizing()
        n_features = X.shape[1]
        total = 0.0
        feature_weight = np.zeros(n_features)
        sums: list[np.ndarray] | None = None
        for observed, rows in missing_patterns(X):
            if not observed.any():
                continue
            part = self.feature_marginal(observed).statistics(X[rows][:, observed], weights[rows])
            total += part.weight
            feature_weight[observed] += part.weight
            if sums is None:
                sums = [np.zeros(n_features) for _ in part.sums]
            for full, piece in zip(sums, part.sums, strict=True):
                full[observed] += piece
        if sums is None:  # no row observes any feature: zero sums of the right shapes
            sums = list(self.weighted_sums(np.zeros((0, n_features)), np.zeros(0)))
        return WeightedSums(type(self), total, tuple(sums), feature_weight)

    def _refuse_unless_marginalizing(self) -> None:
        if not type(self).marginalizes_features:
            raise NotImplementedError(f"{type(self).__name__} does not handle missing values")

    def from_means(self, means: tuple[np.ndarray, ...], weight: float) -> Component:
        """M-step: the maximum-likelihood component given the weighted means of
        :meth:`row_features`.

        Parameters
        ----------
        means : tuple of ndarray
            ``sum_i w_i t(x_i) / sum_i w_i`` for each feature map.
        weight : float
            ``sum_i w_i`` (> 0), for priors and pseudocounts.
        """
        raise NotImplementedError(f"{type(self).__name__} must define from_means")
