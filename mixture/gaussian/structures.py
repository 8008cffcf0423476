"""The one registry from covariance-structure names to structure objects.

Every place that takes a structure by name (the scikit-learn facade's ``covariance_type``,
model files, the command line) looks it up here; nothing else dispatches on the name.
"""

from __future__ import annotations

from mixture.gaussian.covariance import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    SphericalCovariance,
    TiedCovariance,
)

__all__ = ["STRUCTURE_NAMES", "structure_named"]

_REGISTRY: dict[str, type[CovarianceStructure]] = {
    cls.name: cls
    for cls in (FullCovariance, TiedCovariance, DiagonalCovariance, SphericalCovariance)
}

STRUCTURE_NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""Names of the built-in structures, in the order grids list them."""


def structure_named(name: str) -> CovarianceStructure:
    """The structure object called ``name`` (``"full"``, ``"tied"``, ``"diag"``, ...).

    Raises
    ------
    ValueError
        If no structure has that name; the message lists the names.
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"unknown covariance structure {name!r}; choose from {', '.join(STRUCTURE_NAMES)}"
        )
    return cls()
