"""Tools of the expense agent: ``paid_before`` tells the payment gate what the agent already paid;
``record_reimbursement`` pays a claim into the ledger.

The ledger lives in the run's store (SQLite or PostgreSQL), not in a file: each payment is a tool
record of kind ``expense.payment`` written with :func:`nesyflow.engine.record_once` under the
engine's idempotency key (``run:node:visit``). A call made again with that key — a run resumed
after a crash between the payment and the checkpoint, on any host — returns the payment already
kept instead of paying twice (the tool contract in docs/CONTRACTS.md).

The amount paid is what the rules allow: the expense pack's derived ``total_reimbursable`` for this
claim in this context (blocked items pay nothing, capped categories pay up to their cap, meals up
to the day's per diem), never the sum the claim asks for. If the rules cannot compute it (a fact
they need is missing), nothing is paid: the call fails and a person sees why.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module

__all__ = [
    "LEDGER_KIND",
    "LedgerEntry",
    "PaidBeforeArgs",
    "PaidItem",
    "paid_before",
    "read_ledger",
    "record_reimbursement",
]

_PACK_DIR = Path(__file__).resolve().parents[2] / "rules" / "expense"
_pack_schema = load_module(_PACK_DIR / "schema.py")
ExpenseClaim = _pack_schema.ExpenseClaim
ClaimContext = _pack_schema.ClaimContext
PriorItem = _pack_schema.PriorItem

LEDGER_KIND = "expense.payment"
ITEM_KIND = "expense.item"  # an item held by the payment that paid it (claim_once)


class PaidItem(BaseModel):
    """One item of a payment, as the duplicate rule compares items."""

    model_config = ConfigDict(frozen=True)

    merchant: str
    date: dt.date | None = None
    amount: Decimal
    currency: str = "USD"


class LedgerEntry(BaseModel):
    """One payment as kept in the store: who, what, and the amount the rules allowed."""

    model_config = ConfigDict(frozen=True)

    key: str
    employee_name: str
    employee_level: str
    submitted_on: dt.date
    items: list[PaidItem]
    amount_usd: Decimal = Field(description="What was paid: the rules' total_reimbursable.")
    claimed_usd: Decimal | None = Field(None, description="What the claim asked for (converted).")
    amount_set_by: str = Field(
        "rules", description="'rules', or 'approver' when a person set the amount at a review."
    )
    recorded_at: dt.datetime


def read_ledger(store: Any) -> list[LedgerEntry]:
    """Every payment kept in ``store``, oldest first."""
    from nesyflow.engine import tool_records

    return [LedgerEntry.model_validate(r.data) for r in tool_records(LEDGER_KIND, store=store)]


class PaidBeforeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: ClaimContext  # type: ignore[valid-type]


def paid_before(args: PaidBeforeArgs) -> ClaimContext:  # type: ignore[valid-type]
    """The claim's context plus every item this agent has already paid (from the ledger in the
    store), so the payment gate's ``duplicate_of_prior`` sees the agent's own payments, not only
    the ``history`` the submitter sent."""
    from nesyflow.engine import current_store

    store = current_store()
    if store is None:
        raise RuntimeError("paid_before reads the ledger of the run's store: call it in a run")
    prior = list(args.context.prior_items)
    seen = {(p.merchant, p.date, p.amount, p.currency) for p in prior}
    for entry in read_ledger(store):
        for item in entry.items:
            if item.date is None:
                continue
            key = (item.merchant, item.date, item.amount, item.currency)
            if key not in seen:
                seen.add(key)
                prior.append(
                    PriorItem(
                        merchant=item.merchant,
                        date=item.date,
                        amount=item.amount,
                        currency=item.currency,
                    )
                )
    return args.context.model_copy(update={"prior_items": prior})


def _allowed(claim: BaseModel, context: Any) -> tuple[Decimal | None, Decimal | None, str]:
    """(total_reimbursable, total_claimed, why there is no total) by the expense rules."""
    from nesyflow.engine import check_subject
    from nesyflow.graph.model import PackRef

    summary = check_subject((PackRef(path=_PACK_DIR, text="rules/expense"),), claim, context)
    allowed = summary.derived.get("total_reimbursable")
    claimed = summary.derived.get("total_claimed")
    why = "; ".join(r.text for r in summary.reasons) or summary.verdict
    return (
        None if allowed is None else _cents(allowed),
        None if claimed is None else _cents(claimed),
        why,
    )


def _cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def item_key(item: Any) -> str:
    """An item as ``duplicate_of_prior`` compares it: merchant, date, amount (cents), currency."""
    return f"{item.merchant}|{item.date}|{_cents(item.amount)}|{item.currency}"


def _claim_items(claim: Any, accepted: tuple[str, ...]) -> None:
    """Hold every item of ``claim`` for this payment, atomically across runs and hosts.

    ``paid_before`` shows the gate what the ledger held when it ran; two requests for the same
    item can both pass their gate before either pays. The claim closes that gap: the second payment
    is refused (:class:`~nesyflow.engine.AlreadyClaimed`, so a person sees it), however the two
    interleave. Only a person who decided over ``duplicate_of_prior`` in this run pays an item
    again: they were shown the earlier payment.
    """
    from nesyflow.engine import claim_once

    if any("|duplicate_of_prior|" in key for key in accepted):
        return
    for item in claim.items:
        claim_once(ITEM_KIND, item_key(item))


def record_reimbursement(claim: ExpenseClaim) -> LedgerEntry:  # type: ignore[valid-type]
    """Pay ``claim`` what the rules allow, once per idempotency key; return the payment kept."""
    from nesyflow.engine import current_run, idempotency_key, record_once

    view, key = current_run(), idempotency_key()
    if view is None or key is None:
        raise RuntimeError("record_reimbursement pays inside a run only (nesyflow run)")
    context = view.outputs.get("paid_before") or view.outputs.get("evidence")
    amount, claimed, why = _allowed(claim, context)
    # A person who approved the claim may have set the amount instead (recorded with the decision).
    chosen = [v["total_reimbursable"] for v in view.overrides.values() if "total_reimbursable" in v]
    set_by = "rules"
    if chosen:
        amount, set_by = _cents(chosen[-1]), "approver"
    if amount is None:
        raise ValueError(
            "the expense rules cannot compute what to pay for this claim "
            f"(no total_reimbursable: {why}); nothing was paid"
        )
    _claim_items(claim, view.accepted)
    entry = LedgerEntry(
        key=key,
        employee_name=claim.employee_name,
        employee_level=claim.employee_level,
        submitted_on=claim.submitted_on,
        items=[
            PaidItem(
                merchant=i.merchant, date=i.date, amount=Decimal(i.amount), currency=i.currency
            )
            for i in claim.items
        ],
        amount_usd=amount,
        claimed_usd=claimed,
        amount_set_by=set_by,
        recorded_at=dt.datetime.now(dt.UTC),
    )
    return LedgerEntry.model_validate(record_once(LEDGER_KIND, entry).data)
