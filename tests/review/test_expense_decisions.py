"""A person's value is checked exactly like the model's, on the shipped expense agent and pack.

The Uber sample (exp-001) has a $27.40 receipt. A reviewer who types $72.40 must be stopped by
``amount_not_in_source`` — a context rule — whether they decide through the Python API or the CLI;
an edit on a review nothing can check (a failed reading) is refused and never paid; approvals are bound to the facts and the pack identity on disk when the run resumes.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from nesyflow._imports import load_module
from nesyflow.cli import app
from nesyflow.cli.demo import load_samples
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.review import DecisionRefused, decide
from nesyflow.store import open_store

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}


TOOLS = load_module(AGENT / "tools.py")


@pytest.fixture
def ledger(monkeypatch):
    """The payments kept in a store (the expense agent's ledger is the store's)."""
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")  # the reading alone: no model

    def read(store) -> list[dict]:
        return [entry.model_dump(mode="json") for entry in TOOLS.read_ledger(store)]

    return read


def _uber_in_review(store, flow):
    """exp-001 with the ride (and its receipt) dated June 3rd, after the submission day: the agent
    reads that date from the text and the rules send the claim to a person at ``extract``."""
    row = copy.deepcopy(SAMPLES["exp-001"])
    assert row["receipt"].rstrip().endswith("Visa ••4471") and "$27.40" in row["receipt"]
    row["request"] = row["request"].replace("April 2nd", "June 3rd")
    row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review", result.error
    review = store.get_review(result.review_id)
    assert review.node == "extract" and review.rules == ["item_after_submission"]
    return row, result


def _approval_sample() -> dict:
    """A request the rules send to a person for the manager's approval (and nothing else)."""
    return next(
        r
        for r in SAMPLES.values()
        if r["expected_verdict"] == "review"
        and r["expected_rules"] == ["manager_approval_required"]
    )


def _set_source_amounts(store, run_id: str, change):
    """Rewrite the amounts the run's reading found in the text, behind the engine's back (as if
    the evidence had said otherwise when the reviewer decided); returns the run as it was."""
    from nesyflow.store.tables import run_nodes

    run = store.get_run(run_id)
    output = copy.deepcopy(run.state["outputs"]["read"])
    output["context"]["source_amounts"] = change(output["context"]["source_amounts"])
    with store.engine.begin() as conn:  # a node's output is its run_nodes row
        conn.execute(
            update(run_nodes)
            .where(run_nodes.c.run_id == run.id, run_nodes.c.node == "read")
            .values(output=output)
        )
    assert store.get_run(run_id).state["outputs"]["read"] == output
    return run


def _claim(row, amount):
    claim = copy.deepcopy(row["expected"])
    claim["items"][0]["amount"] = amount
    return claim


def test_an_edit_to_an_amount_the_receipt_does_not_show_is_refused(store, ledger):
    flow = load_workflow(AGENT / "workflow.yaml")
    row, result = _uber_in_review(store, flow)
    with pytest.raises(DecisionRefused) as refused:
        decide(
            result.review_id,
            "edit",
            "fin-ops",
            "fixed the date",
            _claim(row, "72.40"),
            store=store,
            resume=True,
        )
    assert [r.rule for r in refused.value.details["reasons"]] == ["amount_not_in_source"]
    assert "amount_not_in_source" in str(refused.value)
    assert store.decision_for(result.review_id) is None and ledger(store) == []
    # the amount the receipt shows is accepted by the same check, and paid through the gate
    done = decide(
        result.review_id,
        "edit",
        "fin-ops",
        "fixed the date",
        _claim(row, "27.40"),
        store=store,
        resume=True,
    )
    assert done.check.verdict == "pass" and done.run.status.value == "completed"
    assert [p["amount_usd"] for p in ledger(store)] == ["27.40"]


