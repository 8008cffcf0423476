"""Resolve the docstrings' cross-references to the page where each object is documented.

The docstrings name objects where they are defined (``mixture.engine.MixtureEM``,
``:meth:`Mixture.predict``` inside another module, ``:mod:`mixture.gaussian.moments```),
while the reference documents each public object once, under the name users import it by
(``mixture.MixtureEM``). A reference Sphinx cannot find is looked up by importing it, from
the module and class it is written in, then from the package: if the object is documented
under another name the reference links there; if it exists but is internal (an
implementation module, a private helper) it is shown as code without a link. A reference to
nothing that imports stays a warning: a typo, or a renamed object.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

PACKAGE = "mixture"
_MISSING = object()
_ANNOTATED = object()  # stands for an attribute known from a class's annotations only


def lookup(path: str) -> Any:
    """The object a dotted path names (a module, then attributes), or ``_MISSING``."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if inspect.isclass(found) and not hasattr(found, attribute):
                # A field declared by annotation only (a dataclass field without default).
                declared = (vars(k).get("__annotations__", {}) for k in found.__mro__)
                found = _ANNOTATED if any(attribute in d for d in declared) else _MISSING
            else:
                found = getattr(found, attribute, _MISSING)
            if found is _MISSING:
                return _MISSING
        return found
    return _MISSING


def _identifiable(thing: Any) -> bool:
    """Whether identity says which object a name means (not so for ints and strings)."""
    return (
        inspect.ismodule(thing)
        or inspect.isclass(thing)
        or inspect.isroutine(thing)
        or isinstance(thing, property)
    )


def _documented_names(env: BuildEnvironment) -> dict[int, str]:
    """The documented name of each documented module, class, routine and property."""
    cache = getattr(env, "_mixture_documented_names", None)
    if cache is None:
        cache = {}
        for name in sorted(env.get_domain("py").objects, key=len, reverse=True):
            thing = lookup(name)
            if thing is not _MISSING and _identifiable(thing):
                cache[id(thing)] = name  # shortest name wins: mixture.X before mixture.x.X
        env._mixture_documented_names = cache
    return cache


def _enclosing_modules(node: nodes.Element) -> list[str]:
    """The modules a reference's relative names may belong to, innermost first.

    A docstring is read where its object is documented (``mixture.KMeans``, current module
    ``mixture``) but written where the object is defined (``mixture.initializers``, named by
    the node's source, ``docstring of mixture.initializers.KMeans``): its relative
    references mean names of the defining module, of its parent packages, or of the module
    it is documented in."""
    module, owner = node.get("py:module"), node.get("py:class")
    defining = []
    written_in = re.search(r"docstring of ([\w.]+)", node.source or "")
    if written_in:
        defining.append(written_in.group(1))
    if module and owner:
        documented = lookup(f"{module}.{owner.split('.')[0]}")
        defining.append(f"{getattr(documented, '__module__', module)}.{owner}")
    modules = []
    for name in defining:
        parts = name.split(".")
        modules += [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
    modules += [module] if module else []
    return list(dict.fromkeys(modules))


def _candidates(target: str, node: nodes.Element) -> list[str]:
    module, owner = node.get("py:module"), node.get("py:class")
    target = target.lstrip(".~")
    paths = [f"{module}.{owner}.{target}"] if module and owner else []
    paths += [f"{enclosing}.{target}" for enclosing in _enclosing_modules(node)]
    return [*dict.fromkeys([*paths, target, f"{PACKAGE}.{target}"])]


def resolve(
    app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Element
) -> nodes.Element | None:
    """A ``missing-reference`` handler for the Python domain (see the module docstring)."""
    if node.get("refdomain") != "py":
        return None
    documented = _documented_names(env)
    objects = env.get_domain("py").objects
    for path in _candidates(node["reftarget"], node):
        if path in objects and path != node["reftarget"]:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, "obj", path, node, contnode
            )
        thing = lookup(path)
        if thing is _MISSING:
            continue
        name = documented.get(id(thing)) if _identifiable(thing) else None
        if name is not None and name != node["reftarget"]:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, "obj", name, node, contnode
            )
        if path.startswith(f"{PACKAGE}.") or path == PACKAGE:
            return contnode  # internal: shown as code, not linked
    return None
