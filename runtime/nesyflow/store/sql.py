"""The SQL store: SQLite (a file in WAL mode, or memory) by default, PostgreSQL by URL.

SQLite details that matter for durability and for "exactly one decision wins": every write
transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so two writers queue
on ``busy_timeout`` instead of one failing on lock upgrade), reads use a deferred ``BEGIN`` (WAL lets
them run beside a writer), and ``synchronous=NORMAL`` in WAL mode survives a killed process (a power
cut may lose the last commits, never corrupt the file).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from nesyflow.store import tables as t
from nesyflow.store._faults import crash_point
from nesyflow.store.audit import AuditEntry, append_entry, decision_body, entry_of
from nesyflow.store.audit_verify import AuditReport, verify_log
from nesyflow.store.base import (
    AlreadyDecided,
    Checkpoint,
    Conflict,
    DuplicateRequest,
    LeaseHeld,
    NotFound,
    Store,
    StoreError,
)
from nesyflow.store.ids import new_id
from nesyflow.store.leases import holder_has_ended, lease_seconds, renewal_slack
from nesyflow.store.migrations import migrate
from nesyflow.store.records import (
    Decision,
    DecisionDraft,
    Effect,
    Lease,
    NodeState,
    ReviewDraft,
    ReviewRecord,
    ReviewStatus,
    Run,
    RunStatus,
    Step,
    StepDraft,
    ToolRecord,
    with_nodes,
)
from nesyflow.store.replay_keys import replay_columns
from nesyflow.store.sqlite_write import SqliteWrites

__all__ = ["DEFAULT_URL", "SqlStore", "default_url", "open_store"]

DEFAULT_URL = "sqlite:///./.nesyflow/store.db"


def default_url() -> str:
    """``$NESYFLOW_DB`` if set, else a SQLite file under ``./.nesyflow/``."""
    return os.environ.get("NESYFLOW_DB") or DEFAULT_URL


def open_store(url: str | None = None) -> SqlStore:
    """Open (and create or migrate) the store at ``url`` (a SQLAlchemy URL)."""
    return SqlStore(url or default_url())


POSTGRES_DRIVER = "psycopg"  # psycopg 3, the `postgres` extra


def _server_engine(parsed: Any) -> Engine:
    """A pooled engine for a database server (PostgreSQL). ``postgresql://`` means psycopg 3 (the
    `postgres` extra), not SQLAlchemy's default psycopg2; a missing driver is a sentence naming
    the extra. Pool: ``$NESYFLOW_DB_POOL_SIZE`` connections (default 5) plus as many again under
    load, checked before use (a server restart is not an error) and recycled every 30 minutes."""
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=f"postgresql+{POSTGRES_DRIVER}")
    raw = os.environ.get("NESYFLOW_DB_POOL_SIZE", "5").strip() or "5"
    if not raw.isdigit() or int(raw) < 1:
        raise StoreError(f"NESYFLOW_DB_POOL_SIZE={raw!r} is not a positive whole number")
    size = int(raw)
    try:
        return create_engine(
            parsed,
            pool_size=size,
            max_overflow=size,
            pool_timeout=30,
            pool_recycle=1800,
            pool_pre_ping=True,
        )
    except ModuleNotFoundError as exc:
        if parsed.get_backend_name() != "postgresql":
            hint = "install the driver this URL names"
        elif parsed.drivername == f"postgresql+{POSTGRES_DRIVER}":
            hint = "install it with: pip install 'nesyflow[postgres]' (psycopg 3)"
        else:
            hint = (
                "nesyflow's PostgreSQL driver is psycopg 3: write postgresql://… and "
                "pip install 'nesyflow[postgres]'"
            )
        raise StoreError(
            f"the database driver for {parsed.drivername} is not installed "
            f"({exc.name} is missing); {hint}"
        ) from None
    except Exception as exc:  # an unknown dialect or a URL the dialect refuses
        raise StoreError(f"cannot use the store URL {parsed.drivername}://…: {exc}") from None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; we only ever write UTC
    return value


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key, value in data.items():
        if isinstance(value, dt.datetime):
            data[key] = _utc(value)
    return data


# The checkpoint's statements, built once. Building a statement per call with literal
# ``.values(...)`` makes SQLAlchemy walk every value to make the statement's cache key (about 100 µs a
# statement, most of a step's cost with a mocked model); these carry bound parameters instead, so
# the compiled form is found in the cache at once.
_RUN_COLUMNS = [c for c in t.runs.c if c.key != "state"]
_CHECKPOINT_RUN = (
    update(t.runs)
    .where(t.runs.c.id == bindparam("p_run_id"), t.runs.c.version == bindparam("p_expect"))
    .values(
        version=t.runs.c.version + 1,
        updated_at=bindparam("p_updated_at", type_=t.runs.c.updated_at.type),
        state=bindparam("p_state", type_=t.runs.c.state.type),
        current_node=bindparam("p_current_node", type_=t.runs.c.current_node.type),
        status=bindparam("p_status", type_=t.runs.c.status.type),
        error=bindparam("p_error", type_=t.runs.c.error.type),
    )
    .returning(*_RUN_COLUMNS)
)
_LAST_SEQ = (
    select(t.steps.c.seq)
    .where(t.steps.c.run_id == bindparam("p_run_id"))
    .order_by(t.steps.c.seq.desc())
    .limit(1)
)
_RUN_VERSION = select(t.runs.c.version).where(t.runs.c.id == bindparam("p_run_id"))
_EFFECT_DONE = (
    update(t.effects)
    .where(t.effects.c.key == bindparam("p_key"))
    .values(
        status="done",
        result=bindparam("p_result", type_=t.effects.c.result.type),
        completed_at=bindparam("p_completed_at", type_=t.effects.c.completed_at.type),
    )
)


_NODES_OF_RUN = select(t.run_nodes).where(t.run_nodes.c.run_id == bindparam("p_run_id"))


def _upsert_nodes(dialect: str) -> Any:
    """INSERT … ON CONFLICT (run, node) DO UPDATE: a node's values replace its earlier ones."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(t.run_nodes)
    keep = {c.key: stmt.excluded[c.key] for c in t.run_nodes.c if not c.primary_key}
    return stmt.on_conflict_do_update(index_elements=["run_id", "node"], set_=keep)


