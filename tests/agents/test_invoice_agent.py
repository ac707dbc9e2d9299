"""The invoice agent end to end: all 30 sample invoices through the real reader, engine, clingo
and SQLite, in file order in one store — every reading as expected, every verdict as expected,
nothing paid wrongly, the resent invoice not paid twice — and the payment-fraud guarantees: an
invoice never pays into an account other than the one on file, an altered total is never paid.

No model is loaded: the reader's evidence is decisive on every sample (the test asserts the
reader asked nothing), and ``NESYFLOW_EXTRACT_CHOOSER=person`` makes any field it leaves open a
review instead of a model call.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.cli.invoices import paid_wrongly, run_invoice_sample, score_invoice
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide
from nesyflow.schema.governance import classification

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "invoice"
SAMPLES = load_samples(AGENT / "samples.jsonl")
BY_ID = {row["id"]: row for row in SAMPLES}
TOOLS = load_module(AGENT / "tools.py")
SCHEMA = load_module(AGENT / "schema.py")
ON_FILE = {name: s.iban for name, s in TOOLS.suppliers_on_file().items()}


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


def ledger(store):
    return [p.model_dump(mode="json") for p in TOOLS.read_ledger(store)]


def test_the_samples_cover_every_trap_the_task_names():
    assert len(SAMPLES) == 30
    fired = {rule for row in SAMPLES for rule in row["expected_rules"]}
    assert {
        "iban_changed",
        "duplicate_invoice",
        "rate_not_allowed",
        "line_arithmetic",
        "gross_mismatch",
        "po_missing",
        "due_before_issue",
    } <= fired
    countries = {row["expected"]["supplier_country"] for row in SAMPLES}
    assert countries == {"DE", "FR", "NL", "UK", "US"}
    assert any(row["expected"]["kind"] == "credit_note" for row in SAMPLES)


def test_workflow_reads_then_checks_then_pays(flow):
    assert list(flow.nodes) == ["read", "file", "extract", "route", "pay", "pay_approved"]
    assert flow.nodes["extract"].kind == "check" and flow.nodes["extract"].on_fail.policy == "human"
    assert flow.nodes["pay"].packs and flow.nodes["pay_approved"].packs, "the payment is gated"


def test_the_agent_schema_classifies_as_the_pack_schema():
    """The markers people declared on the pack's Invoice reach the schema the agent writes."""
    assert classification(SCHEMA.ExtractedInvoice) == classification(SCHEMA.Invoice)
    got = classification(SCHEMA.ExtractedInvoice)
    assert got["iban"].sensitive.kind == "bank"
    assert got["supplier_vat_id"].sensitive.kind == "tax_id"
    for name in ("invoice_number", "issue_date", "supplier_name", "net_total", "gross_total"):
        assert got[name].retain.years == 10, name
    assert set(SCHEMA.ExtractedInvoice.model_fields) == set(SCHEMA.Invoice.model_fields)


def test_all_30_samples_end_to_end(flow, store):
    """In file order in one store: inv-030 resends inv-001, which the ledger already holds."""
    outcomes = [run_invoice_sample(flow, row, store) for row in SAMPLES]
    wrong_readings = {o.sample_id: o.score.wrong for o in outcomes if not o.score.invoice_right}
    assert wrong_readings == {}, "measured: 30/30 invoices read wholly right"
    assert sum(o.model_calls for o in outcomes) == 0  # the evidence decided every field
    verdicts = {o.sample_id: (o.verdict, o.rules) for o in outcomes}
    want = {r["id"]: (r["expected_verdict"], sorted(r["expected_rules"])) for r in SAMPLES}
    assert verdicts == want
    wrong = {
        o.sample_id: w
        for o in outcomes
        if (w := paid_wrongly(o, ON_FILE.get((o.paid or {}).get("supplier"))))
    }
    assert wrong == {}
    paid = {o.sample_id for o in outcomes if o.paid}
    assert paid == {r["id"] for r in SAMPLES if r["expected_verdict"] == "pass"}
    assert all(o.status == "waiting_review" for o in outcomes if not o.paid)
    entries = ledger(store)
    assert len(entries) == len(paid) == 14
    numbers = [(e["supplier"], e["invoice_number"]) for e in entries]
    assert (
        len(set(numbers)) == len(numbers) and ("Müller Consulting GmbH", "RE-2025-0041") in numbers
    )
    by_sample = {o.sample_id: o for o in outcomes}
    assert by_sample["inv-030"].rules == ["duplicate_invoice"] and not by_sample["inv-030"].paid


