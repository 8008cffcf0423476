"""The one registry from covariance-structure names to structure objects.

Every place that takes a structure by name (the scikit-learn facade's ``covariance_type``,
model files, the command line, model selection) looks it up here; nothing else dispatches
on the name. Each of mclust's 14 models is known by its three-letter name; scikit-learn's
four also by scikit-learn's names ("full" = VVV, "tied" = EEE, "diag" = VVI,
"spherical" = VII).
"""

from __future__ import annotations

from typing import Any

from mixture.constraints import Constraint
from mixture.file_types import read_text
from mixture.gaussian.covariance import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.gaussian.parsimonious import (
    EEICovariance,
    EEVCovariance,
    EIICovariance,
    EVECovariance,
    EVICovariance,
    EVVCovariance,
    VEECovariance,
    VEICovariance,
    VEVCovariance,
    VVECovariance,
)

__all__ = [
    "MCLUST_NAMES",
    "SKLEARN_NAMES",
    "STRUCTURE_NAMES",
    "OneComponentStructure",
    "register_structure",
    "structure_named",
]

#: mclust's order: spherical, diagonal, then ellipsoidal models.
_MODELS: tuple[type[CovarianceStructure], ...] = (
    EIICovariance,
    SphericalCovariance,
    EEICovariance,
    VEICovariance,
    EVICovariance,
    DiagonalCovariance,
    TiedCovariance,
    VEECovariance,
    EVECovariance,
    VVECovariance,
    EEVCovariance,
    VEVCovariance,
    EVVCovariance,
    FullCovariance,
)

SKLEARN_NAMES: tuple[str, ...] = ("full", "tied", "diag", "spherical")
"""scikit-learn's four covariance types, in the order grids list them by default."""

MCLUST_NAMES: tuple[str, ...] = tuple(cls.mclust_name for cls in _MODELS)
"""mclust's 14 model names, in mclust's order."""

_REGISTRY: dict[str, type[CovarianceStructure]] = {cls.mclust_name: cls for cls in _MODELS}
_REGISTRY.update({cls.name: cls for cls in _MODELS})

STRUCTURE_NAMES: tuple[str, ...] = SKLEARN_NAMES + tuple(
    name for name in MCLUST_NAMES if _REGISTRY[name].name == name
)
"""Every structure once, by its own name: scikit-learn's four, then mclust's other ten."""


def register_structure(cls: type[CovarianceStructure]) -> type[CovarianceStructure]:
    """Make a structure of your own known by its ``name`` to :func:`structure_named`, as the
    built-in ones are: model files then load it, and the CLI's ``-c`` takes its name.

    Usable as a class decorator. The class must build with no arguments. A name already
    taken by another class is refused.

    Raises
    ------
    ValueError
        If ``cls`` is not a ``CovarianceStructure`` subclass with a name, or the name is taken.
    """
    if not (isinstance(cls, type) and issubclass(cls, CovarianceStructure)):
        raise ValueError(f"register_structure expects a CovarianceStructure subclass; got {cls!r}")
    name = cls.name
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"the structure name {name!r} is taken by {known.__name__}")
    _REGISTRY[name] = cls
    return cls


def structure_named(name: str) -> CovarianceStructure:
    """The structure object called ``name`` (``"full"``, ``"VVV"``, ``"VEV"``, ...).

    Raises
    ------
    ValueError
        If no structure has that name; the message lists the names.
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"unknown covariance structure {name!r}; choose from "
            f"{', '.join(STRUCTURE_NAMES)} (or mclust's names {', '.join(MCLUST_NAMES)})"
        )
    return cls()


class OneComponentStructure(Constraint):
    """A setting holding a per-component covariance structure (a single component's scale
    or covariance; a tied structure belongs to several components and is refused). Written
    in model files by name."""

    per_feature = False

    def check(self, value: Any, name: str) -> CovarianceStructure:
        if not isinstance(value, CovarianceStructure):
            raise ValueError(
                f"{name} must be a CovarianceStructure such as FullCovariance() or "
                f"DiagonalCovariance(); got {value!r}"
            )
        if value.component_structure != value:
            raise ValueError(
                f"{name} {value!r} is shared by several components; a single component needs a "
                "per-component structure (FullCovariance, DiagonalCovariance, SphericalCovariance)"
            )
        return value

    def n_free(self, value: Any) -> int:
        return 0

    def to_json(self, value: Any) -> str:
        return value.name

    def from_json(self, value: Any, name: str) -> CovarianceStructure:
        return structure_named(read_text(value, name))

    def equal(self, a: Any, b: Any) -> bool:
        return a == b
