"""A repeated check is answered from memory, exactly as the first; only decided answers are kept.

The guarantee under test: the cache never changes an answer (same facts and same pack identity give
the same result, a changed pack or changed facts miss) and never keeps an ``unknown`` (a timeout
or a dead worker must be tried again).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nesyflow.logic import _cache, bounded, check, check_many, load_pack
from nesyflow.logic.result import Verdict

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLAIM = {"level": "staff", "items": [{"category": "meals", "amount": "20"}]}


@pytest.fixture(autouse=True)
def _fresh_cache():
    _cache.results.clear()
    yield
    _cache.results.clear()


@pytest.fixture
def solves(monkeypatch):
    """How many checks reached a worker (the cache is in front of the workers)."""
    calls = []
    real = bounded.run

    def counting(task, args, *rest, **kw):
        if task.__name__ == "_task_check":  # (not the pack loader's grounding)
            calls.append(1)
        elif task.__name__ == "_task_chunk":
            calls.append(len(args[0]))  # the cases solved in that chunk
        return real(task, args, *rest, **kw)

    monkeypatch.setattr(bounded, "run", counting)
    return calls


def _same(a, b):
    return (a.verdict, a.rule_ids(), a.derived, a.missing, a.facts_hash, a.pack) == (
        b.verdict,
        b.rule_ids(),
        b.derived,
        b.missing,
        b.facts_hash,
        b.pack,
    )


def test_a_repeat_is_not_solved_again_and_gives_the_same_answer(solves):
    pack = load_pack(ROOT / "rules" / "expense")
    claim = {
        "employee_name": "A",
        "employee_level": "staff",
        "submitted_on": "2025-04-04",
        "items": [
            {
                "date": "2025-04-02",
                "category": "meals",
                "merchant": "M",
                "amount": "180.00",
                "city_tier": 1,
                "alcohol": False,
                "receipt_attached": True,
            }
        ],
    }
    first = check(pack, claim)
    again = check(pack, claim)
    assert first.verdict is not Verdict.UNKNOWN and _same(first, again)
    assert len(solves) == 1
    again.derived["total_reimbursable"] = "changed by a caller"
    assert check(pack, claim).derived == first.derived  # a caller cannot change what others get


def test_other_facts_or_another_pack_miss(tmp_path, solves):
    folder = tmp_path / "toy"
    shutil.copytree(FIXTURES / "packs" / "toy", folder)
    before = load_pack(folder)
    check(before, CLAIM)
    check(before, {**CLAIM, "level": "manager"})
    (folder / "rules.lp").write_text((folder / "rules.lp").read_text() + "\n% changed\n")
    after = load_pack(folder)
    assert after.identity.hash != before.identity.hash
    check(after, CLAIM)
    assert len(solves) == 3


def test_an_unknown_is_never_kept(monkeypatch):
    pack = load_pack(FIXTURES / "packs" / "toy")
    died = []
    monkeypatch.setattr(
        bounded, "run", lambda *a, **k: (died.append(1), bounded.Failure("worker died"))[1]
    )
    assert check(pack, CLAIM).verdict is Verdict.UNKNOWN
    assert check(pack, CLAIM).verdict is Verdict.UNKNOWN
    assert len(died) == 2


def test_check_many_solves_each_distinct_input_once_and_equals_check(solves):
    pack = load_pack(FIXTURES / "packs" / "toy")
    claims = [
        {"level": "staff", "items": [{"category": "meals", "amount": str(a)}]}
        for a in (20, 60.5, 20, 20, 60.5, 99)
    ]
    many = check_many(pack, claims)
    assert solves == [3]  # one chunk, the three distinct cases in it
    _cache.results.clear()
    assert all(_same(m, check(pack, c)) for m, c in zip(many, claims, strict=True))
    assert many[0] is not many[2] and many[0].derived is not many[2].derived


def test_the_size_setting_is_a_whole_number(monkeypatch):
    monkeypatch.setenv("NESYFLOW_CHECK_CACHE", "lots")
    with pytest.raises(ValueError, match="NESYFLOW_CHECK_CACHE must be a whole number"):
        _cache._size()
    monkeypatch.setenv("NESYFLOW_CHECK_CACHE", "0")
    off = _cache.ResultCache(_cache._size())
    pack = load_pack(FIXTURES / "packs" / "toy")
    off.put(check(pack, CLAIM))
    assert off.get(check(pack, CLAIM).facts_hash, 0.0) is None
