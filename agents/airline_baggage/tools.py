"""Tools of the airline baggage agent: ``to_ticket`` turns what the model read into the fee pack's
``Ticket`` — the region at the non-U.S. end of the trip (or "U.S."), the direction, bag ids 1…n.

Regions come from the pack's gazetteer (``rules/airline_baggage/data/gazetteer.csv``: city → the
fee tables' region). A city it does not know is not guessed: the tool fails and the run goes to a
person.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module

__all__ = ["GAZETTEER", "TripArgs", "region_of", "to_ticket"]

_PACK_SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "airline_baggage" / "schema.py"


_pack = load_module(_PACK_SCHEMA)
_agent = load_module(Path(__file__).with_name("schema.py"))
Ticket = _pack.Ticket
BagText = _agent.BagText


def _gazetteer() -> dict[str, tuple[str, ...]]:
    """Region → cities, from the pack's own table (``rules/airline_baggage/data/gazetteer.csv``):
    knowledge the fee rules depend on lives with them, not in the agent."""
    from nesyflow.extract import load_table

    table = load_table(_PACK_SCHEMA.parent / "data", "gazetteer", ("city", "region"))
    out: dict[str, list[str]] = {}
    for _line, row in table.rows:
        out.setdefault(row["region"], []).append(row["city"])
    return {region: tuple(cities) for region, cities in out.items()}


GAZETTEER: dict[str, tuple[str, ...]] = _gazetteer()


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


_INDEX = {_key(city): region for region, cities in GAZETTEER.items() for city in cities}


def region_of(city: str) -> str | None:
    """The fee-table region of ``city`` ("U.S." for a U.S. city), or ``None`` if unknown."""
    return _INDEX.get(_key(city))


class TripArgs(BaseModel):
    """What ``to_ticket`` takes: the model's reading of the trip."""

    model_config = ConfigDict(extra="forbid")

    customer_class: str
    origin: str
    destination: str
    base_price: int
    bags: list[BagText] = Field(min_length=1)  # type: ignore[valid-type]


def to_ticket(trip: TripArgs) -> Ticket:  # type: ignore[valid-type]
    """The pack's ticket: routine = the non-U.S. end's region ("U.S." if both ends are in the
    U.S.), direction 0 = leaving the U.S., 1 = arriving in it."""
    origin, destination = region_of(trip.origin), region_of(trip.destination)
    unknown = [c for c, r in ((trip.origin, origin), (trip.destination, destination)) if r is None]
    if unknown:
        raise ValueError(f"no fee region known for {', '.join(map(repr, unknown))}")
    if origin == "U.S." and destination == "U.S.":
        routine, direction = "U.S.", 0
    elif origin == "U.S.":
        routine, direction = destination, 0
    elif destination == "U.S.":
        routine, direction = origin, 1
    else:
        raise ValueError(f"neither {trip.origin!r} nor {trip.destination!r} is in the U.S.")
    return Ticket(
        base_price=trip.base_price,
        customer_class=trip.customer_class,
        routine=routine,
        direction=direction,
        bag_list=[
            {"id": n, "name": b.name, "size": list(b.size), "weight": b.weight}
            for n, b in enumerate(trip.bags, start=1)
        ],
    )
