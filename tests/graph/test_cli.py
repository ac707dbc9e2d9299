"""``nesyflow validate``: OK with a summary (0), every problem (1), unreadable file (2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nesyflow.cli.app import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
runner = CliRunner()


def test_validate_ok() -> None:
    result = runner.invoke(app, ["validate", str(FIXTURES / "expense_lite" / "workflow.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK expense_lite: 4 nodes, 4 edges" in result.output
    assert "route [branch] → record, review" in result.output


def test_validate_broken_lists_every_problem() -> None:
    path = FIXTURES / "broken" / "workflow.yaml"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:22:11: unknown_kind" in result.output
    assert "14 problem(s)" in result.output
    assert "Traceback" not in result.output


def test_validate_unreadable_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
