"""A minimal repair for a held output, offered to the reviewer as a pre-filled edit.

For a review whose output fails (or is ``unknown``), the candidate changes come from what the run
already knows: the other values the reader found in the source text (the ``readings`` a step of
the run keeps — :class:`nesyflow.extract.Reading` with its ranked candidates), the other members
of an enum or a boolean, filling a missing field from those candidates, dropping a list element.
Each has a weight; the node's own pack then chooses the smallest set of them under which nothing
is violated, denied or missing (:func:`nesyflow.logic.repair.search_repair`). The repaired value is
checked again through the path every edit takes (:func:`nesyflow.review.check_edit`, hence
``engine.recheck.check_decided``), and offered only when that check allows it as an edit.

A person accepts it as an edit (with a comment, checked as such) or adjusts it; nothing here
records a decision. Values that came from the run's input (``FromInput``, readings of origin
``input``: who the employee is, their level, the submission date) are never changed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from nesyflow.engine.checking import load_packs
from nesyflow.engine.state import RunState, jsonable
from nesyflow.errors import NesyflowError
from nesyflow.extract.provenance import Reading
from nesyflow.extract.sources import FromInput
from nesyflow.logic.repair import Alternative, Change, Drop, Path, get_path, search_repair
from nesyflow.logic.result import Reason, Verdict
from nesyflow.review.decide import DecisionRefused, check_edit
from nesyflow.schema.plan import Container, ValueKind, plan_for
from nesyflow.store import ReviewRecord, Store

__all__ = [
    "DEFAULT_TIMEOUT",
    "REPAIRABLE",
    "Repair",
    "RepairLine",
    "Weights",
    "alternatives_for",
    "repair_review",
    "run_readings",
]

DEFAULT_TIMEOUT = 5.0
REPAIRABLE = (Verdict.FAIL, Verdict.UNKNOWN)  # what a repair is searched for


@dataclass(frozen=True)
class Weights:
    """What each kind of change costs: a value the text supports is cheaper than one it does not,
    and the reader's better-ranked candidates cheaper than its worse ones (``+ rank``)."""

    fill: int = 1  # a missing field from a candidate the text supports
    change: int = 2  # another value the text supports
    rank_cap: int = 4  # rank penalty at most this
    member: int = 6  # another enum member / boolean the text does not point at
    drop: int = 8  # dropping a list element
    drop_beyond: int = 3  # dropping one past the number of elements the reader found in the text


@dataclass(frozen=True)
class RepairLine:
    """One line of the diff a reviewer reads: the change and the findings it answers."""

    change: Change
    because: tuple[str, ...]

    def text(self) -> str:
        why = f", because {', '.join(self.because)}" if self.because else ""
        return self.change.describe() + why

    def to_json(self) -> dict[str, Any]:
        c = self.change
        return {
            "kind": c.kind,
            "field": c.field,
            "old": c.old,
            "new": c.new,
            "weight": c.weight,
            "source": c.why,
            "because": list(self.because),
            "text": self.text(),
        }


@dataclass(frozen=True)
class Repair:
    """The outcome for one review: ``found`` (an edit the rules allow), ``none`` (with why) or
    ``not_needed`` (the output does not fail)."""

    review_id: str
    status: Literal["found", "none", "not_needed"]
    reason: str = ""
    lines: tuple[RepairLine, ...] = ()
    value: Any = None  # the repaired output, ready to submit as an edit
    verdict: Verdict | None = None  # of the re-check through the normal path
    remaining: tuple[Reason, ...] = ()  # what the re-check still says (reviews a person decides)
    cost: int = 0
    ties: int = 0
    options: int = 0
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0
    timeout: float = DEFAULT_TIMEOUT

    @property
    def found(self) -> bool:
        return self.status == "found"

    def comment(self) -> str:
        """A starting comment for the edit (the reviewer writes their own; this says what)."""
        return "Accepted the suggested repair: " + "; ".join(line.text() for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "review": self.review_id,
            "status": self.status,
            "reason": self.reason,
            "changes": [line.to_json() for line in self.lines],
            "value": self.value,
            "verdict": self.verdict.value if self.verdict else None,
            "remaining": [r.text for r in self.remaining],
            "cost": self.cost,
            "ties": self.ties,
            "options": self.options,
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
            "timeout": self.timeout,
        }


