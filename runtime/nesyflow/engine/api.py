"""Start and resume durable runs.

``start_run`` validates the input, creates the run and drives it until it finishes or waits for a
person; ``resume`` continues a run from its last checkpoint in any process (after a decision, after a
crash). Both return a :class:`RunResult`; bad input raises :class:`~nesyflow.errors.InputError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from nesyflow.engine.runner import Runner
from nesyflow.engine.services import Services
from nesyflow.engine.state import RunState
from nesyflow.engine.workflows import as_workflow as _workflow
from nesyflow.engine.workflows import load_run_workflow
from nesyflow.errors import InputError, format_validation_error
from nesyflow.graph.model import Workflow
from nesyflow.store import Conflict, Run, RunStatus, Store, open_store

__all__ = ["RunResult", "load_run_workflow", "resume", "start_run"]


class RunResult(BaseModel):
    """Where a run stands after ``start_run`` / ``resume`` returned."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    workflow: str
    status: RunStatus
    outputs: dict[str, Any]
    review_id: str | None = None
    error: str | None = None
    steps_written: int = 0

    @classmethod
    def of(cls, run: Run, steps_written: int = 0) -> RunResult:
        state = RunState.model_validate(run.state)
        return cls(
            run_id=run.id,
            workflow=run.workflow,
            status=run.status,
            outputs=state.outputs,
            review_id=state.pending.review_id if state.pending else None,
            error=run.error,
            steps_written=steps_written,
        )


def start_run(
    workflow: Workflow | str | Path,
    input: Any,
    *,
    store: Store | None = None,
    services: Services | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Start a run of ``workflow`` on ``input`` (data valid for its input schema, or an instance).

    With ``run_id`` given and already used, this resumes that run instead, so a caller that does
    not know whether its earlier start got through can simply call again.
    """
    store = store or open_store()
    flow = _workflow(workflow)
    if run_id is not None and store.find_run(run_id) is not None:
        return resume(run_id, store=store, services=services, workflow=flow)
    try:
        data = flow.input_schema.model_validate(
            input.model_dump() if isinstance(input, BaseModel) else input
        ).model_dump(mode="json")
    except ValidationError as exc:
        problems = format_validation_error(exc, root="input")
        raise InputError(f"input does not fit {flow.input_schema.__name__}: {problems}") from None
    state = RunState(next_node=flow.start)
    try:
        run = store.create_run(
            flow.name,
            data,
            workflow_ref=str(flow.path) if flow.path else None,
            run_id=run_id,
            state=state.dump(),
            current_node=flow.start,
        )
    except Conflict:
        assert run_id is not None
        return resume(run_id, store=store, services=services, workflow=flow)
    runner = Runner(store, run, flow, services or Services())
    final = runner.drive()
    return RunResult.of(final, runner.written)


def resume(
    run_id: str,
    *,
    store: Store | None = None,
    services: Services | None = None,
    workflow: Workflow | str | Path | None = None,
) -> RunResult:
    """Continue a run from its last checkpoint. A finished run, or one whose review is still
    open, is returned as it is. A decided review is applied first (a rejection ends the run without
    loading the workflow)."""
    store = store or open_store()
    run = store.get_run(run_id)
    if run.status.finished:
        return RunResult.of(run)
    flow = None if workflow is None else _workflow(workflow)
    runner = Runner(store, run, flow, services or Services())
    final = runner.drive()
    return RunResult.of(final, runner.written)
