"""generate() through the scripted model and litellm's mock_response: no model, no network."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, field_validator

from nesyflow.llm import (
    LLMCall,
    LLMCallError,
    ScriptExhausted,
    generate,
    render_messages,
    scripted_responses,
)

MESSAGES = [
    {"role": "system", "content": "Extract the expense."},
    {"role": "user", "content": "Dinner at Luigi's, 42.50 EUR, 14 March 2024."},
]


def test_output_parsed(expense_type, good_expense) -> None:
    with scripted_responses([good_expense]) as script:
        call = generate("local/smollm2", MESSAGES, expense_type)
    assert isinstance(call, LLMCall)
    assert call.ok and call.error is None
    assert call.output == good_expense
    assert call.attempts == 1
    assert call.raw == good_expense.model_dump_json()
    assert call.messages == MESSAGES
    assert call.model == "local/smollm2"
    assert (call.tokens_in, call.tokens_out) == (10, 20)  # litellm's mock usage
    assert call.cost == 0.0
    assert call.latency_s >= 0
    # the provider was asked for the output schema (instructor JSON_SCHEMA mode)
    sent = script.calls[0]
    assert sent.messages == MESSAGES
    assert sent.response_format["type"] == "json_schema"
    assert sent.response_format["json_schema"]["schema"] == expense_type.model_json_schema()


def test_bad_json_retried_then_reported(expense_type) -> None:
    with scripted_responses(["not json", "{", '{"merchant": "x"']) as script:
        call = generate("local/smollm2", MESSAGES, expense_type, max_parse_retries=2)
    assert call.output is None
    assert call.attempts == 3
    assert call.raw_attempts == ["not json", "{", '{"merchant": "x"']
    assert call.raw == '{"merchant": "x"'
    assert "not a valid Expense" in call.error and "Invalid JSON" in call.error
    assert "after 3 attempts" in call.error
    assert (call.tokens_in, call.tokens_out) == (30, 60)
    # a retry sends the bad answer back with the errors
    retry = script.calls[1].messages
    assert retry[: len(MESSAGES)] == MESSAGES
    assert retry[len(MESSAGES)] == {"role": "assistant", "content": "not json"}
    assert "Correct your JSON" in retry[-1]["content"]


def test_wrong_types_names_fields(expense_type) -> None:
    bad = {
        "merchant": "x",
        "amount": "lots",
        "currency": "YEN",
        "category": "meals",
        "date": "2024-02-31",
    }
    with scripted_responses([bad]):
        call = generate("m/x", MESSAGES, expense_type, max_parse_retries=0)
    assert call.output is None and call.attempts == 1
    assert "amount:" in call.error and "currency:" in call.error and "date:" in call.error


def test_retry_can_succeed(expense_type, good_expense) -> None:
    with scripted_responses(['{"amount": "?"}', good_expense]):
        call = generate("m/x", MESSAGES, expense_type)
    assert call.output == good_expense
    assert call.attempts == 2
    assert call.error is None


@pytest.mark.parametrize("empty", ["", None, "   "])
def test_empty_answer(expense_type, empty) -> None:
    with scripted_responses([empty]):
        call = generate("m/x", MESSAGES, expense_type, max_parse_retries=0)
    assert call.output is None
    assert "empty response" in call.error


def test_model_validator_failures_are_parse_failures() -> None:
    class Positive(BaseModel):
        n: int

        @field_validator("n")
        @classmethod
        def positive(cls, v: int) -> int:
            if v <= 0:
                raise ValueError("must be positive")
            return v

    with scripted_responses([{"n": -1}, {"n": 0}]):
        call = generate("m/x", MESSAGES, Positive, max_parse_retries=1)
    assert call.output is None and "must be positive" in call.error and call.attempts == 2


def test_provider_error_raises(expense_type) -> None:
    with scripted_responses([ConnectionError("no route")]), pytest.raises(LLMCallError) as info:
        generate("openai/gpt-4o-mini", MESSAGES, expense_type)
    assert "ConnectionError: no route" in str(info.value)
    assert info.value.details["type"] == "ConnectionError"
    assert isinstance(info.value.__cause__, ConnectionError)


def test_script_runs_out(expense_type) -> None:
    with scripted_responses(["{}"]), pytest.raises(ScriptExhausted):
        generate("m/x", MESSAGES, expense_type, max_parse_retries=2)


def test_leftover_responses_fail_the_block(expense_type, good_expense) -> None:
    with (
        pytest.raises(AssertionError, match="1 response"),
        scripted_responses([good_expense, good_expense]),
    ):
        generate("m/x", MESSAGES, expense_type)
    with scripted_responses([good_expense, good_expense], allow_leftover=True) as script:
        generate("m/x", MESSAGES, expense_type)
    assert script.remaining == 1


def test_function_item_sees_the_request(expense_type, good_expense) -> None:
    def answer(messages, response_format):
        assert response_format["json_schema"]["name"] == "Expense"
        return good_expense.model_copy(update={"merchant": messages[-1]["content"][:6]})

    with scripted_responses([answer]):
        call = generate("m/x", MESSAGES, expense_type)
    assert call.output.merchant == "Dinner"


def test_nested_scripts_use_innermost(expense_type, good_expense) -> None:
    with scripted_responses([good_expense]):
        with scripted_responses(["{}"]):
            inner = generate("m/x", MESSAGES, expense_type, max_parse_retries=0)
        outer = generate("m/x", MESSAGES, expense_type)
    assert inner.output is None and outer.output == good_expense


def test_plain_litellm_mock_response_passes_through(expense_type, good_expense) -> None:
    # without a script, litellm kwargs go straight to litellm.completion
    call = generate(
        "openai/gpt-4o-mini", MESSAGES, expense_type, mock_response=good_expense.model_dump_json()
    )
    assert call.output == good_expense
    assert call.cost > 0  # litellm prices the mock with gpt-4o-mini's price


def test_llmcall_serialises_the_output(expense_type, good_expense) -> None:
    with scripted_responses([good_expense]):
        call = generate("m/x", render_messages(None, "{{ t }}", {"t": "x"}), expense_type)
    data = json.loads(call.model_dump_json())
    assert data["output"]["date"] == "2024-03-14"
    assert data["output"]["category"] == "meals"


def test_missing_local_model_is_a_clear_error(monkeypatch, expense_type) -> None:
    import sys

    from nesyflow.llm import LocalModelUnavailable

    monkeypatch.setattr(sys.modules["nesyflow.llm.local"], "_llama", None)  # as if not loaded yet
    monkeypatch.setenv("NESYFLOW_LOCAL_GGUF", "/nonexistent/model.gguf")
    with pytest.raises(LocalModelUnavailable, match="no such file"):
        generate("local/smollm2", MESSAGES, expense_type)
