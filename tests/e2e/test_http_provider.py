"""The agents through a real HTTP provider: llama-cpp-python's OpenAI-compatible server on loopback
serving the embedded GGUF, reached through litellm's ``openai/`` route with the standard variables
(``OPENAI_API_BASE``, ``OPENAI_API_KEY``). With the ``grammar`` mode the server gets the exact
grammar the in-process model uses, so the outputs, checks and verdicts are the same as in-process;
with the provider table's default for an OpenAI-compatible server (``json``) the run goes through
the same checks. The key (a sentinel the server demands) never shows in the store, the CLI or the
console.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))

from fault_server import FaultServer, Reply
from llama_server import MODEL_ALIAS, llama_server

from nesyflow.cli.demo import load_samples
from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.store import RunStatus, open_store

pytestmark = pytest.mark.local_model

ROOT = Path(__file__).resolve().parents[2]
KEY = f"sk-nesyflow-sentinel-{secrets.token_hex(12)}"
HTTP_MODEL = f"openai/{MODEL_ALIAS}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from nesyflow.llm import local_model_path

    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(local_model_path(), KEY, log) as running:
        yield running


@pytest.fixture
def http_env(server, monkeypatch, tmp_path):
    monkeypatch.setenv("NESYFLOW_MODEL", HTTP_MODEL)
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NESYFLOW_LOCAL_THREADS", "1")
    monkeypatch.setenv("NESYFLOW_LEDGER", str(tmp_path / "ledger.jsonl"))
    monkeypatch.delenv("NESYFLOW_MODEL_MODE", raising=False)
    return monkeypatch


def _llm_steps(store, run_id):
    return [s for s in store.steps(run_id) if s.kind == "llm"]


def _trace(store, run_id):
    """What must be the same on both paths: each step's node, kind, verdict, findings, raw text."""
    return [
        (s.node, s.kind, s.verdict, sorted(f["rule"] for f in s.findings or []), s.raw_output)
        for s in store.steps(run_id)
    ]


@pytest.mark.parametrize(
    ("agent", "sample_id"), [("expense", "exp-001"), ("airline_baggage", None)]
)
def test_grammar_mode_over_http_gives_the_in_process_outputs_and_checks(
    agent, sample_id, http_env, tmp_path
):
    folder = ROOT / "agents" / agent
    flow = load_workflow(folder / "workflow.yaml")
    samples = load_samples(folder / "samples.jsonl")
    sample = next(r for r in samples if sample_id is None or r["id"] == sample_id)

    http_env.delenv("NESYFLOW_MODEL")  # first in-process: local/smollm2
    local_store = open_store(f"sqlite:///{tmp_path / 'local.db'}")
    local = start_run(flow, sample, store=local_store)

    http_env.setenv("NESYFLOW_MODEL", HTTP_MODEL)
    http_env.setenv("NESYFLOW_MODEL_MODE", "grammar")
    http_env.setenv("NESYFLOW_LEDGER", str(tmp_path / "ledger-http.jsonl"))
    http_store = open_store(f"sqlite:///{tmp_path / 'http.db'}")
    remote = start_run(flow, sample, store=http_store)

    assert remote.status is local.status and remote.status is not RunStatus.FAILED, remote.error
    steps = _llm_steps(http_store, remote.run_id)
    assert steps and all(s.model == HTTP_MODEL for s in steps)
    assert all(s.tokens_in > 0 and s.tokens_out > 0 for s in steps)  # the server's usage
    assert _trace(http_store, remote.run_id) == _trace(local_store, local.run_id)


