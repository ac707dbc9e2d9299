"""``check_many(..., executor="ray")``: the batch check's chunks on Ray actors (the ``ray`` extra).

The local path (:mod:`nesyflow.logic.bounded`) runs each chunk in a worker process it can kill;
here a Ray actor is that worker, possibly on another machine. So nothing may depend on the driver's
file system: the pack travels as the bytes of the files its identity hash covers (all that loading
reads), and an actor writes them to a temporary folder once per hash and loads the pack from there
(the hash is checked, so an actor never checks with other rules than the driver's). Inputs travel as
plain data (``model_dump()``) because the pack's schema classes live in modules named after the
folder they were loaded from (:mod:`nesyflow._imports`), which differs on the actor; results come
back as :class:`~nesyflow.logic.result.CheckResult` (a static class, it pickles by name).

An actor checks a chunk with the checker's own in-process chunk function; the driver bounds it:
past the chunk's time limit (+ :data:`~nesyflow.logic.bounded.MARGIN`), or when the call raises or
the actor dies, the chunk's cases are ``unknown`` with the reason (never a pass) and the actor is
killed and replaced. A chunk that cannot be solved together is re-sent case by case, each case
bounded on its own, as the local path does.

This is the only module that imports ``ray``, and only inside functions: the default path never
loads it. ``NESYFLOW_RAY_ADDRESS`` (``auto``, ``ray://host:10001``) names the cluster to join when
Ray is not initialised yet; unset, a local one is started. ``NESYFLOW_RAY_FAULT`` (tests only):
``raise``, ``hang`` or ``exit`` makes the actor fail that way on every chunk, or with ``@lo`` only
on the chunk starting at case ``lo`` — read by the driver, so it works on a running cluster.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from nesyflow.errors import InputError
from nesyflow.logic import bounded
from nesyflow.logic.pack import Pack
from nesyflow.logic.result import CheckResult

__all__ = [
    "ADDRESS_ENV",
    "FAULT_ENV",
    "available",
    "check_distinct",
    "connect",
    "error_line",
    "pack_files",
    "require",
]

ADDRESS_ENV = "NESYFLOW_RAY_ADDRESS"
FAULT_ENV = "NESYFLOW_RAY_FAULT"
INSTALL_HINT = "pip install 'nesyflow[ray]'"


def available() -> bool:
    """Whether ray can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def require() -> ModuleType:
    """The ray module, or an :class:`InputError` that says how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(f"the ray executor needs Ray: {INSTALL_HINT}") from None
    return ray


def pack_files(pack: Pack) -> dict[str, bytes]:
    """The pack as relative path → bytes: the files its identity hash covers, which are every file
    loading reads (so the copy an actor loads has the same hash)."""
    from nesyflow.logic import _confine

    folder = Path(pack.path)
    return {
        file.relative_to(folder).as_posix(): file.read_bytes()
        for file in sorted(folder.rglob("*"))
        if _confine.covered(folder, file)
    }


class PackHost:
    """The actor's side: packs loaded from shipped bytes, by hash, and the chunk checks.

    Everything runs in the actor's process (it is the killable worker, as a local checker worker
    is), so it marks itself as one: no nested worker pool inside an actor.
    """

    def __init__(self) -> None:
        from nesyflow.logic import _workers

        _workers._IN_WORKER = True
        os.environ["NESYFLOW_IN_WORKER"] = "1"
        self.root = Path(tempfile.mkdtemp(prefix="nesyflow-ray-"))
        self.packs: dict[str, Pack] = {}

    def load(self, pack_hash: str, files: dict[str, bytes]) -> str:
        """Write the pack's files once per hash and load them; the loaded hash (must be ``pack_hash``)."""
        from nesyflow.logic.pack import load_pack

        if pack_hash in self.packs:
            return pack_hash
        folder = self.root / pack_hash[:16]
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in files.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        pack = load_pack(folder)
        if pack.identity.hash != pack_hash:
            raise ValueError(
                f"the shipped pack has hash {pack.identity.hash[:12]}, not {pack_hash[:12]}"
            )
        self.packs[pack_hash] = pack
        return pack_hash

    def check_chunk(
        self,
        pack_hash: str,
        instances: list[Any],
        contexts: list[Any],
        timeout: float | None,
        max_rules: int,
        fault: str | None = None,
    ) -> list[CheckResult] | None:
        """One chunk, as a local worker checks it; None: not solvable together (send each case)."""
        from nesyflow.logic import checker

        _inject(fault)
        return checker._check_chunk(
            self.packs[pack_hash], instances, contexts, timeout, max_rules, False
        )

    def check_one(
        self,
        pack_hash: str,
        instance: Any,
        context: Any,
        timeout: float,
        max_rules: int,
        fault: str | None = None,
    ) -> CheckResult:
        """One case, as :func:`~nesyflow.logic.check` checks it in its worker."""
        from nesyflow.logic import checker

        _inject(fault)
        return checker._task_check(self.packs[pack_hash], instance, context, timeout, max_rules)

    def where(self) -> str:
        """Which nesyflow the actor imported (the tests check it is the driver's)."""
        import nesyflow

        return str(nesyflow.__file__)


