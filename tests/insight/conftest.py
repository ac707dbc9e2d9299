"""The decided-review store the precedent and proposal tests share (built once per session)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from insight_history import build


@pytest.fixture(scope="session")
def decided(tmp_path_factory):
    """A real store of decided expense reviews (see ``insight_history.build``)."""
    history = build(tmp_path_factory.mktemp("decided"))
    yield history
    history["store"].close()
