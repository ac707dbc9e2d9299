"""Past human decisions as neighbours: the category a person saved in an edit of a claim joins the
faiss index of labelled examples the reader consults when the keywords leave a category open — for
the next request of the same workflow, read from the run's store (real engine, real embedding model,
real clingo). A person's label settles a later similar request only when it agrees with the
keywords' top option; when it disagrees the later request goes to a person naming that decision.
Approvals and rejections label nothing: the person did not write the value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.engine import resume, start_run
from nesyflow.extract.render import find_readings
from nesyflow.graph import load_workflow
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
READER = load_module(AGENT / "reader.py")
EMPLOYEE = {"name": "Priya Raman", "level": "staff"}
# keywords: "wireless" (telecom, the first phrase, counts double) against "udemy" + "course"
# (training): left open, so the nearest labelled examples are asked
# the carrier is a made-up name: a keyword on the receipt's header (T-MOBILE) weighs triple and
# would settle the category, and these tests need one the keywords leave open
DECIDED = {
    "id": "hotspot-june",
    "request": "Monthly wireless hotspot for the Udemy course I am taking, $30.00 on June 9.",
    "receipt": "CONNECTWAVE\n06/09/2025\nTotal 30.00",
    "submitted_on": "2025-06-12",
    "employee": EMPLOYEE,
}
LATER = {
    "id": "hotspot-july",
    "request": "Monthly wireless hotspot for my Udemy course, $30.00 on July 9. Receipt attached.",
    "receipt": "CONNECTWAVE\n07/09/2025\nTotal 30.00",
    "submitted_on": "2025-07-11",
    "employee": EMPLOYEE,
}


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


def _category(store, run_id):
    readings = find_readings(s.output for s in store.steps(run_id))
    return next(r for r in readings if r["field"] == "items.0.category")


def _later(store, flow, suffix):
    row = copy.deepcopy(LATER)
    row["id"] = f"{LATER['id']}-{suffix}"
    result = start_run(flow, row, store=store)
    return result, _category(store, result.run_id)


def _edit_category(store, flow, review_id, category):
    review = store.get_review(review_id)
    edited = copy.deepcopy(review.output)
    edited["items"][0]["category"] = category
    decide(review_id, "edit", "fin-ops", f"this is {category}", edited, store=store, workflow=flow)
    resume(review.run_id, store=store, workflow=flow)


def test_a_category_a_person_saved_settles_the_next_similar_request(flow, store):
    before, reading = _later(store, flow, "before")
    assert reading["ambiguous"] and reading["value"] == "telecom"  # the samples alone disagree
    assert "ambiguous" in store.get_review(before.review_id).rules
    first = start_run(flow, DECIDED, store=store)
    assert _category(store, first.run_id)["ambiguous"]
    _edit_category(store, flow, first.review_id, "telecom")
    assert READER.decided_examples(store, "expense") == (
        (f"review:{first.review_id}", DECIDED["request"], "telecom"),
    )
    after, reading = _later(store, flow, "after")
    assert not reading["ambiguous"] and reading["origin"] == "neighbours"
    assert reading["value"] == "telecom"
    assert f"review:{first.review_id}=telecom" in reading["detail"]
    review = store.get_review(after.review_id) if after.review_id else None
    assert review is None or "ambiguous" not in review.rules


def test_a_correction_against_the_keywords_sends_the_next_similar_request_to_a_person(flow, store):
    first = start_run(flow, DECIDED, store=store)
    _edit_category(store, flow, first.review_id, "training")
    after, reading = _later(store, flow, "after")
    assert reading["ambiguous"] and reading["value"] == "telecom"
    assert f"review:{first.review_id}=training" in reading["detail"]
    assert "ambiguous" in store.get_review(after.review_id).rules


def test_approvals_rejections_and_other_workflows_label_nothing(flow, store):
    approved = start_run(flow, DECIDED, store=store)
    decide(approved.review_id, "approve", "fin-ops", "fine as read", store=store, workflow=flow)
    row = copy.deepcopy(DECIDED)
    row["id"] = "hotspot-rejected"
    rejected = start_run(flow, row, store=store)
    decide(rejected.review_id, "reject", "fin-ops", "not ours", store=store, workflow=flow)
    assert READER.decided_examples(store, "expense") == ()
    row["id"] = "hotspot-edited"
    edited = start_run(flow, row, store=store)
    _edit_category(store, flow, edited.review_id, "telecom")
    assert len(READER.decided_examples(store, "expense")) == 1
    assert READER.decided_examples(store, "expense_model") == ()
