"""Numbers that do not fit the rule engine: refused by name, never a traceback; omitted where the
schema says nothing encodable could equal them; NaN and infinities refused at validation."""

from __future__ import annotations

import time
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from nesyflow.errors import EncodingError
from nesyflow.schema import Fixed, Money, OmitOutOfRange, to_facts


class Line(BaseModel):
    amount: Money


class Rated(BaseModel):
    rate: Annotated[float, Fixed(10_000, "1/10000")]


class Wrong(BaseModel):
    name: Annotated[str, OmitOutOfRange()]


class Seen(BaseModel):
    amounts: list[Annotated[Money, OmitOutOfRange()]] = []
    count: Annotated[int, OmitOutOfRange()] | None = None


@pytest.mark.parametrize("text", ["1e30", "-1e30", "21474836.48", "1e999999999", "99999999999"])
def test_an_amount_past_32_bits_is_refused_by_name(text):
    started = time.perf_counter()
    with pytest.raises(EncodingError, match=r"Line.amount: .* is too large for the rule engine"):
        to_facts(Line(amount=text))
    assert time.perf_counter() - started < 0.5  # 1e999999999 is never expanded


def test_the_largest_amounts_that_fit_are_encoded_exactly():
    facts = to_facts(Line(amount="21474836.47"), Line(amount="-21474836.48"))
    values = [s.arguments[1].number for s in facts.symbols if s.name == "line_amount"]
    assert values == [2**31 - 1, -(2**31)]
    tiny = to_facts(Line(amount="1e-999999"))  # rounds to zero cents, without expanding
    assert [s.arguments[1].number for s in tiny.symbols if s.name == "line_amount"] == [0]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_decimals_are_a_validation_error_naming_the_field(text):
    with pytest.raises(ValidationError, match="amount"):
        Line(amount=text)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "-inf"])
def test_non_finite_floats_with_a_unit_are_a_validation_error(value):
    with pytest.raises(ValidationError, match="finite"):
        Rated(rate=value)


def test_omit_out_of_range_leaves_out_only_the_values_that_cannot_be_held():
    facts = to_facts(Seen(amounts=["12.50", "190318842201", "7.00"], count=2**40))
    text = facts.text()
    assert "seen_amounts(1,0,1250)." in text and "seen_amounts(1,2,700)." in text
    assert "seen_amounts(1,1," not in text and "seen_count" not in text


def test_omit_out_of_range_is_for_numbers_only():
    with pytest.raises(EncodingError, match="numbers, dates and times only"):
        to_facts(Wrong(name="x"))


class Child(BaseModel):
    note: str
    size: int


class Parent(BaseModel):
    kids: list[Child]
    big: int


def test_only_the_read_predicates_are_encoded_and_ids_do_not_move():
    value = Parent(kids=[Child(note="a\x00", size=2**40), Child(note="b", size=3)], big=2**40)
    with pytest.raises(EncodingError):
        to_facts(value)
    read = {("parent_kids", 3), ("child_size", 2)}
    with pytest.raises(EncodingError, match=r"Parent.kids\[0\].size"):
        to_facts(value, read=read)  # a read field that cannot be held is still refused
    value.kids[0].size = 1
    facts = to_facts(value, read=read)
    assert sorted(facts.text().splitlines()) == [
        "child_size(2,1).",
        "child_size(3,3).",
        "parent_kids(1,0,2).",
        "parent_kids(1,1,3).",
    ]
