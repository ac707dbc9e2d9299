"""A superstep: consecutive llm/check nodes that read nothing produced inside the run of them (the
independent branches of a fan-out) are checked one by one as always and written in ONE checkpoint.

What must hold, and fails here when broken:

* each branch is checked by its own packs before it counts, and a branch that does not pass stops
  the superstep: the passing branches before it are written with it, once, and the policy (review,
  reask, reject) applies as for any step;
* a process killed before the superstep's write (after branch j's model call, or inside the
  checkpoint transaction) loses nothing and counts nothing twice: on resume every branch of the
  superstep runs again (their model calls are repeated — the cost of writing once) and the run ends
  with the steps and state of a run never killed.

The kills are real (SIGKILL of a worker subprocess at a named crash point), on SQLite and
PostgreSQL, through the same store both paths write with.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flows import FakeModel, fanout_answer, fanout_flow, services

from nesyflow.engine import RunState, resume, start_run
from nesyflow.graph.model import OnFail
from nesyflow.review import decide
from nesyflow.store import RunStatus, new_id, open_store

WORKER = Path(__file__).parent / "crash_worker.py"
BRANCHES = 3  # fanout_flow's default
# (node, visit, attempt, kind, verdict) of every step of an uncrashed fan-out run
PLACES = [
    ("root", 1, 1, "llm", "pass"),
    *[(f"b{i}", 1, 1, "llm", "pass") for i in range(1, BRANCHES + 1)],
    ("write", 1, 1, "tool", "pass"),
]


def _places(store, run_id):
    return [(s.node, s.visit, s.attempt, s.kind, s.verdict) for s in store.steps(run_id)]


def _state(store, run_id):
    """What a run ends with, without what differs between any two runs (ids, idempotency keys)."""
    state = RunState.model_validate(store.get_run(run_id).state)
    outputs = {k: v for k, v in state.outputs.items() if k != "write"}
    return outputs, state.derived, dict(state.verdicts), state.visits, state.next_node


def _branch_answers(branch: int, *, amount: int):
    """The fan-out's model, except that ``branch`` answers with ``amount``."""

    def answers(messages):
        if messages[0]["content"].startswith(f"Branch {branch} "):
            return {"text": f"b{branch}", "amount": amount}
        return fanout_answer(messages)

    return answers


