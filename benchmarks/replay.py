"""Replay speed on the retail pack: every train task's correct sequence and all their mutants.

The 1,000-order database is loaded once (parse time reported); each sequence replays from a fresh
copy-on-write view of it. Measures actions checked per second (end to end: context building, the
check, the tool run), p50/p95 per action check, and where a check's time goes (building the context
from state + history, encoding it to facts, grounding, solving). Writes benchmarks/results/replay.json.

    .venv/bin/python benchmarks/replay.py            # 3 rounds
    .venv/bin/python benchmarks/replay.py --quick    # 1 round
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import clingo

ROOT = Path(__file__).resolve().parent.parent


def _sequences_module():
    spec = importlib.util.spec_from_file_location(
        "retail_sequences", ROOT / "tests" / "retail" / "sequences.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "replay.json"))
    opts = parser.parse_args()

    from nesyflow.logic import load_pack
    from nesyflow.replay import replay_sequence

    t0 = time.perf_counter()
    S = _sequences_module()
    pack = load_pack(S.PACK)
    t1 = time.perf_counter()
    db_module = sys.modules["nesyflow_agent_retail_service.db"]
    db_file = db_module.DEFAULT_DB
    start = time.perf_counter()
    json.loads(db_file.read_text(encoding="utf-8"))
    parse_ms = (time.perf_counter() - start) * 1000
    base = S.DOMAIN.new_state(None)
    orders = len(base.orders)

    sequences = [seq for _, seq in S.task_sequences()]
    skip = {t: frozenset({i}) for t, i in S.EXPECTED_DENIALS}
    mutants = [m.sequence for m in S.all_mutants(S.task_sequences(), skip)]
    workload = sequences + mutants

    rounds = 1 if opts.quick else 3
    per_check: list[float] = []
    phases: dict[str, list[float]] = {
        "context": [],
        "encode": [],
        "ground": [],
        "solve": [],
        "check": [],
    }
    facts: list[int] = []
    verdicts = {"allow": 0, "deny": 0, "review": 0}
    walls = []
    for _ in range(rounds):
        actions = 0
        wall0 = time.perf_counter()
        for seq in workload:
            state = S.DOMAIN.new_state(None)
            for outcome in replay_sequence(pack, S.DOMAIN, seq, state):
                actions += 1
                c = outcome.check
                verdicts[outcome.verdict] += 1
                per_check.append(c.context_ms + c.check_ms)
                phases["context"].append(c.context_ms)
                phases["check"].append(c.check_ms)
                phases["encode"].append(c.timings["encode_ms"])
                phases["ground"].append(c.timings["ground_ms"])
                phases["solve"].append(c.timings["solve_ms"])
        walls.append((time.perf_counter() - wall0, actions))

    # facts per check (the touched records only), one pass over the whole workload
    from dataclasses import replace

    from nesyflow.schema import to_facts

    def counting(state, history, call):
        data = S.DOMAIN.build_context(state, history, call)
        ctx = pack.context_model.model_validate(data)
        inp = pack.input_model.model_validate(S.DOMAIN.input_for(call))
        facts.append(len(to_facts(inp, ctx)))
        return ctx

    counted = replace(S.DOMAIN, build_context=counting)
    for seq in workload:
        for _ in replay_sequence(pack, counted, seq, counted.new_state(None)):
            pass

    best_wall, actions = min(walls)
    medians = {k: statistics.median(v) for k, v in phases.items()}
    other = statistics.median(per_check) - medians["context"] - medians["encode"]
    other -= medians["ground"] + medians["solve"]
    result = {
        "machine": {
            "cores": __import__("os").cpu_count(),
            "python": platform.python_version(),
            "clingo": clingo.__version__,
            "platform": platform.platform(),
        },
        "pack": str(pack.identity),
        "database": {"orders": orders, "users": len(base.users), "parse_ms": parse_ms},
        "setup_s": t1 - t0,
        "workload": {
            "correct_sequences": len(sequences),
            "mutant_sequences": len(mutants),
            "actions_per_round": actions,
            "rounds": rounds,
            "verdicts_all_rounds": verdicts,
        },
        "actions_checked_per_s": actions / best_wall,
        "per_action_check_ms": {
            "n": len(per_check),
            "p50": pct(per_check, 0.5),
            "p95": pct(per_check, 0.95),
            "mean": statistics.fmean(per_check),
        },
        # checker_overhead: inside check() but outside encode/ground/solve (facts hash, decoding
        # the answer set, explanations, the result model)
        "phase_ms_median": {**medians, "checker_overhead": other},
        "phase_share_of_median": {
            k: medians[k] / statistics.median(per_check)
            for k in ("context", "encode", "ground", "solve")
        },
        "facts_per_check": {
            "p50": pct(facts, 0.5),
            "p95": pct(facts, 0.95),
            "max": max(facts),
        },
    }
    Path(opts.out).parent.mkdir(parents=True, exist_ok=True)
    Path(opts.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
