"""Continue a paused run from the decision on its review — the one place a decision takes effect.

An approval (or edit) is bound to what it was given for: the verdict, the pack identities and the
facts hash of the check the person saw (for an edit, the check of the edited value). On resume the
value is checked again by :func:`nesyflow.engine.recheck.check_decided` — packs from disk, the
node's context from the checkpoint. Same packs and same facts: the decision applies. Anything else
is recorded as a ``recheck`` step with both checks; if the verdict changed too, the run goes back to
a person with the new reasons (a new review), otherwise the decision applies to the new check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nesyflow.engine.checking import CheckSummary, pack_key
from nesyflow.engine.decided import reason_key
from nesyflow.engine.recheck import check_decided
from nesyflow.engine.state import Cursor
from nesyflow.logic.result import Verdict, worst
from nesyflow.store import Action, Decision, ReviewRecord, RunStatus, StepDraft
from nesyflow.store._faults import crash_point

if TYPE_CHECKING:
    from nesyflow.engine.runner import Runner

__all__ = ["Bound", "apply_decision", "bound_to"]

_TOOL_REVIEWS = ("tool_call", "tool_args", "tool_error")


@dataclass(frozen=True)
class Bound:
    """What a decision was given for: the value, and the check the person saw for it."""

    value: Any
    verdict: Verdict
    packs: list[dict[str, Any]] | None  # None: an edit recorded before checks kept their packs
    facts_hash: str

    @property
    def checked(self) -> bool:
        """Whether there is a check to compare with (a review no pack checked has none)."""
        return self.packs is None or bool(self.packs)

    def same_as(self, now: CheckSummary) -> bool:
        if self.packs is None:
            return False
        return pack_key(self.packs) == pack_key(now.packs) and self.facts_hash == now.facts_hash


def bound_to(review: ReviewRecord, decision: Decision) -> Bound:
    """The value and check an approval or edit is bound to."""
    if decision.action is Action.EDIT:
        check = decision.check if isinstance(decision.check, dict) else {}
        packs = check.get("packs")
        return Bound(
            value=decision.output,
            verdict=worst([check.get("verdict") or Verdict.UNKNOWN]),
            packs=None if packs is None else list(packs),
            facts_hash=str(check.get("facts_hash") or ""),
        )
    return Bound(
        value=review.output,
        verdict=review.verdict,
        packs=list(review.packs),
        facts_hash=review.facts_hash,
    )


def apply_decision(r: Runner) -> bool:
    """Continue a paused run from its review's decision; False if it must still wait."""
    pending = r.state.pending
    if pending is None:  # waiting with nothing to wait on: continue (defensive)
        r.commit(None)
        return True
    review = r.store.get_review(pending.review_id)
    decision = r.store.decision_for(review.id)
    if decision is None:
        return False
    note = {
        "review_id": review.id,
        "action": decision.action.value,
        "who": decision.who,
        "comment": decision.comment,
    }
    if decision.overrides:
        note["overrides"] = decision.overrides
    step = StepDraft(
        node=review.node,
        visit=review.visit,
        kind="decision",
        inputs=note,
        output=decision.output if decision.action is Action.EDIT else None,
        verdict=review.verdict,
    )
    if decision.action is Action.REJECT:
        r.state.pending = None
        r.state.cursor = None
        r.commit(
            step,
            status=RunStatus.REJECTED,
            error=f"rejected by {decision.who}"
            + (f": {decision.comment}" if decision.comment else ""),
        )
        return False
    node = r.flow().node(review.node)
    if review.kind == "provider" and decision.action is Action.APPROVE:
        # "try again": the model provider failed, so there is no answer to approve; the step
        # starts over from the prompt it had, and its answer is checked like any other
        r.state.pending = None
        r.state.cursor = r.state.cursor or Cursor(node=node.id, visit=review.visit)
        r.commit(step)
        return True
    bound = bound_to(review, decision)
    summary: CheckSummary | None = None
    if bound.checked:
        summary = check_decided(
            r.flow(), node.id, bound.value, r.run.input, r.state, r.services.check_timeout
        )
        if not bound.same_as(summary):
            recheck = StepDraft(
                node=node.id,
                visit=review.visit,
                kind="recheck",
                output=bound.value,
                inputs={
                    **note,
                    "was": {
                        "verdict": bound.verdict.value,
                        "packs": bound.packs,
                        "facts_hash": bound.facts_hash,
                    },
                },
                check=summary.json(),
                verdict=summary.verdict,
                facts=summary.facts,
                rules_ms=summary.rules_ms,
                packs=summary.packs,
                findings=summary.findings,
            )
            if summary.verdict is not bound.verdict:
                # Given under other rules or other facts, and they now say something else: the
                # person decides again, with the new reasons.
                r.state.pending = None
                r.state.cursor = r.state.cursor or Cursor(node=node.id, visit=review.visit)
                r.open_review(
                    node,
                    recheck,
                    kind=review.kind,
                    verdict=summary.verdict,
                    reasons=summary.reasons,
                    output=bound.value,
                    summary=summary,
                )
                return False
            # Same outcome under the new check: recorded, and the decision holds. The run still
            # waits on the review in this checkpoint, so a crash here re-applies the decision.
            r.commit(recheck, status=RunStatus.WAITING_REVIEW)
            crash_point("decision:rechecked")
    r.state.pending = None
    # What the person decided over counts as decided for the rest of the run (engine/decided.py):
    # an approval over the review's findings, an edit over what its own check still found.
    decided: list[Any] = list(review.reasons) if decision.action is Action.APPROVE else []
    if decision.action is Action.EDIT:
        decided = list((decision.check or {}).get("reasons") or [])
    r.state.accepted = sorted({*r.state.accepted, *(reason_key(x) for x in decided)})
    if decision.overrides:
        r.state.overrides[node.id] = dict(decision.overrides)
    if review.kind in _TOOL_REVIEWS:
        r.state.cursor = Cursor(
            node=node.id, visit=review.visit, approved=bound.value, approved_set=True
        )
        r.commit(step)
        return True
    r.state.cursor = Cursor(node=node.id, visit=review.visit)
    # An edit takes the verdict its check gave (pass, or review that the person accepted);
    # an approval keeps the verdict it overrode, so a branch can tell the two apart.
    verdict = bound.verdict if decision.action is Action.EDIT else review.verdict
    if summary is None and decision.action is Action.EDIT and isinstance(decision.check, dict):
        r.state.derived[node.id] = dict(decision.check.get("derived") or {})
        r.touch(node.id)
    r.advance(node, bound.value, summary, step, verdict=verdict)
    return True
