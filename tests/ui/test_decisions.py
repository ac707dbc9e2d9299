"""Deciding in the console goes through the one decision path: the live preview of an edit is the
check the decision makes (the node's packs from disk, its context from the run), and a pack changed
on disk after the page loaded is what the approval is checked against."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil

import pytest
from console_support import FIXTURES, REVIEWS, ROOT, app, services

from nesyflow.cli.demo import load_samples

AGENT = ROOT / "agents" / "expense"


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _text(at) -> str:
    shown = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning]
    return "\n".join(str(m.value) for m in shown)


def _sign_in(at, name="Ann Reviewer"):
    at.text_input(key="who-input-review").set_value(name)
    at.button[[b.label for b in at.button].index("Start reviewing")].click().run()
    return at


@pytest.fixture
def ledger(monkeypatch):
    """The payments kept in a store (the expense agent's ledger is the store's)."""
    from nesyflow._imports import load_module

    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")  # the reading alone: no model
    tools = load_module(AGENT / "tools.py")
    return lambda store: [e.model_dump(mode="json") for e in tools.read_ledger(store)]


def test_the_edit_preview_refuses_an_amount_the_receipt_does_not_show(console_env, ledger):
    from nesyflow.engine import start_run

    _, store = console_env()
    row = copy.deepcopy(
        next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-001")
    )
    # the ride and its receipt dated June 3rd, after the submission day: the agent reads that date
    row["request"] = row["request"].replace("April 2nd", "June 3rd")
    row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
    result = start_run(AGENT / "workflow.yaml", row, store=store)
    at = app("reviews", review=result.review_id).run()
    _sign_in(at)
    at.get("button_group")[0].set_value("Edit").run()
    key = f"edit-{result.review_id}.items.0"
    at.date_input(key=f"{key}.date").set_value(dt.date(2025, 4, 2)).run()
    at.number_input(key=f"{key}.amount").set_value(72.40).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "amount_not_in_source" in text and "not written in the request or the receipt" in text
    at.text_area(key=f"comment-edit-{result.review_id}").set_value("fixed the date")
    at.button(key="edit-btn").click().run()
    assert any("amount_not_in_source" in e for e in _errors(at))
    assert store.decision_for(result.review_id) is None and ledger(store) == []
    at.number_input(key=f"{key}.amount").set_value(27.40).run()
    assert "The edited output breaks no rule." in _text(at)
    at.button(key="edit-btn").click().run()
    assert not _errors(at), _errors(at)
    assert store.get_run(result.run_id).status.value == "completed"
    assert [p["amount_usd"] for p in ledger(store)] == ["27.40"]


def test_a_pack_changed_on_disk_after_the_page_loaded_is_what_the_approval_meets(
    console_env, tmp_path, monkeypatch
):
    from nesyflow.engine import start_run

    claims = tmp_path / "claims"
    shutil.copytree(FIXTURES / "claims", claims)
    _, store = console_env()
    monkeypatch.setenv("NESYFLOW_WORKFLOWS", str(tmp_path))
    text = json.dumps(REVIEWS)
    result = start_run(claims / "workflow.yaml", {"text": text}, store=store, services=services())
    assert store.get_review(result.review_id).verdict == "review"
    at = app("reviews", review=result.review_id).run()  # the console loads workflow and pack
    _sign_in(at)
    rules = claims / "packs" / "claim" / "rules.lp"
    rules.write_text(
        rules.read_text() + "\nviolation(over_limit, L) :- line_amount(L, A), A > 5000.\n"
    )
    at.text_area(key=f"comment-approve-{result.review_id}").set_value("fine by me")
    at.button(key="approve-btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = store.get_run(result.run_id)
    assert run.status.value == "waiting_review", run.error
    fresh = next(r for r in store.reviews_for_run(run.id) if r.id != result.review_id)
    assert fresh.verdict == "fail" and "over_limit" in fresh.rules
    assert [s.kind for s in store.steps(run.id)][-1] == "recheck"
    assert "now waits for another review" in _text(at)


def test_a_long_lived_console_with_a_cached_workflow_still_meets_the_pack_on_disk(
    console_env, tmp_path
):
    """The console keeps loaded workflows (and the packs they hold) between requests. A pack
    edited on disk after that must be what the preview and the approval are checked against."""
    from console import decisions

    from nesyflow.engine import start_run
    from nesyflow.graph import load_workflow

    claims = tmp_path / "claims"
    shutil.copytree(FIXTURES / "claims", claims)
    _, store = console_env()
    result = start_run(
        claims / "workflow.yaml", {"text": json.dumps(REVIEWS)}, store=store, services=services()
    )
    review = store.get_review(result.review_id)
    cached = load_workflow(claims / "workflow.yaml")  # what the console's cache holds
    subject = decisions.subject_for(store, review, lambda _path: cached)
    assert decisions.preview(store, review, subject, review.output).verdict == "review"
    rules = claims / "packs" / "claim" / "rules.lp"
    rules.write_text(
        rules.read_text() + "\nviolation(over_limit, L) :- line_amount(L, A), A > 5000.\n"
    )
    assert decisions.preview(store, review, subject, review.output).verdict == "fail"
    outcome = decisions.apply(store, review, "approve", "Ann", "fine by me", workflow=cached)
    assert outcome.ok and outcome.run_status == "waiting_review", outcome
    assert outcome.next_review is not None
    assert "over_limit" in store.get_review(outcome.next_review).rules


def _pick_button(at, review_id, field, value):
    prefix = f"pick-{review_id}-{field}-"
    found = [b for b in at.button if (b.key or "").startswith(prefix) and b.label == value]
    assert len(found) == 1, [
        (b.key, b.label) for b in at.button if (b.key or "").startswith(prefix)
    ]
    return found[0]


def test_one_click_on_a_candidate_starts_an_edit_that_is_rechecked_and_needs_a_comment(
    console_env, ledger
):
    """The employee wrote $2.50 (the tip), the receipt's total says $27.40: the reading is
    ambiguous. One click on the candidate 27.40 puts it in the amount's place in the edit form
    (a later pick on another field keeps it); the edit is re-checked live and is not saved
    without a comment; saved, the run pays 27.40 once."""
    from nesyflow.engine import start_run

    _, store = console_env()
    row = copy.deepcopy(
        next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-001")
    )
    row["request"] = row["request"].replace("$27.40", "$2.50")
    result = start_run(AGENT / "workflow.yaml", row, store=store)
    rid = result.review_id
    assert store.get_review(rid).rules == ["ambiguous"]
    at = app("reviews", review=rid).run()
    _sign_in(at)
    assert at.get("button_group")[0].value == "Approve"
    # the value as read is offered too, but cannot be "picked" (it is already there)
    assert _pick_button(at, rid, "items.0.amount", "2.50").disabled
    _pick_button(at, rid, "items.0.amount", "27.40").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("button_group")[0].value == "Edit"
    assert at.number_input(key=f"edit-{rid}~1.items.0.amount").value == 27.40
    assert "`items.0.amount` set to **27.40**" in _text(at)
    _pick_button(at, rid, "items.0.merchant", "Meridian").click().run()
    assert at.number_input(key=f"edit-{rid}~2.items.0.amount").value == 27.40
    assert at.text_input(key=f"edit-{rid}~2.items.0.merchant").value == "Meridian"
    _pick_button(at, rid, "items.0.merchant", "Uber").click().run()  # back to the value as read
    text = _text(at)
    # re-checked as any edit: the reading's ambiguity is still in the context, so a person's
    # approval of the picked value is what saving records
    assert "Re-checked live:" in text and "Still flagged for a person" in text
    assert "ambiguous" in text
    at.button(key="edit-btn").click().run()
    assert any("comment" in e.lower() for e in _errors(at)), _errors(at)
    assert store.decision_for(rid) is None and ledger(store) == []
    at.text_area(key=f"comment-edit-{rid}").set_value("the receipt's total, not the tip")
    at.button(key="edit-btn").click().run()
    assert not _errors(at), _errors(at)
    decision = store.decision_for(rid)
    assert decision.action.value == "edit" and decision.output["items"][0]["amount"] == "27.40"
    assert decision.output["items"][0]["merchant"] == "Uber"
    assert store.get_run(result.run_id).status.value == "completed"
    assert [p["amount_usd"] for p in ledger(store)] == ["27.40"]
