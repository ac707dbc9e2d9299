"""Batch checks on Ray against the local worker processes, in one run on the same machine.

``check_many`` on N distinct expense inputs (the pack's own test cases and the agent's samples,
each copy's first item's amount raised by a cent per copy, so no input repeats and neither the
batch's dedupe nor the result cache answers any): locally with 1 worker process, then on a local
Ray cluster with 1 and 2 actors (and, for reference, locally with 2 worker processes). Each mode
is warmed first (worker / actors started, pack loaded) on inputs the timed run does not contain;
the result cache is cleared before every run. The modes take turns over ``--rounds`` rounds (a
shared machine's load then falls on all of them); reports each mode's median cases/s, every round,
and whether every mode's results equal the local ones (timings aside).

Writes benchmarks/results/ray_batch.json.

    .venv/bin/python benchmarks/ray_batch.py                       # N = 10,000, 3 rounds: ≈ 2 min
    .venv/bin/python benchmarks/ray_batch.py --n 2000 --rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from rule_check import cases as expense_cases  # noqa: E402

from nesyflow.logic import _cache, check_many, load_pack  # noqa: E402


def distinct(pool: list[tuple], n: int, offset: int = 0) -> list[tuple]:
    """``n`` inputs, none equal to another: copy ``k`` of a case has its first item's amount raised
    by ``k`` cents (a case without items gets a different employee name instead); a copy that
    happens to equal an input already made (two cases that differ by a cent) is skipped."""
    out, seen, i = [], set(), offset
    while len(out) < n:
        claim, ctx = pool[i % len(pool)]
        copy = i // len(pool)
        i += 1
        if claim.items:
            first = claim.items[0]
            moved = first.model_copy(update={"amount": first.amount + Decimal(copy) / 100})
            claim = claim.model_copy(update={"items": [moved, *claim.items[1:]]})
        else:
            claim = claim.model_copy(update={"employee_name": f"{claim.employee_name} #{copy}"})
        key = (claim.model_dump_json(), ctx.model_dump_json() if ctx else "")
        if key not in seen:
            seen.add(key)
            out.append((claim, ctx))
    return out


def plain(result) -> dict:
    out = result.to_json()
    out.pop("timings")
    return out


def timed(pack, inputs: list[tuple], **kw) -> tuple[float, list]:
    _cache.results.clear()
    started = time.perf_counter()
    results = check_many(pack, [c for c, _ in inputs], [x for _, x in inputs], **kw)
    seconds = time.perf_counter() - started
    _cache.results.clear()
    assert len(results) == len(inputs)
    return seconds, results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "ray_batch.json"
    )
    args = parser.parse_args()

    import ray

    pack = load_pack(ROOT / "rules" / "expense")
    pool = list(  # a sample may equal a test case: each base input once
        {
            (c.model_dump_json(), x.model_dump_json() if x else ""): (c, x)
            for c, x in expense_cases(pack)
        }.values()
    )
    inputs = distinct(pool, args.n)
    warm = distinct(pool, 200, offset=10 * args.n)  # other amounts: never in the timed run
    n_distinct = len({(c.model_dump_json(), x.model_dump_json() if x else "") for c, x in inputs})
    assert n_distinct == args.n, f"only {n_distinct} distinct inputs of {args.n}"

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - t

    modes = {
        "local_1_worker": {"workers": 1},
        "ray_1_actor": {"executor": "ray", "workers": 1},
        "ray_2_actors": {"executor": "ray", "workers": 2},
        "local_2_workers": {"workers": 2},  # for reference: the same two cores, no Ray
    }
    load_before = os.getloadavg()[0]  # the machine may be shared: rounds interleave the modes
    warm_s = {name: timed(pack, warm, **kw)[0] for name, kw in modes.items()}
    rounds: dict[str, list[float]] = {name: [] for name in modes}
    same = dict.fromkeys(modes, True)
    reference = None
    for round_no in range(args.rounds):
        for name, kw in modes.items():
            seconds, results = timed(pack, inputs, **kw)
            rounds[name].append(args.n / seconds)
            flat = [plain(r) for r in results]
            if reference is None:
                reference = flat
            same[name] &= flat == reference
            print(
                f"round {round_no + 1} {name:16} {args.n / seconds:8.1f} cases/s  same: {same[name]}"
            )
    rates = {name: statistics.median(values) for name, values in rounds.items()}
    ray.shutdown()

    out = {
        "pack": str(pack.identity),
        "n_distinct_inputs": args.n,
        "base_cases": len(pool),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "ray": ray.__version__,
        },
        "ray_init_s": round(ray_start, 2),
        "warm_up_s_200_cases": {k: round(v, 2) for k, v in warm_s.items()},
        "load_average_before": round(load_before, 2),
        "rounds": args.rounds,
        "cases_per_s_median": {k: round(v, 1) for k, v in rates.items()},
        "cases_per_s_rounds": {k: [round(x, 1) for x in v] for k, v in rounds.items()},
        "ray_2_over_ray_1": round(rates["ray_2_actors"] / rates["ray_1_actor"], 2),
        "ray_1_over_local_1": round(rates["ray_1_actor"] / rates["local_1_worker"], 2),
        "local_2_over_local_1": round(rates["local_2_workers"] / rates["local_1_worker"], 2),
        "results_equal_local": same,
        "verdicts": {
            v: sum(1 for r in reference or [] if r["verdict"] == v)
            for v in ("pass", "fail", "review", "deny", "unknown")
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
