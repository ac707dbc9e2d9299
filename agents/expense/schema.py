"""Schemas of the expense agent: the run's input and what the model is asked to write.

The claim the rules check is the pack's own ``ExpenseClaim`` (``rules/expense/schema.py``); this
file imports that file by path and narrows it for the model: one or two items, and short free-text fields. The
llama.cpp grammar is built from this schema, so a small model cannot write an empty claim or a
sentence that runs until ``max_tokens``. It has exactly the pack's fields, so the pack checks it as
it is.

``employee_name``, ``employee_level`` and ``submitted_on`` are not the model's to know: they come
with the run's input (HR and the submission system know them). The prompt hands them to the model
to copy, and the reimbursement tool takes them from the input, not from the model, so the payment is
always checked against the true level and date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module

_PACK_SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "expense" / "schema.py"

_pack = load_module(_PACK_SCHEMA)  # the very module (and classes) the pack loads

ExpenseClaim = _pack.ExpenseClaim
ExpenseItem = _pack.ExpenseItem
ClaimContext = _pack.ClaimContext
Level = _pack.Level
Money = _pack.Money
Rate = _pack.Rate
Category = _pack.Category
Currency = _pack.Currency
FareClass = _pack.FareClass

__all__ = ["ClaimContext", "Employee", "ExpenseRequest", "ExtractedClaim", "ExtractedItem"]


class Employee(BaseModel):
    """Who submits the claim (from HR, not from the text)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    level: Level  # type: ignore[valid-type]


class ExpenseRequest(BaseModel):
    """The run's input: the employee's message, the receipt text, who and when.

    Extra keys are ignored, so a line of ``agents/expense/samples.jsonl`` (which also holds the
    expected claim) is a valid input as it is. ``history`` is what finance already knows (items paid
    on earlier claims, training reimbursed this year); the rules read it as their context.
    """

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, description="The caller's reference for this request.")
    request: str = Field(min_length=1, description="The employee's message.")
    receipt: str = Field("", description="The receipt as text (OCR); empty if none.")
    submitted_on: dt.date
    employee: Employee
    history: ClaimContext = Field(default_factory=ClaimContext)  # type: ignore[valid-type]


class ExtractedItem(BaseModel):
    """An ``ExpenseItem`` as the model writes it: the same fields, short free text, and the order
    a reader takes them from a receipt (the grammar writes required fields first: merchant, amount,
    category; then the optional ones in this order, each only if the model chooses to)."""

    model_config = ConfigDict(extra="forbid")

    merchant: str = Field(min_length=1, max_length=60)
    amount: Money  # type: ignore[valid-type]
    date: dt.date | None = None
    category: Category  # type: ignore[valid-type]
    currency: Currency = "USD"  # type: ignore[valid-type]
    receipt_attached: bool | None = None
    description: str = Field("", max_length=80)
    fx_rate: Rate | None = None  # type: ignore[valid-type]
    city_tier: Literal[1, 2, 3] | None = None
    nights: int | None = None
    attendees: int | None = None
    alcohol: bool | None = None
    fare_class: FareClass | None = None  # type: ignore[valid-type]
    miles: int | None = None
    justification: str | None = Field(None, max_length=120)


class ExtractedClaim(ExpenseClaim):  # type: ignore[misc, valid-type]
    """What the model writes: an ``ExpenseClaim`` with one or two items."""

    justification: str | None = Field(
        None,
        max_length=120,
        description="Business purpose of the whole claim (trip, event, project).",
    )
    items: list[ExtractedItem] = Field(
        min_length=1, max_length=2, description="The expenses claimed."
    )
