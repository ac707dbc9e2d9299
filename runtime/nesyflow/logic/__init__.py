"""Rule packs, the checker and its explanations, pack tests and coverage."""

from nesyflow.logic.checker import DEFAULT_TIMEOUT, check, check_many
from nesyflow.logic.pack import CatalogueEntry, Pack, load_pack
from nesyflow.logic.result import (
    CheckResult,
    Explanation,
    Finding,
    PackIdentity,
    SourceRule,
    Timings,
    Verdict,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "CatalogueEntry",
    "CheckResult",
    "Explanation",
    "Finding",
    "Pack",
    "PackIdentity",
    "SourceRule",
    "Timings",
    "Verdict",
    "check",
    "check_many",
    "load_pack",
]
