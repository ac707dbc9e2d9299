"""The main job: the expense agent (``agents/expense/workflow.yaml``) and ``nesyflow demo``, judged by
what they *do* — which claims are paid, which wait for a person and for which rule.

The model is scripted with the file-backed model (``NESYFLOW_MODEL=replay:FILE.jsonl``, which goes
through instructor and litellm like any provider): each sample gets its own replay file holding the
claim a person wrote for it (``expected`` in ``samples.jsonl``), so an outcome changes only if the
rules or the engine change, and a different number of model calls in another sample cannot shift
the replies. The last test runs the real embedded model on three samples and checks the product's
promise on whatever it writes: nothing is paid that the rules did not pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesyflow.cli import app
from nesyflow.store import open_store
from nesyflow.store.queries import list_runs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "agents" / "expense" / "workflow.yaml"
SAMPLES = {
    row["id"]: row
    for row in map(json.loads, (ROOT / "agents" / "expense" / "samples.jsonl").open())
}
NESYFLOW = Path(sys.executable).with_name("nesyflow")


def _ledger(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _replies(*claims: dict | str) -> str:
    return "".join((c if isinstance(c, str) else json.dumps(c)) + "\n" for c in claims)


@pytest.fixture
def run_sample(tmp_path):
    """``nesyflow run WORKFLOW --input SAMPLE --format json`` with the model replaying ``replies``."""
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'store.db'}"
    ledger = tmp_path / "ledger.jsonl"

    def run(sample_id: str, replies: str) -> tuple[dict, list[dict]]:
        sample = tmp_path / f"{sample_id}.json"
        sample.write_text(json.dumps(SAMPLES[sample_id]))
        script = tmp_path / f"{sample_id}.replies.jsonl"
        script.write_text(replies)
        env = {"NESYFLOW_DB": db, "NESYFLOW_LEDGER": str(ledger)}
        env["NESYFLOW_MODEL"] = f"replay:{script}"
        res = runner.invoke(
            app, ["run", str(WORKFLOW), "--input", str(sample), "--format", "json"], env=env
        )
        assert res.exit_code == 0, res.output
        (line,) = res.stdout.strip().splitlines()
        return json.loads(line), _ledger(ledger)

    run.env = {"NESYFLOW_DB": db}  # type: ignore[attr-defined]
    return run


def test_a_claim_the_rules_pass_is_paid_once_with_its_amount(run_sample):
    sample = SAMPLES["exp-001"]  # an Uber ride, $27.40, receipt attached
    run, ledger = run_sample("exp-001", _replies(sample["expected"]))
    assert run["status"] == "completed" and run["reviews"] == []
    assert run["verdicts"]["extract"] == "pass" and run["verdicts"]["pay"] == "pass"
    assert run["derived"]["total_reimbursable"] == "27.4"
    (paid,) = ledger
    assert paid["key"] == f"{run['run']}:pay:1"
    assert Decimal(paid["amount_usd"]) == Decimal("27.40")
    assert paid["employee_name"] == sample["employee"]["name"]


@pytest.mark.parametrize(
    ("sample_id", "verdict"),
    [
        ("exp-028", "fail"),  # dinner over the per diem: fails, reasked once, still fails
        ("exp-031", "fail"),  # business class for staff, over the approval limit
        ("exp-048", "review"),  # over the staff approval limit: a person decides
    ],
)
def test_a_claim_that_breaks_a_rule_waits_for_a_person_naming_that_rule(
    run_sample, sample_id, verdict
):
    sample = SAMPLES[sample_id]
    run, ledger = run_sample(sample_id, _replies(sample["expected"], sample["expected"]))
    assert run["status"] == "waiting_review" and ledger == []
    (review,) = run["reviews"]
    assert review["status"] == "open" and review["node"] == "extract"
    assert review["verdict"] == verdict
    assert sorted(review["rules"]) == sorted(sample["expected_rules"])
    assert len(review["id"]) == 36  # whole, ready to paste into `nesyflow reviews approve`
    # the held claim's totals, from the check that sent it to a person
    claimed = sum(Decimal(i["amount"]) for i in sample["expected"]["items"])
    assert Decimal(run["derived"]["total_claimed"]) == claimed


def test_a_claim_missing_a_fact_the_rules_need_waits_naming_the_fact(run_sample):
    sample = SAMPLES["exp-061"]  # a meal: whether it included alcohol is not written
    run, ledger = run_sample("exp-061", _replies(sample["expected"]))
    assert run["status"] == "waiting_review" and ledger == []
    (review,) = run["reviews"]
    assert review["verdict"] == "unknown" and review["rules"] == []
    missing = [r for r in review["reasons"] if r["kind"] == "missing"]
    assert [m["message"].split("'")[1] for m in missing] == sample["expected_missing"]


def test_a_misread_amount_is_sent_back_and_the_corrected_claim_is_paid(run_sample):
    sample = SAMPLES["exp-002"]  # lunch, $18.65 on the receipt
    misread = json.loads(json.dumps(sample["expected"]))
    misread["items"][0]["amount"] = (
        "16.85"  # under the per diem, but written nowhere in the request or receipt
    )
    run, ledger = run_sample("exp-002", _replies(misread, sample["expected"]))
    assert run["status"] == "completed" and run["reviews"] == []
    (paid,) = ledger
    assert Decimal(paid["amount_usd"]) == Decimal("18.65")


def test_a_misread_amount_never_corrected_is_not_paid(run_sample):
    sample = SAMPLES["exp-002"]
    misread = json.loads(json.dumps(sample["expected"]))
    misread["items"][0]["amount"] = "16.85"
    run, ledger = run_sample("exp-002", _replies(misread, misread))
    assert run["status"] == "waiting_review" and ledger == []
    assert run["reviews"][0]["rules"] == ["amount_not_in_source"]


def test_a_model_that_runs_out_of_replies_sends_the_claim_to_a_person(run_sample):
    run, ledger = run_sample("exp-001", "")
    assert run["status"] == "waiting_review" and ledger == []
    (review,) = run["reviews"]
    assert review["verdict"] == "fail" and review["rules"] == []
    assert "replies are used" in review["reasons"][0]["message"]
    # a review whose reason names no rule lists and shows like any other (it used to crash `list`)
    listing = CliRunner().invoke(app, ["reviews", "list"], env=run_sample.env)
    assert listing.exit_code == 0 and review["id"] in listing.stdout


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.update(COLUMNS="120", NESYFLOW_LOCAL_THREADS="1", **extra)
    for name in ("NESYFLOW_DB", "NESYFLOW_LEDGER", "NESYFLOW_MODEL"):
        if name not in extra:
            env.pop(name, None)
    return env


def _runs_by_sample(db: Path) -> dict[str, tuple[str, list]]:
    """sample id → (run status, [(review verdict, rules)]), matched by the request text."""
    by_request = {s["request"]: sid for sid, s in SAMPLES.items()}
    store = open_store(f"sqlite:///{db}")
    try:
        out = {}
        for run in list_runs(store).items:
            reviews = [
                (r.verdict, sorted(filter(None, r.rules))) for r in store.reviews_for_run(run.id)
            ]
            out[by_request[run.input["request"]]] = (run.status.value, reviews)
        return out
    finally:
        store.close()


def test_demo_pays_the_passing_claims_and_queues_the_others_with_their_rules(tmp_path):
    """``nesyflow demo`` (the main job, its 12 samples) in a fresh folder, a real process, the model
    replayed from a file holding, for each sample in turn, the claim a person wrote for it (twice
    for a claim the rules fail: the reask gets it again)."""
    from nesyflow.cli.demo import default_subset, load_samples
    from nesyflow.graph import load_workflow

    reasks = load_workflow(WORKFLOW).node("extract").on_fail.max_reasks
    chosen = default_subset(load_samples(ROOT / "agents" / "expense" / "samples.jsonl"))
    script = tmp_path / "replies.jsonl"
    script.write_text(
        _replies(
            *(
                claim
                for s in chosen
                for claim in [s["expected"]]
                * (1 + (reasks if s["expected_verdict"] == "fail" else 0))
            )
        )
    )
    proc = subprocess.run(
        [str(NESYFLOW), "demo", "--model", f"replay:{script}"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    expected = {
        s["id"]: ("completed", [])
        if s["expected_verdict"] == "pass"
        else ("waiting_review", [(s["expected_verdict"], sorted(s["expected_rules"]))])
        for s in chosen
    }
    assert {v for v, _ in expected.values()} == {"completed", "waiting_review"}
    assert _runs_by_sample(tmp_path / ".nesyflow" / "store.db") == expected
    paid = _ledger(tmp_path / ".nesyflow" / "ledger.jsonl")
    want = sorted(
        sum(Decimal(i["amount"]) for i in s["expected"]["items"])
        for s in chosen
        if s["expected_verdict"] == "pass"
    )
    assert sorted(Decimal(p["amount_usd"]) for p in paid) == want
    n_paid = len(want)
    assert re.search(rf"approved and paid\D+{n_paid}\b", proc.stdout), proc.stdout
    assert re.search(rf"sent to a person\D+{len(chosen) - n_paid}\b", proc.stdout), proc.stdout


@pytest.mark.local_model
def test_demo_on_the_embedded_model_pays_only_what_the_rules_passed(tmp_path):
    """The newcomer's ``nesyflow demo`` on the real local model: whatever the 135M model writes,
    every paid claim passed the rules (the claim and the payment call), every other one waits with
    reasons, and the ledger holds exactly the paid runs."""
    proc = subprocess.run(
        [str(NESYFLOW), "demo", "--limit", "3"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = open_store(f"sqlite:///{tmp_path / '.nesyflow' / 'store.db'}")
    try:
        runs = list_runs(store).items
        assert len(runs) == 3 and {r.workflow for r in runs} == {"expense"}
        completed = set()
        for run in runs:
            steps = store.steps(run.id)
            llm = [s for s in steps if s.kind == "llm"]
            assert llm and llm[0].model == "local/smollm2" and llm[0].model_ms > 0
            assert llm[0].packs and llm[0].packs[0]["name"] == "expense"
            if run.status.value == "completed":
                completed.add(run.id)
                checked = [s for s in steps if s.node in ("extract", "pay") and s.verdict]
                decided = [s for s in steps if s.kind == "decision"]
                assert decided or {s.verdict for s in checked[-2:]} == {"pass"}
            else:
                assert run.status.value == "waiting_review"
                (review,) = [r for r in store.reviews_for_run(run.id) if r.status.value == "open"]
                assert review.reasons and review.verdict in ("fail", "review", "unknown")
    finally:
        store.close()
    paid_runs = {e["key"].split(":")[0] for e in _ledger(tmp_path / ".nesyflow" / "ledger.jsonl")}
    assert paid_runs == completed
