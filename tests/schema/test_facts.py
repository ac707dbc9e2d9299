"""The pydantic → facts encoding: documented shapes, determinism, the reverse direction, refusals."""

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

from nesyflow.errors import EncodingError
from nesyflow.schema import Fixed, Money, from_facts, plan_for, to_facts, vocabulary


class Colour(enum.Enum):
    DARK_RED = "Dark Red"
    BLUE = "blue"


class Leg(BaseModel):
    origin: str
    day: dt.date
    when: dt.datetime | None = None


class Trip(BaseModel):
    __asp_name__ = "trip"
    traveller: str
    cabin: Literal["Main Cabin", "First"]
    colour: Colour
    paid: Money
    rate: Annotated[Decimal, Fixed(10000)]
    refundable: bool
    legs: list[Leg]
    tags: list[str] = []
    notes: dict[str, int] = {}
    seat: int | None = None


TRIP = Trip(
    traveller="Ann",
    cabin="Main Cabin",
    colour=Colour.DARK_RED,
    paid=Decimal("12.345"),
    rate=Decimal("1.0825"),
    refundable=False,
    legs=[
        Leg(origin="BOS", day=dt.date(2024, 3, 2), when=dt.datetime(2024, 3, 2, 8, tzinfo=dt.UTC))
    ],
    tags=["a", "b"],
    notes={"z": 1, "a": 2},
)


def test_encoding_follows_the_documented_shapes():
    text = to_facts(TRIP).text().splitlines()
    assert text == [
        "trip(1).",
        'trip_traveller(1,"Ann").',
        "trip_cabin(1,main_cabin).",
        "trip_colour(1,dark_red).",
        "trip_paid(1,1234).",  # 12.345 → cents, rounded half-even
        "trip_rate(1,10825).",
        "trip_refundable(1,false).",
        "leg(2).",
        'leg_origin(2,"BOS").',
        f"leg_day(2,{(dt.date(2024, 3, 2) - dt.date(1970, 1, 1)).days}).",
        f"leg_when(2,{int(dt.datetime(2024, 3, 2, 8, tzinfo=dt.UTC).timestamp())}).",
        "trip_legs(1,0,2).",
        'trip_tags(1,0,"a").',
        'trip_tags(1,1,"b").',
        'trip_notes(1,"a",2).',
        'trip_notes(1,"z",1).',
    ]


def test_encoding_is_deterministic_and_none_gives_no_fact():
    assert to_facts(TRIP).symbols == to_facts(TRIP.model_copy()).symbols
    assert not any(s.name == "trip_seat" for s in to_facts(TRIP).symbols)


def test_weekday_formula_documented_for_rule_authors():
    day = dt.date(2024, 3, 2)  # a Saturday
    number = (day - dt.date(1970, 1, 1)).days
    assert (number + 3) % 7 == day.weekday() == 5


def test_round_trip_from_facts():
    back = from_facts(Trip, to_facts(TRIP).symbols)
    assert back == TRIP.model_copy(update={"paid": Decimal("12.34")})


def test_vocabulary_lists_every_predicate_with_arguments():
    vocab = {p.name: p for p in vocabulary(Trip)}
    assert vocab["trip_legs"].arity == 3
    assert vocab["trip_cabin"].arguments[1] == "Value: one of main_cabin, first"
    assert vocab["trip_paid"].arguments[1] == "Value: integer in cents"
    assert vocab["leg_day"].arguments[1].startswith("Value: date as days since 1970-01-01")


def test_floats_without_a_unit_are_refused_at_plan_time():
    class Bad(BaseModel):
        amount: float

    with pytest.raises(EncodingError, match=r"Bad.amount: float needs a fixed-point unit"):
        plan_for(Bad)


def test_nul_characters_are_held_as_the_null_symbol():
    class Note(BaseModel):
        text: str

    # clingo would cut the string at the NUL; it is held as U+2400 (README "How inputs become facts")
    (fact,) = [s for s in to_facts(Note(text="wine\x00 list")).symbols if s.name == "note_text"]
    assert fact.arguments[1].string == "wine\u2400 list"


def test_integers_beyond_32_bits_are_refused():
    class Big(BaseModel):
        n: int

    with pytest.raises(EncodingError, match="32-bit"):
        to_facts(Big(n=2**40))


def test_colliding_enum_constants_are_refused():
    class Clash(BaseModel):
        kind: Literal["U.S.", "u s"]

    with pytest.raises(EncodingError, match="both become constant 'u_s'"):
        plan_for(Clash)
