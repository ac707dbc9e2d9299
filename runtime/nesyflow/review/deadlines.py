"""Deadlines that passed: escalate the review, or record the default decision as the deadline's.

:func:`tick` handles every open review whose ``due_at`` has passed and that still has an
``on_expiry`` — however long ago it passed and whether or not any process ran meanwhile (the
deadline is in the store, not in a timer), which is what ``nesyflow tick`` runs. Each review is
handled once: the store's conditional update clears ``on_expiry`` in the same transaction that
records the event, so two ticks at once escalate it once. A default decision is recorded with
``who = "deadline"`` and a comment saying so; a default *approval* over a verdict that overrides
the rules (fail, deny, unknown) is never applied — nobody looked — and the review stays open,
overdue, with the event that says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import null, select, update

from nesyflow.engine import Services
from nesyflow.engine import resume as resume_run
from nesyflow.logic.result import OVERRIDES
from nesyflow.review.assign import record_event
from nesyflow.store import (
    Action,
    AlreadyDecided,
    DecisionDraft,
    ReviewRecord,
    ReviewStatus,
    SqlStore,
)
from nesyflow.store import tables as t
from nesyflow.store.sql import now

__all__ = ["DEADLINE", "Expired", "tick"]

DEADLINE = "deadline"  # who a default decision is recorded as


@dataclass(frozen=True)
class Expired:
    """What one passed deadline did: ``escalated`` (to ``detail``), ``defaulted`` (the action),
    or ``held`` (a default that could not be applied; ``detail`` says why)."""

    review_id: str
    run_id: str
    outcome: str
    detail: str
    run_status: str | None = None


def _due(store: SqlStore, at: dt.datetime) -> list[ReviewRecord]:
    r = t.reviews
    with store.read() as conn:
        rows = conn.execute(
            select(r)
            .where(
                r.c.status == ReviewStatus.OPEN.value,
                r.c.due_at.is_not(None),
                r.c.due_at <= at,
                r.c.on_expiry.is_not(None),
            )
            .order_by(r.c.due_at, r.c.id)
        ).all()
    out = []
    for row in rows:
        data = dict(row._mapping)
        for key in ("created_at", "decided_at", "due_at"):
            if data.get(key) is not None and data[key].tzinfo is None:
                data[key] = data[key].replace(tzinfo=dt.UTC)
        if data.get("on_expiry"):  # a JSON null reads back as None
            out.append(ReviewRecord.model_validate(data))
    return out


def _claim(store: SqlStore, review: ReviewRecord, kind: str, detail: dict, **values) -> bool:
    """Clear the review's ``on_expiry`` (and set ``values``) and record the event, once."""
    r = t.reviews
    with store.write() as conn:
        done = conn.execute(
            update(r)
            .where(
                r.c.id == review.id,
                r.c.status == ReviewStatus.OPEN.value,
                r.c.on_expiry.is_not(None),
            )
            .values(on_expiry=null(), **values)  # SQL NULL (None would write JSON null)
        )
        if done.rowcount != 1:
            return False
        record_event(conn, review.id, kind, DEADLINE, detail)
    return True


def tick(
    store: SqlStore, *, at: dt.datetime | None = None, services: Services | None = None
) -> list[Expired]:
    """Handle every deadline that has passed by ``at`` (now); returns what was done."""
    at = at or now()
    done: list[Expired] = []
    for review in _due(store, at):
        rule = review.on_expiry or {}
        due = f"{review.due_at:%Y-%m-%d %H:%M} UTC"
        if "escalate_to" in rule:
            role = rule["escalate_to"]
            detail = {"due_at": due, "from_role": review.required_role, "to_role": role}
            if _claim(store, review, "escalated", detail, required_role=role):
                done.append(Expired(review.id, review.run_id, "escalated", role))
            continue
        action = Action(rule.get("default", "reject"))
        why = None
        if action is Action.APPROVE and review.verdict in OVERRIDES:
            why = (
                f"a default approval would override a '{review.verdict.value}' verdict with "
                "nobody looking: left open for a person"
            )
        elif action is Action.APPROVE and review.output is None and review.kind != "provider":
            why = "the review holds no output to approve: left open for a person"
        if why is not None:
            if _claim(
                store, review, "default_held", {"due_at": due, "action": action.value, "why": why}
            ):
                done.append(Expired(review.id, review.run_id, "held", why))
            continue
        if not _claim(store, review, "defaulted", {"due_at": due, "action": action.value}):
            continue
        comment = f"default decision: the deadline ({due}) passed with no decision"
        try:
            store.decide(review.id, DecisionDraft(action=action, who=DEADLINE, comment=comment))
        except AlreadyDecided:  # a person decided in the same moment: theirs stands
            continue
        result = resume_run(review.run_id, store=store, services=services)
        done.append(
            Expired(review.id, review.run_id, "defaulted", action.value, result.status.value)
        )
    return done
