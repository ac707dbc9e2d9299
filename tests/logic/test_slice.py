"""Relevance slicing never changes a result.

For every shipped pack, on every case in its ``tests/*.yaml`` and on fuzzed variants of them, the
sliced check, the unsliced check and ``check_many`` (which does not slice) give the same verdict,
findings (with explanations), derived values, atoms and reason. In-process (``isolated=False``):
slicing is a property of the checker, and the unsliced run patches this process's slicer.
"""

import contextlib
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nesyflow.logic import Verdict, check, check_many, load_pack

from ..conftest import FIXTURES, ROOT

SHIPPED = [
    ROOT / "rules" / "expense",
    ROOT / "rules" / "airline_baggage",
    ROOT / "rules" / "retail",
    *sorted(p.parent for p in (ROOT / "agents").glob("*/step/pack.toml")),
]
PACKS = [*SHIPPED, FIXTURES / "packs" / "toy"]


def _cases(folder: Path) -> list[tuple]:
    out = []
    for file in sorted((folder / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text())["cases"]:
            out.append((case.get("input"), case.get("context")))
    return out


@contextlib.contextmanager
def _unsliced(pack):
    pack.slicer.live = lambda key: list(pack.check_statements)
    try:
        yield
    finally:
        del pack.slicer.live


def _view(result):
    return (result.verdict, result.atoms, result.findings(), result.derived, result.reason)


def _assert_all_agree(pack, cases):
    sliced = [check(pack, i, c, isolated=False) for i, c in cases]
    with _unsliced(pack):
        full = [check(pack, i, c, isolated=False) for i, c in cases]
    batch = check_many(pack, [i for i, _ in cases], [c for _, c in cases], isolated=False)
    for case, a, b, c in zip(cases, sliced, full, batch, strict=True):
        assert _view(a) == _view(b) == _view(c), case


def test_the_shipped_packs_are_all_here():
    assert {p.name for p in SHIPPED} >= {"expense", "airline_baggage", "retail", "step"}


@pytest.mark.parametrize("folder", PACKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sliced_unsliced_and_batch_agree_on_every_pack_test(folder):
    pack = load_pack(folder)
    cases = _cases(folder)
    assert cases
    _assert_all_agree(pack, cases)
    smaller = sum(
        len(pack.slicer.live(k)) < len(pack.check_statements) for k in list(pack.slicer._cache)
    )
    if folder.name in ("expense", "airline_baggage", "toy"):
        assert smaller > 0  # the slice does drop rules for some inputs


def _pools(cases) -> dict[str, list]:
    """Every leaf value the pack's tests use, by kind: fuzzing recombines them, so inputs stay
    mostly valid and reach other rules (other constants mean other slices)."""
    pools: dict[str, set] = {"str": set(), "num": {0, 1, -1, 2**31, 10**6}}

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            pools["str"].add(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            pools["num"].add(value)

    for case in cases:
        walk(case)
    return {k: sorted(v, key=repr) for k, v in pools.items()}


@st.composite
def _mutated(draw, value, pools):
    if isinstance(value, dict):
        return {
            k: draw(_mutated(v, pools))
            for k, v in value.items()
            if draw(st.integers(0, 9)) != 0  # keep nine in ten; drop a field one time in ten
        }
    if isinstance(value, list):
        items = [draw(_mutated(v, pools)) for v in value]
        if items and draw(st.booleans()):
            items.append(draw(st.sampled_from(items)))  # a duplicate
        if items and draw(st.integers(0, 3)) == 0:
            items.pop(draw(st.integers(0, len(items) - 1)))
        return items
    if isinstance(value, bool):
        return draw(st.booleans())
    if isinstance(value, str):
        return draw(st.sampled_from([value, *pools["str"]]))
    if isinstance(value, int | float):
        return draw(
            st.one_of(st.just(value), st.sampled_from(pools["num"]), st.integers(-5, 10**5))
        )
    return value


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_slicing_is_sound_on_fuzzed_inputs(folder):
    pack = load_pack(folder)
    cases = _cases(folder)
    pools = _pools(cases)
    one = st.sampled_from(cases).flatmap(
        lambda case: st.tuples(
            _mutated(case[0], pools), st.one_of(st.just(case[1]), _mutated(case[1], pools))
        )
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(one, min_size=1, max_size=4))
    def agree(batch):
        _assert_all_agree(pack, batch)

    agree()


def test_a_const_name_is_its_value_not_a_constant_of_that_spelling(tmp_path):
    """``#const watched = meals.`` makes ``flag(watched)`` the atom ``flag(meals)``; the slicer read
    ``watched`` literally, dropped the rule below and ``check`` passed where ``check_many`` failed."""
    folder = tmp_path / "p"
    shutil.copytree(FIXTURES / "packs" / "toy", folder)
    (folder / "watch.lp").write_text(
        "#const watched = meals.\nflag(watched).\n"
        "violation(over_limit, I) :- item_category(I, C), flag(C), item_amount(I, A), A > 1000.\n"
    )
    pack = load_pack(folder)
    claim = {"level": "staff", "items": [{"category": "meals", "amount": "20"}]}
    single, (batch,) = check(pack, claim, isolated=False), check_many(pack, [claim], isolated=False)
    assert batch.verdict == Verdict.FAIL
    assert _view(single) == _view(batch)
    _assert_all_agree(pack, [(claim, None)])


@pytest.mark.parametrize("folder", PACKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_encoders_abstraction_is_the_one_read_from_the_facts(folder):
    """The slice key is made while the facts are encoded (reading it back from the symbols cost a
    cffi call per argument, more than building them); it must be exactly what ``abstract_key``
    reads from those symbols, on every pack test, with and without the batch's case tag, or a
    slice would be computed for another input."""
    from clingo import Number

    from nesyflow.logic._slice import abstract_key
    from nesyflow.logic.checker import _roots
    from nesyflow.schema.facts import to_facts

    pack = load_pack(folder)
    checked = 0
    for instance, context in _cases(folder):
        try:
            roots = _roots(pack, instance, context)
        except Exception:  # an invalid input is a case of its own (unknown), with no facts
            continue
        for prefix in ((), (Number(7),)):
            for read in (pack.read_signatures, None):
                facts = to_facts(*roots, prefix=prefix, read=read)
                assert facts.patterns == abstract_key(facts.symbols)
        checked += 1
    assert checked
