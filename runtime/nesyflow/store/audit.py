"""The decision log: every decision and every change a person makes to a run, in a hash chain.

Each entry's ``hash`` is SHA-256 over its body (the canonical JSON of what it records, its own
number included) and the previous entry's hash, so changing, removing, reordering or inserting an
entry breaks the chain at that entry (:mod:`nesyflow.store.audit_verify` says where). An entry is
appended in the same transaction as what it records (a decision and its entry commit together or
not at all), and appends are serialised — ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped
advisory lock on PostgreSQL — so two processes deciding at once never fork the chain.

What a chain cannot prove alone: someone who rewrites an entry *and recomputes every hash after
it* leaves a consistent chain. Keep the head (``nesyflow audit verify`` prints it) somewhere the
database's writers cannot change, and pass it back with ``--head N:HASH``; the decision rows are
compared with their entries too, so a decision changed in one place only shows either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, insert, select

from nesyflow.store import tables as t

__all__ = [
    "GENESIS",
    "AuditEntry",
    "append_entry",
    "canonical",
    "chain_hash",
    "decision_body",
    "entry_of",
    "log_every_decision",
    "stamp_text",
]

GENESIS = "0" * 64  # the "previous hash" of entry 1
_PG_LOCK = 727002  # pg_advisory_xact_lock key of the chain (727001 is the migrations')


class AuditEntry(BaseModel):
    """One entry of the log as stored. ``data`` is what it records (for a decision: the decision
    row as it was written)."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: dt.datetime
    kind: str
    who: str
    run_id: str | None = None
    review_id: str | None = None
    ref: str | None = None
    data: dict[str, Any]
    prev_hash: str
    hash: str


def canonical(value: Any) -> str:
    """The one text of a JSON value that is hashed: keys sorted, no spaces, ASCII only (no
    Unicode normalisation question), no NaN. Raises ``ValueError`` on a value JSON cannot hold."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def chain_hash(body: str, prev_hash: str) -> str:
    """SHA-256 of the entry's canonical body and the previous entry's hash."""
    return hashlib.sha256(body.encode("ascii") + b"\n" + prev_hash.encode("ascii")).hexdigest()


def stamp_text(value: dt.datetime) -> str:
    """A time as the log writes it (UTC, microseconds): SQLite keeps no zone, so a naive value
    read back is UTC, which is all the store writes."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def decision_body(row: dict[str, Any]) -> dict[str, Any]:
    """What a decision entry records of a ``decisions`` row: every column, the time as text.
    The verifier builds the same value from the row as it is now and compares."""
    return {
        "id": row["id"],
        "review_id": row["review_id"],
        "action": str(row["action"]),
        "who": row["who"],
        "at": stamp_text(row["at"]),
        "comment": row.get("comment"),
        "output": row.get("output"),
        "check": row.get("check"),
        "overrides": row.get("overrides"),
    }


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(t.audit_log.c.seq, t.audit_log.c.hash).order_by(t.audit_log.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row.seq, row.hash)


def append_entry(
    conn: Connection,
    *,
    kind: str,
    who: str,
    data: dict[str, Any],
    at: dt.datetime,
    run_id: str | None = None,
    review_id: str | None = None,
    ref: str | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's write transaction (it commits with it).

    Takes the chain's lock first: on PostgreSQL a transaction-scoped advisory lock (held until
    commit, so the next appender reads this entry as the head); SQLite's ``BEGIN IMMEDIATE``
    already holds the database's one write lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
    last, prev = _head(conn)
    seq = last + 1
    fields = {
        "seq": seq,
        "at": stamp_text(at),
        "kind": kind,
        "who": who,
        "run_id": run_id,
        "review_id": review_id,
        "ref": ref,
        "data": data,
    }
    body = canonical(fields)
    digest = chain_hash(body, prev)
    conn.execute(
        insert(t.audit_log).values(
            seq=seq,
            at=at,
            kind=kind,
            who=who,
            run_id=run_id,
            review_id=review_id,
            ref=ref,
            body=body,
            prev_hash=prev,
            hash=digest,
        )
    )
    return AuditEntry(
        seq=seq,
        at=at,
        kind=kind,
        who=who,
        run_id=run_id,
        review_id=review_id,
        ref=ref,
        data=data,
        prev_hash=prev,
        hash=digest,
    )


def log_every_decision(conn: Connection, *, backfilled: bool) -> int:
    """Enter every decision row in the log, in the order they were made; returns how many.

    For a store whose decisions have no entries yet: migration v5 (decisions made before the log
    existed, marked ``backfilled`` — the chain proves nothing about them before that day) and the
    benchmark's seeder (which writes decisions directly, then logs them as the product would)."""
    rows = conn.execute(
        select(t.decisions, t.reviews.c.run_id)
        .join(t.reviews, t.reviews.c.id == t.decisions.c.review_id)
        .order_by(t.decisions.c.at, t.decisions.c.id)
    ).all()
    for row in rows:
        values = dict(row._mapping)
        at = values["at"] if values["at"].tzinfo else values["at"].replace(tzinfo=dt.UTC)
        body = decision_body(values)
        append_entry(
            conn,
            kind="decision",
            who=values["who"],
            data={**body, "backfilled": True} if backfilled else body,
            at=at,
            run_id=values["run_id"],
            review_id=values["review_id"],
            ref=values["id"],
        )
    return len(rows)


def entry_of(row: Any) -> AuditEntry:
    """A stored row as an entry (``data`` parsed from the body; an unreadable body gives {})."""
    try:
        data = json.loads(row.body).get("data") or {}
    except (ValueError, AttributeError):
        data = {}
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    return AuditEntry(
        seq=row.seq,
        at=at,
        kind=row.kind,
        who=row.who,
        run_id=row.run_id,
        review_id=row.review_id,
        ref=row.ref,
        data=data if isinstance(data, dict) else {},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
