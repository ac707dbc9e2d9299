"""What a person already decided over in a run, so a later gate does not ask again for it.

An approval over a finding (or an edit that kept it) makes that finding *accepted* for the rest of
the run: the payment gate that checks the same claim again sees the same finding and lets it pass,
while anything new (a duplicate paid meanwhile) still stops it. A finding is compared as one
string: pack, kind, rule and which instance (or, for a missing fact or an unknown, its message).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from nesyflow.engine.checking import CheckSummary
from nesyflow.engine.state import jsonable
from nesyflow.logic.result import Reason

__all__ = ["accepted_already", "reason_key"]


def reason_key(reason: Reason | dict[str, Any]) -> str:
    """A finding as one comparable string (stored in ``RunState.accepted``)."""
    r = reason if isinstance(reason, Reason) else Reason.model_validate(reason)
    what = r.detail if r.rule else r.message
    what_text = json.dumps(jsonable(what), sort_keys=True)
    return f"{r.pack}|{r.kind}|{r.rule}|{what_text}"


def accepted_already(summary: CheckSummary, accepted: Iterable[str]) -> bool:
    """Whether every reason the rules give against a tool call is one a person already decided
    over in this run. A verdict with no reasons, or any new reason, is not: it goes to a person."""
    have = set(accepted)
    if not summary.reasons or not have:
        return False
    return all(reason_key(r) in have for r in summary.reasons)
