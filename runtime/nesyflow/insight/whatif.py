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
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nesyflow.logic import Pack, check_many
from nesyflow.logic.result import OVERRIDES, CheckResult, Verdict
from nesyflow.store import Store
from nesyflow.store.queries import ReplayStep, replay_steps, step_inputs
from nesyflow.store.replay_keys import Outcome

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
    executor: str = "local",
) -> ImpactReport:
    """Re-check every stored step that a pack named ``pack.name`` checked with ``pack``.

    ``executor``: where the re-checks run (``check_many``'s: ``local`` worker processes or ``ray``).
    """
    started = time.perf_counter()
    replay = _Replay(pack, ImpactReport(pack=str(pack.identity)), examples, executor)
    chunk: list[ReplayStep] = []
    for item in replay_steps(store, pack.name, since=since, workflow=workflow):  # type: ignore[arg-type]
        if not item.input_hash:
            replay.report.skipped += 1
            continue
        chunk.append(item)
        if len(chunk) >= _CHUNK:
            replay.chunk(store, chunk)
            chunk = []
    if chunk:
        replay.chunk(store, chunk)
    replay.flush()
    replay.report.seconds = time.perf_counter() - started
    return replay.report


@dataclass(frozen=True)
class _Comparison:
    """One old outcome against one new result: what every step that had both adds to the
    report (steps sharing an input, an old outcome and a decision share one comparison)."""

    before: str
    after: str
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]
    started: frozenset[str]
    stopped: frozenset[str]
    instances_changed: frozenset[str]  # rules firing before and after, on other instances
    changed: bool
    transition: str | None
    decisions: tuple[str, ...]


class _Replay:
    """A what-if in progress: the new results by input, the comparisons made, and how many steps
    had each (added to the report by :meth:`flush`, not step by step)."""

    def __init__(
        self, pack: Pack, report: ImpactReport, keep: int, executor: str = "local"
    ) -> None:
        self.pack, self.report, self.keep, self.executor = pack, report, keep, executor
        self.seen: dict[str, CheckResult] = {}
        self.compared: dict[tuple[str, Outcome, str | None], int] = {}
        self.comparisons: list[_Comparison] = []
        self.counts: list[int] = []

    def chunk(self, store: Store, chunk: list[ReplayStep]) -> None:
        """Re-check a chunk: each distinct input once per replay (a check is a function of it
        and the pack), the rest answered from ``seen``."""
        todo: dict[str, ReplayStep] = {}
        for item in chunk:
            if item.input_hash not in self.seen:
                todo.setdefault(item.input_hash, item)
        if todo:
            stored = step_inputs(store, [i.step_id for i in todo.values() if i.inputs is None])  # type: ignore[arg-type]
            inputs = [i.inputs or stored[i.step_id] for i in todo.values()]
            fresh = check_many(
                self.pack,
                [s for s, _ in inputs],
                [c for _, c in inputs],
                executor=self.executor,
            )
            if len(self.seen) + len(todo) > _SEEN_LIMIT:  # memory stays bounded: start afresh
                self.flush()
                needed = {i.input_hash for i in chunk}
                self.seen = {k: v for k, v in self.seen.items() if k in needed}
            self.seen.update(zip(todo, fresh, strict=True))
            self.report.checked += len(todo)
        report, keep, counts = self.report, self.keep, self.counts
        for item in chunk:
            key = (item.input_hash, item.outcome, item.action)
            index = self.compared.get(key)
            if index is None:
                index = self.compared[key] = len(self.comparisons)
                self.comparisons.append(
                    _compare(item.outcome, self.seen[item.input_hash], item.action)
                )
                counts.append(0)
            counts[index] += 1
            report.from_versions[item.outcome[0]] += 1
            comparison = self.comparisons[index]
            if not comparison.changed:
                continue
            report.runs.add(item.run_id)
            example = Example(
                item.run_id,
                item.step_id,
                item.node,
                comparison.before,
                comparison.after,
                comparison.rules_before,
                comparison.rules_after,
            )
            kinds = [(report.transitions, comparison.transition)] if comparison.transition else []
            kinds += [(report.decisions, kind) for kind in comparison.decisions]
            for into, kind in kinds:
                into.setdefault(kind, Change(kind)).add(example, keep)

    def flush(self) -> None:
        """Add each comparison's counts to the report, times the steps that had it, and forget
        the comparisons."""
        report = self.report
        for comparison, steps in zip(self.comparisons, self.counts, strict=True):
            report.steps += steps
            report.changed += steps if comparison.changed else 0
            for rule in comparison.started:
                report.rules_started[rule] += steps
            for rule in comparison.stopped:
                report.rules_stopped[rule] += steps
            for rule in comparison.instances_changed:
                report.rules_changed[rule] += steps
        self.compared.clear()
        self.comparisons.clear()
        self.counts.clear()


def _compare(old: Outcome, new: CheckResult, action: str | None) -> _Comparison:
    _, before, found = old
    after = new.verdict.value
    had = Counter(found)
    has = Counter((f.rule, str(f.detail)) for f in new.findings() if f.rule)
    rules_before = tuple(sorted({r for r, _ in had}))
    rules_after = tuple(sorted(set(new.rule_ids())))
    gone = frozenset(rules_before) - frozenset(rules_after)
    moved = {r for r, _ in (had - has) + (has - had)} & set(rules_before) & set(rules_after)
    return _Comparison(
        before=before,
        after=after,
        rules_before=rules_before,
        rules_after=rules_after,
        started=frozenset(rules_after) - frozenset(rules_before),
        stopped=gone,
        instances_changed=frozenset(moved),
        changed=before != after or had != has,
        transition=f"{before}→{after}" if before != after else None,
        decisions=tuple(_disagreements(action, before, new.verdict, gone)),
    )


def _disagreements(
    action: str | None, before: str, after: Verdict, gone: frozenset[str]
) -> list[str]:
    """The human decisions (or their absence) the new rules would disagree with."""
    out: list[str] = []
    overridden = action == "approve" and before in {v.value for v in OVERRIDES}
    if overridden and gone:
        out.append("approval_over_rule_gone")  # the person overrode a rule that is gone now
    if action == "reject" and after is Verdict.PASS:
        out.append("rejection_now_passes")
    if before == Verdict.PASS.value and after is not Verdict.PASS:
        out.append("pass_now_needs_a_person")
    return out
