"""Find the Python objects a workflow names: ``module:Name`` by file path or by dotted import.

A workflow travels with its own schemas and tools (``schema.py`` next to the YAML file) and
points at a rule pack's schema (``../../rules/expense/schema.py:ExpenseClaim``); neither is on
``sys.path``, so files are imported by path, once per file (see :mod:`nesyflow._imports`), and two
references to the same file give the same class.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from nesyflow._imports import load_module
from nesyflow.errors import InputError
from nesyflow.graph._hints import did_you_mean

__all__ = [
    "ResolveError",
    "import_file",
    "resolve_object",
    "resolve_schema",
    "resolve_tool",
    "tool_signature",
]


class ResolveError(ValueError):
    """A reference does not name what it should; the message is a sentence for the author."""


def import_file(path: Path) -> ModuleType:
    """Import a ``.py`` file by path through :func:`nesyflow._imports.load_module`, the same cache
    rule packs use, so a workflow and a pack naming the same ``schema.py`` share its classes."""
    if not path.is_file():
        raise ResolveError(f"file {path} does not exist")
    try:
        return load_module(path)
    except InputError as exc:
        raise ResolveError(str(exc)) from exc


def _module_for(module_text: str, base_dir: Path) -> ModuleType:
    looks_like_file = module_text.endswith(".py") or "/" in module_text or "\\" in module_text
    if looks_like_file:
        file = base_dir / (module_text if module_text.endswith(".py") else module_text + ".py")
        return import_file(file)
    local = base_dir / (module_text.replace(".", "/") + ".py")
    if local.is_file():
        return import_file(local)
    try:
        return importlib.import_module(module_text)
    except ModuleNotFoundError as exc:
        raise ResolveError(
            f"no module '{module_text}': neither {local} exists nor can it be imported"
        ) from exc
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise ResolveError(f"importing '{module_text}' failed: {reason}") from exc


def resolve_object(ref: str, base_dir: Path) -> Any:
    """The object ``ref`` (``module:Name``) names; ``module`` is a file relative to ``base_dir``
    (``schema``, ``schema.py``, ``../rules/x/schema.py``) or a dotted importable module."""
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise ResolveError(f"'{ref}' is not of the form 'module:Name'")
    module_text, name = (p.strip() for p in ref.split(":"))
    if not module_text or not name:
        raise ResolveError(f"'{ref}' is not of the form 'module:Name'")
    module = _module_for(module_text, base_dir)
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = [n for n in dir(module) if not n.startswith("_")]
            hint = did_you_mean(part, public)
            raise ResolveError(f"module '{module_text}' has no '{name}'{hint}")
        obj = getattr(obj, part)
    return obj


def resolve_schema(ref: str, base_dir: Path) -> type[BaseModel]:
    """A pydantic model class named by ``ref``."""
    obj = resolve_object(ref, base_dir)
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ResolveError(f"'{ref}' is not a pydantic model class")
    return obj


def resolve_tool(ref: str, base_dir: Path) -> tuple[Any, type[BaseModel], type[BaseModel] | None]:
    """A tool named ``module:function``: see :func:`tool_signature`."""
    return tool_signature(resolve_object(ref, base_dir), ref)


def tool_signature(fn: Any, name: str) -> tuple[Any, type[BaseModel], type[BaseModel] | None]:
    """The callable, the pydantic class of its single argument, and the pydantic class it returns
    (``None`` if its return annotation is not a model). A tool takes one model so that its
    arguments can be encoded as facts and checked by rules before it runs."""
    if not callable(fn):
        raise ResolveError(f"'{name}' is not callable")
    try:
        params = list(inspect.signature(fn).parameters.values())
        hints = typing.get_type_hints(fn)
    except (TypeError, ValueError, NameError) as exc:
        raise ResolveError(f"cannot read the signature of '{name}': {exc}") from exc
    if len(params) != 1:
        raise ResolveError(
            f"tool '{name}' takes {len(params)} parameters; a tool takes one pydantic model"
        )
    arg = hints.get(params[0].name)
    if not (isinstance(arg, type) and issubclass(arg, BaseModel)):
        raise ResolveError(
            f"parameter '{params[0].name}' of tool '{name}' is not annotated with a pydantic model"
        )
    ret = hints.get("return")
    ret_model = ret if isinstance(ret, type) and issubclass(ret, BaseModel) else None
    return fn, arg, ret_model
