"""Tools of the expense agent: ``record_reimbursement`` pays a claim into the ledger.

The ledger is an append-only JSON-lines file (one payment a line). Every payment carries the
engine's idempotency key (``run:node:visit``, :func:`nesyflow.engine.idempotency_key`): a call made
again with a key already in the ledger — a run resumed after a crash between the payment and the
checkpoint — returns the payment already written instead of paying twice. Writers hold an exclusive
lock on the file while they look for the key and append.

Where the ledger is: ``$NESYFLOW_LEDGER``; else ``ledger.jsonl`` next to the SQLite store named by
``$NESYFLOW_DB``; else ``./.nesyflow/ledger.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from nesyflow._imports import load_module

__all__ = ["LedgerEntry", "ledger_path", "read_ledger", "record_reimbursement"]

_PACK_SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "expense" / "schema.py"


ExpenseClaim = load_module(_PACK_SCHEMA).ExpenseClaim


class LedgerEntry(BaseModel):
    """One payment as written to the ledger."""

    model_config = ConfigDict(frozen=True)

    key: str
    employee_name: str
    employee_level: str
    submitted_on: dt.date
    items: int
    amount_usd: Decimal
    recorded_at: dt.datetime


def ledger_path() -> Path:
    """The ledger file (see the module's docstring)."""
    explicit = os.environ.get("NESYFLOW_LEDGER", "").strip()
    if explicit:
        return Path(explicit)
    db = os.environ.get("NESYFLOW_DB", "").strip()
    prefix = "sqlite:///"
    if db.startswith(prefix) and db[len(prefix) :] not in ("", ":memory:"):
        return Path(db[len(prefix) :]).parent / "ledger.jsonl"
    return Path(".nesyflow") / "ledger.jsonl"


def read_ledger(path: Path | None = None) -> list[LedgerEntry]:
    """Every payment in the ledger, oldest first (``[]`` if there is no ledger yet)."""
    file = path or ledger_path()
    if not file.is_file():
        return []
    lines = file.read_text(encoding="utf-8").splitlines()
    return [LedgerEntry.model_validate_json(line) for line in lines if line.strip()]


def _usd(claim: BaseModel) -> Decimal:
    """The claim in US dollars: each item at its rate, rounded half up to the cent (as the rules)."""
    total = Decimal("0")
    for number, item in enumerate(claim.items):  # type: ignore[attr-defined]
        if item.currency == "USD":
            rate = Decimal("1")
        elif item.fx_rate is None:
            raise ValueError(f"item {number} is in {item.currency} and has no exchange rate")
        else:
            rate = Decimal(item.fx_rate)
        total += (Decimal(item.amount) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return total


def record_reimbursement(claim: ExpenseClaim) -> LedgerEntry:  # type: ignore[valid-type]
    """Pay ``claim`` into the ledger once per idempotency key; return the payment."""
    from nesyflow.engine import idempotency_key

    key = idempotency_key()
    if key is None:  # called outside a run: the claim itself names the payment
        key = "direct:" + hashlib.sha256(claim.model_dump_json().encode()).hexdigest()[:16]
    file = ledger_path()
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            for line in fh:
                if line.strip() and json.loads(line).get("key") == key:
                    return LedgerEntry.model_validate_json(line)  # paid before: not again
            entry = LedgerEntry(
                key=key,
                employee_name=claim.employee_name,
                employee_level=claim.employee_level,
                submitted_on=claim.submitted_on,
                items=len(claim.items),
                amount_usd=_usd(claim),
                recorded_at=dt.datetime.now(dt.UTC),
            )
            fh.seek(0, os.SEEK_END)
            fh.write(entry.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            return entry
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
