"""The retail agent (agents/retail_service/workflow.yaml): the model proposes the next tool call, the
retail policy checks it with the run's history BEFORE it runs, the tool runs on the run's copy of
db.json, and the loop ends when the model says done or a person is needed.

The scripted model replays train tasks' correct action sequences (then ``done``): every call is
allowed and runs once. Unsafe proposals (another user's order, a cancellation before any
authentication) are denied before the tool runs, open a review, leave the database copy unchanged,
and a reviewer's reject ends the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nesyflow._imports import load_module
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses
from nesyflow.review import decide
from nesyflow.store import RunStatus

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "retail_service"
TASKS = json.loads((ROOT / "tests/fixtures/retail/train_tasks.json").read_text(encoding="utf-8"))
BY_ID = {t["id"]: t for t in TASKS}
agent = load_module(AGENT / "agent.py")

# Yusuf Rossi (task 0) and an order of another user that is pending.
YUSUF = {"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"}
YUSUF_PENDING = "#W6247578"


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


def request(task: dict[str, Any], **extra: Any) -> dict[str, Any]:
    info = task["user_scenario"]["instructions"]
    return {
        "reason_for_call": info["reason_for_call"],
        "known_info": info.get("known_info") or "",
        **extra,
    }


def proposal(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, **arguments}


def dispatched(store, run_id: str) -> list[Any]:
    """The steps where the dispatch node's tool actually ran."""
    return [s for s in store.steps(run_id) if s.node == "dispatch" and s.kind == "tool"]


def session_of(result) -> Any:
    return agent.Session.model_validate(result.outputs["dispatch"])


def test_workflow_validates(flow):
    assert list(flow.nodes) == ["observe", "propose", "route", "prepare", "dispatch", "more"]
    assert all(flow.nodes[n].max_visits for n in ("observe", "propose", "prepare", "dispatch"))


def _other_users_pending_order(db: Any, me: str) -> str:
    return next(
        oid
        for oid in sorted(db.orders)
        if db.order(oid)["user_id"] != me and db.order(oid)["status"] == "pending"
    )


# ---- the correct sequences --------------------------------------------------------------------------

# Lookup first, at most 10 calls, each kind of write: exchange, return, modify items / address,
# cancel, user address, a transfer to a human agent (ends the run without "done").
REPLAYED = ["0", "6", "10", "13", "15", "16", "19", "22", "34", "43"]


@pytest.mark.parametrize("task_id", REPLAYED)
def test_correct_sequence_runs_every_call_once(flow, store, task_id):
    task = BY_ID[task_id]
    actions = task["evaluation_criteria"]["actions"]
    script = [proposal(a["name"], **a["arguments"]) for a in actions]
    transfer = actions[-1]["name"] == "transfer_to_human_agents"
    if not transfer:
        script.append(proposal("done"))
    with scripted_responses(script) as model:
        result = start_run(flow, request(task, confirmed=True), store=store)
    assert result.status is RunStatus.COMPLETED, result.error
    assert len(model.calls) == len(script)  # one proposal per call, no reask
    session = session_of(result)
    assert [(c.name, c.arguments) for c in session.calls] == [
        (a["name"], a["arguments"]) for a in actions
    ]
    assert all(c.verdict == "allow" and not c.approved for c in session.calls)
    # the rules allowed each call before it ran, and each ran exactly once
    steps = dispatched(store, result.run_id)
    assert len(steps) == len(actions)
    assert all(s.verdict == "pass" for s in steps)
    assert all(not s.inputs["replayed"] for s in steps)
    assert len({s.inputs["idempotency_key"] for s in steps}) == len(actions)
    assert not any(s.kind == "tool_check" for s in store.steps(result.run_id))
    assert store.reviews_for_run(result.run_id) == []
    # the writes changed the run's copy (and only it)
    writes = [a for a in actions if agent.DOMAIN.tools[a["name"]].writes]
    db = session.database()
    for a in writes:
        if "order_id" in a["arguments"]:
            assert db.order(a["arguments"]["order_id"]) != agent.RetailDB.fresh().order(
                a["arguments"]["order_id"]
            ) or any(c.error for c in session.calls)
    assert bool(session.changes.get("orders") or session.changes.get("users")) == bool(writes)


def test_the_check_sees_the_history(flow, store):
    """The exchange of task 0 is checked with the lookup and the reads before it as context."""
    task = BY_ID["0"]
    actions = task["evaluation_criteria"]["actions"]
    script = [proposal(a["name"], **a["arguments"]) for a in actions] + [proposal("done")]
    with scripted_responses(script):
        result = start_run(flow, request(task, confirmed=True), store=store)
    last = dispatched(store, result.run_id)[-1]
    assert last.facts.count("step_name(") == 4
    assert "step_found_user(" in last.facts and '"yusuf_rossi_9620"' in last.facts
    assert "context_confirmation(" in last.facts


# ---- unsafe proposals -------------------------------------------------------------------------------


