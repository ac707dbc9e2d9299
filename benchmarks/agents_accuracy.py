"""Accuracy of the example agents end to end on a model (default: the offline local/smollm2).

    .venv/bin/python benchmarks/agents_accuracy.py                 # ~15-20 min on 2 shared cores
    .venv/bin/python benchmarks/agents_accuracy.py --expense-limit 20 --airline-limit 10
    .venv/bin/python benchmarks/agents_accuracy.py --model openai/gpt-4o-mini

Airline baggage (agents/airline_baggage: 30 RuleArena cases, and 20 held-out descriptions in
heldout.jsonl): how often the total cost is right when the agent reads the passenger's description
(nesyflow.extract: spans and numbered lines, no model) and the rules compute the fees, beside the
rules alone on the gold facts; runs that complete with a wrong total.

Expense (agents/expense: 70 samples, 20 held-out requests in heldout.jsonl written apart from
the finders, and 30 requests in unseen.jsonl written by a separate author who saw only the format,
the policy and the schema; ``--expense-files unseen.jsonl --skip-airline --out FILE`` measures one
file alone): field-level and whole-claim accuracy against the expected claims, agreement of the
rules' verdict with ``expected_verdict`` (scored as ``nesyflow demo`` scores them), claims paid
wrongly (paid though the expected claim does not pass, or with a wrong amount, currency or rate),
and per field what each source contributed (span, lookup, keywords, default, structure, model).

Every run goes through the engine into a throw-away SQLite store. Writes
benchmarks/results/agents_accuracy.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NESYFLOW_LOCAL_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "agents_accuracy.json"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _services(model: str | None):
    from nesyflow.engine import Services

    return Services(resolve_model=(lambda _n, _w: model) if model else None)


def airline(model: str | None, limit: int | None, store, file: str = "samples.jsonl") -> dict:
    from nesyflow.engine import start_run
    from nesyflow.graph import load_workflow
    from nesyflow.logic import check, load_pack

    agent = ROOT / "agents" / "airline_baggage"
    cases = _jsonl(agent / file)
    pack = load_pack(ROOT / "rules" / "airline_baggage")
    rules_only = sum(
        check(pack, c["info"], timeout=10).derived.get("total_cost") == c["gold_total_cost"]
        for c in cases
    )
    if limit is not None:
        cases = cases[:limit]
    flow = load_workflow(agent / "workflow.yaml")
    services = _services(model)
    rows = []
    started = time.perf_counter()
    for case in cases:
        t0 = time.perf_counter()
        result = start_run(flow, case, store=store, services=services)
        steps = store.steps(result.run_id)
        read = next((s.output for s in reversed(steps) if s.node == "read" and s.output), None)
        read = (read or {}).get("trip")
        ticket = next((s.output for s in steps if s.node == "ticket" and s.output), None)
        fees = next((s for s in steps if s.node == "fees" and s.check), None)
        total = None
        if fees is not None:
            for r in fees.check.get("results", []):
                total = (r.get("derived") or {}).get("total_cost", total)
        info = case["info"]
        exact = (
            ticket is not None
            and all(ticket.get(k) == info[k] for k in ("base_price", "customer_class", "routine"))
            and [(b["size"], b["weight"]) for b in ticket["bag_list"]]
            == [(b["size"], b["weight"]) for b in info["bag_list"]]
        )
        rows.append(
            {
                "idx": case.get("idx"),
                "bags": len(info["bag_list"]),
                "status": result.status.value,
                "total": total,
                "gold": case["gold_total_cost"],
                "total_right": total == case["gold_total_cost"],
                "reading_exact": bool(exact),
                "class_right": bool(read) and read.get("customer_class") == info["customer_class"],
                "price_right": bool(read) and read.get("base_price") == info["base_price"],
                "bags_counted_right": bool(read)
                and len(read.get("bags", [])) == len(info["bag_list"]),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        print(
            f"airline {case.get('idx'):>2}: total {total} (gold {case['gold_total_cost']}) "
            f"{'ok' if rows[-1]['total_right'] else 'wrong'} {rows[-1]['seconds']} s",
            flush=True,
        )
    n = len(rows)
    return {
        "cases": n,
        "file": file,
        "model_calls": 0,
        "rules_only_total_right": f"{rules_only}/{len(_jsonl(agent / file))}",
        "completed_with_wrong_total": sum(
            r["status"] == "completed" and not r["total_right"] for r in rows
        ),
        "end_to_end_total_right": sum(r["total_right"] for r in rows),
        "end_to_end_total_right_pct": round(100 * sum(r["total_right"] for r in rows) / n, 1)
        if n
        else None,
        "reading_exact": sum(r["reading_exact"] for r in rows),
        "class_right": sum(r["class_right"] for r in rows),
        "price_right": sum(r["price_right"] for r in rows),
        "bags_counted_right": sum(r["bags_counted_right"] for r in rows),
        "statuses": dict(Counter(r["status"] for r in rows)),
        "seconds_total": round(time.perf_counter() - started, 1),
        "per_case": rows,
    }


def _paid_wrongly(o) -> bool:
    """Paid, though the expected claim does not pass, or with a wrong amount, currency or rate."""
    if not o.paid:
        return False
    if o.expected_verdict != "pass":
        return True
    tally = o.score.per_field
    return (
        any(
            tally.get(k, [0, 0])[0] != tally.get(k, [0, 0])[1]
            for k in ("amount", "currency", "fx_rate")
        )
        or not o.score.items_right_count
    )


def expense(model: str | None, limit: int | None, store, file: str = "samples.jsonl") -> dict:
    from nesyflow.cli.demo import (
        SCORED_FIELDS,
        field_tally,
        load_samples,
        run_sample,
        source_tally,
    )
    from nesyflow.graph import load_workflow

    agent = ROOT / "agents" / "expense"
    samples = load_samples(agent / file)
    if limit is not None:
        samples = samples[:limit]
    flow = load_workflow(agent / "workflow.yaml")
    services = _services(model)
    outcomes = []
    started = time.perf_counter()
    for sample in samples:
        o = run_sample(flow, sample, store, services)
        outcomes.append(o)
        print(
            f"expense {o.sample_id}: fields {o.score.fields_right}/{o.score.fields_total} "
            f"verdict {o.verdict} (expected {o.expected_verdict}) {o.wall_s:.1f} s",
            flush=True,
        )
    n = len(outcomes)
    right = sum(o.score.fields_right for o in outcomes)
    total = sum(o.score.fields_total for o in outcomes)
    per_field = field_tally(outcomes)
    agree = sum(o.verdict == o.expected_verdict for o in outcomes)
    first_agree = sum(o.first_verdict == o.expected_verdict for o in outcomes)
    paid = [o for o in outcomes if o.paid]
    return {
        "file": file,
        "samples": n,
        "paid": len(paid),
        "should_pay": sum(o.expected_verdict == "pass" for o in outcomes),
        "paid_wrongly": sum(_paid_wrongly(o) for o in outcomes),
        "paid_wrongly_ids": [o.sample_id for o in outcomes if _paid_wrongly(o)],
        "to_a_person": sum(o.status == "waiting_review" for o in outcomes),
        "to_a_person_by_rule": dict(
            Counter(
                rule
                for o in outcomes
                if o.status == "waiting_review"
                for rule in sorted({str(x.rule or x.kind) for x in o.review_reasons})
            ).most_common()
        ),
        "should_pay_not_paid_ids": [
            o.sample_id for o in outcomes if o.expected_verdict == "pass" and not o.paid
        ],
        "ambiguous": sum(any(r.rule == "ambiguous" for r in o.review_reasons) for o in outcomes),
        "model_calls": sum(o.model_calls for o in outcomes),
        "seconds_per_claim": round(sum(o.wall_s for o in outcomes) / n, 2) if n else None,
        "per_field_by_source": source_tally(outcomes),
        "fields_right": right,
        "fields_total": total,
        "field_accuracy_pct": round(100 * right / total, 1) if total else None,
        "whole_claims_right": sum(o.score.claim_right for o in outcomes),
        "employee_fields_copied_right": sum(o.score.employee_right for o in outcomes),
        "item_count_right": sum(o.score.items_right_count for o in outcomes),
        "verdict_agreement": agree,
        "verdict_agreement_pct": round(100 * agree / n, 1) if n else None,
        "verdict_agreement_first_attempt": first_agree,
        "per_field_pct": {
            k: round(100 * per_field[k][0] / per_field[k][1], 1)
            for k in SCORED_FIELDS
            if k in per_field
        },
        "verdicts": dict(Counter(str(o.verdict) for o in outcomes)),
        "expected_verdicts": dict(Counter(str(o.expected_verdict) for o in outcomes)),
        "statuses": dict(Counter(o.status for o in outcomes)),
        "reasked": sum(o.attempts > 1 for o in outcomes),
        "reask_then_pass": sum(o.attempts > 1 and o.verdict == "pass" for o in outcomes),
        "rules_on_first_claims": dict(Counter(r for o in outcomes for r in o.first_rules)),
        "model_s": round(sum(o.model_ms for o in outcomes) / 1000, 1),
        "rules_s": round(sum(o.rules_ms for o in outcomes) / 1000, 2),
        "store_s": round(sum(o.store_ms for o in outcomes) / 1000, 2),
        "seconds_total": round(time.perf_counter() - started, 1),
        "per_sample": [
            {
                "id": o.sample_id,
                "fields": f"{o.score.fields_right}/{o.score.fields_total}",
                "claim_right": o.score.claim_right,
                "wrong_fields": sorted(k for k, (r, t) in o.score.per_field.items() if r != t),
                "paid": bool(o.paid),
                "to_a_person_rules": sorted({str(r.rule or r.kind) for r in o.review_reasons}),
                "verdict": o.verdict,
                "expected_verdict": o.expected_verdict,
                "attempts": o.attempts,
                "status": o.status,
            }
            for o in outcomes
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="litellm model string (default local)")
    parser.add_argument("--airline-limit", type=int, default=None)
    parser.add_argument("--expense-limit", type=int, default=None)
    parser.add_argument("--skip-airline", action="store_true")
    parser.add_argument("--skip-expense", action="store_true")
    parser.add_argument(
        "--expense-files",
        nargs="+",
        default=["samples.jsonl", "heldout.jsonl"],
        help="request files of agents/expense to measure (reported as expense, expense_<stem>)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the report")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "runtime"))
    from nesyflow.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        report = {
            "benchmark": "agents_accuracy",
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "model": args.model or os.environ.get("NESYFLOW_MODEL") or "local/smollm2",
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "llama_threads": int(os.environ.get("NESYFLOW_LOCAL_THREADS", "1")),
        }
        if not args.skip_airline:
            report["airline_baggage"] = airline(args.model, args.airline_limit, store)
            report["airline_baggage_heldout"] = airline(
                args.model, args.airline_limit, store, "heldout.jsonl"
            )
        if not args.skip_expense:
            for file in args.expense_files:
                stem = Path(file).stem
                key = "expense" if stem == "samples" else f"expense_{stem}"
                report[key] = expense(args.model, args.expense_limit, store, file)
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    summary = {
        k: {
            kk: vv
            for kk, vv in v.items()
            if not isinstance(vv, list) and kk != "per_field_by_source"
        }
        for k, v in report.items()
        if isinstance(v, dict) and (k.startswith("expense") or k.startswith("airline_baggage"))
    }
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
