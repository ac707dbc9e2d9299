"""The review page offers the smallest repair the rules allow: a diff, then "accept repair" (an
edit, checked as such, with a comment) or "adjust" (the edit form, pre-filled with it)."""

from __future__ import annotations

from console_support import ROOT, app

from nesyflow.cli.demo import load_samples

AGENT = ROOT / "agents" / "expense"


def _text(at) -> str:
    shown = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning]
    return "\n".join(str(m.value) for m in shown)


def _sign_in(at, name="Ann Reviewer"):
    at.text_input(key="who-input-review").set_value(name)
    at.button[[b.label for b in at.button].index("Start reviewing")].click().run()
    return at


def _duplicate(console_env, monkeypatch):
    """The grounded agent on a request that claims the same ride twice (duplicate_in_claim)."""
    from nesyflow.engine import start_run

    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    _, store = console_env()
    row = next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-035")
    result = start_run(AGENT / "workflow.yaml", row, store=store)
    assert "duplicate_in_claim" in store.get_review(result.review_id).rules
    return store, result


def test_accepting_the_repair_is_an_edit_that_needs_a_comment(console_env, monkeypatch):
    store, result = _duplicate(console_env, monkeypatch)
    at = _sign_in(app("reviews", review=result.review_id).run())
    at.button(key="repair-btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "drop item" in text and "because duplicate_in_claim" in text
    assert "Re-checked as an edit: pass" in text
    at.button(key="repair-accept").click().run()  # no comment yet
    assert any("comment" in e.value for e in at.error), [e.value for e in at.error]
    assert store.decision_for(result.review_id) is None
    at.text_area(key=f"comment-repair-{result.review_id}").set_value("the same ride twice")
    at.button(key="repair-accept").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    decision = store.decision_for(result.review_id)
    assert decision.action.value == "edit" and decision.comment == "the same ride twice"
    assert len(decision.output["items"]) == 1 and decision.check["verdict"] == "pass"


def test_adjust_opens_the_edit_form_filled_with_the_repair(console_env, monkeypatch):
    store, result = _duplicate(console_env, monkeypatch)
    at = _sign_in(app("reviews", review=result.review_id).run())
    at.button(key="repair-btn").click().run()
    at.button(key="repair-adjust").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("button_group")[0].value == "Edit"
    assert "The edited output breaks no rule." in _text(at)  # the live re-check of the repair
    held = store.get_review(result.review_id).output
    assert len(held["items"]) == 2  # the held output is unchanged until someone saves
