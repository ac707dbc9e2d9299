"""The expense agent end to end: the reader takes every value from a place in the text, the rules
check the claim, a passing claim is paid once with the provenance of its values, an ambiguous
reading or a wrong-but-real amount goes to a person, and a decision resumes the run and pays once.

The reader runs for real (finders, the pack's tables, the engine, SQLite, the ledger); where the
model is asked, the scripted test model answers through the real ``nesyflow.llm`` layer.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples, score_claim
from nesyflow.engine import resume, start_run
from nesyflow.extract import PersonChooser, quoted_receipt
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses
from nesyflow.logic import check, load_pack
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}
HELDOUT = {row["id"]: row for row in load_samples(AGENT / "heldout.jsonl")}
UNSEEN = {row["id"]: row for row in load_samples(AGENT / "unseen.jsonl")}
# A second author's 30, written after the first set's fixes and never read by the reader's engineers.
UNSEEN2 = {row["id"]: row for row in load_samples(AGENT / "unseen2.jsonl")}
UNSEEN3 = {row["id"]: row for row in load_samples(AGENT / "unseen3.jsonl")}
UNSEEN4 = {row["id"]: row for row in load_samples(AGENT / "unseen4.jsonl")}
UNSEEN5 = {row["id"]: row for row in load_samples(AGENT / "unseen5.jsonl")}
UNSEEN7 = {row["id"]: row for row in load_samples(AGENT / "unseen7.jsonl")}
UNSEEN8 = {row["id"]: row for row in load_samples(AGENT / "unseen8.jsonl")}
UNSEEN9 = {row["id"]: row for row in load_samples(AGENT / "unseen9.jsonl")}
UNSEEN10 = {row["id"]: row for row in load_samples(AGENT / "unseen10.jsonl")}
UNSEEN11 = {row["id"]: row for row in load_samples(AGENT / "unseen11.jsonl")}
UNSEEN12 = {row["id"]: row for row in load_samples(AGENT / "unseen12.jsonl")}
UNSEEN13 = {row["id"]: row for row in load_samples(AGENT / "unseen13.jsonl")}
UNSEEN14 = {row["id"]: row for row in load_samples(AGENT / "unseen14.jsonl")}
UNSEEN15 = {row["id"]: row for row in load_samples(AGENT / "unseen15.jsonl")}
UNSEEN16 = {row["id"]: row for row in load_samples(AGENT / "unseen16.jsonl")}
UNSEEN17 = {row["id"]: row for row in load_samples(AGENT / "unseen17.jsonl")}
UNSEEN18 = {row["id"]: row for row in load_samples(AGENT / "unseen18.jsonl")}
UNSEEN19 = {row["id"]: row for row in load_samples(AGENT / "unseen19.jsonl")}
UNSEEN20 = {row["id"]: row for row in load_samples(AGENT / "unseen20.jsonl")}
UNSEEN21 = {row["id"]: row for row in load_samples(AGENT / "unseen21.jsonl")}
UNSEEN22 = {row["id"]: row for row in load_samples(AGENT / "unseen22.jsonl")}
UNSEEN23 = {row["id"]: row for row in load_samples(AGENT / "unseen23.jsonl")}
UNSEEN24 = {row["id"]: row for row in load_samples(AGENT / "unseen24.jsonl")}
UNSEEN25 = {row["id"]: row for row in load_samples(AGENT / "unseen25.jsonl")}
UNSEEN26 = {row["id"]: row for row in load_samples(AGENT / "unseen26.jsonl")}
UNSEEN27 = {row["id"]: row for row in load_samples(AGENT / "unseen27.jsonl")}
UNSEEN28 = {row["id"]: row for row in load_samples(AGENT / "unseen28.jsonl")}
UNSEEN29 = {row["id"]: row for row in load_samples(AGENT / "unseen29.jsonl")}
UNSEEN30 = {row["id"]: row for row in load_samples(AGENT / "unseen30.jsonl")}
reader = load_module(AGENT / "reader.py")
evidence = load_module(AGENT / "evidence.py")


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "workflow.yaml")


@pytest.fixture(scope="module")
def pack():
    return load_pack(ROOT / "rules" / "expense")


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    """Unless a test scripts the model, an undecided field goes to a person (no model loaded)."""
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")


TOOLS = load_module(AGENT / "tools.py")


def ledger(store):
    """The payments kept in the store, as JSON (the ledger is the store's, not a file)."""
    return [entry.model_dump(mode="json") for entry in TOOLS.read_ledger(store)]


def sample(sample_id, verdict):
    row = SAMPLES[sample_id]
    assert row["expected_verdict"] == verdict, "the sample file changed; pick another sample"
    return row


def first_sample(verdict, where=lambda row: True):
    return next(r for r in SAMPLES.values() if r["expected_verdict"] == verdict and where(r))


def read_step(store, run_id):
    return next(s for s in store.steps(run_id) if s.node == "read" and s.kind == "tool")


def read(row, chooser=None):
    args = reader.ReadArgs(
        request=row["request"],
        receipt=row.get("receipt", ""),
        submitted_on=row["submitted_on"],
        employee=row["employee"],
        context=evidence.gather_context(
            evidence.EvidenceArgs(request=row["request"], receipt=row.get("receipt", ""))
        ),
    )
    return reader.read_with(args, chooser or PersonChooser())


def test_workflow_reads_then_checks_then_pays(flow):
    assert list(flow.nodes) == [
        "evidence",
        "read",
        "extract",
        "paid_before",
        "route",
        "pay",
        "pay_approved",
    ]
    assert flow.nodes["read"].kind == "tool" and flow.nodes["extract"].kind == "check"
    assert flow.nodes["extract"].on_fail.policy == "human"
    assert flow.nodes["pay"].packs, "the payment is checked by the rules before it runs"


def test_passing_claim_is_paid_once_with_the_provenance_of_its_values(flow, store, tmp_path):
    row = sample("exp-001", "pass")
    result = start_run(flow, row, store=store)
    assert result.status.value == "completed", result.error
    paid = ledger(store)
    assert len(paid) == 1 and paid[0]["amount_usd"] == "27.40"
    assert paid[0]["key"] == f"{result.run_id}:pay:1"
    readings = {r["field"]: r for r in read_step(store, result.run_id).output["readings"]}
    # every value a rule reads points at the text it was read from
    for name in ("amount", "date", "merchant", "category", "receipt_attached"):
        r = readings[f"items.0.{name}"]
        text = row[r["source"]][r["start"] : r["end"]]
        assert text, f"{name}: no span"
    amount = readings["items.0.amount"]
    assert "27.40" in row[amount["source"]][amount["start"] : amount["end"]]
    assert {Decimal(c["value"]) for c in amount["candidates"]} >= {
        Decimal("27.40"),
        Decimal("2.50"),
    }  # the tip was seen
    assert readings["employee_level"]["origin"] == "input"
    assert resume(result.run_id, store=store).status.value == "completed"
    assert len(ledger(store)) == 1


def test_runs_show_prints_where_each_value_was_read(flow, store, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from nesyflow.cli.app import app

    monkeypatch.setenv("COLUMNS", "200")
    row = sample("exp-001", "pass")
    result = start_run(flow, row, store=store)
    shown = CliRunner().invoke(app, ["runs", "show", result.run_id, "--db", store.url])
    assert shown.exit_code == 0, shown.output
    assert "where each value was read" in shown.output
    assert "items.0.amount = 27.40 ← span" in shown.output and "'$27.40'" in shown.output
    assert "employee_level = staff ← input" in shown.output


def test_the_tip_is_never_taken_for_the_total():
    """Every receipt with a tip line: the claim's amount is the total, not the tip."""
    rows = [r for r in [*SAMPLES.values(), *HELDOUT.values()] if "Tip" in r["receipt"]]
    assert len(rows) >= 5
    for row in rows:
        got = [i.amount for i in read(row).claim.items]
        assert got == [Decimal(i["amount"]) for i in row["expected"]["items"]], row["id"]


def test_employee_amount_that_disagrees_with_the_receipt_goes_to_a_person(flow, store, tmp_path):
    """The employee writes the tip ($2.50) as the amount; the receipt's total says $27.40. Both are
    real amounts of the text (amount_not_in_source passes either): the reading is ambiguous, the
    claim waits with both values, nothing is paid."""
    row = copy.deepcopy(sample("exp-001", "pass"))
    row["request"] = row["request"].replace("$27.40", "$2.50")
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.rules == ["ambiguous"], review.reasons
    detail = json.dumps([r.model_dump(mode="json") for r in review.reasons])
    assert "items.0.amount" in detail and "2.50" in detail and "27.40" in detail
    assert ledger(store) == []


def undecided_date():
    """The employee writes April 3rd, the receipt says Apr 2: neither is decisive (2.0 vs 1.5)
    and neither is strong enough to make it a conflict at once, so the model is asked."""
    row = copy.deepcopy(sample("exp-001", "pass"))
    row["request"] = row["request"].replace("April 2nd", "April 3rd")
    return row


def test_model_disagreeing_with_the_top_candidate_sends_the_claim_to_a_person(
    flow, store, tmp_path, monkeypatch
):
    """The model picks the second option → ambiguous → a person, though every policy rule
    passes."""
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "model")
    row = undecided_date()
    with scripted_responses([{"answer": "B"}]) as script:
        result = start_run(flow, row, store=store)
    assert len(script.calls) == 1
    question = script.calls[0].messages[-1]["content"]
    assert question.startswith(row["request"][:40])  # the source text first: prefix reuse
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.rules == ["ambiguous"]
    readings = read_step(store, result.run_id).output["readings"]
    asked = [r for r in readings if r.get("model_choice") is not None]
    assert [r["field"] for r in asked] == ["items.0.date"] and asked[0]["ambiguous"]
    assert ledger(store) == []


def test_model_confirming_the_top_candidate_lets_the_claim_pay(flow, store, tmp_path, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "model")
    row = undecided_date()
    with scripted_responses([{"answer": "A"}]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "completed", result.error
    assert len(ledger(store)) == 1
    readings = read_step(store, result.run_id).output["readings"]
    date = next(r for r in readings if r["field"] == "items.0.date")
    assert date["origin"] == "model" and date["value"] == "2025-04-03"


def test_no_shipped_request_is_paid_wrongly(pack):
    """Every sample and held-out request, read as the agent reads it and checked as the workflow
    checks it: a claim that passes (would be paid at once) is one that should pass, with the
    right amounts — 0 paid wrongly. (No model: undecided fields go to a person.)"""
    paid = 0
    for row in [*SAMPLES.values(), *HELDOUT.values()]:
        got = read(row)
        # as the workflow's check node does: the claim and context as JSON, validated by the pack
        result = check(
            pack, got.claim.model_dump(mode="json"), context=got.context.model_dump(mode="json")
        )
        if result.verdict != "pass":
            continue
        paid += 1
        assert row["expected_verdict"] == "pass", row["id"]
        want = [Decimal(i["amount"]) for i in row["expected"]["items"]]
        assert [i.amount for i in got.claim.items] == want, row["id"]
    assert paid >= 40  # and the agent does pay: most passing requests are paid


def test_two_rides_read_under_two_merchant_names_still_wait_for_a_person(pack):
    """unseen17-022 (two $14.20 Ubers on one day, which the policy calls a duplicate): the first
    reading took "Trip fare" as the first receipt's merchant, the duplicate rule (same merchant,
    date, amount, currency) could not fire and both were paid. The reader now reads both "Uber";
    and a misread merchant no longer lets the pair through: the pack sends the same day, amount,
    currency and category under two names to a person, and likewise against the paid ledger."""
    row = UNSEEN17["unseen17-022"]
    got = read(row)
    claim, context = got.claim.model_dump(mode="json"), got.context.model_dump(mode="json")
    assert [i["merchant"] for i in claim["items"]] == ["Uber", "Uber"]
    assert check(pack, claim, context=context).rule_ids() == ["duplicate_in_claim"]
    claim["items"][0]["merchant"] = "Trip fare"  # the misreading, or an employee's own spelling
    result = check(pack, claim, context=context)
    assert result.verdict.value == "review" and result.rule_ids() == ["possible_duplicate"]
    first = claim["items"][0]
    context["prior_items"] = [
        {"merchant": "UBER *TRIP", "date": first["date"], "amount": first["amount"]}
    ]
    result = check(pack, {**claim, "items": [first]}, context=context)
    assert result.rule_ids() == ["possible_duplicate_of_prior"]


def test_a_tip_on_top_and_a_personal_errand_are_never_paid_as_written(pack):
    """unseen18's two wrong payments. 012: "meter receipt says $52.00; I gave the driver a
    $10.00 cash tip on top, so $62.00 all in" was three rides (52, 10 and 62), paid; it is one
    ride of $62.00 (the conventions: a tip on top is part of the one charge; the meter's total is
    a part of that sum, no rival to it). 016: a Saturday errand "since I was there anyway for my
    own stuff" was read as the reason to work on a weekend, and paid."""
    row = UNSEEN18["unseen18-012"]
    got = read(row)
    claim, context = got.claim.model_dump(mode="json"), got.context.model_dump(mode="json")
    assert [Decimal(item["amount"]) for item in claim["items"]] == [Decimal("62.00")]
    assert check(pack, claim, context=context).verdict.value == row["expected_verdict"] == "pass"
    got = read(UNSEEN18["unseen18-016"])
    assert got.claim.items[0].justification is None
    result = check(
        pack, got.claim.model_dump(mode="json"), context=got.context.model_dump(mode="json")
    )
    assert "weekend_needs_justification" in result.rule_ids() and result.verdict.value == "fail"


def test_an_employees_numeric_date_is_read_in_the_order_its_receipt_prints_it():
    """unseen18-003: a lunch paid in pesos, "on 3/11" in the request (an American's March 11th)
    beside the receipt's "11/03/2025" (Mexico's, day-first): both were read day-first, the
    request's as November 3rd, and the two readings made the date ambiguous. The employee's date,
    read the other way, is the receipt's: one date, March 11th."""
    got = read(UNSEEN18["unseen18-003"])
    assert str(got.claim.items[0].date) == "2025-03-11"
    assert not any(a.field.endswith(".date") for a in got.context.ambiguities)


def test_every_requests_label_is_the_packs_verdict_on_its_correct_claim(pack):
    """Each shipped request's ``expected_verdict`` and ``expected_rules`` are what the pack says of
    its correct claim, with the context the workflow's evidence tool gives it. A pack change that
    relabels a request, or an evidence tool that misses an amount the text holds (unseen14's
    "eighty eight dollars and fourteen cents" and "___315.00___" failed ``amount_not_in_source``
    though the reader read them right), fails here instead of silently scoring against stale
    labels."""
    rows = [r for f in sorted(AGENT.glob("*.jsonl")) for r in load_samples(f)]
    wrong = []
    for row in rows:
        args = evidence.EvidenceArgs(request=row["request"], receipt=row.get("receipt", ""))
        result = check(pack, row["expected"], context=evidence.gather_context(args))
        got = (result.verdict.value, sorted(set(result.rule_ids())))
        if got != (row["expected_verdict"], sorted(set(row.get("expected_rules", [])))):
            wrong.append((row["id"], got))
    assert len(rows) >= 960 and wrong == []


def test_heldout_requests_are_read_right():
    """Requests written apart from the samples (agents/expense/heldout.jsonl): at least 80% of the
    claims wholly right (every scored field, the item count, the employee fields)."""
    right = sum(
        score_claim(read(row).claim.model_dump(mode="json"), row["expected"]).claim_right
        for row in HELDOUT.values()
    )
    assert len(HELDOUT) >= 20 and right >= 0.8 * len(HELDOUT), right


@pytest.mark.parametrize(
    ("rows", "at_least_right", "at_least_paid"),
    [
        (UNSEEN, 29, 14),
        (UNSEEN2, 29, 14),
        (UNSEEN3, 28, 16),
        (UNSEEN4, 27, 13),
        (UNSEEN5, 30, 16),
        (UNSEEN7, 28, 15),
        (UNSEEN8, 29, 14),  # 15 paid with the model confirming (the benchmark)
        (UNSEEN9, 28, 13),
        (UNSEEN10, 27, 14),
        (UNSEEN11, 22, 12),
        (UNSEEN12, 13, 4),
        (UNSEEN13, 19, 9),
        (UNSEEN14, 21, 11),
        (UNSEEN15, 26, 7),
        (UNSEEN16, 28, 13),  # first measured 10 right, 6 paid; after its fixes
        (UNSEEN17, 29, 14),  # first measured 13 right, 11 paid (2 wrongly); after its fixes
        (UNSEEN18, 27, 12),  # first measured 13 right, 10 paid (2 wrongly); after its fixes
        (UNSEEN19, 28, 13),  # first measured 18 right, 9 paid (0 wrongly); after its fixes
        (UNSEEN20, 22, 11),  # first measured 14 right, 7 paid (0 wrongly); after its fixes
        (UNSEEN21, 28, 12),  # first measured 12 right, 4 paid (0 wrongly); after its fixes
        (UNSEEN22, 26, 13),  # first measured 17 right, 9 paid (0 wrongly); after its fixes
        (UNSEEN23, 24, 12),  # first measured 16 right, 8 paid (0 wrongly); after its fixes
        (UNSEEN24, 16, 9),  # first measured 10 right, 7 paid (1 wrongly); after its fixes
        (UNSEEN25, 19, 10),  # first measured 14 right, 8 paid (1 wrongly); after its fixes
        (UNSEEN26, 26, 13),  # first measured 14 right, 8 paid (1 wrongly); after its fixes
        (UNSEEN27, 27, 10),  # first measured 15 right, 11 paid (0 wrongly); after its fixes
        (UNSEEN28, 7, 4),  # first measured 4 right, 4 paid (2 wrongly); after its fixes
        (UNSEEN29, 14, 6),  # first measured 13 right, 8 paid (4 wrongly); after its fixes
        (UNSEEN30, 13, 4),  # first measured 11 right, 5 paid (2 wrongly); after its fixes
    ],
    ids=[
        "unseen",
        "unseen2",
        "unseen3",
        "unseen4",
        "unseen5",
        "unseen7",
        "unseen8",
        "unseen9",
        "unseen10",
        "unseen11",
        "unseen12",
        "unseen13",
        "unseen14",
        "unseen15",
        "unseen16",
        "unseen17",
        "unseen18",
        "unseen19",
        "unseen20",
        "unseen21",
        "unseen22",
        "unseen23",
        "unseen24",
        "unseen25",
        "unseen26",
        "unseen27",
        "unseen28",
        "unseen29",
        "unseen30",
    ],
)
def test_unseen_requests_are_never_paid_wrongly_end_to_end(
    flow, store, rows, at_least_right, at_least_paid
):
    """The 30 requests of each of agents/expense/unseen.jsonl ... unseen13.jsonl
    (each written by a separate author who saw only the format, the policy and the schema;
    unseen3 after the policy's conventions were adopted), each run through the
    engine into the store's ledger as the benchmark runs them: nothing is paid unless the claim a
    careful person would extract passes, with the same amounts, currency and rate; and at least
    the wholly right claims and payments measured (benchmarks/results/agents_accuracy_unseen*.json)
    are reached. No model: a field the evidence leaves
    open goes to a person (with the model it may be confirmed)."""
    from nesyflow.cli.demo import run_sample

    assert len(rows) == 30
    paid = right = 0
    for row in rows.values():
        o = run_sample(flow, row, store, None)
        right += o.score.claim_right
        if not o.paid:
            assert o.status != "completed", row["id"]
            continue
        paid += 1
        assert row["expected_verdict"] == "pass", row["id"]
        assert o.score.items_right_count, row["id"]
        for name in ("amount", "currency", "fx_rate"):
            got, total = o.score.per_field.get(name, [0, 0])
            assert got == total, (row["id"], name)
    assert right >= at_least_right, right
    assert paid >= at_least_paid, paid


def test_decision_resumes_the_run_and_pays_exactly_once(flow, store, tmp_path):
    row = first_sample("review", lambda r: r["expected_rules"] == ["manager_approval_required"])
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.rules == ["manager_approval_required"]
    decide(
        result.review_id, "approve", "fin-ops", "budget owner agreed", store=store, workflow=flow
    )
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    assert resume(result.run_id, store=store, workflow=flow).status.value == "completed"
    paid = ledger(store)
    assert len(paid) == 1 and paid[0]["key"] == f"{result.run_id}:pay_approved:1"


def test_unknown_claim_goes_to_a_person(flow, store, tmp_path):
    row = first_sample("unknown", lambda r: r["expected_missing"] == ["item_fx_rate"])
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.verdict == "unknown"
    missing = [r for r in review.reasons if r.kind == "missing"]
    assert len(missing) == 1 and "item_fx_rate" in missing[0].message
    assert ledger(store) == []


def test_a_request_without_an_amount_goes_to_a_person_with_a_clear_reason(flow, store, tmp_path):
    row = copy.deepcopy(sample("exp-001", "pass"))
    row["request"], row["receipt"] = "Please pay me back for the ride.", ""
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    review = store.get_review(result.review_id)
    assert review.kind == "tool_error"
    assert "items.0.amount: not found in the request or the receipt" in review.reasons[0].message
    assert "Traceback" not in review.reasons[0].message


@pytest.mark.parametrize("amount", ["$30,000,000.00", "$99,999,999,999.99"])
def test_an_amount_past_the_rules_integers_is_never_paid(flow, store, tmp_path, amount):
    row = copy.deepcopy(sample("exp-001", "pass"))
    row["request"] = row["request"].replace("$27.40", amount)
    row["receipt"] = row["receipt"].replace("$27.40", amount)
    result = start_run(flow, row, store=store)
    assert result.status.value == "waiting_review"
    assert ledger(store) == []


@pytest.mark.parametrize(
    ("request_text", "receipt", "category", "tier", "row"),
    [
        (
            "dinner in Boise tuesday, $37.80",
            "BARDENAY\n610 W Grove St, Boise ID\nTOTAL 37.80",
            "meals",
            2,
            "Boise,US,ID",
        ),
        (
            "Lodging for the survey near Moab, 2 nights, $262.32",
            "Red Cliffs Lodge\nMile 14 Hwy "
            "128, Moab UT 84532\nArr: 08/11/25 Dep: 08/13/25\nBalance paid 262.32",
            "lodging",
            3,
            "Moab,US,UT",
        ),
        (
            "Lunch in Graz, €27,50",
            "Gasthaus Stainzerbauer\nBürgergasse 4, 8010 Graz\nGesamt EUR 27,50",
            "meals",
            2,
            "Graz,AT,",
        ),
    ],
)
def test_a_city_the_short_list_lacks_gets_its_tier_from_the_packs_gazetteer(
    request_text, receipt, category, tier, row
):
    """City tiers by the policy's rule (population, tier-1 neighbours) from the pack's
    ``places.csv`` (GeoNames), with the row the reviewer can open as provenance."""
    got = read(
        {
            "request": request_text,
            "receipt": receipt,
            "submitted_on": "2025-11-01",
            "employee": {"name": "A B", "level": "staff"},
        }
    )
    (item,) = got.claim.items
    assert (item.category, item.city_tier) == (category, tier)
    (reading,) = [r for r in got.readings if r.field == "items.0.city_tier"]
    assert reading.detail.startswith("places.csv:")
    line = int(reading.detail.split(":", 1)[1].split()[0])
    places = (ROOT / "rules" / "expense" / "data" / "places.csv").read_text().splitlines()
    assert places[line - 1].startswith(row) and reading.origin == "lookup"


def test_a_town_the_gazetteer_does_not_know_is_left_for_a_person():
    got = read(
        {
            "request": "Dinner at the diner, $22.10",
            "receipt": "ROADSIDE DINER\nMain St, Nowhereville ZZ\nTOTAL 22.10",
            "submitted_on": "2025-11-01",
            "employee": {"name": "A B", "level": "staff"},
        }
    )
    assert got.claim.items[0].city_tier is None  # the rules then report missing(item_city_tier)


def test_a_meal_for_one_scores_the_same_with_or_without_attendees():
    """The pack reads a meal without attendees as one person, so the scorer does too; a client
    dinner without attendees is missing a fact, so there the two differ."""
    meal = {"category": "meals", "amount": "12.00", "merchant": "Cafe"}
    want = {"employee_name": "A", "employee_level": "staff", "submitted_on": "2025-01-02"}
    one = {**want, "items": [{**meal, "attendees": 1}]}
    none = {**want, "items": [meal]}
    assert score_claim(one, none).claim_right and score_claim(none, one).claim_right
    ent = {**meal, "category": "client_entertainment"}
    assert not score_claim(
        {**want, "items": [{**ent, "attendees": 1}]}, {**want, "items": [ent]}
    ).claim_right


def test_a_bare_dollar_is_the_other_dollar_the_request_names():
    """The policy reads $ as USD unless the text names another dollar: "All A$" makes the
    receipts' bare $ Australian; without it they stay USD."""
    from nesyflow.extract import FirstChooser

    receipt = "SILVER TOP TAXI\nDATE 05/08/25\nFARE  $31.20\nTOTAL  $34.86"
    common = dict(
        receipt=receipt, submitted_on="2025-08-10", employee={"name": "A B", "level": "staff"}
    )
    named = reader.read_with(
        reader.ReadArgs(request="Taxi to site. All A$; rate 0.6490.", **common), FirstChooser()
    )
    (item,) = named.claim.items
    assert (item.currency, str(item.fx_rate), str(item.date)) == ("AUD", "0.6490", "2025-08-05")
    plain = reader.read_with(reader.ReadArgs(request="Taxi to site.", **common), FirstChooser())
    assert plain.claim.items[0].currency == "USD"


def test_an_html_receipt_is_read_as_its_words_with_offsets_into_what_was_pasted():
    receipt = (
        "<div class='order-header'><h2>Newegg</h2><span>Order # 289114703</span></div>\n"
        "<p>Order Date: 10/03/2025 11:18:42 AM</p>\n<table>\n"
        "<tr><td>TESmart KVM Switch</td><td>1</td><td>$129.99</td></tr>\n</table>\n"
        "<p>Subtotal: $129.99<br/>Tax: $9.10<br/><strong>Order Total: $139.09</strong></p>"
    )
    row = {
        "request": "KVM switch for the helpdesk bench, order 10/3, invoice below.",
        "receipt": receipt,
        "submitted_on": "2025-10-06",
        "employee": {"name": "Ana Ruiz", "level": "staff"},
    }
    got = read(row)
    (item,) = got.claim.items
    assert (item.merchant, str(item.amount), str(item.date)) == ("Newegg", "139.09", "2025-10-03")
    amount = next(r for r in got.readings if r.field == "items.0.amount")
    assert receipt[amount.start : amount.end] == "$139.09"


def test_a_receipt_quoted_in_the_mail_is_read_as_the_receipt_with_offsets_into_the_request():
    """unseen26-018: nothing pasted as the receipt, the restaurant's receipt quoted ("> ") in
    the forwarded mail: one item at its total (not one per dish line), read as a document, and
    every value's provenance pointing at the request's own characters."""
    request = (
        "From: Callum Reyes\nTo: expenses@bayoufreight.com\n"
        "Subject: FW: Your receipt from Ember & Oak Steakhouse\n\n"
        "Dinner Wed night with Laura Chen and Tom Vasquez from Gulfmark Home Imports, pitching "
        "our LCL consolidation. 3 of us total. Toast receipt below (tip included).\n\n"
        "> Ember & Oak Steakhouse\n> 5302 Westheimer Rd, Houston TX\n"
        "> Order #3381 · Server: Jess · 10/15/2025 8:42 PM\n"
        "> 1 Ribeye 16oz            62.00\n> 1 Btl Malbec Catena      68.00\n"
        "> Subtotal                130.00\n> Tax                      10.73\n"
        "> Tip                      20.00\n> Total                   160.73\n> Amex ••1188\n"
    )
    row = {
        "request": request,
        "receipt": "",
        "submitted_on": "2025-10-17",
        "employee": {"name": "Callum Reyes", "level": "staff"},
    }
    got = read(row)
    (item,) = got.claim.items
    assert (item.merchant, str(item.amount), str(item.date)) == (
        "Ember & Oak Steakhouse",
        "160.73",
        "2025-10-15",
    )
    assert item.receipt_attached is True and item.alcohol is True
    for field, shown in (("amount", "160.73"), ("merchant", "Ember & Oak Steakhouse")):
        r = next(r for r in got.readings if r.field == f"items.0.{field}")
        assert (r.source, request[r.start : r.end]) == ("request", shown)
    # a quoted earlier message (no total line) is the request's words, not a receipt
    assert quoted_receipt("Taxi to the site, $23.40.\n\n> can you resend the $23.40?\n") is None


def test_a_phone_wallets_notification_is_no_receipt_and_says_nothing_of_alcohol(pack):
    """unseen26-022, paid wrongly on first reading: "all I have is the Wallet notification" for
    a solo lunch. The notification names the merchant on its second line and shows a card, no
    dish: no receipt, alcohol unknown — the claim waits for the fact, it is never paid."""
    row = {
        "request": "Lunch Tue 10/21 in Portland between dealer visits, by myself. Paper receipt "
        "blew off the bike rack, all I have is the Wallet notification, text below.",
        "receipt": "Apple Pay · Wallet                          now\nPine Street Noodle House\n"
        "$23.80 with Visa Signature ••6093\nTue, Oct 21, 2025, 1:14 PM",
        "submitted_on": "2025-10-23",
        "employee": {"name": "Ellis Thornbury", "level": "staff"},
    }
    got = read(row)
    (item,) = got.claim.items
    assert (item.merchant, str(item.amount)) == ("Pine Street Noodle House", "23.80")
    assert item.receipt_attached is False and item.alcohol is None
    verdict = check(
        pack, got.claim.model_dump(mode="json"), context=got.context.model_dump(mode="json")
    )
    assert verdict.verdict.value != "pass"


def test_a_header_longer_than_the_schema_allows_goes_to_a_person_with_the_field_named():
    row = {
        "request": "Lunch with the team, $42.10, receipt below.",
        "receipt": "THE VERY LONG NAMED RESTAURANT AND BAR OF THE GREATER METROPOLITAN AREA "
        "DOWNTOWN\n1 soup 12.00\nTotal 42.10",
        "submitted_on": "2025-05-02",
        "employee": {"name": "Ana Ruiz", "level": "staff"},
    }
    with pytest.raises(ValueError, match=r"items\.0\.merchant: not found"):
        read(row)  # never a claim that fails to validate after reading
