"""Coverage from production, per rule body: how often each body fired in the store's history and
in the pack's own tests; which never fired anywhere; and which fired in production but no test
covers — offered as a ready-to-paste YAML test case built from a real step's value and context.

Production counts only steps checked by this exact pack identity (same hash): line numbers and
bodies of other versions are not this pack's. Those steps are counted apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nesyflow.govern import Masks
from nesyflow.insight.history import PackStep, pack_history
from nesyflow.logic import Pack
from nesyflow.logic.testing import run_pack_tests
from nesyflow.store import Store

__all__ = ["BodyUsage", "CoverageReport", "production_coverage"]

_Key = tuple[str, str, int]  # rule id, file name, first line


@dataclass(frozen=True)
class BodyUsage:
    rule: str
    where: str
    text: str
    tests: int
    production: int
    example_step: str | None = None
    suggestion: str | None = None  # a YAML test case, when production fires it and no test does

    @property
    def status(self) -> str:
        if self.tests and self.production:
            return "covered"
        if self.tests:
            return "tests only"
        if self.production:
            return "production only: write a test"
        return "never fired"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "where": self.where,
            "tests": self.tests,
            "production": self.production,
            "status": self.status,
            "example_step": self.example_step,
            "suggestion": self.suggestion,
        }


@dataclass
class CoverageReport:
    pack: str
    bodies: list[BodyUsage] = field(default_factory=list)
    steps: int = 0  # checked by this pack identity
    other_versions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "steps": self.steps,
            "other_versions": self.other_versions,
            "bodies": [b.to_json() for b in self.bodies],
        }


def production_coverage(store: Store, pack: Pack) -> CoverageReport:
    """Per rule body of ``pack``: firings in its tests and in the store (see the module doc)."""
    report = CoverageReport(pack=str(pack.identity))
    fired: Counter[_Key] = Counter()
    example: dict[_Key, PackStep] = {}
    for item in pack_history(store, pack.name):
        if (item.result.get("pack") or {}).get("hash") != pack.identity.hash:
            report.other_versions += 1
            continue
        report.steps += 1
        for key in _bodies_fired(item.result):
            fired[key] += 1
            if key not in example and item.replayable:
                example[key] = item
    tests = run_pack_tests(pack)
    masks = Masks(
        store
    )  # a suggested case is an export of a real step: its sensitive values masked
    for body in tests.bodies:
        if body.source is None:  # a catalogue rule no body produces: nothing to count by line
            continue
        key = (body.rule, Path(body.source.file).name, body.source.line)
        seen = example.get(key)
        suggestion = None
        if seen is not None and not body.cases:
            suggestion = _case_yaml(seen, body.rule, masks)
        report.bodies.append(
            BodyUsage(
                rule=body.rule,
                where=body.where,
                text=body.source.text,
                tests=body.cases,
                production=fired.get(key, 0),
                example_step=seen.step.step_id if seen else None,
                suggestion=suggestion,
            )
        )
    return report


def _bodies_fired(result: dict[str, Any]) -> set[_Key]:
    out: set[_Key] = set()
    for kind in ("violations", "reviews", "denials"):
        for finding in result.get(kind) or ():
            for explanation in finding.get("explanation") or ():
                rule = explanation.get("rule") or {}
                if rule.get("file") and rule.get("line"):
                    out.add((str(finding.get("rule")), Path(rule["file"]).name, int(rule["line"])))
    return out


def _case_yaml(item: PackStep, rule: str, masks: Masks) -> str:
    result = item.result
    expect: dict[str, Any] = {"verdict": result.get("verdict")}
    for kind in ("violations", "reviews", "denials"):
        rules = sorted({str(f.get("rule")) for f in result.get(kind) or ()})
        if rules:
            expect[kind] = rules
    case: dict[str, Any] = {
        "name": f"{rule}, as production fired it (step {item.step.step_id})",
        "input": item.subject,
    }
    if item.context is not None:
        case["context"] = item.context
    case["expect"] = expect
    case = masks.of(item.step.run_id).data(case)
    return yaml.safe_dump([case], sort_keys=False, allow_unicode=True)
