"""What-if: a new version of a pack against every step the store holds that its name checked.

Each stored step kept what the rules were given (the value and its context); the new pack re-checks
all of them through the batch path (:func:`~nesyflow.logic.check_many`), and the report compares:
how many verdicts change in each direction, which rules start or stop firing, which human decisions
the new rules would disagree with (an approval over a rule that no longer fires, a rejection the
rules would now pass, a pass that would now need a person), and which runs are affected, with
examples. Nothing is written: it is a report for the rule author before the pack ships.

A check is a function of the pack and what it was given, so each distinct (value, context) pair is
checked once per replay and the steps that repeat it (retries, re-checks, recurring claims) share
its result; ``checked`` counts the distinct ones next to ``steps``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nesyflow.insight.history import PackStep, pack_history
from nesyflow.logic import Pack, check_many
from nesyflow.logic.result import OVERRIDES, CheckResult, Verdict
from nesyflow.store import Store

__all__ = ["Change", "ImpactReport", "whatif"]

_CHUNK = 5000
_SEEN_LIMIT = 200_000  # distinct inputs whose results a replay keeps (then starts afresh)


@dataclass(frozen=True)
class Example:
    run: str
    step: str
    node: str
    before: str
    after: str
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "step": self.step,
            "node": self.node,
            "before": self.before,
            "after": self.after,
            "rules_before": list(self.rules_before),
            "rules_after": list(self.rules_after),
        }


@dataclass
class Change:
    """One kind of change (``pass→fail``, ``approval_over_rule_gone``, …): how often, examples."""

    kind: str
    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def add(self, example: Example, keep: int) -> None:
        self.count += 1
        if len(self.examples) < keep:
            self.examples.append(example)


@dataclass
class ImpactReport:
    pack: str
    steps: int = 0  # re-checked
    checked: int = 0  # distinct (value, context) pairs the pack actually checked
    skipped: int = 0  # stored before steps kept what the rules were given
    changed: int = 0
    transitions: dict[str, Change] = field(default_factory=dict)
    decisions: dict[str, Change] = field(default_factory=dict)
    rules_started: Counter[str] = field(default_factory=Counter)
    rules_stopped: Counter[str] = field(default_factory=Counter)
    # rules that fire before and after, but on other instances (an item more, an item fewer)
    rules_changed: Counter[str] = field(default_factory=Counter)
    runs: set[str] = field(default_factory=set)
    from_versions: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        def changes(d: dict[str, Change]) -> dict[str, Any]:
            return {
                k: {"count": c.count, "examples": [e.to_json() for e in c.examples]}
                for k, c in sorted(d.items())
            }

        return {
            "pack": self.pack,
            "steps": self.steps,
            "skipped": self.skipped,
            "distinct_inputs_checked": self.checked,
            "changed": self.changed,
            "transitions": changes(self.transitions),
            "decisions": changes(self.decisions),
            "rules_started": dict(self.rules_started.most_common()),
            "rules_stopped": dict(self.rules_stopped.most_common()),
            "rules_changed_instances": dict(self.rules_changed.most_common()),
            "runs_affected": len(self.runs),
            "from_versions": dict(self.from_versions),
            "seconds": round(self.seconds, 3),
            "steps_per_second": round(self.per_second, 1),
        }


def whatif(
    store: Store,
    pack: Pack,
    *,
    since: dt.datetime | None = None,
    workflow: str | None = None,
    examples: int = 3,
) -> ImpactReport:
    """Re-check every stored step that a pack named ``pack.name`` checked with ``pack``."""
    started = time.perf_counter()
    report = ImpactReport(pack=str(pack.identity))
    chunk: list[PackStep] = []
    seen: dict[str, CheckResult] = {}
    for item in pack_history(store, pack.name, since=since, workflow=workflow):
        if not item.replayable:
            report.skipped += 1
            continue
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            _compare(pack, chunk, report, examples, seen)
            chunk = []
    if chunk:
        _compare(pack, chunk, report, examples, seen)
    report.seconds = time.perf_counter() - started
    return report


def _rules(result: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                str(f.get("rule"))
                for kind in ("violations", "reviews", "denials")
                for f in result.get(kind) or ()
                if isinstance(f, dict) and f.get("rule")
            }
        )
    )


def _instances(findings: Any) -> Counter[tuple[str, str]]:
    """Each (rule, instance) a result found, counted: ``item(0)`` and ``item(1)`` are two."""
    return Counter((str(f["rule"]), str(f.get("detail", ""))) for f in findings if f.get("rule"))


def _old_instances(result: dict[str, Any]) -> Counter[tuple[str, str]]:
    return _instances(
        f
        for kind in ("violations", "reviews", "denials")
        for f in result.get(kind) or ()
        if isinstance(f, dict)
    )


def _key(item: PackStep) -> str:
    return json.dumps([item.subject, item.context], sort_keys=True, separators=(",", ":"))


def _compare(
    pack: Pack,
    chunk: list[PackStep],
    report: ImpactReport,
    keep: int,
    seen: dict[str, CheckResult],
) -> None:
    """Re-check a chunk: each distinct (value, context) once per replay (a check is a function
    of them and the pack), the rest answered from ``seen``."""
    keys = [_key(i) for i in chunk]
    todo = list({k: i for k, i in zip(keys, chunk, strict=True) if k not in seen}.items())
    if todo:
        fresh = check_many(pack, [i.subject for _, i in todo], [i.context for _, i in todo])
        if len(seen) + len(todo) > _SEEN_LIMIT:
            seen.clear()
        seen.update({k: r for (k, _), r in zip(todo, fresh, strict=True)})
        report.checked += len(todo)
    results = [seen[k] for k in keys]
    for item, new in zip(chunk, results, strict=True):
        report.steps += 1
        old = item.result
        version = (old.get("pack") or {}).get("version", "?")
        report.from_versions[str(version)] += 1
        before, after = str(old.get("verdict")), new.verdict.value
        rules_before, rules_after = _rules(old), tuple(sorted(set(new.rule_ids())))
        example = Example(
            item.step.run_id,
            item.step.step_id,
            item.step.node,
            before,
            after,
            rules_before,
            rules_after,
        )
        for rule in set(rules_after) - set(rules_before):
            report.rules_started[rule] += 1
        for rule in set(rules_before) - set(rules_after):
            report.rules_stopped[rule] += 1
        had = _old_instances(old)
        has = _instances({"rule": f.rule, "detail": f.detail} for f in new.findings())
        for rule in (
            {r for r, _ in (had - has) + (has - had)} & set(rules_before) & set(rules_after)
        ):
            report.rules_changed[rule] += 1
        if before != after or had != has:
            report.changed += 1
            report.runs.add(item.step.run_id)
        if before != after:
            kind = f"{before}→{after}"
            report.transitions.setdefault(kind, Change(kind)).add(example, keep)
        for kind in _disagreements(item, before, new.verdict, rules_before, rules_after):
            report.decisions.setdefault(kind, Change(kind)).add(example, keep)


def _disagreements(
    item: PackStep,
    before: str,
    after: Verdict,
    rules_before: tuple[str, ...],
    rules_after: tuple[str, ...],
) -> list[str]:
    """The human decisions (or their absence) the new rules would disagree with."""
    action = item.step.action
    out: list[str] = []
    overridden = action == "approve" and before in {v.value for v in OVERRIDES}
    if overridden and set(rules_before) - set(rules_after):
        out.append("approval_over_rule_gone")  # the person overrode a rule that is gone now
    if action == "reject" and after is Verdict.PASS:
        out.append("rejection_now_passes")
    if before == Verdict.PASS.value and after is not Verdict.PASS:
        out.append("pass_now_needs_a_person")
    return out
