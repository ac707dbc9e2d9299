"""Who should decide a review, and moving it to someone else with the reason recorded.

A review opened by a node with ``review: {group: finance}`` is the group's; a reassignment gives
it to a person (or a group), recorded in ``review_events`` with who did it and why. "Assigned to
me" is, for an account: reviews given to them by name, then their groups' reviews, then reviews
nobody was named for that their roles cover — never a run they submitted — overdue first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, or_, select, update

from nesyflow.logic.result import Reason
from nesyflow.review.duties import same_person
from nesyflow.roles import Role, covers
from nesyflow.store import ReviewRecord, ReviewStatus, SqlStore, StoreError
from nesyflow.store import tables as t
from nesyflow.store.accounts import Accounts
from nesyflow.store.records import User
from nesyflow.store.sql import now

__all__ = ["GROUP", "ReassignRefused", "assigned_to_me", "events", "reassign", "record_event"]

GROUP = "group:"  # ``--to group:finance`` names a group, anything else an account


class ReassignRefused(StoreError):
    """The reassignment cannot be made as asked; nothing was written."""

    code = "reassign_refused"


def record_event(conn: Any, review_id: str, kind: str, who: str, detail: dict[str, Any]) -> None:
    conn.execute(
        insert(t.review_events).values(
            review_id=review_id, at=now(), kind=kind, who=who, detail=detail
        )
    )


def events(store: SqlStore, review_id: str) -> list[dict[str, Any]]:
    """What happened to a review besides its decision, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            select(t.review_events)
            .where(t.review_events.c.review_id == review_id)
            .order_by(t.review_events.c.id)
        ).all()
    return [{"at": r.at, "kind": r.kind, "who": r.who, **(r.detail or {})} for r in rows]


def reassign(store: SqlStore, review_id: str, to: str, reason: str, who: str) -> ReviewRecord:
    """Give an open review to ``to`` (an account, or ``group:NAME``) because of ``reason``.

    With accounts, ``who`` must be an admin or someone who may decide the review, and a person it
    goes to must hold its role and not have submitted its run."""
    reason = (reason or "").strip()
    if not reason:
        raise ReassignRefused("a reassignment says why: give a reason")
    target = (to or "").strip()
    if not target or target == GROUP:
        raise ReassignRefused("say who it goes to: an account name or group:NAME")
    review = store.get_review(review_id)
    if review.status is not ReviewStatus.OPEN:
        raise ReassignRefused(f"review {review_id} is already decided")
    accounts = Accounts(store)
    group = target[len(GROUP) :].strip() if target.startswith(GROUP) else None
    if accounts.any():
        actor = accounts.get(who)
        if actor is None:
            raise ReassignRefused(f"{who!r} has no account in this store")
        if Role.ADMIN.value not in actor.roles and not covers(actor.roles, review.required_role):
            raise ReassignRefused(
                f"{actor.name} may not decide review {review_id}, so may not reassign it"
            )
        if group is None:
            person = accounts.get(target)
            if person is None:
                raise ReassignRefused(f"no account named {target!r}")
            problem = _cannot_decide(store, review, person)
            if problem is not None:
                raise ReassignRefused(f"{person.name} cannot decide it: {problem.message}")
            target = person.name
    before = review.assigned_to or (GROUP + review.assigned_group if review.assigned_group else "")
    with store.write() as conn:
        done = conn.execute(
            update(t.reviews)
            .where(t.reviews.c.id == review_id, t.reviews.c.status == ReviewStatus.OPEN.value)
            .values(
                assigned_to=None if group is not None else target,
                assigned_group=group if group is not None else review.assigned_group,
            )
        )
        if done.rowcount != 1:
            raise ReassignRefused(f"review {review_id} was decided meanwhile")
        record_event(
            conn,
            review_id,
            "reassigned",
            who,
            {"from": before or None, "to": GROUP + group if group else target, "reason": reason},
        )
    return store.get_review(review_id)


def _cannot_decide(store: SqlStore, review: ReviewRecord, user: User) -> Reason | None:
    from nesyflow.review.duties import refusal

    return refusal(store, review, user.name, assignment=False)


def assigned_to_me(
    store: SqlStore, user: User, *, at: dt.datetime | None = None, limit: int = 200
) -> list[ReviewRecord]:
    """The open reviews ``user`` should decide, overdue first, then by deadline, then oldest."""
    at = at or now()
    r = t.reviews
    covered = [role.value for role in Role if covers(user.roles, role)]
    mine = or_(
        r.c.assigned_to == user.name,
        (r.c.assigned_to.is_(None) & r.c.assigned_group.in_(list(user.groups) or [""])),
        (
            r.c.assigned_to.is_(None)
            & r.c.assigned_group.is_(None)
            & or_(r.c.required_role.is_(None), r.c.required_role.in_(covered))
        ),
    )
    with store.read() as conn:
        rows = conn.execute(
            select(r, t.runs.c.submitted_by.label("run_submitted_by"))
            .join(t.runs, t.runs.c.id == r.c.run_id)
            .where(r.c.status == ReviewStatus.OPEN.value, mine)
            .order_by(r.c.due_at.is_(None), r.c.due_at, r.c.created_at, r.c.id)
            .limit(limit)
        ).all()
    out = []
    for row in rows:
        data = dict(row._mapping)
        submitters = data.pop("run_submitted_by") or ()
        if any(same_person(s, user.name) for s in submitters):
            continue
        for key in ("created_at", "decided_at", "due_at"):
            if data.get(key) is not None and data[key].tzinfo is None:
                data[key] = data[key].replace(tzinfo=dt.UTC)
        out.append(ReviewRecord.model_validate(data))
    out.sort(key=lambda rv: not rv.overdue(at))  # stable: overdue first, order kept within
    return out