HELDOUT = load_samples(AGENT / "heldout.jsonl")


def test_the_six_invoices_written_after_the_reader_end_to_end(flow, store):
    """``heldout.jsonl`` was written by hand after the reader was built. Its first run read 1 of 6
    wholly right (129/168 fields, README) and paid none wrongly; the label and number gaps it showed
    are fixed, so it is no longer held out: now every reading and verdict is as expected."""
    outcomes = [run_invoice_sample(flow, row, store) for row in HELDOUT]
    assert {o.sample_id: o.score.wrong for o in outcomes if not o.score.invoice_right} == {}
    assert {o.sample_id: (o.verdict, o.rules) for o in outcomes} == {
        r["id"]: (r["expected_verdict"], sorted(r["expected_rules"])) for r in HELDOUT
    }
    assert not [o for o in outcomes if paid_wrongly(o, ON_FILE.get((o.paid or {}).get("supplier")))]


def test_a_duplicate_across_two_runs_is_paid_once_and_a_resume_pays_nothing(flow, store):
    row = BY_ID["inv-001"]
    first = start_run(flow, row, store=store)
    assert first.status.value == "completed", first.error
    assert resume(first.run_id, store=store, workflow=flow).status.value == "completed"
    same = start_run(flow, row, store=store)  # the same request again: the engine's one run
    assert same.run_id == first.run_id and same.status.value == "completed"
    resent = {**row, "id": "inv-001-resent"}  # the supplier e-mails it again: a new request
    again = start_run(flow, resent, store=store)
    assert again.run_id != first.run_id and again.status.value == "waiting_review"
    assert store.get_review(again.review_id).rules == ["duplicate_invoice"]
    entries = ledger(store)
    assert len(entries) == 1 and entries[0]["key"] == f"{first.run_id}:pay:1"
    assert Decimal(entries[0]["amount"]) == Decimal(row["expected"]["gross_total"])


def test_a_changed_iban_is_never_paid_into_the_new_account(flow, store):
    """Even after a person approves the review, the money goes to the account on file."""
    row = BY_ID["inv-015"]
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    assert store.get_review(result.review_id).rules == ["iban_changed"]
    assert ledger(store) == []
    decide(
        result.review_id, "approve", "ap-clerk", "called the supplier", store=store, workflow=flow
    )
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    (entry,) = ledger(store)
    assert entry["iban"] == ON_FILE["Müller Consulting GmbH"] != row["expected"]["iban"]
    assert entry["account_from"] == "file" and entry["key"] == f"{result.run_id}:pay_approved:1"


def _alter_last_cent(text: str, label: str) -> str:
    """Change the last digit of the last amount on the line starting with ``label``."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(label):
            m = list(re.finditer(r"(\d)(?=[^\d]*$)", line))[-1]
            lines[i] = line[: m.start()] + str((int(m.group(1)) + 1) % 10) + line[m.end() :]
            return "\n".join(lines)
    raise AssertionError(f"no line starting with {label!r} to alter")


@pytest.mark.parametrize("sample_id", [r["id"] for r in SAMPLES if r["expected_verdict"] == "pass"])
def test_an_altered_total_is_never_paid(flow, store, sample_id):
    """A hostile supplier changes the total's last digit on a passing invoice: read as written,
    the arithmetic no longer holds, nothing is paid."""
    row = copy.deepcopy(BY_ID[sample_id])
    label = next(
        lab
        for lab in ("Rechnungsbetrag", "Total TTC", "Totaal", "Total Due", "Total")
        if re.search(rf"^\s*{lab}\b", row["invoice"], re.M)
    )
    row["invoice"] = _alter_last_cent(row["invoice"], label)
    assert row["invoice"] != BY_ID[sample_id]["invoice"]
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    assert "gross_mismatch" in store.get_review(result.review_id).rules
    assert ledger(store) == []


def test_scoring_counts_a_wrong_or_missing_row():
    want = BY_ID["inv-003"]["expected"]
    got = copy.deepcopy(want)
    assert score_invoice(got, want).invoice_right
    got["lines"] = got["lines"][:1]
    score = score_invoice(got, want)
    assert not score.invoice_right and "lines (count)" in score.wrong
    got = copy.deepcopy(want)
    got["iban"] = None
    assert score_invoice(got, want).wrong == ["iban"]


def test_an_approved_credit_note_is_never_paid(flow, store):
    """A person approving the credit note's review books it; the pay tool finds nothing payable."""
    row = BY_ID["inv-024"]
    result = start_run(flow, row, store=store)
    assert store.get_review(result.review_id).rules == ["credit_note"]
    decide(result.review_id, "approve", "ap-clerk", "book it", store=store, workflow=flow)
    after = resume(result.run_id, store=store, workflow=flow)
    assert after.status.value != "completed"
    assert ledger(store) == []


