"""``nesyflow whatif`` and ``nesyflow coverage`` on a real store filled by the shipped expense agent:
a pack change is reported as the verdicts and decisions it would change; a rule body production
fires and no test covers gets a test case that, pasted into the pack, passes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.insight import production_coverage, whatif
from nesyflow.logic import load_pack
from nesyflow.logic.testing import run_pack_tests
from nesyflow.review import decide
from nesyflow.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [json.loads(line) for line in (ROOT / "agents/expense/samples.jsonl").open()]
# one claim per outcome: paid, over the meal per diem (approved over it by a person), a receipt
# missing, a late submission for a person, a fact missing
PICK = ("pass", "meal_over_per_diem", "receipt_required", "late_submission_review", "unknown")


def _pick() -> list[dict]:
    out = []
    for want in PICK:
        for row in SAMPLES:
            rules = row.get("expected_rules") or []
            if (want == row["expected_verdict"] and not rules) or rules == [want]:
                out.append(row)
                break
    assert len(out) == len(PICK)
    return out


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A store holding the expense agent's runs on five samples, one approval over a violation."""
    folder = tmp_path_factory.mktemp("history")
    mp = pytest.MonkeyPatch()
    mp.setenv("NESYFLOW_LEDGER", str(folder / "ledger.jsonl"))
    mp.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")  # no model: the reading alone decides
    url = f"sqlite:///{folder / 'store.db'}"
    store = open_store(url)
    flow = load_workflow(ROOT / "agents/expense/workflow.yaml")
    results = {row["id"]: start_run(flow, row, store=store) for row in _pick()}
    per_diem = next(r for r in _pick() if r.get("expected_rules") == ["meal_over_per_diem"])
    review_id = results[per_diem["id"]].review_id
    assert review_id
    decide(review_id, "approve", "fin-ops", "client dinner agreed in advance", store=store)
    yield store, url, per_diem["id"]
    store.close()
    mp.undo()


def _pack_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "expense"
    shutil.copytree(ROOT / "rules/expense", folder)
    return folder


def test_the_same_pack_changes_nothing(history):
    store, _url, _ = history
    report = whatif(store, load_pack(ROOT / "rules/expense"))
    assert report.steps >= 5 and report.skipped == 0
    assert report.changed == 0 and not report.transitions and not report.decisions


def test_a_relaxed_rule_is_reported_with_the_approval_it_makes_moot(history, tmp_path):
    store, _url, _ = history
    folder = _pack_copy(tmp_path)
    rules = folder / "categories.lp"
    text = rules.read_text()
    start = text.index("violation(meal_over_per_diem")
    end = text.index(".\n", start)
    rules.write_text(text[:end] + ", 1 > 2" + text[end:])  # the per-diem cap, switched off
    (folder / "tests").joinpath("categories.yaml").unlink()  # its cases expect the rule
    report = whatif(store, load_pack(folder))
    assert report.rules_stopped["meal_over_per_diem"] >= 1
    assert report.transitions["fail→pass"].count >= 1
    gone = report.decisions["approval_over_rule_gone"]
    assert gone.count >= 1 and "meal_over_per_diem" in gone.examples[0].rules_before
    # the run of that claim is among those affected
    assert any(e.run for e in gone.examples) and report.runs


def test_a_stricter_rule_finds_the_passes_that_would_now_need_a_person(history, tmp_path):
    store, _url, _ = history
    folder = _pack_copy(tmp_path)
    with (folder / "limits.lp").open("a") as f:
        f.write("\nreview(manager_approval_required, claim) :- claim(_).\n")
    report = whatif(store, load_pack(folder))
    assert report.decisions["pass_now_needs_a_person"].count >= 1
    assert report.rules_started["manager_approval_required"] >= 1


def test_coverage_offers_a_test_for_a_body_only_production_fires(history, tmp_path):
    store, _url, _ = history
    full = production_coverage(store, load_pack(ROOT / "rules/expense"))
    fired = [b for b in full.bodies if b.production]
    assert fired and all(b.status == "covered" for b in fired)  # the shipped tests cover them
    # without the pack's receipt tests, production alone fires receipt_required
    folder = _pack_copy(tmp_path)
    for file in (folder / "tests").glob("*.yaml"):
        cases = yaml.safe_load(file.read_text())["cases"]
        kept = [c for c in cases if "receipt_required" not in str(c.get("expect"))]
        file.write_text(yaml.safe_dump({"cases": kept}, sort_keys=False))
    pack = load_pack(folder)
    report = production_coverage(store, pack)
    (body,) = [b for b in report.bodies if b.rule == "receipt_required"]
    assert body.status == "production only: write a test" and body.suggestion
    # the offered case, pasted into the pack's tests, passes and covers the body
    (folder / "tests" / "from_production.yaml").write_text(
        yaml.safe_dump({"cases": yaml.safe_load(body.suggestion)}, sort_keys=False)
    )
    tests = run_pack_tests(load_pack(folder))
    assert tests.failed == 0
    (again,) = [b for b in tests.bodies if b.rule == "receipt_required"]
    assert again.covered


def test_the_commands_report_and_exit(history, tmp_path):
    _store, url, _ = history

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nesyflow.cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )

    same = cli("whatif", "rules/expense", "--db", url, "--format", "json")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["changed"] == 0
    folder = _pack_copy(tmp_path)
    with (folder / "limits.lp").open("a") as f:
        f.write("\nreview(manager_approval_required, claim) :- claim(_).\n")
    changed = cli("whatif", str(folder), "--db", url)
    assert changed.returncode == 1 and "pass_now_needs_a_person" in changed.stdout
    covered = cli("coverage", "rules/expense", "--db", url)
    assert covered.returncode == 0, covered.stdout + covered.stderr
    bad = cli("whatif", "rules/expense", "--db", url, "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr + bad.stdout


def test_a_change_that_removes_one_of_two_instances_of_a_rule_is_a_change(tmp_path):
    """Found by the proposals work: what-if compared rule ids, so a pack that stops one of two
    instances of ``meal_over_per_diem`` (the other still fires) reported 0 steps changed."""
    from insight_history import meal, write_workflow

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    flow = write_workflow(tmp_path)
    claim = meal("104.00")
    second = {**claim["items"][0], "date": "2025-03-11", "amount": "150.00"}
    claim["items"].append(second)
    held = start_run(flow, claim, store=store)
    assert store.get_review(held.review_id).rules == ["meal_over_per_diem"] * 2  # item 0 and 1
    folder = _pack_copy(tmp_path)
    limits = folder / "limits.lp"
    limits.write_text(limits.read_text().replace("per_diem(1, 10000).", "per_diem(1, 12000)."))
    report = whatif(store, load_pack(folder))
    assert report.steps >= 1 and report.changed == 1, report.to_json()
    assert report.rules_changed["meal_over_per_diem"] == 1
    assert not report.rules_stopped  # the rule still fires, once
    store.close()
