"""Finders return every candidate with its position; ranking puts the evidence first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nesyflow.extract import Segment, find
from nesyflow.extract.finders import counts, dates, money, names, rank, rates, stays

RECEIPT = "UBER\nTrip fare  $22.15\nBooking fee  $2.75\nTip  $2.50\nTotal  $27.40\nVisa ••4471"


def test_every_amount_is_found_with_its_offsets_and_the_total_ranks_first():
    seg = Segment("receipt", RECEIPT)
    found = money(seg)
    assert [o.value for o in found] == [Decimal(x) for x in ("22.15", "2.75", "2.50", "27.40")]
    for o in found:
        assert RECEIPT[o.start : o.end] == o.text and str(o.value) in o.text.replace(",", "")
    ranked = rank(found)
    assert ranked[0].value == Decimal("27.40") and ranked[0].why == "total line"
    assert ranked[-1].score < 1  # the tip and the fee weigh least


def test_offsets_point_into_the_whole_source_from_a_part():
    whole = Segment("request", "Two rides: $12.00 and $14.50.")
    part = whole.part(18, len(whole.text))
    (o,) = money(part)
    assert whole.text[o.start : o.end] == "$14.50" and o.value == Decimal("14.50")


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("€42.50", "42.50", "EUR"),
        ("TOTAL EUR          42,50", "42.50", "EUR"),  # a decimal comma
        ("¥4,800", "4800", "JPY"),  # thousands
        ("C$210", "210", "CAD"),
        ("64 dollars", "64", "USD"),
        ("42 euros", "42", "EUR"),
        ("$3,850", "3850", "USD"),
        ("$99,999,999,999.99", "99999999999.99", "USD"),  # past 2^31 cents: read, not wrapped
    ],
)
def test_money_spellings(text, value, currency):
    (o,) = money(Segment("request", text))
    assert o.value == Decimal(value) and o.attrs["currency"] == currency


@pytest.mark.parametrize(
    "text",
    [
        "1.08 USD per euro",  # a rate
        "at 1.27 USD/GBP",
        "converted at 1.13",
        "42 miles at the 67 cent rate",
        "05/06/2025 12:41",  # a date and a time
        "13.05.2025",
        "Store #1187",
        "Copy Paper 8.5x11",
        "-$20.00",  # a credit is not a charge
    ],
)
def test_what_is_not_an_amount(text):
    assert money(Segment("request", text)) == []


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("on April 2nd", "2025-04-02"),
        ("Wed, Apr 2, 2025 9:12 AM", "2025-04-02"),
        ("on 5/6", "2025-05-06"),
        ("05/06/2025", "2025-05-06"),
        ("17/06/2025", "2025-06-17"),  # day first when it cannot be a month
        ("13.05.2025", "2025-05-13"),
        ("2025/10/21", "2025-10-21"),
        ("Issued 10FEB25", "2025-02-10"),
        ("(Mar 17-19)", "2025-03-17"),
        ("on 22 Sept", "2025-09-22"),
        ("TUE OCT 14 2025", "2025-10-14"),
        ("booked 02-Sep-2025", "2025-09-02"),
        ("Invoice date: 15-AUG-2025", "2025-08-15"),
    ],
)
def test_dates_are_normalised(text, day):
    found = dates(Segment("request", text), dt.date(2025, 11, 1))
    assert [o.value.isoformat() for o in found] == [day]


def test_a_date_without_a_year_is_not_put_months_after_submission():
    (o,) = dates(Segment("request", "dinner on Dec 28"), dt.date(2025, 1, 6))
    assert o.value == dt.date(2024, 12, 28)


def test_labelled_receipt_date_beats_a_flight_date():
    seg = Segment("receipt", "DELTA\nIssued: 10FEB25\nDL 1432 RDU-ATL 18FEB  Economy")
    ranked = rank(dates(seg, dt.date(2025, 2, 20)))
    assert ranked[0].value == dt.date(2025, 2, 10) and ranked[0].score >= 2 * ranked[1].score


def test_counts_and_rates():
    found = counts([("{n} of us", 3.0), ("{n} people", 1.0)])(
        Segment("request", "three people from Acme (so four of us)")
    )
    assert rank(found)[0].value == 4
    assert [o.value for o in rates(Segment("request", "Rate 0.0067 USD per yen"))] == [
        Decimal("0.0067")
    ]


def test_names_from_a_receipt_header_and_from_capitalised_spans():
    (head,) = names(Segment("receipt", "STAPLES Store #1187 Raleigh NC\n06/11/2025"))
    assert head.value == "Staples"
    spans = names(
        Segment("request", "Two things from the Atlanta trip: Checker Cab ($22)"),
        exclude=lambda s: s == "Atlanta",
    )
    assert spans[0].value == "Checker Cab"


@pytest.mark.parametrize(
    ("text", "nights"),
    [
        ("checked in Mon 6/2 and out Thu 6/5. Folio attached.", 3),
        ("Guest: FITCH, AARON\nArrive: 06/02/25    Depart: 06/05/25\n06/02 Room 159.00", 3),
        ("Arrival: 12 JAN 2025    Departure: 14 JAN 2025", 2),
        ("Arr 08/04/2025   Dep 08/06/2025", 2),
        ("hotel (Aloft, 8/4-8/6, $365.70)", 2),
        ("Stayed at the Hilton for the NRF show, Jan 12-14.", 2),
    ],
)
def test_nights_of_a_stay_from_its_dates(text, nights):
    found = stays(Segment("receipt", text), dt.date(2025, 7, 1))
    assert found and rank(found)[0].value == nights


@pytest.mark.parametrize(
    "text",
    [
        "Lunch on 6/2, receipt from 6/5.",  # two dates, neither an arrival nor a range
        "Arrive: 06/05/25 Depart: 06/02/25",  # departure before arrival
        "Flight out 1/27, back 1/29 (the room is on another claim)",  # no arrival label
        "Conference Mar 4-98",
    ],
)
def test_dates_that_are_not_a_stay(text):
    assert stays(Segment("request", text), dt.date(2025, 7, 1)) == []


def test_an_item_line_repeated_on_a_folio_counts_once_against_the_total():
    receipt = Segment(
        "receipt",
        "06/02 Room Charge 159.00\n06/03 Room Charge 159.00\n06/04 Room Charge 159.00\n"
        "Total Charges 534.24",
    )
    (top, second) = rank(money(receipt))
    assert (top.value, second.value) == (Decimal("534.24"), Decimal("159.00"))
    assert top.score >= 2 * second.score  # decisive: no question, no ambiguity


def test_identifier_kinds():
    seg = Segment("request", "Order #W2378156 for jo.smith@example.com, zip 94107.")
    assert [o.value for o in find("identifier", seg)] == ["#W2378156"]
    assert [o.value for o in find("email", seg)] == ["jo.smith@example.com"]
    assert [o.value for o in find("zip", seg)] == ["94107"]
    with pytest.raises(KeyError, match="unknown span kind 'colour'"):
        find("colour", seg)


def test_a_huge_text_is_read_in_linear_time_and_completely():
    lines = "\n".join(f"Item {i}   {i}.25" for i in range(5000))
    found = money(Segment("receipt", lines + "\nTotal  $1.00"))
    assert len(found) == 5001 and rank(found)[0].value == Decimal("1.00")
