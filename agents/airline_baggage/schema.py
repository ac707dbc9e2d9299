"""Schemas of the airline baggage agent.

The agent reads a passenger's description into a :class:`TripText`: what the text says, in its
words (cities, cabin, price, bags), each field annotated with the span it is read from
(:mod:`nesyflow.extract.sources`); the bags are the numbered lines, one bag a line. No model is
asked: the 135M model copied sizes wrong even one line at a time, and nothing here needs judgement. Turning that into the fee pack's ``Ticket`` (the region at
the other end of the trip, its direction, bag ids) is deterministic and done by the ``to_ticket``
tool, so the model never has to know that Wuhan is in China.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow.extract.sources import Span

__all__ = ["BagText", "PassengerRequest", "TripText"]

CabinClass = Literal[
    "Basic Economy", "Main Cabin", "Main Plus", "Premium Economy", "Business", "First"
]


class PassengerRequest(BaseModel):
    """The run's input: the passenger's description. Extra keys are ignored, so a line of
    ``samples.jsonl`` is a valid input as it is."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(min_length=1, description="The passenger's trip and bags, in words.")


class BagText(BaseModel):
    """One item the passenger brings, as the text lists it (inches, pounds)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        Literal["backpack", "luggage box", "suitcase", "bag"],
        Span("phrase", ((r"\b(?P<v>backpack|luggage box|suitcase|bag)\b", 2.0),), ("prompt",)),
    ]
    size: Annotated[list[int], Span("dimensions", text=("prompt",))] = Field(
        min_length=3, max_length=3, description="Length, width, height."
    )
    weight: Annotated[int, Span("count", (("{n} lbs?", 2.0), ("{n} pounds", 2.0)), ("prompt",))] = (
        Field(ge=1, le=500, description="Pounds.")
    )


class TripText(BaseModel):
    """What the model writes."""

    model_config = ConfigDict(extra="forbid")

    customer_class: Annotated[
        CabinClass,
        Span(
            "phrase",
            (
                (
                    r"\b(?P<v>Basic Economy|Main Cabin|Main Plus|Premium Economy|Business|First)"
                    r"\s+Class\b",
                    2.0,
                ),
            ),
            ("prompt",),
        ),
    ]
    origin: Annotated[str, Span("phrase", ((r"\bfrom (?P<v>[^\n]+?) to ", 2.0),), ("prompt",))] = (
        Field(min_length=1, max_length=40, description="City the flight leaves from.")
    )
    destination: Annotated[
        str,
        Span(
            "phrase", ((r"\bfrom [^\n]+? to (?P<v>[^\n]+?)(?: with\b|[,.:;]\s)", 2.0),), ("prompt",)
        ),
    ] = Field(min_length=1, max_length=40, description="City it flies to.")
    bags: list[BagText] = Field(min_length=1, max_length=12, description="Items in listed order.")
    base_price: Annotated[
        int, Span("count", ((r"ticket is \${n}", 2.0), (r"\${n}", 1.0)), ("prompt",))
    ] = Field(ge=0, le=100000, description="Ticket price in dollars.")
