"""Read queries for the console and the CLI, kept in one place so their indexes stay in one view.

Every function takes a :class:`SqlStore` and returns typed records or small typed rows; pages are
1-based. Filters that are ``None`` are not applied.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Text, case, cast, func, null, or_, select, true

from nesyflow.logic.result import OVERRIDES
from nesyflow.store import tables as t
from nesyflow.store.records import Decision, Page, ReviewRecord, Run, RunStatus, Step
from nesyflow.store.replay_keys import Outcome, parse_outcomes, replay_columns
from nesyflow.store.sql import SqlStore, _row

__all__ = [
    "CheckedStep",
    "DecidedEdit",
    "DecidedReview",
    "NodeStat",
    "PackIdentityCount",
    "ReplayStep",
    "RuleCount",
    "StatusCounts",
    "TrendRow",
    "checked_steps",
    "decided_edits",
    "decided_reviews",
    "decision_counts",
    "decisions_for_run",
    "list_runs",
    "node_stats",
    "pack_identities",
    "pack_labels",
    "replay_steps",
    "review_queue",
    "rule_firing_counts",
    "rule_firing_recent",
    "rule_names",
    "run_steps",
    "status_counts",
    "step_inputs",
    "verdict_trend",
    "workflow_files",
    "workflow_names",
]


class RuleCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    kind: str
    pack: str
    count: int
    last_at: dt.datetime | None = None


class StatusCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    runs: dict[str, int]
    reviews: dict[str, int]


def _page(page: int, page_size: int) -> tuple[int, int]:
    page = max(1, page)
    page_size = max(1, min(page_size, 500))
    return page, page_size


def review_queue(
    store: SqlStore,
    *,
    status: str | None = "open",
    workflow: str | None = None,
    rule: str | None = None,
    run_id: str | None = None,
    older_than: dt.timedelta | None = None,
    search: str | None = None,
    oldest_first: bool = True,
    page: int = 1,
    page_size: int = 50,
    pack: str | None = None,
    newer_than: dt.timedelta | None = None,
) -> Page[ReviewRecord]:
    """The review queue: open reviews oldest first by default (the longest-waiting person first).

    ``rule`` keeps reviews whose step fired that rule, ``pack`` those whose step has a finding of
    that pack (its name, or ``name@version``); ``search`` matches the id, node or reasons;
    ``older_than`` / ``newer_than`` bound the age.
    """
    page, page_size = _page(page, page_size)
    r = t.reviews
    where: list[Any] = []
    if status:
        where.append(r.c.status == status)
    if workflow:
        where.append(r.c.workflow == workflow)
    if run_id:
        where.append(r.c.run_id == run_id)
    if older_than is not None:
        where.append(r.c.created_at <= dt.datetime.now(dt.UTC) - older_than)
    if newer_than is not None:
        where.append(r.c.created_at > dt.datetime.now(dt.UTC) - newer_than)
    if rule:
        where.append(r.c.step_id.in_(select(t.findings.c.step_id).where(t.findings.c.rule == rule)))
    if pack:
        label = t.findings.c.pack
        match = label == pack if "@" in pack else or_(label == pack, label.like(f"{pack}@%"))
        where.append(r.c.step_id.in_(select(t.findings.c.step_id).where(match)))
    if search:
        like = f"%{search}%"
        where.append(
            or_(r.c.id.like(f"{search}%"), r.c.node.like(like), cast(r.c.reasons, Text).like(like))
        )
    order = r.c.created_at.asc() if oldest_first else r.c.created_at.desc()
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(r).where(*where)).scalar() or 0
        rows = conn.execute(
            select(r)
            .where(*where)
            .order_by(order, r.c.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    items = [ReviewRecord.model_validate(_row(row)) for row in rows]
    return Page[ReviewRecord](items=items, total=total, page=page, page_size=page_size)


def list_runs(
    store: SqlStore,
    *,
    status: RunStatus | str | None = None,
    workflow: str | None = None,
    search: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Run]:
    """Runs newest first; ``search`` matches an id prefix, the workflow, the node or the input."""
    page, page_size = _page(page, page_size)
    runs = t.runs
    where: list[Any] = []
    if status:
        where.append(runs.c.status == str(status))
    if workflow:
        where.append(runs.c.workflow == workflow)
    if since is not None:
        where.append(runs.c.created_at >= since)
    if until is not None:
        where.append(runs.c.created_at < until)
    if search:
        like = f"%{search}%"
        where.append(
            or_(
                runs.c.id.like(f"{search}%"),
                runs.c.workflow.like(like),
                runs.c.current_node.like(like),
                cast(runs.c.input, Text).like(like),
            )
        )
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(runs).where(*where)).scalar() or 0
        rows = conn.execute(
            select(runs)
            .where(*where)
            .order_by(runs.c.created_at.desc(), runs.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    items = [Run.model_validate(_row(row)) for row in rows]
    return Page[Run](items=items, total=total, page=page, page_size=page_size)


def run_steps(store: SqlStore, run_id: str) -> list[Step]:
    """A run's trace in order (the timeline)."""
    return store.steps(run_id)


