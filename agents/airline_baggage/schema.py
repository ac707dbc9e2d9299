"""Schemas of the airline baggage agent.

The model reads a passenger's description and writes a :class:`TripText`: what the text says, in
its words (cities, cabin, price, bags). Turning that into the fee pack's ``Ticket`` (the region at
the other end of the trip, its direction, bag ids) is deterministic and done by the ``to_ticket``
tool, so the model never has to know that Wuhan is in China.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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

    name: Literal["backpack", "luggage box", "suitcase", "bag"]
    size: list[int] = Field(min_length=3, max_length=3, description="Length, width, height.")
    weight: int = Field(ge=1, le=500, description="Pounds.")


class TripText(BaseModel):
    """What the model writes."""

    model_config = ConfigDict(extra="forbid")

    customer_class: CabinClass
    origin: str = Field(min_length=1, max_length=40, description="City the flight leaves from.")
    destination: str = Field(min_length=1, max_length=40, description="City it flies to.")
    bags: list[BagText] = Field(min_length=1, max_length=12, description="Items in listed order.")
    base_price: int = Field(ge=0, le=100000, description="Ticket price in dollars.")
