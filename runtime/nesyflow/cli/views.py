"""What ``--format json`` prints for runs and reviews: typed views with stable keys.

Each view is a frozen pydantic model built from the store's records (the durable truth, not what a
process remembers), dumped with ``model_dump_json``; a script reads the same keys whatever the
terminal. ``run`` prints one :class:`RunSummary` per input (JSON lines); ``runs show`` one
:class:`RunDetail`; ``reviews show`` one :class:`ReviewSummary`; ``runs list`` and ``reviews list`` one
page object (``page``, ``pages``, ``total``, ``items``). Ids are always whole.

Every view is masked for its viewer (:mod:`nesyflow.govern.masking`): built from the records,
then every sensitive value of its run replaced wherever it sits in the view, so no key of a view
can carry one out. ``viewer=None`` is nobody in particular: everything sensitive masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from nesyflow.govern import Masks, Viewer
from nesyflow.logic.result import Reason

__all__ = [
    "ReviewPage",
    "ReviewSummary",
    "RunDetail",
    "RunPage",
    "RunRow",
    "RunSummary",
    "StepView",
    "review_summary",
    "run_detail",
    "run_row",
    "run_summary",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReviewSummary(_View):
    """A review: what waits (or waited) for a person, why, and what was decided."""

    id: str
    run: str
    workflow: str
    node: str
    visit: int
    kind: str
    verdict: str
    status: str
    rules: list[str]
    reasons: list[Reason]  # the one reason value of nesyflow.logic, as stored
    question: str
    output: Any
    packs: list[str]
    facts_hash: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    action: str | None
    decided_by: str | None
    comment: str | None


class RunSummary(_View):
    """Where a run stands: ``outputs`` = the latest output of each node, ``derived`` = the derived
    values of every check of the run merged by key (a later check's value wins, held checks
    included, so a claim waiting for a person shows its totals), ``reviews``."""

    run: str
    workflow: str
    status: str
    node: str | None
    error: str | None
    outputs: dict[str, Any]
    derived: dict[str, Any]
    verdicts: dict[str, str]
    reviews: list[ReviewSummary]


class StepView(_View):
    seq: int
    node: str
    visit: int
    attempt: int
    kind: str
    verdict: str | None
    rules: list[str]
    output: Any
    error: str | None
    model: str | None
    model_ms: float
    rules_ms: float
    store_ms: float


class RunDetail(RunSummary):
    """``runs show``: the run, its input and its trace."""

    input: Any
    steps: list[StepView]


class RunRow(_View):
    id: str
    workflow: str
    status: str
    node: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RunPage(_View):
    page: int
    pages: int
    total: int
    items: list[RunRow]


class ReviewPage(_View):
    page: int
    pages: int
    total: int
    items: list[ReviewSummary]


def _pack_text(pack: dict[str, Any]) -> str:
    return f"{pack.get('name')}@{pack.get('version')}#{pack.get('hash', '')}"


V = TypeVar("V", bound=BaseModel)


def _masked(view: V, masks: Masks, run_id: str) -> V:
    """``view`` with every sensitive value of run ``run_id`` replaced (the one masking)."""
    mask = masks.of(run_id)
    if not mask:
        return view
    return type(view).model_validate(mask.data(view.model_dump(mode="json")))


def review_summary(
    store: Any, review: Any, viewer: Viewer | None = None, masks: Masks | None = None
) -> ReviewSummary:
    """The view of one ``ReviewRecord`` (with its decision's comment, if decided), masked."""
    masks = masks or Masks(store, viewer)
    decision = store.decision_for(review.id) if review.action is not None else None
    view = ReviewSummary(
        id=review.id,
        run=review.run_id,
        workflow=review.workflow,
        node=review.node,
        visit=review.visit,
        kind=review.kind,
        verdict=review.verdict,
        status=review.status.value,
        rules=[r for r in review.rules if r],
        reasons=list(review.reasons),
        question=review.question,
        output=review.output,
        packs=[_pack_text(p) for p in review.packs],
        facts_hash=review.facts_hash,
        created_at=review.created_at,
        decided_at=review.decided_at,
        action=review.action.value if review.action else None,
        decided_by=review.decided_by,
        comment=decision.comment if decision else None,
    )
    return _masked(view, masks, review.run_id)


def _fields(store: Any, run_id: str, masks: Masks) -> dict[str, Any]:
    from nesyflow.engine import RunState

    run = store.get_run(run_id)
    state = RunState.model_validate(run.state)
    derived: dict[str, Any] = {}
    for step in store.steps(run_id):  # every check of the run, held ones too, in order
        for result in (step.check or {}).get("results", []) if isinstance(step.check, dict) else []:
            derived.update(result.get("derived") or {})
    for values in state.derived.values():  # what later nodes read wins
        derived.update(values)
    return {
        "run": run.id,
        "workflow": run.workflow,
        "status": run.status.value,
        "node": run.current_node,
        "error": run.error,
        "outputs": state.outputs,
        "derived": derived,
        "verdicts": state.verdicts,
        "reviews": [review_summary(store, r, masks=masks) for r in store.reviews_for_run(run.id)],
        "_input": run.input,
    }


def run_summary(store: Any, run_id: str, viewer: Viewer | None = None) -> RunSummary:
    masks = Masks(store, viewer)
    fields = _fields(store, run_id, masks)
    fields.pop("_input")
    return _masked(RunSummary(**fields), masks, run_id)


def run_detail(store: Any, run_id: str, viewer: Viewer | None = None) -> RunDetail:
    masks = Masks(store, viewer)
    fields = _fields(store, run_id, masks)
    steps = [
        StepView(
            seq=s.seq,
            node=s.node,
            visit=s.visit,
            attempt=s.attempt,
            kind=s.kind,
            verdict=s.verdict,
            rules=[str(f.get("rule")) for f in s.findings if f.get("rule")],
            output=s.output,
            error=s.error,
            model=s.model,
            model_ms=s.model_ms,
            rules_ms=s.rules_ms,
            store_ms=s.store_ms,
        )
        for s in store.steps(run_id)
    ]
    run_input = fields.pop("_input")
    return _masked(RunDetail(**fields, input=run_input, steps=steps), masks, run_id)


def run_row(run: Any) -> RunRow:
    return RunRow(
        id=run.id,
        workflow=run.workflow,
        status=run.status.value,
        node=run.current_node,
        created_at=run.created_at,
        updated_at=run.updated_at,
    )
