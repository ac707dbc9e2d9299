"""The least role that may decide a review the engine opens.

The node names one (``review: {role: approver}`` in the workflow); each rule among the review's
reasons may name one in its pack (``role = "approver"`` under ``[rules.NAME]``); the review needs
the most demanding of them. Recorded with the review when it opens, so what was required is what
the queue shows and what the decision is held to, whatever changes on disk later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nesyflow.engine.checking import load_packs
from nesyflow.logic.result import Reason
from nesyflow.roles import Role, highest

__all__ = ["required_role"]


def required_role(node: Any, reasons: Iterable[Reason]) -> Role | None:
    """The role a review of ``node`` with these ``reasons`` needs (None: any account)."""
    named: list[Role | str | None] = [node.review.role]
    fired = [r for r in reasons if r.rule]
    if fired and node.packs:
        for _ref, pack, _problem in load_packs(node.packs):
            if pack is None:
                continue
            for reason in fired:
                entry = pack.catalogue.get(reason.rule)
                # a reason names its pack as name@version
                if entry is not None and reason.pack.split("@")[0] in ("", pack.name):
                    named.append(entry.role)
    return highest(named)