def test_cancel_before_authentication_is_denied_before_it_runs(flow, store):
    task = BY_ID["0"]
    script = [proposal("cancel_pending_order", order_id=YUSUF_PENDING, reason="no longer needed")]
    with scripted_responses(script):
        result = start_run(flow, request(task, confirmed=True), store=store)
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert (review.node, review.kind, review.verdict) == ("dispatch", "tool_call", "deny")
    assert {r.rule for r in review.reasons} == {"not_authenticated"}
    assert review.output["order_id"] == YUSUF_PENDING
    assert dispatched(store, result.run_id) == []  # the tool never ran
    assert "dispatch" not in result.outputs
    session = agent.Session.model_validate(result.outputs["observe"]["session"])
    assert session.database().order(YUSUF_PENDING)["status"] == "pending"
    # a reviewer rejects: the run ends, and nothing ran
    decided = decide(review.id, "reject", "ann", comment="not authenticated", store=store)
    assert decided.run.status is RunStatus.REJECTED
    assert dispatched(store, result.run_id) == []


def test_another_users_order_is_denied_and_reject_ends_the_run(flow, store):
    task = BY_ID["0"]
    other = _other_users_pending_order(agent.RetailDB.fresh(), "yusuf_rossi_9620")
    script = [
        proposal("find_user_id_by_name_zip", **YUSUF),
        proposal("cancel_pending_order", order_id=other, reason="no longer needed"),
    ]
    with scripted_responses(script):
        result = start_run(flow, request(task, confirmed=True), store=store)
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert review.verdict == "deny" and {r.rule for r in review.reasons} == {"order_not_owned"}
    # the lookup ran; the cancellation did not; the run's database is untouched
    steps = dispatched(store, result.run_id)
    assert len(steps) == 1 and steps[0].inputs["args"]["name"] == "find_user_id_by_name_zip"
    session = session_of(result)
    assert [c.name for c in session.calls] == ["find_user_id_by_name_zip"]
    assert session.changes == {"users": {}, "orders": {}}
    assert session.database().order(other)["status"] == "pending"
    # the reviewer rejects, then the run is resumed: it is over, no tool ran, no model was asked
    decide(review.id, "reject", "ann", comment="another customer's order", store=store)
    with scripted_responses([]):
        again = resume(result.run_id, store=store, workflow=flow)
    assert again.status is RunStatus.REJECTED
    assert "rejected by ann" in (again.error or "")
    assert len(dispatched(store, result.run_id)) == 1
    kinds = [s.kind for s in store.steps(result.run_id)]
    assert kinds[-1] == "decision"


def test_unconfirmed_change_goes_to_a_person_whose_approval_is_recorded(flow, store):
    """Without the customer's yes the exchange waits for a person; approved, it runs once and the
    history records the approval; the run then goes on to 'done'."""
    task = BY_ID["0"]
    actions = task["evaluation_criteria"]["actions"]
    script = [proposal(a["name"], **a["arguments"]) for a in actions] + [proposal("done")]
    with scripted_responses(script[:-1]):
        result = start_run(flow, request(task), store=store)  # confirmed: unknown
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert review.verdict == "review"
    assert {r.rule for r in review.reasons} == {"explicit_confirmation"}
    assert len(dispatched(store, result.run_id)) == 4
    decide(review.id, "approve", "ann", comment="customer said yes on the phone", store=store)
    with scripted_responses(script[-1:]):
        done = resume(result.run_id, store=store, workflow=flow)
    assert done.status is RunStatus.COMPLETED
    session = session_of(done)
    assert [c.approved for c in session.calls] == [False] * 4 + [True]
    assert session.database().order("#W2378156")["status"] == "exchange requested"
    assert len(dispatched(store, result.run_id)) == 5


def test_incomplete_proposal_is_sent_back_then_a_tool_refusal_is_read(flow, store):
    task = BY_ID["0"]
    script = [
        proposal("find_user_id_by_name_zip", first_name="Yusuf", last_name="Rossi"),  # no zip
        proposal("find_user_id_by_name_zip", **YUSUF),
        proposal("get_order_details", order_id="#W0000000"),
        proposal("done"),
    ]
    with scripted_responses(script) as model:
        result = start_run(flow, request(task), store=store)
    assert result.status is RunStatus.COMPLETED
    assert "zip" in model.calls[1].messages[-1]["content"]  # the reask names what is missing
    session = session_of(result)
    assert session.calls[1].error == "order #W0000000 not found"
    assert "error: order #W0000000 not found" in model.calls[3].messages[-1]["content"]


def test_the_budget_hands_over_to_a_person(flow, store):
    task = BY_ID["0"]
    script = [proposal("find_user_id_by_name_zip", **YUSUF)] + [
        proposal("get_product_details", product_id="1656367028")
    ] * 2
    with scripted_responses(script):
        result = start_run(flow, request(task, max_calls=2), store=store)
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert (review.node, review.verdict) == ("propose", "review")
    assert {r.rule for r in review.reasons} == {"proposal_budget"}
    assert len(dispatched(store, result.run_id)) == 2
