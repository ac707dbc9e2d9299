"""Input model of the airline_baggage pack: one passenger's ticket and the bags they bring.

It accepts exactly the RuleArena airline ``info`` object::

    {"base_price": 180, "customer_class": "Main Cabin", "routine": "U.S.", "direction": 0,
     "bag_list": [{"id": 1, "name": "backpack", "size": [22, 13, 6], "weight": 10}, ...]}

Facts (nesyflow.schema encoding): ``ticket(T)``, ``ticket_base_price(T, Dollars)``,
``ticket_customer_class(T, main_cabin)``, ``ticket_routine(T, "U.S.")``, ``ticket_direction(T, 0|1)``,
``ticket_bag_list(T, Index, B)``, ``bag(B)``, ``bag_id(B, Id)``, ``bag_name(B, "...")``,
``bag_size(B, K, Inches)`` (K = 0, 1, 2), ``bag_weight(B, Lbs)``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

CabinClass = Literal[
    "Basic Economy", "Main Cabin", "Main Plus", "Premium Economy", "Business", "First"
]


class Bag(BaseModel):
    """One item the passenger brings. Sizes in inches, weight in pounds (whole numbers)."""

    __asp_name__: ClassVar[str] = "bag"
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    size: Annotated[list[PositiveInt], Field(min_length=3, max_length=3)]
    weight: PositiveInt


class Ticket(BaseModel):
    """The ticket: price in whole dollars, cabin, the non-U.S. end of the trip and its direction.

    ``routine`` names the region at the other end of a trip that starts or ends in the U.S.
    ("U.S." for a domestic trip). ``direction`` 0 = from the U.S. to ``routine``, 1 = from
    ``routine`` to the U.S. ``bag_list[0]`` is the carry-on; the rest are presented for checking.
    """

    __asp_name__: ClassVar[str] = "ticket"
    model_config = ConfigDict(extra="forbid")

    base_price: NonNegativeInt
    customer_class: CabinClass
    routine: str
    direction: Literal[0, 1]
    bag_list: list[Bag]

    @model_validator(mode="after")
    def _unique_bag_ids(self) -> Ticket:
        ids = [b.id for b in self.bag_list]
        if len(ids) != len(set(ids)):
            raise ValueError("bag ids must be unique (they name the per-bag results)")
        return self
