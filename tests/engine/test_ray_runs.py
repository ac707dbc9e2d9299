"""Whole runs as Ray tasks on a shared PostgreSQL store (``nesyflow.engine.ray_runs``): one run per
input, no step or effect twice, the local path's verdicts, resubmission starts nothing, and workers
SIGKILLed mid-run (the store's crash points, first attempt only) lose no run.

The workflow is the crash test's (a rule gate, then a tool whose payment is kept in the store once):
no model is needed. One local two-CPU Ray cluster for the module; its workers import this
checkout's nesyflow (``PYTHONPATH`` in the runtime env)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import nesyflow  # noqa: E402
from nesyflow.engine import start_run  # noqa: E402
from nesyflow.engine.ray_runs import CRASH_ENV, request_ids, run_on_ray  # noqa: E402
from nesyflow.errors import InputError  # noqa: E402
from nesyflow.graph import load_workflow  # noqa: E402
from nesyflow.store import RunStatus, open_store  # noqa: E402

FLOW = Path(__file__).parent / "crash_flow" / "flow.yaml"
RUNTIME = str(Path(nesyflow.__file__).resolve().parents[1])
N = int(os.environ.get("NESYFLOW_RAY_RUNS", "200"))
AMOUNTS = (5, 60, 150)  # passes (then pays), asks for review, breaks a rule


@pytest.fixture(scope="module", autouse=True)
def cluster():
    path = os.pathsep.join(p for p in (RUNTIME, os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield
    ray.shutdown()


def _inputs(folder: Path, n: int) -> list[dict]:
    return [
        {"text": f"job {i}", "amount": AMOUNTS[i % 3], "path": str(folder / f"out{i}")}
        for i in range(n)
    ]


def _duplicates(url: str) -> tuple[int, int, int]:
    """(requests with more than one run, steps recorded twice, effects kept twice), by SQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        requests = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT request_id FROM requests GROUP BY workflow, "
                "request_id HAVING count(DISTINCT run_id) > 1) d"
            )
        ).scalar_one()
        steps = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT run_id FROM steps GROUP BY run_id, node, visit, "
                "attempt, kind HAVING count(*) > 1) d"
            )
        ).scalar_one()
        effects = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT run_id FROM tool_records GROUP BY run_id "
                "HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    return requests, steps, effects