def _node_values(run_id: str, version: int, n: NodeState) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "node": n.node,
        "ord": n.ord,
        "visits": n.visits,
        # absent values are SQL NULL; a node's present ``None`` output is JSON null
        "output": null() if n.verdict is None else n.output,
        "derived": null() if n.derived is None else n.derived,
        "verdict": n.verdict,
        "version": version,
    }


def _node_state(row: Any) -> NodeState:
    return NodeState(
        node=row.node,
        ord=row.ord,
        visits=row.visits,
        output=row.output,
        derived=row.derived,
        verdict=row.verdict,
    )


@dataclass(frozen=True, slots=True)
class _Move:
    """One checkpoint's arguments, as both write paths take them."""

    run_id: str
    expect_version: int
    state: dict[str, Any]
    current_node: str | None
    status: str
    error: str | None
    steps: tuple[StepDraft, ...]  # in order; a review belongs to the last
    review: ReviewDraft | None
    effect: tuple[str, Any] | None
    lease: str | None
    nodes: Sequence[NodeState]
    started: float
    stamp: dt.datetime
    release: bool = False  # give the lease up in this checkpoint instead of renewing it


# A move with, once planned for group commit, its step rows as they will be written (else None).
_Planned = tuple[_Move, list[dict[str, Any]] | None]
# What a move wrote: run values (without state), step rows, review row, the run's last step seq.
_Written = tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None, int]


class _NotWritten(Exception):
    """Inside the SQLite write path: the lease is not this holder's (``lease``) or the run is not
    at the expected version; the transaction is rolled back and the usual error raised."""

    def __init__(self, move: _Move, *, lease: bool) -> None:
        super().__init__(move.run_id)
        self.move = move
        self.lease = lease


@dataclass
class _Group:
    """One thread's group commit: the moves not yet written, and per run the values (without
    state) and last step seq as the last write or buffered move left them."""

    moves: list[_Planned] = field(default_factory=list)
    known: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)


def group_commit_size() -> int:
    """``$NESYFLOW_GROUP_COMMIT``: at most this many checkpoints per SQLite write (default 1: every
    checkpoint is its own transaction). See :meth:`SqlStore.checkpoint` for what it risks."""
    raw = os.environ.get("NESYFLOW_GROUP_COMMIT", "1").strip() or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise StoreError(f"NESYFLOW_GROUP_COMMIT={raw!r} is not a positive whole number")
    return int(raw)


def _step_values(m: _Move, step: StepDraft, seq: int) -> dict[str, Any]:
    values = {
        **step.model_dump(mode="json"),
        "id": new_id(),
        "run_id": m.run_id,
        "seq": seq,
        "created_at": m.stamp,
        **replay_columns(step.check),
    }
    # The store's cost up to writing the step row (the row itself and the commit are not in it):
    # measured here so that the row is written once, not written then updated with its own timing.
    values["store_ms"] = (time.perf_counter() - m.started) * 1000
    return values


def _step_rows(m: _Move, last_seq: int) -> list[dict[str, Any]]:
    """The move's step rows, numbered on from the run's last seq."""
    return [_step_values(m, step, last_seq + i) for i, step in enumerate(m.steps, start=1)]


def _finding_values(m: _Move, step: StepDraft, step_id: str, workflow: str) -> list[dict[str, Any]]:
    return [
        {
            "run_id": m.run_id,
            "step_id": step_id,
            "workflow": workflow,
            "node": step.node,
            "pack": str(finding.get("pack", "")),
            "rule": str(finding["rule"]),
            "kind": str(finding.get("kind", "violation")),
            "severity": str(finding.get("severity", "")),
            "created_at": m.stamp,
        }
        for finding in step.findings
    ]


def _review_values(
    m: _Move, step_values: Sequence[dict[str, Any]], workflow: str
) -> dict[str, Any]:
    assert m.review is not None
    seconds = m.review.deadline_seconds  # the node's ``review: deadline`` → due from now
    return {
        **m.review.model_dump(mode="json"),
        "due_at": None if seconds is None else m.stamp + dt.timedelta(seconds=seconds),
        "assigned_to": None,
        "id": m.review.id or new_id(),
        "run_id": m.run_id,
        "step_id": step_values[-1]["id"] if step_values else None,
        "workflow": workflow,
        "status": ReviewStatus.OPEN.value,
        "created_at": m.stamp,
        "decided_at": None,
        "action": None,
        "decided_by": None,
    }


