"""Decisions: an override needs a reason, an edit is re-checked, a reject ends the run, one wins."""

from __future__ import annotations

import threading

import pytest
from flows import FakeModel, note_flow, services

from nesyflow.engine import start_run
from nesyflow.review import DecisionRefused, decide
from nesyflow.store import AlreadyDecided, RunStatus, open_store


def _failed(store, tmp_path):
    svc = services(FakeModel([{"text": "a", "amount": 150}] * 3 + [{"text": "s", "amount": 1}]))
    result = start_run(
        note_flow(), {"topic": "t", "path": str(tmp_path / "o.txt")}, store=store, services=svc
    )
    assert result.status is RunStatus.WAITING_REVIEW
    return result, svc


def test_overriding_a_violation_needs_a_comment(store, tmp_path):
    result, svc = _failed(store, tmp_path)
    with pytest.raises(DecisionRefused, match="comment"):
        decide(result.review_id, "approve", "ann", store=store, workflow=note_flow())
    assert store.decision_for(result.review_id) is None
    done = decide(
        result.review_id,
        "approve",
        "ann",
        "customer is pre-approved",
        store=store,
        workflow=note_flow(),
        services=svc,
        resume=True,
    )
    assert done.decision.comment == "customer is pre-approved"
    assert done.run.status is RunStatus.COMPLETED


def test_an_edit_that_still_violates_is_refused_and_nothing_is_recorded(store, tmp_path):
    result, svc = _failed(store, tmp_path)
    with pytest.raises(DecisionRefused) as refused:
        decide(
            result.review_id,
            "edit",
            "ann",
            "lower",
            output={"text": "a", "amount": 120},
            store=store,
            workflow=note_flow(),
        )
    assert "at most 100" in str(refused.value)
    assert refused.value.details["reasons"][0].rule == "too_big"
    with pytest.raises(DecisionRefused, match="amount"):
        decide(
            result.review_id,
            "edit",
            "ann",
            "lower",
            output={"text": "a"},
            store=store,
            workflow=note_flow(),
        )
    assert store.get_review(result.review_id).status.value == "open"
    done = decide(
        result.review_id,
        "edit",
        "ann",
        "the amount was a typo",
        output={"text": "fixed", "amount": 20},
        store=store,
        workflow=note_flow(),
        services=svc,
        resume=True,
    )
    assert done.check.verdict == "pass" and done.run.outputs["draft"]["text"] == "fixed"


def test_reject_ends_the_run_now(store, tmp_path):
    result, _ = _failed(store, tmp_path)
    done = decide(result.review_id, "reject", "bob", "not ours", store=store)
    assert done.run.status is RunStatus.REJECTED
    assert store.get_run(result.run_id).error == "rejected by bob: not ours"
    with pytest.raises(AlreadyDecided):
        decide(result.review_id, "approve", "ann", "late", store=store)


def test_two_people_deciding_at_once_one_wins(store, tmp_path):
    result, _ = _failed(store, tmp_path)
    url = store.url
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def person(who, action):
        own = open_store(url)
        barrier.wait()
        try:
            decide(result.review_id, action, who, "because", store=own, workflow=note_flow())
            outcomes.append(who)
        except AlreadyDecided:
            outcomes.append("lost")

    threads = [
        threading.Thread(target=person, args=("ann", "approve")),
        threading.Thread(target=person, args=("bob", "reject")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes)[0] in ("ann", "bob") and outcomes.count("lost") == 1
    winner = store.decision_for(result.review_id)
    assert winner.who in outcomes


def test_an_edit_without_a_comment_is_refused(store, tmp_path):
    result, _ = _failed(store, tmp_path)
    for comment in (None, "", "   "):
        with pytest.raises(DecisionRefused, match="comment"):
            decide(
                result.review_id,
                "edit",
                "ann",
                comment,
                output={"text": "fixed", "amount": 20},
                store=store,
                workflow=note_flow(),
            )
    assert store.decision_for(result.review_id) is None


def test_an_edit_nothing_can_check_is_refused(store, tmp_path):
    """The run's workflow was built in Python and is not given: no packs can be found, so the
    edit is refused with the reason, never accepted unchecked."""
    result, _ = _failed(store, tmp_path)
    with pytest.raises(DecisionRefused, match="cannot be checked"):
        decide(
            result.review_id, "edit", "ann", "typo", output={"text": "x", "amount": 1}, store=store
        )
    assert store.decision_for(result.review_id) is None


def _packless_draft_flow():
    from flows import GUARD_PACK, Note, Request, append_line

    from nesyflow.graph.builder import WorkflowBuilder

    b = WorkflowBuilder("packless", Request, model="scripted/test")
    b.llm("draft", prompt="x", output=Note, next="write")
    b.tool(
        "write",
        append_line,
        input={"path": "input.path", "text": "draft.output.text"},
        packs=[GUARD_PACK],
    )
    return b.build(start="draft")


def test_an_edit_of_a_node_without_packs_is_checked_by_the_gate_it_feeds(store, tmp_path):
    flow = _packless_draft_flow()
    svc = services(FakeModel(["not json"] * 3))
    out = tmp_path / "o.txt"
    result = start_run(flow, {"topic": "t", "path": str(out)}, store=store, services=svc)
    review = store.get_review(result.review_id)
    assert review.packs == [] and review.output is None
    with pytest.raises(DecisionRefused) as refused:
        decide(
            review.id,
            "edit",
            "ann",
            "wrote it myself",
            output={"text": "forbidden", "amount": 1},
            store=store,
            workflow=flow,
        )
    assert [r.rule for r in refused.value.details["reasons"]] == ["forbidden_text"]
    done = decide(
        review.id,
        "edit",
        "ann",
        "wrote it myself",
        output={"text": "fine", "amount": 1},
        store=store,
        workflow=flow,
        services=svc,
        resume=True,
    )
    assert done.check.verdict == "pass" and done.run.status is RunStatus.COMPLETED
    assert [ln.split("\t")[1] for ln in out.read_text().splitlines()] == ["fine"]


def test_an_edit_of_a_node_without_packs_or_gates_is_refused(store, tmp_path):
    from flows import Note, Request

    from nesyflow.graph.builder import WorkflowBuilder

    b = WorkflowBuilder("bare", Request, model="scripted/test")
    b.llm("draft", prompt="x", output=Note)
    flow = b.build()
    svc = services(FakeModel(["not json"] * 3))
    result = start_run(flow, {"topic": "t", "path": "p"}, store=store, services=svc)
    with pytest.raises(DecisionRefused, match="nothing can check") as refused:
        decide(
            result.review_id,
            "edit",
            "ann",
            "typed it",
            output={"text": "x", "amount": 999999},
            store=store,
            workflow=flow,
        )
    assert refused.value.details["reasons"][0].kind == "unchecked"
