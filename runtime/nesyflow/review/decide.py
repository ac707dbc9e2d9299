"""Record a person's decision on a review: approve, edit (re-checked by the rules) or reject.

Exactly one decision per review wins (the store's conditional update); a refused decision (an
override without a comment, an edit that still breaks a rule) records nothing. Applying the decision
to the run is the engine's job (:func:`nesyflow.engine.resume`): a rejection ends the run at once,
an approval or edit continues it when ``resume=True`` or on the next ``nesyflow resume``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nesyflow.engine import CheckSummary, RunResult, Services, check_subject
from nesyflow.engine import resume as resume_run
from nesyflow.engine.api import load_run_workflow
from nesyflow.errors import InputError
from nesyflow.graph.model import PackRef, ToolNode, Workflow
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

__all__ = ["Decided", "DecisionRefused", "decide"]

_OVERRIDES = ("fail", "deny", "unknown")
_EDIT_OK = ("pass", "review")


class DecisionRefused(InputError):
    """The decision cannot be recorded as given; ``details['reasons']`` says why (nothing written)."""

    code = "decision_refused"


@dataclass(frozen=True)
class Decided:
    """The recorded decision and, if the run was continued, where it now stands."""

    decision: Decision
    run: RunResult | None = None
    check: CheckSummary | None = None


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
    review = store.get_review(review_id)
    if review.status is not ReviewStatus.OPEN:
        decision = store.decision_for(review_id)
        by = f" ({decision.action.value} by {decision.who})" if decision else ""
        raise AlreadyDecided(f"review {review_id} was already decided{by}")
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
    if action is Action.APPROVE:
        if review.output is None:
            raise DecisionRefused(
                f"review {review_id} holds no output to approve ({_why(review)}); edit it instead"
            )
        if review.verdict in _OVERRIDES and not (comment and comment.strip()):
            raise DecisionRefused(
                f"approving over a '{review.verdict}' verdict overrides the rules: say why with a "
                "comment",
                details={"reasons": review.reasons},
            )
        draft = DecisionDraft(action=action, who=who, comment=comment, overrides=fixed)
    elif action is Action.EDIT:
        if output is None:
            raise DecisionRefused("an edit needs the corrected output")
        data, summary = _recheck(store, review, output, workflow, services)
        draft = DecisionDraft(
            action=action,
            who=who,
            comment=comment,
            output=data,
            check=summary.json() | {"derived": summary.derived},
            overrides=fixed,
        )
    else:
        draft = DecisionDraft(action=action, who=who, comment=comment)
    decision = store.decide(review_id, draft)
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
    return "; ".join(str(r.get("message")) for r in review.reasons) or review.verdict


def _workflow_for(store: Store, review: ReviewRecord, workflow: Workflow | None) -> Workflow | None:
    if workflow is not None:
        return workflow
    try:
        return load_run_workflow(store.get_run(review.run_id))
    except Exception:  # a Python-built workflow: the packs alone validate the edit
        return None


def _recheck(
    store: Store,
    review: ReviewRecord,
    output: Any,
    workflow: Workflow | None,
    services: Services | None,
) -> tuple[Any, CheckSummary]:
    """Validate the corrected output against the node's schema and check it with the node's packs."""
    flow = _workflow_for(store, review, workflow)
    node = flow.nodes.get(review.node) if flow is not None else None
    data = output.model_dump(mode="json") if isinstance(output, BaseModel) else output
    if node is not None:
        schema = node.args_schema if isinstance(node, ToolNode) else node.output
        if schema is not None:
            try:
                data = schema.model_validate(data).model_dump(mode="json")
            except ValidationError as exc:
                problems = [
                    f"{'.'.join(str(p) for p in e['loc']) or 'output'}: {e['msg']}"
                    for e in exc.errors()
                ]
                raise DecisionRefused(
                    f"the edited output does not fit {schema.__name__}: " + "; ".join(problems),
                    details={"reasons": [{"kind": "schema", "message": p} for p in problems]},
                ) from None
        refs = node.packs
    else:
        refs = tuple(
            PackRef(path=Path(p["path"]), text=p.get("name", ""))
            for p in review.packs
            if p.get("path")
        )
    timeout = services.check_timeout if services else None
    summary = check_subject(refs, data, None, timeout)
    if summary.verdict not in _EDIT_OK:
        lines = [str(r.get("plain") or r.get("message")) for r in summary.reasons]
        raise DecisionRefused(
            f"the edited output is still '{summary.verdict}': " + "; ".join(lines),
            details={"reasons": summary.reasons, "verdict": summary.verdict},
        )
    return data, summary
