"""Fixtures for the llm layer: offline always, one thread."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before anything imports litellm or huggingface_hub: no network at test time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NESYFLOW_LOCAL_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))  # fault_server, llama_server: helpers of these tests

import datetime
from typing import Literal

import pytest
from pydantic import BaseModel, Field


class Expense(BaseModel):
    """The small extraction target used across these tests."""

    merchant: str = Field(max_length=60)
    amount: float
    currency: Literal["USD", "EUR", "GBP"]
    category: Literal["meals", "travel", "lodging", "office", "other"]
    date: datetime.date


@pytest.fixture
def expense_type() -> type[Expense]:
    return Expense


@pytest.fixture
def good_expense() -> Expense:
    return Expense(
        merchant="Luigi's", amount=42.5, currency="EUR", category="meals", date="2024-03-14"
    )
