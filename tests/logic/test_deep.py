"""``nesyflow lint --deep``: each defect found at its line on a pack built to have it; none on a clean
pack; a rule made unfireable in a shipped pack is caught; the CLI's exit codes and JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from nesyflow.logic import load_pack
from nesyflow.logic.deep import analyse_pack

ROOT = Path(__file__).resolve().parents[2]
FLAWED = ROOT / "tests/fixtures/packs/flawed"
TOY = ROOT / "tests/fixtures/packs/toy"


def _by_code(report) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for p in report.problems:
        out.setdefault(p.code, []).append(p.location.line)
    return out


def test_every_defect_is_found_at_its_rule() -> None:
    report = analyse_pack(load_pack(FLAWED))
    assert _by_code(report) == {
        "redundant": [5],  # above_cap repeats over_limit (line 4)
        "never_fires": [7],  # impossible: A > 10000, A < 5000
        "always_fires": [9],  # has_items: every claim
        "review_shadowed": [11],  # big_item: always over the limit first
        "two_values": [15],  # a manager has two level caps
    }
    assert report.inputs > len(list((FLAWED / "tests").glob("*.yaml")))
    assert not report.incomplete


def test_a_clean_pack_has_no_findings() -> None:
    report = analyse_pack(load_pack(TOY))
    assert report.problems == ()
    assert report.inputs > 50  # it did look


def test_a_rule_made_unfireable_in_the_shipped_expense_pack_is_caught(tmp_path: Path) -> None:
    pack_dir = tmp_path / "expense"
    shutil.copytree(ROOT / "rules/expense", pack_dir)
    limits = pack_dir / "categories.lp"
    text = limits.read_text()
    lines = text.splitlines()
    # the first violation rule of the file gets a condition no amount can meet
    index = next(i for i, line in enumerate(lines) if line.startswith("violation("))
    end = next(i for i in range(index, len(lines)) if lines[i].rstrip().endswith("."))
    lines[end] = lines[end].rstrip()[:-1] + ", 1 > 2."
    limits.write_text("\n".join(lines) + "\n")
    report = analyse_pack(load_pack(pack_dir), max_inputs=1500)
    never = [p for p in report.problems if p.code == "never_fires"]
    assert [p.location.line for p in never] == [index + 1]
    assert never[0].location.file.endswith("categories.lp")


def _nesyflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_cli_exit_codes_and_json() -> None:
    clean = _nesyflow("lint", "--deep", str(TOY))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "nothing found" in clean.stdout
    flawed = _nesyflow("lint", "--deep", "--format", "json", str(FLAWED))
    assert flawed.returncode == 1
    (entry,) = json.loads(flawed.stdout)
    codes = sorted(p["code"] for p in entry["deep"]["problems"])
    assert codes == ["always_fires", "never_fires", "redundant", "review_shadowed", "two_values"]
    assert all(
        p["location"].startswith("tests/fixtures/packs/flawed/rules.lp:")
        for p in entry["deep"]["problems"]
    )


def test_a_case_too_large_for_the_rules_is_analysed_not_a_traceback(tmp_path: Path) -> None:
    """Found on the invoice pack: a test case of 3,000,000,000.00 (past 32-bit cents) crashed
    ``lint --deep`` with OutOfRange instead of being a case whose verdict is unknown."""
    pack_dir = tmp_path / "toy"
    shutil.copytree(TOY, pack_dir)
    cases = pack_dir / "tests" / "huge.yaml"
    cases.write_text(
        "cases:\n  - name: past 32 bits\n"
        '    input: {level: staff, items: [{category: meals, amount: "3000000000.00"}]}\n'
        "    expect: {verdict: unknown}\n"
    )
    report = analyse_pack(load_pack(pack_dir))
    assert report.problems == () and report.inputs > 50
