"""Checkpoints write what a step changed (the run's position + the nodes it touched), and the state
a node reads on resume is rebuilt from those rows. These tests prove the rebuilt state equals the
whole state the engine held — after every checkpoint of the shipped agents' runs (expense with
its reviews decided, airline, retail grounded) — and that a run whose state an older nesyflow wrote
whole still resumes with every value.

The comparison is against ``Runner.state`` (what the engine holds and what the old layout wrote to
``runs.state`` whole), through the real store on a SQLite file; nothing is mocked but the time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flows import FakeModel, fanout_answer, fanout_flow, note_flow, services
from sqlalchemy import delete, update

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import RunState, resume, start_run
from nesyflow.engine.runner import Runner
from nesyflow.graph import load_workflow
from nesyflow.review import decide
from nesyflow.store import open_store
from nesyflow.store import tables as t

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


@pytest.fixture
def compared(monkeypatch, store):
    """Every checkpoint is followed by reading the run back (what ``resume`` reads) and comparing
    its rebuilt state with the state the engine holds; returns the list of comparisons made."""
    seen: list[tuple[str, str]] = []
    commit = Runner.commit

    def checked(self, *args, **kwargs):
        saved = commit(self, *args, **kwargs)
        held = self.state.dump()
        rebuilt = RunState.model_validate(store.get_run(self.run.id).state).dump()
        assert rebuilt == held, (self.run.id, saved.run.version)
        # same order too (the console shows outputs in the order the run made them)
        assert json.dumps(rebuilt) == json.dumps(held), (self.run.id, saved.run.version)
        seen.append((self.run.id, json.dumps(held)))
        return saved

    monkeypatch.setattr(Runner, "commit", checked)
    return seen


def _position_only(store, run_id):
    """runs.state as stored holds no per-node values (they are in run_nodes)."""
    with store.read() as conn:
        raw = conn.execute(t.runs.select().where(t.runs.c.id == run_id)).one().state
    return not ({"outputs", "derived", "verdicts", "visits"} & set(raw))


def test_expense_runs_and_their_decisions_rebuild_the_engines_state(compared, store, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(ROOT / "agents/expense/workflow.yaml")
    rows = load_samples(ROOT / "agents/expense/samples.jsonl")
    waiting = []
    for row in rows:
        result = start_run(flow, row, store=store)
        if result.status.value == "waiting_review":
            waiting.append(result)
    assert waiting, "the samples include claims that wait for a person"
    for number, result in enumerate(waiting):
        action = ("approve", "reject")[number % 2]
        decide(result.review_id, action, "fin-ops", "checked", store=store, workflow=flow)
        resume(result.run_id, store=store, workflow=flow)
    runs = {run_id for run_id, _ in compared}
    assert len(runs) == len(rows)
    assert len(compared) > 4 * len(rows)  # several checkpoints per run, each compared
    assert all(_position_only(store, run_id) for run_id in runs)


def test_airline_runs_rebuild_the_engines_state(compared, store):
    flow = load_workflow(ROOT / "agents/airline_baggage/workflow.yaml")
    cases = load_samples(ROOT / "agents/airline_baggage/samples.jsonl")
    for case in cases:
        start_run(flow, case, store=store)
    assert len({run_id for run_id, _ in compared}) == len(cases)
    assert len(compared) >= 3 * len(cases)


def test_retail_grounded_runs_rebuild_the_engines_state(compared, store):
    flow = load_workflow(ROOT / "agents/retail_service/grounded.yaml")
    tasks = json.loads((ROOT / "tests/fixtures/retail/train_tasks.json").read_text("utf-8"))
    chosen = [task for task in tasks if task["id"] in ("0", "10", "13", "34", "43")]
    for task in chosen:
        info = task["user_scenario"]["instructions"]
        start_run(
            flow,
            {
                "reason_for_call": info["reason_for_call"],
                "known_info": info["known_info"],
                "confirmed": True,
            },
            store=store,
        )
    runs = {run_id for run_id, _ in compared}
    assert len(runs) == len(chosen)
    # the dispatcher loops: nodes are visited again and their rows replaced, not appended
    assert any('"dispatch": 2' in held or '"dispatch": 3' in held for _, held in compared)


def test_reasks_reviews_and_edits_rebuild_the_engines_state(compared, store, tmp_path):
    """The paths the agents above may not take: a reask (a checkpoint between entering a node and
    its output), retries spent → a review, an edit and an approval resumed."""
    job = {"topic": "t", "path": str(tmp_path / "out.txt")}
    flow = note_flow()
    model = FakeModel(
        [{"text": "a", "amount": 150}, {"text": "a", "amount": 10}, {"text": "s", "amount": 1}]
    )
    done = start_run(flow, job, store=store, services=services(model))
    assert done.status.value == "completed"
    assert [s.attempt for s in store.steps(done.run_id) if s.node == "draft"] == [1, 2]
    for action in ("edit", "approve"):
        model = FakeModel([{"text": "a", "amount": 150}] * 3 + [{"text": "s", "amount": 1}])
        held = start_run(flow, job, store=store, services=services(model))
        assert held.status.value == "waiting_review"
        output = {"text": "b", "amount": 5} if action == "edit" else None
        decide(held.review_id, action, "ops", "by hand", output=output, store=store, workflow=flow)
        after = resume(held.run_id, store=store, services=services(model), workflow=flow)
        assert after.status.value == "completed", (action, after.error)
    assert len({run_id for run_id, _ in compared}) == 3


def test_fanout_supersteps_rebuild_the_engines_state(compared, store, tmp_path):
    """A fan-out's branches are written in one checkpoint (a superstep): after each write the
    rebuilt state equals the engine's, with every branch held in between — uncrashed, with a
    branch reasked, and with a branch that waits for a person and is approved."""
    job = {"topic": "t", "path": str(tmp_path / "out.txt")}
    flow = fanout_flow()
    tries = {"b2": 0}

    def reasked(messages):
        if messages[0]["content"].startswith("Branch 2 "):
            tries["b2"] += 1
            if tries["b2"] == 1:
                return {"text": "b2", "amount": 150}
        return fanout_answer(messages)

    def large(messages):
        if messages[0]["content"].startswith("Branch 2 "):
            return {"text": "b2", "amount": 60}
        return fanout_answer(messages)

    for answers in (fanout_answer, reasked):
        done = start_run(flow, job, store=store, services=services(FakeModel(answers)))
        assert done.status.value == "completed"
    held = start_run(flow, job, store=store, services=services(FakeModel(large)))
    assert held.status.value == "waiting_review"
    decide(held.review_id, "approve", "ops", "fine", store=store, workflow=flow)
    after = resume(held.run_id, store=store, services=services(FakeModel(large)), workflow=flow)
    assert after.status.value == "completed"
    # writes: the plain run 3 (root, the superstep, the tool with the run's end); with the reask
    # 4 (root, b1 + b2's failed attempt, b2 + b3, the tool); until the review 2 (root, b1 + b2
    # with its review) and after it 3 (the decision, b3, the tool) — each compared
    assert len(compared) == 3 + 4 + 2 + 3


def test_a_run_written_whole_by_an_older_nesyflow_resumes_with_every_value(store, monkeypatch):
    """Before run_nodes existed, runs.state held the whole state. Such a run (waiting on a person)
    is read whole, decided, resumed and paid once; its first checkpoint moves the per-node values
    into rows and runs.state keeps only the position."""
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(ROOT / "agents/expense/workflow.yaml")
    row = next(
        r
        for r in load_samples(ROOT / "agents/expense/samples.jsonl")
        if r["expected_rules"] == ["manager_approval_required"]
    )
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    whole = store.get_run(result.run_id).state
    assert whole["outputs"], "the run has outputs to lose"
    with store.write() as conn:  # the old layout: everything in runs.state, no rows
        conn.execute(delete(t.run_nodes).where(t.run_nodes.c.run_id == result.run_id))
        conn.execute(update(t.runs).where(t.runs.c.id == result.run_id).values(state=whole))
    assert store.get_run(result.run_id).state == whole
    decide(result.review_id, "approve", "fin-ops", "ok", store=store, workflow=flow)
    done = resume(result.run_id, store=store, workflow=flow)
    assert done.status.value == "completed"
    final = store.get_run(result.run_id).state
    for node, output in whole["outputs"].items():
        assert final["outputs"][node] == output, node
    assert final["visits"]["pay_approved"] == 1 and "pay_approved" in final["outputs"]
    assert _position_only(store, result.run_id)
    tools = load_module(ROOT / "agents/expense/tools.py")
    assert [e.key for e in tools.read_ledger(store)] == [f"{result.run_id}:pay_approved:1"]
