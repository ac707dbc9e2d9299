"""The typed result of a check: what a caller, a trace and a reviewer see."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CheckResult",
    "Explanation",
    "Finding",
    "PackIdentity",
    "SourceRule",
    "Timings",
    "Verdict",
]


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"
    DENY = "deny"
    UNKNOWN = "unknown"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PackIdentity(_Frozen):
    """Which exact rules made a decision: name + version + a hash of every file of the pack."""

    name: str
    version: str
    hash: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}#{self.hash[:12]}"


class SourceRule(_Frozen):
    """Where a rule is written: file (relative to the pack), line range and text."""

    file: str
    line: int
    end_line: int
    text: str


class Explanation(_Frozen):
    """Why a rule instance fired: the rule, and the input facts that its body matched."""

    rule: SourceRule
    bindings: dict[str, str] = Field(default_factory=dict)
    input_facts: tuple[str, ...] = ()
    derived_facts: tuple[str, ...] = ()


class Finding(_Frozen):
    """One violation, review or denial."""

    rule: str
    message: str
    detail: str = ""
    severity: str = "medium"
    explanations: tuple[Explanation, ...] = ()


class Timings(_Frozen):
    """Milliseconds spent in each phase of a check."""

    encode_ms: float = 0.0
    ground_ms: float = 0.0
    solve_ms: float = 0.0
    total_ms: float = 0.0


class CheckResult(_Frozen):
    verdict: Verdict
    violations: tuple[Finding, ...] = ()
    reviews: tuple[Finding, ...] = ()
    denials: tuple[Finding, ...] = ()
    missing: tuple[str, ...] = ()
    derived: dict[str, Any] = Field(default_factory=dict)
    atoms: tuple[str, ...] = ()
    pack: PackIdentity
    facts_hash: str = ""
    reason: str | None = None
    timings: Timings = Timings()

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.PASS

    def rule_ids(self) -> list[str]:
        """Every rule id that fired, in order: violations, reviews, denials."""
        return [f.rule for f in (*self.violations, *self.reviews, *self.denials)]

    def findings(self) -> tuple[Finding, ...]:
        return (*self.violations, *self.reviews, *self.denials)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON shape (one object per case)."""

        def finding(f: Finding) -> dict[str, Any]:
            return {
                "rule": f.rule,
                "message": f.message,
                "detail": f.detail,
                "severity": f.severity,
                "explanation": [e.model_dump(mode="json") for e in f.explanations],
            }

        return {
            "verdict": self.verdict.value,
            "violations": [finding(f) for f in self.violations],
            "reviews": [finding(f) for f in self.reviews],
            "denials": [finding(f) for f in self.denials],
            "missing": list(self.missing),
            "derived": _jsonable(self.derived),
            "pack": self.pack.model_dump(),
            "facts_hash": self.facts_hash,
            "reason": self.reason,
            "timings": self.timings.model_dump(),
        }


def _jsonable(derived: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in derived.items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
