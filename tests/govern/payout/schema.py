"""The payout workflow's schemas: the request (who, which account) and the remote model's note."""

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel

from nesyflow._imports import load_module
from nesyflow.schema.governance import Sensitive

Payout = load_module(Path(__file__).parent / "rules" / "payout" / "schema.py").Payout


class PayoutRequest(BaseModel):
    id: str | None = None
    text: str
    payee: Annotated[str, Sensitive("personal")]
    iban: Annotated[str, Sensitive("bank")]
    invoice_number: str = ""
    amount: int


class Summary(BaseModel):
    """What the remote model writes: a note for the payment, and the account it pays."""

    note: str
    iban: Annotated[str, Sensitive("bank")]
