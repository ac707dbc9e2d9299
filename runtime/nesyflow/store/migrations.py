"""Schema versions: an ordered list of migration functions and a ``schema_version`` table.

Why not Alembic: the store ships inside a library that opens its own database file on first use, on
SQLite and PostgreSQL alike, with no migration scripts folder or extra tool for a user to run. This
is what LangGraph's SQLite and PostgreSQL checkpointers do (an ordered ``MIGRATIONS`` list, the index
is the version, applied at set-up). Each migration runs in the same transaction as the version row
that records it, under a write lock, so two processes opening a new database at once apply it once.
When a table changes, add a function here; never edit an applied one (v1 creates the first tables and
must keep their first shape — copy the old definitions in when ``tables.py`` moves on).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from sqlalchemy import Connection, bindparam, func, insert, inspect, select, update

from nesyflow.store import tables as t
from nesyflow.store.replay_keys import replay_columns

__all__ = ["MIGRATIONS", "current_version", "migrate"]


def _v1_initial(conn: Connection) -> None:
    first = [t.runs, t.steps, t.reviews, t.decisions, t.effects, t.findings]
    t.metadata.create_all(conn, tables=first, checkfirst=True)


def _v2_steps_created_index(conn: Connection) -> None:
    index = next(i for i in t.steps.indexes if i.name == "ix_steps_created")
    index.create(conn, checkfirst=True)


def _v3_leases_requests_tool_records(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.leases, t.requests, t.tool_records], checkfirst=True)


def _v4_decision_overrides(conn: Connection) -> None:
    # v1 creates ``decisions`` from today's definition (which has the column); a store made by an
    # older nesyflow lacks it and gets it here.
    if "overrides" not in {c["name"] for c in inspect(conn).get_columns("decisions")}:
        conn.exec_driver_sql("ALTER TABLE decisions ADD COLUMN overrides JSON")


def _v5_audit_log(conn: Connection) -> None:
    # The decision log starts here; decisions made before it are entered first, in the order they
    # were made, marked ``backfilled`` (the chain proves nothing about them before today).
    from nesyflow.store.audit import log_every_decision

    t.metadata.create_all(conn, tables=[t.audit_log], checkfirst=True)
    log_every_decision(conn, backfilled=True)


def _v6_reviews_decided_index(conn: Connection) -> None:
    index = next(i for i in t.reviews.indexes if i.name == "ix_reviews_status_decided")
    index.create(conn, checkfirst=True)


def _v7_retention_log(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.retention_log], checkfirst=True)


def _v8_accounts(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.users, t.user_tokens, t.sign_ins], checkfirst=True)
    for table, column, kind in (
        ("runs", "submitted_by", "JSON"),
        ("reviews", "required_role", "VARCHAR(20)"),
    ):
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _v9_assignment(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.review_events], checkfirst=True)
    have = {c["name"] for c in inspect(conn).get_columns("reviews")}
    for column, kind in (
        ("assigned_group", "VARCHAR(200)"),
        ("assigned_to", "VARCHAR(200)"),
        ("due_at", "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"),
        ("on_expiry", "JSON"),
    ):
        if column not in have:
            conn.exec_driver_sql(f"ALTER TABLE reviews ADD COLUMN {column} {kind}")
    if "groups" not in {c["name"] for c in inspect(conn).get_columns("users")}:
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN groups JSON")
    index = next(i for i in t.reviews.indexes if i.name == "ix_reviews_status_due")
    index.create(conn, checkfirst=True)


def _v10_run_nodes(conn: Connection) -> None:
    # Runs stored before this keep their whole state in ``runs.state``; the store reads such a
    # state as it is, and the engine moves its per-node part here on the run's next checkpoint.
    t.metadata.create_all(conn, tables=[t.run_nodes], checkfirst=True)


def _v11_replay_keys(conn: Connection) -> None:
    # v1 creates ``steps`` from today's definition (which has the columns); an older store gets
    # them here, filled in from each step's check so a replay never needs the slow path for it.
    have = {c["name"] for c in inspect(conn).get_columns("steps")}
    for column, kind in (("input_hash", "VARCHAR(64)"), ("outcomes", "TEXT")):
        if column not in have:
            conn.exec_driver_sql(f"ALTER TABLE steps ADD COLUMN {column} {kind}")
    fill_replay_columns(conn)


def fill_replay_columns(conn: Connection, batch: int = 2000) -> int:
    """Compute ``input_hash`` and ``outcomes`` for every step that lacks them; returns how many
    steps were filled in."""
    s = t.steps
    todo = select(s.c.id, s.c.check).where(s.c.input_hash.is_(None))
    fill = (
        update(s)
        .where(s.c.id == bindparam("p_id"))
        .values(input_hash=bindparam("p_hash"), outcomes=bindparam("p_outcomes"))
    )
    done = 0
    while rows := conn.execute(todo.limit(batch)).all():
        params = []
        for step_id, check in rows:
            if isinstance(check, str):
                check = json.loads(check)
            keys = replay_columns(check)
            params.append(
                {"p_id": step_id, "p_hash": keys["input_hash"], "p_outcomes": keys["outcomes"]}
            )
        conn.execute(fill, params)
        done += len(params)
    return done


Migration = tuple[str, Callable[[Connection], None]]

MIGRATIONS: list[Migration] = [
    ("runs, steps, reviews, decisions, effects, findings", _v1_initial),
    ("index steps by creation time (the console's verdict trend)", _v2_steps_created_index),
    (
        "leases (one driver per run), requests (one run per request id), tool records",
        _v3_leases_requests_tool_records,
    ),
    (
        "decisions.overrides (values a person set in place of the rules' derived ones)",
        _v4_decision_overrides,
    ),
    ("audit_log (the decision log, a hash chain)", _v5_audit_log),
    (
        "index reviews by decision time (precedents take in only the newly decided)",
        _v6_reviews_decided_index,
    ),
    ("retention_log (what nesyflow retention apply removed and kept)", _v7_retention_log),
    (
        "accounts: users, user_tokens, sign_ins; runs.submitted_by, reviews.required_role",
        _v8_accounts,
    ),
    (
        "review assignment and deadlines: reviews.assigned_group/assigned_to/due_at/on_expiry, "
        "review_events, users.groups",
        _v9_assignment,
    ),
    (
        "run_nodes (checkpoints write what a step changed, not the whole state)",
        _v10_run_nodes,
    ),
    (
        "steps.input_hash/outcomes (what a what-if replay groups checks by), filled in",
        _v11_replay_keys,
    ),
]


def current_version(conn: Connection) -> int:
    """The highest applied version, 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(func.max(t.schema_version.c.version))).scalar() or 0


def migrate(conn: Connection) -> int:
    """Apply every migration not yet applied, in order, inside the caller's write transaction.

    Returns the version the database is at. A database newer than this code is refused rather than
    written to with the wrong shape.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
    t.schema_version.create(conn, checkfirst=True)
    version = current_version(conn)
    if version > len(MIGRATIONS):
        from nesyflow.store.base import StoreError

        raise StoreError(
            f"the database is at schema version {version}, newer than this nesyflow "
            f"(knows {len(MIGRATIONS)}); upgrade nesyflow"
        )
    for number, (description, apply) in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        apply(conn)
        conn.execute(
            insert(t.schema_version).values(
                version=number, description=description, applied_at=dt.datetime.now(dt.UTC)
            )
        )
        version = number
    return version
