"""``--format json`` on ``run``, ``runs list/show`` and ``reviews list/show`` (typed, stable keys, ids
whole), and bad input — a wrong format, JSON nested 100,000 levels — as exit 2 with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesyflow.cli import app

FLOW = Path(__file__).resolve().parents[1] / "engine" / "cli_flow" / "flow.yaml"
TOY = Path(__file__).resolve().parents[1] / "fixtures" / "packs" / "toy"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def env(tmp_path):
    return {"NESYFLOW_DB": f"sqlite:///{tmp_path / 'db.sqlite'}", "USER": "ann"}


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.strip().splitlines()]


def test_run_prints_one_typed_object_per_input(tmp_path, env):
    out = tmp_path / "out.txt"
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        "\n".join(
            json.dumps({"text": t, "amount": a, "path": str(out)})
            for t, a in (("ok", 5), ("big", 150), ("mid", 70))
        )
    )
    res = runner.invoke(
        app, ["run", str(FLOW), "--input", str(inputs), "--format", "json"], env=env
    )
    assert res.exit_code == 0, res.output
    done, failed, middle = _json_lines(res.stdout)
    keys = {
        "run",
        "workflow",
        "status",
        "node",
        "error",
        "outputs",
        "derived",
        "verdicts",
        "reviews",
    }
    assert set(done) == keys
    assert done["status"] == "completed" and done["reviews"] == []
    assert done["outputs"]["write"] == {"line": "ok"} and done["verdicts"] == {
        "gate": "pass",
        "write": "pass",
    }
    assert failed["status"] == "waiting_review" and failed["node"] == "gate"
    (review,) = failed["reviews"]
    assert review["rules"] == ["too_big"] and review["verdict"] == "fail"
    assert review["reasons"][0]["kind"] == "violation" and review["status"] == "open"
    assert len(review["id"]) == 36 and review["run"] == failed["run"]
    assert middle["reviews"][0]["verdict"] == "review" and middle["reviews"][0]["rules"] == [
        "large"
    ]

    # the same review, listed and shown, with the same keys
    res = runner.invoke(app, ["reviews", "list", "--format", "json"], env=env)
    page = json.loads(res.stdout)
    assert page["total"] == 2 and page["items"][0]["id"] == review["id"]
    assert page["items"][0] == review
    res = runner.invoke(app, ["reviews", "show", review["id"], "--format", "json"], env=env)
    assert json.loads(res.stdout) == review

    res = runner.invoke(app, ["reviews", "approve", review["id"], "-m", "one-off"], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["reviews", "show", review["id"], "--format", "json"], env=env)
    decided = json.loads(res.stdout)
    assert decided["status"] == "decided" and decided["action"] == "approve"
    assert decided["decided_by"] == "ann" and decided["comment"] == "one-off"

    res = runner.invoke(app, ["resume", failed["run"], "--format", "json"], env=env)
    resumed = json.loads(res.stdout)
    assert resumed["status"] == "completed" and resumed["outputs"]["write"] == {"line": "big"}
    assert resumed["reviews"][0]["status"] == "decided"

    res = runner.invoke(app, ["runs", "list", "--format", "json"], env=env)
    runs = json.loads(res.stdout)
    assert runs["total"] == 3 and {r["id"] for r in runs["items"]} == {
        done["run"],
        failed["run"],
        middle["run"],
    }
    assert {r["status"] for r in runs["items"]} == {"completed", "waiting_review"}
    res = runner.invoke(app, ["runs", "show", failed["run"], "--format", "json"], env=env)
    detail = json.loads(res.stdout)
    assert detail["status"] == "completed" and detail["input"]["amount"] == 150
    assert [s["kind"] for s in detail["steps"]][-2:] == ["decision", "tool"]
    assert detail["steps"][0]["rules"] == ["too_big"]


def test_text_tables_print_review_ids_whole_even_in_a_narrow_terminal(tmp_path, env):
    inputs = tmp_path / "in.json"
    inputs.write_text(json.dumps({"text": "big", "amount": 150, "path": str(tmp_path / "o")}))
    res = runner.invoke(
        app, ["run", str(FLOW), "--input", str(inputs), "--format", "json"], env=env
    )
    review_id = json.loads(res.stdout)["reviews"][0]["id"]
    run_id = json.loads(res.stdout)["run"]
    narrow = {**env, "COLUMNS": "60"}
    assert review_id in runner.invoke(app, ["reviews", "list"], env=narrow).stdout
    assert run_id in runner.invoke(app, ["runs", "list"], env=narrow).stdout


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "list", "--format", "yaml"],
        ["reviews", "list", "--format", "xml"],
        ["runs", "show", "x", "--format", "csv"],
    ],
)
def test_an_unknown_format_is_exit_2(env, args):
    res = runner.invoke(app, args, env=env)
    assert res.exit_code == 2 and "--format must be text or json" in res.output


def test_an_unknown_id_is_exit_2_in_json_too(env):
    for args in (
        ["runs", "show", "nope", "--format", "json"],
        ["reviews", "show", "nope", "-f", "json"],
    ):
        res = runner.invoke(app, args, env=env)
        assert res.exit_code == 2 and "Traceback" not in res.output


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nested_100k_levels_is_exit_2_with_a_message_never_a_traceback(tmp_path, env, suffix):
    deep = tmp_path / f"deep{suffix}"
    deep.write_text(DEEP)
    for args in (
        ["run", str(FLOW), "--input", str(deep)],
        ["check", str(TOY), "--input", str(deep)],
        ["facts", str(TOY), "--input", str(deep)],
        ["replay", str(ROOT / "rules" / "retail"), "--actions", str(deep)],
    ):
        res = runner.invoke(app, args, env=env)
        assert res.exit_code == 2, (args, res.output)
        assert "nested too deeply" in res.output and str(deep) in "".join(res.output.split())
        assert res.exception is None or isinstance(res.exception, SystemExit)


def test_an_edit_nested_too_deeply_is_exit_2(tmp_path, env):
    inputs = tmp_path / "in.json"
    inputs.write_text(json.dumps({"text": "big", "amount": 150, "path": str(tmp_path / "o")}))
    res = runner.invoke(
        app, ["run", str(FLOW), "--input", str(inputs), "--format", "json"], env=env
    )
    review_id = json.loads(res.stdout)["reviews"][0]["id"]
    deep = tmp_path / "fix.json"
    deep.write_text('{"a": ' * 300 + "1" + "}" * 300)
    res = runner.invoke(app, ["reviews", "edit", review_id, "--output", str(deep)], env=env)
    assert res.exit_code == 2 and "nested too deeply" in res.output