def status_counts(store: SqlStore, *, workflow: str | None = None) -> StatusCounts:
    """How many runs and reviews are in each status (the overview's tiles)."""
    runs, reviews = t.runs, t.reviews
    with store.read() as conn:
        q_runs = select(runs.c.status, func.count()).group_by(runs.c.status)
        q_reviews = select(reviews.c.status, func.count()).group_by(reviews.c.status)
        if workflow:
            q_runs = q_runs.where(runs.c.workflow == workflow)
            q_reviews = q_reviews.where(reviews.c.workflow == workflow)
        run_counts = {s.value: 0 for s in RunStatus}
        run_counts.update({status: n for status, n in conn.execute(q_runs)})
        review_counts = {"open": 0, "decided": 0}
        review_counts.update({status: n for status, n in conn.execute(q_reviews)})
    return StatusCounts(runs=run_counts, reviews=review_counts)


def rule_firing_counts(
    store: SqlStore,
    *,
    workflow: str | None = None,
    since: dt.datetime | None = None,
    kind: str | None = None,
) -> list[RuleCount]:
    """How often each rule fired in checked steps (most first): which rules bite in production."""
    f = t.findings
    query = select(
        f.c.rule, f.c.kind, f.c.pack, func.count().label("n"), func.max(f.c.created_at)
    ).group_by(f.c.rule, f.c.kind, f.c.pack)
    if workflow:
        query = query.where(f.c.workflow == workflow)
    if since is not None:
        query = query.where(f.c.created_at >= since)
    if kind:
        query = query.where(f.c.kind == kind)
    with store.read() as conn:
        rows = conn.execute(query.order_by(func.count().desc(), f.c.rule)).all()
    return [
        RuleCount(rule=rule, kind=k, pack=pack, count=n, last_at=_row_time(last))
        for rule, k, pack, n, last in rows
    ]


def workflow_names(store: SqlStore) -> list[str]:
    """Every workflow that has runs (for filter menus)."""
    with store.read() as conn:
        return list(
            conn.execute(select(t.runs.c.workflow).distinct().order_by(t.runs.c.workflow)).scalars()
        )


def _row_time(value: Any) -> dt.datetime | None:
    if isinstance(value, str):  # SQLite returns aggregate datetimes as text
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


# -- the console's overview, rules and workflow pages -------------------------------------------


class TrendRow(BaseModel):
    """How many checked steps of one day, workflow and pack set ended with one verdict."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    workflow: str
    packs: tuple[str, ...]
    verdict: str
    count: int


class NodeStat(BaseModel):
    """A workflow node's checked steps over recent runs, by verdict, and the reviews it opened."""

    model_config = ConfigDict(frozen=True)

    node: str
    steps: int
    verdicts: dict[str, int]
    reviews: int
    first_seq: float = 0.0  # where in a run the node usually comes (average step number)

    @property
    def failure_rate(self) -> float:
        bad = sum(n for v, n in self.verdicts.items() if v in OVERRIDES)
        return bad / self.steps if self.steps else 0.0

    @property
    def review_rate(self) -> float:
        return self.verdicts.get("review", 0) / self.steps if self.steps else 0.0


# Steps that carry a check of their own (a decision step repeats its review's verdict; a branch
# step is not checked).
_UNCHECKED_KINDS = ("decision", "branch")