def _duplicate(workflow: str, request_id: str, run_id: str) -> DuplicateRequest:
    return DuplicateRequest(
        f"request {request_id!r} of workflow {workflow!r} was already submitted: run {run_id}",
        details={"run_id": run_id, "request_id": request_id},
    )


def _lease_held(run_id: str, current: Lease | None, *, lost: bool = False) -> LeaseHeld:
    if current is None:
        who, until = "nobody (it was released)", None
    else:
        who, until = current.holder, current.expires_at
    if lost:
        text = f"this process no longer drives run {run_id}: the run's lease is now held by {who}"
    else:
        text = (
            f"run {run_id} is being driven by another process ({who}, lease until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC); resume it once that process has ended or the lease "
            "has expired"
        )
    return LeaseHeld(
        text,
        details={
            "run_id": run_id,
            "holder": who,
            "expires_at": None if until is None else until.isoformat(),
        },
    )


class SqlStore(Store):
    """:class:`Store` over SQLAlchemy Core. Thread-safe; one instance per process is enough."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except Exception as exc:
            raise StoreError(
                f"NESYFLOW_DB / store URL {url!r} is not a database URL: {exc}"
            ) from None
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self.lease_seconds = lease_seconds()
        self.engine = self._make_engine(parsed)
        # SQLite's checkpoints run on the sqlite3 connection (see .sqlite_write); others on Core.
        self._fast = SqliteWrites(self.engine.dialect) if self._sqlite else None
        self._idle: list[Any] = []  # the fast path's sqlite3 connections, kept open
        self._local = threading.local()
        self.group_commit = group_commit_size() if self._sqlite else 1
        # Seconds spent in this store's write transactions, commits included (what a run's
        # steps' ``store_ms`` leaves out: the step row itself and the commit).
        self.write_seconds = 0.0
        try:
            with self.write() as conn:
                self.schema_version = migrate(conn)
        except StoreError:
            raise
        except Exception as exc:
            self.engine.dispose()
            cause = getattr(exc, "orig", None) or exc  # the driver's own sentence, not the SQL
            raise StoreError(
                f"cannot open the store at {parsed.render_as_string(hide_password=True)}: "
                f"{type(cause).__name__}: {cause}"
            ) from None

    # -- connections ------------------------------------------------------------------------
    def _make_engine(self, parsed: Any) -> Engine:
        if not self._sqlite:
            return _server_engine(parsed)
        database = parsed.database
        memory = database in (None, "", ":memory:")
        if not memory:
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store's folder {folder} ({exc.strerror or exc}); "
                    "choose a writable place with --db or NESYFLOW_DB"
                ) from None
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool  # one shared connection: the memory database
        engine = create_engine(parsed, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module doc)
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("nesyflow_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (committed on success, rolled back on any exception). What group
        commit holds for this thread is written first, so every operation sees it."""
        if self.group_commit > 1:
            self._write_group()
        started = time.perf_counter()
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(nesyflow_write=True)
                with conn.begin():
                    yield conn
        finally:
            self.write_seconds += time.perf_counter() - started

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (one consistent snapshot), after writing what group commit holds
        for this thread."""
        if self.group_commit > 1:
            self._write_group()
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.flush()
        while self._idle:
            self._idle.pop().close()
        self.engine.dispose()

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        workflow: str,
        input: Any,
        *,
        workflow_ref: str | None = None,
        run_id: str | None = None,
        state: dict[str, Any] | None = None,
        current_node: str | None = None,
        request_id: str | None = None,
        input_hash: str = "",
        submitted_by: tuple[str, ...] = (),
        lease: str | None = None,
    ) -> Run:
        stamp = now()
        values = {
            "id": run_id or new_id(),
            "workflow": workflow,
            "workflow_ref": workflow_ref,
            "status": RunStatus.RUNNING.value,
            "input": input,
            "state": state or {},
            "current_node": current_node,
            "version": 0,
            "error": None,
            "created_at": stamp,
            "updated_at": stamp,
            "submitted_by": list(submitted_by) or None,
        }
        request = None
        if request_id is not None:
            request = {
                "workflow": workflow,
                "request_id": request_id,
                "run_id": values["id"],
                "input_hash": input_hash,
                "created_at": stamp,
            }
        held = None
        if lease is not None:  # a new run has no lease yet: no one else can hold it
            until = stamp + dt.timedelta(seconds=self.lease_seconds)
            held = {
                "run_id": values["id"],
                "holder": lease,
                "expires_at": until,
                "acquired_at": stamp,
            }
        try:
            if self._fast is None:
                self._insert_run_core(values, request, held)
            else:
                self._insert_run_sqlite(self._fast, values, request, held)
        except IntegrityError:
            # Two processes submitting one request at once (PostgreSQL lets both past the check):
            # the loser finds the winner's run.
            taken = None if request_id is None else self.find_request(workflow, request_id)
            if taken is not None:
                raise _duplicate(workflow, request_id or "", taken[0]) from None
            raise Conflict(f"a run with id {values['id']} already exists") from None
        return Run.model_validate(values)

    def _insert_run_core(
        self,
        values: dict[str, Any],
        request: dict[str, Any] | None,
        held: dict[str, Any] | None,
    ) -> None:
        """The new run's rows through SQLAlchemy Core (PostgreSQL) in one transaction: a request
        already taken is :class:`DuplicateRequest` and nothing is written."""
        with self.write() as conn:
            if request is not None:
                taken = self._request(conn, request["workflow"], request["request_id"])
                if taken is not None:
                    raise _duplicate(request["workflow"], request["request_id"], taken[0])
            conn.execute(insert(t.runs).values(**values))
            if request is not None:
                conn.execute(insert(t.requests).values(**request))
            if held is not None:
                conn.execute(insert(t.leases).values(**held))

    def _insert_run_sqlite(
        self,
        w: SqliteWrites,
        values: dict[str, Any],
        request: dict[str, Any] | None,
        held: dict[str, Any] | None,
    ) -> None:
        """The same rows and checks as :meth:`_insert_run_core`, on the sqlite3 connection: the
        Core statements cost ~0.6 ms of a run's ~1 ms start (each ``insert().values()`` is built
        and its cache key walked per call). Values are encoded by the columns' own processors,
        ``None`` included, so the stored bytes are those Core stored."""
        if self.group_commit > 1:
            self._write_group()  # what this thread's group holds is written first, as write() does
        with self._raw_write() as cur:
            if request is not None:
                cur.execute(w.find_request, (request["workflow"], request["request_id"]))
                taken = cur.fetchone()
                if taken is not None:
                    raise _duplicate(request["workflow"], request["request_id"], taken[0])
            cur.execute(w.run.sql, w.run.row(values))
            if request is not None:
                cur.execute(w.request.sql, w.request.row(request))
            if held is not None:
                cur.execute(w.lease.sql, w.lease.row(held))

    @staticmethod
    def _request(conn: Connection, workflow: str, request_id: str) -> tuple[str, str] | None:
        row = conn.execute(
            select(t.requests.c.run_id, t.requests.c.input_hash).where(
                t.requests.c.workflow == workflow, t.requests.c.request_id == request_id
            )
        ).first()
        return None if row is None else (row.run_id, row.input_hash)

    def find_request(self, workflow: str, request_id: str) -> tuple[str, str] | None:
        with self.read() as conn:
            return self._request(conn, workflow, request_id)

    def find_run(self, run_id: str) -> Run | None:
        """The run with its whole state: the position in ``runs.state`` with every node's values
        from ``run_nodes`` put back (one snapshot: both read in one transaction)."""
        with self.read() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).first()
            if row is None:
                return None
            nodes = conn.execute(_NODES_OF_RUN, {"p_run_id": run_id}).all()
        values = _row(row)
        values["state"] = with_nodes(values["state"] or {}, map(_node_state, nodes))
        return Run.model_validate(values)

    def mark_run(
        self, run_id: str, *, expect_version: int, status: RunStatus, error: str | None = None
    ) -> Run:
        with self.write() as conn:
            self._advance(conn, run_id, expect_version, {"status": status.value, "error": error})
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).one()
        return Run.model_validate(_row(row))

    def _advance(
        self, conn: Connection, run_id: str, expect_version: int, values: dict[str, Any]
    ) -> None:
        result = conn.execute(
            update(t.runs)
            .where(t.runs.c.id == run_id, t.runs.c.version == expect_version)
            .values(version=t.runs.c.version + 1, updated_at=now(), **values)
        )
        if result.rowcount != 1:
            exists = conn.execute(select(t.runs.c.version).where(t.runs.c.id == run_id)).first()
            if exists is None:
                raise NotFound(f"no run {run_id}")
            raise Conflict(
                f"run {run_id} moved on (version {exists[0]}, expected {expect_version}): "
                "another process is running it"
            )

    def checkpoint(
        self,
        run_id: str,
        *,
        expect_version: int,
        state: dict[str, Any],
        current_node: str | None,
        status: RunStatus,
        step: StepDraft | None = None,
        review: ReviewDraft | None = None,
        effect: tuple[str, Any] | None = None,
        error: str | None = None,
        lease: str | None = None,
        nodes: Sequence[NodeState] = (),
        steps: Sequence[StepDraft] = (),
        release: bool = False,
    ) -> Checkpoint:
        move = _Move(
            run_id=run_id,
            expect_version=expect_version,
            state=state,
            current_node=current_node,
            status=status.value,
            error=error,
            steps=(*steps, step) if step is not None else tuple(steps),
            review=review,
            effect=effect,
            lease=lease,
            nodes=nodes,
            started=time.perf_counter(),
            stamp=now(),
            release=release,
        )
        if self._fast is None:
            run_values, step_rows, review_values = self._checkpoint_core(move)
            crash_point("checkpoint:after_commit")
        else:
            buffered = self._buffer(move)
            if buffered is None:
                buffered = self._write_group(move)
                assert buffered is not None
                crash_point("checkpoint:after_commit")
            run_values, step_rows, review_values, _seq = buffered
        written = tuple(Step.model_validate(v) for v in step_rows)
        return Checkpoint(
            run=Run.model_validate({**run_values, "state": state}),
            step=written[-1] if written else None,
            review=None if review_values is None else ReviewRecord.model_validate(review_values),
            steps=written,
        )

    def _checkpoint_core(
        self, m: _Move
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        """The checkpoint through SQLAlchemy Core (PostgreSQL)."""
        step_rows: list[dict[str, Any]] = []
        review_values: dict[str, Any] | None = None
        with self.write() as conn:
            if m.lease is not None:
                self._renew(conn, m.run_id, m.lease, m.stamp, release=m.release)
            # One UPDATE ... RETURNING moves the run on and reads it back (no second SELECT, and
            # the state just written is not decoded again: the caller's value is what was stored).
            run_row = conn.execute(
                _CHECKPOINT_RUN,
                {
                    "p_run_id": m.run_id,
                    "p_expect": m.expect_version,
                    "p_updated_at": now(),
                    "p_state": m.state,
                    "p_current_node": m.current_node,
                    "p_status": m.status,
                    "p_error": m.error,
                },
            ).first()
            if run_row is None:
                self._moved_on(conn, m.run_id, m.expect_version)
            run_values = _row(run_row)
            if m.nodes:
                conn.execute(
                    _upsert_nodes(conn.dialect.name),
                    [_node_values(m.run_id, run_values["version"], n) for n in m.nodes],
                )
            if m.steps:
                seq = conn.execute(_LAST_SEQ, {"p_run_id": m.run_id}).scalar()
                step_rows = _step_rows(m, seq or 0)
                conn.execute(insert(t.steps), step_rows)
                findings = [
                    f
                    for step, row in zip(m.steps, step_rows, strict=True)
                    for f in _finding_values(m, step, row["id"], run_values["workflow"])
                ]
                if findings:
                    conn.execute(insert(t.findings), findings)
            if m.effect is not None:
                key, result = m.effect
                done = conn.execute(
                    _EFFECT_DONE, {"p_key": key, "p_result": result, "p_completed_at": m.stamp}
                )
                if done.rowcount != 1:
                    raise StoreError(f"tool effect {key} was never begun")
            if m.review is not None:
                review_values = _review_values(m, step_rows, run_values["workflow"])
                conn.execute(insert(t.reviews), review_values)
            crash_point("checkpoint:before_commit")
        return run_values, step_rows, review_values

    def _checkpoint_sqlite(self, moves: list[_Planned]) -> list[_Written]:
        """The moves in one transaction on the sqlite3 connection (see :mod:`.sqlite_write`):
        per move the same statements, rows, errors and crash points as the Core path. One move
        unless group commit buffered some (:meth:`checkpoint`)."""
        return self._write_moves_sqlite(moves)

    @contextmanager
    def _raw_write(self) -> Iterator[Any]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` on one of the store's kept-open sqlite3 connections
        (rolled back on any exception), with the time counted in ``write_seconds``. A broken
        constraint is raised as SQLAlchemy's :class:`IntegrityError`, as the Core path raises it."""
        started = time.perf_counter()
        try:
            raw = self._idle.pop()
        except IndexError:
            raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            cur = driver.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:  # never hand a connection back mid-transaction
                    driver.rollback()
                raise
        except sqlite3.IntegrityError as exc:
            raise IntegrityError("INSERT", None, exc) from exc
        finally:
            self._idle.append(raw)  # kept open for the next write (closed by close())
            self.write_seconds += time.perf_counter() - started

    def _write_moves_sqlite(self, moves: list[_Planned]) -> list[_Written]:
        w = self._fast
        assert w is not None
        written: list[_Written] = []
        try:
            with self._raw_write() as cur:
                for m, planned in moves:
                    written.append(self._move_sqlite(cur, w, m, planned))
                crash_point("checkpoint:before_commit")
        except _NotWritten as why:
            # Nothing was written; say why with the store's usual reads and errors.
            if why.lease:
                current = self.get_lease(why.move.run_id)
                raise _lease_held(why.move.run_id, current, lost=True) from None
            with self.read() as conn:
                self._moved_on(conn, why.move.run_id, why.move.expect_version)
        return written

    def _hold_sqlite(self, cur: Any, w: SqliteWrites, m: _Move) -> None:
        """Prove in this transaction that the run's lease is still ``m.lease``'s (else
        :class:`_NotWritten`), and renew it — or give it up with ``m.release``.

        The write lock is held (``BEGIN IMMEDIATE``), so what the SELECT reads cannot change before
        the commit: a lease taken over since the last checkpoint stops this one exactly as a
        failed UPDATE did. A renewal writes ``stamp + lease + slack``; a checkpoint finding the
        lease already ending in [its stamp + lease, + slack] leaves the row as it is — after every
        checkpoint the lease still lasts at least ``lease_seconds``, as when each one renewed it,
        and the leases page is not rewritten by every commit (one page of ~10). Any other value
        (an older renewal, a lease acquired for longer or shorter) is renewed as before."""
        if m.release:
            cur.execute(w.release, (m.run_id, m.lease))
            if cur.rowcount != 1:
                raise _NotWritten(m, lease=True)
            return
        cur.execute(w.lease_until, (m.run_id, m.lease))
        row = cur.fetchone()
        if row is None:
            raise _NotWritten(m, lease=True)
        least = m.stamp + dt.timedelta(seconds=self.lease_seconds)
        longest = least + dt.timedelta(seconds=renewal_slack(self.lease_seconds))
        if not least <= w.lease_expiry(row[0]) <= longest:
            cur.execute(w.renew, (w.stamp(longest), m.run_id, m.lease))

    def _move_sqlite(
        self, cur: Any, w: SqliteWrites, m: _Move, planned: list[dict[str, Any]] | None
    ) -> _Written:
        review_values: dict[str, Any] | None = None
        if m.lease is not None:
            self._hold_sqlite(cur, w, m)
        cur.execute(
            w.move_run,
            (
                w.stamp(m.stamp),
                w.json(m.state),
                m.current_node,
                m.status,
                m.error,
                m.run_id,
                m.expect_version,
            ),
        )
        row = cur.fetchone()
        if row is None:
            raise _NotWritten(m, lease=False)
        run_values = w.run_row(row)
        if m.nodes:
            cur.executemany(w.node.sql, w.node_rows(m.run_id, run_values["version"], m.nodes))
        cur.execute(w.last_seq, (m.run_id,))
        seq = cur.fetchone()[0] or 0
        step_rows = _step_rows(m, seq) if planned is None else planned
        if step_rows:
            seq = step_rows[-1]["seq"]
            cur.executemany(w.step.sql, [w.step.row(v) for v in step_rows])
            findings = [
                w.finding.row(f)
                for step, row in zip(m.steps, step_rows, strict=True)
                for f in _finding_values(m, step, row["id"], run_values["workflow"])
            ]
            if findings:
                cur.executemany(w.finding.sql, findings)
        if m.effect is not None:
            key, result = m.effect
            cur.execute(w.effect_done, (w.effect_result(result), w.stamp(m.stamp), key))
            if cur.rowcount != 1:
                raise StoreError(f"tool effect {key} was never begun")
        if m.review is not None:
            review_values = _review_values(m, step_rows, run_values["workflow"])
            cur.execute(w.review.sql, w.review.row(review_values))
        return run_values, step_rows, review_values, seq

    # -- group commit (SQLite, opt-in) ------------------------------------------------------
    def _group(self) -> _Group:
        group = getattr(self._local, "group", None)
        if group is None:
            group = self._local.group = _Group()
        return group

    def _buffer(self, m: _Move) -> _Written | None:
        """Keep ``m`` for the next write instead of writing it now, if group commit is on and
        the move may wait: the run stays ``running``, and the move carries no tool effect and no
        review (those, and everything buffered before them, are written at once). The result is
        what the write will store (same ids, seq, version, times). None: write now."""
        if self.group_commit <= 1 or m.status != RunStatus.RUNNING.value:
            return None
        if m.effect is not None or m.review is not None:
            return None
        group = self._group()
        known = group.known.get(m.run_id)
        if known is None or known[0]["version"] != m.expect_version:
            return None  # first move of this run here, or a stale caller: let the write decide
        if len(group.moves) + 1 >= self.group_commit:
            return None  # this one fills the group: written now, with the others
        run_values, seq = known
        step_rows = _step_rows(m, seq)
        run_values = {
            **run_values,
            "version": m.expect_version + 1,
            "status": m.status,
            "current_node": m.current_node,
            "error": m.error,
            "updated_at": m.stamp,
        }
        group.moves.append((m, step_rows))
        new_seq = step_rows[-1]["seq"] if step_rows else seq
        group.known[m.run_id] = (run_values, new_seq)
        return run_values, step_rows, None, new_seq

    def _write_group(self, last: _Move | None = None) -> _Written | None:
        """Write the buffered moves (and ``last``) in one transaction. If it fails, none of them
        is written — as if the process had been killed before them — and the error is raised."""
        group = getattr(self._local, "group", None)
        moves = [] if group is None else group.moves
        if last is not None:
            moves = [*moves, (last, None)]
        if not moves:
            return None
        if group is not None:
            group.moves = []
        try:
            written = self._checkpoint_sqlite(moves)
        except BaseException:
            if group is not None:
                group.known.clear()
            raise
        if self.group_commit > 1:
            group = self._group()
            for (m, _), (run_values, _s, _r, seq) in zip(moves, written, strict=True):
                group.known[m.run_id] = (run_values, seq)
        return written[-1]

    def flush(self) -> None:
        """Write what group commit holds (a no-op when it is off or holds nothing)."""
        if self.group_commit > 1:
            self._write_group()

    @staticmethod
    def _moved_on(conn: Connection, run_id: str, expect_version: int) -> NoReturn:
        exists = conn.execute(_RUN_VERSION, {"p_run_id": run_id}).first()
        if exists is None:
            raise NotFound(f"no run {run_id}")
        raise Conflict(
            f"run {run_id} moved on (version {exists[0]}, expected {expect_version}): "
            "another process is running it"
        )

    # -- effects ----------------------------------------------------------------------------
    def begin_effect(
        self, key: str, run_id: str, node: str, visit: int, args: Any, *, lease: str | None = None
    ) -> Effect:
        values = {
            "key": key,
            "run_id": run_id,
            "node": node,
            "visit": visit,
            "status": "pending",
            "args": args,
            "result": None,
            "created_at": now(),
            "completed_at": None,
        }
        try:
            with self.write() as conn:
                if lease is not None:
                    # Renewing locks the lease row until this commits: a takeover waits, so no
                    # second driver can begin this effect while this one does.
                    self._renew(conn, run_id, lease, values["created_at"])
                row = conn.execute(select(t.effects).where(t.effects.c.key == key)).first()
                if row is not None:
                    return Effect.model_validate(_row(row))
                conn.execute(insert(t.effects).values(**values))
        except IntegrityError:  # begun at the same moment by a caller without a lease
            found = self.get_effect(key)
            if found is None:
                raise
            return found
        return Effect.model_validate(values)

    # -- leases -----------------------------------------------------------------------------
    def _renew(
        self,
        conn: Connection,
        run_id: str,
        holder: str,
        stamp: dt.datetime,
        *,
        release: bool = False,
    ) -> None:
        """Renew ``holder``'s lease (``release``: give it up) in ``conn``'s transaction; if the
        lease is no longer this holder's, :class:`LeaseHeld` and nothing of it is written."""
        mine = (t.leases.c.run_id == run_id, t.leases.c.holder == holder)
        if release:
            renewed = conn.execute(delete(t.leases).where(*mine))
        else:
            until = stamp + dt.timedelta(seconds=self.lease_seconds)
            renewed = conn.execute(update(t.leases).where(*mine).values(expires_at=until))
        if renewed.rowcount != 1:
            current = conn.execute(select(t.leases).where(t.leases.c.run_id == run_id)).first()
            raise _lease_held(
                run_id, None if current is None else Lease.model_validate(_row(current)), lost=True
            )

    def acquire_lease(self, run_id: str, holder: str, seconds: float | None = None) -> Lease:
        ttl = self.lease_seconds if seconds is None else seconds
        for _ in range(5):  # each round either decides or lost a race it re-reads
            stamp = now()
            until = stamp + dt.timedelta(seconds=ttl)
            try:
                with self.write() as conn:
                    row = conn.execute(select(t.leases).where(t.leases.c.run_id == run_id)).first()
                    if row is None:
                        if conn.execute(_RUN_VERSION, {"p_run_id": run_id}).first() is None:
                            raise NotFound(f"no run {run_id}")
                        conn.execute(
                            insert(t.leases).values(
                                run_id=run_id, holder=holder, expires_at=until, acquired_at=stamp
                            )
                        )
                        return Lease(
                            run_id=run_id, holder=holder, expires_at=until, acquired_at=stamp
                        )
                    current = Lease.model_validate(_row(row))
                    mine = current.holder == holder
                    expired = current.expires_at <= stamp
                    if not (mine or expired or holder_has_ended(current.holder)):
                        raise _lease_held(run_id, current)
                    where = [t.leases.c.run_id == run_id, t.leases.c.holder == current.holder]
                    if expired and not mine:
                        where.append(t.leases.c.expires_at <= stamp)  # still expired when we write
                    acquired = current.acquired_at if mine else stamp
                    taken = conn.execute(
                        update(t.leases)
                        .where(*where)
                        .values(holder=holder, expires_at=until, acquired_at=acquired)
                    )
                    if taken.rowcount == 1:
                        return Lease(
                            run_id=run_id, holder=holder, expires_at=until, acquired_at=acquired
                        )
            except IntegrityError:
                pass  # another driver inserted the lease at the same moment: read it again
        current = self.get_lease(run_id)
        raise _lease_held(run_id, current)

    def release_lease(self, run_id: str, holder: str) -> None:
        with self.write() as conn:
            conn.execute(
                delete(t.leases).where(t.leases.c.run_id == run_id, t.leases.c.holder == holder)
            )

    def get_lease(self, run_id: str) -> Lease | None:
        with self.read() as conn:
            row = conn.execute(select(t.leases).where(t.leases.c.run_id == run_id)).first()
        return None if row is None else Lease.model_validate(_row(row))

    # -- tools' records ---------------------------------------------------------------------
    def record_once(self, key: str, run_id: str, kind: str, data: Any) -> tuple[ToolRecord, bool]:
        values = {"key": key, "run_id": run_id, "kind": kind, "data": data, "created_at": now()}
        try:
            with self.write() as conn:
                row = conn.execute(
                    select(t.tool_records).where(t.tool_records.c.key == key)
                ).first()
                if row is not None:
                    return ToolRecord.model_validate(_row(row)), False
                conn.execute(insert(t.tool_records).values(**values))
        except IntegrityError:  # written at the same moment by another host: theirs stands
            with self.read() as conn:
                row = conn.execute(
                    select(t.tool_records).where(t.tool_records.c.key == key)
                ).first()
            if row is None:
                raise
            return ToolRecord.model_validate(_row(row)), False
        return ToolRecord.model_validate(values), True

    def tool_records(self, kind: str, *, run_id: str | None = None) -> list[ToolRecord]:
        query = select(t.tool_records).where(t.tool_records.c.kind == kind)
        if run_id is not None:
            query = query.where(t.tool_records.c.run_id == run_id)
        with self.read() as conn:
            rows = conn.execute(
                query.order_by(t.tool_records.c.created_at, t.tool_records.c.key)
            ).all()
        return [ToolRecord.model_validate(_row(r)) for r in rows]

    def get_effect(self, key: str) -> Effect | None:
        with self.read() as conn:
            row = conn.execute(select(t.effects).where(t.effects.c.key == key)).first()
        return None if row is None else Effect.model_validate(_row(row))

    # -- steps ------------------------------------------------------------------------------
    def steps(self, run_id: str) -> list[Step]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.steps).where(t.steps.c.run_id == run_id).order_by(t.steps.c.seq)
            ).all()
        return [Step.model_validate(_row(r)) for r in rows]

    def get_step(self, step_id: str) -> Step:
        with self.read() as conn:
            row = conn.execute(select(t.steps).where(t.steps.c.id == step_id)).first()
        if row is None:
            raise NotFound(f"no step {step_id}")
        return Step.model_validate(_row(row))

    # -- reviews ----------------------------------------------------------------------------
    def get_review(self, review_id: str) -> ReviewRecord:
        with self.read() as conn:
            row = conn.execute(select(t.reviews).where(t.reviews.c.id == review_id)).first()
        if row is None:
            raise NotFound(f"no review {review_id}")
        return ReviewRecord.model_validate(_row(row))

    def reviews_for_run(self, run_id: str) -> list[ReviewRecord]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.reviews).where(t.reviews.c.run_id == run_id).order_by(t.reviews.c.id)
            ).all()
        return [ReviewRecord.model_validate(_row(r)) for r in rows]

    def decide(self, review_id: str, decision: DecisionDraft) -> Decision:
        stamp = now()
        values = {
            **decision.model_dump(mode="json"),
            "id": new_id(),
            "review_id": review_id,
            "at": stamp,
        }
        try:
            with self.write() as conn:
                won = conn.execute(
                    update(t.reviews)
                    .where(
                        t.reviews.c.id == review_id, t.reviews.c.status == ReviewStatus.OPEN.value
                    )
                    .values(
                        status=ReviewStatus.DECIDED.value,
                        decided_at=stamp,
                        action=decision.action.value,
                        decided_by=decision.who,
                    )
                )
                if won.rowcount != 1:
                    row = conn.execute(
                        select(t.reviews.c.decided_by, t.reviews.c.action).where(
                            t.reviews.c.id == review_id
                        )
                    ).first()
                    if row is None:
                        raise NotFound(f"no review {review_id}")
                    raise AlreadyDecided(
                        f"review {review_id} was already decided ({row.action} by {row.decided_by})",
                        details={"action": row.action, "who": row.decided_by},
                    )
                conn.execute(insert(t.decisions).values(**values))
                run_id = conn.execute(
                    select(t.reviews.c.run_id).where(t.reviews.c.id == review_id)
                ).scalar()
                # The decision's log entry commits with it, or neither does.
                self._log(
                    conn,
                    kind="decision",
                    who=decision.who,
                    data=decision_body(values),
                    at=stamp,
                    run_id=run_id,
                    review_id=review_id,
                    ref=values["id"],
                )
        except IntegrityError:
            raise AlreadyDecided(f"review {review_id} was already decided") from None
        return Decision.model_validate(values)

    # -- the decision log -------------------------------------------------------------------
    @staticmethod
    def _log(conn: Connection, **entry: Any) -> AuditEntry:
        try:
            return append_entry(conn, **entry)
        except IntegrityError as exc:  # never read as "already decided": the chain is locked
            raise StoreError(f"the decision log could not be appended to: {exc.orig}") from None
        except ValueError as exc:  # a value JSON cannot hold (NaN): nothing is recorded
            raise StoreError(f"the decision log cannot record this entry: {exc}") from None

    def append_audit(
        self,
        kind: str,
        who: str,
        data: dict[str, Any],
        *,
        run_id: str | None = None,
        review_id: str | None = None,
        ref: str | None = None,
    ) -> AuditEntry:
        with self.write() as conn:
            return self._log(
                conn,
                kind=kind,
                who=who,
                data=data,
                at=now(),
                run_id=run_id,
                review_id=review_id,
                ref=ref,
            )

    def audit_entries(self, *, run_id: str | None = None) -> list[AuditEntry]:
        query = select(t.audit_log).order_by(t.audit_log.c.seq)
        if run_id is not None:
            query = query.where(t.audit_log.c.run_id == run_id)
        with self.read() as conn:
            return [entry_of(r) for r in conn.execute(query).all()]

    def verify_audit(self, *, head: tuple[int, str] | None = None) -> AuditReport:
        with self.read() as conn:
            return verify_log(conn, head=head)

    def decision_for(self, review_id: str) -> Decision | None:
        with self.read() as conn:
            row = conn.execute(
                select(t.decisions).where(t.decisions.c.review_id == review_id)
            ).first()
        return None if row is None else Decision.model_validate(_row(row))
