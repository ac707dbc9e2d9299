"""The airline baggage agent: the workflow validates, the gazetteer maps every sample's cities, and
a run with the scripted model's reading computes the gold total through the fee rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses

AGENT = Path(__file__).resolve().parents[2] / "agents" / "airline_baggage"
CASES = load_samples(AGENT / "samples.jsonl")


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


def reading(case):
    """What a perfect reader of the case's description writes."""
    origin, destination = re.search(r"flying from (.*?) to (.*?) with", case["prompt"]).groups()
    info = case["info"]
    return {
        "customer_class": info["customer_class"],
        "origin": origin,
        "destination": destination,
        "bags": [
            {"name": b["name"], "size": b["size"], "weight": b["weight"]} for b in info["bag_list"]
        ],
        "base_price": info["base_price"],
    }


def test_workflow_validates(flow):
    assert list(flow.nodes) == ["extract", "ticket", "fees"]


def test_samples_are_the_thirty_rulearena_cases_with_a_licence():
    assert len(CASES) == 30
    assert "Ruiwen Zhou" in (AGENT / "LICENSE").read_text()
    assert "RuleArena" in (AGENT / "NOTICE").read_text()


def test_gazetteer_maps_every_sample():
    tools = load_module(AGENT / "tools.py")
    for case in CASES:
        args = tools.TripArgs.model_validate(reading(case))
        ticket = tools.to_ticket(args)
        assert ticket.routine == case["info"]["routine"], case["idx"]
        if ticket.routine != "U.S.":
            assert ticket.direction == case["info"]["direction"], case["idx"]


def test_unknown_city_goes_to_a_person(flow, store):
    case = CASES[0]
    read = reading(case) | {"destination": "Atlantis"}
    with scripted_responses([read]):
        result = start_run(flow, case, store=store)
    assert result.status.value == "waiting_review"
    assert "Atlantis" in store.get_review(result.review_id).reasons[0].message


@pytest.mark.parametrize("index", [0, 7, 29])
def test_a_right_reading_gives_the_gold_total(flow, store, index):
    case = CASES[index]
    with scripted_responses([reading(case)]):
        result = start_run(flow, case, store=store)
    fees = next(s for s in store.steps(result.run_id) if s.node == "fees")
    totals = [r["derived"].get("total_cost") for r in fees.check["results"]]
    assert totals == [case["gold_total_cost"]]