def verdict_trend(
    store: SqlStore, *, days: int = 14, now: dt.datetime | None = None
) -> list[TrendRow]:
    """Verdicts of checked steps per day over the last ``days`` days, by workflow and pack set.

    One pass over the period's steps (grouped in SQL by day, workflow, verdict and the packs'
    JSON text, which is the same text for every step a node checks with the same packs); the
    caller sums by workflow or by pack.
    """
    now = now or dt.datetime.now(dt.UTC)
    since = (now - dt.timedelta(days=days)).replace(tzinfo=None)
    s, runs = t.steps, t.runs
    day = func.date(s.c.created_at)
    packs_text = cast(s.c.packs, Text)
    query = (
        select(day, runs.c.workflow, packs_text, s.c.verdict, func.count())
        .select_from(s.join(runs, runs.c.id == s.c.run_id))
        .where(
            s.c.created_at >= since,
            s.c.verdict.is_not(None),
            s.c.kind.not_in(_UNCHECKED_KINDS),
        )
        .group_by(day, runs.c.workflow, packs_text, s.c.verdict)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
    out: list[TrendRow] = []
    for d, workflow, packs, verdict, n in rows:
        out.append(
            TrendRow(
                day=d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]),
                workflow=workflow,
                packs=_pack_names(packs),
                verdict=verdict,
                count=n,
            )
        )
    return out


def _pack_names(packs: Any) -> tuple[str, ...]:
    if isinstance(packs, str):
        try:
            packs = json.loads(packs)
        except ValueError:
            return ()
    return tuple(str(p.get("name", "")) for p in packs or [] if isinstance(p, dict))


def decision_counts(store: SqlStore, *, workflow: str | None = None) -> dict[str, int]:
    """How many reviews were decided with each action (approve, edit, reject)."""
    r = t.reviews
    query = (
        select(r.c.action, func.count())
        .where(r.c.status == "decided", r.c.action.is_not(None))
        .group_by(r.c.action)
    )
    if workflow:
        query = query.where(r.c.workflow == workflow)
    counts = {"approve": 0, "edit": 0, "reject": 0}
    with store.read() as conn:
        counts.update({action: n for action, n in conn.execute(query)})
    return counts


def rule_names(store: SqlStore) -> list[str]:
    """Every rule that ever fired (for filter menus; an index-only scan)."""
    with store.read() as conn:
        return list(
            conn.execute(select(t.findings.c.rule).distinct().order_by(t.findings.c.rule)).scalars()
        )


def pack_labels(store: SqlStore) -> list[str]:
    """Every pack (``name@version``) whose rules fired (for filter menus)."""
    with store.read() as conn:
        return list(
            conn.execute(select(t.findings.c.pack).distinct().order_by(t.findings.c.pack)).scalars()
        )


def _recent_runs_cutoff(conn: Any, last_runs: int, workflow: str | None) -> dt.datetime | None:
    """When the ``last_runs``-th newest run (of ``workflow``) started; None if there are fewer."""
    runs = t.runs
    query = select(runs.c.created_at).order_by(runs.c.created_at.desc())
    if workflow:
        query = query.where(runs.c.workflow == workflow)
    return conn.execute(query.limit(1).offset(max(0, last_runs - 1))).scalar()


def rule_firing_recent(
    store: SqlStore, *, last_runs: int = 500, pack: str | None = None
) -> list[RuleCount]:
    """How often each rule fired in the steps of the newest ``last_runs`` runs (most first)."""
    f, runs = t.findings, t.runs
    query = select(
        f.c.rule, f.c.kind, f.c.pack, func.count().label("n"), func.max(f.c.created_at)
    ).group_by(f.c.rule, f.c.kind, f.c.pack)
    if pack:
        label = f.c.pack
        query = query.where(
            label == pack if "@" in pack else or_(label == pack, label.like(f"{pack}@%"))
        )
    with store.read() as conn:
        cutoff = _recent_runs_cutoff(conn, last_runs, None)
        if cutoff is not None:
            recent = select(runs.c.id).where(runs.c.created_at >= cutoff)
            query = query.where(f.c.created_at >= cutoff, f.c.run_id.in_(recent))
        rows = conn.execute(query.order_by(func.count().desc(), f.c.rule)).all()
    return [
        RuleCount(rule=rule, kind=k, pack=p, count=n, last_at=_row_time(last))
        for rule, k, p, n, last in rows
    ]


def workflow_files(store: SqlStore) -> dict[str, str | None]:
    """Each workflow with runs, and the file its newest run was started from (None: built in
    Python, or no run names one)."""
    runs = t.runs
    out: dict[str, str | None] = {}
    with store.read() as conn:
        for name in workflow_names(store):
            out[name] = conn.execute(
                select(runs.c.workflow_ref)
                .where(runs.c.workflow == name, runs.c.workflow_ref.is_not(None))
                .order_by(runs.c.created_at.desc())
                .limit(1)
            ).scalar()
    return out


