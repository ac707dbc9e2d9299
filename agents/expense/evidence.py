"""The ``evidence`` tool: what the text itself says, for the rules to hold the model's claim against.

The model's claim is checked by the expense rules, but rules alone only see the claim: a 135M model
that reads "$1,450.00" as 450 writes a claim that passes every policy rule (it is under the
approval limit) and would be paid short. So before the model runs, this tool reads every number
written in the request and the receipt (``$1,450``, ``1,450.00``, ``27.40``, ``12000``) and hands
them to the rules in the claim's context (``source_checked``, ``source_amounts``); the pack's
``amount_not_in_source`` rule then fails any item amount the text does not contain, which sends it
back to the model once and then to a person.

Deterministic on purpose (a regular expression, not a model). Known gap: a decimal comma
(``85,50``) is read as two numbers, so such an amount is never confirmed and goes to a person —
the safe direction.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module

__all__ = ["EvidenceArgs", "gather_context", "written_amounts"]

_pack = load_module(Path(__file__).resolve().parents[2] / "rules" / "expense" / "schema.py")
ClaimContext = _pack.ClaimContext

# 1,450.00 | 1450.00 | 1450 | 27.4 — thousands separated by commas, at most two decimals.
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)")


class EvidenceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str
    receipt: str = ""
    history: ClaimContext = Field(default_factory=ClaimContext)  # type: ignore[valid-type]


def written_amounts(text: str) -> list[Decimal]:
    """Every number in ``text`` read as an amount, in order of appearance, without repeats."""
    seen: dict[Decimal, None] = {}
    for match in _NUMBER.finditer(text):
        whole, cents = match.group(1).replace(",", ""), match.group(2) or "0"
        seen[Decimal(whole) + Decimal(cents.ljust(2, "0")) / 100] = None
    return list(seen)


def gather_context(args: EvidenceArgs) -> ClaimContext:  # type: ignore[valid-type]
    """What finance knows (``history``) plus the amounts the request and receipt contain."""
    amounts = written_amounts(f"{args.request}\n{args.receipt}")
    return args.history.model_copy(update={"source_checked": True, "source_amounts": amounts})
