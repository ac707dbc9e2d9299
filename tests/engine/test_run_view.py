"""``current_run()``: a tool reads its own run's checkpointed state (a loop's history, a person's
approval) — as copies, the same on every attempt, and ``None`` outside a tool call."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flows import GUARD_PACK, NOTE_PACK, AppendArgs, Appended, FakeModel, Note, Request, services
from pydantic import BaseModel

from nesyflow.engine import RunView, current_run, resume, start_run
from nesyflow.graph.builder import WorkflowBuilder
from nesyflow.review import decide
from nesyflow.store import RunStatus

SEEN: list[RunView] = []


def record(args: AppendArgs) -> Appended:
    view = current_run()
    assert view is not None
    SEEN.append(replace(view, outputs=dict(view.outputs)))
    # what the tool does to its copy never reaches the run's state
    view.outputs.clear()  # type: ignore[attr-defined]
    return Appended(line=args.text)


class Count(BaseModel):
    path: str


class Counted(BaseModel):
    n: int


def count(args: Count) -> Counted:
    """Carry a counter through a cycle: its own previous output, absent on the first pass."""
    view = current_run()
    assert view is not None
    SEEN.append(view)
    before = view.outputs.get("count", {"n": 0})["n"]
    return Counted(n=before + 1)


def _flow() -> Any:
    b = WorkflowBuilder("view", Request, model="scripted/test")
    b.llm("draft", prompt="{{ topic }}", input={"topic": "input.topic"}, output=Note, next="write")
    b.tool(
        "write",
        record,
        input={"path": "input.path", "text": "draft.output.text"},
        output=Appended,
        packs=[GUARD_PACK],
    )
    return b.build(start="draft")


def _input(tmp_path: Any) -> dict[str, str]:
    return {"topic": "t", "path": str(tmp_path / "x")}


def test_outside_a_tool_there_is_no_run():
    assert current_run() is None


def test_a_tool_sees_its_run_and_cannot_change_it(store, tmp_path):
    SEEN.clear()
    model = FakeModel([{"text": "hello", "amount": 2}])
    result = start_run(_flow(), _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.COMPLETED
    (view,) = SEEN
    assert (view.run_id, view.workflow, view.node, view.visit) == (
        result.run_id,
        "view",
        "write",
        1,
    )
    assert view.input == _input(tmp_path)
    assert view.verdicts == {"draft": "pass"}
    assert view.visits == {"draft": 1, "write": 1}
    assert view.approved is False
    assert current_run() is None
    # the tool cleared its copy; the run's state still holds every output
    assert result.outputs["draft"] == {"text": "hello", "amount": 2}
    assert result.outputs["write"] == {"line": "hello"}


def test_approved_arguments_are_marked(store, tmp_path):
    SEEN.clear()
    flow = _flow()
    model = FakeModel([{"text": "forbidden", "amount": 1}])
    svc = services(model)
    result = start_run(flow, _input(tmp_path), store=store, services=svc)
    assert result.status is RunStatus.WAITING_REVIEW and not SEEN  # denied: the tool did not run
    decide(result.review_id, "approve", "ann", comment="fine here", store=store)
    done = resume(result.run_id, store=store, workflow=flow, services=svc)
    assert done.status is RunStatus.COMPLETED
    (view,) = SEEN
    assert view.approved is True and view.outputs["draft"]["text"] == "forbidden"


def test_a_cycle_carries_state_through_a_tools_own_previous_output(store, tmp_path):
    SEEN.clear()
    b = WorkflowBuilder("counter", Request, model="scripted/test")
    b.llm(
        "ask",
        prompt="{{ topic }}",
        input={"topic": "input.topic"},
        output=Note,
        packs=[NOTE_PACK],
        max_visits=3,
        next="count",
    )
    b.tool("count", count, input={"path": "input.path"}, output=Counted, next="again")
    b.branch("again", routes=[({"node": "ask", "verdict": ["pass"]}, "ask")])
    flow = b.build(start="ask")
    model = FakeModel([{"text": "a", "amount": 1}] * 3)
    result = start_run(flow, _input(tmp_path), store=store, services=services(model))
    # the fourth visit of 'ask' exceeds max_visits: the run fails, after three counted passes
    assert result.status is RunStatus.FAILED
    assert [v.visit for v in SEEN] == [1, 2, 3]
    assert result.outputs["count"] == {"n": 3}