def node_stats(store: SqlStore, workflow: str, *, last_runs: int = 200) -> list[NodeStat]:
    """Per node of ``workflow``: its checked steps by verdict and the reviews it opened, over the
    newest ``last_runs`` runs of that workflow (runs by index, then their steps by run)."""
    runs, s, r = t.runs, t.steps, t.reviews
    with store.read() as conn:
        ids = list(
            conn.execute(
                select(runs.c.id)
                .where(runs.c.workflow == workflow)
                .order_by(runs.c.created_at.desc())
                .limit(last_runs)
            ).scalars()
        )
        if not ids:
            return []
        step_rows = conn.execute(
            select(s.c.node, s.c.verdict, func.count(), func.avg(s.c.seq))
            .where(s.c.run_id.in_(ids), s.c.kind.not_in(_UNCHECKED_KINDS))
            .group_by(s.c.node, s.c.verdict)
        ).all()
        review_rows = conn.execute(
            select(r.c.node, func.count()).where(r.c.run_id.in_(ids)).group_by(r.c.node)
        ).all()
    verdicts: dict[str, dict[str, int]] = {}
    seqs: dict[str, list[float]] = {}
    for node, verdict, n, seq in step_rows:
        verdicts.setdefault(node, {})[verdict or "none"] = n
        seqs.setdefault(node, []).append(float(seq or 0))
    reviews = {node: n for node, n in review_rows}
    return [
        NodeStat(
            node=node,
            steps=sum(v.values()),
            verdicts=v,
            reviews=reviews.get(node, 0),
            first_seq=min(seqs.get(node, [0.0])),
        )
        for node, v in sorted(verdicts.items())
    ]


def decisions_for_run(store: SqlStore, run_id: str) -> list[Decision]:
    """Every decision people made on the run's reviews, oldest first."""
    d, r = t.decisions, t.reviews
    with store.read() as conn:
        rows = conn.execute(
            select(d).join(r, r.c.id == d.c.review_id).where(r.c.run_id == run_id).order_by(d.c.at)
        ).all()
    return [Decision.model_validate(_row(row)) for row in rows]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _names_pack(packs: Any, name: str) -> Any:
    """A text prefilter in SQL on a ``packs`` JSON column: the steps whose packs may name
    ``name`` (the caller still matches it exactly). It matches the name as JSON text, and only a
    plain name is written the same way by every JSON encoder (no escapes): any other is not
    prefiltered (``true``)."""
    if not (name.isascii() and name.replace("-", "_").replace(".", "_").isidentifier()):
        return true()
    return cast(packs, Text).like(f'%"{_like_escape(name)}"%', escape="\\")


class CheckedStep(BaseModel):
    """A stored step some pack checked, with what the rules were given and what a person decided
    on the review it opened (if any): the unit of ``nesyflow whatif`` and ``coverage``."""

    model_config = ConfigDict(frozen=True)

    step_id: str
    run_id: str
    workflow: str
    node: str
    created_at: dt.datetime
    check: dict[str, Any]
    review_id: str | None = None
    action: str | None = None
    decided_by: str | None = None
    comment: str | None = None


def checked_steps(
    store: SqlStore,
    *,
    since: dt.datetime | None = None,
    workflow: str | None = None,
    batch: int = 2000,
    pack: str | None = None,
) -> Iterator[CheckedStep]:
    """Every step with a rule check, oldest first, streamed in batches (a history of 100k steps
    never sits in memory at once). ``pack``: only steps whose packs name it (a text prefilter in
    SQL; the caller still matches the name exactly).

    A step no rule checked holds JSON ``null`` in ``check`` (not SQL NULL) and no verdict, or is a
    decision or branch step: those rows are left in the database, not decoded and dropped."""
    s, r, runs, d = t.steps, t.reviews, t.runs, t.decisions
    query = (
        select(
            s.c.id,
            s.c.run_id,
            runs.c.workflow,
            s.c.node,
            s.c.created_at,
            s.c.check,
            r.c.id,
            r.c.action,
            r.c.decided_by,
            d.c.comment,
        )
        .join(runs, runs.c.id == s.c.run_id)
        .outerjoin(r, r.c.step_id == s.c.id)
        .outerjoin(d, d.c.review_id == r.c.id)
        .where(
            s.c.check.is_not(None),
            s.c.verdict.is_not(None),
            s.c.kind.not_in(_UNCHECKED_KINDS),
            cast(s.c.check, Text) != "null",
        )
        .order_by(s.c.created_at, s.c.id)
    )
    if pack:
        query = query.where(_names_pack(s.c.packs, pack))
    if since is not None:
        query = query.where(s.c.created_at >= since)
    if workflow:
        query = query.where(runs.c.workflow == workflow)
    with store.read() as conn:
        result = conn.execution_options(yield_per=batch).execute(query)
        for row in result:
            check = row[5]
            if isinstance(check, str):
                check = json.loads(check)
            if not isinstance(check, dict):
                continue
            yield CheckedStep(
                step_id=row[0],
                run_id=row[1],
                workflow=row[2],
                node=row[3],
                created_at=_row_time(row[4]) or row[4],
                check=check,
                review_id=row[6],
                action=row[7],
                decided_by=row[8],
                comment=row[9],
            )


