"""The rows of a document's tables, from its layout: an invoice's item lines and its tax lines.

A list's length comes from the text's structure (issue 9): an invoice bills one item per row of
its item table and states one tax amount per tax row. Rows are told apart by what a finance clerk
reads: an item row carries at least two amounts (unit price and line amount) and is no total,
tax or bank line; a tax row starts with a tax word (VAT, MwSt, TVA, BTW, sales tax...) and states
a percentage. Continuation lines of a long description carry no amounts and belong to no row.
Each row is read from its own text only; a tax rate a row does not state is looked up in the
tax rows (one rate: taken; several: ambiguous).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nesyflow.extract.finders import money, percents
from nesyflow.extract.planner import ItemText
from nesyflow.extract.text import Segment

__all__ = ["DocumentRows", "document_rows"]

_TAX_WORD = r"(?:vat|mwst\.?|ust\.?|umsatzsteuer|mehrwertsteuer|tva|btw|sales\s+tax|tax|gst)"
_TAX_ROW = re.compile(
    r"^\s*(?:\+\s*|plus\s+|zzgl\.?\s+|incl\.?\s+|inkl\.?\s+|dont\s+)?"
    r"(?:\d{1,2}(?:[.,]\d{1,3})?\s?%\s*)?" + _TAX_WORD + r"\b",
    re.IGNORECASE,
)
_NOT_ITEM = re.compile(
    r"^\s*(?:sub-?total|total|net\b|netto|summe|zwischensumme|gesamt|rechnungsbetrag|endbetrag|"
    r"zu zahlen|montant|sous-total|net à payer|totaal|subtotaal|te betalen|amount due|balance|"
    r"iban|bic|swift|bank|paid|payment|zahlbar|échéance|due)\b|" + _TAX_WORD + r"\s*\d",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DocumentRows:
    """The item rows and tax rows of a document, each an :class:`ItemText` to read fields from."""

    items: list[ItemText]
    taxes: list[ItemText]


def _lines(seg: Segment) -> list[Segment]:
    return [seg.part(m.start(), m.end()) for m in re.finditer(r"^.*$", seg.text, re.MULTILINE)]


def document_rows(text: str, source: str) -> DocumentRows:
    """The item rows and tax rows of ``text`` (the input field ``source``), in order. An item
    row's shared text is the tax section, so a rate it does not state is read from there."""
    whole = Segment(source, text)
    items: list[Segment] = []
    taxes: list[Segment] = []
    for line in _lines(whole):
        if not line:
            continue
        amounts = money(line)
        if _TAX_ROW.match(line.text) and percents(line) and amounts:
            taxes.append(line)
        elif len(amounts) >= 2 and not _NOT_ITEM.match(line.text):
            items.append(line)
    if taxes:
        start, end = taxes[0].offset, taxes[-1].offset + len(taxes[-1].text)
        section = whole.part(start, end)
    else:
        section = Segment(source, "", len(text))
    return DocumentRows(
        items=[ItemText(row, None, section) for row in items],
        taxes=[ItemText(row, None, row) for row in taxes],
    )
