"""Whole workflow runs as Ray tasks against one shared store (the ``ray`` extra).

:func:`run_on_ray` makes each input one Ray task. The task opens the store by its URL and the
workflow from its path (cached per worker process: a worker runs many tasks) and calls the engine's
own :func:`~nesyflow.engine.api.start_run` — nothing about running is re-implemented here, so a run
driven on Ray is the same run, step for step, as one driven locally.

A task is retried when its worker dies (``max_retries``), so a retry must never start a second
run: every input carries a request id (the engine's idempotency key, the input's top-level ``id``;
one is derived from the input and its place in the batch when it has none). A retry that finds its
request's run unfinished resumes it with the engine's :func:`~nesyflow.engine.api.resume`, which
takes the run's lease (one driver per run): a lease left by a killed worker on this host is taken
over at once, one left on another machine once it expires. A finished run (or one waiting for a
review) is returned as it stands, so submitting a batch again starts nothing.

``NESYFLOW_RAY_RUN_CRASH=N:FOLDER`` (or ``LO-HI:FOLDER``, a point per input picked from its id;
tests only) makes each input's first attempt SIGKILL its worker at the N-th crash point
(:mod:`nesyflow.store._faults`); a marker file per request id in ``FOLDER`` tells the retry it is
not the first, and ``FOLDER/kills.log`` names each point a worker was killed at. It is read by the driver and sent with the task.

Ray is imported only inside functions, through :mod:`nesyflow.logic.ray_executor`'s connect helper.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import make_url

from nesyflow.engine.api import RunResult, _request_id
from nesyflow.errors import InputError

__all__ = ["CRASH_ENV", "RayRun", "request_ids", "run_on_ray"]

CRASH_ENV = "NESYFLOW_RAY_RUN_CRASH"
MAX_RETRIES = 3  # a worker may die this many times on one input before the input fails


class RayRun(BaseModel):
    """One input's outcome: its run (``result``) or, when the input was refused or the task kept
    failing, the reason (``error``). ``index`` is the input's place in the batch."""

    model_config = ConfigDict(frozen=True)

    index: int
    request_id: str
    result: RunResult | None = None
    error: str | None = None


def request_ids(inputs: Sequence[Any]) -> list[str]:
    """Each input's request id: its own ``id`` (read as the engine reads it), else
    ``ray-`` + sha256 of its canonical JSON and its index — deterministic, so the same batch
    submitted again (or a retried task) names the same runs, and equal inputs in one batch stay
    distinct runs."""
    out = []
    for index, item in enumerate(inputs):
        data = item.model_dump(mode="json") if isinstance(item, BaseModel) else item
        own = _request_id(data)
        if own is None:
            canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
            own = "ray-" + hashlib.sha256(f"{index}\n{canonical}".encode()).hexdigest()
        out.append(own)
    return out


def _with_id(item: Any, request_id: str) -> Any:
    data = item.model_dump(mode="json") if isinstance(item, BaseModel) else item
    if not isinstance(data, dict):
        raise InputError("a run input on Ray must be a JSON object (it carries its request id)")
    return {**data, "id": request_id}


def _shared_url(url: str, ray: Any) -> str:
    """``url`` as every worker can open it; a SQLite file only when all workers are local.

    Workers on other machines need a store they all reach: PostgreSQL is the supported shared
    store. SQLite is one file on one machine — fine for a local cluster (its processes share the
    file and its locks), wrong anywhere else, so it is refused unless the cluster is this machine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    if not parsed.database or parsed.database == ":memory:":
        raise InputError("runs on Ray need a store every worker can open, not an in-memory SQLite")
    alive = [n for n in ray.nodes() if n.get("Alive")]
    here = ray.get_runtime_context().get_node_id()
    client = (os.environ.get("NESYFLOW_RAY_ADDRESS") or "").startswith("ray://")
    if client or len(alive) != 1 or alive[0].get("NodeID") != here:
        raise InputError(
            "a SQLite store is one file on one machine, and this Ray cluster has workers "
            "elsewhere: use a shared PostgreSQL store (postgresql+psycopg://…) for runs on Ray"
        )
    return str(parsed.set(database=str(Path(parsed.database).resolve())))


_STORES: dict[str, Any] = {}
_FLOWS: dict[tuple[str, int], Any] = {}


def _open(store_url: str, workflow_path: str) -> tuple[Any, Any]:
    """The worker's store and workflow, opened once per worker process (a worker runs many)."""
    from nesyflow.graph import load_workflow
    from nesyflow.store import open_store

    store = _STORES.get(store_url)
    if store is None:
        store = _STORES[store_url] = open_store(store_url)
    key = (workflow_path, os.stat(workflow_path).st_mtime_ns)
    flow = _FLOWS.get(key)
    if flow is None:
        flow = _FLOWS[key] = load_workflow(Path(workflow_path))
    return store, flow


