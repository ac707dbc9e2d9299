"""OpenTelemetry traces carry no sensitive value: a tool whose error quotes the account fails the
run, and every span's attributes and events (the step's error, the run's) hold placeholders."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from payout_support import IBAN, REQUEST, leaks, run_payout

from nesyflow import telemetry
from nesyflow.review import decide
from nesyflow.schema.redact import placeholder
from nesyflow.store import open_store


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use(provider)
    yield exporter
    telemetry.use(None)


def test_a_tool_error_quoting_the_account_reaches_the_trace_masked(spans, tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    result, _ = run_payout(store, tmp_path, monkeypatch, request={**REQUEST, "amount": 999})
    done = decide(
        result.review_id, "approve", "rita", "paper invoice seen", store=store, resume=True
    )
    errors = [s.error for s in store.steps(result.run_id) if s.error]
    assert errors and IBAN in errors[-1]  # the store keeps what the tool said
    assert done.run is not None
    exported = []
    for sp in spans.get_finished_spans():
        exported.append(str(dict(sp.attributes or {})))
        exported.extend(str(dict(e.attributes or {})) for e in sp.events)
        exported.append(str(sp.status.description or ""))
    text = "\n".join(exported)
    assert leaks(text) == []
    assert placeholder("bank", IBAN) in text  # the error is there, masked
