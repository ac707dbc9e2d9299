"""Replay: run sequences of tool calls through a pack and a domain, each from a fresh state.

Each action is checked against the state as it evolves; an allowed action is executed by its tool
(which may still refuse it with a :class:`~nesyflow.replay.domain.ToolError`), a denied or reviewed
one is not (there is no person to ask during a replay). Every action, whatever its verdict, is added
to the history the later checks see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nesyflow.errors import InputError, Location
from nesyflow.logic import Pack
from nesyflow.replay.domain import Domain, ToolError
from nesyflow.replay.history import CallVerdict, ExecutedCall, History, ProposedCall
from nesyflow.replay.toolcheck import CallCheck, Reason, check_call

__all__ = [
    "ActionOutcome",
    "ActionSequence",
    "read_sequences",
    "replay",
    "replay_sequence",
]


@dataclass(frozen=True)
class ActionSequence:
    """One conversation's tool calls. ``authenticated_user`` = who was authenticated before the
    first action (``None``: nobody); ``line`` = where the sequence starts in its file."""

    actions: tuple[ProposedCall, ...]
    authenticated_user: str | None = None
    line: int = 0
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionOutcome:
    sequence: int
    index: int
    name: str
    verdict: CallVerdict
    reasons: tuple[Reason, ...]
    error: str | None = None  # the tool refused an allowed call
    check: CallCheck | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sequence": self.sequence,
            "index": self.index,
            "name": self.name,
            "verdict": self.verdict,
            "reasons": [{"rule": r.rule or r.kind, "message": r.message} for r in self.reasons],
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def replay_sequence(
    pack: Pack,
    domain: Domain,
    sequence: ActionSequence,
    state: Any,
    *,
    number: int = 0,
    timeout: float | None = None,
) -> Iterator[ActionOutcome]:
    """Check and (when allowed) execute each action of ``sequence`` on ``state``, in order."""
    history = History(principal=sequence.authenticated_user)
    for index, call in enumerate(sequence.actions):
        checked = check_call(pack, domain, state, history, call, timeout=timeout)
        result: Any = None
        error: str | None = None
        if checked.verdict == "allow":
            try:
                result = domain.tools[call.name].run(state, call.arguments)
            except ToolError as exc:
                error = exc.message
        history = history.add(
            ExecutedCall(call.name, call.arguments, checked.verdict, result, error)
        )
        yield ActionOutcome(
            number, index, call.name, checked.verdict, checked.reasons, error, checked
        )


def replay(
    pack: Pack,
    domain: Domain,
    sequences: Iterable[ActionSequence],
    db: Path | None = None,
    *,
    timeout: float | None = None,
) -> Iterator[ActionOutcome]:
    """Replay every sequence, each from a fresh copy of the domain's state (``db`` or its default)."""
    for number, sequence in enumerate(sequences):
        yield from replay_sequence(
            pack, domain, sequence, domain.new_state(db), number=number, timeout=timeout
        )


# ---- reading actions files ------------------------------------------------------------------------


def _problem(file: Path, line: int, message: str) -> InputError:
    return InputError(message, location=Location(str(file), line))


def _sequence(
    data: Any, file: Path, line: int, domain: Domain | None, where: str
) -> ActionSequence:
    if not isinstance(data, dict):
        raise _problem(file, line, f"{where}expected a JSON object, got {type(data).__name__}")
    unknown = set(data) - {"actions", "authenticated_user", "meta", "id"}
    if unknown:
        raise _problem(file, line, f"{where}field {sorted(unknown)[0]}: unknown field")
    actions = data.get("actions")
    if not isinstance(actions, list):
        raise _problem(file, line, f"{where}field actions: expected a list of actions")
    user = data.get("authenticated_user")
    if user is not None and not isinstance(user, str):
        raise _problem(file, line, f"{where}field authenticated_user: expected a user id string")
    calls = []
    for i, action in enumerate(actions):
        at = f"{where}field actions[{i}]"
        if not isinstance(action, dict):
            raise _problem(file, line, f"{at}: expected an object with name and arguments")
        extra = set(action) - {"name", "arguments", "confirmed", "action_id", "info"}
        if extra:
            raise _problem(file, line, f"{at}.{sorted(extra)[0]}: unknown field")
        name = action.get("name")
        if not isinstance(name, str):
            raise _problem(file, line, f"{at}.name: expected a tool name")
        arguments = action.get("arguments", {})
        confirmed = action.get("confirmed")
        if confirmed is not None and not isinstance(confirmed, bool):
            raise _problem(file, line, f"{at}.confirmed: expected true or false")
        if domain is not None:
            for path, message in domain.tools.problems(name, arguments):
                raise _problem(file, line, f"{at}.{path}: {message}")
        calls.append(ProposedCall(name, dict(arguments or {}), confirmed))
    meta = data.get("meta") or {}
    if "id" in data:
        meta = {**meta, "id": data["id"]}
    return ActionSequence(tuple(calls), user, line, meta)


def read_sequences(path: Path, domain: Domain | None = None) -> list[ActionSequence]:
    """The sequences in ``path``: one JSON object (may span lines) or JSONL, one sequence a line.

    Raises :class:`InputError` naming the file, the line and the field of the first problem; with a
    ``domain``, tool names and arguments are validated against its tools too.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc
    if not text.strip():
        raise _problem(path, 0, "the file is empty")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        first = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip())
        return [_sequence(whole, path, first, domain, "")]
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON ({exc.msg})", location=Location(str(path), number, exc.colno)
            ) from exc
        out.append(_sequence(data, path, number, domain, ""))
    return out
