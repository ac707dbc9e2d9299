"""Reading case files for commands: one JSON object, a JSON list, or JSONL — with the line of each
case, so a bad case is reported as ``file:line: field: problem`` and exit status 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

__all__ = [
    "EXECUTOR_HELP",
    "MAX_JSON_DEPTH",
    "TooDeep",
    "bad_input",
    "executor",
    "loads",
    "read_cases",
    "validate_case",
]

err = Console(stderr=True, highlight=False)

MAX_JSON_DEPTH = 200
"""Deepest nesting of arrays/objects an input may have. Real inputs are a handful of levels; a
100,000-level document would overflow Python's recursion in the parser, the schema or the store."""


class TooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH` (or than the parser can go)."""


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            todo.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def loads(text: str) -> Any:
    """``json.loads`` with a bound on nesting: :class:`TooDeep` instead of a ``RecursionError``
    (``json.JSONDecodeError`` for text that is not JSON, as usual)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise TooDeep(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    return value


def bad_input(message: str) -> NoReturn:
    """Print a bad-input message (no traceback) and exit with status 2."""
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(2)


EXECUTOR_HELP = (
    "Where the checks run: local (worker processes here) or ray (actors on the Ray cluster "
    "NESYFLOW_RAY_ADDRESS names, else a local one; needs pip install 'nesyflow[ray]')."
)


def executor(value: str) -> str:
    """``--executor``, checked before any work: a known name, and for ``ray`` Ray installed."""
    from nesyflow.logic.checker import EXECUTORS

    if value not in EXECUTORS:
        bad_input(f"--executor must be {' or '.join(EXECUTORS)}, not {value!r}")
    if value == "ray":
        from nesyflow.logic import ray_executor

        if not ray_executor.available():
            hint = escape(ray_executor.INSTALL_HINT)  # rich would read [ray] as markup
            bad_input(f"--executor ray needs Ray, which is not installed: {hint}")
    return value


def read_cases(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, object) for each case in ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        bad_input(f"{path}: cannot read ({exc.strerror or exc})")
    except UnicodeDecodeError:
        bad_input(f"{path}: not UTF-8 text")
    stripped = text.strip()
    if not stripped:
        bad_input(f"{path}: the file is empty")
    try:
        whole = loads(stripped)
    except json.JSONDecodeError:
        whole = None
    except TooDeep as exc:
        bad_input(f"{path}: {exc}")
    if isinstance(whole, dict):
        yield 1, whole
        return
    if isinstance(whole, list):
        for item in whole:
            yield 1, item
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, loads(line)
        except json.JSONDecodeError as exc:
            bad_input(f"{path}:{number}:{exc.colno}: invalid JSON ({exc.msg})")
        except TooDeep as exc:
            bad_input(f"{path}:{number}: {exc}")


def validate_case(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    """Validate one case, or exit 2 naming the place and every wrong field."""
    if not isinstance(data, dict):
        bad_input(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            field = ".".join(str(p) for p in e.get("loc", ())) or "(root)"
            lines.append(f"{where}: field {field}: {e.get('msg')}")
        bad_input("\n".join(lines))
