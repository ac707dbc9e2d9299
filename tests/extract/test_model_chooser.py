"""The model as a chooser, for real (the embedded 135M model): the answer is restricted to the
options' letters or "none", and llama.cpp keeps prompt prefixes in a RAM cache across questions."""

from __future__ import annotations

import pytest

from nesyflow.extract import ModelChooser

pytestmark = pytest.mark.local_model

TEXT = "UBER\nTrip fare  $22.15\nTip  $2.50\nTotal  $27.40"


def test_the_answer_is_one_of_the_options_or_none():
    chooser = ModelChooser("local/smollm2")
    pick = chooser.choose(TEXT, "What is the amount paid?", ["27.40", "2.50", "22.15"])
    assert pick is None or pick in (0, 1, 2)
    assert chooser.calls == 1 and chooser.ms > 0


def test_the_local_model_keeps_prefixes_in_a_ram_cache():
    from llama_cpp import LlamaRAMCache

    from nesyflow.llm.local import CACHE_BYTES, _get_llama

    llama = _get_llama()
    assert isinstance(llama.cache, LlamaRAMCache) and llama.cache.capacity_bytes == CACHE_BYTES


def test_a_provider_that_fails_sends_the_field_to_a_person():
    chooser = ModelChooser("nonexistent-provider/none")
    assert chooser.choose(TEXT, "What is the amount paid?", ["27.40", "2.50"]) is None
