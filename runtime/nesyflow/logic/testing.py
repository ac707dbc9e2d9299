"""Pack tests, like ``opa test``: cases in ``tests/*.yaml`` with expected verdicts, findings and derived
values; results with location and duration; coverage as the set of catalogue rules some case fired."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from nesyflow.errors import Location
from nesyflow.logic.checker import check
from nesyflow.logic.pack import Pack
from nesyflow.logic.result import CheckResult

__all__ = ["CaseOutcome", "PackReport", "run_pack_tests"]

_EXPECT_KEYS = {"verdict", "violations", "reviews", "denials", "missing", "derived"}


@dataclass
class CaseOutcome:
    name: str
    location: Location
    passed: bool
    duration_ms: float
    diffs: list[str] = field(default_factory=list)
    error: str | None = None
    result: CheckResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "location": str(self.location),
            "passed": self.passed,
            "duration_ms": round(self.duration_ms, 3),
            "diffs": self.diffs,
            "error": self.error,
        }


@dataclass
class PackReport:
    pack: Pack
    cases: list[CaseOutcome]
    fired: dict[str, int]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    @property
    def uncovered(self) -> list[str]:
        return sorted(r for r in self.pack.catalogue if not self.fired.get(r))

    @property
    def coverage(self) -> float:
        total = len(self.pack.catalogue)
        return 100.0 if total == 0 else 100.0 * (total - len(self.uncovered)) / total

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack.identity.model_dump(),
            "passed": self.passed,
            "failed": self.failed,
            "coverage": round(self.coverage, 1),
            "uncovered": self.uncovered,
            "fired": self.fired,
            "cases": [c.to_json() for c in self.cases],
        }


def _case_nodes(file: Path, text: str) -> list[int]:
    """The 1-based line of each item of the top-level ``cases`` list (for locations)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def run_pack_tests(pack: Pack) -> PackReport:
    """Run every case in the pack's ``tests/*.yaml``."""
    outcomes: list[CaseOutcome] = []
    fired: dict[str, int] = {}
    files = sorted((pack.path / "tests").glob("*.y*ml"))
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            loc = Location(str(file), mark.line + 1 if mark else 0, mark.column + 1 if mark else 0)
            outcomes.append(CaseOutcome(file.name, loc, False, 0.0, error=f"invalid YAML: {exc}"))
            continue
        cases = data.get("cases") if isinstance(data, dict) else None
        if not isinstance(cases, list):
            outcomes.append(
                CaseOutcome(
                    file.name,
                    Location(str(file)),
                    False,
                    0.0,
                    error="a test file needs a top-level 'cases:' list",
                )
            )
            continue
        lines = _case_nodes(file, text)
        for i, case in enumerate(cases):
            loc = Location(str(file), lines[i] if i < len(lines) else 0)
            outcome = _run_case(pack, case, loc, i)
            outcomes.append(outcome)
            if outcome.result is not None:
                for rule in outcome.result.rule_ids():
                    fired[rule] = fired.get(rule, 0) + 1
    return PackReport(pack, outcomes, fired)


def _run_case(pack: Pack, case: Any, loc: Location, index: int) -> CaseOutcome:
    if not isinstance(case, dict):
        return CaseOutcome(f"case {index + 1}", loc, False, 0.0, error="a case must be a mapping")
    name = str(case.get("name") or f"case {index + 1}")
    expect = case.get("expect")
    if not isinstance(expect, dict) or "verdict" not in expect:
        return CaseOutcome(name, loc, False, 0.0, error="a case needs expect: {verdict: …}")
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        return CaseOutcome(name, loc, False, 0.0, error=f"unknown expect keys {sorted(unknown)}")
    try:
        instance = pack.input_model.model_validate(case.get("input"))
        context = None
        if case.get("context") is not None:
            if pack.context_model is None:
                raise ValueError("the pack declares no context schema")
            context = pack.context_model.model_validate(case["context"])
    except ValueError as exc:
        return CaseOutcome(name, loc, False, 0.0, error=f"input does not fit the schema: {exc}")
    started = time.perf_counter()
    result = check(pack, instance, context)
    duration = (time.perf_counter() - started) * 1000
    diffs = compare(expect, result)
    return CaseOutcome(name, loc, not diffs, duration, diffs, None, result)


def compare(expect: dict[str, Any], result: CheckResult) -> list[str]:
    """Readable differences between what a case expects and what the check gave."""
    diffs: list[str] = []
    if str(expect["verdict"]) != result.verdict.value:
        reason = f" ({result.reason})" if result.reason else ""
        diffs.append(f"verdict: expected {expect['verdict']}, got {result.verdict.value}{reason}")
    actual = {
        "violations": {f.rule for f in result.violations},
        "reviews": {f.rule for f in result.reviews},
        "denials": {f.rule for f in result.denials},
        "missing": set(result.missing),
    }
    for key, got in actual.items():
        want = {str(x) for x in (expect.get(key) or [])}
        if want != got:
            parts = []
            if want - got:
                parts.append(f"expected but absent: {sorted(want - got)}")
            if got - want:
                parts.append(f"present but not expected: {sorted(got - want)}")
            diffs.append(f"{key}: " + "; ".join(parts))
    for key, want in (expect.get("derived") or {}).items():
        if key not in result.derived:
            diffs.append(f"derived[{key}]: expected {want!r}, not derived")
        elif not _same(want, result.derived[key]):
            diffs.append(f"derived[{key}]: expected {want!r}, got {result.derived[key]!r}")
    return diffs


def _same(want: Any, got: Any) -> bool:
    if want == got:
        return True
    try:
        return Decimal(str(want)) == Decimal(str(got))
    except (InvalidOperation, ValueError):
        return str(want) == str(got)
