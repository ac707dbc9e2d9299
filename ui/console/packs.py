"""Rule packs for the console: finding them, loading them (cached by their files), running their
tests, and showing a rule's source with its line highlighted."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import streamlit as st

__all__ = ["discover", "file_lines", "load", "relative", "rule_lines", "source_html"]


def relative(pack: Any, file: str) -> str:
    """A pack file's name as explanations write it (relative to the pack folder)."""
    try:
        return str(Path(file).resolve().relative_to(Path(pack.path).resolve()))
    except ValueError:
        return Path(file).name


def file_lines(pack: Any, file: str) -> list[str] | None:
    """The lines of ``file`` (relative to the pack, as in an explanation) as the pack loaded it."""
    if file in pack.sources:
        return pack.sources[file]
    for key, lines in pack.sources.items():
        if relative(pack, key) == file:
            return lines
    return None


def discover(folders: list[Path]) -> dict[str, Path]:
    """Pack name (the folder's) → folder, for every folder with a pack.toml."""
    out: dict[str, Path] = {}
    for folder in folders:
        if (folder / "pack.toml").is_file():
            out[folder.name] = folder.resolve()
            continue
        for manifest in sorted(folder.glob("*/pack.toml")) if folder.is_dir() else []:
            out.setdefault(manifest.parent.name, manifest.parent.resolve())
    return out


def _stamp(folder: Path) -> float:
    try:
        return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)
    except OSError:
        return 0.0


@st.cache_resource(show_spinner=False, max_entries=32)
def _load(path: str, stamp: float) -> tuple[Any, str | None]:
    from nesyflow.logic import load_pack

    try:
        return load_pack(path), None
    except Exception as exc:
        return None, str(exc)


def load(folder: Path | str) -> tuple[Any, str | None]:
    """(pack, None) or (None, why it does not load); reloaded when a file of the pack changes."""
    return _load(str(folder), _stamp(Path(folder)))


def rule_lines(pack: Any, rule: str) -> list[tuple[str, int]]:
    """Where the heads of ``rule``'s findings are written: (file, line) pairs."""
    pattern = re.compile(rf"\b(violation|review|deny)\(\s*{re.escape(rule)}\b")
    found = []
    for file, lines in pack.sources.items():
        for number, text in enumerate(lines, start=1):
            if pattern.search(text):
                found.append((relative(pack, file), number))
    return found


_TOKEN = re.compile(
    r"(?P<comment>%.*$)|(?P<string>\"(?:[^\"\\]|\\.)*\")|(?P<op>:-|:~|#\w+)"
    r"|(?P<head>\b(?:violation|review|deny|missing|derived)\b)|(?P<var>\b[A-Z_][A-Za-z0-9_']*)"
    r"|(?P<num>\b\d+\b)"
)
_COLOURS = {
    "comment": "#6a737d",
    "string": "#0a7d38",
    "op": "#b31d28",
    "head": "#6f42c1",
    "var": "#005cc5",
    "num": "#b05a00",
}


def _highlight(line: str) -> str:
    out, pos = [], 0
    for m in _TOKEN.finditer(line):
        out.append(html.escape(line[pos : m.start()]))
        kind = m.lastgroup or ""
        weight = "font-weight:600;" if kind in ("head", "op") else ""
        out.append(
            f'<span style="color:{_COLOURS.get(kind, "inherit")};{weight}">'
            f"{html.escape(m.group(0))}</span>"
        )
        pos = m.end()
    out.append(html.escape(line[pos:]))
    return "".join(out)


def source_html(
    lines: list[str], first: int, last: int, *, context: int = 3, title: str = ""
) -> str:
    """HTML for a few lines of an ASP file with ``first``..``last`` highlighted (1-based)."""
    start = max(1, first - context)
    end = min(len(lines), max(last, first) + context)
    rows = []
    for number in range(start, end + 1):
        hot = first <= number <= max(last, first)
        style = (
            "background:#fff3bf;border-left:3px solid #f08c00;"
            if hot
            else ("border-left:3px solid transparent;")
        )
        rows.append(
            f'<div style="{style}padding:0 8px;white-space:pre">'
            f'<span style="color:#adb5bd;display:inline-block;width:3em;user-select:none">'
            f"{number}</span>{_highlight(lines[number - 1])}</div>"
        )
    head = (
        f'<div style="font:12px sans-serif;color:#495057;padding:4px 8px;'
        f'border-bottom:1px solid #dee2e6;background:#f8f9fa">{html.escape(title)}</div>'
        if title
        else ""
    )
    return (
        '<div style="border:1px solid #dee2e6;border-radius:6px;overflow-x:auto;'
        'font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;background:#fff">'
        f"{head}{''.join(rows)}</div>"
    )
