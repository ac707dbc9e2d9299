"""The review queue's write side: people decide reviews (approve, edit, reject); the read side is
:mod:`nesyflow.store.queries`."""

from nesyflow.review.assign import ReassignRefused, assigned_to_me, reassign
from nesyflow.review.deadlines import Expired, tick
from nesyflow.review.decide import Decided, DecisionRefused, EditCheck, check_edit, decide

__all__ = [
    "Decided",
    "DecisionRefused",
    "EditCheck",
    "Expired",
    "ReassignRefused",
    "assigned_to_me",
    "check_edit",
    "decide",
    "reassign",
    "tick",
]
