"""The payout tool: records the payment in the store once (its argument is the pack's Payout)."""

from pathlib import Path

from pydantic import BaseModel

from nesyflow._imports import load_module
from nesyflow.engine import record_once

Payout = load_module(Path(__file__).parent / "rules" / "payout" / "schema.py").Payout


class Paid(BaseModel):
    reference: str


def pay(args: Payout) -> Paid:  # type: ignore[valid-type]
    if args.amount == 999:  # a bank that refuses, quoting the account (as real ones do)
        raise RuntimeError(f"the bank refused the transfer to {args.iban} for {args.payee}")
    record_once("payout", args.model_dump(mode="json"))
    return Paid(reference=f"paid {args.amount}")
