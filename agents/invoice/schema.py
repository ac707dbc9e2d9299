"""Schemas of the invoice agent: the run's input and the invoice it reads.

The invoice the rules check is the pack's own ``Invoice`` (``rules/invoice/schema.py``); this file
imports that file by path and annotates each field with where its value comes from
(:mod:`nesyflow.extract.sources`): the supplier from the supplier master data written in the text
(else the document's header), ids, IBAN, dates and amounts from spans after their labels, the
rows of the item and tax tables from the layout (:mod:`nesyflow.extract.rows`), a row's tax
category from the pack's keyword table. The classification markers (``Sensitive`` IBAN and tax
ids, ``Retain(years=10)`` what tax law requires) are the pack schema's, repeated on the fields
that redeclare them; ``tests/agents/test_invoice_agent.py`` checks both schemas classify alike.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module
from nesyflow.extract.sources import Default, Derived, Keywords, Lookup, Span

_PACK_SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "invoice" / "schema.py"
_pack = load_module(_PACK_SCHEMA)  # the very module (and classes) the pack loads

Invoice = _pack.Invoice
InvoiceContext = _pack.InvoiceContext
PriorInvoice = _pack.PriorInvoice
Money = _pack.Money
Quantity = _pack.Quantity
Percent = _pack.Percent
Country = _pack.Country
Currency = _pack.Currency
Category = _pack.Category
Kind = _pack.Kind
BANK, TAX_ID, TAX_RECORD = _pack.BANK, _pack.TAX_ID, _pack.TAX_RECORD

__all__ = ["ExtractedInvoice", "ExtractedLine", "ExtractedTax", "InvoiceRequest"]

_DOC = ("invoice",)
_US = ("supplier_country", ("US",))  # month first only on a US invoice

_INVOICE_NO = (
    (r"\b(?:invoice|rechnungs?|facture|factuur|credit\s+note|gutschrift|avoir)[\s-]*"
     r"(?:no\.?|nr\.?|n°|number|nummer|#)", 3.0),
    (r"\binvoice(?=\s*[:#])|^\s*(?:tax\s+)?(?:invoice|rechnung|facture|factuur)\s+(?=\S*\d)", 2.0),
)  # fmt: skip
_PO = (
    (r"\b(?:P\.?O\b\.?(?!\s*box)(?:\s*(?:number|no\.?|#))?|purchase\s+order(?:\s+(?:no\.?|number))?"
     r"|your\s+order(?:\s+(?:no\.?|ref\.?))?|order\s+ref(?:erence)?|ihre\s+bestellung"
     r"|bestell(?:nummer|nr\.?|ung)|bon\s+de\s+commande|v(?:otre)?\.?\s*commande"
     r"|inkoopordernummer|uw\s+(?:order|bestelnummer|referentie)|bestelnummer)", 3.0),
)  # fmt: skip
_ISSUED = (
    (r"\b(?:invoice\s+date|date\s+of\s+issue|issue\s+date|issued(?:\s+on)?|tax\s+point|"
     r"rechnungsdatum|date\s+de\s+(?:la\s+)?facture|date\s+d'émission|factuurdatum)\b", 3.0),
    (r"(?:^|\||\s{2})\s*(?:date|datum|le)\b|\bdu(?=\s+\d)", 2.0),
)  # fmt: skip
_DUE = (
    (r"(?:^|\||\s{2})\s*due\b|\b(?:due\s+date|payment\s+due|due\s+on|due(?=:)|fällig(?:\s+am)?|zahlbar\s+bis|"
     r"date\s+d'échéance|échéance|à\s+payer\s+avant\s+le|vervaldatum|uiterste\s+betaaldatum|"
     r"te\s+betalen\s+vóór|pay\s+by)\b", 3.0),
)  # fmt: skip
_TERMS = (
    ("within {n} days", 3.0),
    ("net {n}", 3.0),
    ("{n} days net", 3.0),
    ("innerhalb von {n} tagen", 3.0),
    ("innerhalb {n} tagen", 3.0),
    ("à {n} jours", 3.0),
    (r"zahlungsziel:?\s*{n} tage", 3.0),
    ("binnen {n} dagen", 3.0),
)
_DESCRIPTION = (  # a row's text up to its first column gap, without a position number
    (
        r"^\s*(?:\d{1,3}[.)]?\s+)?(?:\d+(?:[.,]\d+)?\s?x\s+)?(?P<v>[^\d\s][^\n]*?)(?=\s{2,}|\t|$)",
        1.0,
    ),
)
_NET = (
    (r"^\s*(?:sub-?total|net\s+(?:total|amount)|total\s+net|total\s+excl\.?(?:\s+(?:vat|tax))?|"
     r"nettobetrag|summe\s+netto|netto(?:summe|betrag)?|zwischensumme|total\s+ht|montant\s+ht|"
     r"sous-total\s+ht|subtotaal|totaal\s+excl\.?\s*btw)\b", 3.0),
)  # fmt: skip
_TAX_TOTAL = (
    (r"^\s*(?:total\s+(?:vat|tax|tva)|vat\s+total|tax\s+total|summe\s+(?:mwst|ust)\.?|"
     r"(?:mwst|ust)\.?\s+gesamt|umsatzsteuer\s+gesamt|totaal\s+btw)\b(?![^\n]*%)", 3.0),
)  # fmt: skip
_GROSS = (
    (r"^\s*(?:(?:invoice\s+)?total(?!\s*(?:net|excl|vat|tax|ht|tva))(?:\s+(?:due|amount|gross|incl\.?"
     r"(?:\s+(?:vat|tax))?))?|amount\s+due|balance\s+due|total\s+due|gesamtbetrag|"
     r"rechnungsbetrag|bruttobetrag|summe\s+brutto|zu\s+zahlen|endbetrag|total\s+ttc|"
     r"montant\s+ttc|net\s+à\s+payer|totaal(?!\s*(?:excl|btw))(?:\s+incl\.?\s*btw)?|"
     r"te\s+betalen|gutschriftsbetrag|montant\s+de\s+l['’]avoir)\b", 3.0),
)  # fmt: skip


class InvoiceRequest(BaseModel):
    """The run's input: the invoice text (e-mail body or OCR of the PDF), when it was received,
    and what was already paid outside this agent (``history``).

    Extra keys are ignored, so a line of ``agents/invoice/samples.jsonl`` (which also holds the
    expected reading and verdict) is a valid input as it is."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, description="The caller's reference for this invoice.")
    invoice: str = Field(min_length=1, description="The invoice as text.")
    received_on: dt.date
    history: list[PriorInvoice] = Field(default_factory=list)  # type: ignore[valid-type]


