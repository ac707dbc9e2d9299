"""The retail domain for :mod:`nesyflow.replay`: tools, a fresh database per run, the context builder.

``nesyflow replay rules/retail --actions FILE`` finds it through ``[options] domain`` in
rules/retail/pack.toml. This file is the folder's entry point: it loads the folder as a package
(``nesyflow_agent_retail_service``) so that its modules import each other relatively.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from nesyflow.replay import Domain

__all__ = ["DOMAIN", "package"]

_HERE = Path(__file__).resolve().parent
_PACKAGE = "nesyflow_agent_retail_service"


def package(module: str = "") -> object:
    """The folder as a package (or one of its modules), imported once per process."""
    if _PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            _PACKAGE, _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
        )
        assert spec is not None and spec.loader is not None
        pkg = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = pkg
        spec.loader.exec_module(pkg)
    return importlib.import_module(f"{_PACKAGE}.{module}" if module else _PACKAGE)


_db = package("db")
_tools = package("tools")
_context = package("context")

DOMAIN = Domain(
    name="retail",
    tools=_tools.REGISTRY,  # type: ignore[attr-defined]
    new_state=_db.RetailDB.fresh,  # type: ignore[attr-defined]
    build_context=_context.build_context,  # type: ignore[attr-defined]
    meta={"default_db": str(_db.DEFAULT_DB)},  # type: ignore[attr-defined]
)
