"""How fast each console page's first screen is on a store of 100,000 steps and 10,000 open reviews.

Seeds the store with ``seed_store.py`` (unless ``--db`` names one already seeded), then per page:
the page's store queries (median of 5 warm runs), and the whole page rendered by Streamlit's AppTest
(a new session each time, the console's cached data cleared first, median of 3; and cold, as a
console process's first screen: its cached resources and the logic layer's caches cleared too). Writes
benchmarks/results/console_pages.json. Budget: every page ≤ 1 s.

    .venv/bin/python benchmarks/console_pages.py [--db sqlite:///path.db] [--steps 100000 --open 10000]
    .venv/bin/python benchmarks/console_pages.py --postgres postgresql://user@host/db  # on PostgreSQL
    .venv/bin/python benchmarks/console_pages.py --postgres-server   # a temporary local server

On PostgreSQL the SQLite store is seeded first and copied row for row into the (empty) database,
then VACUUM ANALYZEd (as autovacuum would leave a live database), so both backends are measured on the same data; results go to
benchmarks/results/console_pages_postgres.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
BUDGET_S = 1.0


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def page_queries(store: Any) -> dict[str, Callable[[], Any]]:
    """What each page reads for its first screen (the same calls the pages make)."""
    from nesyflow.store import queries as q

    review = q.review_queue(store, page_size=1).items[0]
    run = q.list_runs(store, page_size=1).items[0]
    workflow = q.workflow_names(store)[0]

    def inbox() -> None:
        q.status_counts(store)
        q.decision_counts(store)
        q.review_queue(store, page_size=6)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        q.rule_firing_counts(store, since=since.replace(tzinfo=None))
        q.verdict_trend(store, days=14)

    def reviews_queue() -> None:
        q.workflow_names(store)
        q.pack_labels(store)
        q.rule_names(store)
        q.review_queue(store, page_size=25)

    def reviews_filtered() -> None:
        q.review_queue(
            store,
            rule=q.rule_names(store)[0],
            older_than=dt.timedelta(days=1),
            page=3,
            page_size=25,
        )

    def review_detail() -> None:
        r = store.get_review(review.id)
        store.find_run(r.run_id)
        if r.step_id:
            store.get_step(r.step_id)

    def runs_list() -> None:
        q.workflow_names(store)
        q.list_runs(store, page_size=50)

    def runs_search() -> None:
        q.list_runs(store, search="Whitfield", page_size=50)

    def run_trace() -> None:
        q.run_steps(store, run.id)
        store.reviews_for_run(run.id)
        q.decisions_for_run(store, run.id)

    def rules() -> None:
        q.rule_firing_recent(store, last_runs=500, pack="expense")

    def workflows() -> None:
        q.workflow_files(store)
        q.node_stats(store, workflow, last_runs=200)

    return {
        "inbox": inbox,
        "reviews (queue)": reviews_queue,
        "reviews (queue, filtered, page 3)": reviews_filtered,
        "reviews (one review)": review_detail,
        "runs (list)": runs_list,
        "runs (search)": runs_search,
        "runs (one trace)": run_trace,
        "rules": rules,
        "workflows": workflows,
    }, {"review": review.id, "run": run.id}


def page_renders(ids: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "inbox": ("inbox", {}),
        "reviews (queue)": ("reviews", {}),
        "reviews (one review)": ("reviews", {"review": ids["review"]}),
        "runs (list)": ("runs", {}),
        "runs (one trace)": ("runs", {"run": ids["run"]}),
        "rules": ("rules", {}),
        "workflows": ("workflows", {}),
    }


def _render(page: str, params: dict[str, str], *, cold: bool = False) -> None:
    """One first screen in a new session. ``cold``: as the first screen of a console process just
    started — its resources too (the open store, loaded packs and workflows, the precedent index,
    the logic layer's loaded packs and decided checks) are gone, not only its cached data."""
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()
    if cold:
        from nesyflow.logic import _cache, pack

        st.cache_resource.clear()
        pack._LOADED.clear()
        _cache.results.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an already seeded SQLite store (default: seed a new one)")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000, dest="open_reviews")
    parser.add_argument("--out", default=None, help="result file (default by backend)")
    parser.add_argument("--postgres", help="measure on this (empty) PostgreSQL database instead")
    parser.add_argument(
        "--postgres-server",
        action="store_true",
        help="start a temporary PostgreSQL server (Debian's postgresql) and measure on it",
    )
    args = parser.parse_args()
    if args.postgres_server:
        sys.path.insert(0, str(ROOT / "tests"))
        from postgres_server import _running

        with _running() as server:
            args.postgres = server.new_database()
            _measure(args)
        return
    _measure(args)


def copy_store(source_url: str, target_url: str) -> dict[str, int]:
    """Copy every table of a store into an empty store (same schema), in batches; then VACUUM ANALYZE."""
    from sqlalchemy import insert, select, text

    from nesyflow.store import open_store
    from nesyflow.store import tables as t

    source, target = open_store(source_url), open_store(target_url)
    order = [t.runs, t.steps, t.reviews, t.decisions, t.effects, t.findings]
    order += [t.leases, t.requests, t.tool_records]
    copied: dict[str, int] = {}
    with source.read() as src, target.write() as dst:
        for table in order:
            n = 0
            batch: list[dict[str, Any]] = []
            for row in src.execute(select(table)).mappings():
                batch.append(dict(row))
                if len(batch) == 5000:
                    dst.execute(insert(table), batch)
                    n, batch = n + len(batch), []
            if batch:
                dst.execute(insert(table), batch)
                n += len(batch)
            copied[table.name] = n
        if target.engine.dialect.name == "postgresql":
            dst.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('findings', 'id'), "
                    "coalesce(max(id), 1)) FROM findings"
                )
            )
    if target.engine.dialect.name == "postgresql":
        with target.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    source.close()
    target.close()
    return copied


