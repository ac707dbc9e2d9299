"""Sensitive values are masked in every view of a run: ``runs show`` (text and JSON), ``reviews
show/list``, ``run --format json``, a coverage suggestion; the same value always gets the same
placeholder; an admin's explicit ``--unmask`` shows them. The store keeps the values."""

from __future__ import annotations

import json

import pytest
from payout_support import IBAN, IBAN_SPACED, PAYEE, REQUEST, leaks, run_payout, workflow
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.govern import ADMIN, Viewer, may_see, run_mask
from nesyflow.schema.redact import placeholder
from nesyflow.store import open_store

runner = CliRunner()


@pytest.fixture
def paused(tmp_path, monkeypatch):
    """A payout run waiting for a person, in a store of its own; (url, store, result)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    result, _ = run_payout(store, tmp_path, monkeypatch)
    assert result.status.value == "waiting_review"
    return url, store, result


def _cli(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"USER": "ann", "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res.output


def test_runs_show_masks_every_sensitive_value_in_text_and_json(paused):
    url, store, result = paused
    raw = json.dumps([s.model_dump(mode="json") for s in store.steps(result.run_id)])
    assert IBAN in raw  # the store keeps the values (a run must resume, an approval re-check)
    text = _cli("runs", "show", result.run_id, "--db", url)
    as_json = _cli("runs", "show", result.run_id, "--db", url, "--format", "json")
    for shown in (text, as_json):
        assert leaks(shown) == []
    assert placeholder("bank", IBAN) in json.loads(as_json)["input"]["iban"]
    assert "sensitive values masked (bank, personal)" in text


def test_the_placeholder_is_stable_however_the_value_is_written(paused):
    url, _store, result = paused
    shown = json.loads(_cli("runs", "show", result.run_id, "--db", url, "--format", "json"))
    mark = placeholder("bank", IBAN)
    assert placeholder("bank", IBAN_SPACED) == placeholder("bank", IBAN.lower()) == mark
    assert shown["input"]["iban"] == mark
    assert mark in shown["input"]["text"]  # the spaced IBAN in the free text, same placeholder
    assert placeholder("bank", "DE89370400440532013001") != mark  # another account, another tag


def test_reviews_and_run_json_views_are_masked(paused, tmp_path, monkeypatch):
    url, _store, result = paused
    show = _cli("reviews", "show", result.review_id, "--db", url)
    show_json = _cli("reviews", "show", result.review_id, "--db", url, "--format", "json")
    listed = _cli("reviews", "list", "--db", url, "--format", "json")
    for shown in (show, show_json, listed):
        assert leaks(shown) == [], shown
    assert json.loads(show_json)["output"]["payee"] == placeholder("personal", PAYEE)
    replies = tmp_path / "again.jsonl"
    replies.write_text(
        json.dumps({"note": "n", "iban": placeholder("bank", "DE12500105170648489890")}) + "\n"
    )
    request = tmp_path / "req.json"
    other = {**REQUEST, "id": "p-2", "iban": "DE12500105170648489890", "payee": "Bo Ek"}
    request.write_text(json.dumps(other))
    monkeypatch.setenv("NESYFLOW_MODEL", f"replay:{replies}")
    started = runner.invoke(
        app,
        ["run", str(workflow(tmp_path)), "-i", str(request), "--db", url, "--format", "json"],
    )
    assert started.exit_code == 0, started.output
    assert "DE12500105170648489890" not in started.output and "Bo Ek" not in started.output
    assert placeholder("personal", "Bo Ek") in started.output


def test_an_admin_who_asks_sees_the_values_and_nobody_else_does(paused):
    url, store, result = paused
    unmasked = _cli("runs", "show", result.run_id, "--db", url, "--format", "json", "--unmask")
    assert IBAN in unmasked and PAYEE in unmasked
    assert not may_see(None, "bank")
    assert not may_see(Viewer("ann", frozenset({"reviewer"}), unmask=True), "bank")
    assert not may_see(Viewer("root", frozenset({ADMIN})), "bank")  # an admin who did not ask
    assert may_see(Viewer("root", frozenset({ADMIN}), unmask=True), "bank")
    admin = Viewer("root", frozenset({ADMIN}), unmask=True)
    assert not run_mask(store, result.run_id, admin)  # nothing hidden from an unmasking admin
    assert run_mask(store, result.run_id, None).kinds == ["bank", "personal"]


def test_every_record_of_the_run_is_masked_and_left_untouched_in_the_store(paused):
    _url, store, result = paused
    mask = run_mask(store, result.run_id)
    records = [store.get_run(result.run_id), *store.steps(result.run_id)]
    records += store.reviews_for_run(result.run_id)
    masked = json.dumps([mask.mask(r).model_dump(mode="json") for r in records], ensure_ascii=False)
    assert leaks(masked) == []
    assert "payout_iban(" in masked and "‹bank:" in masked  # the facts are there, masked
    assert store.get_run(result.run_id).input["iban"] == IBAN  # masking copies, never writes


def test_provenance_offsets_follow_the_masked_text():
    from nesyflow.govern import RunMask
    from nesyflow.schema.redact import Secret

    mask = RunMask([Secret("personal", "Ana Lima")])
    text = "Paid Ana Lima $300 today"
    start = text.index("$300")
    texts, readings = mask.provenance(
        {"request": text},
        [{"field": "amount", "source": "request", "start": start, "end": start + 4}],
    )
    shown = texts["request"]
    assert "Ana" not in shown
    assert shown[readings[0]["start"] : readings[0]["end"]] == "$300"


def test_a_cli_edit_written_over_the_masked_view_keeps_the_values(paused, tmp_path):
    url, store, result = paused
    shown = json.loads(_cli("reviews", "show", result.review_id, "--db", url, "--format", "json"))
    edited = {**shown["output"], "invoice_number": "INV-3", "issued": "2026-01-05"}
    assert edited["iban"] == placeholder("bank", IBAN)
    path = tmp_path / "edit.json"
    path.write_text(json.dumps(edited, ensure_ascii=False))
    out = _cli(
        "reviews", "edit", result.review_id, "-o", str(path), "-m", "invoice data", "--db", url
    )
    assert leaks(out) == []
    decision = store.decision_for(result.review_id)
    assert decision.output["iban"] == IBAN and decision.output["payee"] == PAYEE
    records = store.tool_records("payout", run_id=result.run_id)
    assert records and records[0].data["iban"] == IBAN  # paid to the real account
