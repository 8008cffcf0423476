"""Model files: fitted mixtures as versioned, human-readable JSON.

A model file holds the format name, a schema version, the mixing weights and the component
family, every number written with enough digits to be read back exactly; from schema version
2 also the names of the columns the model was fitted on, the preprocessing the fit applied
(standardisation, with its centre and scale) and how the model was selected. Files of every
earlier version still load. No pickle: a model file cannot run code when it is loaded, and a
malformed one is refused with a :class:`ModelFileError` naming the field. Writes are atomic
and durable (:func:`mixture.outputs.write_output`).

Each component type has an encoder (to a JSON object) and a decoder (back), kept by
:mod:`mixture.file_types`: a :class:`~mixture.declared.DeclaredComponent` registers itself
from its declaration; :func:`register` adds them for a hand-written type.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mixture.components import Frozen, Independent, StudentT
from mixture.contract import Component
from mixture.family import ComponentFamily, ComponentList, JoinedFamily
from mixture.file_types import ModelFileError, register
from mixture.file_types import as_json_array as _array
from mixture.file_types import decode as _decode
from mixture.file_types import encode as _encode
from mixture.file_types import read_fields as _fields
from mixture.file_types import read_flag as _flag
from mixture.file_types import read_integer_lists as _integer_lists
from mixture.file_types import read_numbers as _numbers
from mixture.file_types import read_real as _real
from mixture.file_types import read_text as _text
from mixture.gaussian import CovarianceStructure, Gaussian, GaussianFamily, structure_named
from mixture.model import Mixture
from mixture.outputs import write_output
from mixture.preprocessing import Standardization
from mixture.saved_model import SavedModel

__all__ = [
    "SCHEMA_VERSION",
    "ModelFileError",
    "load",
    "model_from_dict",
    "model_to_dict",
    "register",
    "save",
]

FORMAT = "mixture-em model"
#: 1: weights and family; 2: feature names, preprocessing, selection; 3: ``fixed_weights``
#: (written when the mixing weights were given, not estimated).
SCHEMA_VERSION = 3


def _structure(name: Any) -> CovarianceStructure:
    return structure_named(_text(name, "structure"))


def _decode_gaussian_family(d: dict[str, Any]) -> GaussianFamily:
    frozen = ("frozen_means", "frozen_covariances")
    _fields(d, ("structure", "reg_covar", "means", "covariances"), frozen)
    means = _numbers(d["means"], "means", ndim=2)
    return GaussianFamily(
        means.shape[0],
        _structure(d["structure"]),
        reg_covar=_real(d["reg_covar"], "reg_covar"),
        means=means,
        covariances=_numbers(d["covariances"], "covariances"),
        **{name: _integer_lists([d[name]], name)[0] for name in frozen if name in d},
    )


def _encode_gaussian_family(family: GaussianFamily) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "structure": family.structure.name,
        "reg_covar": family.reg_covar,
        "means": _array(family.means),
        "covariances": _array(family.covariances),
    }
    for name in ("frozen_means", "frozen_covariances"):  # written only when used
        if getattr(family, name):
            entry[name] = list(getattr(family, name))
    return entry


def _decode_gaussian(d: dict[str, Any]) -> Gaussian:
    _fields(d, ("structure", "reg_covar", "mean", "covariance"))
    return Gaussian(
        _numbers(d["mean"], "mean", ndim=1),
        _numbers(d["covariance"], "covariance"),
        structure=_structure(d["structure"]),
        reg_covar=_real(d["reg_covar"], "reg_covar"),
    )


def _decode_student_t(d: dict[str, Any]) -> StudentT:
    _fields(d, ("structure", "loc", "scale", "df", "estimate_df", "reg_covar", "df_bounds"))
    bounds = _numbers(d["df_bounds"], "df_bounds", ndim=1)
    return StudentT(
        _numbers(d["loc"], "loc", ndim=1),
        _numbers(d["scale"], "scale"),
        _real(d["df"], "df"),
        structure=_structure(d["structure"]),
        estimate_df=_flag(d["estimate_df"], "estimate_df"),
        reg_covar=_real(d["reg_covar"], "reg_covar"),
        df_bounds=tuple(bounds.tolist()),
    )


def _decode_independent(d: dict[str, Any]) -> Independent:
    _fields(d, ("parts", "blocks"))
    if not isinstance(d["parts"], list):
        raise ValueError("parts must be a list of components")
    parts = [_decode(part, f"part {k}") for k, part in enumerate(d["parts"])]
    return Independent(parts, _integer_lists(d["blocks"], "blocks"))


def _decode_joined_family(d: dict[str, Any]) -> JoinedFamily:
    _fields(d, ("parts",))
    if not isinstance(d["parts"], list) or not d["parts"]:
        raise ValueError("parts must be a non-empty list of families")
    return JoinedFamily(_decode(part, f"part {k}") for k, part in enumerate(d["parts"]))


def _decode_component_list(d: dict[str, Any]) -> ComponentList:
    _fields(d, ("components",))
    if not isinstance(d["components"], list):
        raise ValueError("components must be a list")
    return ComponentList(
        _decode(entry, f"component {k}") for k, entry in enumerate(d["components"])
    )


register(GaussianFamily, "GaussianFamily", _encode_gaussian_family, _decode_gaussian_family)


def _decode_frozen(d: dict[str, Any]) -> Frozen:
    _fields(d, ("component",))
    return Frozen(_decode(d["component"], "frozen component"))


register(Frozen, "Frozen", lambda f: {"component": _encode(f.component)}, _decode_frozen)
register(
    Gaussian,
    "Gaussian",
    lambda g: {
        "structure": g.structure.name,
        "reg_covar": g.reg_covar,
        "mean": _array(g.mean),
        "covariance": _array(g.covariance),
    },
    _decode_gaussian,
)
register(
    Independent,
    "Independent",
    lambda c: {
        "parts": [_encode(part) for part in c.parts],
        "blocks": [list(block) for block in c.blocks],
    },
    _decode_independent,
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
    _decode_student_t,
)
register(
    JoinedFamily,
    "JoinedFamily",
    lambda f: {"parts": [_encode(part) for part in f.parts]},
    _decode_joined_family,
)
register(
    ComponentList,
    "ComponentList",
    lambda f: {"components": [_encode(c) for c in f.components]},
    _decode_component_list,
)


# -- whole files --------------------------------------------------------------------------------
def _as_saved_model(model: Any) -> SavedModel:
    """A SavedModel from a SavedModel, a Mixture (a MixtureResult) or a fitted GaussianMixture."""
    if isinstance(model, SavedModel):
        return model
    if isinstance(model, Mixture):
        return SavedModel(model)
    result = getattr(model, "result_", None)
    if isinstance(result, Mixture):  # a fitted mixture.GaussianMixture
        names = getattr(model, "feature_names_in_", None)
        return SavedModel(result, None if names is None else tuple(str(n) for n in names))
    raise ValueError(
        f"expected a fitted Mixture, MixtureResult, GaussianMixture or SavedModel; got "
        f"{type(model).__name__}"
    )


def model_to_dict(
    model: Any,
    *,
    feature_names: Any = None,
    standardization: Standardization | None = None,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-compatible description of a fitted model and its metadata.

    Parameters
    ----------
    model : Mixture, MixtureResult, fitted GaussianMixture or SavedModel
    feature_names, standardization, selection : optional
        Override or add the metadata (see :class:`~mixture.saved_model.SavedModel`).
    """
    saved = _as_saved_model(model)
    if feature_names is not None or standardization is not None or selection is not None:
        saved = SavedModel(
            saved.mixture,
            feature_names if feature_names is not None else saved.feature_names,
            standardization if standardization is not None else saved.standardization,
            selection if selection is not None else saved.selection,
        )
    preprocessing = None
    if saved.standardization is not None:
        preprocessing = {
            "type": "standardize",
            "center": _array(saved.standardization.center),
            "scale": _array(saved.standardization.scale),
        }
    document = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "weights": _array(saved.mixture.weights),
        "family": _encode(saved.mixture.family),
        "feature_names": None if saved.feature_names is None else list(saved.feature_names),
        "preprocessing": preprocessing,
        "selection": saved.selection,
    }
    if saved.mixture.fixed_weights:
        document["fixed_weights"] = True
    try:  # the selection's metadata must itself be plain JSON
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the model's metadata is not plain JSON: {exc}") from None
    return document


