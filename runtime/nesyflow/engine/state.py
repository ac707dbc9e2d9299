"""The checkpoint: everything the engine needs to continue a run, as plain JSON.

A run is resumable from this value alone (plus the workflow): which node comes next, how often each
node ran, the outputs / derived values / verdicts later nodes read, the in-flight node's attempt and
conversation (so a reask continues at the right attempt), and the review the run waits on.

Stored in two parts so a checkpoint writes what its step changed, not the whole state: the
*position* (:meth:`RunState.position`: next node, cursor, pending review, accepted findings,
overrides) in ``runs.state``, and each node's visits / output / derived values / verdict
(:meth:`RunState.node_state`) in its own ``run_nodes`` row. The store puts them back together
(``nesyflow.store.records.with_nodes``) when a run is read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from nesyflow.engine.governance import Classes
from nesyflow.logic.result import Verdict
from nesyflow.store.records import NodeState
from nesyflow.telemetry import SpanRef

__all__ = ["Cursor", "Pending", "RunState", "RunTrace", "jsonable"]


def jsonable(value: Any) -> Any:
    """Plain JSON data for a model instance, a Decimal, a date… (what the store keeps)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return to_jsonable_python(value, fallback=str)


class Cursor(BaseModel):
    """Where the run is inside a node visit."""

    node: str
    visit: int
    attempt: int = 1
    messages: list[dict[str, Any]] = Field(default_factory=list)
    approved: Any = None  # tool arguments a person approved: run them without re-checking
    approved_set: bool = False


class Pending(BaseModel):
    """The review a paused run waits on."""

    review_id: str
    node: str
    visit: int
    kind: str


class RunTrace(BaseModel):
    """The run's OpenTelemetry trace (kept only while traces are on): its root span, the parent of
    every later segment, and the span of the segment that ran last, which the next one links to."""

    root: SpanRef
    last: SpanRef | None = None


class RunState(BaseModel):
    next_node: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)
    derived: dict[str, dict[str, Any]] = Field(default_factory=dict)
    verdicts: dict[str, Verdict] = Field(default_factory=dict)
    visits: dict[str, int] = Field(default_factory=dict)
    cursor: Cursor | None = None
    pending: Pending | None = None
    # Findings a person decided over in this run (approved, or kept in an edit), as reason keys:
    # a later tool gate that finds only these again lets the call go ahead instead of asking the
    # same person the same question twice; anything new still stops it.
    accepted: list[str] = Field(default_factory=list)
    # Values a person set at a review in place of the rules' derived ones, by node (the decision
    # records them too); a tool reads them through ``RunView.overrides``.
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    trace: RunTrace | None = None
    # What is sensitive and what must be kept, as the workflow declared it when the run started
    # (nesyflow.engine.governance): masking, redaction and retention read it from here.
    classes: Classes = Field(default_factory=Classes)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def position(self) -> dict[str, Any]:
        """The state without its per-node values: what ``runs.state`` keeps (its size does not
        grow with the number of nodes the run has passed)."""
        return self.model_dump(mode="json", exclude=_PER_NODE)

    def node_state(self, node: str, ord: int) -> NodeState:
        """What ``node`` has left in this state (its ``run_nodes`` row)."""
        verdict = self.verdicts.get(node)
        derived = self.derived.get(node)
        return NodeState(
            node=node,
            ord=ord,
            visits=self.visits.get(node, 0),
            output=jsonable(self.outputs.get(node)) if verdict is not None else None,
            derived=None if derived is None else jsonable(derived),
            verdict=None if verdict is None else Verdict(verdict).value,
        )

    def nodes(self) -> list[str]:
        """Every node this state holds a value for, in the order the run first entered them."""
        seen = dict.fromkeys(self.visits)
        for part in (self.outputs, self.verdicts, self.derived):
            seen.update(dict.fromkeys(part))
        return list(seen)


# RunState's per-node fields: kept in run_nodes rows, not in runs.state.
_PER_NODE = {"outputs", "derived", "verdicts", "visits"}
