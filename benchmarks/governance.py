"""What masking costs: the one replacement on a long text, and masking every record of a real run
(the expense agent, its employee name classified sensitive) as ``runs show`` does.

    .venv/bin/python benchmarks/governance.py   # writes benchmarks/results/governance.json
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from nesyflow.engine import start_run
from nesyflow.govern import run_mask
from nesyflow.schema.redact import Redactor, Secret
from nesyflow.store import open_store

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "governance.json"


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    secrets = [Secret("bank", f"DE{10**19 + i * 7919}") for i in range(50)]
    redactor = Redactor(secrets)
    text = ("Invoice from ACME GmbH, pay DE10000000000000007919 by 30 days. " * 160)[:10_000]
    text_ms = _median_ms(lambda: redactor.text(text), 50)

    samples = [json.loads(line) for line in (ROOT / "agents/expense/samples.jsonl").open()][:6]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/store.db")
        ids = [
            start_run(ROOT / "agents/expense/workflow.yaml", s, store=store).run_id for s in samples
        ]

        def mask_all() -> None:
            for run_id in ids:
                mask = run_mask(store, run_id)
                for step in store.steps(run_id):
                    mask.mask(step)

        run_ms = _median_ms(mask_all, 10) / len(ids)
        steps = sum(len(store.steps(i)) for i in ids) / len(ids)
    result = {
        "conditions": "measured under load (2 shared cores, other engineers' jobs running)",
        "text_10k_chars_50_secrets_ms": round(text_ms, 2),
        "mask_one_expense_run_ms": round(run_ms, 2),
        "steps_per_run": steps,
        "runs": len(ids),
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
