from __future__ import annotations

import pytest

from nesyflow.llm import TemplateError, render_messages, render_template


def test_system_and_user(good_expense) -> None:
    messages = render_messages(
        "You extract {{ what }}.", "Text: {{ text }}", {"what": "expenses", "text": "a & <b>"}
    )
    assert messages == [
        {"role": "system", "content": "You extract expenses."},
        {"role": "user", "content": "Text: a & <b>"},  # no HTML escaping in prompts
    ]


def test_no_system() -> None:
    assert render_messages(None, "hi {{ n }}", {"n": 1}) == [{"role": "user", "content": "hi 1"}]


def test_missing_variable_is_named() -> None:
    with pytest.raises(TemplateError) as info:
        render_messages(None, "Text: {{ text }} on {{ day }}", {"text": "x"})
    assert "'day'" in str(info.value)
    assert "variables given: text" in str(info.value)
    assert info.value.details["variable"] == "day"
    assert info.value.code == "template_error"


def test_missing_variable_in_system_says_system() -> None:
    with pytest.raises(TemplateError, match=r"system template: variable 'role'"):
        render_messages("You are {{ role }}", "x", {})


def test_missing_variable_in_condition() -> None:
    with pytest.raises(TemplateError, match="'flag'"):
        render_template("{% if flag %}y{% endif %}", {})


def test_missing_attribute() -> None:
    with pytest.raises(TemplateError, match="has no attribute 'nope'"):
        render_template("{{ d.nope }}", {"d": {}})


def test_syntax_error_gives_line() -> None:
    with pytest.raises(TemplateError, match="line 2"):
        render_template("ok\n{{ broken ", {})


def test_tojson_dumps_models(good_expense) -> None:
    text = render_template("{{ e | tojson }}", {"e": good_expense})
    assert text == (
        '{"merchant": "Luigi\'s", "amount": 42.5, "currency": "EUR", '
        '"category": "meals", "date": "2024-03-14"}'
    )


def test_examples_become_turns(good_expense) -> None:
    messages = render_messages(
        "sys",
        "Text: {{ text }}",
        {"text": "real"},
        examples=[({"text": "example"}, good_expense), ("raw user text", '{"a": 1}')],
    )
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[1]["content"] == "Text: example"
    assert '"merchant": "Luigi\'s"' in messages[2]["content"]
    assert messages[3]["content"] == "raw user text"
    assert messages[-1]["content"] == "Text: real"


def test_sandboxed() -> None:
    with pytest.raises(TemplateError):
        render_template("{{ x.__class__.__mro__ }}", {"x": 1})
