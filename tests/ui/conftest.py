"""Console test fixtures: stores (empty, seeded with the benchmark's generator) pointed to by the
environment the console reads."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from console_support import FIXTURES, ROOT


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small store from the benchmark's seeder (made once, copied per test)."""
    from seed_store import seed_store

    path = tmp_path_factory.mktemp("seed") / "seeded.db"
    seed_store(f"sqlite:///{path}", steps=1500, open_reviews=120, per_pack=25)
    return path


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the console at a fresh store in tmp_path; returns (url, store)."""
    from nesyflow.store import open_store

    def make(template: Path | None = None) -> tuple[str, Any]:
        path = tmp_path / "store.db"
        if template is not None:
            shutil.copy(template, path)
        url = f"sqlite:///{path}"
        monkeypatch.setenv("NESYFLOW_DB", url)
        monkeypatch.setenv("NESYFLOW_RULES", f"{ROOT / 'rules'}:{FIXTURES / 'claims' / 'packs'}")
        monkeypatch.setenv("NESYFLOW_WORKFLOWS", str(FIXTURES))
        return url, open_store(url)

    return make
