"""Model-file types: the encoders and decoders of component and family types, by name, and
strict readers of the JSON values they decode.

Below every component module, so that a component type can register itself when its class is
created (:class:`mixture.declared.DeclaredComponent` does), and :mod:`mixture.model_file`
reads and writes whole files with what is registered here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "ModelFileError",
    "as_json_array",
    "decode",
    "encode",
    "read_fields",
    "read_flag",
    "read_integer_lists",
    "read_numbers",
    "read_real",
    "read_text",
    "register",
    "registered_class",
]

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
    for known, (known_name, _) in list(_ENCODERS.items()):
        if known_name == name and known is not cls:
            same_definition = (known.__module__, known.__qualname__) == (
                cls.__module__,
                cls.__qualname__,
            )
            if not same_definition:  # a class defined again (a re-run notebook cell) replaces
                raise ValueError(
                    f"the model-file type name {name!r} is taken by {known.__module__}."
                    f"{known.__qualname__}; give {cls.__qualname__} another name"
                )
            del _ENCODERS[known]
    _ENCODERS[cls] = (name, encode)
    _DECODERS[name] = decode


def registered_class(name: str) -> type | None:
    """The class registered under the model-file type ``name``, or None."""
    for cls, (known_name, _) in _ENCODERS.items():
        if known_name == name:
            return cls
    return None


def as_json_array(values: Any) -> Any:
    """``values`` as (nested) lists of floats, for JSON."""
    return np.asarray(values, dtype=np.float64).tolist()


# -- reading values strictly: JSON types are checked before anything is built ----------------
def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_numbers(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """A number or nested list of real numbers (no booleans, strings or nulls) as float64.

    ``ndim`` fixes the depth when the format knows it; shapes beyond that are checked by the
    component's own constructor.
    """
    if not _all_real(value, depth=0):
        raise ValueError(f"{name} must hold only numbers")
    try:
        array = np.array(value, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{name} is ragged: its rows differ in length") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D list of numbers; got {array.ndim}-D")
    return array


def _all_real(value: Any, depth: int) -> bool:
    if isinstance(value, list):
        return depth < 4 and all(_all_real(item, depth + 1) for item in value)
    return _is_real(value)


def read_real(value: Any, name: str) -> float:
    if not _is_real(value):
        raise ValueError(f"{name} must be a number; found {json.dumps(value)[:40]}")
    return float(value)


def read_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false; found {json.dumps(value)[:40]}")
    return value


def read_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string; found {json.dumps(value)[:40]}")
    return value


def read_integer_lists(value: Any, name: str) -> list[list[int]]:
    if not isinstance(value, list) or not all(isinstance(block, list) for block in value):
        raise ValueError(f"{name} must be a list of lists of column indices")
    for block in value:
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in block):
            raise ValueError(f"{name} must hold integer column indices")
    return [list(block) for block in value]


def encode(item: Any) -> dict[str, Any]:
    """The JSON object of a registered component or family: its ``"type"`` and fields."""
    for cls in type(item).__mro__:
        if cls in _ENCODERS:
            name, to_fields = _ENCODERS[cls]
            return {"type": name, **to_fields(item)}
    raise ModelFileError(
        f"no model-file encoder for {type(item).__name__}: subclass "
        "mixture.DeclaredComponent (it registers itself) or call mixture.model_file.register"
    )


def decode(entry: Any, where: str) -> Any:
    """Rebuild a component or family from its JSON object; errors name ``where``."""
    if not isinstance(entry, dict) or "type" not in entry:
        raise ModelFileError(f"{where}: expected an object with a 'type'")
    kind = entry["type"]
    if not isinstance(kind, str):
        raise ModelFileError(f"{where}: 'type' must be a string; found {json.dumps(kind)[:40]}")
    from_fields = _DECODERS.get(kind)
    if from_fields is None:
        raise ModelFileError(
            f"{where}: unknown type {kind!r} (import the module that defines it before loading)"
        )
    fields = {key: value for key, value in entry.items() if key != "type"}
    try:
        return from_fields(fields)
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    except KeyError as missing:
        raise ModelFileError(f"{where}: {kind} lacks the field {missing}") from None
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: invalid {kind}: {exc}") from None


def read_fields(
    entry: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Refuse missing and unknown fields of a type's entry (typos fail loudly)."""
    missing = [key for key in required if key not in entry]
    if missing:
        raise KeyError(missing[0])
    unknown = sorted(set(entry) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}")
    return entry
