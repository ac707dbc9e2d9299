"""Where each extracted value came from: what a reviewer is shown and the step record stores."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Ambiguity", "Candidate", "Origin", "Reading"]

Origin = Literal[
    "input", "span", "lookup", "keywords", "default", "model", "neighbours", "structure"
]


class Candidate(BaseModel):
    """One value the finders found, with every place it was read and its evidence score."""

    model_config = ConfigDict(frozen=True)

    value: Any
    score: float
    source: str = Field(description="The input field it was read from (request, receipt...).")
    start: int
    end: int
    text: str = Field(description="The text at [start, end).")
    why: str = Field("", description="Why it ranks where it does (e.g. 'total line').")
    also: list[tuple[str, int, int]] = Field(
        default_factory=list, description="Other places the same value was read."
    )
    attrs: dict[str, Any] = Field(
        default_factory=dict, description="What the span says besides the value (a currency)."
    )


class Reading(BaseModel):
    """How one field got its value: the origin, the candidates, the model's choice if asked."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Path in the output, e.g. items.0.amount.")
    value: Any
    origin: Origin
    detail: str = Field("", description="The lookup row, the keyword, the input path...")
    source: str | None = None
    start: int | None = None
    end: int | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    model_choice: Any = Field(None, description="What the model chose when it was asked.")
    ambiguous: bool = False


class Ambiguity(BaseModel):
    """A field whose sources disagree: the rules send the step to a person with these values."""

    model_config = ConfigDict(frozen=True)

    field: str
    values: list[str] = Field(description="The competing values, best-ranked first.")
    why: str
