"""Which work runs in a killable worker, with which limits: the policy over :mod:`._workers`.

Every check (``check``, ``check_many``, hence the engine, ``nesyflow check`` and ``nesyflow test``)
and the no-input grounding that loading a pack does (hence ``nesyflow lint``) run in worker
processes by default, so a grounding that runs long without emitting a rule is stopped by killing
its process: the answer is ``unknown`` (or, when loading, a ``grounding_limit`` problem) within the
time limit plus :data:`MARGIN`. Memory is capped per worker (:data:`MEMORY_MB` above its start-up
size) and workers are replaced every :data:`RECYCLE_AFTER` cases.

``isolated=False`` (or ``NESYFLOW_ISOLATION=off``) runs in-process: faster by the cost of a pipe
round trip (``benchmarks/bounded_check.py``), bounded only by the grounding observer (which sees
emitted rules) and the solver's watchdog — for callers that trust their packs, like benchmarks of
the checker itself. Environment: ``NESYFLOW_CHECK_WORKERS`` (pool size, default the CPU count, at
least 2), ``NESYFLOW_CHECK_MEMORY_MB``, ``NESYFLOW_CHECK_RECYCLE``.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nesyflow.logic._workers import Failure, Job, WorkerPool, in_worker, shared_pool

__all__ = [
    "LOAD_TIMEOUT",
    "MARGIN",
    "MEMORY_MB",
    "RECYCLE_AFTER",
    "Failure",
    "finite",
    "isolation_enabled",
    "pool",
    "run",
]

_LONGEST = 86_400.0
MARGIN = 0.5  # seconds past the limit before a worker is killed (pipe, pickling, process exit)
LOAD_TIMEOUT = 30.0  # seconds a worker may take to load a pack it has not loaded yet
MEMORY_MB = int(os.environ.get("NESYFLOW_CHECK_MEMORY_MB", "1024"))
RECYCLE_AFTER = int(os.environ.get("NESYFLOW_CHECK_RECYCLE", "10000"))


def isolation_enabled(isolated: bool | None) -> bool:
    """Whether work goes to a worker: asked for (default yes) and not already inside one."""
    if in_worker():
        return False
    if isolated is None:
        return os.environ.get("NESYFLOW_ISOLATION", "process") != "off"
    return isolated


def pool() -> WorkerPool:
    workers = int(os.environ.get("NESYFLOW_CHECK_WORKERS", "0")) or max(2, os.cpu_count() or 1)
    return shared_pool(workers, MEMORY_MB, RECYCLE_AFTER)


def run(
    task: Callable[..., Any],
    args: tuple[Any, ...],
    timeout: float,
    *,
    pack: Any = None,
    cases: int = 1,
) -> Any:
    """``task(pack, *args)`` in a worker: its result, or a :class:`Failure` after ``timeout`` +
    :data:`MARGIN` seconds (the worker is killed then). ``pack`` is loaded in the worker from its
    folder and must have the same identity hash as the caller's."""
    try:
        payload = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return Failure(f"the input could not be sent to the checker process: {exc}")
    job = Job(
        task=task,
        payload=payload,
        pack_path=str(Path(pack.path).resolve()) if pack is not None else None,
        pack_hash=pack.identity.hash if pack is not None else None,
        cases=cases,
    )
    return pool().run(job, finite(timeout) + MARGIN, LOAD_TIMEOUT)


def finite(seconds: float) -> float:
    """A wait the pipe accepts: negative is 0, NaN, infinite and absurd values are a day."""
    if math.isnan(seconds) or seconds > _LONGEST:
        return _LONGEST
    return max(0.0, seconds)
