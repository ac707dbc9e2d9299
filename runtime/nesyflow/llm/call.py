"""The record of one structured LLM call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

__all__ = ["LLMCall"]


class LLMCall(BaseModel):
    """What :func:`~nesyflow.llm.generate` returns: the output or why there is none, and the costs.

    ``output`` is set when the model's text parsed and validated as the output type; otherwise
    ``error`` says why (bad JSON, wrong types, empty, truncated) after all attempts.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str
    mode: str = Field(
        default="", description="the structured-output mode used (json_schema, grammar…)"
    )
    messages: list[dict[str, Any]] = Field(description="the prompt sent (first attempt)")
    output: SerializeAsAny[BaseModel] | None = None
    error: str | None = None
    raw: str | None = Field(default=None, description="raw text of the last response")
    raw_attempts: list[str | None] = Field(
        default_factory=list, description="raw text of every attempt, in order"
    )
    attempts: int = 0
    provider_attempts: list[str] = Field(
        default_factory=list, description="every HTTP try, failed ones included (status, reason)"
    )
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = Field(default=0.0, description="USD, as litellm prices it; 0.0 for local")
    latency_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when there is an output."""
        return self.output is not None
