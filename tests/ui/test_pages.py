"""Every console page, through Streamlit's AppTest: empty store, seeded store, filters, and the whole
decision flow (approve, edit refused then accepted, reject) changing the store and resuming runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from console_support import FAILS, PASSES, REVIEWS, app, start

from nesyflow.store import queries as q

ROOT = Path(__file__).resolve().parents[2]

PAGES = ["inbox", "reviews", "runs", "rules", "workflows"]


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [x.value for x in at.info] + [x.value for x in at.success] + [x.value for x in at.title]
    )
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(console_env, page):
    console_env()
    at = app(page).run()
    _ok(at)
    assert at.title[0].value == page.capitalize()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_seeded_store(console_env, seeded_template, page):
    _, store = console_env(seeded_template)
    at = app(page).run()
    _ok(at)
    text = _text(at)
    if page == "inbox":
        counts = q.status_counts(store)
        metrics = {m.label.split(": ", 1)[-1]: m.value for m in at.metric}
        assert metrics["To review"] == f"{counts.runs['waiting_review']:,}"
        assert metrics["Failed"] == f"{counts.runs['failed']:,}"
        assert "Oldest waiting reviews" in [s.value for s in at.subheader]
        assert len(at.get("vega_lite_chart")) >= 1  # the verdict trend
    elif page == "reviews":
        assert "**120** open reviews" in text
        assert len([b for b in at.button if str(b.key).startswith("open-")]) == 25
        assert at.get("pagination")
    elif page == "runs":
        assert at.dataframe[0].value.shape[0] == 50
    elif page == "rules":
        assert "expense" in at.selectbox(key="pack").options
        assert at.dataframe[0].value["fired"].sum() > 0
    else:
        assert at.get("graphviz_chart")


def test_queue_filters_and_pages(console_env, seeded_template):
    _, store = console_env(seeded_template)
    at = app("reviews").run()
    workflow = q.workflow_names(store)[0]
    at.selectbox(key="f-workflow").select(workflow).run()
    _ok(at)
    want = q.review_queue(store, workflow=workflow).total
    assert f"**{want}** open review" in _text(at)
    rule = q.rule_names(store)[0]
    at.selectbox(key="f-workflow").select("All").run()
    at.selectbox(key="f-rule").select(rule).run()
    assert f"**{q.review_queue(store, rule=rule).total}** open review" in _text(at)
    at.selectbox(key="f-rule").select("All").run()
    pack = q.pack_labels(store)[0]
    at.selectbox(key="f-pack").select(pack).run()
    assert f"**{q.review_queue(store, pack=pack).total}** open review" in _text(at)
    at.selectbox(key="f-pack").select("All").run()
    at.selectbox(key="f-age").select("> 7 days").run()
    old = q.review_queue(store, older_than=dt.timedelta(days=7)).total
    assert f"**{old}** open review" in _text(at)
    at.selectbox(key="f-age").select("any age").run()
    first_page = [b.key for b in at.button if str(b.key).startswith("open-")]
    at.get("pagination")[0].set_value(2).run()
    second_page = [b.key for b in at.button if str(b.key).startswith("open-")]
    assert second_page and not set(first_page) & set(second_page)
    assert "showing 26–50" in _text(at)
    at.text_input(key="f-search").set_value("no such words anywhere").run()
    assert "No open review matches." in _text(at)


def test_runs_search_and_status(console_env, seeded_template):
    _, store = console_env(seeded_template)
    at = app("runs").run()
    at.selectbox(key="r-status").select("failed").run()
    _ok(at)
    want = q.list_runs(store, status="failed").total
    assert f"**{want:,}** run" in _text(at)
    run = q.list_runs(store, status="failed").items[0]
    at.text_input(key="r-search").set_value(run.id).run()
    assert at.dataframe[0].value["run"].tolist() == [run.id]


def _open_review(store, claim):
    result = start(store, claim)
    assert result.status.value == "waiting_review"
    at = app("reviews", review=result.review_id).run()
    _ok(at)
    return result, at


def _sign_in(at, name="Ann Reviewer"):
    at.text_input(key="who-input-review").set_value(name)
    at.button[[b.label for b in at.button].index("Start reviewing")].click().run()
    return at


def test_review_shows_why_input_output_and_rule_source(console_env):
    _, store = console_env()
    _result, at = _open_review(store, FAILS)
    text = _text(at)
    assert "A single line may not exceed $500." in text
    assert "claim@1.0.0" in text
    html = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert "over_limit" in html and "background:#fff3bf" in html  # the rule's line, highlighted
    assert any("line_amount(" in c.value for c in at.code)  # the facts behind it
    assert len(at.json) >= 2  # input beside output


def test_reviewer_name_is_asked_once_and_never_blank(console_env):
    _, store = console_env()
    _, at = _open_review(store, REVIEWS)
    assert not [b for b in at.button if b.key == "approve-btn"]
    at.text_input(key="who-input-review").set_value("   ")
    at.button[[b.label for b in at.button].index("Start reviewing")].click().run()
    assert "nesyflow-session" not in at.session_state
    assert [b for b in at.button if b.key == "approve-btn"] == []
    _sign_in(at)
    assert at.session_state["nesyflow-session"].name == "Ann Reviewer"
    assert [b for b in at.button if b.key == "approve-btn"]


def test_approve_over_a_violation_needs_a_comment_then_resumes_the_run(console_env):
    _, store = console_env()
    result, at = _open_review(store, FAILS)
    _sign_in(at)
    at.button(key="approve-btn").click().run()
    assert "comment" in " ".join(e.value for e in at.error)
    assert store.get_review(result.review_id).status.value == "open"
    at.text_area(key=f"comment-approve-{result.review_id}").set_value("one-off, CFO agreed")
    at.button(key="approve-btn").click().run()
    _ok(at)
    review = store.get_review(result.review_id)
    assert review.status.value == "decided" and review.decided_by == "Ann Reviewer"
    assert store.decision_for(result.review_id).comment == "one-off, CFO agreed"
    assert store.get_run(result.run_id).status.value == "completed"
    text = _text(at)
    assert "the run continued and completed" in text and "**pay**" in text


def test_edit_is_rechecked_live_refused_while_it_violates_accepted_when_it_passes(console_env):
    _, store = console_env()
    result, at = _open_review(store, FAILS)
    _sign_in(at)
    at.get("button_group")[0].set_value("Edit").run()
    _ok(at)
    amount = at.number_input(key=f"edit-{result.review_id}.lines.0.amount")
    assert amount.value == pytest.approx(612.0)
    amount.set_value(550.0).run()
    assert "fail" in _text(at) and "A single line may not exceed $500." in _text(at)
    at.button(key="edit-btn").click().run()
    assert any("comment" in e.value for e in at.error)  # an edit says why
    at.text_area(key=f"comment-edit-{result.review_id}").set_value("the hotel was two nights")
    at.button(key="edit-btn").click().run()
    assert any("is 'fail'" in e.value for e in at.error)
    assert store.get_review(result.review_id).status.value == "open"
    at.number_input(key=f"edit-{result.review_id}.lines.0.amount").set_value(45.0).run()
    assert "The edited output breaks no rule." in _text(at)
    at.button(key="edit-btn").click().run()
    _ok(at)
    decision = store.decision_for(result.review_id)
    assert decision.action.value == "edit" and decision.output["lines"][0]["amount"] == "45.00"
    run = store.get_run(result.run_id)
    assert run.status.value == "completed"
    assert run.state["outputs"]["extract"]["lines"][0]["amount"] == "45.00"


def test_reject_ends_the_run(console_env):
    _, store = console_env()
    result, at = _open_review(store, REVIEWS)
    _sign_in(at)
    at.get("button_group")[0].set_value("Reject").run()
    at.text_area(key=f"comment-reject-{result.review_id}").set_value("duplicate claim")
    at.button(key="reject-btn").click().run()
    _ok(at)
    assert store.decision_for(result.review_id).action.value == "reject"
    assert store.get_run(result.run_id).status.value == "rejected"
    assert "the run ended (rejected)" in _text(at)


def test_run_trace_timeline_and_step_details(console_env):
    _, store = console_env()
    done = start(store, PASSES)
    at = app("runs", run=done.run_id).run()
    _ok(at)
    labels = [e.label for e in at.expander]
    assert any("#1 · extract" in x for x in labels) and any("#2 · pay" in x for x in labels)
    assert any("Read this claim" in t.value for t in at.text)  # the prompt
    assert any("line_amount(" in c.value for c in at.code)  # the facts
    assert [m.label for m in at.metric][:3] == ["Steps", "Model", "Rules"]


def test_rules_page_runs_the_pack_tests(console_env):
    console_env()
    at = app("rules").run()
    at.selectbox(key="pack").select("claim").run()
    at.button(key="run-tests").click().run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Passed": "3", "Failed": "0", "Coverage": "100%"}
    assert any("over_limit" in c.value for c in at.code)  # the source


def test_rules_page_analyses_a_pack(console_env, monkeypatch):
    console_env()
    flawed = ROOT / "tests" / "fixtures" / "packs"
    monkeypatch.setenv("NESYFLOW_RULES", str(flawed))
    at = app("rules").run()
    at.selectbox(key="pack").select("flawed").run()
    at.button(key="run-deep").click().run()
    _ok(at)
    (table,) = [d.value for d in at.dataframe if "code" in d.value.columns]
    assert sorted(table["code"]) == [
        "always_fires",
        "never_fires",
        "redundant",
        "review_shadowed",
        "two_values",
    ]
    assert table["location"].str.contains("rules.lp:").all()


def test_workflows_page_colours_nodes_by_recent_outcomes(console_env):
    _, store = console_env()
    start(store, PASSES)
    start(store, FAILS)
    at = app("workflows").run()
    at.selectbox(key="workflow").select("claims").run()
    _ok(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"extract"' in dot and '"pay"' in dot and "fillcolor" in dot
    assert "50% fail" in dot


def test_workflows_lists_files_by_name_and_says_which_does_not_load(
    console_env, tmp_path, monkeypatch
):
    """The list reads each file's ``name:`` only (loading every workflow's packs made a console's
    first Workflows screen 1.3 s); a file that is listed but does not load says so when chosen."""
    broken = tmp_path / "flows" / "broken"
    broken.mkdir(parents=True)
    (broken / "workflow.yaml").write_text("name: broken_flow\nstart: nowhere\nnodes: {}\n")
    (tmp_path / "flows" / "good").symlink_to(ROOT / "agents" / "expense")
    _, _store = console_env()
    monkeypatch.setenv("NESYFLOW_WORKFLOWS", str(tmp_path / "flows"))
    at = app("workflows").run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(at.selectbox(key="workflow").options) == {"broken_flow", "expense"}
    at.selectbox(key="workflow").select("expense").run()
    _ok(at)
    assert '"extract"' in at.get("graphviz_chart")[0].proto.spec
    at.selectbox(key="workflow").select("broken_flow").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"`{(broken / 'workflow.yaml').resolve()}` does not load: "
        f"`nesyflow validate {(broken / 'workflow.yaml').resolve()}` says why."
    ]
