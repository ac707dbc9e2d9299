"""The decision log on the shipped expense agent: decisions through the CLI and the API and a
resume a person asks for are entries, in order, with who; ``nesyflow audit verify`` passes on the
untouched store and names the entry when the approved claim's decision is changed behind the
store's back (the payment itself already happened: the log is how anyone finds out)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide
from nesyflow.store import tables as t

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}


@pytest.fixture
def paused(store, monkeypatch):
    """Start claims that the rules send to a person (a ride dated after the submission day)."""
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(AGENT / "workflow.yaml")

    def start():
        row = copy.deepcopy(SAMPLES["exp-001"])
        row["id"] = f"{row['id']}-{len(store.audit_entries())}-{id(row)}"
        row["request"] = row["request"].replace("April 2nd", "June 3rd")
        row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
        result = start_run(flow, row, store=store)
        assert result.status.value == "waiting_review", result.error
        return result

    return start


def test_cli_and_api_decisions_and_a_resume_are_logged_and_verified(store, paused):
    cli = CliRunner()
    one = paused()
    out = cli.invoke(
        app,
        ["reviews", "approve", one.review_id, "-m", "date typo", "--who", "ana", "--db", store.url],
    )
    assert out.exit_code == 0, out.output
    assert store.get_run(one.run_id).status.value == "completed"
    two = paused()
    decide(two.review_id, "reject", "bo", "not ours", store=store)  # a rejection ends the run
    three = paused()
    decide(three.review_id, "approve", "cy", "fine", store=store)  # recorded, not continued
    out = cli.invoke(app, ["resume", three.run_id, "--who", "dee", "--db", store.url])
    # the run moved on: its payment gate now sees the first claim paid, and asks again
    assert out.exit_code == 0 and three.review_id not in out.output, out.output
    assert store.get_run(three.run_id).current_node == "pay_approved"

    entries = store.audit_entries()
    assert [(e.kind, e.who, e.run_id) for e in entries] == [
        ("decision", "ana", one.run_id),
        ("decision", "bo", two.run_id),
        ("decision", "cy", three.run_id),
        ("resume", "dee", three.run_id),
    ]
    assert [e.data.get("action") for e in entries[:3]] == ["approve", "reject", "approve"]
    log = cli.invoke(app, ["audit", "log", "--db", store.url, "--run", three.run_id])
    assert log.exit_code == 0 and len(log.output.splitlines()) == 2
    assert "decision approve" in log.output and "resume" in log.output and "dee" in log.output
    ok = cli.invoke(app, ["audit", "verify", "--db", store.url])
    assert ok.exit_code == 0 and "4 entries, 3 decisions: OK" in ok.output, ok.output

    # someone with the database's password turns the rejection into an approval
    decision = store.decision_for(two.review_id)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.decisions)
            .where(t.decisions.c.id == decision.id)
            .values(action="approve", comment="approved after all")
        )
    bad = cli.invoke(app, ["audit", "verify", "--db", store.url])
    assert bad.exit_code == 1
    assert (
        f"entry 2: decision_changed: decision {decision.id} differs from its entry: "
        "action: log 'reject', table 'approve'; comment: log 'not ours', table "
        "'approved after all'" in bad.output
    )
    assert "1 problem(s)" in bad.output


def test_verify_of_a_store_that_cannot_be_opened_exits_2(tmp_path):
    (tmp_path / "file").write_text("x")
    out = CliRunner().invoke(
        app, ["audit", "verify", "--db", f"sqlite:///{tmp_path / 'file' / 'store.db'}"]
    )
    assert out.exit_code == 2 and "error:" in out.output and "Traceback" not in out.output