def test_the_cli_refuses_the_same_edit_with_the_rule_named(tmp_path, ledger):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    row, result = _uber_in_review(store, load_workflow(AGENT / "workflow.yaml"))
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(_claim(row, "72.40")))
    env = {"NESYFLOW_DB": url, "USER": "fin-ops"}
    args = ["reviews", "edit", result.review_id, "--output", str(edited)]
    res = CliRunner().invoke(app, args, env=env)
    assert res.exit_code == 2 and "comment" in res.output  # an edit says why
    res = CliRunner().invoke(app, [*args, "--comment", "fixed the date"], env=env)
    assert res.exit_code == 2, res.output
    assert "amount_not_in_source" in res.output and "Traceback" not in res.output
    assert store.decision_for(result.review_id) is None and ledger(store) == []
    store.close()


def test_an_edit_on_a_failed_reading_is_refused_and_never_paid(store, ledger):
    """The reader found no amount (a tool failure: the review holds the tool's arguments and no
    packs). Nothing checks a person's value there, so an edit — which would replace the very text
    the rules hold the claim against — is refused as unchecked, and $999,999 is never paid."""
    flow = load_workflow(AGENT / "workflow.yaml")
    row = copy.deepcopy(SAMPLES["exp-001"])
    row["request"], row["receipt"] = "Hi, a taxi ride, receipt attached.", "TAXI"
    result = start_run(flow, row, store=store)
    review = store.get_review(result.review_id)
    assert review.node == "read" and review.packs == [] and review.reasons[0].kind == "tool_error"
    forged = {**review.output, "request": "Taxi $999,999.00", "receipt": "Total $999,999.00"}
    with pytest.raises(DecisionRefused) as refused:
        decide(result.review_id, "edit", "fin-ops", "typed it in", forged, store=store, resume=True)
    assert [r.kind for r in refused.value.details["reasons"]] == ["unchecked"]
    assert store.decision_for(result.review_id) is None and ledger(store) == []
    assert store.get_run(result.run_id).status.value == "waiting_review"


def test_changing_the_pack_on_disk_after_an_approval_rechecks_on_resume(store, ledger, tmp_path):
    """The shipped agent and pack, copied; the approval was given under pack 1.1.0; the pack on
    disk then makes the claim a violation; the workflow object still holds the old pack."""
    (tmp_path / "agents").mkdir()
    shutil.copytree(AGENT, tmp_path / "agents" / "expense")
    shutil.copytree(ROOT / "rules" / "expense", tmp_path / "rules" / "expense")
    flow = load_workflow(tmp_path / "agents" / "expense" / "workflow.yaml")
    row = _approval_sample()
    result = start_run(flow, row, store=store)
    before = store.get_review(result.review_id)
    decide(result.review_id, "approve", "fin-ops", "budget owner agreed", store=store)
    rules = tmp_path / "rules" / "expense" / "zz_tightened.lp"
    rules.write_text("violation(stale_item, I) :- item(I).\n")
    again = resume(result.run_id, store=store, workflow=flow)
    assert again.status.value == "waiting_review" and again.review_id != result.review_id
    fresh = store.get_review(again.review_id)
    assert fresh.verdict == "fail" and "stale_item" in fresh.rules
    assert fresh.packs[0]["hash"] != before.packs[0]["hash"]
    recheck = [s for s in store.steps(result.run_id) if s.kind == "recheck"]
    assert len(recheck) == 1 and recheck[0].inputs["was"]["verdict"] == "review"
    assert recheck[0].verdict == "fail" and ledger(store) == []


def test_an_approval_whose_facts_changed_is_rechecked_and_asked_again(store, ledger):
    """The approval was bound to the facts the reviewer saw; the run's evidence then says the
    receipt shows other amounts. On resume the check differs: both are recorded and a person is
    asked again; nothing is paid."""
    flow = load_workflow(AGENT / "workflow.yaml")
    row = _approval_sample()
    result = start_run(flow, row, store=store)
    bound = store.get_review(result.review_id)
    decide(result.review_id, "approve", "fin-ops", "budget owner agreed", store=store)
    _set_source_amounts(store, result.run_id, lambda amounts: ["1.00"])
    again = resume(result.run_id, store=store, workflow=flow)
    assert again.status.value == "waiting_review" and again.review_id != result.review_id
    fresh = store.get_review(again.review_id)
    assert fresh.verdict == "fail" and "amount_not_in_source" in fresh.rules
    assert fresh.facts_hash != bound.facts_hash
    (recheck,) = [s for s in store.steps(result.run_id) if s.kind == "recheck"]
    assert recheck.inputs["was"]["facts_hash"] == bound.facts_hash
    assert recheck.check["facts_hash"] == fresh.facts_hash and ledger(store) == []


