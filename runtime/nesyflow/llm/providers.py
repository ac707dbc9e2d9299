"""Which structured-output mode each provider gets, and where a model's calls go.

Providers do not agree on structured output: OpenAI and vLLM take a JSON-schema ``response_format``;
llama.cpp's servers reject it (422) but take a grammar; Ollama takes ``format: json``; Anthropic and
Bedrock want a forced tool call. So the mode is chosen per provider (:data:`PROVIDER_MODES`), and can
be overridden — for every model by ``$NESYFLOW_MODEL_MODE``, per model in the config file
(:mod:`nesyflow.llm.config`), per call (``generate(mode=...)``) — in that order of precedence, the
call's first.

Modes (:class:`Mode`):

* ``json_schema`` — the schema as ``response_format: json_schema`` (instructor ``JSON_SCHEMA``);
* ``grammar`` — the same request, but the schema is sent as nesyflow's strict GBNF grammar in the
  body (``grammar``, as llama.cpp's servers accept) instead of ``response_format``: the exact grammar
  the embedded model uses in-process, so an OpenAI-compatible llama.cpp server gives the same outputs;
* ``json`` — ``response_format: json_object``, the schema described in the prompt (instructor ``JSON``);
* ``tools`` — one forced tool call whose parameters are the schema (instructor ``TOOLS``);
* ``md_json`` — the schema in the prompt, the JSON read from the text (works with anything).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nesyflow.errors import InputError
from nesyflow.llm.config import ModelSettings, settings_for
from nesyflow.llm.secrets import safe_url

__all__ = [
    "IN_PROCESS",
    "MODE_ENV_VAR",
    "PROVIDER_MODES",
    "Mode",
    "ModelRoute",
    "is_remote",
    "parse_mode",
    "route_for",
]

MODE_ENV_VAR = "NESYFLOW_MODEL_MODE"


class Mode(StrEnum):
    JSON_SCHEMA = "json_schema"
    GRAMMAR = "grammar"
    JSON = "json"
    TOOLS = "tools"
    MD_JSON = "md_json"

    @property
    def instructor_mode(self) -> str:
        """The instructor mode that builds the request (``grammar`` rewrites ``JSON_SCHEMA``'s)."""
        return {"grammar": "JSON_SCHEMA"}.get(self.value, self.value.upper())


#: The default mode of each litellm provider. ``openai-compatible`` is ``openai/…`` sent to a base
#: URL other than OpenAI's (llama.cpp, LM Studio, vLLM's OpenAI server…): JSON mode is what they all
#: accept. A provider not listed gets ``md_json``, which needs nothing of the server.
PROVIDER_MODES: dict[str, Mode] = {
    "local": Mode.JSON_SCHEMA,
    "scripted": Mode.JSON_SCHEMA,
    "replay": Mode.JSON_SCHEMA,  # replay:FILE.jsonl, in-process like local (nesyflow.llm.replay)
    "openai": Mode.JSON_SCHEMA,
    "openai-compatible": Mode.JSON,
    "hosted_vllm": Mode.JSON_SCHEMA,
    "azure": Mode.TOOLS,
    "anthropic": Mode.TOOLS,
    "bedrock": Mode.TOOLS,
    "vertex_ai": Mode.TOOLS,
    "gemini": Mode.TOOLS,
    "mistral": Mode.TOOLS,
    "groq": Mode.TOOLS,
    "ollama": Mode.JSON,
    "ollama_chat": Mode.JSON,
    "lm_studio": Mode.JSON,
    "llamafile": Mode.JSON,
}
DEFAULT_MODE = Mode.MD_JSON

# Where litellm reads each provider's base URL and key from (the first variable set wins).
_BASE_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_BASE", "OPENAI_BASE_URL"),
    "azure": ("AZURE_API_BASE",),
    "anthropic": ("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"),
    "ollama": ("OLLAMA_API_BASE",),
    "ollama_chat": ("OLLAMA_API_BASE",),
    "hosted_vllm": ("HOSTED_VLLM_API_BASE",),
    "lm_studio": ("LM_STUDIO_API_BASE",),
    "llamafile": ("LLAMAFILE_API_BASE",),
}
_DEFAULT_BASES = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://localhost:11434",
    "ollama_chat": "http://localhost:11434",
}
_KEY_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "bedrock": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gemini": ("GEMINI_API_KEY",),
    "vertex_ai": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "hosted_vllm": ("HOSTED_VLLM_API_KEY",),
}
_NO_KEY = {"local", "scripted", "replay", "ollama", "ollama_chat", "llamafile", "lm_studio"}


