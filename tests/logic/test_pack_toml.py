"""A TOML error in ``pack.toml`` keeps its line and column (Python 3.11's ``tomllib`` puts them only
in the message), and ``nesyflow lint`` prints that place."""

import shutil

import pytest
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.errors import ProblemsError
from nesyflow.logic import load_pack

from ..conftest import FIXTURES


def _toml_problem(pack):
    with pytest.raises(ProblemsError) as info:
        load_pack(pack)
    (problem,) = info.value.problems  # alone: nothing else can be judged without the manifest
    assert problem.message.startswith("invalid TOML: ")
    return problem


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.replace('version = "0.1.0"', "version = "), "version"),
        (lambda t: t + "\n[schema]\ninput = 'schema:Claim'\n", "[schema]"),
    ],
    ids=["missing-value", "duplicate-table"],
)
def test_a_toml_error_names_its_line_and_column(tmp_path, edit, needle):
    pack = tmp_path / "toy"
    shutil.copytree(FIXTURES / "packs" / "toy", pack)
    manifest = pack / "pack.toml"
    text = edit(manifest.read_text())
    manifest.write_text(text)
    problem = _toml_problem(pack)
    assert problem.code == "manifest"
    assert problem.location.line > 0 and problem.location.column > 0
    assert needle in text.splitlines()[problem.location.line - 1]
    assert "(at line" not in problem.message  # the place is in the location, said once
    result = CliRunner().invoke(app, ["lint", str(pack)])
    assert result.exit_code == 1
    printed = "".join(result.output.split())  # the console wraps long paths
    assert f"pack.toml:{problem.location.line}:{problem.location.column}:manifest" in printed


def test_an_unterminated_string_points_at_the_end_of_the_file(tmp_path):
    pack = tmp_path / "toy"
    shutil.copytree(FIXTURES / "packs" / "toy", pack)
    (pack / "pack.toml").write_text('name = "toy"\nversion = "0.1')
    problem = _toml_problem(pack)
    assert (problem.location.line, problem.location.column) == (2, 15)
