"""Read queries for the console and the CLI, kept in one place so their indexes stay in one view.

Every function takes a :class:`SqlStore` and returns typed records or small typed rows; pages are
1-based. Filters that are ``None`` are not applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Text, cast, func, or_, select

from nesyflow.store import tables as t
from nesyflow.store.records import Page, ReviewRecord, Run, RunStatus, Step
from nesyflow.store.sql import SqlStore, _row

__all__ = [
    "RuleCount",
    "StatusCounts",
    "list_runs",
    "review_queue",
    "rule_firing_counts",
    "run_steps",
    "status_counts",
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
) -> Page[ReviewRecord]:
    """The review queue: open reviews oldest first by default (the longest-waiting person first).

    ``rule`` keeps reviews whose step fired that rule; ``search`` matches the id, node or reasons.
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
    if rule:
        where.append(r.c.step_id.in_(select(t.findings.c.step_id).where(t.findings.c.rule == rule)))
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
