"""The retail agent with the grounded proposer (agents/retail_service/grounded.yaml): every argument
is a span of the conversation checked against the database, the retail pack computes which of the
candidate calls it allows in the current state and the next call is chosen among those only (by
the grounded policy or the model), every call is checked again by the rules before it runs, and on
the five train scenarios it reaches most of the correct read actions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "retail_service"
TASKS = {
    t["id"]: t
    for t in json.loads((ROOT / "tests/fixtures/retail/train_tasks.json").read_text("utf-8"))
}
agent = load_module(AGENT / "agent.py")


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "grounded.yaml")


def run(flow, store, reason, known=""):
    result = start_run(
        flow, {"reason_for_call": reason, "known_info": known, "confirmed": True}, store=store
    )
    steps = store.steps(result.run_id)
    out = store.get_run(result.run_id).state.get("outputs", {}).get("dispatch")
    session = agent.Session.model_validate(out) if out else agent.Session()
    return result, steps, session


def _key(name, arguments):
    return json.dumps([name, arguments], sort_keys=True)


def test_train_scenarios_reach_most_correct_actions_and_nothing_runs_unchecked(flow, store):
    reached = wanted_total = 0
    for task_id in ("0", "10", "13", "34", "43"):
        task = TASKS[task_id]
        info = task["user_scenario"]["instructions"]
        result, steps, session = run(flow, store, info["reason_for_call"], info["known_info"])
        gold = task["evaluation_criteria"]["actions"]
        wanted = Counter(_key(a["name"], a["arguments"]) for a in gold)
        for call in session.calls:
            if wanted[_key(call.name, call.arguments)] > 0:
                wanted[_key(call.name, call.arguments)] -= 1
                reached += 1
        wanted_total += len(gold)
        ran = [s for s in steps if s.node == "dispatch" and s.kind == "tool"]
        assert all(s.verdict == "pass" for s in ran), task_id  # the rules allowed every call
        assert not any(agent.DOMAIN.tools[c.name].writes for c in session.calls), task_id
        assert all(c.error is None for c in session.calls), task_id
        assert result.status.value == "completed", (task_id, result.error)
    assert reached >= 0.5 * wanted_total, (reached, wanted_total)


def test_an_order_id_the_database_does_not_know_is_never_proposed(flow, store):
    _, _, session = run(
        flow, store, "Where is my order #W0000001?", "You are Yusuf Rossi in zip code 19122."
    )
    names = [(c.name, c.arguments.get("order_id")) for c in session.calls]
    assert ("get_order_details", "#W0000001") not in names
    assert names[0][0] == "find_user_id_by_name_zip"


def test_a_customer_who_cannot_be_identified_goes_to_a_human_agent(flow, store):
    _, _, session = run(flow, store, "Cancel my order please.", "I do not remember anything.")
    assert [c.name for c in session.calls] == ["transfer_to_human_agents"]


def _grounds(steps):
    return [s.output for s in steps if s.node == "ground" and s.kind == "tool"]


def _allowed(ground):
    return {_key(o["name"], o["arguments"]) for o in ground["options"] if o["verdict"] == "allow"}


def _chosen(ground):
    p = agent.Proposal.model_validate(ground["proposal"])
    return _key(p.name, agent.tool_arguments(p.name, p))


def test_the_next_call_is_chosen_among_those_the_pack_allows_now(flow, store):
    """Task 0 names its order before the customer is identified: the order lookup is a candidate
    on the first turn, the pack denies it (not_authenticated), the identification is chosen; once
    identified, the same lookup is allowed and made."""
    info = TASKS["0"]["user_scenario"]["instructions"]
    _, steps, session = run(flow, store, info["reason_for_call"], info["known_info"])
    grounds = _grounds(steps)
    first = grounds[0]
    order = _key("get_order_details", {"order_id": "#W2378156"})
    denied = [o for o in first["options"] if _key(o["name"], o["arguments"]) == order]
    assert denied and denied[0]["verdict"] == "deny" and "not_authenticated" in denied[0]["rules"]
    assert first["proposal"]["name"] == "find_user_id_by_name_zip"
    for ground in grounds:
        if ground["chosen_by"] == "policy":
            assert _chosen(ground) in _allowed(ground)
    assert order in [_key(c.name, c.arguments) for c in session.calls]
    assert session.calls[1].name == "get_order_details"


def test_another_customers_order_is_a_candidate_the_pack_never_lets_through(flow, store):
    """#W5490111 is Mia Garcia's order; Yusuf Rossi names it. The order lookup is considered on
    every turn, denied (order_not_owned) once he is identified, and never made."""
    _, steps, session = run(
        flow, store, "What is in order #W5490111?", "You are Yusuf Rossi in zip code 19122."
    )
    theirs = _key("get_order_details", {"order_id": "#W5490111"})
    verdicts = [
        (o["verdict"], o["rules"])
        for g in _grounds(steps)
        for o in g["options"]
        if _key(o["name"], o["arguments"]) == theirs
    ]
    assert ("deny", ["order_not_owned"]) in verdicts
    assert all(v != "allow" for v, _ in verdicts)
    assert theirs not in [_key(c.name, c.arguments) for c in session.calls]
    assert session.calls[0].name == "find_user_id_by_name_zip"


def test_the_model_is_offered_only_the_calls_the_pack_allows(flow, store, monkeypatch):
    """With the model choosing, its question lists the allowed calls only (the order lookup the
    pack denies before identification is not among them); "none of these" ends the turn."""
    monkeypatch.setenv("NESYFLOW_RETAIL_CHOOSER", "model")
    info = TASKS["0"]["user_scenario"]["instructions"]
    with scripted_responses([{"answer": "A"}, {"answer": "none"}]) as script:
        result, steps, session = run(flow, store, info["reason_for_call"], info["known_info"])
    asked = [c.messages[-1]["content"] for c in script.calls]
    assert len(asked) == 2
    assert "A. find_user_id_by_name_zip(first_name=Yusuf" in asked[0]
    assert "get_order_details" not in asked[0]  # denied then: never offered
    assert "get_order_details(order_id=#W2378156)" in asked[1]
    assert [c.name for c in session.calls] == ["find_user_id_by_name_zip"]
    assert [g["chosen_by"] for g in _grounds(steps)] == ["model", "model"]
    assert result.status.value == "completed"