def drive_one(
    workflow_path: str,
    item: dict[str, Any],
    store_url: str,
    submitted_by: str | None = None,
    crash: str | None = None,
) -> RunResult:
    """The task: start this request's run, or resume it when an earlier attempt started it."""
    from nesyflow.engine.api import resume, start_run
    from nesyflow.store import LeaseHeld, RunStatus, _faults
    from nesyflow.store.leases import lease_seconds

    store, flow = _open(store_url, workflow_path)
    request_id = str(item["id"])
    _arm(crash, request_id)
    try:
        deadline = time.monotonic() + lease_seconds() + 10
        while True:
            found = store.find_request(flow.name, request_id)
            try:
                if found is None:
                    return start_run(flow, item, store=store, submitted_by=submitted_by)
                run = store.get_run(found[0])
                if run.status.finished or run.status is RunStatus.WAITING_REVIEW:
                    return start_run(flow, item, store=store)  # the engine's resubmitted answer
                return resume(run.id, store=store, workflow=flow)
            except LeaseHeld:  # another driver (alive, or dead elsewhere until its lease expires)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        os.environ.pop("NESYFLOW_CRASH_AFTER", None)
        os.environ.pop("NESYFLOW_CRASH_LOG", None)
        _faults._hits = 0


def _arm(crash: str | None, request_id: str) -> None:
    """Arm the crash point for this input's first attempt only (``CRASH_ENV``)."""
    if not crash:
        return
    spec, _, folder = crash.partition(":")
    digest = hashlib.sha256(request_id.encode()).hexdigest()
    lo, _, hi = spec.partition("-")  # N, or LO-HI: a point picked per input from its id
    after = int(lo) + (int(digest, 16) % (int(hi) - int(lo) + 1) if hi else 0)
    marker = Path(folder) / digest
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return  # a retry: run normally
    from nesyflow.store import _faults

    _faults._hits = 0
    os.environ["NESYFLOW_CRASH_AFTER"] = str(after)
    os.environ["NESYFLOW_CRASH_LOG"] = str(Path(folder) / "kills.log")  # the point, when killed


def run_on_ray(
    workflow_path: str | Path,
    inputs: Sequence[Any],
    store_url: str,
    *,
    workers: int | None = None,
    submitted_by: str | None = None,
) -> list[RayRun]:
    """Run each input of ``workflow_path`` as one Ray task against the store at ``store_url``.

    ``workers`` tasks run at a time (default: the cluster's CPUs; each asks for its share of them). The cluster is
    ``NESYFLOW_RAY_ADDRESS``'s, else a local one. Outcomes come back in input order. A SQLite URL
    is refused unless every worker is on this machine (see :func:`_shared_url`); the workflow's
    input schema must have a top-level ``id`` field, the request id that keeps retries to one run.
    The workflow file must exist at the same path on every node (a shared or identical checkout).
    """
    from nesyflow.graph import load_workflow
    from nesyflow.logic import ray_executor

    path = str(Path(workflow_path).resolve())
    flow = load_workflow(Path(path))
    if "id" not in flow.input_schema.model_fields:
        raise InputError(
            f"workflow {flow.name!r}: its input schema {flow.input_schema.__name__} has no `id` "
            "field, and runs on Ray need one (the request id that keeps a retried task to one run)"
        )
    ray = ray_executor.connect()
    url = _shared_url(store_url, ray)
    from nesyflow.store import open_store

    open_store(url).close()  # create or migrate the schema once, before the workers race
    ids = request_ids(inputs)
    items = [_with_id(item, rid) for item, rid in zip(inputs, ids, strict=True)]
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    workers = cpus if workers is None else max(1, workers)
    # ``workers`` tasks run at once: each asks for its share of the CPUs (never more than one
    # node has), and twice as many are in flight, so a worker finds its next task already queued
    largest = max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")), default=1)
    share = min(max(1.0, float(largest)), cpus / workers)
    task = ray.remote(num_cpus=share, max_retries=MAX_RETRIES)(drive_one)
    crash = os.environ.get(CRASH_ENV) or None
    out: list[RayRun | None] = [None] * len(items)
    pending: dict[Any, int] = {}
    following = iter(range(len(items)))

    def submit() -> bool:
        index = next(following, None)
        if index is None:
            return False
        pending[task.remote(path, items[index], url, submitted_by, crash)] = index
        return True

    for _ in range(2 * workers):
        if not submit():
            break
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            index = pending.pop(ref)
            try:
                out[index] = RayRun(index=index, request_id=ids[index], result=ray.get(ref))
            except Exception as exc:  # refused input, or the task died past its retries
                out[index] = RayRun(
                    index=index,
                    request_id=ids[index],
                    error=ray_executor.error_line(exc, named=False),
                )
            submit()
    return [r for r in out if r is not None]
