"""The store contract: what the engine and the review queue need from persistence, and its errors.

A small abstract class (like LangGraph's checkpoint savers) so that a second implementation can be
added and held to the same conformance tests (``tests/store/test_store.py``). The one implementation
today is :class:`~nesyflow.store.sql.SqlStore` (SQLite file, SQLite in memory, PostgreSQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from nesyflow.errors import NesyflowError
from nesyflow.store.records import (
    Decision,
    DecisionDraft,
    Effect,
    ReviewDraft,
    ReviewRecord,
    Run,
    RunStatus,
    Step,
    StepDraft,
)

__all__ = [
    "AlreadyDecided",
    "Checkpoint",
    "Conflict",
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


@dataclass(frozen=True)
class Checkpoint:
    """What one checkpoint wrote: the run as it now is, and the step / review it added."""

    run: Run
    step: Step | None
    review: ReviewRecord | None


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
    ) -> Run:
        """A new run in status ``running``; with ``run_id`` given and taken, raises Conflict."""

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
    ) -> Checkpoint:
        """Move the run on atomically. ``expect_version`` is the version the caller read; if the
        run has moved since, nothing is written and :class:`Conflict` is raised. ``effect`` =
        (idempotency key, result) marks that tool effect done in the same transaction."""

    @abstractmethod
    def begin_effect(self, key: str, run_id: str, node: str, visit: int, args: Any) -> Effect:
        """Record that a tool call with this key is about to run (or return the existing record:
        ``done`` → use its result, do not call; ``pending`` → a call may have happened, call again
        with the same key so the tool can recognise it)."""

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
        """Record a decision if the review is still open (exactly one wins); raises
        :class:`AlreadyDecided` for the loser and :class:`NotFound` for an unknown review."""

    @abstractmethod
    def decision_for(self, review_id: str) -> Decision | None: ...

    @abstractmethod
    def mark_run(
        self, run_id: str, *, expect_version: int, status: RunStatus, error: str | None = None
    ) -> Run:
        """Set a run's status without a step (a rejection decided from the queue, a failure)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
