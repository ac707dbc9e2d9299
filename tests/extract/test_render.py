"""Provenance as people see it: quoted spans, candidates, highlighted HTML that escapes the text."""

from __future__ import annotations

import pytest

from nesyflow.extract.render import (
    Pick,
    find_readings,
    highlight,
    picks,
    provenance_rows,
    with_value,
)

READINGS = [
    {
        "field": "items.0.amount",
        "value": "27.40",
        "origin": "span",
        "source": "receipt",
        "start": 6,
        "end": 12,
        "detail": "total line",
        "candidates": [{"value": "27.40", "score": 3.0}, {"value": "2.50", "score": 0.3}],
    },
    {"field": "employee_name", "value": "Dana", "origin": "input", "detail": "employee.name"},
]


def test_rows_quote_the_span_and_list_the_candidates():
    rows = provenance_rows(READINGS, {"receipt": "Total $27.40 <b>"})
    assert rows[0].line() == (
        "items.0.amount = 27.40 ← span receipt[6:12] '$27.40' (total line); "
        "candidates 27.40 (3.0), 2.50 (0.3)"
    )
    assert rows[1].where == "" and rows[1].origin == "input"


def test_highlight_escapes_the_text_and_marks_each_span_once():
    out = highlight(
        "<script>x</script> Total $27.40", [(25, 31, "amount", False), (25, 29, "other", True)]
    )
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<mark") == 1 and 'title="amount"' in out and "$27.40</mark>" in out


def test_spans_outside_the_text_are_ignored():
    assert highlight("abc", [(2, 99, "x", False), (-1, 2, "y", False)]) == "abc"


def test_find_readings_takes_the_step_that_has_them():
    assert find_readings([None, {"to": "pay"}, {"readings": READINGS}]) == READINGS
    assert find_readings([{"readings": "not a list"}]) == []


def test_picks_offer_the_distinct_candidates_of_fields_the_held_value_has():
    held = {"items": [{"amount": "2.50"}]}
    readings = [
        *READINGS,
        {"field": "items.0.merchant", "value": "Uber", "candidates": [{"value": "Uber"}]},
        {"field": "items.3.amount", "value": "1.00", "candidates": READINGS[0]["candidates"]},
    ]
    assert picks(readings, held) == [Pick("items.0.amount", "2.50", ("27.40", "2.50"))]


def test_with_value_replaces_a_field_in_a_copy_and_never_invents_one():
    held = {"items": [{"amount": "2.50", "merchant": "Uber"}]}
    edited = with_value(held, "items.0.amount", "27.40")
    assert edited == {"items": [{"amount": "27.40", "merchant": "Uber"}]}
    assert held["items"][0]["amount"] == "2.50"
    for missing in ("items.1.amount", "items.0.tip", "total"):
        with pytest.raises(KeyError, match=missing):
            with_value(held, missing, "1")