def test_the_provider_tables_fallback_mode_runs_through_the_same_checks(http_env, tmp_path):
    """No mode named: ``openai/`` at a non-OpenAI base URL is ``json`` (the server rejects
    ``json_schema``); the run completes or waits for a person, every output checked by the rules."""
    from nesyflow.llm import Mode, route_for

    assert route_for(HTTP_MODEL).mode is Mode.JSON
    flow = load_workflow(ROOT / "agents" / "expense" / "workflow.yaml")
    sample = next(r for r in load_samples(ROOT / "agents" / "expense" / "samples.jsonl"))
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    result = start_run(flow, sample, store=store)
    assert result.status in (RunStatus.WAITING_REVIEW, RunStatus.COMPLETED), result.error
    for step in _llm_steps(store, result.run_id):
        assert step.error or step.check, "an output that parsed was checked by the rules"
        assert "provider failed" not in (step.error or "")


def test_json_schema_against_this_server_is_a_provider_failure_not_a_crash(http_env, server):
    from nesyflow.llm import ProviderFailed, RetryPolicy, generate
    from nesyflow.llm.retry import Fault  # noqa: F401 - the type the failure carries

    class Tiny(__import__("pydantic").BaseModel):
        word: str

    policy = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    with pytest.raises(ProviderFailed) as info:
        generate(
            HTTP_MODEL,
            [{"role": "user", "content": "Say hi"}],
            Tiny,
            mode="json_schema",
            retry=policy,
        )
    assert str(info.value).startswith(f"the model provider failed: {HTTP_MODEL}: ")
    assert KEY not in str(info.value)


def test_the_key_never_reaches_the_store_the_cli_or_the_console(http_env, server, tmp_path):
    """A real run with the key in the environment (and sent to the server), plus a provider that
    echoes the key in its error; then the store's files, ``nesyflow runs show`` / ``reviews show``
    / ``models`` and the console's run and review pages are searched for it."""
    from typer.testing import CliRunner

    from nesyflow.cli.app import _register_all, app

    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    store = open_store(url)
    flow = load_workflow(ROOT / "agents" / "airline_baggage" / "workflow.yaml")
    sample = load_samples(ROOT / "agents" / "airline_baggage" / "samples.jsonl")[0]
    http_env.setenv("NESYFLOW_MODEL_MODE", "grammar")
    ran = start_run(flow, sample, store=store)
    assert _llm_steps(store, ran.run_id)[0].tokens_in > 0  # it really went through the server

    echo = Reply.json({"error": {"message": f"Incorrect API key provided: {KEY}"}}, 401)
    with FaultServer([echo] * 3) as fake:
        http_env.setenv("OPENAI_API_BASE", fake.base_url)
        failed = start_run(flow, sample, store=store)
    assert fake.received[0].headers["Authorization"] == f"Bearer {KEY}"
    review = store.get_review(failed.review_id)
    assert review.kind == "provider" and "***" in review.reasons[0]["message"]
    store.close()

    for file in tmp_path.glob("store.db*"):
        assert KEY.encode() not in file.read_bytes(), file.name

    _register_all()
    runner = CliRunner()
    outputs = []
    for args in (
        ["runs", "show", ran.run_id, "--db", url],
        ["runs", "show", failed.run_id, "--db", url],
        ["reviews", "show", failed.review_id, "--db", url],
        ["runs", "list", "--db", url],
        ["models", str(ROOT / "agents" / "airline_baggage" / "workflow.yaml")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    assert failed.run_id in outputs[1] and "the model provider failed" in outputs[1]
    assert all(KEY not in text for text in outputs)

    from console_support import app as console

    http_env.setenv("NESYFLOW_DB", url)
    http_env.setenv("NESYFLOW_RULES", str(ROOT / "rules"))
    http_env.setenv("NESYFLOW_WORKFLOWS", str(ROOT / "agents"))
    for page, params in (
        ("runs", {"run": failed.run_id}),
        ("runs", {"run": ran.run_id}),
        ("reviews", {"review": failed.review_id}),
        ("inbox", {}),
    ):
        at = console(page, **params).run()
        assert not at.exception, [e.value for e in at.exception]
        rendered = repr(at._tree)
        assert failed.run_id in rendered or page != "runs" or params["run"] != failed.run_id
        assert KEY not in rendered, page
