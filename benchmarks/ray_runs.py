"""Whole workflow runs as Ray tasks on a shared PostgreSQL store, against the local path.

N runs of the crash test's workflow (a rule gate, then a tool whose payment is kept in the store
once; no model), amounts cycling 5 / 60 / 150 (pays, asks for review, breaks a rule), each mode on
a fresh database of one temporary PostgreSQL server (``tests/postgres_server.py``): locally
(``start_run`` one after another in this process), then ``run_on_ray`` with 1 and 2 workers on a
local Ray cluster. Each Ray mode is warmed first (workers started, store and workflow opened) on a
database the timed run does not use. Counted with SQL afterwards: runs, lost inputs (no run, or a
run left ``running``), requests with more than one run, steps recorded twice, payments kept twice.

Writes benchmarks/results/ray_runs.json.

    .venv/bin/python benchmarks/ray_runs.py            # N = 1,000
    .venv/bin/python benchmarks/ray_runs.py --n 100    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "tests" / "engine" / "crash_flow" / "flow.yaml"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import nesyflow  # noqa: E402
from nesyflow.engine import start_run  # noqa: E402
from nesyflow.engine.ray_runs import request_ids, run_on_ray  # noqa: E402
from nesyflow.graph import load_workflow  # noqa: E402
from nesyflow.store import open_store  # noqa: E402


def inputs(folder: Path, n: int, tag: str) -> list[dict]:
    return [
        {"text": f"{tag} {i}", "amount": (5, 60, 150)[i % 3], "path": str(folder / f"{tag}{i}")}
        for i in range(n)
    ]


def counts(url: str, items: list[dict]) -> dict[str, int]:
    """What the store holds after a mode, by SQL."""
    from sqlalchemy import create_engine, text

    ids = request_ids(items)
    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        found = {
            row[0]: row[1]
            for row in conn.execute(
                text("SELECT q.request_id, r.status FROM requests q JOIN runs r ON r.id = q.run_id")
            )
        }
        out = {
            "runs": one("SELECT count(*) FROM runs"),
            "lost": sum(1 for rid in ids if found.get(rid) in (None, "running")),
            "requests_with_two_runs": one(
                "SELECT count(*) FROM (SELECT 1 FROM requests GROUP BY workflow, request_id "
                "HAVING count(DISTINCT run_id) > 1) d"
            ),
            "steps": one("SELECT count(*) FROM steps"),
            "duplicated_steps": one(
                "SELECT count(*) FROM (SELECT 1 FROM steps GROUP BY run_id, node, visit, attempt, "
                "kind HAVING count(*) > 1) d"
            ),
            "duplicated_payments": one(
                "SELECT count(*) FROM (SELECT 1 FROM tool_records GROUP BY run_id "
                "HAVING count(*) > 1) d"
            ),
        }
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ray_runs.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import ray
    from postgres_server import _running

    folder = Path(tempfile.mkdtemp(prefix="nesyflow-ray-runs-"))
    report: dict = {
        "workflow": "tests/engine/crash_flow (check gate + tool with a stored payment, no model)",
        "n_runs": args.n,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": os.getloadavg()[0],
        "modes": {},
    }
    with _running() as server:
        url = server.new_database()
        items = inputs(folder, args.n, "local")
        flow = load_workflow(FLOW)
        store = open_store(url)
        started = time.perf_counter()
        for item, rid in zip(items, request_ids(items), strict=True):
            start_run(flow, {**item, "id": rid}, store=store)
        seconds = time.perf_counter() - started
        store.close()
        report["modes"]["local_1_process"] = {
            "seconds": round(seconds, 2),
            "runs_per_s": round(args.n / seconds, 1),
            **counts(url, items),
        }
        print("local", report["modes"]["local_1_process"], flush=True)

        runtime = str(Path(nesyflow.__file__).resolve().parents[1])
        started = time.perf_counter()
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": runtime}},
        )
        report["ray_init_s"] = round(time.perf_counter() - started, 2)
        for workers in (1, 2):
            warm = server.new_database()
            run_on_ray(FLOW, inputs(folder, 20, f"warm{workers}-"), warm, workers=workers)
            url = server.new_database()
            items = inputs(folder, args.n, f"ray{workers}-")
            started = time.perf_counter()
            outcomes = run_on_ray(FLOW, items, url, workers=workers)
            seconds = time.perf_counter() - started
            mode = {
                "seconds": round(seconds, 2),
                "runs_per_s": round(args.n / seconds, 1),
                "errors": sum(1 for o in outcomes if o.error),
                **counts(url, items),
            }
            started = time.perf_counter()
            again = run_on_ray(FLOW, items, url, workers=workers)
            mode["resubmitted_seconds"] = round(time.perf_counter() - started, 2)
            mode["resubmitted_all"] = all(o.result and o.result.resubmitted for o in again)
            mode["runs_after_resubmitting"] = counts(url, items)["runs"]
            report["modes"][f"ray_{workers}_worker{'s' if workers > 1 else ''}"] = mode
            print(f"ray {workers}", mode, flush=True)
        ray.shutdown()
    modes = report["modes"]
    report["ray_2_over_ray_1"] = round(
        modes["ray_2_workers"]["runs_per_s"] / modes["ray_1_worker"]["runs_per_s"], 2
    )
    report["ray_1_over_local"] = round(
        modes["ray_1_worker"]["runs_per_s"] / modes["local_1_process"]["runs_per_s"], 2
    )
    report["date"] = time.strftime("%Y-%m-%d")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
