"""Import a Python module from a file path (a pack's or a workflow's schema), once per file.

Packs and workflows travel as folders, so their schema modules are not on ``sys.path``. Loading the
same file twice must give the same classes (an instance made by a workflow must be recognised by the
pack that checks it), so modules are cached by resolved path and content hash.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from nesyflow.errors import InputError

__all__ = ["load_module", "resolve_object"]

_LOCK = threading.RLock()  # re-entrant: a loaded module may load its sibling
_CACHE: dict[tuple[str, str], ModuleType] = {}
_PACKAGE = "_nesyflow_ext"


def _register_package() -> None:
    """Make ``_nesyflow_ext`` a package in ``sys.modules`` so instances of classes from loaded
    files pickle and unpickle by name (``_nesyflow_ext.schema_<hash>.Claim``): a checker worker
    process that has loaded the same file (same content, same name) resolves them."""
    if _PACKAGE not in sys.modules:
        package = ModuleType(_PACKAGE, "Python files nesyflow loaded by path (pack schemas).")
        package.__path__ = []  # a package with no directory: only loaded files live in it
        sys.modules[_PACKAGE] = package


_register_package()


def load_module(path: str | Path) -> ModuleType:
    """The module in ``path`` (a .py file), executed once per (path, content)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise InputError(f"{path}: no such Python file")
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    key = (str(file), digest)
    with _LOCK:
        module = _CACHE.get(key)
        if module is not None:
            return module
        # the path is in the name too: two copies of one file are two modules, and a name must
        # keep meaning one module (pickling finds classes by it, in this process and a worker)
        where = hashlib.sha256(f"{file}\0{digest}".encode()).hexdigest()[:16]
        name = f"{_PACKAGE}.{file.stem}_{where}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise InputError(f"{path}: cannot be imported as a module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves forward references through sys.modules
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise InputError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from exc
        _CACHE[key] = module
        return module


def resolve_object(ref: str, base: Path) -> Any:
    """``"module:Name"`` → the object. ``module`` is a .py file relative to ``base`` (``schema`` or
    ``sub/schema.py`` or ``../x/schema.py``), else an importable dotted module name."""
    if ":" not in ref:
        raise InputError(f"{ref!r}: expected 'module:Name'")
    module_ref, _, attr = ref.rpartition(":")
    candidate = base / (module_ref if module_ref.endswith(".py") else module_ref + ".py")
    if candidate.is_file():
        module = load_module(candidate)
    else:
        try:
            module = importlib.import_module(module_ref)
        except ImportError as exc:
            raise InputError(
                f"{ref!r}: no file {candidate} and no importable module ({exc})"
            ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"{ref!r}: {module_ref} has no {attr!r}") from None
