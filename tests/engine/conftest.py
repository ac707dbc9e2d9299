import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from nesyflow.store import open_store


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()
