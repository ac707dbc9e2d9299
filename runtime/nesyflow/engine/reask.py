"""The words of a reask: the model's answer, then why it did not pass, in plain sentences."""

from __future__ import annotations

from typing import Any

from nesyflow.logic.result import Reason

__all__ = ["feedback"]


def feedback(raw_output: str | None, reasons: tuple[Reason, ...]) -> list[dict[str, Any]]:
    """The reask turn: the model's answer, then the violations in plain words."""
    lines = [f"- {r.text}" for r in reasons] or ["- (no reason given)"]
    return [
        {"role": "assistant", "content": raw_output or ""},
        {
            "role": "user",
            "content": "Your answer breaks these rules:\n"
            + "\n".join(lines)
            + "\nAnswer again with every field corrected so that no rule is broken.",
        },
    ]
