"""Model files: fitted mixtures as versioned, human-readable JSON.

A model file holds the format name, a schema version, the mixing weights and the component
family, every number written with enough digits to be read back exactly. No pickle: a model
file cannot run code when it is loaded. Writes are atomic (a temporary file in the same
folder, then a rename), so an existing file is never left half-written.

Each component type has an encoder (to a JSON object) and a decoder (back); :func:`register`
adds them for your own types.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mixture.component import Component
from mixture.components import (
    Bernoulli,
    Categorical,
    Exponential,
    Independent,
    Poisson,
    StudentT,
    Uniform,
)
from mixture.family import ComponentFamily, ComponentList
from mixture.gaussian import (
    CovarianceStructure,
    DiagonalCovariance,
    FullCovariance,
    Gaussian,
    GaussianFamily,
    SphericalCovariance,
    TiedCovariance,
)
from mixture.model import Mixture

__all__ = [
    "SCHEMA_VERSION",
    "ModelFileError",
    "load",
    "mixture_from_dict",
    "mixture_to_dict",
    "register",
    "save",
]

FORMAT = "mixture-em model"
SCHEMA_VERSION = 1

_STRUCTURES: dict[str, type[CovarianceStructure]] = {
    cls.name: cls
    for cls in (FullCovariance, TiedCovariance, DiagonalCovariance, SphericalCovariance)
}
_ENCODERS: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {}
_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {}


class ModelFileError(ValueError):
    """A model file is missing, malformed, or from a newer version."""


def register(
    cls: type,
    name: str,
    encode: Callable[[Any], dict[str, Any]],
    decode: Callable[[dict[str, Any]], Any],
) -> None:
    """Teach model files a component (or family) type.

    Parameters
    ----------
    cls : type
    name : str
        The ``"type"`` written in files.
    encode : callable
        ``instance -> dict`` of JSON-compatible values (lists for arrays).
    decode : callable
        ``dict -> instance``.
    """
    _ENCODERS[cls] = (name, encode)
    _DECODERS[name] = decode


def _array(values: Any) -> Any:
    return np.asarray(values, dtype=np.float64).tolist()


def _encode(item: Any) -> dict[str, Any]:
    for cls in type(item).__mro__:
        if cls in _ENCODERS:
            name, encode = _ENCODERS[cls]
            return {"type": name, **encode(item)}
    raise ModelFileError(
        f"no model-file encoder for {type(item).__name__}; register one with mixture.io.register"
    )


def _decode(entry: Any, where: str) -> Any:
    if not isinstance(entry, dict) or "type" not in entry:
        raise ModelFileError(f"{where}: expected an object with a 'type'")
    decode = _DECODERS.get(entry["type"])
    if decode is None:
        raise ModelFileError(f"{where}: unknown type {entry['type']!r}")
    fields = {key: value for key, value in entry.items() if key != "type"}
    try:
        return decode(fields)
    except KeyError as missing:
        raise ModelFileError(f"{where}: {entry['type']} lacks the field {missing}") from None
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid {entry['type']}: {exc}") from None


def _structure(name: str) -> CovarianceStructure:
    if name not in _STRUCTURES:
        raise ValueError(f"unknown covariance structure {name!r}")
    return _STRUCTURES[name]()


register(
    GaussianFamily,
    "GaussianFamily",
    lambda f: {
        "structure": f.structure.name,
        "reg_covar": f.reg_covar,
        "means": _array(f.means),
        "covariances": _array(f.covariances),
    },
    lambda d: GaussianFamily(
        len(d["means"]),
        _structure(d["structure"]),
        reg_covar=d["reg_covar"],
        means=d["means"],
        covariances=d["covariances"],
    ),
)
register(
    Gaussian,
    "Gaussian",
    lambda g: {
        "structure": g.structure.name,
        "reg_covar": g.reg_covar,
        "mean": _array(g.mean),
        "covariance": _array(g.covariance),
    },
    lambda d: Gaussian(
        d["mean"], d["covariance"], structure=_structure(d["structure"]), reg_covar=d["reg_covar"]
    ),
)
register(
    Uniform,
    "Uniform",
    lambda u: {"low": _array(u.low), "high": _array(u.high)},
    lambda d: Uniform(d["low"], d["high"]),
)
register(
    Poisson,
    "Poisson",
    lambda c: {"rate": _array(c.rate)},
    lambda d: Poisson(d["rate"]),
)
register(
    Exponential,
    "Exponential",
    lambda c: {"rate": _array(c.rate)},
    lambda d: Exponential(d["rate"]),
)
register(
    Bernoulli,
    "Bernoulli",
    lambda c: {"probs": _array(c.probs), "pseudocount": c.pseudocount},
    lambda d: Bernoulli(d["probs"], pseudocount=d["pseudocount"]),
)
register(
    Categorical,
    "Categorical",
    lambda c: {"probs": [_array(p) for p in c.probs], "pseudocount": c.pseudocount},
    lambda d: Categorical(d["probs"], pseudocount=d["pseudocount"]),
)
register(
    Independent,
    "Independent",
    lambda c: {
        "parts": [_encode(part) for part in c.parts],
        "blocks": [list(block) for block in c.blocks],
    },
    lambda d: Independent(
        [_decode(part, f"part {k}") for k, part in enumerate(d["parts"])], d["blocks"]
    ),
)
register(
    StudentT,
    "StudentT",
    lambda c: {
        "structure": c.structure.name,
        "loc": _array(c.loc),
        "scale": _array(c.scale),
        "df": c.df,
        "estimate_df": c.estimate_df,
        "reg_covar": c.reg_covar,
        "df_bounds": list(c.df_bounds),
    },
    lambda d: StudentT(
        d["loc"],
        d["scale"],
        d["df"],
        structure=_structure(d["structure"]),
        estimate_df=d["estimate_df"],
        reg_covar=d["reg_covar"],
        df_bounds=tuple(d["df_bounds"]),
    ),
)
register(
    ComponentList,
    "ComponentList",
    lambda f: {"components": [_encode(c) for c in f.components]},
    lambda d: ComponentList(
        _decode(entry, f"component {k}") for k, entry in enumerate(d["components"])
    ),
)


def mixture_to_dict(mixture: Mixture) -> dict[str, Any]:
    """A JSON-compatible description of a fitted mixture."""
    if not isinstance(mixture, Mixture):
        raise ValueError(f"expected a fitted Mixture; got {type(mixture).__name__}")
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "weights": _array(mixture.weights),
        "family": _encode(mixture.family),
    }


def mixture_from_dict(document: Any) -> Mixture:
    """Rebuild a :class:`~mixture.Mixture` from :func:`mixture_to_dict`'s output."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"not a mixture model: the 'format' field must be {FORMAT!r}")
    version = document.get("schema_version")
    if not isinstance(version, int):
        raise ModelFileError("the model has no integer 'schema_version'")
    if version > SCHEMA_VERSION:
        raise ModelFileError(
            f"the model uses schema version {version}, newer than this version of mixture "
            f"reads ({SCHEMA_VERSION}); upgrade mixture-em"
        )
    if "weights" not in document or "family" not in document:
        raise ModelFileError("the model lacks 'weights' or 'family'")
    family = _decode(document["family"], "family")
    if isinstance(family, Component):
        family = ComponentList([family])
    if not isinstance(family, ComponentFamily):
        raise ModelFileError("'family' does not describe a component family")
    try:
        return Mixture(document["weights"], family)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid weights: {exc}") from None


def save(mixture: Mixture, path: str | os.PathLike[str]) -> Path:
    """Write a fitted mixture to ``path`` as JSON, atomically.

    Returns
    -------
    pathlib.Path
    """
    target = Path(path)
    text = json.dumps(mixture_to_dict(mixture), indent=1) + "\n"
    write_atomically(target, text)
    return target


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file and a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> Mixture:
    """Read a model file written by :func:`save`.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) if the file is missing, not JSON, or not a valid model.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"model file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read model file {source}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"model file {source} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    return mixture_from_dict(document)
