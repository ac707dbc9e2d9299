"""SQLite's writes on the sqlite3 connection (``store/sqlite_write.py``) against the Core path they
replace: the same bytes in every column, the same errors; and how the lease row is renewed.

The Core path is what PostgreSQL runs; on SQLite it is reached by turning the fast path off
(``store._fast = None``), so both write into files that can be compared cell by cell.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from nesyflow.store import Conflict, DuplicateRequest, RunStatus, StepDraft, open_store
from nesyflow.store import sql as sql_module
from nesyflow.store.leases import renewal_slack

STAMP = dt.datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=dt.UTC)

# (table, key column) of every row create_run writes
CREATED = [("runs", "id"), ("requests", "run_id"), ("leases", "run_id")]

RUNS = [
    # everything given, a submitter, a request and a lease
    {
        "workflow": "wf",
        "input": {"a": [1, 2.5, None, "ü"], "b": {"c": True}},
        "workflow_ref": "/flows/wf.yaml",
        "run_id": "00000000-0000-7000-8000-000000000001",
        "state": {"next_node": "n1", "nested": {"x": None}},
        "current_node": "n1",
        "request_id": "req-1",
        "input_hash": "abc123",
        "submitted_by": ("ana", "bo"),
        "lease": "host:1:tok",
    },
    # the absent values: input None (JSON null), no state, no submitter, no request, no lease
    {"workflow": "wf", "input": None, "run_id": "00000000-0000-7000-8000-000000000002"},
    # an input that is JSON but no object, a lease without a request
    {
        "workflow": "other",
        "input": [1, "two"],
        "run_id": "00000000-0000-7000-8000-000000000003",
        "lease": "host:2:tok",
    },
]


def _cells(path, table: str, key: str) -> list[tuple]:
    """Every row of ``table`` as stored: each cell with its SQLite storage class."""
    conn = sqlite3.connect(str(path))
    try:
        names = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        cells = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        return conn.execute(f'SELECT {cells} FROM "{table}" ORDER BY "{key}"').fetchall()
    finally:
        conn.close()


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(sql_module, "now", lambda: STAMP)


def _stores(tmp_path):
    fast = open_store(f"sqlite:///{tmp_path / 'fast.db'}")
    core = open_store(f"sqlite:///{tmp_path / 'core.db'}")
    core._fast = None  # every write through SQLAlchemy Core, as on PostgreSQL
    return fast, core


def test_create_run_stores_exactly_what_the_core_path_stores(tmp_path, fixed_clock):
    fast, core = _stores(tmp_path)
    try:
        for spec in RUNS:
            made = [s.create_run(**spec) for s in (fast, core)]
            assert made[0] == made[1]
            assert fast.get_run(spec["run_id"]) == core.get_run(spec["run_id"])
    finally:
        fast.close()
        core.close()
    for table, key in CREATED:
        stored = _cells(tmp_path / "fast.db", table, key)
        assert stored == _cells(tmp_path / "core.db", table, key)
        assert stored, table


def test_create_run_refuses_as_the_core_path_does(tmp_path):
    fast, core = _stores(tmp_path)
    try:
        for s in (fast, core):
            first = s.create_run("wf", {"n": 1}, request_id="r", lease="h:1:a")
            with pytest.raises(DuplicateRequest) as again:
                s.create_run("wf", {"n": 1}, request_id="r")
            assert again.value.details == {"run_id": first.id, "request_id": "r"}
            with pytest.raises(Conflict, match="already exists"):
                s.create_run("wf", {}, run_id=first.id)
            # a refused run wrote nothing: no second run, request or lease
            assert s.find_request("wf", "r") == (first.id, "")
            assert s.get_lease(first.id).holder == "h:1:a"
            # the connection is usable after a refusal (no transaction left open)
            assert s.create_run("wf", {"n": 2}, request_id="r2").status.value == "running"
    finally:
        fast.close()
        core.close()
    for table, key in CREATED:
        counts = [len(_cells(tmp_path / f, table, key)) for f in ("fast.db", "core.db")]
        assert counts[0] == counts[1], table


def test_checkpoints_close_together_leave_the_lease_row_as_it_is(tmp_path):
    """The first checkpoint renews the lease to its time plus the slack; the next ones, within
    the slack, still find it ending a whole lease after them and do not rewrite it."""
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    store.lease_seconds = 3600.0  # slack: one second, far more than these checkpoints take
    try:
        run = store.create_run("wf", {}, lease="h:1:a")
        created = store.get_lease(run.id).expires_at
        expiries = []
        for version in range(3):
            store.checkpoint(
                run.id,
                expect_version=version,
                state={},
                current_node=None,
                status=RunStatus.RUNNING,
                step=StepDraft(node=f"n{version}", kind="llm"),
                lease="h:1:a",
            )
            expiries.append(store.get_lease(run.id).expires_at)
    finally:
        store.close()
    slack = dt.timedelta(seconds=renewal_slack(3600.0))
    assert expiries[0] > created + slack / 2  # renewed once...
    assert expiries[1] == expiries[0] == expiries[2]  # ...then left as it was
