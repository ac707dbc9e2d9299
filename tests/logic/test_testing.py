"""Pack tests and coverage (``nesyflow.logic.testing``): a rule body counts as covered only when a
case that passed — so it expected that rule — fired that very body."""

import shutil
import textwrap

import pytest

from nesyflow.logic import load_pack
from nesyflow.logic.testing import run_pack_tests

from ..conftest import FIXTURES

# Three bodies for one rule id: an item is "odd" when it is alcohol, or costs over 100, or says "x".
THREE_BODIES = textwrap.dedent(
    """\
    violation(odd, I) :- item_category(I, alcohol).
    violation(odd, I) :- item_amount(I, A), A > 10000.
    violation(odd, I) :- item_note(I, "x").
    """
)
CATALOGUE = '[rules.odd]\nmessage = "An odd item."\n'


def _pack(tmp_path, cases: str):
    folder = tmp_path / "three"
    (folder / "tests").mkdir(parents=True)
    shutil.copy(FIXTURES / "packs" / "toy" / "schema.py", folder / "schema.py")
    (folder / "pack.toml").write_text(
        'name = "three"\nversion = "1"\n[schema]\ninput = "schema:Claim"\n' + CATALOGUE
    )
    (folder / "rules.lp").write_text(THREE_BODIES)
    (folder / "tests" / "cases.yaml").write_text(textwrap.dedent(cases))
    return load_pack(folder)


ALCOHOL = """\
  - name: alcohol is odd
    input: {items: [{category: alcohol, amount: 1}]}
    expect: {verdict: fail, violations: [odd]}
"""


def test_one_body_of_a_three_body_rule_covers_a_third(tmp_path):
    report = run_pack_tests(_pack(tmp_path, "cases:\n" + ALCOHOL))
    assert report.failed == 0
    assert [b.cases for b in report.bodies] == [1, 0, 0]
    assert report.coverage == pytest.approx(100 / 3)
    assert report.uncovered == ["odd"]
    assert [b.source.line for b in report.uncovered_bodies] == [2, 3]


def test_a_body_fired_in_a_failing_case_covers_nothing(tmp_path):
    failing = """\
  - name: expects a pass but the amount body fires
    input: {items: [{category: meals, amount: 500}]}
    expect: {verdict: pass}
"""
    report = run_pack_tests(_pack(tmp_path, "cases:\n" + ALCOHOL + failing))
    assert report.failed == 1
    assert [b.cases for b in report.bodies] == [1, 0, 0]


def test_every_body_covered_is_100_percent(tmp_path):
    more = """\
  - name: expensive
    input: {items: [{category: meals, amount: 500}]}
    expect: {verdict: fail, violations: [odd]}
  - name: noted
    input: {items: [{category: meals, amount: 1, note: x}]}
    expect: {verdict: fail, violations: [odd]}
"""
    report = run_pack_tests(_pack(tmp_path, "cases:\n" + ALCOHOL + more))
    assert report.failed == 0 and report.coverage == 100.0 and report.uncovered == []
    assert report.to_json()["bodies"][2] == {
        "rule": "odd",
        "file": report.bodies[2].source.file,
        "line": 3,
        "text": 'violation(odd, I) :- item_note(I, "x").',
        "covered_by": 1,
    }
