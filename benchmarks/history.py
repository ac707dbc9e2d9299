"""Rule intelligence on a seeded store (``benchmarks/seed_store.py``): what-if speed, precedent
quality, proposals.

* **what-if** — ``nesyflow.insight.whatif`` with each shipped pack (same version: nothing changes)
  and with a changed copy (the expense per-diem rule switched off; a review rule added to the
  baggage pack) over every checked step of the store: steps re-checked per second, end to end
  (reading the store, ``check_many``, comparing).
* **precedents** — for a sample of decided reviews that name a rule, the top 3 of
  ``PrecedentIndex`` among the reviews decided *before* each one (history replayed in order): how
  often all three share one of its rules, how often one does, and how often the majority decision
  of the three is the decision the person took (against the base rate: always the most common
  decision). With facts and text (the product), facts alone and text alone.
* **proposals** — ``nesyflow.insight.propose`` per pack (with its what-if): how many, how long.

The seeder reuses each pack's own test cases (60 a pack), so inputs repeat: figures of precedent
quality hold for a history where alike claims recur, and each case's approval rate is the seeder's
(``_APPROVAL_RATES``), not people's.

    .venv/bin/python benchmarks/seed_store.py --db sqlite:////tmp/h.db --steps 230000
    .venv/bin/python benchmarks/history.py --db sqlite:////tmp/h.db [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "history.json"


def _cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _changed_copy(name: str, folder: Path) -> Path:
    """A copy of the pack with its first violation body switched off (``, 1 > 2``)."""
    copy = folder / name
    shutil.copytree(ROOT / "rules" / name, copy)
    target = "violation(meal_over_per_diem" if name == "expense" else "violation("
    for rules in sorted(copy.glob("*.lp")):
        text = rules.read_text()
        if target in text:
            start = text.index(target)
            end = text.index(".\n", start)
            rules.write_text(text[:end] + ", 1 > 2" + text[end:])
            break
    for case in (copy / "tests").glob("*.yaml"):  # the what-if does not run tests
        case.unlink()
    return copy


def bench_whatif(store: Any, url: str) -> dict[str, Any]:
    from nesyflow.insight import whatif
    from nesyflow.logic import load_pack

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        decoding = _decoding_copy(url, Path(tmp))
        targets = [("", store)] + ([(":decoding", decoding)] if decoding is not None else [])
        for name in ("expense", "airline_baggage"):
            for label, folder in (
                ("same", ROOT / "rules" / name),
                ("changed", _changed_copy(name, Path(tmp))),
            ):
                try:
                    pack = load_pack(folder)
                except Exception as exc:  # a changed copy the loader refuses is reported
                    out[f"{name}:{label}"] = {"error": str(exc)}
                    continue
                for where, against in targets:
                    if where and label == "same":
                        continue
                    key = f"{name}:{label}{where}"
                    out[key] = _one_whatif(whatif, against, pack)
                    if where:  # the same report either way, or the figure means nothing
                        fast = out[f"{name}:{label}"]
                        same = all(out[key][k] == fast[k] for k in _REPORTED)
                        out[key]["same_report_as_columns"] = same
                    print(f"whatif {name} ({label}{where}): {out[key]}")
    runs = [v for k, v in out.items() if ":decoding" not in k and "steps" in v]
    total = sum(v["steps"] for v in runs) / 2
    seconds = sum(v["seconds"] for v in runs)
    out["checked_steps"] = int(total)
    out["overall_steps_per_second"] = round(2 * total / seconds) if seconds else 0
    return out


def _decoding_copy(url: str, folder: Path) -> Any:
    """A copy of the SQLite store at ``url`` without the steps' replay columns (NULL, as in a row
    no nesyflow wrote them for): what-if then decodes every step's check JSON, as it did before
    schema version 11. ``None`` for a store that is not a SQLite file."""
    from sqlalchemy.engine import make_url

    from nesyflow.store import open_store

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    copy = folder / "decoding.db"
    shutil.copyfile(parsed.database, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE steps SET input_hash = NULL, outcomes = NULL")
    return open_store(f"sqlite:///{copy}")


_REPORTED = ("steps", "skipped", "changed", "distinct_inputs_checked", "transitions", "decisions")


def _one_whatif(whatif: Any, store: Any, pack: Any) -> dict[str, Any]:
    cpu = _cpu()
    report = whatif(store, pack)
    cpu = _cpu() - cpu
    return {
        "steps": report.steps,
        "skipped": report.skipped,
        "changed": report.changed,
        "seconds": round(report.seconds, 2),
        "steps_per_second": round(report.per_second),
        "distinct_inputs_checked": report.checked,
        "cpu_seconds": round(cpu, 2),  # this process and its workers
        "steps_per_cpu_second": round(report.steps / cpu) if cpu else None,
        "transitions": {k: c.count for k, c in report.transitions.items()},
        "decisions": {k: c.count for k, c in report.decisions.items()},
    }


def bench_precedents(store: Any, sample: int, seed: int) -> dict[str, Any]:
    from nesyflow.insight import PrecedentIndex
    from nesyflow.insight.precedents import _decided_profile
    from nesyflow.store.queries import decided_reviews

    reviews = [r for r in decided_reviews(store) if r.check.get("reasons")]
    with_rules = [r for r in reviews if _decided_profile(r).rules]
    rng = random.Random(seed)
    chosen = rng.sample(with_rules, min(sample, len(with_rules)))
    base = Counter(r.action for r in reviews).most_common(1)[0]
    out: dict[str, Any] = {
        "decided_reviews": len(reviews),
        "with_rules": len(with_rules),
        "sample": len(chosen),
        "base_rate": {"action": base[0], "share": round(base[1] / len(reviews), 3)},
    }
    started = time.perf_counter()
    index = PrecedentIndex(store)
    index.refresh()
    out["index_build_seconds"] = round(time.perf_counter() - started, 2)
    out["distinct_texts"] = index._faiss.ntotal if index._faiss is not None else 0
    for label, weight in (("facts+text", 0.5), ("facts", 1.0), ("text", 0.0)):
        index.facts_weight = weight
        all3 = any1 = match = answered = 0
        seconds: list[float] = []
        for review in chosen:
            profile = _decided_profile(review)
            t0 = time.perf_counter()
            top = index.query(profile, k=3, exclude=review.review_id, before=review.created_at)
            seconds.append(time.perf_counter() - t0)
            if not top:
                continue
            answered += 1
            shares = [bool(set(p.rules) & profile.rules) for p in top]
            all3 += len(top) == 3 and all(shares)
            any1 += any(shares)
            majority = Counter(p.action for p in top).most_common(1)[0][0]
            match += majority == review.action
        seconds.sort()
        out[label] = {
            "answered": answered,
            "top3_all_share_a_rule": round(all3 / answered, 3) if answered else None,
            "top3_one_shares_a_rule": round(any1 / answered, 3) if answered else None,
            "majority_decision_matches": round(match / answered, 3) if answered else None,
            "query_ms_p50": round(1000 * seconds[len(seconds) // 2], 1) if seconds else None,
            "query_ms_p95": round(1000 * seconds[int(len(seconds) * 0.95)], 1) if seconds else None,
        }
        print(f"precedents {label}: {out[label]}")
    return out


def bench_proposals(store: Any) -> dict[str, Any]:
    from nesyflow.insight import propose
    from nesyflow.logic import load_pack

    out: dict[str, Any] = {}
    for name in ("expense", "airline_baggage"):
        started = time.perf_counter()
        found = propose(store, load_pack(ROOT / "rules" / name))
        out[name] = {
            "proposals": [
                {
                    "rule": p.rule,
                    "where": p.where,
                    "approvals": len({i.review for i in p.approvals}),
                    "conflicts": len({i.review for i in p.conflicts}),
                    "tests_passed": p.tests_passed,
                    "tests_failed": p.tests_failed,
                    "whatif_changed": p.impact.changed if p.impact else None,
                }
                for p in found
            ],
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"proposals {name}: {out[name]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", nargs="*", default=[], help="whatif precedents proposals")
    args = parser.parse_args()
    from nesyflow.store import open_store

    store = open_store(args.db)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "note": "a shared 2-core machine: load_average says how loaded it was",
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    if "whatif" not in args.skip:
        results["whatif"] = bench_whatif(store, args.db)
    if "precedents" not in args.skip:
        results["precedents"] = bench_precedents(store, args.sample, args.seed)
    if "proposals" not in args.skip:
        results["proposals"] = bench_proposals(store)
    if args.skip and OUT.exists():  # a partial run keeps the other sections' last figures
        results = {**json.loads(OUT.read_text()), **results}
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