def model_from_dict(document: Any) -> SavedModel:
    """Rebuild a :class:`~mixture.saved_model.SavedModel` from :func:`model_to_dict`'s output.

    Reads every schema version from 1 (no metadata) to :data:`SCHEMA_VERSION`.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"not a mixture model: the 'format' field must be {FORMAT!r}")
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            f"'schema_version' must be a positive integer; found {json.dumps(version)[:40]}"
        )
    if version > SCHEMA_VERSION:
        raise ModelFileError(
            f"the model uses schema version {version}, newer than this version of mixture "
            f"reads ({SCHEMA_VERSION}); upgrade mixture-em"
        )
    known = {"format", "schema_version", "weights", "family"}
    if version >= 2:
        known |= {"feature_names", "preprocessing", "selection"}
    if version >= 3:
        known |= {"fixed_weights"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ModelFileError(
            f"unknown field(s) {', '.join(map(repr, unknown))} for schema version {version}"
        )
    if "weights" not in document or "family" not in document:
        raise ModelFileError("the model lacks 'weights' or 'family'")
    family = _decode(document["family"], "family")
    if isinstance(family, Component):
        family = ComponentList([family])
    if not isinstance(family, ComponentFamily):
        raise ModelFileError("'family' does not describe a component family")
    fixed_weights = document.get("fixed_weights", False)
    if not isinstance(fixed_weights, bool):
        raise ModelFileError(
            f"'fixed_weights' must be true or false; found {json.dumps(fixed_weights)[:40]}"
        )
    try:
        mixture = Mixture(
            _numbers(document["weights"], "weights", ndim=1), family, fixed_weights=fixed_weights
        )
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid weights: {exc}") from None
    try:
        return SavedModel(
            mixture,
            _feature_names(document.get("feature_names")),
            _preprocessing(document.get("preprocessing")),
            _selection(document.get("selection")),
        )
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid metadata: {exc}") from None


def _feature_names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError("'feature_names' must be a list of strings")
    return tuple(value)


def _preprocessing(value: Any) -> Standardization | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") != "standardize":
        raise ValueError("'preprocessing' must be null or {'type': 'standardize', ...}")
    _fields(value, ("type", "center", "scale"))
    return Standardization(
        _numbers(value["center"], "center", ndim=1), _numbers(value["scale"], "scale", ndim=1)
    )


def _selection(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValueError("'selection' must be null or an object")
    return value


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    feature_names: Any = None,
    standardization: Standardization | None = None,
    selection: dict[str, Any] | None = None,
) -> Path:
    """Write a fitted model to ``path`` as JSON, atomically and durably.

    Parameters
    ----------
    model : Mixture, MixtureResult, fitted GaussianMixture or SavedModel
        A fitted ``GaussianMixture`` keeps its ``feature_names_in_`` when it has them.
    path : str or PathLike
        Written through a temporary file in the same folder, then renamed: an existing file
        is replaced only by a complete new one (a symlink is written through, a file's mode
        kept); a folder, FIFO or device at ``path`` is refused.
    feature_names : sequence of str, optional
        Names of the columns, one per feature.
    standardization : Standardization, optional
        The preprocessing the fit applied; predictions of the loaded model repeat it.
    selection : dict, optional
        Plain-JSON metadata on how the model was chosen.

    Returns
    -------
    pathlib.Path
    """
    document = model_to_dict(
        model, feature_names=feature_names, standardization=standardization, selection=selection
    )
    target = Path(path)
    write_output(target, json.dumps(document, indent=1, allow_nan=False) + "\n")
    return target


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file written by :func:`save` (any schema version up to the current one).

    Returns
    -------
    SavedModel
        The mixture with its column names, preprocessing and selection metadata; its
        prediction methods take rows in the data's own units.

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
    except UnicodeDecodeError:
        raise ModelFileError(f"model file {source} is not UTF-8 text (not a model file)") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {source}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"model file {source} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise ModelFileError(f"model file {source}: {exc}") from None
    except RecursionError:
        raise ModelFileError(f"model file {source} is nested too deeply to be a model") from None
    try:
        return model_from_dict(document)
    except ModelFileError as exc:
        raise ModelFileError(f"model file {source}: {exc}") from None
    except RecursionError:
        raise ModelFileError(f"model file {source} is nested too deeply to be a model") from None
