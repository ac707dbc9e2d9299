"""Ray is an optional extra: the default path never imports it, and asking for it without it
installed is a clear error (these run whether or not ray is installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]

_DEFAULT_PATH = """
import sys
import nesyflow.logic
from nesyflow.logic import check_many, load_pack
assert "ray" not in sys.modules, "import nesyflow.logic imported ray"
pack = load_pack(sys.argv[1])
results = check_many(pack, [{"level": "staff", "items": [{"category": "meals", "amount": 1}]}])
assert results[0].verdict.value == "pass", results
check_many(pack, [{"level": "staff", "items": []}], isolated=False, workers=2)
assert not [m for m in sys.modules if m == "ray" or m.startswith("ray.")], "check_many imported ray"
print("ok")
"""


def test_the_default_path_never_imports_ray():
    toy = ROOT / "tests" / "fixtures" / "packs" / "toy"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runtime")}
    done = subprocess.run(
        [sys.executable, "-c", _DEFAULT_PATH, str(toy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_an_unknown_executor_is_refused(toy_pack):
    from nesyflow.logic import check_many

    with pytest.raises(ValueError, match="executor must be one of local, ray"):
        check_many(toy_pack, [], executor="dask")


@pytest.mark.parametrize("command", ["check", "whatif"])
def test_the_cli_says_how_to_install_ray_when_it_is_missing(monkeypatch, tmp_path, command):
    from nesyflow.cli import app
    from nesyflow.logic import ray_executor

    monkeypatch.setattr(ray_executor, "available", lambda: False)
    cases = tmp_path / "c.jsonl"
    cases.write_text('{"level": "staff", "items": []}\n')
    toy = str(ROOT / "tests" / "fixtures" / "packs" / "toy")
    args = {
        "check": ["check", toy, "-i", str(cases)],
        "whatif": ["whatif", toy, "--db", f"sqlite:///{tmp_path / 's.db'}"],
    }[command]
    result = CliRunner().invoke(app, [*args, "--executor", "ray"])
    assert result.exit_code == 2
    assert "pip install 'nesyflow[ray]'" in " ".join(result.output.split())
