"""Provider faults through a whole run: the expense agent over litellm's HTTP route to a scripted
server on loopback. A fault the retries cannot outlast ends in a review that says "the model
provider failed: …" — never an exception out of the run, never a pass, never a payment — and the
run resumes cleanly (approve = try the model again) once the provider is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))

from fault_server import FaultServer, Reply, completion

from nesyflow._imports import load_module
from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide
from nesyflow.store import RunStatus, open_store

ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agents" / "expense"
SAMPLE = next(r for r in load_samples(AGENT / "samples.jsonl") if r["id"] == "exp-001")
assert SAMPLE["expected_verdict"] == "pass", "the sample file changed; pick a passing sample"
ANSWER = json.dumps(SAMPLE["expected"])
NESYFLOW = Path(sys.executable).with_name("nesyflow")


@pytest.fixture(scope="module")
def flow():
    return load_workflow(AGENT / "model.yaml")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The HTTP route, fast retries (3 attempts, waits ×0.01, 0.5 s timeout), a fresh ledger."""
    monkeypatch.setenv("NESYFLOW_MODEL", "openai/smollm2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults")
    monkeypatch.setenv("NESYFLOW_RETRY_SCALE", "0.01")
    monkeypatch.setenv("NESYFLOW_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("NESYFLOW_LLM_ATTEMPTS", "3")
    monkeypatch.delenv("NESYFLOW_MODEL_MODE", raising=False)
    return monkeypatch


TOOLS = load_module(AGENT / "tools.py")


def paid(store) -> list[dict]:
    """The payments kept in the store (the expense agent's ledger is the store's)."""
    return [entry.model_dump(mode="json") for entry in TOOLS.read_ledger(store)]


FAULTS = {
    "429": Reply.json({"error": {"message": "slow"}}, 429, headers=(("Retry-After", "1"),)),
    "500": Reply.json({"error": {"message": "boom"}}, 500),
    "503": Reply(503, b"down", (("Content-Type", "text/plain"),)),
    "timeout": Reply.json(completion(ANSWER), delay_s=1.0),
    "truncated": Reply.json(completion(ANSWER), truncate=True),
    "invalid-json": Reply(200, b"{not json"),
    "not-a-completion": Reply.json({"hello": "world"}),
    "no-choices": Reply.json({**completion(ANSWER), "choices": []}),
    "refusal": Reply.json(completion(None, refusal="I won't do expense claims.")),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_ends_in_a_review_with_the_reason_never_a_pass(name, flow, env, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with FaultServer([FAULTS[name]] * 6) as server:
        env.setenv("OPENAI_API_BASE", server.base_url)
        result = start_run(flow, SAMPLE, store=store)
    assert result.status is RunStatus.WAITING_REVIEW, result.error
    review = store.get_review(result.review_id)
    assert review.kind == "provider" and review.verdict == "unknown" and review.output is None
    reason = review.reasons[0].message
    assert reason.startswith("the model provider failed: openai/smollm2: "), reason
    extract = [s for s in store.steps(result.run_id) if s.node == "extract"]
    assert len(extract) == 1 and extract[0].error == reason and extract[0].verdict == "unknown"
    assert paid(store) == [] and "pay" not in {s.node for s in store.steps(result.run_id)}
    assert 1 <= len(server.received) <= 3  # bounded: one model step, at most 3 HTTP attempts


def test_an_answer_that_is_not_the_schema_is_reasked_then_reviewed_never_paid(flow, env, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    wrong = Reply.json(completion(json.dumps({"employee_name": "Dana", "items": "lots"})))
    with FaultServer([wrong] * 8) as server:
        env.setenv("OPENAI_API_BASE", server.base_url)
        result = start_run(flow, SAMPLE, store=store)
    assert result.status is RunStatus.WAITING_REVIEW
    review = store.get_review(result.review_id)
    assert review.kind == "output" and review.verdict == "fail"
    assert "could not be used" in review.reasons[0].message
    assert paid(store) == [] and server.overrun == 0


def test_a_run_whose_provider_was_down_resumes_when_it_is_back(flow, env, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    down = Reply(503, b"down", (("Content-Type", "text/plain"),))
    with FaultServer([down] * 3) as server:
        env.setenv("OPENAI_API_BASE", server.base_url)
        first = start_run(flow, SAMPLE, store=store)
        assert store.get_review(first.review_id).kind == "provider"
        # still down: approving tries again, fails again, and a new review waits — no pass
        server.push(down, down, down)
        again = decide(first.review_id, "approve", "ops", store=store, resume=True).run
        assert again.status is RunStatus.WAITING_REVIEW and again.review_id != first.review_id
        assert paid(store) == []
        server.push(Reply.json(completion(ANSWER)))  # the provider is back
        done = decide(again.review_id, "approve", "ops", store=store, resume=True).run
    assert done.status is RunStatus.COMPLETED, done.error
    entries = paid(store)
    assert len(entries) == 1 and entries[0]["key"] == f"{first.run_id}:pay:1"
    kinds = [(s.node, s.kind, s.verdict) for s in store.steps(first.run_id)]
    assert kinds.count(("extract", "llm", "unknown")) == 2
    assert ("extract", "llm", "pass") in kinds and len(server.received) == 7
    # the retried step got the same prompt the first attempt had (no reask text added)
    assert server.received[-1].body["messages"] == server.received[0].body["messages"]


def test_nesyflow_run_never_raises_on_a_dead_provider(tmp_path):
    """The real command in a subprocess: a connection refused on every attempt → exit 0, a review."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sample = tmp_path / "one.json"
    sample.write_text(json.dumps(SAMPLE))
    environ = {
        **os.environ,
        "NESYFLOW_MODEL": "openai/smollm2",
        "OPENAI_API_BASE": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "sk-test-faults",
        "NESYFLOW_RETRY_SCALE": "0.01",
        "NESYFLOW_LLM_ATTEMPTS": "2",
        "NESYFLOW_DB": f"sqlite:///{tmp_path / 'store.db'}",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    proc = subprocess.run(
        [str(NESYFLOW), "run", str(AGENT / "model.yaml"), "--input", str(sample)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "waiting_review" in proc.stdout
    store = open_store(environ["NESYFLOW_DB"])
    assert paid(store) == []
    store.close()


def test_reviews_list_shows_a_provider_review(flow, env, tmp_path):
    """A review whose reason names no rule lists with the others (it once crashed the command)."""
    from typer.testing import CliRunner

    from nesyflow.cli.app import _register_all, app

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    with FaultServer([FAULTS["503"]] * 3) as server:
        env.setenv("OPENAI_API_BASE", server.base_url)
        result = start_run(flow, SAMPLE, store=store)
    assert store.get_review(result.review_id).rules == []
    _register_all()
    listed = CliRunner().invoke(app, ["reviews", "list", "--db", url])
    assert listed.exit_code == 0, listed.output
    assert "1 in all" in listed.output and "unknown" in listed.output  # the id wraps in the table
