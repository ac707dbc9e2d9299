"""Policy over the classes is a plain rule: the payout pack's "every must-keep field has a value"
reads ``retained/2`` and ``has_value/1``; ``nesyflow facts --schema`` prints each field's class."""

from __future__ import annotations

from payout_support import PAYOUT
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.logic import check, load_pack
from nesyflow.logic.testing import run_pack_tests

PACK = PAYOUT / "rules" / "payout"
runner = CliRunner()


def test_the_pack_cases_pass_with_every_body_covered():
    report = run_pack_tests(load_pack(PACK))
    assert report.failed == 0 and report.passed == 3
    assert report.coverage == 100.0


def test_a_missing_must_keep_field_is_a_review_naming_it():
    pack = load_pack(PACK)
    given = {"payee": "Ana", "iban": "DE89", "issued": "2026-01-05", "amount": 3}
    result = check(pack, given)
    assert result.verdict == "review"
    assert [(f.rule, str(f.detail)) for f in result.reviews] == [
        ("must_keep_missing", "invoice_number")
    ]
    assert check(pack, {**given, "invoice_number": "INV-1"}).verdict == "pass"


def test_facts_schema_prints_the_classification():
    res = runner.invoke(app, ["facts", str(PACK), "--schema"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "data classification" in res.output
    lines = [line for line in res.output.splitlines() if "│ input" in line]
    assert any("iban" in line and "bank" in line for line in lines)
    assert any("invoice_number" in line and "10 years" in line for line in lines)
    assert "retained" in res.output and "has_value" in res.output  # in the vocabulary
