"""Minimal repair on the shipped expense pack and agents: the rules choose the smallest change,
every repair offered passes the ordinary check, a search out of time is "no repair", and the CLI
and the review page offer it as an edit that is checked (and needs a comment) like any other."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesyflow._imports import load_module
from nesyflow.cli.app import app as cli
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.extract import PersonChooser
from nesyflow.insight import repair_review
from nesyflow.insight.repair import alternatives_for
from nesyflow.llm import scripted_responses
from nesyflow.logic import check, load_pack
from nesyflow.logic.repair import Alternative, search_repair
from nesyflow.review import DecisionRefused, decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}
READER = load_module(AGENT / "reader.py")
EVIDENCE = load_module(AGENT / "evidence.py")


@pytest.fixture(scope="module")
def pack():
    return load_pack(ROOT / "rules" / "expense")


@pytest.fixture
def store(tmp_path):
    from nesyflow.store import open_store

    return open_store(f"sqlite:///{tmp_path / 'store.db'}")


def reading(row):
    """What the grounded reader (no model) finds in the sample's text, with its candidates."""
    args = READER.ReadArgs(
        request=row["request"],
        receipt=row["receipt"],
        submitted_on=row["submitted_on"],
        employee=row["employee"],
        context=EVIDENCE.gather_context(
            EVIDENCE.EvidenceArgs(request=row["request"], receipt=row["receipt"])
        ),
    )
    return READER.read_with(args, PersonChooser())


def misread_uber(amount="41.20"):
    """exp-001 (an Uber ride, $27.40 on the receipt) with the model writing another amount."""
    row = SAMPLES["exp-001"]
    claim = copy.deepcopy(row["expected"])
    claim["items"][0]["amount"] = amount
    return row, claim


def test_a_misread_amount_is_repaired_to_the_receipts_total_by_the_shipped_pack(pack):
    row, claim = misread_uber()
    read = reading(row)
    context = read.context.model_dump(mode="json")
    assert check(pack, claim, context).violations[0].rule == "amount_not_in_source"
    alternatives, drops = alternatives_for(claim, pack.input_model, read.readings)
    outcome = search_repair(pack, claim, context, alternatives, drops, timeout=10)
    assert outcome.found, outcome.reason
    assert [c.describe() for c in outcome.changes] == ["change item 0 amount 41.20 → 27.40"]
    assert "“$27.40”" in outcome.changes[0].why  # the place it was read, with its offsets
    assert check(pack, outcome.value, context).verdict.value == "pass"
    # the in-process search gives the same answer as the bounded worker
    here = search_repair(pack, claim, context, alternatives, drops, timeout=10, isolated=False)
    assert here.changes == outcome.changes


def test_the_model_variants_review_gets_the_repair_as_a_checked_edit(store):
    row, claim = misread_uber()
    with scripted_responses([claim, claim]):  # the reask gets the same misreading
        result = start_run(AGENT / "model.yaml", row, store=store)
    review = store.get_review(result.review_id)
    assert review.verdict.value == "fail" and "amount_not_in_source" in review.rules
    repair = repair_review(store, review, readings=reading(row).readings, timeout=10)
    assert repair.found, repair.reason
    assert [line.text() for line in repair.lines] == [
        "change item 0 amount 41.20 → 27.40, because amount_not_in_source"
    ]
    assert repair.verdict.value == "pass"
    with pytest.raises(DecisionRefused, match="comment"):
        decide(review.id, "edit", "ann", None, repair.value, store=store)
    done = decide(review.id, "edit", "ann", "the receipt's total", repair.value, store=store)
    assert done.decision.action.value == "edit" and done.check.verdict.value == "pass"


def _failing_samples():
    return [r for r in SAMPLES.values() if r["expected_verdict"] in ("fail", "unknown")]


def test_no_repair_offered_on_any_failing_sample_is_one_the_rules_reject(pack):
    """Every failing or unknown sample, as read: every repair found passes the ordinary check
    (another path than the search), changes only offered values, and never who or when."""
    found = 0
    for row in _failing_samples():
        read = reading(row)
        claim = read.claim.model_dump(mode="json")
        context = read.context.model_dump(mode="json")
        if check(pack, claim, context).verdict.value not in ("fail", "unknown"):
            continue
        alternatives, drops = alternatives_for(claim, pack.input_model, read.readings)
        outcome = search_repair(pack, claim, context, alternatives, drops, timeout=10)
        if not outcome.found:
            assert outcome.reason.startswith("no repair"), outcome.reason
            continue
        found += 1
        verdict = check(pack, outcome.value, context).verdict.value
        assert verdict in ("pass", "review"), (row["id"], outcome.changes, verdict)
        offered = {(a.path, json.dumps(a.value)) for a in alternatives}
        for change in outcome.changes:
            assert change.path[0] not in ("employee_name", "employee_level", "submitted_on")
            if change.kind != "drop":
                assert (change.path, json.dumps(change.new)) in offered
        assert outcome.cost == sum(c.weight for c in outcome.changes)
    assert found >= 20, f"only {found} repairs found: the check above proved little"


