"""The fault matrix over real HTTP: litellm's OpenAI route against a scripted server on loopback.

Each fault must end in one of two ways — an output that parsed and validated, or a typed failure
(``ProviderFailed`` raised, or ``LLMCall.error`` for an answer that is not the schema) — after a
bounded number of requests, with the waits the provider asked for. Never an output from a broken
reply, never an unbounded loop.
"""

from __future__ import annotations

import json

import pytest
from fault_server import FaultServer, Reply, completion

from nesyflow.llm import ProviderFailed, RetryPolicy, generate

MESSAGES = [{"role": "user", "content": "Lunch at Luigi's, 42.50 EUR, 2024-03-14."}]
GOOD = json.dumps(
    {
        "merchant": "Luigi's",
        "amount": 42.5,
        "currency": "EUR",
        "category": "meals",
        "date": "2024-03-14",
    }
)
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.02, max_delay_s=0.05, timeout_s=0.4)


def ok() -> Reply:
    return Reply.json(completion(GOOD))


def run(server: FaultServer, expense_type, *, policy: RetryPolicy = FAST, **kwargs):
    return generate(
        "openai/fake",
        MESSAGES,
        expense_type,
        api_base=server.base_url,
        api_key="sk-test-not-a-real-key",
        retry=policy,
        max_parse_retries=kwargs.pop("max_parse_retries", 0),
        **kwargs,
    )


def test_rate_limit_waits_what_retry_after_says_then_succeeds(expense_type, monkeypatch):
    # backoff alone would wait ≤ 0.05 s; the header asks for 3 s, scaled by 0.1 → ≥ 0.3 s
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.02, max_delay_s=0.05, time_scale=0.1)
    limited = Reply.json({"error": {"message": "slow down"}}, 429, headers=(("Retry-After", "3"),))
    with FaultServer([limited, ok()]) as server:
        call = run(server, expense_type, policy=policy)
    assert call.ok and call.output.merchant == "Luigi's"
    assert len(server.received) == 2
    assert server.gaps()[0] >= 0.3, server.gaps()
    assert call.provider_attempts[0].startswith("attempt 1: 429 rate_limited")


@pytest.mark.parametrize(
    "fault",
    [
        Reply.json({"error": {"message": "boom"}}, 500),
        Reply(503, b"upstream unavailable", (("Content-Type", "text/plain"),)),
        Reply.json(completion(GOOD), delay_s=0.8),  # slower than the 0.4 s timeout
        Reply.json(completion(GOOD), truncate=True),
        Reply(200, b"{not json"),
    ],
    ids=["500", "503", "timeout", "truncated", "invalid-json"],
)
def test_transient_faults_are_retried_then_succeed(fault, expense_type):
    with FaultServer([fault, fault, ok()]) as server:
        call = run(server, expense_type)
    assert call.ok and call.output.amount == 42.5
    assert len(server.received) == 3 and server.overrun == 0
    assert len(call.provider_attempts) == 3 and call.provider_attempts[-1].startswith(
        "attempt 3: ok"
    )


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Reply.json({"error": {"message": "boom"}}, 500), "server_error"),
        (Reply(503, b"down", (("Content-Type", "text/plain"),)), "unavailable"),
        (Reply.json(completion(GOOD), delay_s=0.8), "timeout"),
        (Reply.json(completion(GOOD), truncate=True), "connection"),
        (Reply(200, b"{not json"), "bad_response"),
        (Reply.json({"hello": "world"}), "bad_response"),  # JSON, but not a chat completion
    ],
    ids=["500", "503", "timeout", "truncated", "invalid-json", "not-a-completion"],
)
def test_a_fault_that_persists_fails_after_exactly_the_bound(fault, kind, expense_type):
    with FaultServer([fault] * 5) as server, pytest.raises(ProviderFailed) as info:
        run(server, expense_type)
    assert len(server.received) == FAST.max_attempts  # bounded: 3 requests, not 5
    failure = info.value
    assert str(failure).startswith("the model provider failed: openai/fake: ")
    assert failure.fault.kind == kind and failure.details["kind"] == kind
    assert f"({FAST.max_attempts} attempts over" in str(failure)
    assert [a.ok for a in failure.attempts] == [False] * FAST.max_attempts


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Reply.json({**completion("x"), "choices": []}), "no_choices", "no choices"),
        (
            Reply.json(completion(None, refusal="I can't help with that.")),
            "refusal",
            "the model refused: I can't help with that.",
        ),
        (Reply.json({"error": {"message": "bad key"}}, 401), "auth", "bad key"),
        (Reply.json({"error": {"message": "no such model"}}, 404), "bad_request", "no such model"),
    ],
    ids=["no-choices", "refusal", "401", "404"],
)
def test_faults_asking_again_cannot_fix_fail_at_once(reply, kind, words, expense_type):
    with FaultServer([reply] * 3) as server, pytest.raises(ProviderFailed) as info:
        run(server, expense_type)
    assert len(server.received) == 1
    assert info.value.fault.kind == kind and words in str(info.value)
    assert "not retried" in str(info.value)


def test_a_retry_after_past_the_limit_is_not_waited_for(expense_type):
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.02, max_wait_s=60, timeout_s=0.4)
    limited = Reply.json({"error": {"message": "quota"}}, 429, headers=(("Retry-After", "3600"),))
    with (
        FaultServer([limited, ok()]) as server,
        pytest.raises(ProviderFailed, match="asked to wait 3600 s"),
    ):
        run(server, expense_type, policy=policy)
    assert len(server.received) == 1


def test_valid_json_that_is_not_the_schema_is_a_parse_failure_never_an_output(expense_type):
    wrong = Reply.json(completion(json.dumps({"merchant": "Luigi's", "amount": "lots"})))
    with FaultServer([wrong, wrong]) as server:
        call = run(server, expense_type, max_parse_retries=1)
    assert call.output is None and "not a valid Expense" in call.error
    assert call.attempts == 2 and len(server.received) == 2


def test_usage_and_cost_come_from_the_provider(expense_type):
    import litellm

    reply = Reply.json(completion(GOOD, prompt_tokens=1200, completion_tokens=300))
    with FaultServer([reply]) as server:
        call = generate(
            "openai/gpt-4o-mini",
            MESSAGES,
            expense_type,
            api_base=server.base_url,
            api_key="sk-test-not-a-real-key",
            retry=FAST,
        )
    assert (call.tokens_in, call.tokens_out) == (1200, 300)
    expected = litellm.cost_per_token("gpt-4o-mini", prompt_tokens=1200, completion_tokens=300)
    assert call.cost == pytest.approx(sum(expected)) and call.cost > 0


def test_a_key_echoed_by_the_provider_is_redacted(expense_type, monkeypatch):
    key = "sk-SENTINEL-4c1d9e77f0a2"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    echo = Reply.json({"error": {"message": f"Incorrect API key provided: {key}"}}, 401)
    with FaultServer([echo]) as server, pytest.raises(ProviderFailed) as info:
        generate("openai/fake", MESSAGES, expense_type, api_base=server.base_url, retry=FAST)
    assert server.received[0].headers["Authorization"] == f"Bearer {key}"  # it was sent…
    assert key not in str(info.value) and key not in json.dumps(info.value.details)  # …not shown
    assert "***" in str(info.value)
