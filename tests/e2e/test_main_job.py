"""The main job as a newcomer runs it — ``nesyflow demo`` in a fresh folder, a real subprocess — judged
by what it *does*: which claims are paid (and how much), which wait for a person and for which rule.

The expense agent reads each claim from the request and receipt (``nesyflow.extract``: finders,
the pack's tables, keywords, neighbours; the embedded model only where a choice needs judgement),
so every outcome here is decided by the reading and the rules. An outcome changes only if the
reading, the rules or the engine change — which is what this test is for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from nesyflow.store import open_store
from nesyflow.store.queries import list_runs

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    row["id"]: row
    for row in map(json.loads, (ROOT / "agents" / "expense" / "samples.jsonl").open())
}
NESYFLOW = Path(sys.executable).with_name("nesyflow")
_PAY = ("pay", "pay_approved")


def test_demo_pays_the_passing_claims_and_queues_the_others_with_their_rules(tmp_path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NESYFLOW_LOCAL_THREADS": "1",
        "COLUMNS": "120",
    }
    for name in ("NESYFLOW_DB", "NESYFLOW_MODEL", "NESYFLOW_LEDGER"):
        env.pop(name, None)
    proc = subprocess.run(
        [str(NESYFLOW), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = open_store(f"sqlite:///{tmp_path / '.nesyflow' / 'store.db'}")
    try:
        runs = list_runs(store, page_size=100).items
        assert len(runs) == 12 and {r.workflow for r in runs} == {"expense"}
        verdicts = {SAMPLES[r.input["id"]]["expected_verdict"] for r in runs}
        assert verdicts == {"pass", "fail", "review", "unknown"}  # the demo shows every outcome
        paid_ids, waiting = set(), {}
        for run in runs:
            sample = SAMPLES[run.input["id"]]
            steps = store.steps(run.id)
            payments = [s for s in steps if s.node in _PAY and s.kind == "tool" and s.output]
            if run.status.value == "completed":
                assert len(payments) == 1, run.input["id"]  # paid once
                want = sum(Decimal(i["amount"]) for i in sample["expected"]["items"])
                assert Decimal(str(payments[0].output["amount_usd"])) == want, run.input["id"]
                paid_ids.add(run.input["id"])
            else:
                assert run.status.value == "waiting_review", (run.input["id"], run.error)
                assert payments == [], run.input["id"]  # nothing paid while a person decides
                (review,) = [r for r in store.reviews_for_run(run.id) if r.status.value == "open"]
                waiting[run.input["id"]] = (review.verdict, {r.rule for r in review.reasons})
        should_pay = {r.input["id"] for r in runs} & {
            k for k, v in SAMPLES.items() if v["expected_verdict"] == "pass"
        }
        assert paid_ids == should_pay  # every claim that should be paid, and no other
        for sample_id, (verdict, rules) in waiting.items():
            sample = SAMPLES[sample_id]
            assert verdict == sample["expected_verdict"], sample_id
            assert set(sample.get("expected_rules") or ()) <= rules, (sample_id, rules)
    finally:
        store.close()
    assert "approved and paid" in proc.stdout and "nesyflow console" in proc.stdout
