"""Verify the decision log: the chain, each entry's columns, and the decisions it speaks of.

Every problem names the entry (its number) and what differs, so a person can find the row that was
touched: an entry whose body no longer matches its hash (altered), one that does not follow the
entry before it (removed, inserted or reordered), a gap in the numbers (removed), a column that
says something else than the hashed body, a decision row (or its review) that no longer matches
its entry, a decision with no entry at all, and a head noted earlier that is no longer in the log.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, inspect, select

from nesyflow.store import tables as t
from nesyflow.store.audit import GENESIS, canonical, chain_hash, decision_body, stamp_text

__all__ = ["AuditProblem", "AuditReport", "verify_log"]

# Columns of an entry that repeat what its hashed body says (for queries); they must agree.
_REPEATED = ("kind", "who", "run_id", "review_id", "ref")


class AuditProblem(BaseModel):
    """One thing that is wrong: the entry it is found at (``None`` for a decision with no entry),
    a stable ``code`` and a sentence."""

    model_config = ConfigDict(frozen=True)

    entry: int | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.entry}" if self.entry is not None else "log"
        return f"{where}: {self.code}: {self.message}"


class AuditReport(BaseModel):
    """The outcome of a verification: how many entries, the head to note down, what is wrong."""

    model_config = ConfigDict(frozen=True)

    entries: int
    head_seq: int
    head_hash: str
    decisions: int
    problems: list[AuditProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head(self) -> str:
        """``N:HASH`` — what ``--head`` takes back later."""
        return f"{self.head_seq}:{self.head_hash}"


def _short(value: Any, limit: int = 80) -> str:
    text = canonical(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _differences(logged: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(logged) | set(now)):
        a, b = logged.get(key), now.get(key)
        if canonical(a) != canonical(b):
            out.append(f"{key}: log {_short(a)}, table {_short(b)}")
    return out


def _chain(rows: list[Any], problems: list[AuditProblem]) -> dict[str, tuple[int, dict[str, Any]]]:
    """Walk the entries in order; returns decision entries by decision id (entry number, data)."""
    expected_seq, expected_prev = 1, GENESIS
    decisions: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in rows:
        seq = row.seq
        if seq > expected_seq:
            gone = (
                f"entry {expected_seq} is"
                if seq == expected_seq + 1
                else f"entries {expected_seq}–{seq - 1} are"
            )
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="missing",
                    message=f"{gone} missing: entry {seq} follows entry {expected_seq - 1}",
                )
            )
        elif row.prev_hash != expected_prev:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="broken_link",
                    message=(
                        f"does not follow entry {seq - 1}: it names {row.prev_hash[:16]}… as the "
                        f"previous hash, entry {seq - 1} has {expected_prev[:16]}… (an entry "
                        "was inserted, removed or moved here)"
                    ),
                )
            )
        computed = chain_hash(row.body, row.prev_hash) if row.body.isascii() else ""
        if computed != row.hash:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="altered",
                    message=(
                        f"its content does not match its hash (stored {row.hash[:16]}…, "
                        f"computed {computed[:16] or 'none'}…)"
                    ),
                )
            )
        try:
            body = json.loads(row.body)
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            problems.append(AuditProblem(entry=seq, code="unreadable", message="body is not JSON"))
            body = {}
        if body and body.get("seq") != seq:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="moved",
                    message=(
                        f"its hashed body says it is entry {body.get('seq')}: entries were "
                        "reordered or renumbered"
                    ),
                )
            )
        for column in _REPEATED:
            if body and body.get(column) != getattr(row, column):
                problems.append(
                    AuditProblem(
                        entry=seq,
                        code="column_changed",
                        message=(
                            f"column {column} is {getattr(row, column)!r}, its hashed body says "
                            f"{body.get(column)!r}"
                        ),
                    )
                )
        if body and body.get("at") != stamp_text(row.at):
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="column_changed",
                    message=f"column at is {stamp_text(row.at)}, its hashed body says {body.get('at')}",
                )
            )
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if body.get("kind") == "decision" and body.get("ref"):
            ref = str(body["ref"])
            if ref in decisions:
                problems.append(
                    AuditProblem(
                        entry=seq,
                        code="duplicate",
                        message=f"records decision {ref} again (first at entry {decisions[ref][0]})",
                    )
                )
            else:
                decisions[ref] = (seq, data)
        expected_seq, expected_prev = seq + 1, row.hash
    return decisions


def _decisions(
    conn: Connection,
    logged: dict[str, tuple[int, dict[str, Any]]],
    problems: list[AuditProblem],
) -> int:
    """Compare every decision row (and its review's decided columns) with its entry."""
    rows = {r.id: dict(r._mapping) for r in conn.execute(select(t.decisions)).all()}
    reviews = {
        r.id: r
        for r in conn.execute(
            select(
                t.reviews.c.id,
                t.reviews.c.status,
                t.reviews.c.action,
                t.reviews.c.decided_by,
                t.reviews.c.decided_at,
            ).where(t.reviews.c.status != "open")
        ).all()
    }
    for ref, (seq, data) in logged.items():
        row = rows.get(ref)
        if row is None:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="decision_missing",
                    message=f"decision {ref} is no longer in the decisions table",
                )
            )
            continue
        recorded = {k: v for k, v in data.items() if k != "backfilled"}
        diffs = _differences(recorded, decision_body(row))
        if diffs:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="decision_changed",
                    message=f"decision {ref} differs from its entry: " + "; ".join(diffs),
                )
            )
        review = reviews.get(str(data.get("review_id")))
        if review is None:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="review_changed",
                    message=f"review {data.get('review_id')} is no longer marked decided",
                )
            )
            continue
        now = {
            "action": review.action,
            "who": review.decided_by,
            "at": None if review.decided_at is None else stamp_text(review.decided_at),
        }
        diffs = _differences({k: recorded.get(k) for k in now}, now)
        if diffs:
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="review_changed",
                    message=f"review {review.id}'s decided columns differ from the entry: "
                    + "; ".join(diffs),
                )
            )
    for ref, row in sorted(rows.items()):
        if ref not in logged:
            problems.append(
                AuditProblem(
                    entry=None,
                    code="decision_unlogged",
                    message=(
                        f"decision {ref} ({row['action']} of review {row['review_id']} by "
                        f"{row['who']}) has no entry in the log: it was written behind the "
                        "store's back"
                    ),
                )
            )
    return len(rows)