def _runs(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM runs")).scalar_one()
    engine.dispose()
    return int(count)


def _shape(store, run_id: str) -> tuple:
    run = store.get_run(run_id)
    return run.status, tuple((s.node, s.kind, s.verdict) for s in store.steps(run_id))


def test_workers_import_this_checkout():
    where = ray.get(ray.remote(lambda: __import__("nesyflow").__file__).remote())
    assert where == nesyflow.__file__


def test_runs_on_ray_match_the_local_path_once_each(postgres_server, tmp_path):
    url = postgres_server.new_database()
    items = _inputs(tmp_path, N)
    outcomes = run_on_ray(FLOW, items, url)
    assert [o.index for o in outcomes] == list(range(N))
    assert all(o.result is not None for o in outcomes), [o.error for o in outcomes if o.error]
    store = open_store(url)
    ids = request_ids(items)
    found = [store.find_request("crash_pay", rid) for rid in ids]
    assert all(f is not None for f in found)
    assert [f[0] for f in found] == [o.result.run_id for o in outcomes]
    assert len(set(ids)) == N and _runs(url) == N
    assert _duplicates(url) == (0, 0, 0)

    local = open_store(f"sqlite:///{tmp_path / 'local.db'}")
    flow = load_workflow(FLOW)
    for item, rid, outcome in zip(items, ids, outcomes, strict=True):
        mine = start_run(flow, {**item, "id": rid, "path": item["path"] + ".local"}, store=local)
        assert _shape(local, mine.run_id) == _shape(store, outcome.result.run_id)
    statuses = {o.result.status for o in outcomes}
    assert RunStatus.COMPLETED in statuses and RunStatus.WAITING_REVIEW in statuses

    again = run_on_ray(FLOW, items, url)  # the same batch: its request ids name the same runs
    assert [o.result.run_id for o in again] == [o.result.run_id for o in outcomes]
    assert all(o.result.resubmitted for o in again)
    assert _runs(url) == N
    assert _duplicates(url) == (0, 0, 0)


def test_killed_workers_lose_no_run_and_repeat_nothing(postgres_server, tmp_path, monkeypatch):
    url = postgres_server.new_database()
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv(CRASH_ENV, f"1-6:{markers}")  # every input's first attempt is killed
    n = 30
    items = _inputs(tmp_path, n)
    outcomes = run_on_ray(FLOW, items, url)
    assert all(o.result is not None for o in outcomes), [o.error for o in outcomes if o.error]
    store = open_store(url)
    lost = 0
    killed = 0
    for item, outcome in zip(items, outcomes, strict=True):
        run = store.get_run(outcome.result.run_id)
        lost += run.status not in (RunStatus.COMPLETED, RunStatus.WAITING_REVIEW, RunStatus.FAILED)
        calls = Path(item["path"] + ".calls")
        if item["amount"] == 5:
            assert run.status is RunStatus.COMPLETED, (run.status, run.error)
            assert store.get_effect(f"{run.id}:pay:1").status == "done"
            killed += len(calls.read_text().splitlines()) > 1
    kills = (markers / "kills.log").read_text().split()
    assert lost == 0
    assert len(list(markers.glob("[0-9a-f]*"))) == n  # every input had a first attempt (armed)
    # every paying run (a third) passes more than 6 points, so its first attempt is killed; the
    # point is picked from the request id, which holds tmp_path: which kinds varies per session
    assert len(kills) >= n // 3 and len(set(kills)) >= 2, kills
    assert _runs(url) == n
    assert _duplicates(url) == (0, 0, 0)
    payments = store.tool_records("crash_test.payment")
    assert len(payments) == sum(1 for i in items if i["amount"] == 5)
    print(
        f"\nray crash: {n} runs, {len(kills)} workers killed at {sorted(set(kills))}, {killed} "
        "paid runs re-entered their tool (recognised by key, paid once)"
    )


def test_cli_run_executor_ray(postgres_server, tmp_path):
    import json

    from typer.testing import CliRunner

    from nesyflow.cli import app

    url = postgres_server.new_database()
    inputs = tmp_path / "in.jsonl"
    items = _inputs(tmp_path, 6)
    inputs.write_text("".join(json.dumps(i) + "\n" for i in items) + '{"text": "no amount"}\n')
    args = ["run", str(FLOW), "--input", str(inputs), "--executor", "ray", "--workers", "2"]
    res = CliRunner().invoke(app, [*args, "--db", url])
    assert res.exit_code == 2, res.output  # the bad last line is named; the others ran
    lines = res.output.strip().splitlines()
    assert [line.split()[1] for line in lines[:6]] == [
        _shape(open_store(url), line.split()[0])[0].value for line in lines[:6]
    ]
    assert f"{inputs}:7:" in res.output and "amount" in res.output
    assert _runs(url) == 6
    res = CliRunner().invoke(app, [*args, "--db", url, "--format", "json"])
    assert _runs(url) == 6  # submitted again: the same runs
    assert len([line for line in res.output.splitlines() if line.startswith("{")]) == 6


def test_sqlite_refused_for_workers_elsewhere_and_schema_without_id(tmp_path, monkeypatch):
    monkeypatch.setenv("NESYFLOW_RAY_ADDRESS", "ray://head.example:10001")
    with pytest.raises(InputError, match="PostgreSQL"):
        run_on_ray(FLOW, [], f"sqlite:///{tmp_path / 's.db'}")
    monkeypatch.delenv("NESYFLOW_RAY_ADDRESS")
    assert run_on_ray(FLOW, [], f"sqlite:///{tmp_path / 's.db'}") == []  # a local cluster: fine
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "insight"))
    from insight_history import write_workflow  # a check workflow whose input has no `id`

    write_workflow(tmp_path)
    with pytest.raises(InputError, match="no `id`"):
        run_on_ray(tmp_path / "workflow.yaml", [], f"sqlite:///{tmp_path / 's.db'}")
