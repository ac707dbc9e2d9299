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


# -- the classes as facts: policy over them is a plain rule ---------------------------------------
from nesyflow.schema import to_facts, vocabulary  # noqa: E402


class Payment(BaseModel):
    iban: Annotated[str, Sensitive("bank")]
    number: Annotated[str, Retain(years=10)] = ""
    lines: list[Line] = []


def _atoms(instance: BaseModel, read=None) -> set[str]:
    return {str(s) for s in to_facts(instance, read=read)}


def test_classified_fields_become_sensitive_retained_and_has_value_facts():
    atoms = _atoms(Payment(iban="DE89", number="", lines=[Line(amount=3), Line(amount=4)]))
    assert {'sensitive("iban",bank)', 'retained("number",10)'} <= atoms
    assert 'retained("lines[].amount",10)' in atoms
    assert 'has_value("iban")' in atoms and 'has_value("lines[].amount")' in atoms
    assert 'has_value("number")' not in atoms  # empty: a must-keep rule can see it is missing
    assert 'has_value("lines[].amount")' not in _atoms(Payment(iban="x"))  # no line at all


def test_class_facts_are_only_made_when_a_rule_reads_them():
    read = frozenset({("payment_iban", 2), ("retained", 2)})
    atoms = _atoms(Payment(iban="DE89", number="7"), read=read)
    assert 'retained("number",10)' in atoms
    assert not any(a.startswith(("sensitive(", "has_value(")) for a in atoms)


def test_the_vocabulary_lists_the_class_predicates_only_for_classified_schemas():
    names = {p.name for p in vocabulary(Payment)}
    assert {"sensitive", "retained", "has_value"} <= names

    class Plain(BaseModel):
        text: str

    assert not {"sensitive", "retained", "has_value"} & {p.name for p in vocabulary(Plain)}
