"""The ``read`` tool: the invoice read from its text by the planner, with where every value is.

The supplier is the supplier master data's name written in the text (``agents/invoice/data``),
else the document's header line; VAT id, IBAN (mod-97 checked), invoice and order numbers, dates
and the totals are spans after their labels in five languages; the item and tax rows come from
the layout (:func:`nesyflow.extract.rows.document_rows`) and each row's quantity, unit price,
amount and rate from that row alone; a row's tax category from the pack's keyword table
(``rules/invoice/data``). Nothing here asks the model unless two candidates are close: on the 30
samples the evidence is decisive for every field, so the embedded model is never asked (the
summary prints the count). A field whose sources disagree is *ambiguous*: the context tells the
rules, which send the invoice to a person.

``$NESYFLOW_EXTRACT_CHOOSER``: ``model`` (default: ``$NESYFLOW_MODEL`` or the embedded model) or
``person`` (no model: every field the evidence leaves open goes to a person as ambiguous).
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from nesyflow._imports import load_module
from nesyflow.extract import (
    Ambiguity,
    Chooser,
    ItemText,
    ModelChooser,
    PersonChooser,
    Reading,
    Segment,
    extract_items,
    field_sources,
    load_table,
)
from nesyflow.extract.rows import document_rows

__all__ = ["ReadArgs", "ReadResult", "read_invoice", "read_with"]

_HERE = Path(__file__).resolve().parent
_PACK_DATA = _HERE.parents[1] / "rules" / "invoice" / "data"
_schema = load_module(_HERE / "schema.py")

ExtractedInvoice = _schema.ExtractedInvoice
ExtractedLine = _schema.ExtractedLine
ExtractedTax = _schema.ExtractedTax
for _model in (ExtractedInvoice, ExtractedLine, ExtractedTax):
    field_sources(_model)  # the schema's sources are validated when the workflow loads

SOURCE = "invoice"
"""The run input's field the invoice text is in (every span points into it)."""


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: str
    received_on: dt.date


class ReadResult(BaseModel):
    """The invoice as read, how each value was read, and what is ambiguous."""

    invoice: ExtractedInvoice  # type: ignore[valid-type]
    readings: list[Reading]
    ambiguities: list[Ambiguity]
    model_calls: int = 0
    model_ms: float = 0.0


@cache
def tables() -> dict[str, Any]:
    """The pack's keyword and country tables and the supplier master data (alias → name)."""
    return {
        "keywords": load_table(_PACK_DATA, "keywords", ("field", "value", "phrase")),
        "countries": load_table(_PACK_DATA, "countries", ("word", "country")),
        "suppliers": load_table(_HERE / "data", "suppliers", ("alias", "name", "country")),
    }


def _chooser() -> Chooser:
    if os.environ.get("NESYFLOW_EXTRACT_CHOOSER", "model").strip() == "person":
        return PersonChooser()
    from nesyflow.llm import resolve_model

    return ModelChooser(resolve_model(None, None))


def read_invoice(args: ReadArgs) -> ReadResult:
    """The workflow's tool: read the invoice with the configured chooser (see the module doc)."""
    return read_with(args, _chooser())


def _required(values: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        if values.get(name) is None:
            raise ValueError(f"{where}{name}: not found in the invoice text; a person must read it")


def read_with(args: ReadArgs, chooser: Chooser) -> ReadResult:
    """Read the invoice in ``args.invoice``; ``chooser`` decides what the evidence leaves open."""
    whole = Segment(SOURCE, args.invoice)
    common = {"submitted": args.received_on}
    head = extract_items(
        ExtractedInvoice, [ItemText(whole, None, whole)], tables(), chooser, prefix="", **common
    )
    rows = document_rows(args.invoice, SOURCE)
    lines = extract_items(ExtractedLine, rows.items, tables(), chooser, prefix="lines", **common)
    taxes = extract_items(ExtractedTax, rows.taxes, tables(), chooser, prefix="taxes", **common)
    values = head.items[0]
    _required(values, ("supplier_name", "net_total", "gross_total"), "")
    for index, line in enumerate(lines.items):
        _required(line, ("quantity", "unit_price", "net"), f"lines.{index}.")
    if not lines.items:
        raise ValueError("lines: no item rows found in the invoice text; a person must read it")
    invoice = ExtractedInvoice.model_validate(
        {**values, "lines": lines.items, "taxes": taxes.items}
    )
    structure = [
        Reading(
            field=name,
            value=len(got),
            origin="structure",
            detail=why,
        )
        for name, got, why in (
            ("lines", rows.items, "one per row of the item table (two amounts, no total/tax word)"),
            ("taxes", rows.taxes, "one per tax row (a tax word and a percentage)"),
        )
    ]
    parts = (head, lines, taxes)
    return ReadResult(
        invoice=invoice,
        readings=[*structure, *(r for p in parts for r in p.readings)],
        ambiguities=[a for p in parts for a in p.ambiguities],
        model_calls=sum(p.model_calls for p in parts),
        model_ms=float(getattr(chooser, "ms", 0.0)),
    )