def verify_log(conn: Connection, *, head: tuple[int, str] | None = None) -> AuditReport:
    """Check the whole log in one read transaction. ``head`` = (entry number, hash) noted down
    earlier: that entry must still be in the log with that hash (a rewritten chain is not)."""
    problems: list[AuditProblem] = []
    if not inspect(conn).has_table("audit_log"):  # migrated once, so someone dropped it
        problems.append(
            AuditProblem(entry=None, code="log_missing", message="the audit_log table is gone")
        )
        return AuditReport(entries=0, head_seq=0, head_hash=GENESIS, decisions=0, problems=problems)
    rows = conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).all()
    logged = _chain(rows, problems)
    count = _decisions(conn, logged, problems)
    if head is not None:
        seq, digest = head
        found = next((r for r in rows if r.seq == seq), None)
        if found is None or found.hash != digest.lower():
            now = "gone" if found is None else f"{found.hash[:16]}…"
            problems.append(
                AuditProblem(
                    entry=seq,
                    code="head_mismatch",
                    message=(
                        f"the head noted earlier ({digest[:16]}…) is not in the log (entry "
                        f"{seq} is {now}): the chain was rewritten or cut from there"
                    ),
                )
            )
    last = rows[-1] if rows else None
    problems.sort(key=lambda p: (p.entry is None, p.entry or 0))
    return AuditReport(
        entries=len(rows),
        head_seq=last.seq if last else 0,
        head_hash=last.hash if last else GENESIS,
        decisions=count,
        problems=problems,
    )
