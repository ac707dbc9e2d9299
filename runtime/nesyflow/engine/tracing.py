"""What a run tells OpenTelemetry: one trace per run, continued across pauses and resumes.

The tree: a **segment** span for each time a process drives the run (``run <workflow>`` the first
time — the trace's root — then ``resume <workflow>``, a child of that root linked to the segment
before it, however many days later and in whatever process); under a segment a **step** span per
node attempt (``step <node>``, annotated by the checkpoint it ends in: seq, kind, verdict, timings)
or per decision applied; under a step the **model call** (``chat <model>``, GenAI attribute names)
and one **rule check** per pack (``rules <pack>``: verdict, rules fired, pack identity, timings). A
person's **decision** is a span of its own (``decision <action>``) under the run's root, when it is
made. The root and the last segment are kept in the checkpoint (``RunState.trace``).

All of it goes through :mod:`nesyflow.telemetry`, which costs one call per span when traces are off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nesyflow.engine.governance import masked_text
from nesyflow.engine.state import RunState, RunTrace
from nesyflow.telemetry import current, current_ref, enabled, span
from nesyflow.telemetry.spans import OFF

if TYPE_CHECKING:
    from nesyflow.engine.runner import Runner
    from nesyflow.store import Checkpoint, Store

__all__ = [
    "checkpointed",
    "decision_span",
    "model_done",
    "model_span",
    "rules_done",
    "rules_span",
    "segment",
    "step_span",
]


@contextmanager
def segment(r: Runner) -> Iterator[Any]:
    """The span of one drive of the run; records the run's trace in its state (the next
    checkpoint stores it). A new run's first segment is the root of a trace of its own, linked to
    whatever span the caller had open (an application's request)."""
    if not enabled():
        yield OFF
        return
    trace = r.state.trace
    attributes = {
        "nesyflow.run.id": r.run.id,
        "nesyflow.workflow": r.run.workflow,
        "nesyflow.run.status_before": r.run.status.value,
        "nesyflow.run.version_before": r.run.version,
    }
    if trace is None:
        cm = span(f"run {r.run.workflow}", attributes, root=True, links=[current_ref()])
    else:
        cm = span(f"resume {r.run.workflow}", attributes, parent=trace.root, links=[trace.last])
    with cm as sp:
        ref = sp.ref
        if ref is not None:
            r.state.trace = RunTrace(root=trace.root if trace else ref, last=ref)
        yield sp
        state = RunState.model_validate(r.run.state)
        sp.set(
            **{
                "nesyflow.run.status": r.run.status.value,
                "nesyflow.run.steps_written": r.written,
                "nesyflow.review.id": state.pending.review_id if state.pending else None,
            }
        )
        if r.run.status.value == "failed":
            sp.error(masked_text(r.run.state, r.run.input, r.run.error) or "failed")


def step_span(r: Runner, node_id: str, what: str = "step") -> Any:
    """The span of one node attempt (or, ``what="decision"``, of applying a decision)."""
    cur = r.state.cursor
    return span(
        f"{what} {node_id}",
        {
            "nesyflow.run.id": r.run.id,
            "nesyflow.node": node_id,
            "nesyflow.visit": cur.visit if cur else None,
            "nesyflow.attempt": cur.attempt if cur else None,
        },
    )


def checkpointed(saved: Checkpoint) -> None:
    """Annotate the current span with the checkpoint just written (the step it stored)."""
    sp = current()
    if sp is OFF:
        return
    step = saved.step
    attributes: dict[str, Any] = {"nesyflow.run.status": saved.run.status.value}
    if step is not None:
        attributes |= {
            "nesyflow.step.id": step.id,
            "nesyflow.step.seq": step.seq,
            "nesyflow.step.kind": step.kind,
            "nesyflow.verdict": step.verdict.value if step.verdict else None,
            "nesyflow.model_ms": step.model_ms,
            "nesyflow.rules_ms": step.rules_ms,
            "nesyflow.tool_ms": step.tool_ms,
            "nesyflow.store_ms": step.store_ms,
            "nesyflow.step.error": masked_text(saved.run.state, saved.run.input, step.error),
        }
    if saved.review is not None:
        attributes["nesyflow.review.id"] = saved.review.id
        attributes["nesyflow.review.rules"] = saved.review.rules
    sp.set(**attributes)
    sp.event("checkpoint", **attributes)


def model_span(model: str) -> Any:
    """The span of one model call (GenAI semantic-convention names)."""
    return span(f"chat {model}", {"gen_ai.operation.name": "chat", "gen_ai.request.model": model})


def model_done(sp: Any, call: Any, model_ms: float, error: str | None) -> None:
    """The model call's usage and error (the caller masks the error: ``masked_text``)."""
    sp.set(
        **{
            "gen_ai.usage.input_tokens": int(getattr(call, "tokens_in", 0) or 0),
            "gen_ai.usage.output_tokens": int(getattr(call, "tokens_out", 0) or 0),
            "nesyflow.model.cost": float(getattr(call, "cost", 0.0) or 0.0),
            "nesyflow.model_ms": model_ms,
        }
    )
    if error:
        sp.error(error)


def rules_span(identity: dict[str, Any]) -> Any:
    """The span of one pack's check of one subject."""
    return span(
        f"rules {identity.get('name')}",
        {
            "nesyflow.pack.name": identity.get("name"),
            "nesyflow.pack.version": identity.get("version"),
            "nesyflow.pack.hash": identity.get("hash"),
        },
    )


def rules_done(sp: Any, result: Any) -> None:
    """What the check said: the verdict, the rules that fired, what was missing, its timings."""
    timings = result.timings
    sp.set(
        **{
            "nesyflow.verdict": result.verdict.value,
            "nesyflow.rules.fired": result.rule_ids(),
            "nesyflow.rules.missing": list(result.missing),
            "nesyflow.facts_hash": result.facts_hash,
            "nesyflow.rules.encode_ms": timings.encode_ms,
            "nesyflow.rules.ground_ms": timings.ground_ms,
            "nesyflow.rules.solve_ms": timings.solve_ms,
            "nesyflow.rules_ms": timings.total_ms,
            "nesyflow.rules.reason": result.reason,
        }
    )


def decision_span(store: Store, review: Any, action: str, who: str) -> Any:
    """The span of a person's decision: under the run's root, linked to the segment that paused
    (a run that was never traced gets a trace of its own). Off, the run is not even read."""
    if not enabled():
        return OFF
    run = store.get_run(review.run_id)
    state = RunState.model_validate(run.state)
    trace = state.trace
    attributes = {
        "nesyflow.run.id": run.id,
        "nesyflow.workflow": run.workflow,
        "nesyflow.review.id": review.id,
        "nesyflow.node": review.node,
        "nesyflow.review.verdict": review.verdict.value,
        "nesyflow.review.rules": review.rules,
        "nesyflow.decision.action": action,
        "nesyflow.decision.who": who,
    }
    if trace is None:
        return span(f"decision {action}", attributes, root=True)
    return span(f"decision {action}", attributes, parent=trace.root, links=[trace.last])
