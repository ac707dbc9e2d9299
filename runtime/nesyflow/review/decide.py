"""Record a person's decision on a review: approve, edit (re-checked by the rules) or reject.

Exactly one decision per review wins (the store's conditional update); a refused decision (an
override or an edit without a comment, an edit the rules do not allow, a person without the
review's role or deciding their own submission — :mod:`nesyflow.review.duties`) records nothing. An edit is
checked by :func:`check_edit`, the same function the console's live preview calls, which checks
it exactly as the engine checks the node's output (:func:`nesyflow.engine.check_decided`: the
node's packs from disk, its context from the run's checkpoint; the gates its output feeds when the
node has no packs). Applying the decision to the run is the engine's job
(:func:`nesyflow.engine.resume`), which checks the value again against what the decision was
given for. A rejection ends the run at once; an approval or edit continues it when
``resume=True`` or on the next ``nesyflow resume``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from nesyflow.engine import CheckSummary, RunResult, RunState, Services, check_decided
from nesyflow.engine import resume as resume_run
from nesyflow.engine.api import load_run_workflow
from nesyflow.engine.tracing import decision_span
from nesyflow.errors import InputError, NesyflowError, validation_problems
from nesyflow.graph.model import ToolNode, Workflow
from nesyflow.logic.result import OVERRIDES, Reason, Verdict, reason_lines
from nesyflow.review import duties
from nesyflow.store import (
    Action,
    AlreadyDecided,
    Decision,
    DecisionDraft,
    ReviewRecord,
    ReviewStatus,
    Store,
    open_store,
)

__all__ = ["Decided", "DecisionRefused", "EditCheck", "check_edit", "decide"]

# What an edit may be: the rules allow it, or ask a person — who is the one editing.
_EDIT_OK = (Verdict.PASS, Verdict.REVIEW)


class DecisionRefused(InputError):
    """The decision cannot be recorded as given; ``details['reasons']`` (a list of
    :class:`~nesyflow.logic.Reason`) says why (nothing written)."""

    code = "decision_refused"


@dataclass(frozen=True)
class Decided:
    """The recorded decision and, if the run was continued, where it now stands."""

    decision: Decision
    run: RunResult | None = None
    check: CheckSummary | None = None


@dataclass(frozen=True)
class EditCheck:
    """An edit as the rules see it: the value fitted to the node's schema and the check of it.

    ``allowed`` says whether it may be recorded; ``refusal`` is the sentence when not."""

    data: Any
    summary: CheckSummary

    @property
    def allowed(self) -> bool:
        return self.summary.verdict in _EDIT_OK

    @property
    def refusal(self) -> str:
        return f"the edited output is '{self.summary.verdict.value}': " + "; ".join(
            r.text for r in self.summary.reasons
        )


def _workflow_for(store: Store, review: ReviewRecord, workflow: Workflow | None) -> Workflow:
    if workflow is not None:
        return workflow
    try:
        return load_run_workflow(store.get_run(review.run_id))
    except NesyflowError as exc:
        raise DecisionRefused(
            f"review {review.id}: the rules of node '{review.node}' cannot be found, so an edit "
            f"cannot be checked ({exc})",
            details={"reasons": [Reason(kind="unchecked", message=str(exc))]},
        ) from None


def check_edit(
    store: Store,
    review: ReviewRecord,
    output: Any,
    workflow: Workflow | None = None,
    services: Services | None = None,
) -> EditCheck:
    """Fit ``output`` to the node's schema and check it as the engine would; records nothing.

    Raises :class:`DecisionRefused` when it does not fit the schema or nothing can check it."""
    flow = _workflow_for(store, review, workflow)
    node = flow.nodes.get(review.node)
    if node is None:
        raise DecisionRefused(f"the workflow has no node '{review.node}' any more")
    data = output.model_dump(mode="json") if isinstance(output, BaseModel) else output
    schema = node.args_schema if isinstance(node, ToolNode) else node.subject_schema()
    if schema is not None:
        try:
            data = schema.model_validate(data).model_dump(mode="json")
        except ValidationError as exc:
            problems = validation_problems(exc, root="output")
            raise DecisionRefused(
                f"the edited output does not fit {schema.__name__}: " + "; ".join(problems),
                details={"reasons": [Reason(kind="schema", message=p) for p in problems]},
            ) from None
    run = store.get_run(review.run_id)
    state = RunState.model_validate(run.state)
    timeout = services.check_timeout if services else None
    return EditCheck(data, check_decided(flow, node.id, data, run.input, state, timeout))


def decide(
    review_id: str,
    action: Action | str,
    who: str,
    comment: str | None = None,
    output: Any = None,
    *,
    store: Store | None = None,
    workflow: Workflow | None = None,
    services: Services | None = None,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
) -> Decided:
    """Decide ``review_id``. Raises :class:`DecisionRefused` (nothing recorded),
    :class:`~nesyflow.store.AlreadyDecided` (someone else decided first) or ``NotFound``.

    ``overrides`` (approve or edit only, with a comment) sets values the rules derive — e.g.
    ``{"total_reimbursable": "450.00"}``, the amount to pay — in place of theirs; each key must be
    one the node's packs declare under ``[derived]`` and its value must parse as that type. They
    are recorded with the decision and reach later tools through ``RunView.overrides``."""
    store = store or open_store()
    try:
        action = Action(action)
    except ValueError:
        raise DecisionRefused(f"unknown action {action!r}: approve, edit or reject") from None
    if not who or not who.strip():
        raise DecisionRefused("who decides must be named")
    comment = comment.strip() if comment and comment.strip() else None
    review = store.get_review(review_id)
    if review.status is not ReviewStatus.OPEN:
        decision = store.decision_for(review_id)
        by = f" ({decision.action.value} by {decision.who})" if decision else ""
        raise AlreadyDecided(f"review {review_id} was already decided{by}")
    who = who.strip()
    barred = duties.refusal(store, review, who)
    if barred is not None:
        raise DecisionRefused(barred.message, details={"reasons": [barred]})
    summary: CheckSummary | None = None
    fixed = None
    if overrides:
        if action is Action.REJECT:
            raise DecisionRefused("a rejection sets no values; approve or edit to set them")
        if not (comment and comment.strip()):
            raise DecisionRefused(
                "setting values in place of the rules' ("
                + ", ".join(sorted(overrides))
                + ") needs a comment saying why"
            )
        fixed = _overrides(store, review, overrides, workflow)
    if action is Action.APPROVE and review.kind == "provider":
        # the model provider failed: approving means "try the model again"; its answer will be
        # checked by the rules like any other, so nothing is overridden
        draft = DecisionDraft(action=action, who=who, comment=comment)
    elif action is Action.APPROVE:
        if review.output is None:
            raise DecisionRefused(
                f"review {review_id} holds no output to approve ({_why(review)}); edit it instead"
            )
        if review.verdict in OVERRIDES and comment is None:
            raise DecisionRefused(
                f"approving over a '{review.verdict.value}' verdict overrides the rules: say why "
                "with a comment",
                details={"reasons": list(review.reasons)},
            )
        draft = DecisionDraft(action=action, who=who, comment=comment, overrides=fixed)
    elif action is Action.EDIT:
        if output is None:
            raise DecisionRefused("an edit needs the corrected output")
        if comment is None:
            raise DecisionRefused(
                "an edit replaces what the run produced: say what was changed and why with a "
                "comment"
            )
        edit = check_edit(store, review, output, workflow, services)
        if not edit.allowed:
            raise DecisionRefused(
                edit.refusal,
                details={"reasons": list(edit.summary.reasons), "verdict": edit.summary.verdict},
            )
        summary = edit.summary
        draft = DecisionDraft(
            action=action,
            who=who,
            comment=comment,
            output=edit.data,
            check=summary.json() | {"derived": summary.derived},
            overrides=fixed,
        )
    else:
        draft = DecisionDraft(action=action, who=who, comment=comment)
    with decision_span(store, review, action.value, who) as sp:
        decision = store.decide(review_id, draft)  # its decision-log entry is written with it
        sp.set(**{"nesyflow.decision.id": decision.id})
    run: RunResult | None = None
    if action is Action.REJECT or resume:
        run = resume_run(review.run_id, store=store, services=services, workflow=workflow)
    return Decided(decision=decision, run=run, check=summary)


def _overrides(
    store: Store, review: ReviewRecord, values: dict[str, Any], workflow: Workflow | None
) -> dict[str, Any]:
    """The values a person sets, checked against the derived keys the node's packs declare."""
    from decimal import Decimal, InvalidOperation

    from nesyflow.engine.checking import load_packs

    flow = _workflow_for(store, review, workflow)
    node = flow.nodes.get(review.node) if flow is not None else None
    refs = node.packs if node is not None else ()
    declared: dict[str, str] = {}
    for _ref, pack, _problem in load_packs(refs):
        if pack is not None:
            declared.update(pack.derived_types)
    fixed: dict[str, Any] = {}
    for key, raw in values.items():
        kind = declared.get(key)
        if kind is None:
            known = ", ".join(sorted(declared)) or "none"
            raise DecisionRefused(
                f"{key!r} is not a value the rules of node '{review.node}' derive (they derive: "
                f"{known})"
            )
        text = str(raw).strip()
        if kind == "money":
            try:
                amount = Decimal(text.replace(",", "").removeprefix("$"))
            except InvalidOperation:
                amount = Decimal("NaN")
            if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
                raise DecisionRefused(
                    f"{key}: {raw!r} is not an amount (0 up to 10^12, e.g. 450.00)"
                )
            fixed[key] = str(amount.quantize(Decimal("0.01")))
        elif kind == "int":
            if not text.lstrip("-").isdigit():
                raise DecisionRefused(f"{key}: {raw!r} is not a whole number")
            fixed[key] = int(text)
        else:
            fixed[key] = text
    return fixed


def _why(review: ReviewRecord) -> str:
    return reason_lines(review.reasons) if review.reasons else review.verdict.value
