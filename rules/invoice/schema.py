"""Supplier invoice: what accounts payable is asked to pay, and what it must keep for the tax office.

The classification of each field is declared here, once (issue 13): an IBAN is sensitive bank data,
VAT and tax ids are sensitive tax ids, and what tax law requires an invoice to state — the number,
its dates, the supplier, net, tax and gross, the tax ids — is kept for ten years (``Retain``). The
agent's schema (``agents/invoice/schema.py``) builds on these aliases, so its fields carry the same
markers.

Money is in cents, quantities in thousandths (``2.5`` hours), tax rates in hundredths of a percent
(``19%`` → 1900; a rate with three decimals such as 8.875% does not fit and is rounded, so the
tax check then fails rather than passes). Amounts are written positive, also on a credit note.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow.schema import Fixed
from nesyflow.schema.governance import Retain, Sensitive

Money = Annotated[Decimal, Fixed(100, "cents")]
Quantity = Annotated[Decimal, Fixed(1000, "1/1000")]
Percent = Annotated[Decimal, Fixed(100, "1/100 %")]

TAX_RECORD = Retain(years=10)
"""Kept ten years: what a tax audit asks for (number, dates, supplier, amounts, tax ids)."""

BANK = Sensitive("bank")
TAX_ID = Sensitive("tax_id")
# Markers go on the field (``Annotated[str | None, BANK]``): inside ``X | None`` pydantic keeps
# no metadata, so an alias ``Annotated[str, BANK] | None`` would lose the classification.

Country = Literal["DE", "FR", "NL", "UK", "US"]
Currency = Literal["EUR", "GBP", "USD"]
Category = Literal["general", "food", "books", "transport", "accommodation", "energy"]
Kind = Literal["invoice", "credit_note"]


class InvoiceLine(BaseModel):
    """One billed line: quantity × unit price = the line's net amount."""

    __asp_name__ = "line"
    model_config = ConfigDict(extra="forbid")

    description: str = Field("", description="What was supplied, as written.")
    quantity: Quantity = Field(description="Units, hours or days billed (e.g. 2.5).")
    unit_price: Money = Field(description="Net price of one unit, in the invoice's currency.")
    net: Money = Field(description="The line's net amount as written.")
    tax_rate: Percent | None = Field(None, description="VAT / sales tax rate in percent (19.00).")
    category: Category = Field(
        "general", description="Tax category of what was supplied (reduced rates: food, books...)."
    )


class TaxAmount(BaseModel):
    """One tax line of the invoice: the tax charged at one rate."""

    __asp_name__ = "tax"
    model_config = ConfigDict(extra="forbid")

    rate: Percent
    amount: Money


class Invoice(BaseModel):
    """A supplier invoice (or credit note) as read from its text."""

    __asp_name__ = "invoice"
    model_config = ConfigDict(extra="forbid")

    kind: Kind = "invoice"
    supplier_name: Annotated[str, TAX_RECORD] = Field(description="Supplier as on the invoice.")
    supplier_country: Country | None = Field(None, description="Country the supplier taxes in.")
    supplier_vat_id: Annotated[str | None, TAX_ID, TAX_RECORD] = Field(
        None, description="Supplier's VAT number or US EIN."
    )
    iban: Annotated[str | None, BANK] = Field(
        None, description="Account the invoice asks to be paid to."
    )
    invoice_number: Annotated[str | None, TAX_RECORD] = None
    issue_date: Annotated[dt.date | None, TAX_RECORD] = None
    due_date: Annotated[dt.date | None, TAX_RECORD] = None
    payment_terms_days: int | None = Field(None, description="'payable within N days'.")
    currency: Currency = "EUR"
    po_number: str | None = Field(None, description="The buyer's purchase order it bills.")
    lines: list[InvoiceLine] = Field(default_factory=list)
    taxes: list[TaxAmount] = Field(default_factory=list, description="Tax per rate.")
    net_total: Annotated[Money, TAX_RECORD]
    tax_total: Annotated[Money | None, TAX_RECORD] = None
    gross_total: Annotated[Money, TAX_RECORD]


class SupplierRecord(BaseModel):
    """The supplier as accounts payable has it on file (master data)."""

    __asp_name__ = "supplier"
    model_config = ConfigDict(extra="forbid")

    name: str
    country: Country
    vat_id: Annotated[str | None, TAX_ID] = None
    iban: Annotated[str | None, BANK] = None
    requires_po: bool = True


class PurchaseOrder(BaseModel):
    """An open purchase order: what was ordered from whom, and how much of it is invoiced."""

    __asp_name__ = "po"
    model_config = ConfigDict(extra="forbid")

    number: str
    supplier: str
    net: Money
    currency: Currency = "EUR"
    invoiced: Money = Field(Decimal("0"), description="Net already invoiced against it.")


class PriorInvoice(BaseModel):
    """An invoice already paid (for the duplicate rule)."""

    __asp_name__ = "prior"
    model_config = ConfigDict(extra="forbid")

    supplier: str
    number: str


class Ambiguity(BaseModel):
    """A field whose sources disagree when the invoice was read: a person picks the value."""

    __asp_name__ = "ambiguity"
    model_config = ConfigDict(extra="forbid")

    field: str
    values: str


class InvoiceContext(BaseModel):
    """What accounts payable knows besides the invoice."""

    __asp_name__ = "ctx"
    model_config = ConfigDict(extra="forbid")

    received_on: dt.date | None = Field(None, description="Day the invoice was received.")
    supplier: SupplierRecord | None = Field(None, description="The supplier on file, if any.")
    orders: list[PurchaseOrder] = Field(default_factory=list)
    prior_invoices: list[PriorInvoice] = Field(default_factory=list)
    ambiguities: list[Ambiguity] = Field(default_factory=list)