def _measure(args: argparse.Namespace) -> None:
    backend = "postgresql" if args.postgres else "sqlite"
    out = args.out or str(
        ROOT
        / "benchmarks"
        / "results"
        / ("console_pages_postgres.json" if args.postgres else "console_pages.json")
    )

    from seed_store import seed_store

    from nesyflow.store import open_store
    from nesyflow.store import queries as q

    seeded: dict[str, Any] = {}
    url = args.db
    if url is None:
        path = ROOT / ".nesyflow" / "console_bench.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        report = seed_store(url, steps=args.steps, open_reviews=args.open_reviews)
        seeded = {"seconds": round(report.seconds, 1), "runs": report.runs}
    if args.postgres:
        started = time.perf_counter()
        seeded["copied_to_postgres"] = copy_store(url, args.postgres)
        seeded["copy_seconds"] = round(time.perf_counter() - started, 1)
        print(f"copied to PostgreSQL in {seeded['copy_seconds']} s: {seeded['copied_to_postgres']}")
        url = args.postgres
    store = open_store(url)
    counts = q.status_counts(store)
    with store.read() as conn:
        n_steps = conn.exec_driver_sql("SELECT count(*) FROM steps").scalar()
    os.environ["NESYFLOW_DB"] = url
    os.environ.setdefault("NESYFLOW_RULES", str(ROOT / "rules"))

    queries, ids = page_queries(store)
    query_ms = {}
    for name, fn in queries.items():
        fn()  # the first call warms SQLite's and the OS's caches like a live console
        query_ms[name] = _median_ms(fn, 5)
        print(f"queries  {name:36s} {query_ms[name]:8.1f} ms")
    _render("inbox", {})  # imports (streamlit, altair, pandas, the packs) once, as a server does
    render_ms, cold_ms = {}, {}
    for name, (page, params) in page_renders(ids).items():
        render_ms[name] = _median_ms(lambda p=page, a=params: _render(p, a), 3)
        cold_ms[name] = _median_ms(lambda p=page, a=params: _render(p, a, cold=True), 3)
        print(f"render   {name:36s} {render_ms[name]:8.1f} ms   cold {cold_ms[name]:8.1f} ms")

    worst = max(render_ms.values()) / 1000
    worst_cold = max(cold_ms.values()) / 1000
    result = {
        "benchmark": "console_pages",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "store": {
            "url": f"{backend} (seeded)",
            "steps": n_steps,
            "runs": sum(counts.runs.values()),
            "open_reviews": counts.reviews.get("open", 0),
            "seed": seeded,
        },
        "budget_s": BUDGET_S,
        "queries_ms": query_ms,
        "first_screen_render_ms": render_ms,
        "cold_first_screen_render_ms": cold_ms,
        "within_budget": worst <= BUDGET_S,
        "within_budget_cold": worst_cold <= BUDGET_S,
        "notes": "queries: median of 5 warm calls; render: Streamlit AppTest, a new session per "
        "run with st.cache_data cleared (the browser's drawing time is not included), median of 3; "
        "cold: st.cache_resource and the logic layer's pack and result caches cleared too (a "
        "console process's first screen, imports excepted)",
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"worst first screen {worst:.2f} s, cold {worst_cold:.2f} s (budget {BUDGET_S} s) -> {out}"
    )
    store.close()


if __name__ == "__main__":
    main()
