"""``nesyflow models``: what each llm node will use, before running — and never a key."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nesyflow.cli.app import _register_all, app

ROOT = Path(__file__).resolve().parents[2]
FLOWS = [str(ROOT / "agents" / a / "model.yaml") for a in ("expense", "airline_baggage")]


def _invoke(args, monkeypatch, **env):
    for name in ("NESYFLOW_MODEL", "NESYFLOW_MODEL_MODE", "OPENAI_API_BASE", "NESYFLOW_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _register_all()
    return CliRunner().invoke(app, args)


def test_each_llm_node_with_model_mode_base_and_key_source(monkeypatch):
    key = "sk-models-cli-sentinel-123456"
    result = _invoke(
        ["models", *FLOWS, "--format", "json"],
        monkeypatch,
        NESYFLOW_MODEL="openai/smollm2",
        OPENAI_API_BASE="http://user:pw@127.0.0.1:8080/v1",
        OPENAI_API_KEY=key,
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["workflow"], r["node"]) for r in rows] == [
        ("expense_model", "extract"),
        ("airline_baggage_model", "extract"),
    ]
    assert all(r["model"] == "openai/smollm2" and r["provider"] == "openai" for r in rows)
    assert rows[0]["mode"] == "json (provider table: openai-compatible)"
    assert rows[0]["api_base"] == "http://***@127.0.0.1:8080/v1"
    assert rows[0]["key"] == "$OPENAI_API_KEY (set)"
    assert key not in result.output and "pw@" not in result.output


def test_default_model_and_a_missing_key_are_shown(monkeypatch):
    result = _invoke(["models", "--format", "json"], monkeypatch)
    assert result.exit_code == 0
    (default,) = json.loads(result.output)
    assert default["model"] == "local/smollm2" and default["key"] == "not needed"
    assert _invoke(["models"], monkeypatch).exit_code == 0  # the table, too
    missing = _invoke(
        ["models", "--format", "json"], monkeypatch, NESYFLOW_MODEL="anthropic/claude-3-5-haiku"
    )
    (row,) = json.loads(missing.output)
    assert row["key"] == "$ANTHROPIC_API_KEY (NOT SET)" and row["mode"].startswith("tools")


def test_bad_input_exits_2_with_a_message(monkeypatch, tmp_path):
    bad = _invoke(["models"], monkeypatch, NESYFLOW_MODEL_MODE="jsno")
    assert bad.exit_code == 2 and "unknown mode 'jsno'" in bad.output
    missing = _invoke(["models", str(tmp_path / "nope.yaml")], monkeypatch)
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    fmt = _invoke(["models", "--format", "xml"], monkeypatch)
    assert fmt.exit_code == 2 and "unknown format" in fmt.output
