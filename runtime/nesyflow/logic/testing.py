"""Pack tests, like ``opa test``: cases in ``tests/*.yaml`` with expected verdicts, findings and derived
values; results with location and duration; coverage per rule body.

Coverage counts *bodies*, not rule ids: ``violation(r, …) :- A.`` and ``violation(r, …) :- B.`` are two
things a pack can get wrong, and a test that exercises ``A`` says nothing about ``B``. A body is
covered when it fired (the checker's ``_nf_fired`` twin recorded an instance of it, seen in the
finding's explanations) in a case that *passed* — so the case listed that rule id among the findings
it expects, and the finding was asserted. A firing in a failing case, or a rule id the case did not
expect, covers nothing. A catalogue rule produced by no splittable rule body (a plain fact) counts as
one unit, covered by a passing case that expects it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from nesyflow._yamlguard import YamlLimitError, load_bounded
from nesyflow.errors import Location
from nesyflow.logic import _program
from nesyflow.logic.checker import _source, check
from nesyflow.logic.pack import Pack
from nesyflow.logic.result import CheckResult, SourceRule

__all__ = ["BodyCoverage", "CaseOutcome", "PackReport", "run_pack_tests"]

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


@dataclass(frozen=True)
class BodyCoverage:
    """One unit of coverage: a finding rule's body (``source`` set) or, for a catalogue rule no
    body produces, the rule id alone (``source`` None); ``cases`` = passing cases that fired it."""

    rule: str
    source: SourceRule | None
    cases: int = 0

    @property
    def covered(self) -> bool:
        return self.cases > 0

    @property
    def where(self) -> str:
        return f"{self.source.file}:{self.source.line}" if self.source else "(catalogue)"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "file": self.source.file if self.source else None,
            "line": self.source.line if self.source else None,
            "text": self.source.text if self.source else None,
            "covered_by": self.cases,
        }


@dataclass
class PackReport:
    pack: Pack
    cases: list[CaseOutcome]
    fired: dict[str, int]
    bodies: list[BodyCoverage] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    @property
    def uncovered(self) -> list[str]:
        """Rule ids with at least one body no passing case covers."""
        return sorted({b.rule for b in self.bodies if not b.covered})

    @property
    def uncovered_bodies(self) -> list[BodyCoverage]:
        return [b for b in self.bodies if not b.covered]

    @property
    def coverage(self) -> float:
        """Percent of rule bodies (and body-less catalogue rules) covered by a passing case."""
        total = len(self.bodies)
        return 100.0 if total == 0 else 100.0 * (total - len(self.uncovered_bodies)) / total

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack.identity.model_dump(),
            "passed": self.passed,
            "failed": self.failed,
            "coverage": round(self.coverage, 1),
            "uncovered": self.uncovered,
            "bodies": [b.to_json() for b in self.bodies],
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
            data = load_bounded(text) or {}
        except YamlLimitError as exc:
            mark = exc.mark
            loc = Location(str(file), mark.line + 1 if mark else 0, mark.column + 1 if mark else 0)
            outcomes.append(CaseOutcome(file.name, loc, False, 0.0, error=f"refused YAML: {exc}"))
            continue
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
    return PackReport(pack, outcomes, fired, _body_coverage(pack, outcomes))


def _body_coverage(pack: Pack, outcomes: list[CaseOutcome]) -> list[BodyCoverage]:
    """How many passing cases fired each finding-rule body (see the module docstring)."""
    sources = [_source(pack, spec) for spec in pack.supports]
    rules = [_program._rule_id(spec.head) or "?" for spec in pack.supports]
    by_source: dict[SourceRule, list[int]] = {}
    for index, src in enumerate(sources):
        by_source.setdefault(src, []).append(index)
    body_cases = [0] * len(sources)
    rule_cases: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.passed or outcome.result is None:
            continue
        hit: set[int] = set()
        for rule in set(outcome.result.rule_ids()):
            rule_cases[rule] = rule_cases.get(rule, 0) + 1
        for finding in outcome.result.findings():
            for explanation in finding.explanations:
                for index in by_source.get(explanation.rule, ()):
                    if rules[index] == finding.rule:
                        hit.add(index)
        for index in hit:
            body_cases[index] += 1
    units = [
        BodyCoverage(rule, src, n) for rule, src, n in zip(rules, sources, body_cases, strict=True)
    ]
    with_body = set(rules)
    units += [
        BodyCoverage(rule, None, rule_cases.get(rule, 0))
        for rule in sorted(pack.catalogue)
        if rule not in with_body
    ]
    return units


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
