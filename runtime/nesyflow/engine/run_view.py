"""What a tool sees of its own run while it runs: its idempotency key and a read-only view.

Both are set by :func:`call_tool` for the duration of one call (context variables), so a tool deep
in a call stack reads them without the engine passing them through its own arguments.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

__all__ = [
    "RunView",
    "call_tool",
    "current_run",
    "current_store",
    "effect_key",
    "idempotency_key",
]


def effect_key(run_id: str, node: str, visit: int) -> str:
    """The idempotency key of a tool call: the same for every attempt and every process."""
    return f"{run_id}:{node}:{visit}"


_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "nesyflow_effect_key", default=None
)


def idempotency_key() -> str | None:
    """Inside a tool call: the call's idempotency key (run:node:visit), else ``None``.

    A tool with an external side effect passes it on (as an ``Idempotency-Key`` header, a unique
    column, a file marker) so that a call repeated after a crash is recognised and not done twice.
    """
    return _KEY.get()


@dataclass(frozen=True)
class RunView:
    """What a tool may read of its own run while it runs: the checkpointed state, as JSON copies.

    ``outputs`` / ``derived`` / ``verdicts`` are the latest of each node (on a cycle, the previous
    visit's until the node runs again), ``visits`` how often each node has run, ``approved`` whether
    the arguments are a person's approval (or edit) of a call the rules did not allow. It is the
    state the run was checkpointed in, so a call made again after a crash or on resume sees exactly
    what the first attempt saw. Data paths (``input:``) stay the way to give a tool its arguments;
    this is for what a data path cannot name, e.g. a node's output that does not exist yet on the
    first pass through a cycle (a conversation's history carried by the loop).
    """

    run_id: str
    workflow: str
    node: str
    visit: int
    input: Any
    outputs: Mapping[str, Any]
    derived: Mapping[str, Mapping[str, Any]]
    verdicts: Mapping[str, str]
    visits: Mapping[str, int]
    approved: bool = False
    # values a person set in place of the rules' on a decision (node → key → value)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # findings a person decided over in this run (:func:`nesyflow.engine.decided.reason_key`)
    accepted: tuple[str, ...] = ()


_RUN: contextvars.ContextVar[RunView | None] = contextvars.ContextVar(
    "nesyflow_run_view", default=None
)


def current_run() -> RunView | None:
    """Inside a tool call: the :class:`RunView` of the run making it, else ``None``."""
    return _RUN.get()


_STORE: contextvars.ContextVar[Any] = contextvars.ContextVar("nesyflow_tool_store", default=None)


def current_store() -> Any:
    """Inside a tool call: the store of the run making it (for :func:`nesyflow.engine.record_once`
    and reading what earlier calls kept there), else ``None``."""
    return _STORE.get()


def call_tool(
    tool: Any, args: BaseModel, key: str, view: RunView | None = None, store: Any = None
) -> Any:
    """Call the tool with its argument model, with :func:`idempotency_key`,
    :func:`current_run` and :func:`current_store` set for the call."""
    token = _KEY.set(key)
    run_token = _RUN.set(view)
    store_token = _STORE.set(store)
    try:
        return tool(args)
    finally:
        _STORE.reset(store_token)
        _RUN.reset(run_token)
        _KEY.reset(token)
