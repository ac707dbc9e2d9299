"""What the killable worker processes cost, and what a pool of them buys — all in one run.

Measures on the expense pack (its tests and the expense agent's samples as cases):

* single-check latency p50/p95 in-process (``isolated=False``) vs in a worker (the default);
* batch throughput (``check_many``) in-process, with 1 worker and with 2 workers (the speedup);
* a silent grounding (emits nothing) against ``timeout=1``: how long until ``unknown``, and what the
  next check costs (a fresh worker loads the pack);
* resident memory of this (long-lived) process and of its workers over many checks with
  recycling (every ``--recycle`` cases), against the +25 MB target.

Writes benchmarks/results/bounded_check.json.

    .venv/bin/python benchmarks/bounded_check.py             # ≈ 5 min on 2 shared cores
    .venv/bin/python benchmarks/bounded_check.py --quick     # a smoke run
    .venv/bin/python benchmarks/bounded_check.py --batch-memory 1000000   # RSS over 1M batch checks
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from rule_check import cases as expense_cases  # noqa: E402

from nesyflow.logic import bounded, check, check_many, load_pack  # noqa: E402


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workers_rss_mb() -> list[float]:
    pool = bounded.pool()
    return [rss_mb(w.process.pid) for w in pool._idle if w.process.is_alive()]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def single(pack, pool, n: int, isolated: bool) -> list[float]:
    out = []
    for i in range(n):
        claim, ctx = pool[i % len(pool)]
        t = time.perf_counter()
        check(pack, claim, ctx, isolated=isolated)
        out.append((time.perf_counter() - t) * 1000)
    return out


def batch(pack, pool, n: int, **kw) -> float:
    claims = [pool[i % len(pool)][0] for i in range(n)]
    ctxs = [pool[i % len(pool)][1] for i in range(n)]
    t = time.perf_counter()
    results = check_many(pack, claims, ctxs, **kw)
    assert len(results) == n
    return n / (time.perf_counter() - t)


def batch_memory(n: int, chunk: int = 10_000) -> None:
    """One long-lived checker over ``n`` distinct inputs through ``check_many`` (workers recycled
    every ``RECYCLE_AFTER`` cases): this process's RSS and its workers' every tenth of the way, for
    the +25 MB target. Distinct: the employee's name differs per case (no rule reads it), so no
    case is answered from the result cache or the batch's dedupe."""
    pack = load_pack(ROOT / "rules" / "expense")
    pool = expense_cases(pack)
    check_many(pack, [c for c, _ in pool], [x for _, x in pool])  # warm: workers, batch program
    start, started = rss_mb(), bounded.pool().started
    curve: list[tuple[int, float, list[float]]] = [(0, start, workers_rss_mb())]
    t = time.perf_counter()
    done = 0
    while done < n:
        size = min(chunk, n - done)
        cases = []
        for i in range(done, done + size):
            claim, ctx = pool[i % len(pool)]
            cases.append((claim.model_copy(update={"employee_name": f"E {i}"}), ctx))
        check_many(pack, [c for c, _ in cases], [x for _, x in cases])
        done += size
        if done % max(chunk, n // 10) == 0 or done == n:
            curve.append((done, rss_mb(), workers_rss_mb()))
            print(f"  {done:>9,} checks  RSS {curve[-1][1]:.1f} MB  workers {curve[-1][2]} MB")
    elapsed = time.perf_counter() - t
    result = {
        "pack": str(pack.identity),
        "checks": n,
        "seconds": round(elapsed, 1),
        "cases_per_s": round(n / elapsed),
        "recycle_after": bounded.RECYCLE_AFTER,
        "rss_mb_start": start,
        "rss_mb_end": curve[-1][1],
        "rss_growth_mb": round(curve[-1][1] - start, 1),
        "target_growth_mb": 25,
        "curve_checks_rss_workers": curve,
        "workers_started": bounded.pool().started - started,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": os.getloadavg()[0],
    }
    out = ROOT / "benchmarks" / "results" / "bounded_check_batch_memory.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{n:,} batch checks in {elapsed:.0f} s: RSS {start:.1f} → {curve[-1][1]:.1f} MB "
        f"({result['rss_growth_mb']:+.1f}, target +25), {result['workers_started']} workers "
        f"started; wrote {out.relative_to(ROOT)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-checks", type=int, default=None)
    parser.add_argument(
        "--batch-memory",
        type=int,
        default=None,
        metavar="N",
        help="only: RSS of this process and its workers over N distinct batch checks",
    )
    args = parser.parse_args()
    if args.batch_memory:
        batch_memory(args.batch_memory)
        return
    n_single = 300 if args.quick else 2000
    n_batch = 2000 if args.quick else 20000
    n_memory = args.memory_checks or (2000 if args.quick else 60000)

    pack = load_pack(ROOT / "rules" / "expense")
    pool = expense_cases(pack)
    check(pack, *pool[0])  # start the forkserver and a worker
    results: dict = {
        "pack": str(pack.identity),
        "cases": len(pool),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "recycle_after": bounded.RECYCLE_AFTER,
        "memory_mb_per_worker": bounded.MEMORY_MB,
    }

    # interleave so both see the same machine load
    here, there = [], []
    for _ in range(4):
        here += single(pack, pool, n_single // 4, isolated=False)
        there += single(pack, pool, n_single // 4, isolated=True)
    results["single_check_ms"] = {
        "in_process": {"p50": pct(here, 0.5), "p95": pct(here, 0.95), "n": len(here)},
        "worker": {"p50": pct(there, 0.5), "p95": pct(there, 0.95), "n": len(there)},
    }
    results["single_check_overhead_ms_p50"] = pct(there, 0.5) - pct(here, 0.5)

    rates = {
        "in_process": batch(pack, pool, n_batch, isolated=False),
        "workers_1": batch(pack, pool, n_batch, workers=1),
        "workers_2": batch(pack, pool, n_batch, workers=2),
    }
    results["batch_cases_per_s"] = rates | {"n": n_batch}
    results["speedup_2_workers_over_1"] = rates["workers_2"] / rates["workers_1"]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "silent"
        shutil.copytree(ROOT / "tests" / "fixtures" / "packs" / "toy", folder)
        (folder / "slow.lp").write_text("slow(X) :- item(_), X = 1..2000000000, X \\ 7 = 8.\n")
        silent = load_pack(folder)
        quiet = {"level": "staff", "items": []}
        claim = {"level": "staff", "items": [{"category": "meals", "amount": "20"}]}
        check(silent, quiet)
        t = time.perf_counter()
        verdict = check(silent, claim, timeout=1.0).verdict.value
        stopped = time.perf_counter() - t
        t = time.perf_counter()
        check(silent, quiet)
        after = time.perf_counter() - t
    results["silent_grounding"] = {
        "timeout_s": 1.0,
        "verdict": verdict,
        "answered_after_s": stopped,
        "next_check_s": after,
    }

    parent_start, workers_start = rss_mb(), workers_rss_mb()
    started_workers = bounded.pool().started
    t = time.perf_counter()
    single(pack, pool, n_memory, isolated=True)
    elapsed = time.perf_counter() - t
    results["memory"] = {
        "single_checks": n_memory,
        "seconds": elapsed,
        "parent_rss_mb": [parent_start, rss_mb()],
        "workers_rss_mb": [workers_start, workers_rss_mb()],
        "workers_started": bounded.pool().started - started_workers,
    }

    out = ROOT / "benchmarks" / "results" / "bounded_check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    s = results["single_check_ms"]
    print(f"bounded_check on {results['pack']} ({len(pool)} distinct cases)")
    print(
        f"  single check p50/p95  in-process {s['in_process']['p50']:.2f}/"
        f"{s['in_process']['p95']:.2f} ms, worker {s['worker']['p50']:.2f}/"
        f"{s['worker']['p95']:.2f} ms"
    )
    print(
        f"  batch {n_batch}: in-process {rates['in_process']:.0f}/s, 1 worker "
        f"{rates['workers_1']:.0f}/s, 2 workers {rates['workers_2']:.0f}/s "
        f"(x{results['speedup_2_workers_over_1']:.2f})"
    )
    sg = results["silent_grounding"]
    print(
        f"  silent grounding, timeout 1 s: {sg['verdict']} after {sg['answered_after_s']:.2f} s; "
        f"next check {sg['next_check_s']:.2f} s"
    )
    m = results["memory"]
    print(
        f"  {n_memory} checks: parent RSS {m['parent_rss_mb'][0]:.1f} → {m['parent_rss_mb'][1]:.1f} MB,"
        f" workers {m['workers_rss_mb']} MB, {m['workers_started']} workers started"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
