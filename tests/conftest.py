"""Shared test set-up: offline by construction, fixtures for the packs the tests use."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postgres_server import postgres_server  # noqa: F401 - the session fixture

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_model: runs the real embedded model (local/smollm2); a few seconds each"
    )


@pytest.fixture(scope="session")
def toy_pack():
    from nesyflow.logic import load_pack

    return load_pack(FIXTURES / "packs" / "toy")
