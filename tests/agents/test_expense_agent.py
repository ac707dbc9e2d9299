"""The expense agent end to end with the scripted model: a passing claim is paid once, a failing
claim is sent back to the model then to a person, a claim the policy wants reviewed goes straight to
a person, and a decision resumes the run and pays exactly once."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from nesyflow.cli.demo import load_samples
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


def ledger(tmp_path):
    file = tmp_path / "ledger.jsonl"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


def sample(sample_id, verdict):
    row = SAMPLES[sample_id]
    assert row["expected_verdict"] == verdict, "the sample file changed; pick another sample"
    return row


def first_sample(verdict, where=lambda row: True):
    """The first sample the pack gives ``verdict`` that also satisfies ``where``."""
    return next(r for r in SAMPLES.values() if r["expected_verdict"] == verdict and where(r))


def approval_sample():
    """A claim whose only finding is the approver's sign-off (a review, no violation)."""
    return first_sample("review", lambda r: r["expected_rules"] == ["manager_approval_required"])


def llm_steps(store, run_id):
    return [s for s in store.steps(run_id) if s.kind == "llm"]


def test_workflow_validates(flow):
    assert flow.name == "expense"
    assert list(flow.nodes) == ["evidence", "extract", "route", "pay", "pay_approved"]
    assert flow.nodes["extract"].on_fail.policy == "reask"
    assert flow.nodes["pay"].packs, "the payment is checked by the rules before it runs"


def test_input_accepts_a_sample_line_as_it_is(flow):
    request = flow.input_schema.model_validate(SAMPLES["exp-001"])
    assert request.employee.level == "staff" and str(request.submitted_on) == "2025-04-04"


def test_passing_claim_is_paid_once(flow, store, tmp_path):
    row = sample("exp-001", "pass")
    with scripted_responses([row["expected"]]) as script:
        result = start_run(flow, row, store=store)
    assert result.status.value == "completed", result.error
    # the prompt carries the request, the receipt and the employee fields to copy
    prompt = script.calls[0].messages[-1]["content"]
    assert (
        "Meridian client site" in prompt and "Dana Whitfield" in prompt and "2025-04-04" in prompt
    )
    paid = ledger(tmp_path)
    assert len(paid) == 1
    assert paid[0]["key"] == f"{result.run_id}:pay:1"
    assert paid[0]["amount_usd"] == "27.40" and paid[0]["employee_name"] == "Dana Whitfield"
    kinds = [(s.node, s.kind, s.verdict) for s in store.steps(result.run_id)]
    assert kinds == [
        ("evidence", "tool", None),  # no packs: not checked
        ("extract", "llm", "pass"),
        ("route", "branch", None),
        ("pay", "tool", "pass"),
    ]
    # resuming a finished run changes nothing
    assert resume(result.run_id, store=store).status.value == "completed"
    assert len(ledger(tmp_path)) == 1


def test_failing_claim_is_reasked_then_goes_to_a_person(flow, store, tmp_path):
    row = first_sample("fail", lambda r: "alcohol_not_reimbursable" in r["expected_rules"])
    bad = row["expected"]
    with scripted_responses([bad, bad]) as script:
        result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    steps = llm_steps(store, result.run_id)
    assert [s.verdict for s in steps] == ["fail", "fail"]
    assert [s.attempt for s in steps] == [1, 2]
    reask = script.calls[1].messages[-1]["content"]
    assert "Your answer breaks these rules" in reask and "Alcohol is not reimbursable" in reask
    review = store.get_review(result.review_id)
    assert review.verdict == "fail" and "alcohol_not_reimbursable" in review.rules
    assert ledger(tmp_path) == []


