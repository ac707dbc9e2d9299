"""A payout: who is paid, to which account, and the invoice it pays (kept ten years)."""

import datetime as dt
from typing import Annotated

from pydantic import BaseModel

from nesyflow.schema.governance import Retain, Sensitive


class Payout(BaseModel):
    payee: Annotated[str, Sensitive("personal")]
    iban: Annotated[str, Sensitive("bank")]
    invoice_number: Annotated[str, Retain(years=10)] = ""
    issued: Annotated[dt.date | None, Retain(years=10)] = None
    amount: int
    note: str = ""
