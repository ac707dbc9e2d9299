"""The ``read`` tool of the airline agent: the trip read from the passenger's description.

The cabin, the cities and the price are spans of the description; the bags are its numbered
lines, each bag's name, size and weight read from its own line. Nothing is left for a model to
judge (a plain parse of the lines and the fee pack get every sample's total right; the embedded
model copied sizes wrong), so no model is called; a line that does not give a size or a weight,
or a description without a cabin, cities or price, stops the run for a person with the reason.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, create_model

from nesyflow._imports import load_module
from nesyflow.extract import (
    PersonChooser,
    Reading,
    Segment,
    extract_items,
    numbered_lines,
)
from nesyflow.extract.planner import ItemText

__all__ = ["ReadArgs", "TripReading", "read_trip"]

_schema = load_module(Path(__file__).resolve().with_name("schema.py"))
TripText = _schema.TripText
BagText = _schema.BagText


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str


_TripFields = create_model(  # the trip's own fields, with their sources (bags: line by line)
    "_TripFields",
    **{
        name: (TripText.model_fields[name].rebuild_annotation(), ...)
        for name in ("customer_class", "origin", "destination", "base_price")
    },
)


class TripReading(BaseModel):
    """The trip as read and how each value was read (the step record keeps it)."""

    trip: TripText  # type: ignore[valid-type]
    readings: list[Reading]


def read_trip(args: ReadArgs) -> TripReading:
    """Read the description (see the module doc); a value not found is a clear error."""
    whole = Segment("prompt", args.prompt)
    chooser = PersonChooser()  # never asked: every field here is a span or a line
    head = extract_items(_TripFields, [ItemText(whole, None, whole)], {}, chooser, prefix="trip")
    lines = numbered_lines(args.prompt, "prompt")
    bags = extract_items(BagText, lines, {}, chooser, prefix="bags")
    problems = [
        f"{name}: not found in the description"
        for name in _TripFields.model_fields
        if name not in head.items[0]
    ]
    if not lines:
        problems.append("bags: no numbered lines (1. A backpack: 22 x 13 x 6 inches, 10 lbs)")
    for index, (line, bag) in enumerate(zip(lines, bags.items, strict=True)):
        for name in BagText.model_fields:
            if name not in bag:
                problems.append(f"bags.{index}.{name}: not found in line {line.request.text!r}")
    ambiguous = [a.field for a in [*head.ambiguities, *bags.ambiguities]]
    problems += [f"{f}: the description gives more than one value" for f in ambiguous]
    if problems:
        raise ValueError("; ".join(problems))
    trip = TripText.model_validate({**head.items[0], "bags": bags.items})
    return TripReading(trip=trip, readings=[*head.readings, *bags.readings])
