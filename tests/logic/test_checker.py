"""The checker: verdicts, explanations, bounds (never a pass by accident), isolation, batch."""

import shutil
import threading

import pytest

from nesyflow.logic import Verdict, check, check_many, load_pack

from ..conftest import FIXTURES

MEAL = {"category": "meals", "amount": "60.50"}
WINE = {"category": "alcohol", "amount": "20"}


def test_violations_carry_catalogue_sentence_source_and_input_facts(toy_pack):
    result = check(toy_pack, {"level": "staff", "items": [MEAL, WINE]})
    assert result.verdict == Verdict.FAIL
    over = next(f for f in result.violations if f.rule == "over_limit")
    assert over.message == "An item is above its category limit."
    assert over.severity == "high"
    (why,) = over.explanations
    assert why.rule.file == "rules.lp" and why.rule.line == 5
    assert why.rule.text.startswith("violation(over_limit, I) :-")
    assert set(why.input_facts) == {"item_category(2,meals)", "item_amount(2,6050)"}
    assert why.derived_facts == ("limit(meals,5000)",)
    assert why.bindings == {"I": "2", "C": "meals", "A": "6050", "L": "5000"}
    assert result.derived["total"] == pytest.approx(80.5)
    assert result.pack == toy_pack.identity and len(result.facts_hash) == 64


@pytest.mark.parametrize(
    ("claim", "verdict"),
    [
        ({"level": "staff", "items": [{"category": "meals", "amount": 1}]}, Verdict.PASS),
        ({"level": "staff", "items": [MEAL]}, Verdict.FAIL),
        ({"level": "staff", "items": [{"category": "travel", "amount": 200}]}, Verdict.REVIEW),
        ({"items": [{"category": "meals", "amount": 1}]}, Verdict.UNKNOWN),
        ({"items": [MEAL]}, Verdict.FAIL),  # a certain violation outranks missing information
    ],
)
def test_verdicts(toy_pack, claim, verdict):
    assert check(toy_pack, claim).verdict == verdict


def _pack_with(tmp_path, extra_rules: str):
    pack = tmp_path / "p"
    shutil.copytree(FIXTURES / "packs" / "toy", pack, dirs_exist_ok=True)
    (pack / "more.lp").write_text(extra_rules)
    return load_pack(pack)


def test_a_grounding_blow_up_is_unknown_not_an_exception(tmp_path):
    pack = _pack_with(tmp_path, "n(0). n(X+1) :- n(X), item(_).\n")
    result = check(pack, {"level": "staff", "items": [MEAL]}, timeout=30, max_ground_rules=50_000)
    assert result.verdict == Verdict.UNKNOWN
    assert "grounding exceeded 50000 rules" in result.reason


def test_a_slow_grounding_hits_the_time_limit(tmp_path):
    pack = _pack_with(tmp_path, "n(0). n(X+1) :- n(X), item(_).\n")
    result = check(pack, {"level": "staff", "items": [MEAL]}, timeout=0.2, max_ground_rules=10**9)
    assert result.verdict == Verdict.UNKNOWN
    assert "time limit" in result.reason


def test_a_slow_search_hits_the_time_limit(tmp_path):
    # pigeon-hole: 13 pigeons, 12 holes — hard for the solver, not for the grounder
    hole = "p(1..13). h(1..12). 1 { at(P,H) : h(H) } 1 :- p(P), item(_). :- at(P1,H), at(P2,H), P1<P2.\n"
    pack = _pack_with(tmp_path, hole)
    assert not pack.stratified
    result = check(pack, {"level": "staff", "items": [MEAL]}, timeout=0.3)
    assert result.verdict == Verdict.UNKNOWN
    assert "time limit reached while solving" in result.reason


def test_no_answer_set_and_several_answer_sets_are_unknown(tmp_path):
    none = _pack_with(tmp_path / "a", ":- item(_).\n")
    assert check(none, {"level": "staff", "items": [MEAL]}).verdict == Verdict.UNKNOWN
    many = _pack_with(tmp_path / "b", "{ flip } :- item(_).\n")
    result = check(many, {"level": "staff", "items": [MEAL]})
    assert result.verdict == Verdict.UNKNOWN and "more than one answer set" in result.reason


