"""Tools of the invoice agent: ``supplier_file`` gives the rules what accounts payable knows
(the supplier's master data, the purchase order, what was already paid); ``pay_invoice`` pays.

The ledger lives in the run's store (SQLite or PostgreSQL): each payment is a tool record of kind
``invoice.payment`` written with :func:`nesyflow.engine.record_once` under the engine's
idempotency key, so a resumed run never pays twice; ``supplier_file`` reads every earlier payment
back as a prior invoice, so the gate stops a number already paid (``duplicate_invoice``); and the
payment holds the supplier's number with :func:`nesyflow.engine.claim_once`, so two runs that both
passed their gate before either paid still pay it once.

What is paid is what the rules allow: the pack's derived ``amount_payable`` (the gross of an
invoice whose arithmetic the rules computed), into the account **on file** for the supplier — an
account the invoice asks for that differs from the file is the payment-fraud pattern the rules
send to a person (``iban_changed``), and even then the payment goes to the file's account. Only a
supplier with no account on file, approved by a person, is paid to the invoice's account.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module

__all__ = [
    "LEDGER_KIND",
    "NUMBER_KIND",
    "FileArgs",
    "Payment",
    "number_key",
    "orders_on_file",
    "pay_invoice",
    "read_ledger",
    "supplier_file",
    "suppliers_on_file",
]

_HERE = Path(__file__).resolve().parent
_PACK_DIR = _HERE.parents[1] / "rules" / "invoice"
_pack = load_module(_PACK_DIR / "schema.py")
Invoice = _pack.Invoice
InvoiceContext = _pack.InvoiceContext
SupplierRecord = _pack.SupplierRecord
PurchaseOrder = _pack.PurchaseOrder
PriorInvoice = _pack.PriorInvoice
Ambiguity = _pack.Ambiguity

LEDGER_KIND = "invoice.payment"
NUMBER_KIND = "invoice.number"  # a supplier's invoice number, held by the payment that paid it


def number_key(supplier: str, number: str) -> str:
    """An invoice as ``duplicate_invoice`` compares it: the supplier and its invoice number."""
    return f"{supplier}|{number}"


class Payment(BaseModel):
    """One payment as kept in the store."""

    model_config = ConfigDict(frozen=True)

    key: str
    supplier: str
    invoice_number: str
    amount: Decimal = Field(description="What was paid: the rules' amount_payable.")
    currency: str
    iban: Annotated[str | None, _pack.BANK] = Field(None, description="Account paid into.")
    account_from: Literal["file", "invoice", "none"] = Field(
        description="'file'; 'invoice' (no account on file, a person approved the invoice's); "
        "'none' (no IBAN anywhere: a US supplier paid by ACH from its remittance details)."
    )
    recorded_at: dt.datetime


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "yes", "1")


@cache
def suppliers_on_file() -> dict[str, Any]:
    """The supplier master data (``data/suppliers.csv``) by canonical name."""
    with (_HERE / "data" / "suppliers.csv").open(encoding="utf-8", newline="") as fh:
        return {
            row["name"]: SupplierRecord(
                name=row["name"],
                country=row["country"],
                vat_id=row["vat_id"] or None,
                iban=row["iban"] or None,
                requires_po=_bool(row["requires_po"]),
            )
            for row in csv.DictReader(fh)
        }


@cache
def orders_on_file() -> dict[str, Any]:
    """The open purchase orders (``data/orders.csv``) by number."""
    with (_HERE / "data" / "orders.csv").open(encoding="utf-8", newline="") as fh:
        return {row["number"]: PurchaseOrder.model_validate(row) for row in csv.DictReader(fh)}


def read_ledger(store: Any) -> list[Payment]:
    """Every payment kept in ``store``, oldest first."""
    from nesyflow.engine import tool_records

    return [Payment.model_validate(r.data) for r in tool_records(LEDGER_KIND, store=store)]


class FileArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: Invoice  # type: ignore[valid-type]
    received_on: dt.date
    history: list[PriorInvoice] = Field(default_factory=list)  # type: ignore[valid-type]
    ambiguities: list[dict[str, Any]] = Field(default_factory=list)


def supplier_file(args: FileArgs) -> InvoiceContext:  # type: ignore[valid-type]
    """What the rules check the invoice against: the supplier on file (by the name read), the
    purchase order it names, every invoice already paid (the run's ``history`` and this agent's
    ledger in the store), the day it was received, and the reader's ambiguities."""
    from nesyflow.engine import current_store

    store = current_store()
    if store is None:
        raise RuntimeError("supplier_file reads the ledger of the run's store: call it in a run")
    invoice = args.invoice
    prior = list(args.history)
    seen = {(p.supplier, p.number) for p in prior}
    for paid in read_ledger(store):
        if (paid.supplier, paid.invoice_number) not in seen:
            seen.add((paid.supplier, paid.invoice_number))
            prior.append(PriorInvoice(supplier=paid.supplier, number=paid.invoice_number))
    order = orders_on_file().get(invoice.po_number or "")
    return InvoiceContext(
        received_on=args.received_on,
        supplier=suppliers_on_file().get(invoice.supplier_name),
        orders=[order] if order is not None else [],
        prior_invoices=prior,
        ambiguities=[
            Ambiguity(field=a["field"], values=" | ".join(a["values"])) for a in args.ambiguities
        ],
    )


def _payable(invoice: BaseModel, context: Any) -> tuple[Decimal | None, str]:
    from nesyflow.engine import check_subject
    from nesyflow.graph.model import PackRef

    summary = check_subject((PackRef(path=_PACK_DIR, text="rules/invoice"),), invoice, context)
    amount = summary.derived.get("amount_payable")
    why = "; ".join(r.text for r in summary.reasons) or summary.verdict
    return (None if amount is None else Decimal(str(amount)).quantize(Decimal("0.01"))), why


def pay_invoice(invoice: Invoice) -> Payment:  # type: ignore[valid-type]
    """Pay ``invoice`` its rules-computed gross into the account on file, once per idempotency
    key; return the payment kept."""
    from nesyflow.engine import claim_once, current_run, idempotency_key, record_once

    view, key = current_run(), idempotency_key()
    if view is None or key is None:
        raise RuntimeError("pay_invoice pays inside a run only (nesyflow run)")
    context = InvoiceContext.model_validate(view.outputs.get("file") or {})
    amount, why = _payable(invoice, context)
    if amount is None:
        raise ValueError(f"the invoice rules compute no amount to pay ({why}); nothing was paid")
    if invoice.invoice_number is None:
        raise ValueError("an invoice without a number is never paid (it could not be matched)")
    # The gate saw the ledger as it was when it ran; two runs of one invoice can both pass it
    # before either pays. Holding the number in the store closes that gap across runs and hosts:
    # the second payment is refused (AlreadyClaimed, so a person sees it). Only a person who
    # decided over duplicate_invoice in this run pays the number again: they were shown it.
    if not any("|duplicate_invoice|" in accepted for accepted in view.accepted):
        claim_once(NUMBER_KIND, number_key(invoice.supplier_name, invoice.invoice_number))
    on_file = context.supplier.iban if context.supplier is not None else None
    payment = Payment(
        key=key,
        supplier=invoice.supplier_name,
        invoice_number=invoice.invoice_number,
        amount=amount,
        currency=invoice.currency,
        iban=on_file or invoice.iban,
        account_from="file" if on_file else ("invoice" if invoice.iban else "none"),
        recorded_at=dt.datetime.now(dt.UTC),
    )
    return Payment.model_validate(record_once(LEDGER_KIND, payment).data)