class ExtractedLine(BaseModel):
    """One row of the item table, read from the row's own text (its rate, when the row states
    none, from the tax rows)."""

    model_config = ConfigDict(extra="forbid")

    net: Annotated[Money, Span("money", text=_DOC, nth=-1)]  # type: ignore[valid-type]
    unit_price: Annotated[Money, Span("money", text=_DOC, nth=-2)]  # type: ignore[valid-type]
    quantity: Annotated[Quantity, Span("quantity", text=_DOC, nth=-1)]  # type: ignore[valid-type]
    tax_rate: Annotated[
        Percent | None,  # type: ignore[valid-type]
        Span("percent", text=_DOC),
        Default(Decimal("0")),  # no rate on the row and no tax row at all: no tax is charged
    ] = None
    category: Annotated[Category, Keywords(), Default("general")] = "general"  # type: ignore[valid-type]
    description: Annotated[str, Span("phrase", _DESCRIPTION, _DOC)] = Field("", max_length=160)


class ExtractedTax(BaseModel):
    """One tax row: its rate and the tax amount (the row's last amount)."""

    model_config = ConfigDict(extra="forbid")

    rate: Annotated[Percent, Span("percent", text=_DOC, nth=0)]  # type: ignore[valid-type]
    amount: Annotated[Money, Span("money", text=_DOC, nth=-1)]  # type: ignore[valid-type]


class ExtractedInvoice(BaseModel):
    """The invoice the agent writes: the pack's ``Invoice`` field for field (the rules validate
    it as one), each field saying where it is read. Declaration order is reading order (the VAT
    id before the country it tells, the country before the dates whose order it decides)."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[Kind, Keywords(), Default("invoice")] = "invoice"  # type: ignore[valid-type]
    supplier_vat_id: Annotated[str | None, TAX_ID, TAX_RECORD, Span("vat_id", text=_DOC)] = None
    supplier_name: Annotated[
        str, TAX_RECORD, Lookup("suppliers", "alias", "name"), Span("name", text=_DOC)
    ] = Field(min_length=1, max_length=80)
    supplier_country: Annotated[
        Country | None,  # type: ignore[valid-type]
        Derived("supplier_vat_id", "country"),
        Lookup("suppliers", "alias", "country"),
        Lookup("countries", "word", "country"),
    ] = None
    iban: Annotated[str | None, BANK, Span("iban", text=_DOC)] = None
    invoice_number: Annotated[str | None, TAX_RECORD, Span("reference", _INVOICE_NO, _DOC)] = None
    issue_date: Annotated[
        dt.date | None, TAX_RECORD, Span("date", _ISSUED, _DOC, dayfirst_unless=_US)
    ] = None
    due_date: Annotated[
        dt.date | None, TAX_RECORD, Span("date", _DUE, _DOC, dayfirst_unless=_US)
    ] = None
    payment_terms_days: Annotated[int | None, Span("count", _TERMS, _DOC)] = None
    po_number: Annotated[str | None, Span("reference", _PO, _DOC)] = None
    net_total: Annotated[Money, TAX_RECORD, Span("money", _NET, _DOC)]  # type: ignore[valid-type]
    tax_total: Annotated[Money | None, TAX_RECORD, Span("money", _TAX_TOTAL, _DOC)] = None  # type: ignore[valid-type]
    gross_total: Annotated[Money, TAX_RECORD, Span("money", _GROSS, _DOC)]  # type: ignore[valid-type]
    currency: Annotated[
        Currency,  # type: ignore[valid-type]
        Derived("gross_total", "currency"),
        Keywords(),
        Default("EUR"),
    ] = "EUR"
    lines: list[ExtractedLine] = Field(min_length=1, max_length=40)
    taxes: list[ExtractedTax] = Field(default_factory=list, max_length=6)
