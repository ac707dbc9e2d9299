"""The invoice pack on values past 32 bits: every such case is ``unknown`` because the exact
arithmetic guard found the term that left 32 bits — not because an input failed to encode, and
never a pass on a wrapped number (issue 13 §3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nesyflow.logic import Verdict, check, load_pack

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "invoice"
OVERFLOW = yaml.safe_load((PACK / "tests" / "overflow.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def pack():
    return load_pack(PACK)


@pytest.mark.parametrize(
    ("name", "term"),
    [
        ("quantity x unit price past 2^31 cents", "(Q*U) in invoice/arithmetic.lp"),
        ("lines that each fit but sum past 2^31", "#sum"),
        ("net plus tax past 2^31", "(N+S) in invoice/arithmetic.lp"),
    ],
)
def test_past_32_bits_is_unknown_naming_the_term(pack, name, term):
    (case,) = [c for c in OVERFLOW if c["name"].startswith(name)]
    result = check(pack, case["input"], case.get("context"))
    assert result.verdict == Verdict.UNKNOWN
    assert result.reason.startswith("too large to compute exactly"), result.reason
    assert term in result.reason, result.reason


def test_the_pack_is_the_size_the_task_asks(pack):
    cases = sum(
        len(yaml.safe_load(f.read_text(encoding="utf-8"))["cases"])
        for f in (PACK / "tests").glob("*.yaml")
    )
    assert len(pack.catalogue) >= 25 and cases >= 40
