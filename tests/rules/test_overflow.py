"""No shipped pack passes (or allows) on a value clingo wrapped around 32 bits (issue 8 §1).

Each input here is in range field by field; only the pack's own arithmetic leaves 32 bits. Before
the exact-arithmetic guard every one of them passed: the expense claim with ``total_claimed``
-0.02 (and was paid $42,949,672.94 without a review), the airline bag with oversize fee 0, the
ticket with ``total_cost`` -2,147,483,609, the retail upgrade "covered" by a $20 gift card.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest

from nesyflow.logic import Verdict, check, check_many, load_pack

ROOT = Path(__file__).resolve().parents[2]
MAX_CENTS = "21474836.47"  # 2^31 - 1 cents: the largest amount a fact can hold


@pytest.fixture(scope="module")
def expense():
    return load_pack(ROOT / "rules" / "expense")


@pytest.fixture(scope="module")
def airline():
    return load_pack(ROOT / "rules" / "airline_baggage")


@pytest.fixture(scope="module")
def retail():
    return load_pack(ROOT / "rules" / "retail")


def _too_large(result, *where: str) -> None:
    """Unknown, saying why and where (the first term that left 32 bits: the sum itself, or a
    term computed from its wrapped value while grounding went on)."""
    assert result.verdict == Verdict.UNKNOWN, (result.verdict, result.derived)
    assert result.reason and result.reason.startswith("too large to compute exactly"), result.reason
    assert any(w in result.reason for w in where), result.reason


def big_claim(amount: str = MAX_CENTS) -> dict:
    item = {
        "date": "2025-03-04",
        "category": "other",
        "merchant": "Acme",
        "amount": amount,
        "receipt_attached": True,
        "justification": "client project",
    }
    return {
        "employee_name": "Sam Ortiz",
        "employee_level": "staff",
        "submitted_on": "2025-03-10",
        # a day apart: the same amount twice on one day would be a possible duplicate
        "items": [item, {**item, "merchant": "Acme West", "date": "2025-03-05"}],
    }


def test_expense_two_items_at_the_limit_never_pass(expense):
    _too_large(check(expense, big_claim()), "claim.lp")


def test_expense_the_same_claim_in_range_still_passes(expense):
    # the guard refuses only what does not fit: half the amount is an ordinary (reviewed) claim
    result = check(expense, big_claim("10737418.23"))
    assert result.verdict == Verdict.REVIEW
    assert [f.rule for f in result.reviews] == ["manager_approval_required"]
    assert str(result.derived["total_claimed"]) == "21474836.46"


def test_expense_batch_refuses_the_overflow_and_keeps_the_other_verdicts(expense):
    small = big_claim("12.00")
    results = check_many(expense, [small, big_claim(), small])
    assert [r.verdict for r in results] == [Verdict.PASS, Verdict.UNKNOWN, Verdict.PASS]
    _too_large(results[1], "claim.lp")
    assert results[0] == results[2]
    assert results[0].verdict == check(expense, small).verdict


def test_airline_a_bag_whose_sides_add_past_32_bits_is_not_priced(airline):
    side = 1_431_655_765  # three of them: 4,294,967,295, which wraps to -1 ("62 inches or less")
    ticket = {
        "base_price": 100,
        "customer_class": "Main Cabin",
        "routine": "U.S.",
        "direction": 0,
        "bag_list": [
            {"id": 1, "name": "backpack", "size": [10, 10, 5], "weight": 5},
            {"id": 2, "name": "crate", "size": [side, side, side], "weight": 40},
        ],
    }
    _too_large(check(airline, ticket), "bags.lp", "carry_on.lp")
    _too_large(check_many(airline, [ticket])[0], "bags.lp", "carry_on.lp")


def test_airline_a_ticket_price_at_the_limit_has_no_wrapped_total(airline):
    ticket = {
        "base_price": 2_147_483_647,
        "customer_class": "Main Cabin",
        "routine": "U.S.",
        "direction": 0,
        "bag_list": [
            {"id": 1, "name": "backpack", "size": [10, 10, 5], "weight": 5},
            {"id": 2, "name": "suitcase", "size": [20, 14, 9], "weight": 40},
        ],
    }
    _too_large(check(airline, ticket), "total.lp")
    _too_large(check_many(airline, [ticket])[0], "total.lp")
    cheap = check(airline, {**ticket, "base_price": 180})
    assert cheap.verdict == Verdict.PASS and cheap.derived["total_cost"] == 180 + 40


RETAIL_CONTEXT = {
    "confirmation": "yes",
    "users": [
        {
            "user_id": "ann_lee_1",
            "payment_methods": [
                {"id": "credit_card_1", "source": "credit_card"},
                {"id": "gift_card_1", "source": "gift_card", "balance": "20.00"},
            ],
        }
    ],
    "orders": [
        {
            "order_id": "#W1",
            "user_id": "ann_lee_1",
            "status": "pending",
            "items": [
                {"item_id": "100", "product_id": "P1", "price": "0.01"},
                {"item_id": "200", "product_id": "P2", "price": "0.01"},
            ],
            "payments": [
                {"kind": "payment", "amount": "0.02", "payment_method_id": "credit_card_1"}
            ],
        }
    ],
    "variants": [
        {"item_id": "101", "product_id": "P1", "available": True, "price": MAX_CENTS},
        {"item_id": "201", "product_id": "P2", "available": True, "price": MAX_CENTS},
    ],
    "history": [
        {
            "index": 0,
            "name": "find_user_id_by_email",
            "verdict": "allow",
            "executed": True,
            "found_user": "ann_lee_1",
        }
    ],
}
RETAIL_CALL = {
    "name": "modify_pending_order_items",
    "order_id": "#W1",
    "item_ids": ["100", "200"],
    "new_item_ids": ["101", "201"],
    "payment_method_id": "gift_card_1",
}


def test_retail_a_price_difference_past_32_bits_is_never_allowed(retail):
    # each difference is 2,147,483,646 cents; together they wrap to -4, "covered" by $20
    _too_large(check(retail, RETAIL_CALL, RETAIL_CONTEXT), "items.lp")
    _too_large(check_many(retail, [RETAIL_CALL], [RETAIL_CONTEXT])[0], "items.lp")
    small = copy.deepcopy(RETAIL_CONTEXT)
    for variant in small["variants"]:
        variant["price"] = "15.00"
    denied = check(retail, RETAIL_CALL, small)  # 29.98 is more than the card's 20.00
    assert denied.verdict == Verdict.DENY
    assert [f.rule for f in denied.denials] == ["gift_card_balance"]


def test_retail_the_replay_gate_turns_it_into_a_review_not_an_allow(retail):
    from nesyflow.replay.toolcheck import _VERDICTS

    result = check(retail, RETAIL_CALL, RETAIL_CONTEXT)
    assert _VERDICTS[str(result.verdict)] == "review"


@pytest.mark.parametrize("workflow", ["workflow.yaml", "model.yaml"])
def test_the_expense_agent_never_pays_it_and_its_pay_gate_refuses_it(
    tmp_path, monkeypatch, workflow
):
    """End to end, the grounded agent reading the request and its model variant writing the claim
    exactly as the request says: before the guard the extract check and the ``pay`` gate both
    passed and $42,949,672.94 went into the ledger."""
    from nesyflow._imports import load_module
    from nesyflow.engine import start_run
    from nesyflow.engine.checking import check_subject
    from nesyflow.graph import load_workflow
    from nesyflow.llm import scripted_responses
    from nesyflow.store import open_store

    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")
    flow = load_workflow(ROOT / "agents" / "expense" / workflow)
    tools = load_module(ROOT / "agents" / "expense" / "tools.py")
    claim = big_claim()
    request = {
        "request": "Two client project invoices, Acme and Acme West, 3/4: $21,474,836.47 each. "
        "Receipts attached.",
        "submitted_on": claim["submitted_on"],
        "employee": {"name": claim["employee_name"], "level": "staff"},
    }
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        replies = [claim] if workflow == "model.yaml" else []  # unknown is not sent back
        with scripted_responses(replies, allow_leftover=True):
            result = start_run(flow, request, store=store)
        assert result.status.value == "waiting_review"
        review = store.get_review(result.review_id)
        if workflow == "model.yaml":  # the two items as written: their sum leaves 32 bits
            assert review.verdict == "unknown"
            assert any("too large to compute exactly" in r.message for r in review.reasons)
        else:  # whatever the reader made of it, it waits for a person
            assert review.verdict != "pass", review.reasons
        assert tools.read_ledger(store) == []
    finally:
        store.close()

    # the gate in front of the payment, on the arguments the pay node builds
    from nesyflow._imports import load_module

    evidence = load_module(ROOT / "agents" / "expense" / "evidence.py")
    context = evidence.gather_context(evidence.EvidenceArgs(request=request["request"]))
    assert Decimal(MAX_CENTS) in context.source_amounts
    gate = check_subject(flow.nodes["pay"].packs, claim, context.model_dump(mode="json"))
    assert gate.verdict == "unknown"
    assert "too large to compute exactly" in gate.results[0]["reason"]


@pytest.mark.parametrize("amount", ["1e30", "1e999999999"])
def test_the_cli_says_which_amount_is_too_large_without_a_traceback(tmp_path, amount):
    import json
    import subprocess
    import sys

    file = tmp_path / "claim.json"
    file.write_text(json.dumps(big_claim(amount)))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "nesyflow.cli",
            "check",
            str(ROOT / "rules" / "expense"),
            "--input",
            str(file),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "InvalidOperation" not in run.stdout + run.stderr
    assert "items[0].amount" in run.stdout and "too large" in run.stdout
