"""Start and resume durable runs.

``start_run`` validates the input, creates the run and drives it until it finishes or waits for a
person; ``resume`` continues a run from its last checkpoint in any process (after a decision, after a
crash). Both return a :class:`RunResult`; bad input raises :class:`~nesyflow.errors.InputError`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from nesyflow.engine.governance import workflow_classes
from nesyflow.engine.runner import Runner
from nesyflow.engine.services import Services
from nesyflow.engine.state import RunState
from nesyflow.engine.workflows import as_workflow as _workflow
from nesyflow.engine.workflows import load_run_workflow
from nesyflow.errors import InputError, format_validation_error
from nesyflow.graph.model import Workflow
from nesyflow.store import Conflict, DuplicateRequest, Run, RunStatus, Store, open_store
from nesyflow.store.leases import new_holder
from nesyflow.telemetry import config as telemetry

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
    resubmitted: bool = False  # the input's id was submitted before: this is that run, unchanged

    @classmethod
    def of(cls, run: Run, steps_written: int = 0, *, resubmitted: bool = False) -> RunResult:
        state = RunState.model_validate(run.state)
        return cls(
            run_id=run.id,
            workflow=run.workflow,
            status=run.status,
            outputs=state.outputs,
            review_id=state.pending.review_id if state.pending else None,
            error=run.error,
            steps_written=steps_written,
            resubmitted=resubmitted,
        )


def start_run(
    workflow: Workflow | str | Path,
    input: Any,
    *,
    store: Store | None = None,
    services: Services | None = None,
    run_id: str | None = None,
    submitted_by: str | None = None,
) -> RunResult:
    """Start a run of ``workflow`` on ``input`` (data valid for its input schema, or an instance).

    With ``run_id`` given and already used, this resumes that run instead, so a caller that does
    not know whether its earlier start got through can simply call again.

    The input's ``id`` (a top-level field of the input schema, when it has one and it is set) is an
    idempotency key: a second start with the same id in the same workflow returns the run the
    first one started, as it stands (``resubmitted=True``), and does nothing — the same request is
    never run, or paid, twice. The same id with a different input is refused (InputError).

    ``submitted_by`` (the signed-in account starting it) is recorded with the run, with the person
    the input names as its submitter (the workflow's ``submitter`` path, else a top-level
    ``submitted_by`` field): none of them may decide the run's reviews.
    """
    telemetry.enabled()  # OTEL_* variables it cannot honour: said before anything is written
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
    request_id = _request_id(data)
    digest = _input_hash(data)
    if request_id is not None:
        found = store.find_request(flow.name, request_id)
        if found is not None:
            return _resubmitted(store, flow.name, request_id, found, digest)
    state = RunState(next_node=flow.start, classes=workflow_classes(flow))
    holder = new_holder()
    try:
        run = store.create_run(
            flow.name,
            data,
            workflow_ref=str(flow.path) if flow.path else None,
            run_id=run_id,
            state=state.dump(),
            current_node=flow.start,
            request_id=request_id,
            input_hash=digest,
            submitted_by=submitters(flow, data, submitted_by),
            lease=holder,
        )
    except DuplicateRequest:  # submitted by another process at the same moment
        assert request_id is not None
        found = store.find_request(flow.name, request_id)
        assert found is not None
        return _resubmitted(store, flow.name, request_id, found, digest)
    except Conflict:
        assert run_id is not None
        return resume(run_id, store=store, services=services, workflow=flow)
    runner = Runner(store, run, flow, services or Services(), holder=holder)
    final = runner.drive(created=True)
    return RunResult.of(final, runner.written)


def submitters(flow: Workflow, data: Any, starter: str | None) -> tuple[str, ...]:
    """Who submitted this input: the account starting it and the person the input names."""
    names: list[str] = []
    if starter and starter.strip():
        names.append(starter.strip())
    named: Any = None
    if flow.submitter is not None:
        try:
            named = flow.submitter.resolve(data, {})
        except (LookupError, AttributeError, TypeError):
            named = None
    elif isinstance(data, dict):
        named = data.get("submitted_by")
    if isinstance(named, str) and named.strip() and named.strip() not in names:
        names.append(named.strip())
    return tuple(names)


def _request_id(data: Any) -> str | None:
    """The input's ``id`` as the request's idempotency key (None when it has none)."""
    if not isinstance(data, dict):
        return None
    value = data.get("id")
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if len(text) > _MAX_REQUEST_ID:
        raise InputError(
            f"the input's id is {len(text)} characters long; a request id has at most "
            f"{_MAX_REQUEST_ID}"
        )
    return text or None


_MAX_REQUEST_ID = 400  # the store's requests.request_id column


def _input_hash(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def _resubmitted(
    store: Store, workflow: str, request_id: str, found: tuple[str, str], digest: str
) -> RunResult:
    run_id, first_hash = found
    if first_hash and first_hash != digest:
        raise InputError(
            f"request id {request_id!r} was already used for another input of workflow "
            f"{workflow!r} (run {run_id}); give this request its own id"
        )
    return RunResult.of(store.get_run(run_id), resubmitted=True)


def resume(
    run_id: str,
    *,
    store: Store | None = None,
    services: Services | None = None,
    workflow: Workflow | str | Path | None = None,
    by: str | None = None,
) -> RunResult:
    """Continue a run from its last checkpoint. A finished run, or one whose review is still
    open, is returned as it is. A decided review is applied first (a rejection ends the run without
    loading the workflow).

    ``by`` names the person who asked (``nesyflow resume``): the resume is entered in the
    decision log before the run moves. A resume the engine makes itself (after a decision it
    was told to continue) has no ``by``: the decision's own entry covers it."""
    telemetry.enabled()
    store = store or open_store()
    run = store.get_run(run_id)
    if run.status.finished:
        return RunResult.of(run)
    if by is not None:
        store.append_audit(
            "resume",
            by,
            {"status": run.status.value, "version": run.version, "node": run.current_node},
            run_id=run.id,
        )
    flow = None if workflow is None else _workflow(workflow)
    runner = Runner(store, run, flow, services or Services())
    final = runner.drive()
    return RunResult.of(final, runner.written)
