"""A domain: its tools (with argument models), how to start a fresh state, and its context builder.

The context builder is the bridge from a run to the rules: ``build_context(state, history, call)``
returns an instance of the pack's context model holding, as plain data, what the rules need to judge
``call`` — the touched records of the current state and what the history says was done so far. The
checker encodes it with the ordinary fact encoding, so a cross-step rule is an ordinary rule over
ordinary facts. Only the touched records go in (a user, an order, a few product variants), never the
whole database: the cost of a check stays independent of the database's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

from nesyflow.errors import InputError, NesyflowError
from nesyflow.replay.history import History, ProposedCall

__all__ = [
    "ContextBuilder",
    "Domain",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "load_domain",
]


class ToolError(NesyflowError):
    """A tool refused a call on the domain's own terms (order not pending, balance too low, ...).

    Tools validate their preconditions themselves even when a rule check ran before them: a tool
    never trusts that the check happened (defence in depth).
    """

    code = "tool_error"


@runtime_checkable
class ContextBuilder(Protocol):
    """Turns the state, the history and a proposed call into the pack's context model."""

    def __call__(self, state: Any, history: History, call: ProposedCall) -> BaseModel | Mapping: ...


@dataclass(frozen=True)
class Tool:
    """A callable ``fn(state, args) -> result`` with the pydantic model of its arguments."""

    name: str
    fn: Callable[[Any, BaseModel], Any]
    args: type[BaseModel]
    writes: bool = False
    description: str = ""

    def parse(self, arguments: Mapping[str, Any]) -> BaseModel:
        """The validated argument model (raises :class:`pydantic.ValidationError`)."""
        return self.args.model_validate(dict(arguments))

    def run(self, state: Any, arguments: Mapping[str, Any] | BaseModel) -> Any:
        args = arguments if isinstance(arguments, self.args) else self.parse(arguments)  # type: ignore[arg-type]
        return self.fn(state, args)


@dataclass(frozen=True)
class ToolRegistry:
    """Tools by name."""

    tools: Mapping[str, Tool]

    @classmethod
    def of(cls, *tools: Tool) -> ToolRegistry:
        return cls({t.name: t for t in tools})

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __iter__(self) -> Iterator[str]:
        return iter(self.tools)

    def names(self) -> list[str]:
        return sorted(self.tools)

    def problems(self, name: str, arguments: Any) -> list[tuple[str, str]]:
        """(field path, message) for each thing wrong with a call; empty when it validates."""
        if name not in self.tools:
            return [("name", f"unknown tool {name!r} (known: {', '.join(self.names())})")]
        if not isinstance(arguments, Mapping):
            return [("arguments", f"expected an object, got {type(arguments).__name__}")]
        try:
            self.tools[name].parse(arguments)
        except ValidationError as exc:
            return [
                (
                    ".".join(["arguments", *(str(p) for p in e.get("loc", ()))]),
                    str(e.get("msg")),
                )
                for e in exc.errors()
            ]
        return []


@dataclass(frozen=True)
class Domain:
    """Everything the replay (and the engine's tool nodes) need to run a domain's tool calls.

    ``new_state(path)`` gives a fresh, private state (``path`` = a database file, ``None`` = the
    domain's default data); ``build_context`` is the :class:`ContextBuilder`; ``build_input`` turns
    a proposed call into the pack's input instance (default: ``{"name": ..., **arguments}``).
    """

    name: str
    tools: ToolRegistry
    new_state: Callable[[Path | None], Any]
    build_context: ContextBuilder
    build_input: Callable[[ProposedCall], Any] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def input_for(self, call: ProposedCall) -> Any:
        if self.build_input is not None:
            return self.build_input(call)
        return {"name": call.name, **dict(call.arguments)}


def load_domain(ref: str, base: Path) -> Domain:
    """The :class:`Domain` named by ``"path/to/module.py:NAME"`` (relative to ``base``)."""
    from nesyflow._imports import resolve_object

    obj = resolve_object(ref, base)
    if callable(obj) and not isinstance(obj, Domain):
        obj = obj()
    if not isinstance(obj, Domain):
        raise InputError(f"{ref}: is a {type(obj).__name__}, not a nesyflow.replay.Domain")
    return obj
