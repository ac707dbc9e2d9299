"""A grounding observer that stops a grounding past a size or time budget.

It only acts when the grounder emits a rule, so it cannot stop a grounding that runs long without
emitting one; :mod:`nesyflow.logic.bounded` (a worker process that is killed) is the bound then.
It is still the cheap, clean bound for the common blow-up, and gives the reason in words.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

__all__ = ["Guard", "Limit"]


class Limit(Exception):
    """Raised from the grounding observer to stop a grounding that grew too big or too slow."""


class Guard:
    """A clingo observer that counts ground rules and stops grounding past a size or time budget."""

    __slots__ = ("count", "deadline", "limit", "reason")

    def __init__(self, limit: int, deadline: float) -> None:
        self.count = 0
        self.limit = limit
        self.deadline = deadline
        self.reason = ""

    def rule(self, choice: bool, head: Sequence[int], body: Sequence[int]) -> None:
        self.count += 1
        if self.count & 1023 == 0:
            if self.count > self.limit:
                self.reason = f"grounding exceeded {self.limit} rules"
                raise Limit(self.reason)
            if time.perf_counter() > self.deadline:
                self.reason = "time limit reached while grounding"
                raise Limit(self.reason)

    def weight_rule(self, choice: bool, head: Sequence[int], lower: int, body: Any) -> None:
        self.rule(choice, head, ())