def test_a_duplicate_is_repaired_by_dropping_the_copy_and_positions_follow(pack):
    row = SAMPLES["exp-001"]
    claim = copy.deepcopy(row["expected"])
    claim["items"] = [claim["items"][0], copy.deepcopy(claim["items"][0])]
    context = {"source_checked": True, "source_amounts": ["27.40"]}
    assert [v.rule for v in check(pack, claim, context).violations] == ["duplicate_in_claim"]
    alternatives, drops = alternatives_for(claim, pack.input_model, [])
    outcome = search_repair(pack, claim, context, alternatives, drops, timeout=10)
    assert outcome.found and [c.kind for c in outcome.changes] == ["drop"]
    assert (
        len(outcome.value["items"]) == 1
        and check(pack, outcome.value, context).verdict.value == "pass"
    )
    assert outcome.ties == 1  # dropping either copy is as small; the first in order is offered


def test_a_search_out_of_time_is_no_repair_never_a_pass(pack):
    row, claim = misread_uber()
    read = reading(row)
    context = read.context.model_dump(mode="json")
    alternatives, drops = alternatives_for(claim, pack.input_model, read.readings)
    for isolated in (True, False):
        outcome = search_repair(
            pack, claim, context, alternatives, drops, timeout=0.0, isolated=isolated
        )
        assert not outcome.found and outcome.value is None and not outcome.changes
        assert "no repair" in outcome.reason and (
            "within 0 s" in outcome.reason or "time" in outcome.reason
        )


def test_candidates_the_engine_cannot_hold_are_left_out_with_the_reason(pack):
    row, claim = misread_uber()
    context = reading(row).context.model_dump(mode="json")
    huge = Alternative(("items", 0, "amount"), "99999999999.00", 1, "hostile")
    outcome = search_repair(pack, claim, context, [huge], timeout=10)
    assert not outcome.found and "too large" in " ".join(outcome.skipped)


def test_a_sum_past_32_bits_is_never_the_repair(pack):
    """Two rides of $20,000,000 sum past 32 bits (unknown). The cheapest candidate keeps the sum
    past them — the exact-arithmetic twin rules it out — so the search takes the dearer one."""
    claim = copy.deepcopy(SAMPLES["exp-001"]["expected"])
    item = claim["items"][0] | {"amount": "20000000.00", "receipt_attached": True}
    claim["items"] = [item, item | {"merchant": "Lyft"}]
    context = {"source_checked": False}
    assert "too large" in check(pack, claim, context).reason
    alternatives = [
        Alternative(("items", 1, "amount"), "21474836.47", 1, "keeps the sum past 32 bits"),
        Alternative(("items", 1, "amount"), "27.40", 5, "fits"),
    ]
    outcome = search_repair(pack, claim, context, alternatives, timeout=10)
    assert outcome.found, outcome.reason
    assert [c.new for c in outcome.changes] == ["27.40"] and outcome.cost == 5
    assert check(pack, outcome.value, context).verdict.value in ("pass", "review")


# -- the command line ------------------------------------------------------------------------------
def _duplicate_review(store, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    row = SAMPLES["exp-035"]
    result = start_run(AGENT / "workflow.yaml", row, store=store)
    review = store.get_review(result.review_id)
    assert review.verdict.value == "fail" and "duplicate_in_claim" in review.rules
    return review


def test_the_cli_prints_the_diff_and_writes_the_edit(store, tmp_path, monkeypatch):
    review = _duplicate_review(store, monkeypatch)
    db = f"sqlite:///{tmp_path / 'store.db'}"  # the store fixture's
    out = tmp_path / "repaired.json"
    run = CliRunner().invoke(cli, ["reviews", "repair", review.id, "--db", db, "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "drop item" in run.output and "because duplicate_in_claim" in run.output
    assert "re-checked as an edit: pass" in run.output
    assert len(json.loads(out.read_text())["items"]) == 1
    as_json = CliRunner().invoke(cli, ["reviews", "repair", review.id, "--db", db, "-f", "json"])
    body = json.loads(as_json.output)
    assert as_json.exit_code == 0 and body["status"] == "found" and body["verdict"] == "pass"
    assert body["changes"][0]["kind"] == "drop"
    slow = CliRunner().invoke(
        cli, ["reviews", "repair", review.id, "--db", db, "--timeout", "1e-9"]
    )
    assert slow.exit_code == 1 and "no repair offered" in slow.output
    for bad in (["--timeout", "0"], ["--format", "xml"]):
        refused = CliRunner().invoke(cli, ["reviews", "repair", review.id, "--db", db, *bad])
        assert refused.exit_code == 2
    missing = CliRunner().invoke(cli, ["reviews", "repair", "no-such", "--db", db])
    assert missing.exit_code == 2 and "no review" in missing.output
    assert store.decision_for(review.id) is None  # repairing records nothing
