"""The llm layer: structured LLM calls (instructor over litellm), prompts, model choice.

* :func:`generate` — ask a model for a pydantic output; get an :class:`LLMCall` (output or error,
  raw text, tokens, cost, latency). Parse failures are returned, not raised.
* :func:`render_messages` — chat messages from Jinja2 templates (missing variables are errors).
* :func:`resolve_model` — node model, else workflow model, else ``$NESYFLOW_MODEL``, else
  ``local/smollm2`` (the embedded offline model, see :mod:`nesyflow.llm.local`).
* :func:`route_for` — how a model is called (provider, structured-output mode, base URL, key
  source); :class:`ProviderFailed` — the provider could not answer, after bounded retries.
* :func:`scripted_responses` — a scripted test model (see :mod:`nesyflow.llm.scripted`).

Importing this package imports neither litellm nor llama.cpp; the model loads on its first call.
"""

from nesyflow.llm.call import LLMCall
from nesyflow.llm.errors import (
    LLMCallError,
    LocalModelUnavailable,
    ProviderFailed,
    ScriptExhausted,
    TemplateError,
)
from nesyflow.llm.generate import generate
from nesyflow.llm.grammar import schema_to_grammar
from nesyflow.llm.local import (
    LOCAL_PROVIDER,
    local_model_path,
    local_model_stats,
    register_local_provider,
)
from nesyflow.llm.prompts import render_messages, render_template
from nesyflow.llm.providers import PROVIDER_MODES, Mode, ModelRoute, route_for
from nesyflow.llm.retry import ProviderAttempt, RetryPolicy
from nesyflow.llm.scripted import Script, ScriptedCall, scripted_responses
from nesyflow.llm.selection import DEFAULT_MODEL, MODEL_ENV_VAR, resolve_model

__all__ = [
    "DEFAULT_MODEL",
    "LOCAL_PROVIDER",
    "MODEL_ENV_VAR",
    "PROVIDER_MODES",
    "LLMCall",
    "LLMCallError",
    "LocalModelUnavailable",
    "Mode",
    "ModelRoute",
    "ProviderAttempt",
    "ProviderFailed",
    "RetryPolicy",
    "Script",
    "ScriptExhausted",
    "ScriptedCall",
    "TemplateError",
    "generate",
    "local_model_path",
    "local_model_stats",
    "register_local_provider",
    "render_messages",
    "render_template",
    "resolve_model",
    "route_for",
    "schema_to_grammar",
    "scripted_responses",
]
