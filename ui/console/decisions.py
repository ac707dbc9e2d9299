"""Deciding a review from the console: what the held value is (its schema and packs), a live
re-check of an edit before it is saved, and the decision itself through
:func:`nesyflow.review.decide` (which records it and resumes the run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nesyflow.logic import OVERRIDES, Reason, Verdict
from nesyflow.store import AlreadyDecided, ReviewRecord, RunStatus, SqlStore, Step

__all__ = [
    "OVERRIDDEN",
    "Outcome",
    "Preview",
    "Subject",
    "apply",
    "preview",
    "repair",
    "subject_for",
]

OVERRIDDEN = OVERRIDES


@dataclass(frozen=True)
class Subject:
    """The held value's schema (None: edit as JSON), the packs that check it, the workflow."""

    schema: type[BaseModel] | None
    refs: tuple[Any, ...]
    workflow: Any
    note: str = ""


@dataclass(frozen=True)
class Preview:
    """The verdict an edit would get (``problems``: it does not even fit the schema)."""

    verdict: str  # a Verdict, or "invalid" (it does not fit the schema)
    reasons: tuple[Reason, ...] = ()
    problems: list[str] = field(default_factory=list)
    data: Any = None


@dataclass(frozen=True)
class Outcome:
    """What happened when a person decided: recorded or refused, and where the run went."""

    ok: bool
    message: str
    action: str = ""
    who: str = ""
    reasons: tuple[Reason, ...] = ()
    run_status: str | None = None
    next_review: str | None = None
    new_steps: list[Step] = field(default_factory=list)
    run_error: str | None = None


def subject_for(store: SqlStore, review: ReviewRecord, load_workflow: Any) -> Subject:
    """Find the schema and packs of what the review holds: from the run's workflow file if it
    loads, else from the packs recorded with the review."""
    from nesyflow.graph.model import PackRef, ToolNode

    run = store.find_run(review.run_id)
    flow = load_workflow(run.workflow_ref) if run is not None else None
    node = flow.nodes.get(review.node) if flow is not None else None
    refs: tuple[Any, ...]
    schema = None
    if node is not None:
        schema = node.args_schema if isinstance(node, ToolNode) else node.subject_schema()
        refs = tuple(node.packs)
    else:
        refs = tuple(
            PackRef(path=Path(p["path"]), text=p.get("name", ""))
            for p in review.packs
            if p.get("path")
        )
    if schema is not None:
        return Subject(schema=schema, refs=refs, workflow=flow)
    from console.packs import load

    for ref in refs:
        pack, _problem = load(ref.path)
        if pack is not None:
            schema = pack.input_model
            break
    note = "" if node is not None else "the run's workflow file is not available here"
    return Subject(schema=schema, refs=refs, workflow=flow, note=note)


def preview(store: SqlStore, review: ReviewRecord, subject: Subject, data: Any) -> Preview:
    """Re-check an edit exactly as the decision will: :func:`nesyflow.review.check_edit` (the
    node's schema, its packs from disk, its context from the run). Never raises: an edit that does
    not fit, or that nothing can check, is a preview that says so (and saving it is refused)."""
    from nesyflow.review import DecisionRefused, check_edit

    try:
        edit = check_edit(store, review, data, subject.workflow)
    except DecisionRefused as exc:
        reasons = tuple((exc.details or {}).get("reasons") or ())
        if all(r.kind == "schema" for r in reasons) and reasons:
            return Preview(verdict="invalid", problems=[r.message for r in reasons], data=data)
        return Preview(
            verdict=Verdict.UNKNOWN,
            reasons=reasons or (Reason(kind="unchecked", message=exc.message),),
            data=data,
        )
    except Exception as exc:  # a preview never passes by accident
        why = f"the edit could not be checked: {type(exc).__name__}: {exc}"
        return Preview(verdict=Verdict.UNKNOWN, reasons=(Reason(kind="unknown", message=why),))
    return Preview(verdict=edit.summary.verdict, reasons=edit.summary.reasons, data=edit.data)


def repair(store: SqlStore, review: ReviewRecord, subject: Subject) -> Any:
    """The smallest change the node's rules allow (:func:`nesyflow.insight.repair_review`: the
    search, then the same check an edit gets). Never raises: trouble is a repair not offered."""
    from nesyflow.insight import Repair, repair_review

    try:
        return repair_review(store, review, workflow=subject.workflow)
    except Exception as exc:  # a suggestion never passes by accident, and never breaks the page
        why = f"the repair search failed: {type(exc).__name__}: {exc}"
        return Repair(review.id, "none", why)


def apply(
    store: SqlStore,
    review: ReviewRecord,
    action: str,
    who: str,
    comment: str | None,
    output: Any = None,
    workflow: Any = None,
) -> Outcome:
    """Decide and resume the run; a refusal or a lost race is an :class:`Outcome`, not an error."""
    from nesyflow.errors import NesyflowError
    from nesyflow.review import DecisionRefused, decide

    who = (who or "").strip()
    comment = (comment or "").strip() or None
    before = len(store.steps(review.run_id))
    try:
        result = decide(
            review.id,
            action,
            who,
            comment,
            output,
            store=store,
            workflow=workflow,
            resume=True,
        )
    except DecisionRefused as exc:
        reasons = tuple((exc.details or {}).get("reasons") or ())
        return Outcome(
            ok=False,
            message=str(exc.message if hasattr(exc, "message") else exc),
            action=action,
            who=who,
            reasons=reasons,
        )
    except AlreadyDecided as exc:
        return Outcome(ok=False, message=str(exc), action=action, who=who)
    except (NesyflowError, Exception) as exc:  # the decision may be in, the resume not
        decision = store.decision_for(review.id)
        if decision is None:
            return Outcome(ok=False, message=f"{type(exc).__name__}: {exc}", action=action, who=who)
        run = store.get_run(review.run_id)
        return Outcome(
            ok=True,
            message=f"{decision.action.value} recorded for {decision.who}; the run could not "
            f"continue here: {exc}",
            action=action,
            who=who,
            run_status=run.status.value,
            new_steps=store.steps(review.run_id)[before:],
            run_error=str(exc),
        )
    run = store.get_run(review.run_id)
    status = run.status.value
    next_review = result.run.review_id if result.run is not None else None
    what = {
        RunStatus.COMPLETED.value: "the run continued and completed",
        RunStatus.WAITING_REVIEW.value: "the run continued and now waits for another review",
        RunStatus.REJECTED.value: "the run ended (rejected)",
        RunStatus.FAILED.value: "the run continued and failed",
        RunStatus.RUNNING.value: "the run is running",
    }.get(status, status)
    return Outcome(
        ok=True,
        message=f"{result.decision.action.value.capitalize()} by {result.decision.who} — {what}.",
        action=action,
        who=who,
        run_status=status,
        next_review=next_review if next_review != review.id else None,
        new_steps=store.steps(review.run_id)[before:],
        run_error=run.error,
    )
