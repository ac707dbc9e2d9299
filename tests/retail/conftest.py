"""Fixtures for the retail agent's tests: the pack, the domain and the train sequences, loaded once."""

import pytest


@pytest.fixture(scope="session")
def retail_pack():
    from nesyflow.logic import load_pack

    from .sequences import PACK

    return load_pack(PACK)


@pytest.fixture(scope="session")
def domain():
    from .sequences import DOMAIN

    return DOMAIN


@pytest.fixture(scope="session")
def train_sequences():
    from .sequences import task_sequences

    return task_sequences()
