"""Worker processes that can be stopped: the only real bound on clingo's grounder.

clingo's C++ grounder cannot be interrupted from Python while it emits nothing (the observer is the
only hook and ``Control.interrupt`` stops solving only), and its memory is native. So work that may
ground without bound runs in a worker process that the parent kills when its time is up, under an
address-space limit (``RLIMIT_AS``), and that is replaced after a bounded number of cases so the
native memory clingo keeps per ``Control`` (potassco/clingo#602, #203) never builds up.

Protocol, one job at a time per worker, over a pipe:

1. parent → worker: a :class:`Job` (the pack's folder and hash, a task function pickled by name, its
   arguments pickled separately so classes of the pack's schema module can be unpickled after the
   worker has loaded the pack);
2. worker → parent: ``READY`` once the pack is loaded, when this worker had not loaded it yet
   (loading is bounded by ``load_timeout``, not by the job's time limit);
3. worker → parent: the task's return value, or a :class:`Failure`.

A job whose answer does not arrive in time gets a :class:`Failure` and its worker is killed (SIGKILL)
and forgotten; the next job starts a fresh one. Workers are forked from a forkserver that has already
imported the checker (never a plain fork of a threaded parent).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import pickle
import resource
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import spawn
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["Failure", "Job", "WorkerPool", "in_worker", "shared_pool"]

READY = "ready"
_IN_WORKER = False


def in_worker() -> bool:
    """True inside a worker process (work there runs in-process: the parent holds the bound)."""
    return _IN_WORKER


@dataclass(frozen=True)
class Job:
    """One unit of work: ``task(pack, *args)`` (``pack`` None when ``pack_path`` is None)."""

    task: Callable[..., Any]
    payload: bytes  # pickle of the task's arguments
    pack_path: str | None = None
    pack_hash: str | None = None
    cases: int = 1  # counts towards the worker's recycling


@dataclass(frozen=True)
class Failure:
    """Why a job gave no answer: it ran out of time, its worker died, or it raised."""

    reason: str
    timed_out: bool = False


_LAUNCH = threading.Lock()


@contextlib.contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a child without re-running the parent's ``__main__`` in it.

    multiprocessing re-imports the parent's main script in every spawned/forkserver child (so
    that functions defined there unpickle). A worker needs only ``nesyflow``; re-running the main
    script costs an import of whatever it imports (pytest, streamlit) and fails outright for
    ``python -`` or ``python -c``. multiprocessing has no option for this, so the preparation data
    is filtered for the duration of one ``start()``, under a lock.
    """
    original = spawn.get_preparation_data

    def prepared(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _LAUNCH:
        spawn.get_preparation_data = prepared
        try:
            yield
        finally:
            spawn.get_preparation_data = original


class _Worker:
    def __init__(self, ctx: Any, memory_mb: int) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.process = ctx.Process(target=_serve, args=(child, memory_mb), daemon=True)
        with _without_main_module():
            self.process.start()
        child.close()
        self.cases = 0
        self.loaded: set[tuple[str | None, str | None]] = {(None, None)}  # what sends no READY

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(1)
        self.kill()


class WorkerPool:
    """Up to ``max_workers`` persistent workers, shared by every thread of the process.

    ``memory_mb``: address space a worker may add beyond what it had after start-up.
    ``recycle_after``: cases a worker checks before it is replaced by a fresh one.
    """

    def __init__(self, max_workers: int, memory_mb: int, recycle_after: int) -> None:
        self.max_workers = max(1, max_workers)
        self.memory_mb = memory_mb
        self.recycle_after = max(1, recycle_after)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["nesyflow.logic.checker"])
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()
        self.started = 0  # workers started so far (recycling and kills show here)
        self.killed = 0
        self._closed = False
        self.pid = os.getpid()

    def run(self, job: Job, timeout: float, load_timeout: float) -> Any:
        """The job's result, or a :class:`Failure`; never waits longer than the two limits."""
        worker = self._acquire()
        try:
            answer = self._exchange(worker, job, timeout, load_timeout)
        except BaseException:
            self._discard(worker)
            raise
        if isinstance(answer, Failure) and (answer.timed_out or not worker.process.is_alive()):
            self._discard(worker)
            self.killed += 1
            return answer
        worker.cases += job.cases
        self._release(worker)
        return answer

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    # --- internals -----------------------------------------------------------------------------

    def _exchange(self, worker: _Worker, job: Job, timeout: float, load_timeout: float) -> Any:
        key = (job.pack_path, job.pack_hash)
        phases = [("checking", timeout)]
        if key not in worker.loaded:
            phases.insert(0, ("loading the pack", load_timeout))
        try:
            worker.conn.send(job)
            for phase, limit in phases:
                if not worker.conn.poll(max(0.0, limit)):
                    what = "time limit reached" if phase == "checking" else "pack load timed out"
                    return Failure(
                        f"{what}: no answer within {limit:g} s while {phase} (the grounder "
                        "cannot be interrupted, so its process was stopped)",
                        timed_out=True,
                    )
                answer = worker.conn.recv()
                if phase == "loading the pack":
                    if answer != READY:
                        return answer  # a Failure while loading
                    worker.loaded.add(key)
            return answer
        except (EOFError, OSError):
            worker.process.join(1)
            code = worker.process.exitcode
            return Failure(
                f"the checker process died (exit code {code}); the memory limit is "
                f"{self.memory_mb} MB"
            )

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    self._busy += 1
                    return self._idle.pop()
                if self._busy < self.max_workers:
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            self.started += 1
            return _Worker(self._ctx, self.memory_mb)
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        if worker.cases >= self.recycle_after:
            self._discard(worker)
            return
        with self._cond:
            self._busy -= 1
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._busy -= 1
            self._cond.notify()


