"""The typed values the store reads and writes.

Records are frozen pydantic models: they are what the engine, the review queue, the CLI and the
console pass around, so none of them touches a SQL row or a nested string-keyed dict of unknown shape.
``*Draft`` values are what a caller hands in; the store adds ids and times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nesyflow.logic.result import Reason, Verdict

__all__ = [
    "Action",
    "Decision",
    "DecisionDraft",
    "Effect",
    "Lease",
    "NodeState",
    "Page",
    "ReviewDraft",
    "ReviewRecord",
    "ReviewStatus",
    "Run",
    "RunStatus",
    "Step",
    "StepDraft",
    "ToolRecord",
    "User",
    "with_nodes",
]


class RunStatus(StrEnum):
    RUNNING = "running"
    WAITING_REVIEW = "waiting_review"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.REJECTED, RunStatus.FAILED)


class ReviewStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Action(StrEnum):
    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Run(_Record):
    """One execution of a workflow. ``state`` is the checkpoint the engine resumes from;
    ``version`` increases with every checkpoint (optimistic lock against two resumers)."""

    id: str
    workflow: str
    workflow_ref: str | None = None
    status: RunStatus
    input: Any = None
    state: dict[str, Any] = Field(default_factory=dict)
    current_node: str | None = None
    version: int = 0
    error: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    # who submitted it (the signed-in starter, the input's submitter): they never decide its reviews
    submitted_by: tuple[str, ...] = ()

    @field_validator("submitted_by", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return () if value is None else value


@dataclass(frozen=True, slots=True)
class NodeState:
    """What one node has left in its run's state: how often it ran and, once it produced one, its
    output, derived values and verdict. A checkpoint writes the nodes its step changed (one, for a
    step that finished a node) instead of the whole state; :func:`with_nodes` puts them back.

    A dataclass, not a pydantic record: one is built per checkpoint on the hot path, and every
    value in it is already plain JSON data the engine made."""

    node: str
    ord: int  # the order the run first entered the node: the state's dicts keep that order
    visits: int
    output: Any = None
    derived: dict[str, Any] | None = None  # None: no derived values recorded for the node
    verdict: str | None = None  # None: entered but no output yet (``output`` is then unused)


# The four per-node parts of a run's state (``RunState``'s fields of the same names).
_NODE_PARTS = ("outputs", "derived", "verdicts", "visits")


def with_nodes(state: dict[str, Any], nodes: Iterable[NodeState]) -> dict[str, Any]:
    """The run's whole state: its position (as ``runs.state`` keeps it) with the per-node values
    put back in the order the run first entered the nodes. A state written before per-node rows
    existed carries these dicts itself; rows overlay them (they are newer). With no rows the state
    is returned as it is (the store does not otherwise look inside a state)."""
    nodes = list(nodes)
    whole = dict(state)
    if not nodes:
        return whole
    parts: dict[str, dict[str, Any]] = {k: dict(state.get(k) or {}) for k in _NODE_PARTS}
    for n in sorted(nodes, key=lambda n: n.ord):
        parts["visits"][n.node] = n.visits
        if n.verdict is not None:
            parts["outputs"][n.node] = n.output
            parts["verdicts"][n.node] = n.verdict
        if n.derived is not None:
            parts["derived"][n.node] = n.derived
    whole.update(parts)
    return whole


class StepDraft(_Record):
    """One step of the trace as the engine reports it (an attempt of a node visit, a tool call, a
    check, a decision applied). Everything a person needs to see later to know why."""

    node: str
    visit: int = 1
    attempt: int = 1
    kind: str
    inputs: Any = None
    prompt: Any = None
    raw_output: str | None = None
    output: Any = None
    facts: str | None = None
    check: Any = None
    verdict: Verdict | None = None
    model_ms: float = 0.0
    rules_ms: float = 0.0
    tool_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    model: str | None = None
    packs: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None


class Step(StepDraft):
    """A stored step: ``seq`` is its 1-based place in the run; ``store_ms`` the checkpoint's cost."""

    id: str
    run_id: str
    seq: int
    store_ms: float = 0.0
    created_at: dt.datetime

    @property
    def pack(self) -> str:
        """The packs that checked this step, as people read them (``name@version#hash``)."""
        return ", ".join(
            f"{p['name']}@{p['version']}#{str(p.get('hash', ''))[:12]}" for p in self.packs
        )


