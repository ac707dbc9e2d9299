"""Provenance for people: where each value of a step's output was read, as lines for the terminal
and as highlighted text for the console (the console's page only lays these out)."""

from __future__ import annotations

import copy
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Pick",
    "ProvenanceRow",
    "find_readings",
    "highlight",
    "picks",
    "provenance_rows",
    "value_at",
    "with_value",
]

_MISSING = object()


@dataclass(frozen=True)
class ProvenanceRow:
    """One value: its field, the value, how it was read, where, and the other candidates."""

    field: str
    value: str
    origin: str
    where: str
    detail: str
    candidates: tuple[str, ...]
    ambiguous: bool
    source: str | None
    start: int | None
    end: int | None

    def line(self) -> str:
        others = f"; candidates {', '.join(self.candidates)}" if len(self.candidates) > 1 else ""
        flag = " [AMBIGUOUS]" if self.ambiguous else ""
        return f"{self.field} = {self.value} ← {self.origin} {self.where} ({self.detail}){others}{flag}"


def find_readings(outputs: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The readings of the first step output that carries provenance (a ``readings`` list)."""
    for out in outputs:
        if isinstance(out, Mapping) and isinstance(out.get("readings"), list):
            return [r for r in out["readings"] if isinstance(r, Mapping)]
    return []


def provenance_rows(
    readings: Iterable[Mapping[str, Any]], texts: Mapping[str, str]
) -> list[ProvenanceRow]:
    """Rows for ``readings`` (as stored in a step); ``texts`` are the run's source fields, to quote
    the span each value was read from."""
    rows = []
    for r in readings:
        source, start, end = r.get("source"), r.get("start"), r.get("end")
        where = ""
        if source is not None and isinstance(start, int) and isinstance(end, int):
            quoted = str(texts.get(str(source), ""))[start:end].replace("\n", " ")
            where = f"{source}[{start}:{end}] {quoted[:40]!r}"
        cands = tuple(f"{c.get('value')} ({c.get('score')})" for c in r.get("candidates") or [])
        rows.append(
            ProvenanceRow(
                field=str(r.get("field")),
                value=str(r.get("value")),
                origin=str(r.get("origin")),
                where=where,
                detail=str(r.get("detail") or ""),
                candidates=cands,
                ambiguous=bool(r.get("ambiguous")),
                source=source,
                start=start if isinstance(start, int) else None,
                end=end if isinstance(end, int) else None,
            )
        )
    return rows


def highlight(text: str, spans: Iterable[tuple[int, int, str, bool]]) -> str:
    """``text`` as HTML with each ``(start, end, label, ambiguous)`` span in a ``<mark>`` titled by
    its label (overlapping spans: the one starting first wins, the longest at the same start);
    everything else escaped."""
    marks = sorted(
        {(s, e, label, amb) for s, e, label, amb in spans if 0 <= s < e <= len(text)},
        key=lambda m: (m[0], -m[1]),
    )
    out, pos = [], 0
    for start, end, label, ambiguous in marks:
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        colour = "#f8d7da" if ambiguous else "#fff3bf"
        out.append(
            f'<mark style="background:{colour}" title="{html.escape(label)}">'
            f"{html.escape(text[start:end])}</mark>"
            f'<sup style="color:#888">{html.escape(label)}</sup>'
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")


@dataclass(frozen=True)
class Pick:
    """A field of a held output whose reading had other candidates: what a reviewer can put in
    its place with one click (each option a value the finders read in the text)."""

    field: str
    current: Any
    options: tuple[Any, ...]


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".") if p != ""]


def value_at(data: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted reading path (``items.0.amount``) of JSON data, else ``default``."""
    here = data
    for step in _steps(path):
        in_list = isinstance(step, int) and isinstance(here, list) and 0 <= step < len(here)
        in_map = isinstance(step, str) and isinstance(here, Mapping) and step in here
        if not (in_list or in_map):
            return default
        here = here[step]
    return here


def with_value(data: Any, path: str, value: Any) -> Any:
    """A copy of JSON ``data`` with the field at ``path`` set to ``value``. The field must exist
    (a pick replaces a value the output has; it never invents a field): ``KeyError`` otherwise."""
    if value_at(data, path, _MISSING) is _MISSING:
        raise KeyError(f"the output has no field '{path}'")
    out = copy.deepcopy(data)
    *parents, last = _steps(path)
    here = out
    for step in parents:
        here = here[step]
    here[last] = value
    return out


def picks(readings: Iterable[Mapping[str, Any]], output: Any) -> list[Pick]:
    """The fields of ``output`` (a held value, JSON) whose reading had more than one distinct
    candidate, with those candidates best-ranked first. Fields the output does not have (the
    reading was of another node's value) are left out."""
    out = []
    for r in readings:
        path = str(r.get("field"))
        current = value_at(output, path, _MISSING)
        if current is _MISSING:
            continue
        options: list[Any] = []
        for c in r.get("candidates") or []:
            value = c.get("value") if isinstance(c, Mapping) else None
            if value is not None and value not in options:
                options.append(value)
        if len(options) > 1:
            out.append(Pick(path, current, tuple(options)))
    return out
