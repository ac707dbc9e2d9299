"""Relevance slicing never changes a result: every shipped pack test gives identical atoms with the
full program and with the slice."""

from pathlib import Path

import pytest
import yaml

from nesyflow.logic import check, load_pack

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