def _inject(fault: str | None) -> None:
    if not fault:
        return
    if fault == "raise":
        raise RuntimeError("injected fault (NESYFLOW_RAY_FAULT=raise)")
    if fault == "hang":
        time.sleep(3600)
    if fault == "exit":
        os._exit(1)


def _fault_for(lo: int) -> str | None:
    """The fault ``NESYFLOW_RAY_FAULT`` asks for on the chunk starting at case ``lo``."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    kind, _, at = spec.partition("@")
    return kind if not at or int(at) == lo else None


class _Actors:
    """The driver's actors, one pack copy each per hash, reused across calls in one Ray session."""

    def __init__(self, ray: Any) -> None:
        self.ray = ray
        self.session = _session(ray)
        self.remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(PackHost)
        self.idle: queue.SimpleQueue[_Actor] = queue.SimpleQueue()
        self.count = 0
        self.lock = threading.Lock()

    def grow(self, wanted: int) -> None:
        with self.lock:
            while self.count < wanted:
                self.idle.put(_Actor(self.remote.remote()))
                self.count += 1

    def replace(self, actor: _Actor) -> _Actor:
        """Kill ``actor`` (stuck or dead) and start a fresh one in its place."""
        self.ray.kill(actor.handle, no_restart=True)
        return _Actor(self.remote.remote())


class _Actor:
    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.loaded: set[str] = set()


_POOL: _Actors | None = None
_POOL_LOCK = threading.Lock()


def _session(ray: Any) -> str:
    return str(ray.get_runtime_context().get_job_id())


def connect() -> ModuleType:
    """The ray module, joined to the cluster ``NESYFLOW_RAY_ADDRESS`` names (once per process),
    else to a local one started for this process. Shared by every part of nesyflow that uses Ray
    (batch checks here, whole runs in :mod:`nesyflow.engine.ray_runs`)."""
    ray = require()
    with _POOL_LOCK:
        if not ray.is_initialized():
            address = os.environ.get(ADDRESS_ENV) or None
            if address:  # a cluster's own settings are its own (Ray Client refuses some options)
                ray.init(address=address)
            else:  # a local cluster for this process: quiet, no dashboard
                ray.init(log_to_driver=False, include_dashboard=False)
    return ray


def _connect() -> _Actors:
    """Join (or start) the cluster once, and the actor pool of this Ray session."""
    global _POOL
    ray = connect()
    with _POOL_LOCK:
        if _POOL is None or _POOL.session != _session(ray):
            _POOL = _Actors(ray)
        return _POOL


def _portable(value: Any) -> Any:
    """A model as data the actor validates again: its schema classes have other module names."""
    return value.model_dump() if isinstance(value, BaseModel) else value


def check_distinct(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any],
    timeout: float | None,
    max_rules: int,
    workers: int | None,
) -> list[CheckResult]:
    """The Ray side of :func:`nesyflow.logic.checker._check_distinct`: the same chunks, the same
    results, each chunk on an actor that is replaced when it fails or runs past its limit."""
    from nesyflow.logic import checker

    pool = _connect()
    cpus = max(1, int(pool.ray.cluster_resources().get("CPU", 1)))
    # an actor holds one CPU while it lives: more actors than CPUs would never be scheduled
    workers = cpus if workers is None else max(1, min(workers, cpus))
    spans = checker._spans(len(instances), workers)
    pool.grow(min(workers, len(spans)))
    files: dict[str, bytes] | None = None
    files_lock = threading.Lock()

    def shipped() -> dict[str, bytes]:
        nonlocal files
        with files_lock:
            if files is None:
                files = pack_files(pack)
            return files

    sent_i = [_portable(i) for i in instances]
    sent_c = [_portable(c) for c in contexts]

    def run(span: tuple[int, int]) -> list[CheckResult]:
        actor = pool.idle.get()
        try:
            actor, results = _run_span(
                pool, actor, pack, shipped, span, sent_i, sent_c, timeout, max_rules
            )
            return results
        finally:
            pool.idle.put(actor)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(spans)))) as executor:
        return [r for chunk in executor.map(run, spans) for r in chunk]


