"""The retail agent with the grounded proposer (agents/retail_service/grounded.yaml): every argument
is a span of the conversation checked against the database, every call is checked by the rules
before it runs, and on the five train scenarios it reaches most of the correct read actions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow

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
