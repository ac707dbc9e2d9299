"""Rule-check speed on the expense pack, side by side with the same policy in plain Python.

Measures, in one run: single-check latency p50/p95 end to end (model instance in, CheckResult out),
the same through the engine's path (``check_subject``: JSON in, the pack loaded from its folder,
validate, encode, summary out) warm and cold, batch throughput (check_many) for 1k and 10k distinct
cases of the expense and the baggage packs, resident memory before/after many single checks
(and whether latency drifts), and the plain-Python baseline (benchmarks/expense_python.py).
Writes benchmarks/results/rule_check.json.

    .venv/bin/python benchmarks/rule_check.py            # full (100k checks for the memory run)
    .venv/bin/python benchmarks/rule_check.py --quick    # a smoke run
    .venv/bin/python benchmarks/rule_check.py --guard    # what exact arithmetic costs (below)
    .venv/bin/python benchmarks/rule_check.py --guard-observer  # the grounding observer's cost

``--guard`` measures, interleaved in one run, the expense pack three ways: as before the exact
arithmetic guard (clingo's wrapping arithmetic, every field encoded), with the guard but every field
encoded, and as shipped (guard, only the fields some rule reads). Writes
benchmarks/results/rule_check_guard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import clingo
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from nesyflow.logic import _cache, check, check_many, load_pack  # noqa: E402
from nesyflow.logic.pack import without_guard  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cases(pack) -> list[tuple]:
    """Every pack test case and every sample's correct claim, as (claim, context) models."""
    out = []
    for file in sorted((ROOT / "rules" / "expense" / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text())["cases"]:
            ctx = case.get("context")
            out.append(
                (
                    pack.input_model.model_validate(case["input"]),
                    pack.context_model.model_validate(ctx) if ctx and pack.context_model else None,
                )
            )
    samples = ROOT / "agents" / "expense" / "samples.jsonl"
    if samples.exists():
        for line in samples.read_text().splitlines():
            if line.strip():
                out.append((pack.input_model.model_validate(json.loads(line)["expected"]), None))
    return out


def distinct(pool: list[tuple], n: int) -> list[tuple]:
    """``n`` cases, every one a distinct input (the employee's name differs, which no rule reads:
    the same grounding work, a different facts hash), so neither the result cache nor the batch's
    dedupe can answer any of them from an earlier one."""
    out = []
    for i in range(n):
        claim, ctx = pool[i % len(pool)]
        out.append((claim.model_copy(update={"employee_name": f"{claim.employee_name} #{i}"}), ctx))
    return out


def airline_distinct(pack, n: int) -> list:
    """``n`` distinct baggage tickets from the pack's own test cases (those with bags): the first
    bag renamed per case, a field no rule reads — the same grounding work, a different facts hash."""
    pool = []
    for file in sorted((ROOT / "rules" / "airline_baggage" / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text())["cases"]:
            ticket = pack.input_model.model_validate(case["input"])
            if ticket.bag_list:
                pool.append(ticket)
    out = []
    for i in range(n):
        ticket = pool[i % len(pool)]
        first = ticket.bag_list[0].model_copy(update={"name": f"{ticket.bag_list[0].name} #{i}"})
        out.append(ticket.model_copy(update={"bag_list": [first, *ticket.bag_list[1:]]}))
    return out


def engine_path(pool: list[tuple], n: int) -> dict:
    """A single check as a workflow's check node makes it (``engine.check_subject``: the pack
    loaded from its folder, the value dumped, validated and encoded, the summary built): cold (the
    first check after the logic layer's caches are emptied) and warm, on distinct inputs."""
    from nesyflow.engine import check_subject
    from nesyflow.graph.model import PackRef
    from nesyflow.logic import pack as pack_module

    ref = PackRef(path=ROOT / "rules" / "expense", text="rules/expense")
    cold = []
    for claim, ctx in pool[:5]:
        pack_module._LOADED.clear()
        _cache.results.clear()
        t = time.perf_counter()
        check_subject([ref], claim.model_dump(mode="json"), ctx)
        cold.append((time.perf_counter() - t) * 1000)
    data = [(c.model_dump(mode="json"), x) for c, x in distinct(pool, n)]
    warm = []
    for claim, ctx in data:
        t = time.perf_counter()
        check_subject([ref], claim, ctx)
        warm.append((time.perf_counter() - t) * 1000)
    return {
        "cold_ms_median_of_5": statistics.median(cold),
        "warm_p50_ms": percentile(warm, 0.5),
        "warm_p95_ms": percentile(warm, 0.95),
        "n": n,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_each(fn, pool, n) -> list[float]:
    out = []
    for i in range(n):
        claim, ctx = pool[i % len(pool)]
        t = time.perf_counter()
        fn(claim, ctx)
        out.append((time.perf_counter() - t) * 1000)
    return out


def guard_cost(quick: bool) -> None:
    """Single-check latency and batch throughput with and without the exact-arithmetic guard."""
    import dataclasses

    _cache.results.size = 0  # every check solved: this measures the checks, not the cache
    pack = load_pack(ROOT / "rules" / "expense")
    variants = {
        "before (no guard, all fields)": without_guard(pack),
        "guard, all fields": dataclasses.replace(
            pack, read_signatures=None, _batch=[], _lock=__import__("threading").Lock()
        ),
        "as shipped (guard, read fields)": pack,
    }
    pool = cases(pack)
    random.seed(7)
    random.shuffle(pool)
    for variant in variants.values():  # warm: slices, imports, batch programs
        for claim, ctx in pool:
            check(variant, claim, ctx)
        check_many(variant, [c for c, _ in pool], [x for _, x in pool])
    # Paired and interleaved check by check (the same case through every variant, the order
    # rotating), timed in wall-clock and in this process's CPU time: on a shared machine the CPU
    # time is what the check itself costs, the wall time adds whatever else ran meanwhile.
    n = 600 if quick else 3000
    names = list(variants)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for i in range(n):
        claim, ctx = pool[i % len(pool)]
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            w, c = time.perf_counter(), time.process_time()
            check(variants[name], claim, ctx)
            cpu[name].append((time.process_time() - c) * 1000)
            wall[name].append((time.perf_counter() - w) * 1000)
    sizes = (1000,) if quick else (1000, 10_000)
    batch: dict[str, dict[str, float]] = {name: {} for name in names}
    for size in sizes:
        chunk = [pool[i % len(pool)] for i in range(size)]
        claims, ctxs = [c for c, _ in chunk], [x for _, x in chunk]
        for r in range(3):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                c = time.process_time()
                check_many(variants[name], claims, ctxs)
                rate = size / (time.process_time() - c)
                batch[name][str(size)] = max(batch[name].get(str(size), 0.0), rate)
    out: dict = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "pack": str(pack.identity),
        "cases_in_pool": len(pool),
        "single_checks_per_variant": n,
        "variants": {},
    }
    base = next(iter(variants))
    for name in names:
        out["variants"][name] = {
            "single_cpu_p50_ms": percentile(cpu[name], 0.5),
            "single_cpu_p95_ms": percentile(cpu[name], 0.95),
            "single_wall_p50_ms": percentile(wall[name], 0.5),
            "single_wall_p95_ms": percentile(wall[name], 0.95),
            "batch_cases_per_cpu_s_best_of_3": batch[name],
        }
    ref = out["variants"][base]
    print(f"exact-arithmetic guard on {out['pack']} ({len(pool)} cases, {n} paired checks)")
    for name, row in out["variants"].items():
        rel = row["single_cpu_p50_ms"] / ref["single_cpu_p50_ms"] - 1
        rates = "  ".join(
            f"{k}: {v:.0f}/s ({v / ref['batch_cases_per_cpu_s_best_of_3'][k] - 1:+.1%})"
            for k, v in row["batch_cases_per_cpu_s_best_of_3"].items()
        )
        print(
            f"  {name:32s} CPU p50 {row['single_cpu_p50_ms']:.3f} ms ({rel:+.1%}) "
            f"p95 {row['single_cpu_p95_ms']:.3f}  wall p50 {row['single_wall_p50_ms']:.3f}  "
            f"batch {rates}"
        )
    file = ROOT / "benchmarks" / "results" / "rule_check_guard.json"
    file.write_text(json.dumps(out, indent=2) + "\n")
    print(f"  wrote {file.relative_to(ROOT)}")


def observer_cost(quick: bool) -> None:
    """Batch throughput in worker processes (the default path of check_many and ``nesyflow
    check``) with the grounding observer counting every ground rule, as before, and with the
    worker's own bounds only (time limit, RLIMIT_AS), as shipped. A limit other than the default
    turns the observer on in a worker, so both variants take the same path otherwise. Distinct
    inputs, the result cache off, rounds interleaved with the order rotating, wall-clock (the
    work is in the worker), best of the rounds; results compared case by case."""
    from nesyflow.logic.checker import DEFAULT_MAX_GROUND_RULES

    _cache.results.size = 0
    expense = load_pack(ROOT / "rules" / "expense")
    airline = load_pack(ROOT / "rules" / "airline_baggage")
    n_e, n_a = (2000, 1000) if quick else (10_000, 3000)
    e_pool = distinct(cases(expense), n_e)
    batches = {
        "expense": (expense, [c for c, _ in e_pool], [x for _, x in e_pool]),
        "airline": (airline, airline_distinct(airline, n_a), None),
    }
    limits = {
        "observer counts every rule (before)": DEFAULT_MAX_GROUND_RULES - 1,
        "worker bounds only (shipped)": DEFAULT_MAX_GROUND_RULES,
    }
    names = list(limits)
    rates: dict[str, dict[str, float]] = {b: {} for b in batches}
    answers: dict[str, dict[str, list]] = {b: {} for b in batches}
    rounds = 3 if quick else 5
    for batch, (pack, claims, ctxs) in batches.items():
        for name in names:  # warm: workers, slices, the batch program
            check_many(
                pack, claims[:300], ctxs[:300] if ctxs else None, max_ground_rules=limits[name]
            )
        for r in range(rounds):
            for name in names[r % 2 :] + names[: r % 2]:
                started = time.perf_counter()
                got = check_many(pack, claims, ctxs, max_ground_rules=limits[name])
                rate = len(claims) / (time.perf_counter() - started)
                rates[batch][name] = max(rates[batch].get(name, 0.0), rate)
                answers[batch][name] = [x.model_dump(mode="json", exclude={"timings"}) for x in got]
        first, second = (answers[batch][n] for n in names)
        assert first == second, f"{batch}: the two variants disagree"
    out = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "cases": {"expense": n_e, "airline": n_a},
        "rounds": rounds,
        "cases_per_s_best": rates,
        "identical_results": True,
    }
    print(f"grounding observer in workers ({rounds} interleaved rounds, distinct inputs, wall)")
    for batch, row in rates.items():
        before, now = (row[n] for n in names)
        print(f"  {batch:8s} before {before:7.0f}/s   shipped {now:7.0f}/s   ×{now / before:.2f}")
    file = ROOT / "benchmarks" / "results" / "rule_check_observer.json"
    file.write_text(json.dumps(out, indent=2) + "\n")
    print(f"  wrote {file.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--guard", action="store_true", help="only the guard's cost (see above)")
    parser.add_argument(
        "--guard-observer", action="store_true", help="only the grounding observer's cost"
    )
    parser.add_argument("--rss-checks", type=int, default=100_000)
    args = parser.parse_args()
    if args.guard:
        guard_cost(args.quick)
        return
    if args.guard_observer:
        observer_cost(args.quick)
        return
    single_n = 600 if args.quick else 5000
    rss_n = 2000 if args.quick else args.rss_checks
    random.seed(7)

    pack = load_pack(ROOT / "rules" / "expense")
    pool = cases(pack)
    random.shuffle(pool)
    cache_size = _cache.results.size
    _cache.results.size = 0  # distinct-input figures first: every check is solved
    results: dict = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "clingo": clingo.__version__,
            "platform": platform.platform(),
        },
        "pack": str(pack.identity),
        "cases_in_pool": len(pool),
    }

    # warm: slices and imports
    for claim, ctx in pool:
        check(pack, claim, ctx)

    single = time_each(lambda c, x: check(pack, c, x), pool, single_n)
    results["single_check_ms"] = {
        "n": single_n,
        "p50": percentile(single, 0.5),
        "p95": percentile(single, 0.95),
        "mean": statistics.fmean(single),
    }
    phases = [check(pack, c, x).timings for c, x in pool]
    results["single_check_phase_ms_median"] = {
        "encode": statistics.median(t.encode_ms for t in phases),
        "ground": statistics.median(t.ground_ms for t in phases),
        "solve": statistics.median(t.solve_ms for t in phases),
        "total": statistics.median(t.total_ms for t in phases),
    }

    results["engine_single_check_ms"] = engine_path(pool, single_n)

    try:
        from expense_python import evaluate  # type: ignore[import-not-found]

        base = time_each(evaluate, pool, single_n)
        results["python_baseline_ms"] = {
            "p50": percentile(base, 0.5),
            "p95": percentile(base, 0.95),
        }
        results["ratio_p50_asp_over_python"] = (
            results["single_check_ms"]["p50"] / results["python_baseline_ms"]["p50"]
        )
    except ImportError:
        results["python_baseline_ms"] = None

    for size in (1000, 10_000):
        batch = distinct(pool, size)
        claims = [c for c, _ in batch]
        ctxs = [x for _, x in batch]
        t = time.perf_counter()
        check_many(pack, claims, ctxs)
        elapsed = time.perf_counter() - t
        results[f"batch_{size}_cases_per_s"] = size / elapsed
    airline = load_pack(ROOT / "rules" / "airline_baggage")
    check_many(airline, airline_distinct(airline, 300))  # warm: slices, the batch program
    for size in (1000, 10_000):
        tickets = airline_distinct(airline, size)
        t = time.perf_counter()
        check_many(airline, tickets)
        results[f"airline_batch_{size}_cases_per_s"] = size / (time.perf_counter() - t)

    before = rss_mb()
    drift_first, drift_last = [], []
    curve = []  # RSS every tenth of the run: growth that levels off is caches, not a leak
    for i in range(rss_n):
        if i % max(1, rss_n // 10) == 0:
            curve.append((i, round(rss_mb(), 1)))
        claim, ctx = pool[i % len(pool)]
        t = time.perf_counter()
        check(pack, claim, ctx)
        ms = (time.perf_counter() - t) * 1000
        if i < 1000:
            drift_first.append(ms)
        elif i >= rss_n - 1000:
            drift_last.append(ms)
    after = rss_mb()
    # Repeats, as a history or a CLI file has them: the result cache on, the batch deduping.
    _cache.results.size = cache_size
    _cache.results.clear()
    for claim, ctx in pool:
        check(pack, claim, ctx)
    repeat = time_each(lambda c, x: check(pack, c, x), pool, single_n)
    results["single_repeat_ms"] = {"p50": percentile(repeat, 0.5), "p95": percentile(repeat, 0.95)}
    _cache.results.clear()
    batch = [pool[i % len(pool)] for i in range(10_000)]
    t = time.perf_counter()
    check_many(pack, [c for c, _ in batch], [x for _, x in batch])
    results["batch_10000_with_repeats_cases_per_s"] = 10_000 / (time.perf_counter() - t)
    results["memory"] = {
        "checks": rss_n,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_curve_mb": curve,
        "p50_first_1000_ms": statistics.median(drift_first),
        "p50_last_1000_ms": statistics.median(drift_last) if drift_last else None,
    }

    out = ROOT / "benchmarks" / "results" / "rule_check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")

    s, b = results["single_check_ms"], results["python_baseline_ms"]
    print(f"rule_check on {results['pack']} ({len(pool)} distinct cases)")
    print(f"  single check (end to end)  p50 {s['p50']:.3f} ms   p95 {s['p95']:.3f} ms")
    ph = results["single_check_phase_ms_median"]
    print(
        f"    phases (median)          encode {ph['encode']:.3f}  ground {ph['ground']:.3f}  "
        f"solve {ph['solve']:.3f}  total {ph['total']:.3f} ms"
    )
    if b:
        print(
            f"  plain Python baseline      p50 {b['p50']:.4f} ms   p95 {b['p95']:.4f} ms   "
            f"(ASP/Python p50 ratio {results['ratio_p50_asp_over_python']:.0f}x)"
        )
    e = results["engine_single_check_ms"]
    print(
        f"  through the engine         p50 {e['warm_p50_ms']:.3f} ms   p95 {e['warm_p95_ms']:.3f} ms"
        f"   cold (caches emptied) {e['cold_ms_median_of_5']:.1f} ms"
    )
    print(f"  batch 1k                   {results['batch_1000_cases_per_s']:.0f} cases/s")
    print(f"  batch 10k                  {results['batch_10000_cases_per_s']:.0f} cases/s")
    print(
        f"  airline batch 1k / 10k     {results['airline_batch_1000_cases_per_s']:.0f} / "
        f"{results['airline_batch_10000_cases_per_s']:.0f} cases/s"
    )
    r = results["single_repeat_ms"]
    print(
        f"  single check, a repeat     p50 {r['p50']:.4f} ms   p95 {r['p95']:.4f} ms (result cache)"
    )
    print(
        f"  batch 10k, {len(pool)} distinct  "
        f"{results['batch_10000_with_repeats_cases_per_s']:.0f} cases/s (each distinct input once)"
    )
    m = results["memory"]
    print(
        f"  RSS over {m['checks']} checks       {m['rss_before_mb']:.1f} MB → "
        f"{m['rss_after_mb']:.1f} MB; p50 first/last 1000: {m['p50_first_1000_ms']:.3f} / "
        f"{m['p50_last_1000_ms'] or float('nan'):.3f} ms"
    )
    print(f"  RSS curve (checks, MB)     {m['rss_curve_mb']}")
    print(f"  wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