HUGE = """Lone Star Networks LLC
500 W 2nd St, Austin, TX 78701
Federal Tax ID: 74-2093871

INVOICE #10999
Date: March 5, 2025
Due Date: April 4, 2025

QTY   DESCRIPTION                          UNIT PRICE        AMOUNT
200   Core router                       15,000,000.00   3,000,000,000.00

Subtotal                                            $3,000,000,000.00
Total Due                                           $3,000,000,000.00
"""


def test_an_invoice_too_large_to_compute_is_never_paid_even_approved(flow, store):
    """3,000,000,000.00 is past 32-bit cents: the check is unknown, never a wrapped pass, and an
    approval of that review still finds no amount the rules computed, so nothing is paid."""
    row = {"id": "huge", "invoice": HUGE, "received_on": "2025-03-10"}
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    read = next(s for s in store.steps(result.run_id) if s.node == "read" and s.output)
    assert read.output["invoice"]["gross_total"] == "3000000000.00"  # read as written
    assert [r.kind for r in store.get_review(result.review_id).reasons] == ["unknown"]
    decide(result.review_id, "approve", "ap-clerk", "looks fine", store=store, workflow=flow)
    assert resume(result.run_id, store=store, workflow=flow).status.value != "completed"
    assert ledger(store) == []


def test_two_runs_whose_gates_both_passed_pay_the_invoice_once(flow, store):
    """The race the gate cannot see: both runs checked the ledger before either paid. The payment
    holds the supplier's invoice number in the store; the second is refused, nothing paid twice."""
    from nesyflow.engine import AlreadyClaimed
    from nesyflow.engine.run_view import RunView, call_tool

    node = flow.nodes["pay"]
    invoice = node.args_schema.model_validate(BY_ID["inv-001"]["expected"])
    runs = [store.create_run("invoice", {}) for _ in range(2)]

    def view(run):
        return RunView(run.id, "invoice", "pay", 1, {}, {}, {}, {}, {})

    one = call_tool(node.tool, invoice, f"{runs[0].id}:pay:1", view(runs[0]), store)
    assert call_tool(node.tool, invoice, f"{runs[0].id}:pay:1", view(runs[0]), store) == one
    with pytest.raises(AlreadyClaimed, match=f"held by run {runs[0].id}"):
        call_tool(node.tool, invoice, f"{runs[1].id}:pay:1", view(runs[1]), store)
    assert len(ledger(store)) == 1 and Decimal(ledger(store)[0]["amount"]) == Decimal("1523.20")


def test_an_invoice_naming_a_second_account_waits_for_a_person(flow, store):
    """The file's IBAN and a new one on the same invoice ("please use our new account"): the IBAN
    is ambiguous, the invoice waits with both values, nothing is paid."""
    row = copy.deepcopy(BY_ID["inv-001"])
    row["id"] = "two-accounts"
    row["invoice"] += (
        "\nBitte nutzen Sie ab sofort unser neues Konto: IBAN DE44 5001 0517 5407 3249 31"
    )
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    (reason,) = store.get_review(result.review_id).reasons
    assert reason.rule == "ambiguous"
    assert "DE89370400440532013000 | DE44500105175407324931" in reason.detail
    assert ledger(store) == []
