"""Group commit (``NESYFLOW_GROUP_COMMIT=N``, SQLite, off by default): up to N checkpoints of a
thread are written in one transaction. What it may hold back is only what a crash may lose anyway
— finished steps that run again on resume; never a tool effect, a review, the end of a run, or
anything another call of the same process reads. These tests hold it to that, on real SQLite
files, with a second store instance standing in for another process.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, update

from nesyflow.store import Conflict, RunStatus, StepDraft, open_store
from nesyflow.store import tables as t
from nesyflow.store.records import NodeState


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'group.db'}"


def _grouped(url, monkeypatch, size=8):
    monkeypatch.setenv("NESYFLOW_GROUP_COMMIT", str(size))
    store = open_store(url)
    monkeypatch.delenv("NESYFLOW_GROUP_COMMIT")
    return store


def _commits(store):
    """Counts the COMMITs this store's connections send from now on."""
    seen = []

    def trace(statement):
        if statement.strip().upper() == "COMMIT":
            seen.append(statement)

    @event.listens_for(store.engine, "connect")
    def _trace(dbapi_conn, _record):
        dbapi_conn.set_trace_callback(trace)

    store.engine.dispose()
    return seen


def _step(store, run, n, **kwargs):
    return store.checkpoint(
        run.id,
        expect_version=run.version,
        state={"next_node": f"n{n + 1}"},
        current_node=f"n{n}",
        status=kwargs.pop("status", RunStatus.RUNNING),
        step=StepDraft(node=f"n{n}", kind="llm", output={"n": n}),
        nodes=[NodeState(node=f"n{n}", ord=n, visits=1, output={"n": n}, verdict="pass")],
        lease="me",
        **kwargs,
    ).run


def test_the_default_writes_every_checkpoint_at_once(url):
    store = open_store(url)
    assert store.group_commit == 1
    other = open_store(url)
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "me")
    for n in range(3):
        run = _step(store, run, n)
        assert len(other.steps(run.id)) == n + 1


def test_a_group_is_one_transaction_and_writes_the_same_rows(url, tmp_path, monkeypatch):
    plain = open_store(f"sqlite:///{tmp_path / 'plain.db'}")
    grouped = _grouped(url, monkeypatch, size=8)
    commits = _commits(grouped)
    results = []
    for store in (plain, grouped):
        run = store.create_run("wf", {"x": 1}, run_id="r1")
        store.acquire_lease(run.id, "me")
        before = len(commits)
        for n in range(16):
            run = _step(store, run, n)
        run = _step(store, run, 16, status=RunStatus.COMPLETED)
        store.release_lease(run.id, "me")
        written = len(commits) - before
        got = store.get_run(run.id)
        steps = [(s.seq, s.node, s.output) for s in store.steps(run.id)]
        results.append((got.version, got.status, got.state, steps, written))
    (v1, s1, state1, steps1, _), (v2, s2, state2, steps2, written) = results
    assert (v1, s1, state1, steps1) == (v2, s2, state2, steps2)
    assert [seq for seq, _, _ in steps2] == list(range(1, 18))
    # 17 checkpoints + the lease release: first checkpoint alone (learns the run), then groups of 8
    assert written <= 5, written


def test_held_checkpoints_are_written_before_anything_else_this_process_does(url, monkeypatch):
    store = _grouped(url, monkeypatch)
    other = open_store(url)  # another process: sees only what is written
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "me")
    run = _step(store, run, 0)  # the run's first checkpoint here: written (learns version, seq)
    for n in range(1, 4):
        run = _step(store, run, n)
    assert run.version == 4
    assert len(other.steps(run.id)) == 1 and other.get_run(run.id).version == 1
    assert len(store.steps(run.id)) == 4  # this process's own read writes the group first
    assert len(other.steps(run.id)) == 4 and other.get_run(run.id).version == 4


@pytest.mark.parametrize("kind", ["effect", "review", "end"])
def test_effects_reviews_and_ends_are_never_held(url, monkeypatch, kind):
    store = _grouped(url, monkeypatch)
    other = open_store(url)
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "me")
    run = _step(store, run, 0)
    run = _step(store, run, 1)  # held
    if kind == "effect":
        store.begin_effect("k1", run.id, "n2", 1, {"a": 1}, lease="me")  # writes the group first
        assert len(other.steps(run.id)) == 2
        run = _step(store, run, 2, effect=("k1", {"ok": True}))
        assert other.get_effect("k1").status == "done"
    elif kind == "review":
        from nesyflow.logic.result import Verdict
        from nesyflow.store import ReviewDraft

        review = ReviewDraft(id="rv1", node="n2", verdict=Verdict.REVIEW)
        run = _step(store, run, 2, status=RunStatus.WAITING_REVIEW, review=review)
        assert other.get_review("rv1").status.value == "open"
    else:
        run = _step(store, run, 2, status=RunStatus.COMPLETED)
        assert other.get_run(run.id).status is RunStatus.COMPLETED
    assert len(other.steps(run.id)) == 3


def test_a_group_whose_run_moved_on_is_dropped_whole_like_a_crash(url, monkeypatch):
    store = _grouped(url, monkeypatch)
    other = open_store(url)
    run = store.create_run("wf", {})
    store.acquire_lease(run.id, "me")
    run = _step(store, run, 0)
    run = _step(store, run, 1)
    run = _step(store, run, 2)
    with other.write() as conn:  # another process moved the run on meanwhile
        conn.execute(
            update(t.runs).where(t.runs.c.id == run.id).values(version=t.runs.c.version + 5)
        )
    with pytest.raises(Conflict):
        store.flush()
    assert [s.node for s in other.steps(run.id)] == ["n0"]  # nothing of the group, nothing torn
    assert other.get_run(run.id).state == {
        "next_node": "n1",
        "outputs": {"n0": {"n": 0}},
        "derived": {},
        "verdicts": {"n0": "pass"},
        "visits": {"n0": 1},
    }


def test_a_bad_setting_is_refused_by_name(url, monkeypatch):
    from nesyflow.store import StoreError

    monkeypatch.setenv("NESYFLOW_GROUP_COMMIT", "lots")
    with pytest.raises(StoreError, match="NESYFLOW_GROUP_COMMIT='lots'"):
        open_store(url)