def test_input_that_does_not_validate_is_unknown_with_the_field(toy_pack):
    result = check(toy_pack, {"level": "boss", "items": []})
    assert result.verdict == Verdict.UNKNOWN
    assert "level" in result.reason


def test_no_state_leaks_between_checks(toy_pack):
    bad = {"level": "staff", "items": [MEAL, WINE]}
    good = {"level": "staff", "items": [{"category": "meals", "amount": 1}]}
    first = check(toy_pack, good)
    for _ in range(50):
        assert check(toy_pack, bad).verdict == Verdict.FAIL
        after = check(toy_pack, good)
        assert after.atoms == first.atoms and after.verdict == Verdict.PASS


def test_checks_on_many_threads_agree_with_sequential_ones(toy_pack):
    claims = [
        {"level": "staff", "items": [{"category": "meals", "amount": i % 90}]} for i in range(200)
    ]
    expected = [check(toy_pack, c).atoms for c in claims]
    got: dict[int, tuple] = {}

    def worker(offset: int) -> None:
        for i in range(offset, len(claims), 4):
            got[i] = check(toy_pack, claims[i]).atoms

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(claims))] == expected


def test_batch_gives_the_same_results_as_single_checks(toy_pack):
    claims = [
        {"level": "staff", "items": [MEAL, WINE]},
        {"items": [{"category": "meals", "amount": 1}]},
        {"level": "manager", "items": [{"category": "travel", "amount": 200, "note": "gift"}]},
        {"level": "staff", "items": []},
        {"level": "nope", "items": []},
    ] * 3
    batch = check_many(toy_pack, claims)
    single = [check(toy_pack, c) for c in claims]
    for b, s in zip(batch, single, strict=True):
        assert (b.verdict, b.atoms, b.derived, b.missing) == (
            s.verdict,
            s.atoms,
            s.derived,
            s.missing,
        )
        assert b.findings() == s.findings()
        assert b.facts_hash == s.facts_hash


def test_batch_isolates_a_case_without_answer_set(tmp_path):
    pack = _pack_with(tmp_path, ':- item_note(_, "poison").\n')
    claims = [
        {"level": "staff", "items": [MEAL]},
        {"level": "staff", "items": [{"category": "meals", "amount": 1, "note": "poison"}]},
    ]
    results = check_many(pack, claims)
    assert [r.verdict for r in results] == [Verdict.FAIL, Verdict.UNKNOWN]


def test_optimal_answer_sets_that_disagree_are_unknown_not_an_arbitrary_pass(tmp_path):
    """Under #minimize clingo reports one optimal model; with two that differ on the verdict
    the one it happened to find decided (a pass here before)."""
    choice = "1 { pick(a); pick(b) } 1 :- item(_).\nviolation(no_alcohol, 1) :- pick(a).\n"
    tie = _pack_with(tmp_path / "tie", choice + "#minimize { 1 : pick(a); 1 : pick(b) }.\n")
    assert tie.optimizing
    claim = {"level": "staff", "items": [{"category": "meals", "amount": 1}]}
    result = check(tie, claim)
    assert result.verdict == Verdict.UNKNOWN and "several optimal answer sets" in result.reason
    (batch,) = check_many(tie, [claim])
    assert batch.verdict == Verdict.UNKNOWN and "several optimal answer sets" in batch.reason
    # a unique optimum decides
    best = _pack_with(tmp_path / "best", choice + "#minimize { 1 : pick(a); 2 : pick(b) }.\n")
    assert check(best, claim).verdict == Verdict.FAIL
    assert check_many(best, [claim] * 3)[2].verdict == Verdict.FAIL


def test_optimal_answer_sets_that_agree_on_the_vocabulary_decide(tmp_path):
    agree = _pack_with(
        tmp_path,
        "1 { side(l); side(r) } 1 :- item(_).\n#minimize { 1, S : side(S) }.\n",
    )
    claim = {"level": "staff", "items": [{"category": "meals", "amount": 1}]}
    assert check(agree, claim).verdict == Verdict.PASS
    assert check(agree, claim, isolated=False).verdict == Verdict.PASS
    assert check_many(agree, [claim])[0].verdict == Verdict.PASS
