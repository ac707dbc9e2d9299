"""The store contract: what the engine and the review queue need from persistence, and its errors.

A small abstract class (like LangGraph's checkpoint savers) so that a second implementation can be
added and held to the same conformance tests (``tests/store/test_store.py``). The one implementation
today is :class:`~nesyflow.store.sql.SqlStore` (SQLite file, SQLite in memory, PostgreSQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nesyflow.errors import NesyflowError
from nesyflow.store.audit import AuditEntry
from nesyflow.store.audit_verify import AuditReport
from nesyflow.store.records import (
    Decision,
    DecisionDraft,
    Effect,
    Lease,
    NodeState,
    ReviewDraft,
    ReviewRecord,
    Run,
    RunStatus,
    Step,
    StepDraft,
    ToolRecord,
)

__all__ = [
    "AlreadyDecided",
    "Checkpoint",
    "Conflict",
    "DuplicateRequest",
    "LeaseHeld",
    "NotFound",
    "Store",
    "StoreError",
]


class StoreError(NesyflowError):
    code = "store_error"


class NotFound(StoreError):
    code = "not_found"


class Conflict(StoreError):
    """Someone else moved the run on first (another process resumed it); re-read and retry."""

    code = "conflict"


class AlreadyDecided(Conflict):
    """The review was decided by someone else first; nothing of this decision was recorded."""

    code = "already_decided"


class LeaseHeld(Conflict):
    """Another process drives this run (it holds the run's lease); nothing was done. Try again once
    that process has finished or its lease has expired (``details``: holder, expires_at)."""

    code = "lease_held"


class DuplicateRequest(Conflict):
    """This request id was already submitted (``details['run_id']`` is its run)."""

    code = "duplicate_request"


@dataclass(frozen=True)
class Checkpoint:
    """What one checkpoint wrote: the run as it now is, and the steps / review it added.

    ``run.state`` is the state as the run row keeps it: the position the caller passed, without
    the per-node values written as ``nodes`` (rebuilding the whole state per checkpoint is the
    cost the per-node layout removes); :meth:`Store.get_run` returns the whole state. ``steps``
    are every step it wrote, in order (a superstep writes several); ``step`` is the last."""

    run: Run
    step: Step | None
    review: ReviewRecord | None
    steps: tuple[Step, ...] = ()


class Store(ABC):
    """Durable runs. Every write is one transaction; ``checkpoint`` is the engine's only way to move a
    run on, and it writes the step, the run's new state, the tool effect's result and the review
    together or not at all."""

    url: str

    @abstractmethod
    def create_run(
        self,
        workflow: str,
        input: Any,
        *,
        workflow_ref: str | None = None,
        run_id: str | None = None,
        state: dict[str, Any] | None = None,
        current_node: str | None = None,
        request_id: str | None = None,
        input_hash: str = "",
        submitted_by: tuple[str, ...] = (),
        lease: str | None = None,
    ) -> Run:
        """A new run in status ``running``; with ``run_id`` given and taken, raises Conflict.

        ``request_id`` (the caller's id for this request) names at most one run per workflow, in
        the same transaction: if it was used before, nothing is written and
        :class:`DuplicateRequest` names the existing run. With ``lease`` (a holder), the run's
        lease is taken for that holder in the same transaction: the driver that creates a run
        drives it without a second round trip to take the lease and read the run back."""

    @abstractmethod
    def find_request(self, workflow: str, request_id: str) -> tuple[str, str] | None:
        """(run id, input hash) of the run started for this request id, if any."""

    @abstractmethod
    def find_run(self, run_id: str) -> Run | None: ...

    def get_run(self, run_id: str) -> Run:
        run = self.find_run(run_id)
        if run is None:
            raise NotFound(f"no run {run_id}")
        return run

    @abstractmethod
    def checkpoint(
        self,
        run_id: str,
        *,
        expect_version: int,
        state: dict[str, Any],
        current_node: str | None,
        status: RunStatus,
        step: StepDraft | None = None,
        review: ReviewDraft | None = None,
        effect: tuple[str, Any] | None = None,
        error: str | None = None,
        lease: str | None = None,
        nodes: Sequence[NodeState] = (),
        steps: Sequence[StepDraft] = (),
        release: bool = False,
    ) -> Checkpoint:
        """Move the run on atomically. ``state`` is the run's position (the whole state for a
        caller that passes no ``nodes``); ``nodes`` are the per-node values this step changed,
        each replacing that node's earlier ones — :meth:`find_run` hands back ``state`` with every
        node's values put back (:func:`~nesyflow.store.records.with_nodes`).
        ``expect_version`` is the version the caller read; if the
        run has moved since, nothing is written and :class:`Conflict` is raised. ``effect`` =
        (idempotency key, result) marks that tool effect done in the same transaction. With
        ``lease`` (the holder), the lease must still be this holder's (else :class:`LeaseHeld`,
        nothing written) and is renewed in the same transaction — or, with ``release`` (the
        checkpoint that finishes the run), given up in it, so ending a run costs no transaction of
        its own. ``steps`` are steps written
        before ``step``, in order, with consecutive seqs (a superstep's held steps: all of them
        or none); a ``review`` belongs to the last step written."""

    @abstractmethod
    def begin_effect(
        self, key: str, run_id: str, node: str, visit: int, args: Any, *, lease: str | None = None
    ) -> Effect:
        """Record that a tool call with this key is about to run (or return the existing record:
        ``done`` → use its result, do not call; ``pending`` → a call may have happened, call again
        with the same key so the tool can recognise it). With ``lease``, only while that holder
        holds the run's lease (else :class:`LeaseHeld`): a driver that lost its run never enters
        a tool."""

    # -- leases: one driver per run ---------------------------------------------------------
    @abstractmethod
    def acquire_lease(self, run_id: str, holder: str, seconds: float | None = None) -> Lease:
        """Take the run's lease for ``holder`` (or renew it if it already holds it). Free, expired
        or held by a process of this host that has ended → taken; else :class:`LeaseHeld`."""

    @abstractmethod
    def release_lease(self, run_id: str, holder: str) -> None:
        """Give the lease up if ``holder`` holds it (a no-op otherwise)."""

    @abstractmethod
    def get_lease(self, run_id: str) -> Lease | None: ...

    # -- tools' own records (their side effects kept in the store) --------------------------
    @abstractmethod
    def record_once(self, key: str, run_id: str, kind: str, data: Any) -> tuple[ToolRecord, bool]:
        """Keep ``data`` under ``key`` unless the key already has a record; returns the record
        that is stored (the first one) and whether this call wrote it."""

    @abstractmethod
    def tool_records(self, kind: str, *, run_id: str | None = None) -> list[ToolRecord]:
        """The records of one kind (all runs, or one run's), oldest first."""

    @abstractmethod
    def get_effect(self, key: str) -> Effect | None: ...

    @abstractmethod
    def steps(self, run_id: str) -> list[Step]:
        """The run's trace in order."""

    @abstractmethod
    def get_step(self, step_id: str) -> Step: ...

    @abstractmethod
    def get_review(self, review_id: str) -> ReviewRecord: ...

    @abstractmethod
    def reviews_for_run(self, run_id: str) -> list[ReviewRecord]: ...

    @abstractmethod
    def decide(self, review_id: str, decision: DecisionDraft) -> Decision:
        """Record a decision if the review is still open (exactly one wins), with its entry in
        the decision log in the same transaction; raises
        :class:`AlreadyDecided` for the loser and :class:`NotFound` for an unknown review."""

    @abstractmethod
    def decision_for(self, review_id: str) -> Decision | None: ...

    @abstractmethod
    def mark_run(
        self, run_id: str, *, expect_version: int, status: RunStatus, error: str | None = None
    ) -> Run:
        """Set a run's status without a step (a rejection decided from the queue, a failure)."""

    # -- the decision log (store/audit.py) --------------------------------------------------
    @abstractmethod
    def append_audit(
        self,
        kind: str,
        who: str,
        data: dict[str, Any],
        *,
        run_id: str | None = None,
        review_id: str | None = None,
        ref: str | None = None,
    ) -> AuditEntry:
        """Append an entry for something a person did to a run that is not a decision (a
        resume; ``decide`` appends its own entry in its own transaction)."""

    @abstractmethod
    def audit_entries(self, *, run_id: str | None = None) -> list[AuditEntry]:
        """The log in order (one run's entries, or all)."""

    @abstractmethod
    def verify_audit(self, *, head: tuple[int, str] | None = None) -> AuditReport:
        """Check the chain and the decisions against it (see ``store/audit_verify.py``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
