from __future__ import annotations

import pytest

from nesyflow.llm import DEFAULT_MODEL, MODEL_ENV_VAR, resolve_model


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV_VAR, raising=False)


def test_node_model_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV_VAR, "env/model")
    assert resolve_model("openai/gpt-4o-mini", "anthropic/claude") == "openai/gpt-4o-mini"


def test_workflow_model_when_node_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV_VAR, "env/model")
    assert resolve_model(None, "anthropic/claude") == "anthropic/claude"


def test_env_when_neither(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV_VAR, " ollama/llama3 ")
    assert resolve_model(None, None) == "ollama/llama3"


def test_local_default() -> None:
    assert resolve_model(None, None) == DEFAULT_MODEL == "local/smollm2"


def test_blank_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODEL_ENV_VAR, "   ")
    assert resolve_model("", "  ") == DEFAULT_MODEL
