"""The main job as a newcomer runs it: ``nesyflow demo`` in a fresh folder, on the real local model.

A real subprocess (the installed ``nesyflow`` console script), an empty working folder (so the
default store ``./.nesyflow/store.db`` and ledger are created there), three samples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nesyflow.store import open_store
from nesyflow.store.queries import list_runs

pytestmark = pytest.mark.local_model

NESYFLOW = Path(sys.executable).with_name("nesyflow")


def test_demo_runs_the_expense_agent_and_fills_the_store(tmp_path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NESYFLOW_LOCAL_THREADS": "1",
        "COLUMNS": "120",
    }
    for name in ("NESYFLOW_DB", "NESYFLOW_MODEL", "NESYFLOW_LEDGER"):
        env.pop(name, None)
    proc = subprocess.run(
        [str(NESYFLOW), "demo", "--limit", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    for phrase in (
        "approved and paid",
        "sent to a person",
        "fields right",
        "verdict as expected",
        "Where the values came from",
        "Where each paid value was read",
        "Where the time went",
        "nesyflow runs list",
        "nesyflow reviews list",
        "nesyflow console",
    ):
        assert phrase in text, phrase
    db = tmp_path / ".nesyflow" / "store.db"
    assert db.is_file()
    store = open_store(f"sqlite:///{db}")
    try:
        runs = list_runs(store).items
        assert len(runs) == 3 and {r.workflow for r in runs} == {"expense"}
        for run in runs:
            steps = store.steps(run.id)
            read = next(s for s in steps if s.node == "read" and s.kind == "tool")
            fields = {r["field"] for r in read.output["readings"]}
            assert {"items.0.amount", "items.0.date", "employee_name"} <= fields
            check = next(s for s in steps if s.node == "extract" and s.kind == "check")
            assert check.packs and check.packs[0]["name"] == "expense"
    finally:
        store.close()