class ReplayStep(NamedTuple):
    """A stored check of one pack, as a replay of history needs it (``replay_keys.py``): a
    tuple, not a record, because a replay reads one per stored step."""

    step_id: str
    run_id: str
    node: str
    input_hash: str  # "" when the check kept no subject (it cannot be replayed)
    outcome: Outcome  # that pack's version, verdict and rule instances then
    action: str | None  # what a person decided on the review the step opened, if any
    inputs: tuple[Any, Any] | None  # (subject, context), when the row had to be decoded anyway


def replay_steps(
    store: SqlStore,
    pack: str,
    *,
    since: dt.datetime | None = None,
    workflow: str | None = None,
    batch: int = 5000,
) -> Iterator[ReplayStep]:
    """Every stored step that a pack named ``pack`` (any version) checked, oldest first, read
    from the steps' ``input_hash`` and ``outcomes`` columns; the ``check`` JSON is decoded only
    for a row written without them."""
    s, r, runs = t.steps, t.reviews, t.runs
    query = (
        select(
            s.c.id,
            s.c.run_id,
            s.c.node,
            s.c.input_hash,
            s.c.outcomes,
            r.c.action,
            case((s.c.input_hash.is_(None), s.c.check), else_=null()),
        )
        .outerjoin(r, r.c.step_id == s.c.id)
        .where(
            s.c.check.is_not(None),
            s.c.verdict.is_not(None),
            s.c.kind.not_in(_UNCHECKED_KINDS),
            _names_pack(s.c.packs, pack),
        )
        .order_by(s.c.created_at, s.c.id)
    )
    if since is not None:
        query = query.where(s.c.created_at >= since)
    if workflow:
        query = query.join(runs, runs.c.id == s.c.run_id).where(runs.c.workflow == workflow)
    parsed: dict[str, dict[str, Outcome]] = {}
    with store.read() as conn:
        for row in conn.execution_options(yield_per=batch).execute(query):
            step_id, run_id, node, key, text, action, check = row
            inputs = None
            if key is None:  # written without the columns: the slow path, from the check
                if isinstance(check, str):
                    check = json.loads(check)
                columns = replay_columns(check)
                key, text = columns["input_hash"], columns["outcomes"]
                if key:
                    inputs = (check.get("subject"), check.get("context"))
            found = parsed.get(text)
            if found is None:
                if len(parsed) > 100_000:
                    parsed.clear()
                found = parsed[text] = parse_outcomes(text)
            outcome = found.get(pack)
            if outcome is not None:
                yield ReplayStep(step_id, run_id, node, key, outcome, action, inputs)


def step_inputs(store: SqlStore, step_ids: list[str]) -> dict[str, tuple[Any, Any]]:
    """What the rules were given at each of these steps: ``(subject, context)`` by step id."""
    out: dict[str, tuple[Any, Any]] = {}
    with store.read() as conn:
        for start in range(0, len(step_ids), 500):
            ids = step_ids[start : start + 500]
            for step_id, check in conn.execute(
                select(t.steps.c.id, t.steps.c.check).where(t.steps.c.id.in_(ids))
            ):
                if isinstance(check, str):
                    check = json.loads(check)
                if isinstance(check, dict):
                    out[step_id] = (check.get("subject"), check.get("context"))
    return out


class DecidedEdit(BaseModel):
    """A review a person decided with an edit: the run's input, the value the review held and the
    value the person saved in its place (what a reader may learn from as a labelled example)."""

    model_config = ConfigDict(frozen=True)

    review_id: str
    run_id: str
    decided_at: dt.datetime
    who: str
    input: Any = None
    held: Any = None
    output: Any = None


