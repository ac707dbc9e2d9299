"""What holding decisions to the rules on disk costs, on the shipped expense agent and pack.

Measures (p50/p95 over N calls, milliseconds):
* ``load_packs``: the expense pack taken from its folder (content-hashed every call; the parsed
  pack is cached by that hash) — paid by every check since packs are never taken from a copy;
* ``check_subject``: one check of a claim with the node's context (packs from disk included);
* ``check_edit``: a reviewer's edit fitted to the schema and checked (what ``decide`` and the
  console's live preview do);
* ``resume``: approving a review and resuming the run to the payment, re-check included.
Writes benchmarks/results/decisions.json.

    .venv/bin/python benchmarks/decisions.py            # 200 calls, 20 resumes
    .venv/bin/python benchmarks/decisions.py --quick    # 50 calls, 5 resumes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENT = ROOT / "agents" / "expense"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 3),
        "p95_ms": round(pct(values, 0.95), 3),
        "mean_ms": round(statistics.fmean(values), 3),
    }


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls, resumes = (50, 5) if args.quick else (200, 20)

    from nesyflow.cli.demo import load_samples
    from nesyflow.engine import resume, start_run
    from nesyflow.engine.checking import check_subject, load_packs
    from nesyflow.graph import load_workflow
    from nesyflow.llm import scripted_responses
    from nesyflow.review import check_edit, decide
    from nesyflow.store import open_store

    tmp = Path(tempfile.mkdtemp(prefix="nf-decisions-"))
    os.environ["NESYFLOW_LEDGER"] = str(tmp / "ledger.jsonl")
    store = open_store(f"sqlite:///{tmp / 'store.db'}")
    flow = load_workflow(AGENT / "workflow.yaml")
    samples = {r["id"]: r for r in load_samples(AGENT / "samples.jsonl")}
    row = samples["exp-001"]
    refs = flow.nodes["extract"].packs

    load_ms = timed(lambda: load_packs(refs), calls)
    context = {"source_checked": True, "source_amounts": ["27.40", "22.15", "2.75", "2.50"]}
    check_ms = timed(lambda: check_subject(refs, row["expected"], context), calls)

    wrong = json.loads(json.dumps(row["expected"]))
    wrong["items"][0]["date"] = "2025-06-03"
    with scripted_responses([wrong, wrong]):
        held = start_run(flow, row, store=store)
    review = store.get_review(held.review_id)
    edit_ms = timed(lambda: check_edit(store, review, row["expected"], flow), calls)

    approval = next(
        r
        for r in samples.values()
        if r["expected_verdict"] == "review"
        and r["expected_rules"] == ["manager_approval_required"]
    )
    resume_ms = []
    for _ in range(resumes):
        with scripted_responses([approval["expected"]]):
            run = start_run(flow, approval, store=store)
        decide(run.review_id, "approve", "bench", "agreed", store=store)
        started = time.perf_counter()
        done = resume(run.run_id, store=store, workflow=flow)
        resume_ms.append((time.perf_counter() - started) * 1000)
        assert done.status.value == "completed", done.error
    store.close()

    result = {
        "benchmark": "decisions",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "pack": "rules/expense",
        "load_packs_from_disk": summary(load_ms),
        "check_subject_with_context": summary(check_ms),
        "check_edit": summary(edit_ms),
        "approve_then_resume_to_payment": summary(resume_ms),
    }
    out = ROOT / "benchmarks" / "results" / "decisions.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        if isinstance(value, dict) and "p50_ms" in value:
            print(f"{key:34s} p50 {value['p50_ms']:8.2f} ms  p95 {value['p95_ms']:8.2f} ms")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
