"""The same expense item is paid once, whatever request it comes in and however runs interleave.

``paid_before`` shows the payment gate the ledger as it was when it ran, so two requests for one
item could both pass their gates before either paid. This test makes that interleaving happen for
real: run A is killed right before its payment (after its gate passed), run B pays the same item
under another request id, then A resumes — and must not pay the item a second time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
TOOLS = load_module(AGENT / "tools.py")
WORKER = Path(__file__).with_name("expense_run_worker.py")
ROW = next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-001")


def _as(request_id: str) -> dict:
    return {**ROW, "id": request_id}


def _crash_before_paying(url: str, run_id: str, row: dict) -> None:
    """Run ``row`` in a child process killed at the 4th tool call (the payment), gate passed."""
    env = {
        **os.environ,
        "NESYFLOW_EXTRACT_CHOOSER": "person",
        "NESYFLOW_CRASH_AT": "tool:before",
        "NESYFLOW_CRASH_AFTER": "4",
    }
    done = subprocess.run(
        [sys.executable, str(WORKER), url, run_id, json.dumps(row)], env=env, timeout=120
    )
    assert done.returncode == -9, "the run was meant to die right before paying"


def test_an_item_paid_meanwhile_under_another_request_is_not_paid_again(store, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(AGENT / "workflow.yaml")
    _crash_before_paying(store.url, "run-a", _as("req-a"))
    begun = store.get_effect("run-a:pay:1")
    assert begun is not None and begun.status != "done", "A's gate passed; its payment had begun"
    assert start_run(flow, _as("req-b"), store=store, run_id="run-b").status.value == "completed"

    held = resume("run-a", store=store, workflow=flow)

    assert [e.key for e in TOOLS.read_ledger(store)] == ["run-b:pay:1"]
    assert held.status.value == "waiting_review"
    reason = store.get_review(held.review_id).reasons[0]
    assert "already held by run run-b" in reason.message
    # a person who rejects it leaves the ledger as it is; resuming again pays nothing either
    decide(held.review_id, "reject", "fin-ops", "paid under req-b", store=store, workflow=flow)
    resume("run-a", store=store, workflow=flow)
    assert len(TOOLS.read_ledger(store)) == 1


def test_a_payment_resumed_after_a_crash_keeps_its_own_claim(store, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(AGENT / "workflow.yaml")
    _crash_before_paying(store.url, "run-a", _as("req-a"))
    assert resume("run-a", store=store, workflow=flow).status.value == "completed"
    assert resume("run-a", store=store, workflow=flow).status.value == "completed"
    assert [e.key for e in TOOLS.read_ledger(store)] == ["run-a:pay:1"]


def test_a_person_who_decided_over_the_duplicate_may_pay_it_again(store, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(AGENT / "workflow.yaml")
    assert start_run(flow, _as("req-a"), store=store).status.value == "completed"
    again = start_run(flow, _as("req-b"), store=store)
    assert again.status.value == "waiting_review"
    assert store.get_review(again.review_id).rules == ["duplicate_of_prior"]
    decide(
        again.review_id, "approve", "fin-ops", "two rides, same fare", store=store, workflow=flow
    )
    assert resume(again.run_id, store=store, workflow=flow).status.value == "completed"
    assert len(TOOLS.read_ledger(store)) == 2
