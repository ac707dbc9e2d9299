"""Shared fixtures of the example agents' tests."""

import pytest

from nesyflow.store import open_store


@pytest.fixture
def store(tmp_path):
    """A fresh SQLite store per test (the expense agent's ledger is in it)."""
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()