def decided_edits(store: SqlStore, *, workflow: str, node: str) -> list[DecidedEdit]:
    """Every edit people saved on reviews of ``node`` in ``workflow``, oldest first. Approvals
    and rejections are not edits: a person who approved did not write the value."""
    d, r, runs = t.decisions, t.reviews, t.runs
    query = (
        select(r.c.id, r.c.run_id, d.c.at, d.c.who, runs.c.input, r.c.output, d.c.output)
        .join(r, r.c.id == d.c.review_id)
        .join(runs, runs.c.id == r.c.run_id)
        .where(r.c.workflow == workflow, r.c.node == node, d.c.action == "edit")
        .order_by(d.c.at, d.c.id)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()

    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    return [
        DecidedEdit(
            review_id=row[0],
            run_id=row[1],
            decided_at=_row_time(row[2]) or row[2],
            who=row[3],
            input=_json(row[4]),
            held=_json(row[5]),
            output=_json(row[6]),
        )
        for row in rows
    ]


class DecidedReview(BaseModel):
    """A decided review with what its step gave the rules (its check JSON) and the person's
    decision: the unit of precedents (``nesyflow reviews precedents``) and proposals."""

    model_config = ConfigDict(frozen=True)

    review_id: str
    run_id: str
    step_id: str | None
    workflow: str
    node: str
    verdict: str
    created_at: dt.datetime
    decided_at: dt.datetime
    action: str
    decided_by: str | None = None
    comment: str | None = None
    inputs: Any = None  # the step's inputs
    check: dict[str, Any] = {}  # the step's check JSON (subject, context, results with findings)


def decided_reviews(
    store: SqlStore,
    *,
    after: dt.datetime | None = None,
    workflow: str | None = None,
    batch: int = 1000,
) -> Iterator[DecidedReview]:
    """Decided reviews in the order they were decided (``after``: only those decided later than
    that instant, so an index can take in just the new ones), each with its step's check."""
    r, s, d = t.reviews, t.steps, t.decisions
    query = (
        select(
            r.c.id,
            r.c.run_id,
            r.c.step_id,
            r.c.workflow,
            r.c.node,
            r.c.verdict,
            r.c.created_at,
            r.c.decided_at,
            r.c.action,
            r.c.decided_by,
            d.c.comment,
            s.c.inputs,
            s.c.check,
        )
        .outerjoin(s, s.c.id == r.c.step_id)
        .outerjoin(d, d.c.review_id == r.c.id)
        .where(r.c.status == "decided", r.c.decided_at.is_not(None), r.c.action.is_not(None))
        .order_by(r.c.decided_at, r.c.id)
    )
    if after is not None:
        query = query.where(r.c.decided_at > after)
    if workflow:
        query = query.where(r.c.workflow == workflow)
    with store.read() as conn:
        for row in conn.execution_options(yield_per=batch).execute(query):
            check = row[12]
            if isinstance(check, str):
                check = json.loads(check)
            inputs = row[11]
            if isinstance(inputs, str):
                inputs = json.loads(inputs)
            yield DecidedReview(
                review_id=row[0],
                run_id=row[1],
                step_id=row[2],
                workflow=row[3],
                node=row[4],
                verdict=row[5],
                created_at=_row_time(row[6]) or row[6],
                decided_at=_row_time(row[7]) or row[7],
                action=row[8],
                decided_by=row[9],
                comment=row[10],
                inputs=inputs,
                check=check if isinstance(check, dict) else {},
            )


class PackIdentityCount(BaseModel):
    """A pack identity (name, version, content hash) and how many recent checked steps it made."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    hash: str
    steps: int


def pack_identities(store: SqlStore, name: str, *, last: int = 500) -> list[PackIdentityCount]:
    """The identities of the pack ``name`` that checked the newest ``last`` steps it checked, most
    used first: what "production" runs, for comparing a pack folder against it."""
    s = t.steps
    query = (
        select(s.c.packs)
        .where(
            s.c.verdict.is_not(None),
            s.c.kind.not_in(_UNCHECKED_KINDS),
            _names_pack(s.c.packs, name),
        )
        .order_by(s.c.created_at.desc())
        .limit(max(1, last))
    )
    counts: dict[tuple[str, str, str], int] = {}
    with store.read() as conn:
        for (packs,) in conn.execute(query):
            if isinstance(packs, str):
                packs = json.loads(packs)
            for p in packs or ():
                if isinstance(p, dict) and p.get("name") == name:
                    key = (name, str(p.get("version", "?")), str(p.get("hash", "")))
                    counts[key] = counts.get(key, 0) + 1
    return [
        PackIdentityCount(name=n, version=v, hash=h, steps=c)
        for (n, v, h), c in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
