"""How often the top minimal repair equals the correct claim, on the expense agent's held claims.

    .venv/bin/python benchmarks/repair_accuracy.py --limit 70          # model variant, ~1 min/claim under load
    .venv/bin/python benchmarks/repair_accuracy.py --db sqlite:///runs.db   # a store of model.yaml runs
    .venv/bin/python benchmarks/repair_accuracy.py --grounded          # also the grounded reader's held claims

Model variant (``agents/expense/model.yaml``, the embedded model ``local/smollm2`` writing the
whole claim, one reask, then a person): for every review of its ``extract`` node whose verdict is
``fail`` or ``unknown``, the repair is searched with the candidates the grounded reader finds in the
same request and receipt (``reader.read_with`` with no model — the run itself keeps no readings),
the enum members and dropped items (``nesyflow.insight.repair_review``), and the repaired claim is
compared with the sample's ``expected`` claim on the fields the rules read (item count; amount,
currency, category, date, receipt, rate, tier, nights, attendees, alcohol, cabin, miles).

Claims are split by what the correct claim gets from the rules: where it passes (or only needs a
person), a repair can be right; where it fails too, any repair makes a truly non-compliant claim
pass, which the reviewer must refuse — reported as "repairs offered on a claim that should fail".

``--grounded`` runs the grounded agent (``workflow.yaml``, no model) on the samples and measures the
same on its held claims, with the run's own readings. Writes benchmarks/results/repair_accuracy.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

AGENT = ROOT / "agents" / "expense"
FIELDS = (
    "amount",
    "currency",
    "category",
    "date",
    "receipt_attached",
    "fx_rate",
    "city_tier",
    "nights",
    "attendees",
    "alcohol",
    "fare_class",
    "miles",
)


def _norm(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)


def same_claim(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Equal on what the rules read (free text — merchant spelling, description — aside)."""
    items, want = got.get("items") or [], expected.get("items") or []
    if len(items) != len(want):
        return False
    return all(
        _norm(a.get(f, "USD" if f == "currency" else None))
        == _norm(b.get(f, "USD" if f == "currency" else None))
        for a, b in zip(items, want, strict=True)
        for f in FIELDS
    )


def changes_right(repair: Any, expected: dict[str, Any]) -> bool:
    """Every change the repair makes lands on the correct claim's value (a drop: the repaired
    claim has no more items than the correct one)."""
    want = expected.get("items") or []
    for line in repair.lines:
        change = line.change
        if change.kind == "drop":
            if len((repair.value or {}).get("items") or []) < len(want):
                return False
            continue
        _items, index, name = change.path if len(change.path) == 3 else (None, None, None)
        if index is None or index >= len(want):
            return False
        default = "USD" if name == "currency" else None
        if _norm(want[index].get(name, default)) != _norm(change.new):
            return False
    return bool(repair.lines)


def reader_readings(row: dict[str, Any]) -> list[Any]:
    from nesyflow._imports import load_module
    from nesyflow.extract import PersonChooser

    reader = load_module(AGENT / "reader.py")
    args = reader.ReadArgs(
        request=row["request"],
        receipt=row.get("receipt", ""),
        submitted_on=row["submitted_on"],
        employee=row["employee"],
    )
    return reader.read_with(args, PersonChooser()).readings


def run_samples(workflow: Path, rows: list[dict[str, Any]], db: str) -> float:
    from nesyflow.engine import start_run
    from nesyflow.store import open_store

    store = open_store(db)
    started = time.perf_counter()
    for i, row in enumerate(rows, 1):
        start_run(workflow, row, store=store)
        print(f"  ran {i}/{len(rows)} {row['id']}", file=sys.stderr)
    return time.perf_counter() - started


def measure(db: str, samples: dict[str, dict[str, Any]], own_readings: bool) -> dict[str, Any]:
    from nesyflow.insight import repair_review
    from nesyflow.store import open_store
    from nesyflow.store import queries as q

    store = open_store(db)
    rows: list[dict[str, Any]] = []
    page, reviews = 1, []
    while True:
        got = q.review_queue(store, page=page, page_size=200)
        reviews += got.items
        if page >= got.pages:
            break
        page += 1
    for review in reviews:
        if review.node != "extract" or review.verdict.value not in ("fail", "unknown"):
            continue
        run = store.get_run(review.run_id)
        row = samples.get((run.input or {}).get("id"))
        if row is None or not isinstance(review.output, dict):
            continue
        readings = None if own_readings else reader_readings(row)
        repair = repair_review(store, review, readings=readings, timeout=10)
        rows.append(
            {
                "sample": row["id"],
                "expected_verdict": row["expected_verdict"],
                "held_verdict": review.verdict.value,
                "held_rules": sorted(set(review.rules)),
                "output_was_correct": same_claim(review.output, row["expected"]),
                "status": repair.status,
                "reason": repair.reason,
                "changes": [line.text() for line in repair.lines],
                "repair_is_correct": repair.found and same_claim(repair.value, row["expected"]),
                "every_change_right": repair.found and changes_right(repair, row["expected"]),
                "ties": repair.ties,
                "seconds": round(repair.seconds, 3),
            }
        )

    def summary(part: list[dict[str, Any]]) -> dict[str, Any]:
        found = [r for r in part if r["status"] == "found"]
        return {
            "held": len(part),
            "output_already_correct": sum(r["output_was_correct"] for r in part),
            "repair_found": len(found),
            "top_repair_equals_correct_claim": sum(r["repair_is_correct"] for r in part),
            "every_change_lands_on_the_correct_value": sum(r["every_change_right"] for r in part),
            "with_ties": sum(1 for r in found if r["ties"]),
        }

    passable = [r for r in rows if r["expected_verdict"] in ("pass", "review")]
    failing = [r for r in rows if r["expected_verdict"] not in ("pass", "review")]
    seconds = [r["seconds"] for r in rows]
    return {
        "correct_claim_passes_or_needs_a_person": summary(passable),
        "correct_claim_fails_too": summary(failing),
        "repair_seconds_p50": statistics.median(seconds) if seconds else None,
        "repair_seconds_max": max(seconds) if seconds else None,
        "cases": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a store of model.yaml runs (else the script runs them)")
    parser.add_argument("--limit", type=int, default=70, help="samples to run (model variant)")
    parser.add_argument("--grounded", action="store_true", help="also the grounded agent")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/repair_accuracy.json"))
    args = parser.parse_args()
    from nesyflow.cli.demo import load_samples

    rows = load_samples(AGENT / "samples.jsonl")
    samples = {r["id"]: r for r in rows}
    result: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, measured under load",
        "model": os.environ.get("NESYFLOW_MODEL", "local/smollm2"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = f"sqlite:///{Path(tmp) / 'model.db'}"
            result["model_run_seconds"] = run_samples(AGENT / "model.yaml", rows[: args.limit], db)
        result["model_variant"] = measure(db, samples, own_readings=False)
        if args.grounded:
            os.environ["NESYFLOW_EXTRACT_CHOOSER"] = "person"
            gdb = f"sqlite:///{Path(tmp) / 'grounded.db'}"
            run_samples(AGENT / "workflow.yaml", rows, gdb)
            result["grounded_reader"] = measure(gdb, samples, own_readings=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    for name in ("model_variant", "grounded_reader"):
        if name in result:
            part = result[name]
            print(name, json.dumps({k: v for k, v in part.items() if k != "cases"}, indent=1))


if __name__ == "__main__":
    main()
