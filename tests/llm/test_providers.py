"""Which mode and where: the provider table, its overrides, the config file, and the secrets rules."""

from __future__ import annotations

import json

import pytest
from fault_server import FaultServer, Reply, ollama_chat

from nesyflow.errors import InputError
from nesyflow.graph.model import LLM_MODES
from nesyflow.llm import Mode, RetryPolicy, generate, route_for
from nesyflow.llm.config import ConfigError
from nesyflow.llm.secrets import redact, safe_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("NESYFLOW_MODEL_MODE", "OPENAI_API_BASE", "OPENAI_BASE_URL", "NESYFLOW_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.config/nesyflow/config.toml


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        ("local/smollm2", Mode.JSON_SCHEMA),
        ("openai/gpt-4o-mini", Mode.JSON_SCHEMA),
        ("gpt-4o-mini", Mode.JSON_SCHEMA),
        ("anthropic/claude-3-5-haiku-latest", Mode.TOOLS),
        ("azure/my-deployment", Mode.TOOLS),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", Mode.TOOLS),
        ("ollama/llama3.1", Mode.JSON),
        ("ollama_chat/llama3.1", Mode.JSON),
        ("hosted_vllm/qwen", Mode.JSON_SCHEMA),
        ("nosuchprovider/x", Mode.MD_JSON),
    ],
)
def test_the_provider_table_picks_a_mode_per_provider(model, mode):
    assert route_for(model).mode is mode


def test_openai_at_another_base_url_is_an_openai_compatible_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:8080/v1")
    route = route_for("openai/smollm2")
    assert route.profile == "openai-compatible" and route.mode is Mode.JSON
    assert route.api_base == "http://127.0.0.1:8080/v1"


def test_overrides_in_order_call_then_config_then_env(monkeypatch, tmp_path):
    config = tmp_path / "outside" / "config.toml"
    config.parent.mkdir()
    config.write_text('[models."openai/*"]\nmode = "md_json"\n')
    monkeypatch.setenv("NESYFLOW_MODEL_MODE", "tools")
    assert route_for("openai/x").mode_from == "$NESYFLOW_MODEL_MODE"
    monkeypatch.setenv("NESYFLOW_CONFIG", str(config))
    assert route_for("openai/x").mode is Mode.MD_JSON
    route = route_for("openai/x", mode="grammar")
    assert route.mode is Mode.GRAMMAR and route.mode_from == "the node"


def test_an_unknown_mode_names_where_it_came_from(monkeypatch):
    monkeypatch.setenv("NESYFLOW_MODEL_MODE", "jsno")
    with pytest.raises(InputError, match=r"\$NESYFLOW_MODEL_MODE: unknown mode 'jsno'"):
        route_for("openai/x")


def test_the_workflow_modes_are_the_llm_layers():
    assert set(LLM_MODES) == {m.value for m in Mode}


def test_a_config_file_gives_base_url_and_key_and_its_key_is_masked(monkeypatch, tmp_path):
    key = "sk-from-config-file-0123456789"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[models."openai/fake"]\napi_base = "http://127.0.0.1:1/v1"\napi_key = "{key}"\n'
    )
    monkeypatch.setenv("NESYFLOW_CONFIG", str(config))
    route = route_for("openai/fake")
    assert route.key == "the config file" and key not in repr(route.key)
    assert route.litellm_kwargs() == {"api_base": "http://127.0.0.1:1/v1", "api_key": key}
    assert redact(f"bad key {key}") == "bad key ***"


def test_a_key_in_a_config_file_inside_a_repository_is_refused(monkeypatch, tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    config = tmp_path / "repo" / "nesyflow.toml"
    config.write_text('[models."*"]\napi_key = "sk-committed-by-mistake"\n')
    monkeypatch.setenv("NESYFLOW_CONFIG", str(config))
    with pytest.raises(ConfigError, match="inside the git work tree"):
        route_for("openai/x")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[models."*"]\nmodee = "json"\n', "unknown setting"),
        ('[models."*"]\ntimeout = -1\n', "timeout must be a positive"),
        ("[models\n", "cannot be read as TOML"),
    ],
)
def test_a_bad_config_file_is_a_clear_error(text, problem, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(text)
    monkeypatch.setenv("NESYFLOW_CONFIG", str(config))
    with pytest.raises(ConfigError, match=problem) as info:
        route_for("openai/x")
    assert str(config) in str(info.value)


def test_urls_lose_their_credentials():
    assert safe_url("https://bob:hunter2@h.example:8443/v1?api-key=abc&x=1") == (
        "https://***@h.example:8443/v1?api-key=***&x=1"
    )


def test_the_key_in_the_environment_is_masked_wherever_it_appears(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-sentinel-value")
    assert redact("401: key sk-ant-sentinel-value invalid") == "401: key *** invalid"
    assert route_for("anthropic/claude-3-5-haiku-latest").key == "$ANTHROPIC_API_KEY (set)"


def test_ollama_chat_route_through_a_local_stand_in():
    """litellm's ``ollama_chat/`` route (``POST /api/chat``, ``format: json``) to a stand-in."""

    from pydantic import BaseModel

    class Word(BaseModel):
        word: str

    with FaultServer([Reply.json(ollama_chat(json.dumps({"word": "hi"})))]) as server:
        call = generate(
            "ollama_chat/llama3.1",
            [{"role": "user", "content": "Say hi as JSON."}],
            Word,
            api_base=server.root_url,
            retry=RetryPolicy(max_attempts=1),
        )
    assert call.output == Word(word="hi") and call.mode == "json"
    assert (call.tokens_in, call.tokens_out) == (13, 9)  # Ollama's prompt_eval_count / eval_count
    request = server.received[0]
    assert request.path == "/api/chat" and request.body["format"] == "json"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NESYFLOW_LLM_ATTEMPTS", "abc"),
        ("NESYFLOW_LLM_ATTEMPTS", "0"),
        ("NESYFLOW_LLM_ATTEMPTS", "99999999999"),
        ("NESYFLOW_LLM_ATTEMPTS", "2.5"),
        ("NESYFLOW_LLM_TIMEOUT", "-1"),
        ("NESYFLOW_RETRY_SCALE", "nan"),
    ],
)
def test_retry_variables_out_of_range_are_clear_errors(name, value, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match=rf"\${name}="):
        RetryPolicy.from_env()
