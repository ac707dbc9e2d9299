"""The expense agent's samples: each expected claim is valid for the pack's schema and the pack's
verdict on it is the one the sample promises (so an extraction that matches `expected` is scored
against a verdict the rules really give)."""

import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "expense"
SAMPLES = ROOT / "agents" / "expense" / "samples.jsonl"

VERDICTS = {"pass", "fail", "review", "unknown"}


def _samples() -> list[dict]:
    with SAMPLES.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def pack():
    from nesyflow.logic import load_pack

    return load_pack(PACK)


def test_samples_are_many_unique_and_mixed():
    samples = _samples()
    assert len(samples) >= 60
    ids = [s["id"] for s in samples]
    assert len(set(ids)) == len(ids)
    mix = Counter(s["expected_verdict"] for s in samples)
    assert set(mix) <= VERDICTS
    assert 0.3 <= mix["pass"] / len(samples) <= 0.5, mix
    assert mix["fail"] and mix["review"] and mix["unknown"], mix
    for s in samples:
        assert s["request"].strip()
        assert s["submitted_on"] == s["expected"]["submitted_on"]
        assert s["employee"]["name"] == s["expected"]["employee_name"]
        assert s["employee"]["level"] == s["expected"]["employee_level"]
        assert 1 <= len(s["expected"]["items"]) <= 2


@pytest.mark.parametrize("sample", _samples(), ids=lambda s: s["id"])
def test_sample_verdict_matches_pack(pack, sample):
    from nesyflow.logic import check

    claim = pack.input_model.model_validate(sample["expected"])
    result = check(pack, claim)
    assert result.reason is None or result.missing, result.reason
    assert result.verdict.value == sample["expected_verdict"]
    assert sorted({f.rule for f in result.findings()}) == sorted(sample["expected_rules"])
    if "expected_missing" in sample:
        assert sorted(result.missing) == sorted(sample["expected_missing"])


def test_samples_cover_many_rules(pack):
    fired = {rule for s in _samples() for rule in s["expected_rules"]}
    assert fired <= set(pack.catalogue)
    assert len(fired) >= 15
