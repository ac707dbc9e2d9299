"""Errors of the llm layer (all part of the :class:`~nesyflow.errors.NesyflowError` family).

A parse failure (the model's text is not valid JSON for the output type, even after retries) is *not*
an error here: :func:`~nesyflow.llm.generate` reports it in ``LLMCall.error``. These are for problems a
caller has to fix: a template that does not render, a provider that cannot be reached, a model that is
not installed, a script that ran out of responses.
"""

from __future__ import annotations

from typing import Any

from nesyflow.errors import NesyflowError

__all__ = [
    "LLMCallError",
    "LocalModelUnavailable",
    "ProviderFailed",
    "ScriptExhausted",
    "TemplateError",
]


class TemplateError(NesyflowError):
    """A prompt template does not render (a missing variable, a syntax error)."""

    code = "template_error"


class LLMCallError(NesyflowError):
    """The model call itself failed (provider error, network, auth, context too long…).

    The original exception is chained as ``__cause__`` and its class name is in ``details["type"]``.
    """

    code = "llm_call_error"


class ProviderFailed(LLMCallError):
    """The model provider could not give an answer: after the bounded retries of a transient fault
    (429, 5xx, a timeout, a cut or garbled body), or at once for one that asking again cannot fix
    (a refusal, no choices, a bad key, an unknown model, a prompt too long).

    Its message starts with "the model provider failed: " and names the kind, status and attempts;
    ``fault`` is the last :class:`~nesyflow.llm.retry.Fault`, ``attempts`` every
    :class:`~nesyflow.llm.retry.ProviderAttempt`. The engine sends such a step to a person (never a
    reask: it is not the model's answer), and approving that review tries the model again.
    """

    code = "provider_failed"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        fault: Any = None,
        attempts: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message, details=details)
        self.fault = fault
        self.attempts = attempts


class LocalModelUnavailable(LLMCallError):
    """The embedded local model cannot be loaded (llama-cpp-python or the GGUF file is missing)."""

    code = "local_model_unavailable"


class ScriptExhausted(LLMCallError):
    """A scripted test model was asked for more responses than it was given."""

    code = "script_exhausted"
