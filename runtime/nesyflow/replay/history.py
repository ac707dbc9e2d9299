"""The run's history as the rules see it: the calls proposed so far, each with its verdict and outcome.

Generic over domains: a call is a tool name and a JSON-like arguments dict; its result is whatever the
tool returned. A context builder (see :mod:`nesyflow.replay.domain`) reads this history to give the
rules cross-step facts ("the user was authenticated at step 0", "the order's items were modified at
step 4"); it never needs the conversation's text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CallVerdict", "ExecutedCall", "History", "ProposedCall"]

CallVerdict = Literal["allow", "deny", "review"]


@dataclass(frozen=True)
class ProposedCall:
    """A tool call the agent wants to make, before any check.

    ``confirmed`` is what the conversation says about the user's explicit consent to this call
    (``True`` = the user said yes, ``False`` = the user declined, ``None`` = not known); only the
    dialogue can tell, so rules that need it ask for a person when it is ``None``.
    """

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    confirmed: bool | None = None


@dataclass(frozen=True)
class ExecutedCall:
    """One call of the run, after its check: the verdict, and the tool's result or domain error.

    A call whose verdict is not ``allow`` did not run (``result`` and ``error`` are ``None``); a call
    that ran and was refused by the tool itself has ``error`` set. ``executed`` is true only for a
    call that ran and changed (or read) the state.
    """

    name: str
    arguments: Mapping[str, Any]
    verdict: CallVerdict
    result: Any = None
    error: str | None = None

    @property
    def executed(self) -> bool:
        return self.verdict == "allow" and self.error is None


@dataclass(frozen=True)
class History:
    """The calls of one run in order (immutable; :meth:`add` returns a longer history).

    ``principal`` is who was already authenticated when the run began (a user id established
    before the first recorded call, e.g. by a login in front of the agent), else ``None``.
    """

    calls: tuple[ExecutedCall, ...] = ()
    principal: str | None = None

    def add(self, call: ExecutedCall) -> History:
        return History((*self.calls, call), self.principal)

    def executed(self, name: str | None = None) -> Iterator[tuple[int, ExecutedCall]]:
        """(index, call) for each call that ran without error, optionally only those named ``name``."""
        for index, call in enumerate(self.calls):
            if call.executed and (name is None or call.name == name):
                yield index, call

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[ExecutedCall]:
        return iter(self.calls)
