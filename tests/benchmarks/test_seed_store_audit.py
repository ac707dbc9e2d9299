"""A seeded store is a store the product could have written: every seeded decision has its entry
in the audit log's hash chain, so ``nesyflow audit verify`` passes on it (before, the seeder wrote
decisions only, and verify reported each one as ``decision_unlogged``)."""

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from nesyflow.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from seed_store import seed_store  # noqa: E402


def test_a_seeded_store_passes_audit_verify(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    seed_store(url, steps=1500, open_reviews=120, per_pack=25)

    result = CliRunner().invoke(app, ["audit", "verify", "--db", url, "--format", "json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["problems"] == []
    assert report["decisions"] > 0
    assert report["entries"] == report["decisions"]