def _worker(url: str, run_id: str, out: Path, crash: tuple[str, int] | None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NESYFLOW_CRASH")}
    if crash is not None:
        env["NESYFLOW_CRASH_AT"], after = crash
        env["NESYFLOW_CRASH_AFTER"] = str(after)
    proc = subprocess.run(
        [sys.executable, str(WORKER), url, run_id, str(out), "fanout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, -9), proc.stderr
    return proc.returncode


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_server").new_database()
    return f"sqlite:///{tmp_path / 'superstep.db'}"


# root's model call is the 1st `llm:after`, branch j's the (j+1)-th; root is written alone (the
# branches read it), so the superstep's write is the 2nd `checkpoint:before_commit`.
KILLS = [
    *[(("llm:after", j + 1), f"after branch {j}'s model call", j) for j in range(1, BRANCHES + 1)],
    (("checkpoint:before_commit", 2), "inside the superstep's checkpoint", BRANCHES),
]


@pytest.mark.parametrize(("crash", "where", "lost"), KILLS, ids=[k[1] for k in KILLS])
def test_a_kill_before_the_supersteps_write_loses_nothing_and_counts_nothing_twice(
    db_url, tmp_path, crash, where, lost
):
    open_store(db_url).close()
    whole, killed = new_id(), new_id()
    assert _worker(db_url, whole, tmp_path / "whole.txt", None) == 0
    assert _worker(db_url, killed, tmp_path / "killed.txt", crash) == -9, where
    store = open_store(db_url)
    try:
        # Killed before the write: the store still has the run at the superstep's start (root's
        # step only) — no branch counted, whichever had passed its check in memory.
        assert _places(store, killed) == PLACES[:1], where
        assert store.get_run(killed).status is RunStatus.RUNNING
        assert _worker(db_url, killed, tmp_path / "killed.txt", None) == 0
        assert _places(store, killed) == PLACES == _places(store, whole)
        assert [s.seq for s in store.steps(killed)] == list(range(1, len(PLACES) + 1))
        assert _state(store, killed) == _state(store, whole)
        assert store.get_run(killed).status is RunStatus.COMPLETED
        # the tool's effect once, as in the run never killed
        assert len((tmp_path / "killed.txt").read_text().splitlines()) == 1
        # the cost: the branches that had run are asked again (root is not: it was written)
        calls = (tmp_path / "killed.txt.model.log").read_text().splitlines()
        assert len(calls) == len(PLACES) - 1 + lost, calls
        assert calls.count("Write a note about crash") == 1
    finally:
        store.close()


def test_a_fanout_writes_its_branches_in_one_checkpoint(store, tmp_path):
    """root, the superstep of the branches, the tool (with the run's end): 3 checkpoints (not 5),
    the branches' steps in branch order, each with its own check."""
    flow = fanout_flow()
    job = {"topic": "t", "path": str(tmp_path / "out.txt")}
    result = start_run(flow, job, store=store, services=services(FakeModel(fanout_answer)))
    assert result.status is RunStatus.COMPLETED and result.steps_written == len(PLACES)
    assert store.get_run(result.run_id).version == 3
    steps = store.steps(result.run_id)
    assert _places(store, result.run_id) == PLACES
    assert all(s.packs and s.packs[0]["name"] == "test_note" for s in steps[:-1])
    assert [s.output for s in steps[1:-1]] == [
        {"text": f"branch {i}", "amount": i} for i in range(1, BRANCHES + 1)
    ]


def test_a_branch_that_needs_a_person_stops_the_superstep_with_the_branches_before_it(
    store, tmp_path
):
    """b2 asks for a person (amount 60: `large`): root, b1 and b2 are written once — b2's review
    on b2's step — b3 has not run; approved and resumed, b3 runs and the run ends, no step twice."""
    answers = _branch_answers(2, amount=60)
    flow = fanout_flow()
    model = FakeModel(answers)
    job = {"topic": "t", "path": str(tmp_path / "out.txt")}
    held = start_run(flow, job, store=store, services=services(model))
    assert held.status is RunStatus.WAITING_REVIEW
    assert _places(store, held.run_id) == [*PLACES[:2], ("b2", 1, 1, "llm", "review")]
    review = store.get_review(held.review_id)
    assert review.node == "b2" and review.rules == ["large"]
    assert review.step_id == store.steps(held.run_id)[-1].id
    state = RunState.model_validate(store.get_run(held.run_id).state)
    assert state.outputs["b1"] == {"text": "branch 1", "amount": 1} and "b3" not in state.visits
    decide(held.review_id, "approve", "ops", "fine", store=store, workflow=flow)
    done = resume(held.run_id, store=store, services=services(model), workflow=flow)
    assert done.status is RunStatus.COMPLETED, done.error
    places = [p[:4] for p in _places(store, held.run_id)]
    assert places == [p[:4] for p in [*PLACES[:3], ("b2", 1, 1, "decision"), *PLACES[3:]]]
    assert len(model.calls) == len(PLACES) - 1  # every model call once


def test_a_branch_reasked_ends_the_superstep_and_the_next_one_starts_after_it(store, tmp_path):
    """b2 breaks a rule once (reask): root, b1, b2's failed attempt are written together, b2's
    second attempt passes and b3 runs; the steps are each recorded once, in order."""
    tries: dict[str, int] = {}

    def answers(messages):
        first = messages[0]["content"]
        if first.startswith("Branch 2 "):
            tries["b2"] = tries.get("b2", 0) + 1
            if tries["b2"] == 1:
                return {"text": "b2", "amount": 150}
        return fanout_answer(messages)

    result = start_run(
        fanout_flow(),
        {"topic": "t", "path": str(tmp_path / "out.txt")},
        store=store,
        services=services(FakeModel(answers)),
    )
    assert result.status is RunStatus.COMPLETED
    assert _places(store, result.run_id) == [
        *PLACES[:2],
        ("b2", 1, 1, "llm", "fail"),
        ("b2", 1, 2, "llm", "pass"),
        *PLACES[3:],
    ]
    # root; b1 + b2's failed attempt; b2's second attempt + b3; the tool and the end
    assert store.get_run(result.run_id).version == 4


def test_a_branch_rejected_ends_the_run_with_the_passing_branches_recorded(store, tmp_path):
    answers = _branch_answers(3, amount=150)
    result = start_run(
        fanout_flow(on_fail=OnFail(policy="reject")),
        {"topic": "t", "path": str(tmp_path / "out.txt")},
        store=store,
        services=services(FakeModel(answers)),
    )
    assert result.status is RunStatus.REJECTED and "at most 100" in (result.error or "")
    assert _places(store, result.run_id) == [*PLACES[:3], ("b3", 1, 1, "llm", "fail")]
    assert not (tmp_path / "out.txt").exists()  # the tool after the fan-out never ran


def test_a_node_reading_a_branch_of_the_superstep_starts_a_new_one(store, tmp_path):
    """A chain is not a superstep: each node reads the one before it, so each is written on its
    own (what it read is in the store before it counts)."""
    from flows import Note, Request

    from nesyflow.graph.builder import WorkflowBuilder

    b = WorkflowBuilder("chain", Request, model="scripted/test")
    b.llm("a", prompt="A {{ t }}", input={"t": "input.topic"}, output=Note, next="b")
    b.llm("b", prompt="B {{ t }}", input={"t": "a.output.text"}, output=Note, next="c")
    b.llm("c", prompt="C {{ t }}", input={"t": "b.output.text"}, output=Note)
    model = FakeModel(lambda m: {"text": m[0]["content"], "amount": 1})
    result = start_run(
        b.build(start="a"), {"topic": "t", "path": "-"}, store=store, services=services(model)
    )
    assert result.status is RunStatus.COMPLETED
    assert store.get_run(result.run_id).version == 3  # a, b, c (with the end)


def test_what_a_superstep_holds_is_never_written_by_a_runner_that_stops(store, tmp_path):
    """The held steps live only in the runner until the superstep's write: a runner interrupted
    in the middle (an exception out of the loop) leaves the run at the superstep's start, and a
    resume runs it whole."""
    calls = {"n": 0}

    def answers(messages):
        calls["n"] += 1
        if calls["n"] == 3:  # b2's first call: the process "dies" here
            raise KeyboardInterrupt
        return fanout_answer(messages)

    flow = fanout_flow()
    job = {"topic": "t", "path": str(tmp_path / "out.txt")}
    run_id = new_id()
    with pytest.raises(KeyboardInterrupt):
        start_run(flow, job, store=store, services=services(FakeModel(answers)), run_id=run_id)
    assert _places(store, run_id) == PLACES[:1]
    done = resume(run_id, store=store, services=services(FakeModel(fanout_answer)), workflow=flow)
    assert done.status is RunStatus.COMPLETED and _places(store, run_id) == PLACES


def test_a_superstep_is_written_before_it_outlasts_half_the_lease(store, tmp_path):
    """A driver renews its run's lease only by writing: a superstep held past half the lease is
    written at once (here the lease is 0 s, so every branch is its own checkpoint, as before)."""
    store.lease_seconds = 0.0
    result = start_run(
        fanout_flow(),
        {"topic": "t", "path": str(tmp_path / "out.txt")},
        store=store,
        services=services(FakeModel(fanout_answer)),
    )
    assert result.status is RunStatus.COMPLETED and _places(store, result.run_id) == PLACES
    assert store.get_run(result.run_id).version == len(PLACES)  # one checkpoint per step


def test_a_superstep_under_group_commit_is_recorded_once(monkeypatch, tmp_path):
    """Group commit buffers a superstep's checkpoint like any other: root, the branches' three
    steps in one buffered move, then two more buffered steps numbered after them (a node reading
    b3, one reading it), then the end; each step stored once, in order, seqs consecutive."""
    from flows import NOTE_PACK, Note, Request

    from nesyflow.graph.builder import WorkflowBuilder

    monkeypatch.setenv("NESYFLOW_GROUP_COMMIT", "8")
    b = WorkflowBuilder("fanout_then_chain", Request, model="scripted/test")
    note = {"output": Note, "packs": [NOTE_PACK]}
    b.llm(
        "root", prompt="Write a note about {{ t }}", input={"t": "input.topic"}, next="b1", **note
    )
    for i in (1, 2, 3):
        nxt = f"b{i + 1}" if i < 3 else "c"
        b.llm(
            f"b{i}",
            prompt=f"Branch {i} of {{{{ t }}}}",
            input={"t": "root.output.text"},
            next=nxt,
            **note,
        )
    b.llm("c", prompt="C {{ t }}", input={"t": "b3.output.text"}, next="d", **note)
    b.llm("d", prompt="D {{ t }}", input={"t": "c.output.text"}, **note)
    flow = b.build(start="root")
    store = open_store(f"sqlite:///{tmp_path / 'group.db'}")
    try:
        assert store.group_commit == 8
        model = FakeModel(fanout_answer)
        job = {"topic": "t", "path": "-"}
        ids = [start_run(flow, job, store=store, services=services(model)).run_id for _ in "ab"]
        for run_id in ids:
            places = [p[0] for p in _places(store, run_id)]
            assert places == ["root", "b1", "b2", "b3", "c", "d"]
            assert [s.seq for s in store.steps(run_id)] == [1, 2, 3, 4, 5, 6]
            assert store.get_run(run_id).status is RunStatus.COMPLETED
    finally:
        store.close()
