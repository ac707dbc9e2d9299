"""The rule author's commands, run as a real subprocess: output shapes and exit statuses."""

import json
import subprocess
import sys

from ..conftest import FIXTURES, ROOT

TOY = str(FIXTURES / "packs" / "toy")


def nesyflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_check_json_one_object_per_case_and_exit_1_when_any_fails(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"level": "staff", "items": [{"category": "meals", "amount": 1}]}\n'
        "\n"
        '{"level": "staff", "items": [{"category": "alcohol", "amount": 1}]}\n'
    )
    proc = nesyflow("check", TOY, "--input", str(cases), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["pass", "fail"]
    assert set(rows[0]) >= {
        "verdict",
        "violations",
        "reviews",
        "denials",
        "missing",
        "derived",
        "pack",
        "timings",
    }
    (violation,) = rows[1]["violations"]
    assert violation["rule"] == "no_alcohol"
    assert violation["message"] == "Alcohol is not reimbursable."
    assert violation["explanation"][0]["input_facts"] == ["item_category(2,alcohol)", "item(2)"]
    assert rows[0]["pack"]["name"] == "toy"


def test_check_exit_0_when_all_pass(tmp_path):
    case = tmp_path / "case.json"
    case.write_text('{"level": "staff", "items": [{"category": "meals", "amount": 1}]}')
    proc = nesyflow("check", TOY, "--input", str(case))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout


def test_bad_input_names_file_line_and_field_without_traceback(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"level": "staff", "items": []}\n{"level": "boss", "items": [{"category": "meals"}]}\n'
    )
    proc = nesyflow("check", TOY, "--input", str(cases))
    assert proc.returncode == 2
    assert f"{cases}:2: field level" in proc.stderr
    assert f"{cases}:2: field items.0.amount: Field required" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"level": "staff", "items": []}\n{"level": \n')
    proc = nesyflow("check", TOY, "--input", str(broken))
    assert proc.returncode == 2 and f"{broken}:2:" in proc.stderr and "invalid JSON" in proc.stderr

    proc = nesyflow("check", TOY, "--input", str(tmp_path / "absent.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_pack_is_exit_2_with_every_problem():
    proc = nesyflow("check", str(FIXTURES / "packs" / "broken"), "--input", "x.json")
    assert proc.returncode == 2
    assert "syntax.lp:2:5" in proc.stderr and "Traceback" not in proc.stderr


def test_test_command_reports_coverage_and_fails_under_threshold(tmp_path):
    proc = nesyflow("test", TOY, "--format", "json")
    assert proc.returncode == 0, proc.stdout
    (report,) = json.loads(proc.stdout)
    assert report["passed"] == 5 and report["failed"] == 0 and report["coverage"] == 100.0

    import shutil

    pack = tmp_path / "toy"
    shutil.copytree(TOY, pack)
    cases = (pack / "tests" / "cases.yaml").read_text()
    (pack / "tests" / "cases.yaml").write_text(
        cases.replace("verdict: review, reviews: [gift_note]", "verdict: pass")
    )
    proc = nesyflow("test", str(pack))
    assert proc.returncode == 1
    assert "expected pass, got review" in proc.stdout.replace("\n", " ")
    # drop the only case that fires gift_note: coverage falls to 3 of 4 rules
    (pack / "tests" / "cases.yaml").write_text(cases.replace("note: gift", "note: other"))
    proc = nesyflow("test", str(pack), "--fail-under", "100")
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 1, text
    assert "coverage 75.0%" in text and "never fired: gift_note" in text
    assert "below --fail-under" in text


def test_lint_and_facts_commands(tmp_path):
    assert nesyflow("lint", TOY).returncode == 0
    assert nesyflow("lint", str(FIXTURES / "packs" / "broken")).returncode == 1
    case = tmp_path / "case.json"
    case.write_text('{"level": "staff", "items": [{"category": "meals", "amount": "1.5"}]}')
    proc = nesyflow("facts", TOY, "--input", str(case))
    assert proc.returncode == 0
    assert "item_amount(2,150)." in proc.stdout.splitlines()
    proc = nesyflow("facts", TOY, "--schema")
    assert "item_amount" in proc.stdout and "integer in cents" in proc.stdout


def test_check_does_not_import_heavy_libraries():
    code = (
        "import sys; from typer.testing import CliRunner; from nesyflow.cli import app;"
        f"r = CliRunner().invoke(app, ['lint', {TOY!r}]); assert r.exit_code == 0, r.output;"
        "heavy = [m for m in ('litellm', 'torch', 'streamlit', 'sentence_transformers', 'instructor')"
        " if m in sys.modules]; print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_coverage_is_the_same_whether_the_pack_is_named_relative_or_absolute():
    """`make test` names the packs relative to the repository (`rules/*`): a rule's file in an
    explanation must still be the pack's own file, or no body would ever count as covered."""
    relative = nesyflow("test", "rules/expense", "--fail-under", "100", "--format", "json")
    absolute = nesyflow(
        "test", str(ROOT / "rules" / "expense"), "--fail-under", "100", "--format", "json"
    )
    assert relative.returncode == absolute.returncode == 0, relative.stdout + relative.stderr
    assert (
        json.loads(relative.stdout)[0]["coverage"]
        == json.loads(absolute.stdout)[0]["coverage"]
        == 100.0
    )
