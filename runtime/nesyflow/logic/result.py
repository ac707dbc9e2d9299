"""The typed result of a check: what a caller, a trace and a reviewer see."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "OVERRIDES",
    "CheckResult",
    "Explanation",
    "Finding",
    "PackIdentity",
    "Reason",
    "SourceRule",
    "Timings",
    "Verdict",
    "read_reasons",
    "reason_lines",
    "worst",
]


class Verdict(StrEnum):
    """The one vocabulary of verdicts; :func:`worst` is the one precedence.

    Precedence (most serious first): ``fail`` (the output itself breaks a rule) > ``deny`` (a
    proposed call must not run) > ``unknown`` (the rules could not decide) > ``review`` (valid, a
    person decides) > ``pass``. A check, a node's several packs and a re-check all combine with
    this order, so a verdict never depends on which layer computed it.
    """

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"
    DENY = "deny"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Seriousness: higher is worse (``pass`` is 0)."""
        return _RANK[self]


_RANK = {
    Verdict.PASS: 0,
    Verdict.REVIEW: 1,
    Verdict.UNKNOWN: 2,
    Verdict.DENY: 3,
    Verdict.FAIL: 4,
}

OVERRIDES: frozenset[Verdict] = frozenset({Verdict.FAIL, Verdict.DENY, Verdict.UNKNOWN})
"""Verdicts a person can only approve over with a comment: approving them overrides the rules."""


def worst(verdicts: Iterable[Verdict | str]) -> Verdict:
    """The most serious of several verdicts. None at all is ``unknown`` (nothing was checked,
    so nothing was allowed), never ``pass``; an unrecognised word is ``unknown`` too."""
    out: Verdict | None = None
    for word in verdicts:
        try:
            verdict = Verdict(word)
        except ValueError:
            verdict = Verdict.UNKNOWN
        if out is None or verdict.rank > out.rank:
            out = verdict
    return Verdict.UNKNOWN if out is None else out


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


class Reason(_Frozen):
    """Why a step did not pass, as a person (or the model, on a reask) reads it.

    ``kind`` is ``violation`` / ``review`` / ``deny`` (a rule fired: ``rule`` names it), ``missing``
    (a fact the rules need), or what went wrong around the rules (``unknown``, ``parse``,
    ``schema``, ``args``, ``tool_error``, ``unchecked``). ``plain`` is the sentence with the
    facts behind it, for reasks. Stored as JSON; rows written before this type (plain dicts with
    these keys) read back unchanged, unknown keys ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str = "unknown"
    message: str = ""
    rule: str | None = None
    detail: str = ""
    severity: str | None = None
    pack: str = ""
    plain: str = ""
    explanation: tuple[Explanation, ...] = ()

    @field_validator("message", "detail", "plain", "pack", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @field_validator("rule", mode="before")
    @classmethod
    def _rule(cls, value: Any) -> str | None:
        return None if value in (None, "") else str(value)

    @property
    def text(self) -> str:
        """The one sentence shown for this reason (with its facts when there are any)."""
        return self.plain or self.message or (self.rule or "") or "no reason given"

    @property
    def is_finding(self) -> bool:
        """Whether a rule fired (as opposed to a missing fact or trouble around the rules)."""
        return self.rule is not None


def read_reasons(data: Iterable[Any] | None) -> tuple[Reason, ...]:
    """Reasons from stored JSON (a step's ``check``, an old store's dict rows), typed."""
    return tuple(r if isinstance(r, Reason) else Reason.model_validate(r) for r in data or ())


def reason_lines(reasons: Iterable[Reason]) -> str:
    """Reasons as one line for an error message or a run's error: their sentences joined."""
    return "; ".join(r.message or r.text for r in reasons) or "no reason given"


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
