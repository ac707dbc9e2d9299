"""The review queue's write side: people decide reviews (approve, edit, reject); the read side is
:mod:`nesyflow.store.queries`."""

from nesyflow.review.decide import Decided, DecisionRefused, EditCheck, check_edit, decide

__all__ = ["Decided", "DecisionRefused", "EditCheck", "check_edit", "decide"]