def run_readings(store: Store, run_id: str) -> list[Reading]:
    """The readings the run's latest step that kept any (a reader's ``readings``) holds."""
    for step in reversed(store.steps(run_id)):
        out = step.output
        if isinstance(out, dict) and isinstance(out.get("readings"), list):
            readings: list[Reading] = []
            for raw in out["readings"]:
                try:
                    readings.append(Reading.model_validate(raw))
                except ValidationError:
                    continue
            return readings
    return []


def _path(field_name: str) -> Path:
    return tuple(int(p) if p.isdigit() else p for p in field_name.split("."))


def _norm(value: Any) -> Any:
    """A value as compared: numbers by amount ("27.4" = 27.40), the rest as JSON."""
    value = jsonable(value)
    if isinstance(value, bool) or value is None:
        return value
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return json.dumps(value, sort_keys=True)


def _from_input(model: type[BaseModel] | None) -> set[str]:
    if model is None:
        return set()
    return {
        name
        for name, info in model.model_fields.items()
        if any(isinstance(m, FromInput) for m in info.metadata)
    }


def alternatives_for(
    value: Any,
    model: type[BaseModel],
    readings: list[Reading],
    output_model: type[BaseModel] | None = None,
    weights: Weights = Weights(),
) -> tuple[list[Alternative], list[Drop]]:
    """Every change the search may choose from, with its weight (see the module doc)."""
    fixed = _from_input(output_model) | {r.field for r in readings if r.origin == "input"}
    by_path: dict[Path, dict[Any, Alternative]] = {}

    def offer(path: Path, new: Any, weight: int, why: str) -> None:
        if ".".join(map(str, path)) in fixed or (len(path) == 1 and path[0] in fixed):
            return
        current = get_path(value, path)
        if _norm(new) == _norm(current):
            return
        kept = by_path.setdefault(path, {})
        key = _norm(new)
        if key not in kept or kept[key].weight > weight:
            kept[key] = Alternative(path, jsonable(new), weight, why)

    for reading in readings:
        path = _path(reading.field)
        base = weights.fill if get_path(value, path) is None else weights.change
        seen = False
        for rank, cand in enumerate(reading.candidates):
            where = f"{cand.source} {cand.start}-{cand.end} “{cand.text}”"
            offer(path, cand.value, base + min(rank, weights.rank_cap), where + _why(cand.why))
            seen = seen or _norm(cand.value) == _norm(reading.value)
        if not seen and reading.value is not None and reading.origin != "structure":
            detail = f": {reading.detail}" if reading.detail else ""
            offer(path, reading.value, base, f"{reading.origin}{detail}")

    def members(model_cls: type[BaseModel], data: Any, prefix: Path) -> None:
        if not isinstance(data, dict):
            return
        for f in plan_for(model_cls).fields:
            if prefix == () and f.name in fixed:
                continue
            if f.value.kind is ValueKind.MODEL and f.container is Container.LIST:
                child = f.value.py_type
                for i, item in enumerate(data.get(f.name) or []):
                    members(child, item, (*prefix, f.name, i))
                continue
            if f.container is not Container.SCALAR:
                continue
            if f.value.kind is ValueKind.CONST:
                choices = [v for _name, v in f.value.constants]
            elif f.value.kind is ValueKind.BOOL:
                choices = [True, False]
            else:
                continue
            for choice in choices:
                offer((*prefix, f.name), choice, weights.member, f"another value of {f.name}")

    members(model, value, ())
    drops: list[Drop] = []
    # how many elements the reader found in the text's structure, per list (origin "structure")
    counts = {r.field: r.value for r in readings if r.origin == "structure"}
    if isinstance(value, dict):
        for f in plan_for(model).fields:
            items = value.get(f.name)
            if f.container is Container.LIST and isinstance(items, list) and len(items) > 1:
                read = counts.get(f.name)
                for i in range(len(items)):
                    beyond = isinstance(read, int) and i >= read
                    why = f"the text has {read} {f.name}" if beyond else ""
                    cost = weights.drop_beyond if beyond else weights.drop
                    drops.append(Drop((f.name, i), cost, why))
    alternatives = [a for kept in by_path.values() for a in kept.values()]
    return alternatives, drops


def _why(text: str) -> str:
    return f", {text}" if text else ""


_ELEMENT = re.compile(r"^\w+\((\d+)(?:,\s*(\d+))?\)$")


