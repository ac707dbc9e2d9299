"""The airline baggage agent: the reader takes every value from the description (one bag per
numbered line, no model), the pack's gazetteer maps the cities, and the fee rules compute the gold
total on the 30 RuleArena samples and on 20 held-out descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.logic import check, load_pack

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "airline_baggage"
CASES = load_samples(AGENT / "samples.jsonl")
HELDOUT = load_samples(AGENT / "heldout.jsonl")


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
    assert list(flow.nodes) == ["read", "ticket", "fees"]
    assert all(node.kind != "llm" for node in flow.nodes.values())  # nothing needs the model


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


def total_of(case):
    """The agent's total for a case, as the workflow computes it, without the engine."""
    reader = load_module(AGENT / "reader.py")
    tools = load_module(AGENT / "tools.py")
    trip = reader.read_trip(reader.ReadArgs(prompt=case["prompt"])).trip
    ticket = tools.to_ticket(tools.TripArgs.model_validate(trip.model_dump(mode="json")))
    return check(load_pack(ROOT / "rules" / "airline_baggage"), ticket, timeout=10)


def test_every_sample_and_heldout_case_gets_the_gold_total():
    """The reading is exact on all 50 descriptions: the rules' total is the gold total, and the
    held-out gold totals are the pack's on the gold facts (the pack is proven on the samples)."""
    assert len(HELDOUT) >= 20
    pack = load_pack(ROOT / "rules" / "airline_baggage")
    for case in HELDOUT:
        assert (
            check(pack, case["info"], timeout=10).derived["total_cost"] == case["gold_total_cost"]
        )
    wrong = [
        c["idx"]
        for c in [*CASES, *HELDOUT]
        if total_of(c).derived.get("total_cost") != c["gold_total_cost"]
    ]
    assert wrong == []


def test_bags_come_from_the_numbered_lines_with_their_provenance():
    reader = load_module(AGENT / "reader.py")
    case = CASES[0]
    got = reader.read_trip(reader.ReadArgs(prompt=case["prompt"]))
    assert [b.model_dump() for b in got.trip.bags] == [
        {"name": b["name"], "size": b["size"], "weight": b["weight"]}
        for b in case["info"]["bag_list"]
    ]
    size = next(r for r in got.readings if r.field == "bags.0.size")
    assert case["prompt"][size.start : size.end] == "22 x 13 x 6"


def test_unknown_city_goes_to_a_person(flow, store):
    case = dict(CASES[0])
    case["prompt"] = case["prompt"].replace("to Philadelphia", "to Atlantis")
    result = start_run(flow, case, store=store)
    assert result.status.value == "waiting_review"
    assert "Atlantis" in store.get_review(result.review_id).reasons[0].message


def test_a_bag_line_without_a_weight_goes_to_a_person_with_the_line(flow, store):
    case = dict(CASES[0])
    case["prompt"] = case["prompt"].replace("22 x 13 x 6 inches, 10 lbs", "22 x 13 x 6 inches")
    result = start_run(flow, case, store=store)
    assert result.status.value == "waiting_review"
    message = store.get_review(result.review_id).reasons[0].message
    assert "bags.0.weight: not found in line" in message and "22 x 13 x 6" in message


@pytest.mark.parametrize("index", [0, 7, 29])
def test_a_run_gives_the_gold_total(flow, store, index):
    case = CASES[index]
    result = start_run(flow, case, store=store)
    fees = next(s for s in store.steps(result.run_id) if s.node == "fees")
    totals = [r["derived"].get("total_cost") for r in fees.check["results"]]
    assert totals == [case["gold_total_cost"]]