def _run_span(
    pool: _Actors,
    actor: _Actor,
    pack: Pack,
    shipped: Any,
    span: tuple[int, int],
    instances: list[Any],
    contexts: list[Any],
    timeout: float | None,
    max_rules: int,
) -> tuple[_Actor, list[CheckResult]]:
    """One chunk on ``actor``: its results, and the actor to keep (a fresh one after a failure)."""
    from nesyflow.logic import checker

    lo, hi = span
    started = time.perf_counter()
    limit = checker._chunk_timeout(timeout, hi - lo)
    fault = _fault_for(lo)
    answer, actor = _call(
        pool,
        actor,
        pack,
        shipped,
        "check_chunk",
        limit,
        (instances[lo:hi], contexts[lo:hi], timeout, max_rules, fault),
    )
    if isinstance(answer, bounded.Failure):
        return actor, [
            checker._unknown(pack, answer.reason, started, checker._hash_or_empty(pack, i, c))
            for i, c in zip(instances[lo:hi], contexts[lo:hi], strict=True)
        ]
    if answer is not None:
        return actor, answer
    # not solvable together: each case on its own, each with its own bound (as check() does)
    one = checker.DEFAULT_TIMEOUT if timeout is None else bounded.finite(timeout)
    out: list[CheckResult] = []
    for i, c in zip(instances[lo:hi], contexts[lo:hi], strict=True):
        case_started = time.perf_counter()
        result, actor = _call(
            pool, actor, pack, shipped, "check_one", one, (i, c, one, max_rules, fault)
        )
        if isinstance(result, bounded.Failure):
            digest = checker._hash_or_empty(pack, i, c)
            result = checker._unknown(pack, result.reason, case_started, digest)
        out.append(result)
    return actor, out


def _call(
    pool: _Actors,
    actor: _Actor,
    pack: Pack,
    shipped: Any,
    method: str,
    limit: float,
    args: tuple[Any, ...],
) -> tuple[Any, _Actor]:
    """``actor.method(pack_hash, *args)`` within ``limit`` (+ the margin); the answer or a
    :class:`~nesyflow.logic.bounded.Failure`, and the actor to use next."""
    ray = pool.ray
    key = pack.identity.hash
    try:
        if key not in actor.loaded:
            ref = actor.handle.load.remote(key, shipped())
            ready, _ = ray.wait([ref], timeout=bounded.LOAD_TIMEOUT)
            if not ready:
                return _failed(
                    pool,
                    actor,
                    f"pack load timed out: no answer within {bounded.LOAD_TIMEOUT:g} s on the Ray actor",
                )
            ray.get(ref)
            actor.loaded.add(key)
        ref = getattr(actor.handle, method).remote(key, *args)
        wait = bounded.finite(limit) + bounded.MARGIN
        ready, _ = ray.wait([ref], timeout=wait)
        if not ready:
            return _failed(
                pool,
                actor,
                f"time limit reached: no answer within {wait:g} s from the Ray actor (the grounder "
                "cannot be interrupted, so the actor was killed)",
            )
        return ray.get(ref), actor
    except Exception as exc:  # the call raised, or the actor died: an answer, not a crash
        return _failed(pool, actor, f"the check on Ray failed: {error_line(exc)}")


def _failed(pool: _Actors, actor: _Actor, reason: str) -> tuple[bounded.Failure, _Actor]:
    return bounded.Failure(reason), pool.replace(actor)


def error_line(exc: BaseException, *, named: bool = True) -> str:
    """The first line of a Ray error (its tracebacks run to dozens of lines): the error the task
    raised, as ``Type: message`` (``named=False``: its message alone, for errors whose message
    says everything, such as the engine's refusals)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        if not named:
            return str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
