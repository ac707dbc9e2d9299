"""Who chooses among candidates when the evidence is not decisive: the model, asked a short
question whose prompt starts with the source text (so llama.cpp reuses the prefix across the
questions of one request), with the answer restricted to the candidates' letters or "none"."""

from __future__ import annotations

import time
from typing import Literal, Protocol

from pydantic import BaseModel, create_model

__all__ = ["Chooser", "FirstChooser", "ModelChooser", "PersonChooser"]

_LETTERS = "ABCDEFGH"


class Chooser(Protocol):
    """``choose`` returns the index of the chosen option, or ``None`` for "none of these"."""

    def choose(self, text: str, question: str, options: list[str]) -> int | None: ...


class FirstChooser:
    """Confirms the best-ranked candidate: for runs without a model (and tests of the planner)."""

    calls = 0

    def choose(self, text: str, question: str, options: list[str]) -> int | None:
        self.calls += 1
        return 0 if options else None


class PersonChooser:
    """No model: every field the evidence leaves open is sent to a person ("none of these")."""

    calls = 0

    def choose(self, text: str, question: str, options: list[str]) -> int | None:
        self.calls += 1
        return None


class ModelChooser:
    """Asks ``model`` (any litellm string, ``local/smollm2`` by default) through ``nesyflow.llm``.

    A call that fails or does not parse counts as "none of these": the field goes to a person.
    ``ms`` sums the time spent in the model.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.calls = 0
        self.ms = 0.0
        self._types: dict[int, type[BaseModel]] = {}

    def _answer_type(self, n: int) -> type[BaseModel]:
        if n not in self._types:
            letters = tuple([*_LETTERS[:n], "none"])
            self._types[n] = create_model("Choice", answer=(Literal[letters], ...))  # type: ignore[valid-type]
        return self._types[n]

    def choose(self, text: str, question: str, options: list[str]) -> int | None:
        from nesyflow.llm import generate

        options = options[: len(_LETTERS)]
        listing = "\n".join(f"{_LETTERS[i]}. {o}" for i, o in enumerate(options))
        messages = [
            {"role": "system", "content": "You answer questions about a text with one letter."},
            {
                "role": "user",
                "content": f"{text}\n\nQuestion: {question}\n{listing}\nnone. none of these\n"
                'Answer as JSON: {"answer": "<letter>"}',
            },
        ]
        self.calls += 1
        started = time.perf_counter()
        try:
            call = generate(
                self.model,
                messages,
                self._answer_type(len(options)),
                max_parse_retries=0,
                max_tokens=12,
            )
        except Exception:  # provider down: a person decides, never a silent pick
            return None
        finally:
            self.ms += (time.perf_counter() - started) * 1000
        answer = getattr(call.output, "answer", None) if call.output is not None else None
        if answer is None or answer == "none":
            return None
        return _LETTERS.index(answer)
