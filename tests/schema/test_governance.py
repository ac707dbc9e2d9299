"""The classification markers are read from the schema, nested models and lists included."""

import datetime as dt
from typing import Annotated

import pytest
from pydantic import BaseModel

from nesyflow.schema.governance import Retain, Sensitive, classification


class Line(BaseModel):
    amount: Annotated[int, Retain(years=10)]
    note: str = ""


class Invoice(BaseModel):
    iban: Annotated[str, Sensitive("bank")]
    issued: Annotated[dt.date, Retain(years=10)]
    lines: list[Line]
    supplier: Line | None = None
    free: str = ""


def test_classified_fields_by_dotted_path():
    found = classification(Invoice)
    assert set(found) == {"iban", "issued", "lines[].amount", "supplier.amount"}
    assert found["iban"].sensitive == Sensitive("bank") and found["iban"].retain is None
    assert found["lines[].amount"].retain == Retain(10)


def test_retain_years_must_be_whole_and_not_negative():
    with pytest.raises(ValueError, match="whole number"):
        Retain(years=-1)
    with pytest.raises(ValueError, match="whole number"):
        Retain(years=2.5)  # type: ignore[arg-type]