class ReviewDraft(_Record):
    """What a person must decide: the held output (or proposed tool arguments), the verdict with
    its reasons, and the exact rules (pack identities, facts hash) the verdict came from."""

    id: str | None = (
        None  # chosen by the caller when the run's state must name it in the same commit
    )
    node: str
    visit: int = 1
    kind: str = "output"
    verdict: Verdict
    # typed; rows written as plain dicts by earlier versions read back as the same Reasons
    reasons: tuple[Reason, ...] = ()
    question: str = ""
    output: Any = None
    packs: list[dict[str, Any]] = Field(default_factory=list)
    facts_hash: str = ""
    # the least role that may decide it (the node's ``review.role``, its rules' ``role``)
    required_role: str | None = None
    # who should decide it and by when (the node's ``review:``); the store turns the seconds
    # into ``due_at`` from the time it records the review
    assigned_group: str | None = None
    deadline_seconds: int | None = Field(default=None, exclude=True)
    on_expiry: dict[str, str] | None = None


class ReviewRecord(ReviewDraft):
    id: str  # type: ignore[assignment]
    run_id: str
    step_id: str | None
    workflow: str
    status: ReviewStatus
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    action: Action | None = None
    decided_by: str | None = None
    assigned_to: str | None = None  # a person it was reassigned to
    due_at: dt.datetime | None = None

    def overdue(self, at: dt.datetime | None = None) -> bool:
        at = at or dt.datetime.now(dt.UTC)
        return self.status is ReviewStatus.OPEN and self.due_at is not None and self.due_at <= at

    @property
    def rules(self) -> list[str]:
        return [r.rule for r in self.reasons if r.rule]


class DecisionDraft(_Record):
    action: Action
    who: str
    comment: str | None = None
    output: Any = None
    check: Any = None
    # Values a person set in place of what the rules derive (e.g. the amount to pay), by derived key.
    overrides: dict[str, Any] | None = None


class Decision(DecisionDraft):
    """An append-only record of what a person decided; the one per review that won."""

    id: str
    review_id: str
    at: dt.datetime


class Effect(_Record):
    """A tool side effect by idempotency key: ``pending`` once the call was about to run, ``done``
    with its result once recorded together with the step that made it."""

    key: str
    run_id: str
    node: str
    visit: int
    status: str
    args: Any = None
    result: Any = None
    created_at: dt.datetime
    completed_at: dt.datetime | None = None


class Lease(_Record):
    """Who drives a run now: one process at a time (``holder`` names it: host, pid, a token), until
    ``expires_at`` unless it renews (every checkpoint renews). An expired lease, or one whose holder
    process on this host has ended, may be taken over."""

    run_id: str
    holder: str
    expires_at: dt.datetime
    acquired_at: dt.datetime


class ToolRecord(_Record):
    """What a tool keeps in the store as its side effect (a payment in the ledger), written once
    under the call's idempotency key: a second write with the key returns the first record."""

    key: str
    run_id: str
    kind: str
    data: Any = None
    created_at: dt.datetime


class User(_Record):
    """An account: who a person is to the store and which roles they hold (``nesyflow.roles``).

    ``has_password``: the account can sign in with a password (else only through the trusted
    reverse proxy). The password's hash never leaves the store's accounts module."""

    name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    has_password: bool = False
    created_at: dt.datetime


T = TypeVar("T")


class Page(_Record, Generic[T]):
    """One page of a query: the rows, the total count matching the filters, and where it is."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))
