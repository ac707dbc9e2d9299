"""A person settles what the reader could not: an ambiguous claim approved as read is paid once;
one corrected in review is re-checked and paid with the person's value; a request with more items
than a claim holds goes to a person with the reason, never a traceback."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


TOOLS = load_module(AGENT / "tools.py")


def ledger(store):
    """The payments kept in the store (the expense agent's ledger is the store's)."""
    return [entry.model_dump(mode="json") for entry in TOOLS.read_ledger(store)]


def conflicting():
    row = copy.deepcopy(SAMPLES["exp-001"])
    row["request"] = row["request"].replace("$27.40", "$2.50")  # the tip, not the total
    return row


def test_an_ambiguous_claim_a_person_approves_is_paid_once_as_read(flow, store, tmp_path):
    result = start_run(flow, conflicting(), store=store)
    review = store.get_review(result.review_id)
    assert review.rules == ["ambiguous"]
    decide(
        review.id,
        "approve",
        "fin-ops",
        "the employee claims the tip only",
        store=store,
        workflow=flow,
    )
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    paid = ledger(store)
    assert len(paid) == 1 and paid[0]["key"] == f"{result.run_id}:pay_approved:1"


def test_a_person_picks_the_other_candidate_and_it_is_paid_after_the_rules_check_it(
    flow, store, tmp_path
):
    result = start_run(flow, conflicting(), store=store)
    review = store.get_review(result.review_id)
    corrected = copy.deepcopy(review.output)
    corrected["items"][0]["amount"] = "27.40"
    decide(
        review.id, "edit", "fin-ops", "the receipt's total", corrected, store=store, workflow=flow
    )
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    paid = ledger(store)
    assert len(paid) == 1 and paid[0]["amount_usd"] == "27.40"


def test_more_items_than_a_claim_holds_goes_to_a_person_with_the_reason(flow, store, tmp_path):
    row = copy.deepcopy(SAMPLES["exp-001"])
    # the reader's claim holds at most 12 items (a report of five rows is a claim; thirteen
    # amounts in one message are more likely a misreading than thirteen expenses)
    amounts = [f"${10 + n}.00" for n in range(13)]
    row["request"] = (
        f"Thirteen rides: {', '.join(amounts[:-1])} and {amounts[-1]}. Receipts attached."
    )
    row["receipt"] = ""
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.kind == "tool_error"
    message = review.reasons[0].message
    assert "items" in message and "Traceback" not in message
    assert ledger(store) == []
