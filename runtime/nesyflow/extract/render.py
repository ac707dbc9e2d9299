"""Provenance for people: where each value of a step's output was read, as lines for the terminal
and as highlighted text for the console (the console's page only lays these out)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ProvenanceRow", "find_readings", "highlight", "provenance_rows"]


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
