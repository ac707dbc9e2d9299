"""Only the fields some rule reads are encoded: what a field no rule reads holds (a NUL, a number
past 32 bits, 10 kB of text) cannot change or block a verdict; a read field holds a NUL escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from nesyflow.logic import Verdict, check, check_many, load_pack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def airline():
    return load_pack(ROOT / "rules" / "airline_baggage")


@pytest.fixture(scope="module")
def expense():
    return load_pack(ROOT / "rules" / "expense")


def _ticket(name: str) -> dict:
    return {
        "base_price": 180,
        "customer_class": "Main Cabin",
        "routine": "U.S.",
        "direction": 0,
        "bag_list": [
            {"id": 1, "name": "backpack", "size": [20, 13, 6], "weight": 10},
            {"id": 2, "name": name, "size": [30, 20, 12], "weight": 45},
        ],
    }


def test_the_pack_knows_which_fields_its_rules_read(airline):
    assert ("bag_size", 3) in airline.read_signatures
    assert ("bag_name", 2) not in airline.read_signatures


@pytest.mark.parametrize("name", ["\x00", "suit\x00case", "x" * 10_000 + "\x00"])
def test_a_nul_in_a_bag_name_no_rule_reads_keeps_the_verdict(airline, name):
    clean = check(airline, _ticket("suitcase"))
    assert clean.verdict == Verdict.PASS and clean.derived["total_cost"] == 220
    for result in (check(airline, _ticket(name)), check_many(airline, [_ticket(name)])[0]):
        assert result.verdict == clean.verdict
        assert result.derived == clean.derived and result.atoms == clean.atoms


def test_a_nul_in_a_field_a_rule_reads_is_held_escaped(expense):
    item = {
        "date": "2025-03-04",
        "category": "ground_transport",
        "merchant": "Ub\x00er",
        "amount": "20.00",
        "receipt_attached": True,
        "description": "ride\x00",  # not read
    }
    claim = {
        "employee_name": "Sam Ortiz",
        "employee_level": "staff",
        "submitted_on": "2025-03-10",
        "items": [item, {**item, "merchant": "Ub\u2400er"}],
    }
    result = check(expense, claim)
    # both merchants are "Ub␀er" to the rules: the same expense twice
    assert result.verdict == Verdict.FAIL
    assert [f.rule for f in result.violations] == ["duplicate_in_claim"]
    different = check(expense, {**claim, "items": [item, {**item, "merchant": "Uber"}]})
    # two names: no duplicate for the rules, one charge to a person (possible_duplicate)
    assert not different.violations
    assert [f.rule for f in different.reviews] == ["possible_duplicate"]


def test_an_amount_no_item_could_match_does_not_block_the_check(expense):
    claim = {
        "employee_name": "Sam Ortiz",
        "employee_level": "staff",
        "submitted_on": "2025-03-10",
        "items": [
            {
                "date": "2025-03-04",
                "category": "ground_transport",
                "merchant": "UPS",
                "amount": "27.40",
                "receipt_attached": True,
            }
        ],
    }
    # a UPS tracking number read as an amount, far past 32 bits of cents
    context = {"source_checked": True, "source_amounts": ["27.40", "8190318842201"]}
    result = check(expense, claim, context)
    assert result.verdict == Verdict.PASS, result.reason
    misread = {"source_checked": True, "source_amounts": ["24.70", "8190318842201"]}
    assert [f.rule for f in check(expense, claim, misread).violations] == ["amount_not_in_source"]
