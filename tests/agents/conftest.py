"""Shared fixtures of the example agents' tests."""

import pytest

from nesyflow.store import open_store


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh SQLite store per test; the expense agent's ledger beside it, never the user's."""
    monkeypatch.setenv("NESYFLOW_LEDGER", str(tmp_path / "ledger.jsonl"))
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()
