"""The engine on small workflows with a fake model: reask, parse failures, policies, tool checks
before execution, pauses and resumes, never a pass by accident."""

from __future__ import annotations

import shutil

from flows import GUARD_PACK, NOTE_PACK, FakeModel, Note, Request, append_line, note_flow, services

from nesyflow.engine import resume, start_run
from nesyflow.graph.builder import WorkflowBuilder
from nesyflow.graph.model import OnFail
from nesyflow.review import decide
from nesyflow.store import RunStatus


def _input(tmp_path, text="t"):
    return {"topic": text, "path": str(tmp_path / "out.txt")}


def test_reask_sends_violations_in_plain_words_then_passes(store, tmp_path):
    model = FakeModel(
        [{"text": "a", "amount": 150}, {"text": "a", "amount": 10}, {"text": "s", "amount": 1}]
    )
    result = start_run(note_flow(), _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.COMPLETED
    feedback = model.calls[1][-1]["content"]
    assert "The amount must be at most 100." in feedback and "note_amount(1,150)" in feedback
    steps = store.steps(result.run_id)
    assert [(s.node, s.attempt, s.verdict) for s in steps][:2] == [
        ("draft", 1, "fail"),
        ("draft", 2, "pass"),
    ]
    assert steps[0].findings[0]["rule"] == "too_big" and "note_amount(1,150)" in steps[0].facts
    assert steps[0].tokens_in == 10 and steps[0].packs[0]["name"] == "test_note"
    assert (tmp_path / "out.txt").read_text().count("\n") == 2


def test_retries_spent_open_a_review_and_the_run_pauses(store, tmp_path):
    model = FakeModel([{"text": "a", "amount": 150}] * 3)
    result = start_run(note_flow(), _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.WAITING_REVIEW and result.review_id
    review = store.get_review(result.review_id)
    assert review.verdict == "fail" and review.rules == ["too_big"] and review.facts_hash
    assert review.output == {"text": "a", "amount": 150} and review.packs[0]["hash"]
    assert len(model.calls) == 3  # 1 + max_reasks (2)
    again = resume(result.run_id, store=store, services=services(model))
    assert again.status is RunStatus.WAITING_REVIEW and len(model.calls) == 3


def test_parse_failures_are_failed_steps_never_a_crash(store, tmp_path):
    model = FakeModel(["not json", "still not", RuntimeError("provider down")])
    result = start_run(note_flow(), _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.WAITING_REVIEW
    steps = store.steps(result.run_id)
    assert [s.error is not None for s in steps] == [True, True, True]
    assert "provider down" in steps[-1].error
    review = store.get_review(result.review_id)
    assert review.output is None and review.verdict == "fail"


def test_reject_policy_ends_the_run(store, tmp_path):
    model = FakeModel([{"text": "a", "amount": 150}])
    flow = note_flow(on_fail=OnFail(policy="reject"))
    result = start_run(flow, _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.REJECTED and "at most 100" in result.error


def test_review_verdict_goes_to_a_person_and_approval_continues(store, tmp_path):
    model = FakeModel([{"text": "a", "amount": 70}, {"text": "s", "amount": 1}])
    svc = services(model)
    result = start_run(note_flow(), _input(tmp_path), store=store, services=svc)
    assert result.status is RunStatus.WAITING_REVIEW
    assert store.get_review(result.review_id).verdict == "review"
    done = decide(
        result.review_id,
        "approve",
        "ann",
        store=store,
        workflow=note_flow(),
        services=svc,
        resume=True,
    )
    assert done.run.status is RunStatus.COMPLETED
    assert done.run.outputs["draft"] == {"text": "a", "amount": 70}


def test_denied_tool_call_never_executes(store, tmp_path):
    model = FakeModel([{"text": "forbidden", "amount": 1}])
    result = start_run(note_flow(), _input(tmp_path), store=store, services=services(model))
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert review.kind == "tool_call" and review.verdict == "deny"
    assert review.output == {"path": str(tmp_path / "out.txt"), "text": "forbidden"}
    assert not (tmp_path / "out.txt").exists()
    decide(review.id, "reject", "ann", store=store)
    assert store.get_run(result.run_id).status is RunStatus.REJECTED
    assert not (tmp_path / "out.txt").exists()


def test_approved_tool_call_runs_with_the_approved_arguments(store, tmp_path):
    model = FakeModel([{"text": "forbidden", "amount": 1}, {"text": "s", "amount": 1}])
    svc = services(model)
    result = start_run(note_flow(), _input(tmp_path), store=store, services=svc)
    done = decide(
        result.review_id,
        "edit",
        "ann",
        "the customer asked for this wording",
        output={"path": str(tmp_path / "out.txt"), "text": "allowed"},
        store=store,
        workflow=note_flow(),
        services=svc,
        resume=True,
    )
    assert done.run.status is RunStatus.COMPLETED
    assert [ln.split("\t")[1] for ln in (tmp_path / "out.txt").read_text().splitlines()] == [
        "allowed",
        "s",
    ]


def test_missing_pack_is_never_a_pass(store, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(NOTE_PACK, pack)
    b = WorkflowBuilder("gone", Request)
    b.llm("draft", prompt="x", output=Note, packs=[pack], on_fail=OnFail(policy="human"))
    flow = b.build()
    shutil.rmtree(pack)  # the workflow still holds the pack it loaded; the disk does not
    result = start_run(
        flow,
        _input(tmp_path),
        store=store,
        services=services(FakeModel([{"text": "a", "amount": 1}])),
    )
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert review.verdict == "unknown" and "did not load" in review.reasons[0].message


def test_human_and_branch_nodes(store, tmp_path):
    b = WorkflowBuilder("hb", Request)
    b.llm("draft", prompt="x", output=Note, packs=[NOTE_PACK], next="route")
    b.branch("route", [({"node": "draft", "derived": None, "verdict": ["pass"]}, "ask")])
    b.human("ask", question="Send it?", value="draft.output", next="write")
    b.tool(
        "write",
        append_line,
        input={"path": "input.path", "text": "ask.output.text"},
        packs=[GUARD_PACK],
    )
    flow = b.build(start="draft")
    svc = services(FakeModel([{"text": "hi", "amount": 3}]))
    result = start_run(flow, _input(tmp_path), store=store, services=svc)
    review = store.get_review(result.review_id)
    assert review.kind == "human" and review.question == "Send it?" and review.verdict == "review"
    done = decide(
        review.id,
        "edit",
        "ann",
        "friendlier",
        output={"text": "hello", "amount": 4},
        store=store,
        workflow=flow,
        services=svc,
        resume=True,
    )
    assert done.run.status is RunStatus.COMPLETED and done.run.outputs["ask"]["text"] == "hello"
    kinds = [s.kind for s in store.steps(result.run_id)]
    assert kinds == ["llm", "branch", "human", "decision", "tool"]


def test_pack_change_after_approval_rechecks_and_reopens(store, tmp_path):
    pack = tmp_path / "note"
    shutil.copytree(NOTE_PACK, pack)
    b = WorkflowBuilder("bind", Request)
    b.llm("draft", prompt="x", output=Note, packs=[pack])
    flow = b.build()
    svc = services(FakeModel([{"text": "a", "amount": 70}]))
    result = start_run(flow, _input(tmp_path), store=store, services=svc)
    decide(result.review_id, "approve", "ann", store=store, workflow=flow, services=svc)
    # the rules change before the run resumes: 70 is now a violation, not a review
    (pack / "rules.lp").write_text(
        "violation(too_big, N) :- note_amount(N, A), A > 60.\n"
        "review(large, N) :- note_amount(N, A), A > 50, A <= 60.\n"
    )
    again = resume(result.run_id, store=store, services=svc, workflow=flow)
    assert again.status is RunStatus.WAITING_REVIEW and again.review_id != result.review_id
    fresh = store.get_review(again.review_id)
    assert fresh.verdict == "fail", fresh.reasons
    assert fresh.rules == ["too_big"]
    assert fresh.packs[0]["hash"] != store.get_review(result.review_id).packs[0]["hash"]
