"""Rule packs, the checker and its explanations, pack tests and coverage."""

from nesyflow.logic.checker import DEFAULT_TIMEOUT, check, check_many
from nesyflow.logic.pack import CatalogueEntry, Pack, load_pack
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
