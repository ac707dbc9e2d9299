"""Relevance slicing never changes a result: every shipped pack test gives identical atoms with the
full program and with the slice."""

import shutil
from pathlib import Path

import pytest
import yaml

from nesyflow.logic import Verdict, check, check_many, load_pack

from ..conftest import FIXTURES, ROOT

PACKS = [ROOT / "rules" / "expense", ROOT / "rules" / "airline_baggage", FIXTURES / "packs" / "toy"]


def _cases(folder: Path):
    for file in sorted((folder / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text())["cases"]:
            yield case.get("input"), case.get("context")


@pytest.mark.parametrize("folder", PACKS, ids=lambda p: p.name)
def test_sliced_and_full_programs_agree(folder, monkeypatch):
    pack = load_pack(folder)
    cases = list(_cases(folder))
    sliced = [check(pack, i, c) for i, c in cases]
    smaller = sum(
        len(pack.slicer.live(k)) < len(pack.check_statements) for k in list(pack.slicer._cache)
    )
    monkeypatch.setattr(pack.slicer, "live", lambda key: list(pack.check_statements))
    full = [check(pack, i, c) for i, c in cases]
    for a, b in zip(sliced, full, strict=True):
        assert (a.verdict, a.atoms, a.findings()) == (b.verdict, b.atoms, b.findings())
    assert smaller > 0  # the slice does drop rules for some inputs


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
    single, (batch,) = check(pack, claim), check_many(pack, [claim])
    assert batch.verdict == Verdict.FAIL
    assert (single.verdict, single.atoms) == (batch.verdict, batch.atoms)
