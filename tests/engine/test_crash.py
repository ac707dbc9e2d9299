"""Kill -9 a real subprocess at random points of real runs, resume every run, and prove that each
tool side effect happened exactly once and no step was recorded twice.

Each run is started by a worker process that SIGKILLs itself at the N-th crash point it reaches
(N random; the points cover before/after the model call, before/after the tool call, after the
effect was begun, and inside and after the checkpoint transaction). A run may be killed twice (the
resuming process is killed too); a last resume without a crash must finish it. Runs go 2 at a time
on one SQLite file, so the store is also shared between live processes.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nesyflow.store import RunStatus, new_id, open_store

WORKER = Path(__file__).parent / "crash_worker.py"
RUNS = int(os.environ.get("NESYFLOW_CRASH_RUNS", "30"))
POINTS_PER_RUN = 22  # crash points one full run passes (counted from the note workflow)


def _worker(url: str, run_id: str, out: Path, crash_after: int | None, log: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NESYFLOW_CRASH")}
    if crash_after is not None:
        env["NESYFLOW_CRASH_AFTER"] = str(crash_after)
        env["NESYFLOW_CRASH_LOG"] = str(log)
    proc = subprocess.run(
        [sys.executable, str(WORKER), url, run_id, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode not in (0, -9):
        raise AssertionError(f"worker failed ({proc.returncode}):\n{proc.stderr}")
    return proc.returncode


def _one_run(url: str, tmp: Path, rng_seed: int) -> dict:
    rng = random.Random(rng_seed)
    run_id = new_id()
    out = tmp / f"{run_id}.txt"
    log = tmp / f"{run_id}.crash.log"
    kills = 0
    for _ in range(rng.choice([1, 1, 2])):
        if _worker(url, run_id, out, rng.randint(1, POINTS_PER_RUN), log) == -9:
            kills += 1
    assert _worker(url, run_id, out, None, log) == 0
    return {
        "run_id": run_id,
        "out": out,
        "kills": kills,
        "points": log.read_text().split() if log.exists() else [],
    }


@pytest.fixture(params=["sqlite", "postgres"])
def crash_db(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_server").new_database()
    return f"sqlite:///{tmp_path / 'crash.db'}"


def test_killed_runs_resume_without_duplicates(tmp_path, crash_db):
    url = crash_db
    open_store(url).close()  # create the schema once before the workers race
    seed = int(os.environ.get("NESYFLOW_CRASH_SEED", "1234"))
    runs = RUNS if url.startswith("sqlite") else max(1, RUNS // 3)  # PostgreSQL: a third as many
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: _one_run(url, tmp_path, seed + i), range(runs)))

    store = open_store(url)
    duplicates = 0
    repeat_calls = 0
    points = collections.Counter(p for r in results for p in r["points"])
    for r in results:
        run = store.get_run(r["run_id"])
        assert run.status is RunStatus.COMPLETED, (run.status, run.error)
        lines = r["out"].read_text().splitlines()
        keys = [line.split("\t")[0] for line in lines]
        assert sorted(keys) == sorted([f"{run.id}:write:1", f"{run.id}:write2:1"]), lines
        duplicates += len(keys) - len(set(keys))
        calls = r["out"].with_suffix(".calls.log").read_text().split()
        repeat_calls += len(calls) - len(set(calls))
        steps = store.steps(run.id)
        places = [(s.node, s.visit, s.attempt, s.kind) for s in steps]
        assert len(places) == len(set(places)), f"a step was recorded twice: {places}"
        assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
        for key in (f"{run.id}:write:1", f"{run.id}:write2:1"):
            effect = store.get_effect(key)
            assert effect is not None and effect.status == "done"
    kills = sum(r["kills"] for r in results)
    print(
        f"\ncrash test ({url.split(':')[0]}): {runs} runs, {kills} kills at {dict(points)}, "
        f"{repeat_calls} tool calls repeated after a crash (recognised by key), "
        f"{duplicates} duplicate side effects"
    )
    assert duplicates == 0
    assert kills >= runs  # every run was killed at least once (each first attempt crashes)
    assert len(points) >= min(6, runs)  # the kills spread over the kinds of crash point


def test_killed_runs_with_group_commit_resume_without_duplicates(tmp_path, monkeypatch):
    """The same kills with ``NESYFLOW_GROUP_COMMIT=4`` (checkpoints held and written together):
    a kill may lose held steps, which run again; no tool effect is lost or made twice, no step
    is recorded twice, every run completes."""
    monkeypatch.setenv("NESYFLOW_GROUP_COMMIT", "4")  # the workers inherit it
    url = f"sqlite:///{tmp_path / 'crash-group.db'}"
    open_store(url).close()
    runs = max(4, RUNS // 3)
    seed = int(os.environ.get("NESYFLOW_CRASH_SEED", "1234")) + 7
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: _one_run(url, tmp_path, seed + i), range(runs)))
    store = open_store(url)
    assert store.group_commit == 4
    for r in results:
        run = store.get_run(r["run_id"])
        assert run.status is RunStatus.COMPLETED, (run.status, run.error)
        keys = [line.split("\t")[0] for line in r["out"].read_text().splitlines()]
        assert sorted(keys) == sorted([f"{run.id}:write:1", f"{run.id}:write2:1"]), keys
        steps = store.steps(run.id)
        places = [(s.node, s.visit, s.attempt, s.kind) for s in steps]
        assert len(places) == len(set(places)), f"a step was recorded twice: {places}"
        assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
    assert sum(r["kills"] for r in results) >= 1


# --- one driver per run: two resumers of a run that crashed inside its tool ---------------------

CRASH_FLOW = Path(__file__).parent / "crash_flow" / "flow.yaml"


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nesyflow.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_resumes_of_a_run_that_crashed_in_its_tool_enter_it_once(crash_db, tmp_path):
    """A run is killed inside its tool call (the effect begun, never recorded). Two ``nesyflow
    resume`` processes start at once; the first to take the run's lease (taken over from the dead
    process at once) enters the tool and waits there; the second is refused with a sentence (exit
    2) while the first is inside. Exactly one resumer enters the tool; the run completes; the
    payment is in the store once."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NESYFLOW_CRASH")}
    base["NESYFLOW_DB"] = crash_db
    out = tmp_path / "out"
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"text": "pay me", "amount": 5, "path": str(out)}))
    first = _cli("run", str(CRASH_FLOW), "--input", str(job), env={**base, "CRASH_IN_TOOL": "1"})
    first.communicate(timeout=120)
    assert first.returncode == -9  # killed inside the tool
    calls = out.with_name("out.calls").read_text().splitlines()
    assert len(calls) == 1
    run_id = calls[0].split("\t")[0].split(":")[0]
    store = open_store(crash_db)
    assert store.get_run(run_id).status is RunStatus.RUNNING
    assert store.get_effect(f"{run_id}:pay:1").status == "pending"

    release = tmp_path / "release"
    resumers = [_cli("resume", run_id, env={**base, "HOLD_IN_TOOL": str(release)}) for _ in "ab"]
    deadline = time.monotonic() + 120
    while all(p.poll() is None for p in resumers) and time.monotonic() < deadline:
        time.sleep(0.05)
    loser = next(p for p in resumers if p.poll() is not None)  # the one that did not wait inside
    release.write_text("go")
    results = [(p, *p.communicate(timeout=120)) for p in resumers]
    loser_err = next(err for p, _, err in results if p is loser)
    assert loser.returncode == 2, loser_err
    assert "is being driven by another process" in loser_err and "Traceback" not in loser_err
    winner = next(p for p in resumers if p is not loser)
    assert winner.returncode == 0 and "completed" in next(o for p, o, _ in results if p is winner)

    calls = out.with_name("out.calls").read_text().splitlines()
    entered_by = [line.split("\t")[1] for line in calls[1:]]
    assert entered_by == [str(winner.pid)], calls  # exactly one resumer entered the tool
    run = store.get_run(run_id)
    assert run.status is RunStatus.COMPLETED and store.get_lease(run_id) is None
    assert [r.data["pid"] for r in store.tool_records("crash_test.payment")] == [winner.pid]
    assert [s.node for s in store.steps(run_id)] == ["gate", "pay"]
