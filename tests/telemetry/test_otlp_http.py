"""Spans reach a real OTLP/HTTP receiver on 127.0.0.1, configured only by the standard OTEL_*
variables: the shipped expense agent run by ``nesyflow run`` in one process pauses for a person;
``nesyflow reviews approve`` in another process decides and resumes it; the receiver gets both
processes' spans in one trace, with the service name and headers the variables set."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from otlp_receiver import otlp_receiver

from nesyflow.cli.demo import load_samples

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"


def _cli(args, env):
    return subprocess.run(
        [sys.executable, "-m", "nesyflow.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_spans_of_two_processes_arrive_at_an_otlp_receiver_in_one_trace(tmp_path):
    row = copy.deepcopy(
        next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-001")
    )
    row["request"] = row["request"].replace("April 2nd", "June 3rd")
    row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
    claim = tmp_path / "claim.json"
    claim.write_text(json.dumps(row))
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with otlp_receiver() as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env |= {
            "PYTHONPATH": str(ROOT / "runtime"),
            "NESYFLOW_EXTRACT_CHOOSER": "person",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_SERVICE_NAME": "expenses-prod",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        first = _cli(["run", str(AGENT / "workflow.yaml"), "--input", str(claim), "--db", db], env)
        assert first.returncode == 0, first.stderr
        run_id, status, _, review_id = first.stdout.split()[:4]
        assert status == "waiting_review"
        second = _cli(
            [
                "reviews",
                "approve",
                review_id,
                "-m",
                "the date is a typo",
                "--who",
                "ana",
                "--db",
                db,
            ],
            env,
        )
        assert second.returncode == 0, second.stderr
        assert "completed" in second.stdout
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            s.name == "resume expense" for s in receiver.spans
        ):
            time.sleep(0.1)  # both processes flushed at exit; this only waits out the socket
        spans = list(receiver.spans)
    names = [s.name for s in spans]
    for name in (
        "run expense",
        "step extract",
        "rules expense",
        "decision approve",
        "resume expense",
    ):
        assert name in names, names
    assert len({s.trace_id for s in spans}) == 1
    (root,) = [s for s in spans if s.name == "run expense"]
    (decision,) = [s for s in spans if s.name == "decision approve"]
    (again,) = [s for s in spans if s.name == "resume expense"]
    assert root.parent_span_id == "" and root.attributes["nesyflow.run.id"] == run_id
    assert decision.parent_span_id == root.span_id and again.parent_span_id == root.span_id
    assert again.links == (root.span_id,)
    assert again.attributes["nesyflow.run.status"] == "completed"
    assert decision.attributes["nesyflow.decision.who"] == "ana"
    check = next(
        s for s in spans if s.name == "rules expense" and s.attributes["nesyflow.verdict"] == "fail"
    )
    assert "item_after_submission" in check.attributes["nesyflow.rules.fired"]
    assert all(s.resource["service.name"] == "expenses-prod" for s in spans)
    assert all(s.resource["deployment.environment"] == "test" for s in spans)
    assert receiver.requests and all(h.get("x-tenant") == "acme" for h in receiver.requests)
    assert all(h["content-type"] == "application/x-protobuf" for h in receiver.requests)
