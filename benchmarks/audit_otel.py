"""What the decision log and the traces cost.

Measures, in one run, interleaved so that machine load hits every variant alike:
- a run of the shipped expense agent (exp-001, paid, no model: ``NESYFLOW_EXTRACT_CHOOSER=person``)
  with traces off, and on with the SDK's in-memory exporter (every span made and kept);
- ``decide`` on a SQLite store (the decision and its log entry in one transaction), p50/p95;
- ``audit verify`` of a log of N entries.
Writes benchmarks/results/audit_otel.json.

    .venv/bin/python benchmarks/audit_otel.py            # 30 runs a variant, 1,000 decisions
    .venv/bin/python benchmarks/audit_otel.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["NESYFLOW_EXTRACT_CHOOSER"] = "person"

from nesyflow import telemetry  # noqa: E402
from nesyflow.cli.demo import load_samples  # noqa: E402
from nesyflow.engine import start_run  # noqa: E402
from nesyflow.graph import load_workflow  # noqa: E402
from nesyflow.store import Action, DecisionDraft, ReviewDraft, RunStatus, open_store  # noqa: E402


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "n": len(ordered),
    }


def traces(runs: int) -> dict:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    flow = load_workflow(ROOT / "agents" / "expense" / "workflow.yaml")
    row = next(
        r for r in load_samples(ROOT / "agents/expense/samples.jsonl") if r["id"] == "exp-001"
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    times: dict[str, list[float]] = {"off": [], "on_in_memory": []}
    with tempfile.TemporaryDirectory() as folder:
        # a store per run: the agent's ledger would stop the same claim paid twice
        start_run(flow, row, store=open_store(f"sqlite:///{folder}/warm.db"))
        for number in range(runs):
            for variant in ("off", "on_in_memory"):
                store = open_store(f"sqlite:///{folder}/{variant}-{number}.db")
                telemetry.use(provider if variant == "on_in_memory" else None)
                started = time.perf_counter()
                result = start_run(flow, row, store=store)
                times[variant].append((time.perf_counter() - started) * 1000)
                assert result.status is RunStatus.COMPLETED, result.error
                store.close()
        telemetry.use(None)
    spans = len(exporter.get_finished_spans()) // runs
    return {"spans_a_run": spans, **{k: _ms(v) for k, v in times.items()}}


def decisions(count: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/s.db")
        reviews = []
        for _ in range(count):
            run = store.create_run("wf", {})
            saved = store.checkpoint(
                run.id,
                expect_version=0,
                state={},
                current_node="a",
                status=RunStatus.WAITING_REVIEW,
                review=ReviewDraft(node="a", verdict="review", output={"x": 1}),
            )
            reviews.append(saved.review.id)
        times = []
        for review_id in reviews:
            started = time.perf_counter()
            store.decide(review_id, DecisionDraft(action=Action.APPROVE, who="bench", comment="c"))
            times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        report = store.verify_audit()
        verify_ms = (time.perf_counter() - started) * 1000
        assert report.ok and report.entries == count
        store.close()
    return {"decide_sqlite": _ms(times), "verify": {"entries": count, "ms": round(verify_ms, 1)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, count = (5, 100) if args.quick else (30, 1000)
    out = {
        "conditions": {
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "note": "measured under load (a shared 2-core machine) unless re-run on a quiet one",
        },
        "expense_run": traces(runs),
        **decisions(count),
    }
    path = ROOT / "benchmarks" / "results" / "audit_otel.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
