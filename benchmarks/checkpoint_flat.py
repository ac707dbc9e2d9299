"""Does a checkpoint cost the same at node 500 as at node 1? (issue 10 §2: flat in size)

Runs the orchestration benchmark's 500-node chain (mocked model, nesyflow's real engine and store
on a SQLite file) and times every ``SqlStore.checkpoint`` call by the node it checkpoints. Reports
the median µs of the calls around nodes ~1, ~100 and ~500 (nodes 1-20, 91-110, 481-500) over the
runs, with group commit off (the default) and on: the median, and the mean without the top 2%
(on a shared machine single commits now and then stall for tens of ms on the disk, both frameworks
alike; with group commit the mean is the figure: most calls only buffer, one in 32 writes).

    PYTHONPATH=runtime .venv/bin/python benchmarks/checkpoint_flat.py [--runs 5]

Writes benchmarks/results/checkpoint_flat.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "checkpoint_flat.json"
WINDOWS = {"~1": range(1, 21), "~100": range(91, 111), "~500": range(481, 501)}


def _orchestration() -> Any:
    here = Path(__file__).with_name("orchestration.py")
    spec = importlib.util.spec_from_file_location("orchestration", here)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["orchestration"] = module
    spec.loader.exec_module(module)
    return module


def measure(orch: Any, group: int, runs: int, folder: Path) -> dict[str, float]:
    from nesyflow.store.sql import SqlStore

    calls: list[float] = []
    real = SqlStore.checkpoint

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(self, *args, **kwargs)
        finally:
            calls.append(time.perf_counter() - started)

    store = orch.open_nesyflow_store(folder / f"flat-{group}.db", None, group)
    model = orch.MockModel(orch.ANSWER)
    flow = orch.nesyflow_graph("chain", 500)
    services = orch.nesyflow_services(model)
    orch.run_nesyflow(flow, store, model, services)  # warm-up
    by_node: dict[int, list[float]] = {}
    SqlStore.checkpoint = timed  # type: ignore[method-assign]
    gc.collect()
    gc.freeze()
    try:
        for _ in range(runs):
            calls.clear()
            orch.run_nesyflow(flow, store, model, services)
            # one checkpoint per node, then the run's end
            for node, seconds in enumerate(calls[:500], start=1):
                by_node.setdefault(node, []).append(seconds)
    finally:
        SqlStore.checkpoint = real  # type: ignore[method-assign]
        gc.unfreeze()
        store.close()
    out: dict[str, float] = {}
    for name, nodes in WINDOWS.items():
        xs = sorted(x for n in nodes for x in by_node[n])
        kept = xs[: max(1, int(len(xs) * 0.98))]  # the top 2% are the disk's stalls
        out[f"{name} median"] = statistics.median(xs) * 1e6
        out[f"{name} mean (top 2% dropped)"] = statistics.fmean(kept) * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    orch = _orchestration()
    folder = Path(tempfile.mkdtemp(prefix="nesyflow-flat-"))
    try:
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "method": "median µs of SqlStore.checkpoint calls at nodes 1-20 / 91-110 / 481-500 "
            f"of a 500-node chain, {args.runs} runs, SQLite file, WAL, synchronous=NORMAL",
            "conditions": "measured under load (shared 2-core machine, other engineers' jobs)",
            "group_commit_1": measure(orch, 1, args.runs, folder),
            "group_commit_32": measure(orch, 32, args.runs, folder),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for key in ("group_commit_1", "group_commit_32"):
        print(key, {k: round(v) for k, v in result[key].items()})
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