def parse_mode(value: str | Mode, *, where: str) -> Mode:
    """A :class:`Mode` from text; an unknown one is an :class:`InputError` naming where it came from."""
    if isinstance(value, Mode):
        return value
    text = str(value).strip().lower().replace("-", "_")
    try:
        return Mode(text)
    except ValueError:
        known = ", ".join(m.value for m in Mode)
        raise InputError(f"{where}: unknown mode {value!r} (known: {known})") from None


@dataclass(frozen=True)
class ModelRoute:
    """How calls to one model string go: provider, mode (and who chose it), base URL, key source.

    ``api_base`` is shown without credentials; ``key`` says where the key comes from and whether it
    is set (``$OPENAI_API_KEY (set)``), never its value.
    """

    model: str
    provider: str
    profile: str
    mode: Mode
    mode_from: str
    api_base: str | None
    key: str
    timeout_s: float | None = None
    settings: ModelSettings | None = None

    def litellm_kwargs(self) -> dict[str, Any]:
        """Settings from the config file that litellm takes as call arguments."""
        out: dict[str, Any] = {}
        s = self.settings
        if s is None:
            return out
        if s.api_base:
            out["api_base"] = s.api_base
        key = s.key()
        if key:
            out["api_key"] = key
        if s.api_version:
            out["api_version"] = s.api_version
        return out


#: Providers whose calls never leave this process (the embedded model, the test doubles).
IN_PROCESS = ("local", "scripted", "replay")


def is_remote(model: str, marked: bool | None = None) -> bool:
    """Whether a prompt to ``model`` leaves this machine's trust: what a workflow marked
    (``remote: true|false`` on a node), else every provider but the in-process ones — an unmarked
    hosted model is remote, so forgetting the mark never sends a sensitive value out."""
    if marked is not None:
        return marked
    if model.startswith("replay:"):
        return False
    prefix = model.split("/", 1)[0] if "/" in model else ""
    return prefix not in IN_PROCESS


def _provider(model: str) -> str:
    if model.startswith("replay:"):  # a file path follows, which may hold slashes
        return "replay"
    prefix = model.split("/", 1)[0] if "/" in model else ""
    if prefix in ("local", "scripted"):
        return prefix
    try:
        import litellm

        from nesyflow.llm.generate import _litellm

        _litellm()
        if prefix and prefix in {
            str(p.value) if hasattr(p, "value") else str(p) for p in litellm.provider_list
        }:
            return prefix
        return str(litellm.get_llm_provider(model)[1])
    except Exception:  # litellm cannot tell (an unknown prefix): say so, use the fallback mode
        return prefix or "unknown"


def _env_first(names: tuple[str, ...]) -> tuple[str | None, str | None]:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return name, value
    return None, None


def route_for(
    model: str, *, mode: str | Mode | None = None, api_base: str | None = None
) -> ModelRoute:
    """Where and how ``model`` is called (no request is made; nothing secret is in the result)."""
    provider = _provider(model)
    settings = settings_for(model)
    base = api_base or None
    if base is None and settings is not None and settings.api_base:
        base = settings.api_base
    if base is None:
        _, base = _env_first(_BASE_VARS.get(provider, ()))
    base = base or _DEFAULT_BASES.get(provider)
    profile = provider
    if provider == "openai" and base and base.rstrip("/") != _DEFAULT_BASES["openai"]:
        profile = "openai-compatible"
    if mode is not None:
        chosen, mode_from = parse_mode(mode, where=f"the mode given for {model}"), "the node"
    elif settings is not None and settings.mode:
        chosen = parse_mode(settings.mode, where=settings.source)
        mode_from = "the config file"
    elif os.environ.get(MODE_ENV_VAR, "").strip():
        chosen = parse_mode(os.environ[MODE_ENV_VAR], where=f"${MODE_ENV_VAR}")
        mode_from = f"${MODE_ENV_VAR}"
    else:
        chosen = PROVIDER_MODES.get(profile, DEFAULT_MODE)
        mode_from = f"provider table: {profile}"
    if settings is not None and (settings.api_key or settings.api_key_env):
        if settings.api_key_env:
            state = "set" if os.environ.get(settings.api_key_env) else "NOT SET"
            key = f"${settings.api_key_env} ({state}, named in the config file)"
        else:
            key = "the config file"
    elif provider in _NO_KEY:
        key = "not needed"
    else:
        names = _KEY_VARS.get(provider, ())
        name, _ = _env_first(names)
        key = (
            f"${name} (set)"
            if name
            else (
                " or ".join(f"${n}" for n in names) + " (NOT SET)" if names else "provider default"
            )
        )
    return ModelRoute(
        model=model,
        provider=provider,
        profile=profile,
        mode=chosen,
        mode_from=mode_from,
        api_base=safe_url(base),
        key=key,
        timeout_s=settings.timeout if settings else None,
        settings=settings,
    )
