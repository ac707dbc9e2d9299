"""A file-backed model: ``NESYFLOW_MODEL=replay:FILE.jsonl`` answers every call with the next line.

Tests and demos script a whole run from the command line with it, no code::

    NESYFLOW_MODEL=replay:claims.jsonl nesyflow run agents/expense/workflow.yaml --input req.json

* **One raw reply per line**, used verbatim (a line need not be valid JSON: that is how a parse
  failure is scripted; an empty line is an empty reply). Each *attempt* takes a line — a parse retry
  inside one call, and a reask after a failed check, each take the next one.
* **It is a real provider.** ``replay`` is a litellm custom provider (like ``local``), so the call
  goes through instructor and litellm as any model's would: parsing, parse retries, the engine's
  reasks and the ``LLMCall`` accounting all run for real (tokens and cost are 0).
* **Consumed in order, across processes.** A run that waits for a review and resumes in another
  process continues with the next line, not the first: the number of lines used is kept in a cursor
  file beside the replay file (``FILE.jsonl.cursor``), read and advanced under a file lock, so
  processes that call at once never get the same line. The cursor belongs to one version of the
  file: editing the file (a different SHA-256) starts it over; so does deleting the cursor.
* **Running out is an error**, :class:`ReplayExhausted` (an ``LLMCallError``) naming the file and the
  count — the engine records it as a step whose model answer could not be used (reasked, then a
  person), never a crash and never a pass. A missing or unreadable file is :class:`ReplayError`.

The path is taken relative to the working directory of the process that makes the call. A line is
used once handed out: a step interrupted by a crash after its call re-runs on the next line.

**What it received.** With ``$NESYFLOW_REPLAY_RECORD=FILE``, every call's messages, exactly as
litellm handed them to the provider, are appended to FILE (one JSON list a line): the tests of
"no sensitive value reaches a remote model" read what the model was really sent.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nesyflow.llm.errors import LLMCallError

__all__ = [
    "RECORD_ENV_VAR",
    "REPLAY_PREFIX",
    "REPLAY_PROVIDER",
    "ReplayError",
    "ReplayExhausted",
    "ReplayReply",
    "is_replay",
    "litellm_model",
    "next_reply",
    "register_replay_provider",
    "replay_path",
]

REPLAY_PROVIDER = "replay"
REPLAY_PREFIX = "replay:"
_register_lock = threading.Lock()
_thread_lock = threading.Lock()  # filelock is per process; threads of one process queue here too


class ReplayError(LLMCallError):
    """The replay file named by ``replay:FILE`` cannot be used (missing, unreadable, not UTF-8)."""

    code = "replay_error"


class ReplayExhausted(ReplayError):
    """Every line of the replay file has been used."""

    code = "replay_exhausted"


@dataclass(frozen=True)
class ReplayReply:
    """One line handed out: its text and where it came from (``line`` is 1-based)."""

    path: Path
    line: int
    text: str


def is_replay(model: str) -> bool:
    """True for a ``replay:FILE`` model string."""
    return model.startswith(REPLAY_PREFIX)


def replay_path(model: str) -> Path:
    """The file a ``replay:FILE`` model string names (``ReplayError`` when it names none)."""
    path = model[len(REPLAY_PREFIX) :].strip()
    if not path:
        raise ReplayError(f"{model!r}: name a file, e.g. replay:replies.jsonl")
    return Path(path)


def litellm_model(model: str) -> str:
    """The model string litellm routes: ``replay:FILE`` → ``replay/FILE``; any other unchanged."""
    return f"{REPLAY_PROVIDER}/{replay_path(model)}" if is_replay(model) else model


def _lines(path: Path) -> tuple[list[str], str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReplayError(f"replay file {path}: no such file") from None
    except OSError as exc:
        raise ReplayError(f"replay file {path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReplayError(f"replay file {path}: not UTF-8 (byte {exc.start})") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":  # the newline that ends the last line starts no reply
        lines.pop()
    return lines, hashlib.sha256(data).hexdigest()


def _cursor_path(path: Path) -> Path:
    return path.with_name(path.name + ".cursor")


def _read_cursor(cursor: Path, digest: str) -> int:
    try:
        state = json.loads(cursor.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0  # no cursor (or a torn one from a crash): start at the first line
    if not isinstance(state, dict) or state.get("sha256") != digest:
        return 0
    used = state.get("used")
    return used if isinstance(used, int) and used >= 0 else 0


def next_reply(path: Path) -> ReplayReply:
    """Take the next unused line of ``path`` (process- and thread-safe), or raise why not."""
    from filelock import FileLock, Timeout

    cursor = _cursor_path(path)
    try:
        lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=30)
        with _thread_lock, lock:
            lines, digest = _lines(path)
            used = _read_cursor(cursor, digest)
            if used >= len(lines):
                raise ReplayExhausted(
                    f"replay file {path}: all {len(lines)} replies are used (call {used + 1} "
                    f"has none); delete {cursor.name} to replay from the first line",
                    details={"path": str(path), "replies": len(lines)},
                )
            tmp = cursor.with_name(cursor.name + ".tmp")
            tmp.write_text(json.dumps({"sha256": digest, "used": used + 1}), encoding="utf-8")
            tmp.replace(cursor)  # atomic: a crash leaves the old count or the new one
            return ReplayReply(path, used + 1, lines[used])
    except Timeout:
        raise ReplayError(f"replay file {path}: its lock is held by another process") from None
    except OSError as exc:
        raise ReplayError(f"replay file {path}: cannot keep its cursor ({exc})") from None


RECORD_ENV_VAR = "NESYFLOW_REPLAY_RECORD"


def _record(messages: list) -> None:
    """Append what the model received to ``$NESYFLOW_REPLAY_RECORD`` (when set)."""
    import os

    target = os.environ.get(RECORD_ENV_VAR, "").strip()
    if not target:
        return
    line = json.dumps(messages, ensure_ascii=False, default=str)
    with _thread_lock, open(target, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _handler_class() -> type:
    from litellm import CustomLLM
    from litellm.types.utils import Usage

    class ReplayLLM(CustomLLM):  # type: ignore[misc]
        """litellm provider ``replay``: ``replay/FILE`` answers with FILE's next line."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            model_response = kwargs["model_response"]
            _record(messages)
            reply = next_reply(Path(model))
            model_response.choices[0].message.content = reply.text
            model_response.choices[0].finish_reason = "stop"
            model_response.usage = Usage(  # type: ignore[attr-defined]
                prompt_tokens=0, completion_tokens=0, total_tokens=0
            )
            model_response.model = f"{REPLAY_PREFIX}{model}"
            return model_response

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            import asyncio

            return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)

    return ReplayLLM


def register_replay_provider() -> None:
    """Register the ``replay`` provider with litellm (idempotent)."""
    import litellm

    with _register_lock:
        if any(item.get("provider") == REPLAY_PROVIDER for item in litellm.custom_provider_map):
            return
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": REPLAY_PROVIDER, "custom_handler": _handler_class()()},
        ]