def _because(change: Change, findings: list[Reason], gone: set[str]) -> tuple[str, ...]:
    """The findings this change answers: those about its element (``item(0)``), or the missing
    field it fills; else every finding the repair makes go away."""
    index = next((p for p in change.path if isinstance(p, int)), None)
    out: list[str] = []
    for reason in findings:
        name = reason.rule or reason.detail
        if name not in gone:
            continue
        if reason.kind == "missing":
            if change.kind == "fill" and reason.detail.endswith(f"_{change.path[-1]}"):
                out.append(f"missing {reason.detail}")
            continue
        match = _ELEMENT.match(reason.detail)
        if match and index is not None and str(index) in (match.group(1), match.group(2)):
            out.append(str(reason.rule))
    if not out:
        kinds = {r.rule or r.detail: r.kind for r in findings}
        out = [f"missing {g}" if kinds.get(g) == "missing" else g for g in sorted(gone)]
    return tuple(dict.fromkeys(out))


def repair_review(
    store: Store,
    review: ReviewRecord | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    readings: list[Reading] | None = None,
    weights: Weights = Weights(),
    workflow: Any = None,
) -> Repair:
    """The smallest change to ``review``'s output that its node's rules allow; never records
    anything. ``readings`` overrides the run's own (a caller with another reader's candidates)."""
    from nesyflow.engine.api import load_run_workflow

    started = time.perf_counter()
    if isinstance(review, str):
        review = store.get_review(review)

    def none(reason: str, **more: Any) -> Repair:
        return Repair(
            review.id,
            "none",
            reason,
            timeout=timeout,
            seconds=time.perf_counter() - started,
            **more,
        )

    if review.verdict not in REPAIRABLE:
        return Repair(
            review.id,
            "not_needed",
            f"the output is '{review.verdict.value}', not failing: nothing to repair",
            timeout=timeout,
        )
    if not isinstance(review.output, dict):
        return none("the review holds no output to repair")
    run = store.get_run(review.run_id)
    try:
        flow = workflow or load_run_workflow(run)
    except NesyflowError as exc:
        return none(f"the run's workflow cannot be loaded: {exc}")
    node = flow.nodes.get(review.node)
    if node is None or not node.packs:
        return none(f"node '{review.node}' has no rule packs of its own to search a repair with")
    loaded = load_packs(node.packs)
    if len(loaded) != 1 or loaded[0][1] is None:
        problem = loaded[0][2] if len(loaded) == 1 else f"{len(loaded)} packs"
        return none(f"a repair is searched with exactly one loadable pack (node has {problem})")
    pack = loaded[0][1]
    state = RunState.model_validate(run.state)
    try:
        context = (
            None
            if node.context is None
            else jsonable(
                node.context.resolve(run.input, state.outputs, state.derived, state.verdicts)
            )
        )
    except (KeyError, LookupError, AttributeError, TypeError) as exc:
        return none(f"the context '{node.context}' of node '{review.node}' has no value: {exc}")
    given = readings if readings is not None else run_readings(store, run.id)
    alternatives, drops = alternatives_for(
        review.output, pack.input_model, given, node.subject_schema(), weights
    )
    outcome = search_repair(pack, review.output, context, alternatives, drops, timeout=timeout)
    if not outcome.found:
        return none(outcome.reason, options=outcome.options, skipped=outcome.skipped)
    try:
        edit = check_edit(store, review, outcome.value, flow)
    except DecisionRefused as exc:
        return none(
            f"the search's repair cannot be checked as an edit, so it is not offered: {exc}"
        )
    common = {"cost": outcome.cost, "ties": outcome.ties, "options": outcome.options}
    if not edit.allowed:
        return none(
            "the search's repair did not pass the normal check, so it is not offered: "
            + edit.refusal,
            verdict=edit.summary.verdict,
            **common,
        )
    findings = [r for r in review.reasons if r.kind in ("violation", "deny", "missing")]
    still = {r.rule or r.detail for r in edit.summary.reasons}
    gone = {r.rule or r.detail for r in findings} - still
    lines = tuple(RepairLine(c, _because(c, findings, gone)) for c in outcome.changes)
    return Repair(
        review.id,
        "found",
        lines=lines,
        value=edit.data,
        verdict=edit.summary.verdict,
        remaining=edit.summary.reasons,
        skipped=outcome.skipped,
        seconds=time.perf_counter() - started,
        timeout=timeout,
        **common,
    )
