"""What the engine calls out to, gathered so tests and embedders can swap any part.

By default each part is the real one (``nesyflow.llm.generate`` and friends), imported only when a
step needs it, so a run with no ``llm`` node never imports litellm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    """``generate(model, messages, output_type) -> LLMCall``; ``render_messages(system, template,
    variables) -> messages``; ``resolve_model(node_model, workflow_model) -> str``;
    ``check_timeout`` bounds each rule check (seconds, ``None`` = the checker's default)."""

    generate: Callable[..., Any] | None = None
    render_messages: Callable[..., Any] | None = None
    resolve_model: Callable[[str | None, str | None], str] | None = None
    check_timeout: float | None = None

    def llm_generate(self) -> Callable[..., Any]:
        if self.generate is not None:
            return self.generate
        from nesyflow.llm import generate

        return generate

    def llm_render(self) -> Callable[..., Any]:
        if self.render_messages is not None:
            return self.render_messages
        from nesyflow.llm.prompts import render_messages

        return render_messages

    def model_for(self, node_model: str | None, workflow_model: str | None) -> str:
        if self.resolve_model is not None:
            return self.resolve_model(node_model, workflow_model)
        from nesyflow.llm.selection import resolve_model

        return resolve_model(node_model, workflow_model)
