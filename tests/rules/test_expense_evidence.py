"""The expense agent's evidence reader: amounts yes, identifiers no, decimal commas read, and a
number too large for the rules never blocks the check."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nesyflow._imports import load_module
from nesyflow.logic import Verdict, check, load_pack

ROOT = Path(__file__).resolve().parents[2]
evidence = load_module(ROOT / "agents" / "expense" / "evidence.py")
read = evidence.written_amounts

HOTEL = """HOTEL ADLON KEMPINSKI
Unter den Linden 77, 10117 Berlin
Tel. +49 30 2261 0   Fax +49 30 2261 2222
Confirmation No. 84711203   Room 512
Arrival 12.05.2025  Departure 14.05.2025
2 Nächte à 185,00 EUR       370,00
City tax 5%                  18,50
Total                    EUR 388,50
Visa ************4471  Auth code 0A12B9"""

SHIPPING = """UPS Store #4412  (919) 555-0143
Tracking: 1Z8V2W190318842201
Ground shipping, 2 boxes      $38.20
Order 77120455   04/22/2025 14:05
TOTAL $38.20"""


def test_a_hotel_receipt_gives_its_amounts_not_its_numbers():
    # phone, fax, confirmation, room, dates, the card, the auth code and the tax rate are not
    # amounts; the street number, postcode and count of nights are numbers no reader can tell
    # from amounts; the decimal commas are read
    expected = ["77", "10117", "2", "185", "370", "18.50", "388.50"]
    assert read(HOTEL) == [Decimal(a) for a in expected]


def test_a_shipping_receipt_gives_no_tracking_order_or_phone_number():
    amounts = read(SHIPPING)
    assert amounts == [Decimal("2.00"), Decimal("38.20")]  # "2 boxes" is a number, not an id


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Fahrpreis EUR 42,00", "42.00"),
        ("85,50 EUR", "85.50"),
        ("1.450,00 €", "1450.00"),
        ("$1,450.00", "1450.00"),
        ("1,450", "1450.00"),
        ("27.4", "27.40"),
        ("USD27.40", "27.40"),
        ("27.40USD", "27.40"),
        ("¥120000", "120000.00"),
        ("120000 JPY", "120000.00"),
    ],
)
def test_amounts_in_the_usual_forms(text, amount):
    assert read(text) == [Decimal(amount)]


@pytest.mark.parametrize(
    "text",
    [
        "1Z8V2W190318842201",
        "Confirmation #84711203",
        "confirmation number 84711203",
        "Booking ref: AB12CD",
        "Room 1204",
        "Visa ••4471",
        "Mastercard ending in 8812",
        "call 415-555-0134",
        "+1 (415) 555 0134",
        "84711203",
        "on 2025-04-02 at 9:12",
        "VAT 20%",
        "flight UA1234",
    ],
)
def test_identifiers_dates_and_rates_are_not_amounts(text):
    assert read(text) == []


@settings(max_examples=200, deadline=None)
@given(
    label=st.sampled_from(["Confirmation #", "Tracking: ", "Order ", "Ref ", "Account ", "#"]),
    number=st.integers(10_000_000, 10**18),
    amount=st.integers(1, 10**7),
)
def test_a_labelled_identifier_never_becomes_an_amount(label, number, amount):
    money = Decimal(amount) / 100
    assert read(f"{label}{number}\nTotal ${money:.2f}") == [money.quantize(Decimal("0.01"))]


def test_every_sample_amount_is_still_found():
    """The reader drops numbers, never the amounts the 70 samples' claims are made of."""
    for line in (ROOT / "agents" / "expense" / "samples.jsonl").read_text().splitlines():
        row = json.loads(line)
        found = read(f"{row['request']}\n{row['receipt']}")
        for item in row["expected"]["items"]:
            assert Decimal(item["amount"]) in found, (row["id"], item["amount"])


def test_a_number_too_large_for_the_rules_does_not_make_the_check_unknown():
    pack = load_pack(ROOT / "rules" / "expense")
    args = evidence.EvidenceArgs(
        request="Shipping of the demo kit, $38.20, paid 4/22. Invoice 2025-0042.",
        receipt=SHIPPING + "\nReference amount 99999999999.00",  # too large for 32-bit cents
    )
    context = evidence.gather_context(args)
    assert Decimal("99999999999.00") in context.source_amounts
    claim = {
        "employee_name": "Sam Ortiz",
        "employee_level": "staff",
        "submitted_on": "2025-04-25",
        "items": [
            {
                "date": "2025-04-22",
                "category": "office_supplies",
                "merchant": "UPS Store",
                "amount": "38.20",
                "receipt_attached": True,
            }
        ],
    }
    result = check(pack, claim, context.model_dump(mode="json"))
    assert result.verdict == Verdict.PASS, result.reason
