"""Rule packs, the checker and its explanations, pack tests and coverage.

The result vocabulary (``Verdict``, ``Reason``, ``worst``…) is imported eagerly and is cheap; the
checker and pack loader (which import clingo) load on first use, so the store, the CLI's tables
and the console can speak the vocabulary without paying for the solver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nesyflow.logic.result import (
    OVERRIDES,
    CheckResult,
    Explanation,
    Finding,
    PackIdentity,
    Reason,
    SourceRule,
    Timings,
    Verdict,
    read_reasons,
    reason_lines,
    worst,
)

if TYPE_CHECKING:
    from nesyflow.logic.checker import DEFAULT_TIMEOUT, check, check_many
    from nesyflow.logic.pack import CatalogueEntry, Pack, load_pack

__all__ = [
    "DEFAULT_TIMEOUT",
    "OVERRIDES",
    "CatalogueEntry",
    "CheckResult",
    "Explanation",
    "Finding",
    "Pack",
    "PackIdentity",
    "Reason",
    "SourceRule",
    "Timings",
    "Verdict",
    "check",
    "check_many",
    "load_pack",
    "read_reasons",
    "reason_lines",
    "worst",
]

_LAZY = {
    "DEFAULT_TIMEOUT": "nesyflow.logic.checker",
    "check": "nesyflow.logic.checker",
    "check_many": "nesyflow.logic.checker",
    "CatalogueEntry": "nesyflow.logic.pack",
    "Pack": "nesyflow.logic.pack",
    "load_pack": "nesyflow.logic.pack",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nesyflow.logic' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
