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
from dataclasses import dataclass
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

# Each model call is seconds on one thread (minutes on a loaded shared machine): the module's few
# runs get more than the suite's 600 s default.
pytestmark = [pytest.mark.local_model, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
KEY = f"sk-nesyflow-sentinel-{secrets.token_hex(12)}"
HTTP_MODEL = f"openai/{MODEL_ALIAS}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from nesyflow.llm import local_model_path

    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(local_model_path(), KEY, log) as running:
        yield running


def _http_env(mp: pytest.MonkeyPatch, server, folder: Path) -> None:
    mp.setenv("NESYFLOW_MODEL", HTTP_MODEL)
    mp.setenv("OPENAI_API_BASE", server.base_url)
    mp.setenv("OPENAI_API_KEY", KEY)
    mp.setenv("NESYFLOW_LOCAL_THREADS", "1")
    mp.setenv("NESYFLOW_LEDGER", str(folder / "ledger.jsonl"))
    mp.delenv("NESYFLOW_MODEL_MODE", raising=False)
    mp.setenv("NESYFLOW_LLM_ATTEMPTS", "2")  # bounds a stuck server: 2 × the timeout at most
    mp.setenv("NESYFLOW_LLM_TIMEOUT", "300")


@pytest.fixture
def http_env(server, monkeypatch, tmp_path):
    _http_env(monkeypatch, server, tmp_path)
    return monkeypatch


def _agent(agent: str) -> tuple[object, dict]:
    """The workflow and its shortest sample (every model call is seconds on one thread)."""
    folder = ROOT / "agents" / agent
    samples = load_samples(folder / "samples.jsonl")
    text = (
        (lambda r: r["prompt"])
        if agent == "airline_baggage"
        else (lambda r: r["request"] + r["receipt"])
    )
    flow = load_workflow(folder / "model.yaml")
    # The server on 127.0.0.1 is this machine's: declared local (``remote: false``), as an on-prem
    # endpoint would be, so it may see the sensitive fields the in-process model sees and both
    # paths must give the same outputs (a remote model gets placeholders: tests/govern/test_remote.py).
    local = {
        k: n.model_copy(update={"remote": False}) if n.kind == "llm" else n
        for k, n in flow.nodes.items()
    }
    flow = flow.model_copy(update={"nodes": local})
    return flow, min(samples, key=lambda r: len(text(r)))


@dataclass(frozen=True)
class Runs:
    folder: Path
    local_url: str
    http_url: str
    ids: dict[str, tuple[str, str]]  # agent -> (in-process run id, HTTP run id)


@pytest.fixture(scope="module")
def runs(server, tmp_path_factory) -> Runs:
    """Each agent's shortest sample run twice: in-process (local/smollm2) and over HTTP in
    ``grammar`` mode with the key in the environment. Made once; the tests below read the stores."""
    folder = tmp_path_factory.mktemp("http-runs")
    local_url, http_url = f"sqlite:///{folder / 'local.db'}", f"sqlite:///{folder / 'store.db'}"
    ids = {}
    with pytest.MonkeyPatch.context() as mp:
        _http_env(mp, server, folder)
        for agent in ("expense", "airline_baggage"):
            flow, sample = _agent(agent)
            mp.delenv("NESYFLOW_MODEL")
            local_store = open_store(local_url)
            local = start_run(flow, sample, store=local_store)
            local_store.close()
            mp.setenv("NESYFLOW_MODEL", HTTP_MODEL)
            mp.setenv("NESYFLOW_MODEL_MODE", "grammar")
            http_store = open_store(http_url)
            remote = start_run(flow, sample, store=http_store)
            http_store.close()
            mp.delenv("NESYFLOW_MODEL_MODE")
            ids[agent] = (local.run_id, remote.run_id)
    return Runs(folder, local_url, http_url, ids)


def _llm_steps(store, run_id):
    return [s for s in store.steps(run_id) if s.kind == "llm"]


def _trace(store, run_id):
    """What must be the same on both paths: each step's node, kind, verdict, findings, raw text."""
    return [
        (s.node, s.kind, s.verdict, sorted(f["rule"] for f in s.findings or []), s.raw_output)
        for s in store.steps(run_id)
    ]


@pytest.mark.parametrize("agent", ["expense", "airline_baggage"])
def test_grammar_mode_over_http_gives_the_in_process_outputs_and_checks(agent, runs):
    local_store, http_store = open_store(runs.local_url), open_store(runs.http_url)
    local_id, http_id = runs.ids[agent]
    local, remote = local_store.get_run(local_id), http_store.get_run(http_id)
    assert remote.status is local.status and remote.status is not RunStatus.FAILED, remote.error
    steps = _llm_steps(http_store, http_id)
    assert steps and all(s.model == HTTP_MODEL for s in steps)
    assert all(s.tokens_in > 0 and s.tokens_out > 0 for s in steps)  # the server's usage
    assert all(s.model == "local/smollm2" for s in _llm_steps(local_store, local_id))
    assert _trace(http_store, http_id) == _trace(local_store, local_id)


def test_the_provider_tables_fallback_mode_is_accepted_by_the_server(http_env):
    """No mode named: ``openai/`` at a non-OpenAI base URL is ``json`` (``json_object`` + the schema
    in the prompt), which this server accepts where it rejects ``json_schema``. The airline agent's
    real prompt, bounded to 160 tokens: a validated output or a parse failure — never a crash.
    (Unbounded, the 135M model writes free JSON until the context is full: that is what the
    ``grammar`` mode is for.)"""
    from nesyflow.llm import Mode, RetryPolicy, generate, render_messages, route_for

    assert route_for(HTTP_MODEL).mode is Mode.JSON
    flow, sample = _agent("airline_baggage")
    node = flow.nodes["extract"]
    messages = render_messages(node.system, node.prompt, {"prompt": sample["prompt"]})
    call = generate(
        HTTP_MODEL, messages, node.output, max_tokens=160, max_parse_retries=0,
        retry=RetryPolicy(max_attempts=1, timeout_s=300),
    )  # fmt: skip
    assert call.mode == "json" and call.tokens_in > 0 and call.attempts == 1
    assert (call.output is None) != (call.error is None)
    if call.output is not None:
        assert isinstance(call.output, node.output)


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


def test_the_key_never_reaches_the_store_the_cli_or_the_console(runs, http_env):
    """Runs with the key in the environment (and sent to the server, which demands it), plus a
    provider that echoes the key in its error; then the store's files, ``nesyflow runs show`` /
    ``reviews show`` / ``runs list`` / ``models`` and the console's pages are searched for it."""
    from typer.testing import CliRunner

    from nesyflow.cli.app import _register_all, app

    url = runs.http_url
    store = open_store(url)
    flow, sample = _agent("airline_baggage")
    echo = Reply.json({"error": {"message": f"Incorrect API key provided: {KEY}"}}, 401)
    with FaultServer([echo] * 3) as fake:
        http_env.setenv("OPENAI_API_BASE", fake.base_url)
        failed = start_run(flow, sample, store=store)
    assert fake.received[0].headers["Authorization"] == f"Bearer {KEY}"
    review = store.get_review(failed.review_id)
    assert review.kind == "provider" and "***" in review.reasons[0].message
    ran = [http_id for _, http_id in runs.ids.values()]
    reviews = [r.id for r in store.reviews_for_run(ran[0])] + [failed.review_id]
    store.close()

    files = list(runs.folder.glob("store.db*"))
    assert files
    for file in files:
        assert KEY.encode() not in file.read_bytes(), file.name

    _register_all()
    runner = CliRunner()
    commands = [["runs", "show", run_id, "--db", url] for run_id in [*ran, failed.run_id]]
    commands += [["reviews", "show", review_id, "--db", url] for review_id in reviews]
    commands += [
        ["runs", "list", "--db", url],
        ["reviews", "list", "--db", url],
        ["models", str(ROOT / "agents" / "airline_baggage" / "model.yaml")],
    ]
    shown = []
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        shown.append(result.output)
    assert any("the model provider failed" in text for text in shown)
    assert any(HTTP_MODEL in text for text in shown)
    assert all(KEY not in text for text in shown)

    from console_support import app as console

    http_env.setenv("NESYFLOW_DB", url)
    http_env.setenv("NESYFLOW_RULES", str(ROOT / "rules"))
    http_env.setenv("NESYFLOW_WORKFLOWS", str(ROOT / "agents"))
    pages = [("runs", {"run": run_id}) for run_id in [*ran, failed.run_id]]
    pages += [("reviews", {"review": review_id}) for review_id in reviews]
    pages += [("inbox", {}), ("runs", {}), ("reviews", {})]
    for page, params in pages:
        at = console(page, **params).run()
        assert not at.exception, [e.value for e in at.exception]
        rendered = _rendered(at)
        assert rendered and KEY not in rendered, (page, params)
    failed_page = _rendered(console("runs", run=failed.run_id).run())
    assert failed.run_id in failed_page or "provider failed" in failed_page


def _rendered(at) -> str:
    """Every value the AppTest tree holds (texts, tables, code blocks, JSON), as one string."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)
