"""The JSON-schema → GBNF converter (text checks; the real sampler runs in test_local_model)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from nesyflow.llm import schema_to_grammar


def _rules(grammar: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in grammar.splitlines())


def test_strings_are_bounded_and_have_no_control_chars() -> None:
    class M(BaseModel):
        free: str
        short: str = Field(min_length=2, max_length=10)

    rules = _rules(schema_to_grammar(M.model_json_schema()))
    assert rules["char"] == r'[^"\\\x00-\x1F\x7F] | "\\" ["\\/]'
    assert rules["free"] == r'"\"" char{0,200} "\"" space'
    assert rules["short"] == r'"\"" char{2,10} "\"" space'
    assert "char*" not in schema_to_grammar(M.model_json_schema())


def test_max_string_length_option() -> None:
    class M(BaseModel):
        s: str

    assert "char{0,50}" in schema_to_grammar(M.model_json_schema(), max_string_length=50)


def test_literal_date_and_decimal() -> None:
    class M(BaseModel):
        kind: Literal["a", "b c"]
        day: datetime.date
        amount: Decimal

    grammar = schema_to_grammar(M.model_json_schema())
    rules = _rules(grammar)
    assert rules["kind"] == r'"\"a\"" | "\"b c\""'
    assert rules["day"] == "date-string"
    assert rules["date-string"] == r'"\"" date "\"" space'
    assert rules["amount-kv"].endswith("number")  # Decimal's anyOf[number, string] → number


def test_arrays_are_bounded() -> None:
    class M(BaseModel):
        tags: list[str]
        few: list[int] = Field(max_length=2)

    grammar = schema_to_grammar(M.model_json_schema(), max_items=3)
    rules = _rules(grammar)
    assert rules["tags"].count("tags-item") == 3
    assert rules["few"] == r'"[" space (integer ("," space integer)?)? "]" space'


def test_nested_models_and_any_object() -> None:
    class Inner(BaseModel):
        x: int

    class Outer(BaseModel):
        inner: Inner
        maybe: Inner | None = None

    rules = _rules(schema_to_grammar(Outer.model_json_schema()))
    assert rules["inner"] == "Inner"
    assert rules["maybe"] == "maybe-0 | null"
    assert "Inner-x-kv" in rules


def test_free_json_is_depth_bounded() -> None:
    rules = _rules(schema_to_grammar({}))
    assert rules["root"] == "object"
    assert rules["object"] == "object-3"
    assert rules["value-0"] == "string | number | boolean | null"
    assert "value-2" in rules["object-3"] and "{0,7}" in rules["object-3"]