# --- the worker side ---------------------------------------------------------------------------


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the worker has now plus ``memory_mb`` (and no core dumps)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb <= 0:
        return
    size = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            size = int(line.split()[1]) * 1024
    if size:
        limit = size + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(conn: Connection, memory_mb: int) -> None:
    global _IN_WORKER
    _IN_WORKER = True
    os.environ["NESYFLOW_IN_WORKER"] = "1"
    _limit_memory(memory_mb)
    packs: dict[tuple[str, str], Any] = {}
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if job is None:
            return
        pack = None
        if job.pack_path is not None:
            key = (job.pack_path, job.pack_hash)
            pack = packs.get(key)
            if pack is None:
                try:
                    pack = packs[key] = _load(job)
                except Exception as exc:  # load problems, hash mismatch: an answer, not a crash
                    conn.send(Failure(str(exc)))
                    continue
                conn.send(READY)
        try:
            args = pickle.loads(job.payload)
            result = job.task(pack, *args)
        except MemoryError:
            result = Failure(f"memory limit reached ({memory_mb} MB)")
        except Exception as exc:
            result = Failure(f"the check raised {type(exc).__name__}: {exc}")
        conn.send(result)


def _load(job: Job) -> Any:
    """The job's pack, loaded from its folder, and only if its hash is the one the parent holds."""
    from nesyflow.logic.pack import load_pack

    assert job.pack_path is not None and job.pack_hash is not None
    pack = load_pack(job.pack_path)
    if pack.identity.hash != job.pack_hash:
        raise ValueError(
            f"the pack at {job.pack_path} changed on disk since it was loaded "
            f"(hash {job.pack_hash[:12]} → {pack.identity.hash[:12]}); load it again"
        )
    return pack


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool(max_workers: int, memory_mb: int, recycle_after: int) -> WorkerPool:
    """The process's pool (created on first use, closed at exit)."""
    global _POOL
    with _POOL_LOCK:
        # a process forked from this one (after the pool existed) must not share its workers' pipes
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = WorkerPool(max_workers, memory_mb, recycle_after)
            atexit.register(_POOL.close)
        return _POOL
