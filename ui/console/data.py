"""Where the console's data comes from: the store (``$NESYFLOW_DB``), the rule pack folders
(``$NESYFLOW_RULES``), the workflow files (``$NESYFLOW_WORKFLOWS``), and the few cached reads.

Only aggregate reads that are slow-ish and may lag a little (the overview's trend and rule counts)
are cached, for 30 seconds; the queue and the traces are always read fresh.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from nesyflow.govern import Masks
from nesyflow.store import SqlStore, default_url, open_store
from nesyflow.store import queries as q

__all__ = [
    "firing_counts",
    "load_workflow_file",
    "masks",
    "rules_dirs",
    "store",
    "store_url",
    "trend",
    "workflow_files",
]


def store_url() -> str:
    return default_url()


@st.cache_resource(show_spinner=False)
def _open(url: str) -> SqlStore:
    return open_store(url)


def store() -> SqlStore:
    """The store this console reads (one per process and URL)."""
    return _open(store_url())


def masks() -> Masks:
    """The masks of this page's viewer (one per page render; every record shown goes through it)."""
    from console.session import viewer

    return Masks(store(), viewer())


def _paths(variable: str, default: str) -> list[Path]:
    raw = os.environ.get(variable)
    return [Path(p) for p in raw.split(os.pathsep) if p] if raw else [Path(default)]


def rules_dirs() -> list[Path]:
    """Folders holding rule packs (each a folder with pack.toml): ``$NESYFLOW_RULES`` or rules/."""
    return _paths("NESYFLOW_RULES", "rules")


@st.cache_data(ttl=30, show_spinner=False)
def trend(url: str, days: int) -> list[q.TrendRow]:
    return q.verdict_trend(_open(url), days=days)


@st.cache_data(ttl=30, show_spinner=False)
def firing_counts(url: str, days: int) -> list[q.RuleCount]:
    import datetime as dt

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return q.rule_firing_counts(_open(url), since=since.replace(tzinfo=None))


def workflow_files(url: str) -> dict[str, str | None]:
    """Workflows with runs and their files, plus workflow files under ``$NESYFLOW_WORKFLOWS``
    (default agents/) that have no runs yet."""
    found = dict(q.workflow_files(_open(url)))
    for folder in _paths("NESYFLOW_WORKFLOWS", "agents"):
        for path in sorted(folder.glob("*/workflow.yaml")) if folder.is_dir() else []:
            file = str(path.resolve())
            name = _workflow_name(file, _mtime(file))
            if name is not None and not found.get(name):
                found[name] = file
    return dict(sorted(found.items()))


@st.cache_resource(show_spinner=False, max_entries=256)
def _workflow_name(path: str, stamp: float) -> str | None:
    """The ``name:`` of a workflow file, read without loading its packs and schemas: listing the
    workflows used to load every one of them, 2.3 s of a console process's first Workflows screen
    (the page loads only the one chosen)."""
    from nesyflow._yamlguard import load_bounded

    try:
        doc = load_bounded(Path(path).read_text(encoding="utf-8"))
    except Exception:  # not a readable workflow file: not listed
        return None
    name = doc.get("name") if isinstance(doc, dict) else None
    return name if isinstance(name, str) and name else None


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner=False, max_entries=64)
def _load_workflow(path: str, stamp: float) -> Any:
    from nesyflow.graph import load_workflow

    try:
        return load_workflow(path)
    except Exception:  # the page says the file does not load
        return None


def load_workflow_file(path: str | None) -> Any:
    """The workflow in ``path`` (cached while the file is unchanged), or None."""
    if not path:
        return None
    return _load_workflow(path, _mtime(path))
