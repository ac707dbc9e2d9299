"""The console never shows a sensitive value: the inbox, the queue, a review (input, output,
reasons, explanations, the edit form), a run's trace (prompt, raw output, facts, check) — checked
on everything the page rendered (every element's message, not only the visible text). The
Workflows page shows the classification. An edit made over placeholders keeps the values."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from console_support import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "govern"))

from payout_support import IBAN, PAYEE, leaks, run_payout

from nesyflow.schema.redact import placeholder


def _everything(at) -> str:
    """Every element the script produced, as its protobuf text (JSON, code, HTML, tables…)."""
    from google.protobuf import text_format

    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    # JSON inside a message is escaped again (\\u2039): read every such escape as its character
    text = "\n".join(out)
    return text + "\n" + re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def paused(console_env, tmp_path, monkeypatch):
    _url, store = console_env()
    result, _ = run_payout(store, tmp_path, monkeypatch)
    assert result.status.value == "waiting_review"
    return store, result


@pytest.mark.parametrize(
    "page,params",
    [
        ("inbox", {}),
        ("reviews", {}),
        ("reviews", {"review": "REVIEW"}),
        ("runs", {}),
        ("runs", {"run": "RUN", "step": "1"}),
        ("runs", {"run": "RUN", "step": "2"}),
    ],
)
def test_no_page_shows_a_sensitive_value(paused, page, params):
    _store, result = paused
    values = {"REVIEW": result.review_id, "RUN": result.run_id}
    at = app(page, **{k: values.get(v, v) for k, v in params.items()}).run()
    _ok(at)
    rendered = _everything(at)
    assert leaks(rendered) == []
    if params:  # the page did show the run's data: as placeholders
        assert placeholder("bank", IBAN) in rendered


def test_the_edit_form_shows_placeholders_and_an_unchanged_one_keeps_its_value(paused):
    store, result = paused
    at = app("reviews", review=result.review_id).run()
    at.text_input(key="who-input-review").set_value("Rita")
    at.button[[b.label for b in at.button].index("Start reviewing")].click().run()
    at.get("button_group")[0].set_value("Edit").run()
    form = at.text_input(key=f"edit-{result.review_id}.iban")
    assert form.value == placeholder("bank", IBAN)  # the form too shows the placeholder
    at.toggle(key=f"json-{result.review_id}").set_value(True).run()
    _ok(at)
    area = at.text_area(key=f"edit-{result.review_id}-json")
    assert leaks(area.value) == [] and placeholder("bank", IBAN) in area.value
    edited = area.value.replace('"invoice_number": ""', '"invoice_number": "INV-9"').replace(
        '"issued": null', '"issued": "2026-01-05"'
    )
    area.set_value(edited).run()
    at.text_area(key=f"comment-edit-{result.review_id}").set_value("added the invoice data")
    at.button(key="edit-btn").click().run()
    _ok(at)
    assert leaks(_everything(at)) == []
    decision = store.decision_for(result.review_id)
    assert decision is not None and decision.action.value == "edit"
    assert decision.output["iban"] == IBAN and decision.output["payee"] == PAYEE  # values kept
    assert decision.output["invoice_number"] == "INV-9"


def test_the_workflows_page_shows_the_classification(paused):
    at = app("workflows").run()
    _ok(at)
    names = [s.value for s in at.selectbox if s.label == "Workflow"]
    if names and names[0] != "payout":
        at.selectbox(key="workflow").set_value("payout").run()
    rendered = _everything(at)
    assert "Data classification" in rendered
    assert "bank" in rendered and "personal" in rendered and "10 years" in rendered
    assert "summarize" in rendered  # the node whose model is remote
