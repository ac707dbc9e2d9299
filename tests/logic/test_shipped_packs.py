"""Guarantees proven on every shipped pack (``rules/*``, ``agents/*/step``), on its own cases:
its tests all pass with every rule body covered, and ``check_many`` decides exactly what ``check``
decides, case by case."""

import pytest

from nesyflow.logic import _cache, check, check_many
from nesyflow.logic.testing import run_pack_tests

from .shipped import PACK_DIRS, PACK_IDS, cases, pack


def test_every_shipped_pack_is_found():
    assert {p.rsplit("/", 1)[-1] for p in PACK_IDS} >= {
        "expense",
        "airline_baggage",
        "retail",
        "step",
    }


@pytest.mark.parametrize("folder", PACK_DIRS, ids=PACK_IDS)
def test_shipped_pack_tests_pass_with_every_rule_body_covered(folder):
    report = run_pack_tests(pack(folder))
    failing = [
        f"{c.location}: {c.name}: {c.error or c.diffs}" for c in report.cases if not c.passed
    ]
    assert failing == []
    assert [b.where for b in report.uncovered_bodies] == []
    assert report.coverage == 100.0 and len(report.cases) >= 5


def _decision(result) -> dict:
    """Everything a check decides and explains; timings are the only thing allowed to differ."""
    return result.model_dump(exclude={"timings"})


@pytest.fixture
def no_result_cache(monkeypatch):
    """Without the result cache: a batch must decode every case itself, not take check's answer
    (with it on, every case of the batch below would be a cache hit on check's result)."""
    monkeypatch.setattr(_cache.results, "size", 0)


@pytest.mark.parametrize("isolated", [False, None], ids=["here", "isolated"])
@pytest.mark.parametrize("folder", PACK_DIRS, ids=PACK_IDS)
def test_check_many_equals_check_on_every_case_of_the_pack(folder, isolated, no_result_cache):
    """Every field but timings, explanations included, as Python values and as JSON; twice, so the
    second batch decodes from the untagged atoms the first one remembered (checker._Decoder)."""
    loaded, all_cases = pack(folder), cases(folder)
    inputs = [c.input for c in all_cases]
    contexts = [c.context for c in all_cases]
    alone = [check(loaded, c.input, c.context) for c in all_cases]
    one_by_one = [_decision(r) for r in alone]
    for _ in range(2):
        together = check_many(
            loaded, inputs, contexts if any(contexts) else None, isolated=isolated
        )
        assert len(together) == len(one_by_one) == len(all_cases)
        for case, one, batched in zip(all_cases, alone, together, strict=True):
            assert _decision(batched) == _decision(one), case.name
            json = {"mode": "json", "exclude": {"timings"}}
            assert batched.model_dump(**json) == one.model_dump(**json), case.name
    # not vacuous: the cases reach every verdict the pack can give, and explain what they find
    assert len({d["verdict"] for d in one_by_one}) >= 2
    findings = [f for d in one_by_one for k in ("violations", "reviews", "denials") for f in d[k]]
    assert not findings or any(f["explanations"] for f in findings)


def test_batch_decoding_is_the_same_when_its_table_fills(monkeypatch, no_result_cache):
    """A full table of untagged atoms is emptied and refilled; the answers do not change."""
    from nesyflow.logic import checker

    folder = next(p for p in PACK_DIRS if p.name == "expense")
    loaded, all_cases = pack(folder), cases(folder)
    contexts = [c.context for c in all_cases]
    alone = [
        check(loaded, c.input, c.context, isolated=False).model_dump(exclude={"timings"})
        for c in all_cases
    ]
    checker._decoder(loaded).pieces.clear()  # what earlier tests left would answer every atom
    monkeypatch.setattr(checker, "_PIECES_MAX", 3)
    batched = check_many(
        loaded, [c.input for c in all_cases], contexts if any(contexts) else None, isolated=False
    )
    assert [r.model_dump(exclude={"timings"}) for r in batched] == alone
    assert len(checker._decoder(loaded).pieces) <= 3


def test_a_batch_decoder_does_not_keep_its_pack_alive(no_result_cache):
    import gc
    import weakref

    from nesyflow.logic import checker
    from nesyflow.logic.pack import without_guard

    folder = next(p for p in PACK_DIRS if p.name == "expense")
    variant = without_guard(pack(folder))  # a pack object no loader cache holds
    check_many(variant, [cases(folder)[0].input], isolated=False)
    assert variant in checker._decoders
    gone = weakref.ref(variant)
    del variant
    gc.collect()
    assert gone() is None
