"""OpenTelemetry traces of the shipped expense agent, with the SDK's in-memory exporter: one trace
per run across a review pause, a decision and a resume (the resume traced by another tracer
provider, as a later process would: the trace's context comes from the store); the span tree;
rule checks with verdict, rules fired, pack identity and timings; model calls; and traces off by
default, without OpenTelemetry even imported."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from nesyflow import telemetry
from nesyflow.cli.demo import load_samples
from nesyflow.engine import resume, start_run
from nesyflow.graph import load_workflow
from nesyflow.llm import scripted_responses
from nesyflow.review import decide
from nesyflow.store import open_store

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLES = {row["id"]: row for row in load_samples(AGENT / "samples.jsonl")}


def _exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use(provider)
    return exporter


@pytest.fixture
def spans():
    exporter = _exporter()
    yield exporter
    telemetry.use(None)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("NESYFLOW_EXTRACT_CHOOSER", "person")  # the reading alone: no model
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def _uber_after_submission() -> dict:
    """exp-001 with the ride dated after the submission day: the rules send it to a person."""
    row = copy.deepcopy(SAMPLES["exp-001"])
    row["request"] = row["request"].replace("April 2nd", "June 3rd")
    row["receipt"] = row["receipt"].replace("Wed, Apr 2, 2025", "Tue, Jun 3, 2025")
    return row


def _by_name(finished, prefix):
    return [s for s in finished if s.name.startswith(prefix)]


def _parent(span):
    return None if span.parent is None else span.parent.span_id


def test_one_trace_across_a_review_pause_a_decision_and_a_resume(spans, store):
    flow = load_workflow(AGENT / "workflow.yaml")
    first = start_run(flow, _uber_after_submission(), store=store)
    assert first.status.value == "waiting_review"
    before = list(spans.get_finished_spans())

    # a later process: another tracer provider, nothing in memory but what the store keeps
    later = _exporter()
    decide(first.review_id, "approve", "ana", "the date is a typo", store=store)
    done = resume(first.run_id, store=store)
    assert done.status.value == "completed", done.error
    after = list(later.get_finished_spans())

    every = before + after
    assert len({s.context.trace_id for s in every}) == 1  # one trace for the whole run
    (root,) = _by_name(before, "run expense")
    assert root.parent is None
    assert root.attributes["nesyflow.run.id"] == first.run_id
    assert root.attributes["nesyflow.run.status"] == "waiting_review"
    assert root.attributes["nesyflow.review.id"] == first.review_id

    # the first segment's steps, in order, each a child of the root, annotated by its checkpoint
    stored = store.steps(first.run_id)
    steps = sorted(_by_name(before, "step "), key=lambda s: s.start_time)
    assert [s.name for s in steps] == ["step evidence", "step read", "step extract"]
    assert all(_parent(s) == root.context.span_id for s in steps)
    assert [s.attributes["nesyflow.step.seq"] for s in steps] == [1, 2, 3]
    assert [s.attributes["nesyflow.step.id"] for s in steps] == [x.id for x in stored[:3]]
    extract = steps[2]
    assert extract.attributes["nesyflow.verdict"] == stored[2].verdict.value == "fail"
    assert extract.attributes["nesyflow.review.rules"] == ("item_after_submission",)

    # the rule check of the claim: verdict, the rule that fired, the pack's identity, timings
    (check,) = [s for s in _by_name(before, "rules ") if _parent(s) == extract.context.span_id]
    pack = stored[2].packs[0]
    assert check.name == "rules expense"
    assert check.attributes["nesyflow.verdict"] == "fail"
    assert "item_after_submission" in check.attributes["nesyflow.rules.fired"]
    assert (
        check.attributes["nesyflow.pack.name"],
        check.attributes["nesyflow.pack.version"],
        check.attributes["nesyflow.pack.hash"],
    ) == (pack["name"], pack["version"], pack["hash"])
    assert check.attributes["nesyflow.rules_ms"] > 0
    assert check.attributes["nesyflow.rules.solve_ms"] >= 0
    assert check.attributes["nesyflow.facts_hash"] == stored[2].check["results"][0]["facts_hash"]

    # the decision and the resume: under the same root, linked to the segment that paused
    (decision,) = _by_name(after, "decision approve")
    assert _parent(decision) == root.context.span_id
    assert [link.context.span_id for link in decision.links] == [root.context.span_id]
    assert decision.attributes["nesyflow.decision.who"] == "ana"
    assert decision.attributes["nesyflow.decision.id"] == store.decision_for(first.review_id).id
    (again,) = _by_name(after, "resume expense")
    assert _parent(again) == root.context.span_id
    assert [link.context.span_id for link in again.links] == [root.context.span_id]
    assert again.attributes["nesyflow.run.status"] == "completed"
    later_steps = sorted(
        [s for s in after if _parent(s) == again.context.span_id], key=lambda s: s.start_time
    )
    assert [s.name for s in later_steps] == [
        "decision extract",
        "step paid_before",
        "step route",
        "step pay_approved",
    ]
    assert [s.attributes["nesyflow.step.seq"] for s in later_steps] == [4, 5, 6, 7]
    assert [s.attributes["nesyflow.step.kind"] for s in later_steps] == [
        "decision",
        "tool",
        "branch",
        "tool",
    ]
    # the payment's gate before the tool, then the tool's own check of what to pay, both under
    # the pay step, in that order
    gate = sorted(
        [s for s in after if _parent(s) == later_steps[3].context.span_id],
        key=lambda s: s.start_time,
    )
    assert [s.name for s in gate] == ["rules expense", "rules expense"]
    assert later_steps[3].attributes["nesyflow.verdict"] == store.steps(first.run_id)[-1].verdict
    assert {s.attributes["nesyflow.step.seq"] for s in steps + later_steps} == {
        s.seq for s in store.steps(first.run_id)
    }


def test_a_model_call_is_a_span_of_its_step(spans, store):
    flow = load_workflow(AGENT / "model.yaml")
    row = SAMPLES["exp-001"]
    with scripted_responses([row["expected"]]):
        result = start_run(flow, row, store=store)
    assert result.status.value == "completed", result.error
    finished = spans.get_finished_spans()
    (step,) = _by_name(finished, "step extract")
    (call,) = _by_name(finished, "chat ")
    assert _parent(call) == step.context.span_id
    llm = next(s for s in store.steps(result.run_id) if s.kind == "llm")
    assert call.attributes["gen_ai.request.model"] == llm.model
    assert call.attributes["gen_ai.operation.name"] == "chat"
    assert call.attributes["gen_ai.usage.input_tokens"] == llm.tokens_in
    assert call.attributes["gen_ai.usage.output_tokens"] == llm.tokens_out
    assert step.attributes["nesyflow.model_ms"] == pytest.approx(llm.model_ms)
    # the model's answer was checked after it came back, inside the same step
    (check,) = [s for s in _by_name(finished, "rules ") if _parent(s) == step.context.span_id]
    assert check.start_time >= call.end_time and check.attributes["nesyflow.verdict"] == "pass"


def test_traces_are_off_by_default_and_opentelemetry_is_not_imported(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["NESYFLOW_EXTRACT_CHOOSER"] = "person"
    code = f"""
import copy, json, sys
from pathlib import Path
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.store import open_store
from nesyflow import telemetry
row = next(r for r in load_samples(Path({str(AGENT / "samples.jsonl")!r})) if r["id"] == "exp-001")
result = start_run({str(AGENT / "workflow.yaml")!r}, row, store=open_store("sqlite:///{tmp_path}/s.db"))
print(json.dumps({{"status": result.status.value, "on": telemetry.enabled(),
    "sdk": sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk"))}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"status": "completed", "on": False, "sdk": []}


@pytest.mark.parametrize(
    ("variables", "needle"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
            "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'",
        ),
    ],
)
def test_variables_it_cannot_honour_are_said_before_a_run_is_written(
    variables, needle, store, monkeypatch
):
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    telemetry.use(None)
    try:
        with pytest.raises(telemetry.TelemetryError, match=needle):
            start_run(load_workflow(AGENT / "workflow.yaml"), SAMPLES["exp-001"], store=store)
    finally:
        for key in variables:
            monkeypatch.delenv(key)
        telemetry.use(None)
    from nesyflow.store import queries

    assert queries.list_runs(store).total == 0
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    telemetry.use(None)
    assert telemetry.enabled() is False  # the SDK switched off: nothing else is read
    telemetry.use(None)