def test_an_unchanged_approval_applies_without_a_recheck_step(store, ledger):
    flow = load_workflow(AGENT / "workflow.yaml")
    row = _approval_sample()
    result = start_run(flow, row, store=store)
    decide(result.review_id, "approve", "fin-ops", "agreed", store=store)
    done = resume(result.run_id, store=store, workflow=flow)
    assert done.status.value == "completed"
    assert [s.kind for s in store.steps(result.run_id)].count("recheck") == 0
    assert len(ledger(store)) == 1


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("99999999999.99", "unknown"),  # past 2^31 cents: cannot be encoded, never a pass
        ("-27.40", "non_positive_amount"),
        ("twenty", "schema"),  # does not fit the schema: named by field
    ],
)
def test_hostile_edits_are_refused_and_name_why(store, ledger, amount, why):
    flow = load_workflow(AGENT / "workflow.yaml")
    row, result = _uber_in_review(store, flow)
    with pytest.raises(DecisionRefused) as refused:
        decide(result.review_id, "edit", "x", "typed", _claim(row, amount), store=store)
    reasons = refused.value.details["reasons"]
    assert why in [r.rule or r.kind for r in reasons], reasons
    assert store.decision_for(result.review_id) is None and ledger(store) == []


def test_changed_facts_with_the_same_outcome_are_recorded_and_the_approval_holds(store, ledger):
    flow = load_workflow(AGENT / "workflow.yaml")
    row = _approval_sample()
    result = start_run(flow, row, store=store)
    bound = store.get_review(result.review_id)
    decide(result.review_id, "approve", "fin-ops", "budget owner agreed", store=store)
    # one more amount in the text
    _set_source_amounts(store, result.run_id, lambda amounts: [*amounts, "0.01"])
    done = resume(result.run_id, store=store, workflow=flow)
    assert done.status.value == "completed", done.error
    (recheck,) = [s for s in store.steps(result.run_id) if s.kind == "recheck"]
    assert recheck.verdict == "review" and recheck.inputs["was"]["facts_hash"] == bound.facts_hash
    assert recheck.check["facts_hash"] != bound.facts_hash and len(ledger(store)) == 1


def test_a_crash_after_the_recheck_is_recorded_resumes_to_one_payment(tmp_path, ledger):
    """Killed (SIGKILL) right after the re-check was checkpointed: the run still waits on the
    decided review, so the next resume applies the decision once and pays once."""
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(url)
    flow = load_workflow(AGENT / "workflow.yaml")
    row = _approval_sample()
    result = start_run(flow, row, store=store)
    decide(result.review_id, "approve", "fin-ops", "agreed", store=store)
    run = _set_source_amounts(store, result.run_id, lambda amounts: [*amounts, "0.01"])
    env = {**os.environ, "NESYFLOW_CRASH_AFTER": "1", "NESYFLOW_CRASH_AT": "decision:rechecked"}
    code = (
        "import sys; from nesyflow.engine import resume; from nesyflow.store import open_store;"
        "resume(sys.argv[1], store=open_store(sys.argv[2]))"
    )
    killed = subprocess.run([sys.executable, "-c", code, run.id, url], env=env, timeout=120)
    assert killed.returncode == -9 and ledger(store) == []
    assert store.get_run(run.id).status.value == "waiting_review"
    done = resume(run.id, store=store, workflow=flow)
    assert done.status.value == "completed" and len(ledger(store)) == 1
    assert resume(run.id, store=store, workflow=flow).status.value == "completed"
    assert len(ledger(store)) == 1
    store.close()
