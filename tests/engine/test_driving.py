"""One driver per run and one run per request, through the engine's entry points: a run someone
else drives is refused without a step written (a sentence and exit 2 on the command line), the
lease is given up when a run pauses or ends, the input's ``id`` names one run, and a tool keeps its
effect in the run's store once (``record_once``) — never outside a run."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from flows import FakeModel, note_flow, services
from pydantic import BaseModel
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.engine import OutsideRun, claim_once, record_once, resume, start_run
from nesyflow.errors import InputError
from nesyflow.graph.builder import WorkflowBuilder
from nesyflow.store import LeaseHeld, RunStatus

CRASH_FLOW = Path(__file__).parent / "crash_flow" / "flow.yaml"


class Order(BaseModel):
    id: str | None = None
    text: str


class Booked(BaseModel):
    text: str
    first: bool


CALLS: list[str] = []


def book(args: Order) -> Booked:
    CALLS.append(args.text)
    record = record_once("test.booking", {"text": args.text})
    return Booked(text=record.data["text"], first=record.data["text"] == args.text)


def _note_run(store, tmp_path, model):
    """The note workflow (no second tool) started on one topic: it pauses for a person."""
    return start_run(
        note_flow(second_tool=False),
        {"topic": "t", "path": str(tmp_path / "o")},
        store=store,
        services=services(model),
    )


def _order_flow():
    b = WorkflowBuilder("orders", Order)
    b.tool("book", book, input={"text": "input.text", "id": "input.id"}, output=Booked)
    return b.build(start="book")


def test_a_run_another_process_drives_is_refused_and_nothing_is_written(store, tmp_path):
    model = FakeModel([{"text": "a", "amount": 150}] * 9)
    flow = note_flow(second_tool=False)
    result = start_run(
        flow, {"topic": "t", "path": str(tmp_path / "o")}, store=store, services=services(model)
    )
    assert result.status is RunStatus.WAITING_REVIEW
    assert store.get_lease(result.run_id) is None  # given up at the pause
    steps = len(store.steps(result.run_id))
    store.acquire_lease(result.run_id, "elsewhere:4242:x", seconds=600)  # a live driver elsewhere
    with pytest.raises(LeaseHeld, match="being driven by another process"):
        resume(result.run_id, store=store, services=services(model))
    assert len(store.steps(result.run_id)) == steps and len(model.calls) == 3
    cli = CliRunner().invoke(app, ["resume", result.run_id, "--db", store.url])
    assert cli.exit_code == 2 and "is being driven by another process" in cli.output
    store.release_lease(result.run_id, "elsewhere:4242:x")
    assert resume(result.run_id, store=store, services=services(model)).status is (
        RunStatus.WAITING_REVIEW
    )


def test_a_new_run_is_driven_under_the_lease_its_creation_took(store):
    """start_run takes the lease with the run (one transaction, not three): inside the run's
    first step its driver already holds it, and it is given up when the run ends."""
    seen: list[str | None] = []

    def look(args: Order) -> Booked:
        from nesyflow.engine.run_view import current_run

        view = current_run()
        assert view is not None
        lease = store.get_lease(view.run_id)
        seen.append(None if lease is None else lease.holder)
        return Booked(text=args.text, first=True)

    b = WorkflowBuilder("looks", Order)
    b.tool("look", look, input={"text": "input.text", "id": "input.id"}, output=Booked)
    result = start_run(b.build(start="look"), {"text": "x"}, store=store)
    assert result.status is RunStatus.COMPLETED
    assert len(seen) == 1 and seen[0] is not None and seen[0].count(":") >= 2
    assert store.get_lease(result.run_id) is None


def test_the_checkpoint_that_finishes_a_run_gives_the_lease_up_in_its_own_transaction(
    store, monkeypatch, tmp_path
):
    """Finishing a run writes no transaction of its own: the last checkpoint deletes the lease
    (fenced: only while it is still this driver's). A run that waits for a person keeps it to
    the end of the drive (a decision's recheck checkpoints while waiting and then moves on) and
    gives it up after."""
    model = FakeModel([{"text": "a", "amount": 150}] * 9)
    paused = _note_run(store, tmp_path, model)
    assert paused.status is RunStatus.WAITING_REVIEW and store.get_lease(paused.run_id) is None

    def no_separate_release(run_id: str, holder: str) -> None:
        raise AssertionError("the lease should have gone with the last checkpoint")

    monkeypatch.setattr(store, "release_lease", no_separate_release)
    done = start_run(_order_flow(), {"text": "y"}, store=store)
    assert done.status is RunStatus.COMPLETED and store.get_lease(done.run_id) is None


def test_two_threads_driving_one_run_one_is_refused(store):
    """Two drivers in one process (two threads) are two holders: one drives, one is refused."""
    gate, inside = threading.Event(), threading.Event()
    entered: list[str] = []

    def slow(args: Order) -> Booked:
        entered.append(threading.current_thread().name)
        inside.set()
        gate.wait(30)
        return Booked(text=args.text, first=True)

    b = WorkflowBuilder("slow", Order)
    b.tool("book", slow, input={"text": "input.text"}, output=Booked)
    flow = b.build(start="book")
    run = store.create_run("slow", {"text": "x"}, state={"next_node": "book"}, current_node="book")
    outcomes: dict[str, str] = {}

    def drive(name: str) -> None:
        try:
            outcomes[name] = resume(run.id, store=store, workflow=flow).status.value
        except LeaseHeld:
            outcomes[name] = "refused"

    first = threading.Thread(target=drive, args=("a",), name="a")
    first.start()
    assert inside.wait(30)
    drive("b")  # while a is inside the tool
    gate.set()
    first.join(30)
    assert outcomes == {"a": "completed", "b": "refused"} and entered == ["a"]


def test_the_same_request_id_is_one_run(store):
    CALLS.clear()
    flow = _order_flow()
    one = start_run(flow, {"id": "req-7", "text": "pay 10"}, store=store)
    two = start_run(flow, {"id": "req-7", "text": "pay 10"}, store=store)
    assert one.status is RunStatus.COMPLETED and not one.resubmitted
    assert two.run_id == one.run_id and two.resubmitted and two.outputs == one.outputs
    assert CALLS == ["pay 10"] and len(store.tool_records("test.booking")) == 1
    with pytest.raises(InputError, match="already used for another input"):
        start_run(flow, {"id": "req-7", "text": "pay 99"}, store=store)
    other = start_run(flow, {"id": "req-8", "text": "pay 10"}, store=store)
    assert other.run_id != one.run_id
    # no id: every submission is its own run
    a, b = (start_run(flow, {"text": "no id"}, store=store) for _ in "ab")
    assert a.run_id != b.run_id and CALLS == ["pay 10", "pay 10", "no id", "no id"]


def test_nesyflow_run_with_a_known_request_id_prints_the_existing_run(tmp_path):
    env = {"NESYFLOW_DB": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    job = tmp_path / "job.jsonl"
    line = json.dumps({"id": "r-1", "text": "ok", "amount": 5, "path": str(tmp_path / "o")})
    job.write_text(line + "\n" + line + "\n")
    res = CliRunner().invoke(app, ["run", str(CRASH_FLOW), "--input", str(job)], env=env)
    assert res.exit_code == 0, res.output
    first, second = res.output.strip().splitlines()
    assert first.split()[0] == second.split()[0] and "submitted before" in second
    assert (tmp_path / "o.calls").read_text().count("\n") == 1  # the tool ran once


def test_record_once_belongs_to_a_tool_call_of_a_run():
    with pytest.raises(OutsideRun, match="from a tool that a run is calling"):
        record_once("test.booking", {"x": 1})
    with pytest.raises(OutsideRun, match="from a tool that a run is calling"):
        claim_once("test.booking", "B-1")


def test_a_request_id_past_the_stores_limit_or_odd_is_handled(store):
    flow = _order_flow()
    with pytest.raises(InputError, match="at most 400"):
        start_run(flow, {"id": "x" * 401, "text": "t"}, store=store)
    big = start_run(flow, {"id": str(2**63 + 1), "text": "t"}, store=store)  # past 64 bits
    assert start_run(flow, {"id": str(2**63 + 1), "text": "t"}, store=store).run_id == big.run_id
    blank = [start_run(flow, {"id": "  ", "text": "t"}, store=store) for _ in "ab"]
    assert blank[0].run_id != blank[1].run_id  # a blank id is no id


def test_a_decision_on_a_run_another_process_drives_is_recorded_and_says_so(store, tmp_path):
    model = FakeModel([{"text": "a", "amount": 150}] * 3)
    result = _note_run(store, tmp_path, model)
    store.acquire_lease(result.run_id, "elsewhere:4242:x", seconds=600)
    cli = CliRunner().invoke(
        app,
        ["reviews", "reject", result.review_id, "--db", store.url, "--who", "ann"],
    )
    assert cli.exit_code == 2
    assert "is decided and recorded, but the run was not continued" in cli.output
    assert store.decision_for(result.review_id).who == "ann"
    assert store.get_run(result.run_id).status is RunStatus.WAITING_REVIEW