def test_reask_that_fixes_the_claim_is_paid(flow, store, tmp_path):
    row = sample("exp-002", "pass")
    wrong = copy.deepcopy(row["expected"])
    wrong["items"][0]["date"] = "2025-06-01"  # after the submission day
    with scripted_responses([wrong, row["expected"]]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "completed"
    assert [s.verdict for s in llm_steps(store, result.run_id)] == ["fail", "pass"]
    assert len(ledger(tmp_path)) == 1


def test_review_claim_goes_to_a_person_without_a_reask(flow, store, tmp_path):
    row = approval_sample()
    with scripted_responses([row["expected"]]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    assert len(llm_steps(store, result.run_id)) == 1
    review = store.get_review(result.review_id)
    assert review.verdict == "review" and review.rules == ["manager_approval_required"]
    assert ledger(tmp_path) == []


def test_decision_resumes_the_run_and_pays_exactly_once(flow, store, tmp_path):
    row = approval_sample()
    with scripted_responses([row["expected"]]):
        result = start_run(flow, row, store=store)
    decided = decide(
        result.review_id, "approve", "fin-ops", "budget owner agreed", store=store, workflow=flow
    )
    assert decided.run is None  # recorded, not yet applied
    first = resume(result.run_id, store=store, workflow=flow)
    assert first.status.value == "completed"
    again = resume(result.run_id, store=store, workflow=flow)
    assert again.status.value == "completed"
    paid = ledger(tmp_path)
    assert len(paid) == 1 and paid[0]["key"] == f"{result.run_id}:pay_approved:1"
    nodes = [s.node for s in store.steps(result.run_id)]
    assert nodes.count("pay_approved") == 1 and "pay" not in nodes


def test_a_payment_repeated_after_a_crash_is_not_paid_twice(flow, tmp_path, monkeypatch):
    """The tool itself: the same idempotency key twice (a resume after a crash between the payment
    and the checkpoint) writes one ledger line and returns the first payment."""
    from nesyflow.engine.run_view import call_tool as _call_tool

    monkeypatch.setenv("NESYFLOW_LEDGER", str(tmp_path / "ledger.jsonl"))
    node = flow.nodes["pay"]
    claim = node.args_schema.model_validate(SAMPLES["exp-001"]["expected"])
    one = _call_tool(node.tool, claim, "run-1:pay:1")
    two = _call_tool(node.tool, claim, "run-1:pay:1")
    assert one == two and len(ledger(tmp_path)) == 1
    _call_tool(node.tool, claim, "run-2:pay:1")
    assert len(ledger(tmp_path)) == 2


def test_the_gate_uses_the_input_not_the_model_for_who_and_when(flow, store, tmp_path):
    """The model copies the employee's level wrongly (executive instead of staff): its own claim
    passes, but the payment is checked with the level from the input and stops for a person."""
    row = first_sample(
        "fail",
        lambda r: (
            r["employee"]["level"] == "staff" and "fare_class_not_allowed" in r["expected_rules"]
        ),
    )
    claim = copy.deepcopy(row["expected"])
    claim["employee_level"] = "executive"
    claim["items"][0]["fare_class"] = "business"
    with scripted_responses([claim]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.node == "pay" and review.kind == "tool_call"
    assert "fare_class_not_allowed" in review.rules
    assert review.output["employee_level"] == "staff"
    assert ledger(tmp_path) == []


def test_unknown_claim_goes_to_a_person(flow, store, tmp_path):
    row = first_sample("unknown", lambda r: r["expected_missing"] == ["item_fx_rate"])
    with scripted_responses([row["expected"]]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.verdict == "unknown"
    missing = [r for r in review.reasons if r.kind == "missing"]
    # once, in words a reviewer reads (the field's description), and not again as the unknown reason
    assert len(missing) == 1 and len(review.reasons) == 1
    assert missing[0].message.startswith("the rules need 'item_fx_rate' (US dollars per one unit")


def test_a_misread_amount_is_caught_against_the_text_and_never_paid(flow, store, tmp_path):
    """Found by the accuracy benchmark: the local model read exp-053's "$1,450.00" bootcamp as 450,
    a claim every policy rule passes (under the approval limit), and it was paid short. The
    evidence step gives the rules the amounts the text contains; the misread amount fails, goes
    back to the model once, then to a person; nothing is paid."""
    row = SAMPLES["exp-053"]
    misread = json.loads(json.dumps(row["expected"]))
    misread["items"][0]["amount"] = "450.00"
    with scripted_responses([misread, misread]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert [r.rule for r in review.reasons] == ["amount_not_in_source"]
    assert len(llm_steps(store, result.run_id)) == 2  # the reask
    assert ledger(tmp_path) == []
    # the right amount, which the receipt shows, is accepted by the same check
    with scripted_responses([row["expected"]]):
        again = start_run(flow, row, store=store)
    review = store.get_review(again.review_id)
    assert [r.rule for r in review.reasons] == ["manager_approval_required"]
