"""Input limits that really limit: YAML alias bombs, self-containing aliases and absurd nesting are
refused with their place (in workflows and in pack tests); reask and visit bounds are bounded."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesyflow.cli.app import app
from nesyflow.errors import ProblemsError
from nesyflow.graph import load_workflow
from nesyflow.logic import load_pack
from nesyflow.logic.testing import run_pack_tests

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
runner = CliRunner()

# The classic: nine levels of nine aliases each, 9^9 ≈ 387 million strings from 1 kB of text.
BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} ["
        + ", ".join([f"*{chr(ord('a') + i - 1)}"] * 9)
        + "]"
        for i in range(1, 9)
    ]
)


def _workflow(tmp_path: Path, edit=None, extra: str = "") -> Path:
    folder = tmp_path / "expense_lite"
    shutil.copytree(FIXTURES / "workflows" / "expense_lite", folder)
    path = folder / "workflow.yaml"
    text = path.read_text()
    if edit:
        text = edit(text)
    path.write_text(extra + text)
    return path


def _limit_memory() -> None:  # in the child: 1.5 GB of address space is plenty for validate
    resource.setrlimit(resource.RLIMIT_AS, (1_500 * 2**20, 1_500 * 2**20))


def test_validate_refuses_a_billion_laughs_quickly_within_bounded_memory(tmp_path):
    path = _workflow(tmp_path, extra=BOMB + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        env={"PYTHONPATH": str(ROOT / "runtime"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "yaml_limit" in proc.stdout and "billion laughs" in proc.stdout
    assert f"{path}:" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a: &a [1, *a]\n", "contains it"),
        ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "levels deep"),
        ("a: " + "[" * 70 + "]" * 70 + "\n", "levels deep"),
    ],
    ids=["self-alias", "100k-levels", "70-levels"],
)
def test_self_containing_aliases_and_deep_nesting_are_problems_not_tracebacks(tmp_path, text, why):
    path = _workflow(tmp_path, extra=text)
    with pytest.raises(ProblemsError) as info:
        load_workflow(path)
    (problem,) = info.value.problems
    assert problem.code == "yaml_limit" and why in problem.message
    assert problem.location.file == str(path)


def test_merge_keys_and_a_few_aliases_still_load(tmp_path):
    path = _workflow(
        tmp_path,
        edit=lambda t: t.replace(
            "{policy: reask, max_reasks: 3, then: human}",
            "{<<: &base {policy: reask, then: human}, max_reasks: 2}",
        ),
    )
    assert load_workflow(path).node("extract").on_fail.max_reasks == 2


@pytest.mark.parametrize(
    ("edit", "field", "line_text"),
    [
        (
            lambda t: t.replace("max_reasks: 3", "max_reasks: 100000000"),
            "max_reasks 100,000,000 is more than 10",
            "max_reasks: 100000000",
        ),
        (
            lambda t: t.replace(
                "    next: route\n", "    next: route\n    max_visits: 2147483648\n", 1
            ),
            "max_visits 2,147,483,648 is more than 10,000",
            "max_visits: 2147483648",
        ),
    ],
    ids=["max_reasks", "max_visits"],
)
def test_huge_bounds_are_refused_at_their_line(tmp_path, edit, field, line_text):
    path = _workflow(tmp_path, edit=edit)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "bound_too_large" in result.output and field in result.output
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if line_text in t)
    assert f"{path}:{line}:" in result.output


def test_reasonable_bounds_still_validate(tmp_path):
    path = _workflow(tmp_path, edit=lambda t: t.replace("max_reasks: 3", "max_reasks: 10"))
    assert load_workflow(path).node("extract").on_fail.max_reasks == 10


@pytest.mark.parametrize(
    ("text", "why"),
    [(BOMB + "\ncases: []\n", "billion laughs"), ("cases: " + "[" * 50_000 + "]" * 50_000, "deep")],
    ids=["bomb", "deep"],
)
def test_pack_tests_refuse_bombs_and_deep_nesting_as_a_failed_file(tmp_path, text, why):
    folder = tmp_path / "toy"
    shutil.copytree(FIXTURES / "packs" / "toy", folder)
    (folder / "tests" / "bomb.yaml").write_text(textwrap.dedent(text))
    report = run_pack_tests(load_pack(folder))
    (bad,) = [c for c in report.cases if not c.passed]
    assert bad.name == "bomb.yaml" and "refused YAML" in (bad.error or "") and why in bad.error
    assert report.passed == 5  # the pack's other cases still run


def test_the_python_builder_is_bounded_the_same_way():
    from pydantic import BaseModel

    from nesyflow.graph import WorkflowBuilder

    class Req(BaseModel):
        text: str

    class Out(BaseModel):
        note: str

    builder = WorkflowBuilder("b", Req, model="m").llm(
        "draft",
        prompt="{{ t }}",
        input={"t": "input.text"},
        output=Out,
        on_fail={"policy": "reask", "max_reasks": 2**31},
    )
    with pytest.raises(ProblemsError) as info:
        builder.build()
    (problem,) = info.value.problems
    assert problem.code == "bound_too_large" and "2,147,483,648" in problem.message
