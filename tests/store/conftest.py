"""The store conformance suite runs every test on every backend: SQLite (a file, and memory where a
test needs no second process) and a real PostgreSQL server (``tests/postgres_server.py``)."""

from __future__ import annotations

import pytest

from nesyflow.store import open_store

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A URL of an empty database that several stores and processes can open."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_server").new_database()
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgres"])
def store(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").new_database()
    elif request.param == "sqlite-memory":
        url = "sqlite://"
    else:
        url = f"sqlite:///{tmp_path / 's.db'}"
    s = open_store(url)
    yield s
    s.close()
