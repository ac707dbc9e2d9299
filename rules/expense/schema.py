"""Expense reimbursement claim: what an employee asks to be paid back for.

Kept shallow on purpose: a small local model fills these models from free text and a receipt, so
every field is a plain value, a date or a closed list of words, and anything a text may not say is
Optional (the rules then report ``missing(...)`` instead of guessing).

Home currency: USD. Money is in the item's own currency; ``fx_rate`` converts it to USD.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow.schema import Fixed, OmitOutOfRange

Money = Annotated[Decimal, Fixed(100, "cents")]
Rate = Annotated[Decimal, Fixed(10000, "1/10000")]

Level = Literal["staff", "manager", "director", "executive"]
Category = Literal[
    "meals",
    "lodging",
    "airfare",
    "rail",
    "ground_transport",
    "mileage",
    "office_supplies",
    "client_entertainment",
    "training",
    "telecom",
    "gifts",
    "other",
]
Currency = Literal["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "MXN", "INR", "SGD"]
FareClass = Literal["economy", "premium_economy", "business", "first"]


class ExpenseItem(BaseModel):
    """One receipt line an employee wants reimbursed."""

    __asp_name__ = "item"
    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(None, description="Date the expense was incurred (YYYY-MM-DD).")
    category: Category = Field(description="Expense category.")
    merchant: str = Field(
        description="Merchant, hotel, airline or vendor name as on the receipt "
        "('personal car' for mileage)."
    )
    description: str = Field("", description="What was bought, in a few words.")
    amount: Money = Field(description="Amount paid, in the item's currency (e.g. 42.50).")
    currency: Currency = Field("USD", description="ISO currency code of the amount.")
    fx_rate: Rate | None = Field(
        None,
        description="US dollars per one unit of the item's currency (e.g. EUR 1.0850); "
        "needed when the currency is not USD.",
    )
    receipt_attached: bool | None = Field(None, description="Is an itemised receipt attached?")
    city_tier: Literal[1, 2, 3] | None = Field(
        None,
        description="Meals/lodging city cost tier. 1 = high-cost: New York, San Francisco, "
        "Boston, Washington DC, Seattle, Los Angeles, Chicago, London, Paris, Zurich, Tokyo, "
        "Singapore. 3 = low-cost: small towns and rural areas. 2 = every other city.",
    )
    nights: int | None = Field(None, description="Lodging: number of nights the amount covers.")
    attendees: int | None = Field(
        None,
        description="Meals/entertainment: number of people including the employee; "
        "gifts: number of recipients.",
    )
    alcohol: bool | None = Field(None, description="Meals/entertainment: includes alcohol?")
    fare_class: FareClass | None = Field(None, description="Airfare: cabin class flown.")
    miles: int | None = Field(None, description="Mileage: miles driven in a personal car.")
    justification: str | None = Field(None, description="Business reason given for this item.")


class ExpenseClaim(BaseModel):
    """An expense reimbursement claim: who submits it, when, and the items."""

    __asp_name__ = "claim"
    model_config = ConfigDict(extra="forbid")

    employee_name: str = Field(description="Name of the employee asking for reimbursement.")
    employee_level: Level = Field(
        description="Employee level: staff, manager, director, executive."
    )
    submitted_on: dt.date = Field(description="Date the claim is submitted (YYYY-MM-DD).")
    justification: str | None = Field(
        None, description="Business purpose of the whole claim (trip, event, project)."
    )
    items: list[ExpenseItem] = Field(default_factory=list, description="The expenses claimed.")


class PriorItem(BaseModel):
    """An item already reimbursed on an earlier claim (for duplicate detection)."""

    __asp_name__ = "prior"
    model_config = ConfigDict(extra="forbid")

    merchant: str
    date: dt.date
    amount: Money
    currency: Currency = "USD"


class Ambiguity(BaseModel):
    """A field of the claim whose sources disagree (the finders' top candidate, the model,
    neighbours): a person picks the value, even when every other rule passes."""

    __asp_name__ = "ambiguity"
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The claim's field, e.g. items.0.amount.")
    values: str = Field(description="The competing values, best-ranked first, as one text.")


class ClaimContext(BaseModel):
    """What finance knows besides the claim: earlier reimbursed items and this year's training spend."""

    __asp_name__ = "ctx"
    model_config = ConfigDict(extra="forbid")

    prior_items: list[PriorItem] = Field(default_factory=list)
    training_spent_ytd: Money = Field(
        Decimal("0"), description="Training already reimbursed this calendar year, in USD."
    )
    source_checked: bool = Field(
        False,
        description="The amounts written in the request and receipt were read (source_amounts): "
        "every item amount must then be one of them.",
    )
    # Only ever matched against item amounts (amount_not_in_source): one too large for the rule
    # engine could equal no item amount, so it gives no fact instead of making the check unknown.
    source_amounts: list[Annotated[Money, OmitOutOfRange()]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Every amount written in the employee's request and receipt.",
    )
    ambiguities: list[Ambiguity] = Field(
        default_factory=list,
        description="Fields whose sources disagree when the claim was read from the text.",
    )
