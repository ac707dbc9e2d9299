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
