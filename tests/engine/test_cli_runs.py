"""``nesyflow run / resume / runs / reviews`` in process (Typer's runner), on a YAML workflow with a
rule gate and a guarded tool (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nesyflow.cli import app

FLOW = Path(__file__).parent / "cli_flow" / "flow.yaml"
runner = CliRunner()


def _run(*args, env):
    return runner.invoke(app, list(args), env=env)


def test_run_review_approve_show(tmp_path):
    env = {"NESYFLOW_DB": f"sqlite:///{tmp_path / 'db.sqlite'}", "USER": "ann"}
    out = tmp_path / "out.txt"
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        json.dumps({"text": "ok", "amount": 5, "path": str(out)})
        + "\n"
        + json.dumps({"text": "big", "amount": 150, "path": str(out)})
        + "\n"
    )
    res = _run("run", str(FLOW), "--input", str(inputs), env=env)
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert "completed" in lines[0] and "waiting_review" in lines[1]
    review_id = lines[1].split()[-1]
    run_id = lines[1].split()[0]

    res = _run("reviews", "list", env=env)
    assert res.exit_code == 0 and "too_big" in res.output
    res = _run("reviews", "show", review_id, env=env)
    assert "The amount must be at most 100." in res.output and "test_note@1.0.0" in res.output

    res = _run("reviews", "approve", review_id, env=env)
    assert res.exit_code == 2 and "comment" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"text": "big", "amount": 101, "path": str(out)}))
    res = _run("reviews", "edit", review_id, "--output", str(bad), env=env)
    assert res.exit_code == 2 and "comment" in res.output
    res = _run("reviews", "edit", review_id, "--output", str(bad), "-m", "lower", env=env)
    assert res.exit_code == 2 and "is 'fail'" in res.output

    res = _run("reviews", "approve", review_id, "--comment", "one-off", env=env)
    assert res.exit_code == 0, res.output
    assert "decided by ann" in res.output and "completed" in res.output
    assert out.read_text().splitlines() == ["ok", "big"]
    res = _run("reviews", "reject", review_id, env=env)
    assert res.exit_code == 1 and "already decided" in res.output

    res = _run("runs", "show", run_id, env=env)
    assert res.exit_code == 0
    for word in ("gate", "write", "decision", "approve by ann", "too_big"):
        assert word in res.output
    res = _run("runs", "list", "--status", "completed", env=env)
    assert res.exit_code == 0 and "2 in all" in res.output
    res = _run("resume", run_id, env=env)
    assert res.exit_code == 0 and "completed" in res.output


def test_bad_input_exits_2_without_a_traceback(tmp_path):
    env = {"NESYFLOW_DB": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    broken = tmp_path / "in.jsonl"
    broken.write_text('{"text": "a", "amount": 1, "path": "x"}\n{"text": \n')
    for args, needle in [
        (("run", str(FLOW), "--input", str(tmp_path / "none.json")), "no such input file"),
        (("run", str(FLOW), "--input", str(broken)), "in.jsonl:2:"),
        (("run", str(tmp_path / "nope.yaml"), "--input", str(broken)), "error:"),
        (("resume", "no-such-run"), "no run"),
        (("runs", "show", "no-such-run"), "no run"),
        (("reviews", "show", "nope"), "no review"),
    ]:
        res = _run(*args, env=env)
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output and "Traceback" not in res.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"text": "a"}')
    res = _run("run", str(FLOW), "--input", str(wrong), env=env)
    assert res.exit_code == 2 and "amount" in res.output and "Traceback" not in res.output


def test_run_on_ray_without_ray_says_how_to_install(tmp_path, monkeypatch):
    from nesyflow.logic import ray_executor

    monkeypatch.setattr(ray_executor, "available", lambda: False)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"text": "ok", "amount": 5, "path": str(tmp_path / "out")}))
    env = {"NESYFLOW_DB": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    res = _run("run", str(FLOW), "--input", str(job), "--executor", "ray", env=env)
    assert res.exit_code == 2
    assert "pip install 'nesyflow[ray]'" in res.output and "Traceback" not in res.output
    res = _run("run", str(FLOW), "--input", str(job), "--executor", "spark", env=env)
    assert res.exit_code == 2 and "local or ray" in res.output
