"""Per-node orchestration overhead: nesyflow vs LangGraph, checkpointing ON in both, one run.

Everything but the model call is measured: the model is mocked in both frameworks by the same
function (it hands back a prebuilt pydantic answer; the time spent inside it is measured and
subtracted). Shapes: a chain of N nodes and a fan-out of N nodes (1 root + N-1 leaves reading the
root's output), N in 10 / 100 / 500. Both persist to a SQLite *file* on the same disk:

* nesyflow: its own store (``SqlStore``: WAL, synchronous=NORMAL), one transaction per step.
* LangGraph: ``langgraph-checkpoint-sqlite``'s ``SqliteSaver`` on a file, ``durability="sync"``
  (each checkpoint is written before the next step starts, as nesyflow does), run twice: as
  shipped (WAL, the sqlite3 default synchronous=FULL) and with synchronous=NORMAL (like for like).

Plus steps/s for the expense agent (llm extract -> check rules/expense -> tool record) over 1,000
runs with scripted model answers = the samples' ``expected`` claims, rules and store on.

LangGraph lives in the benchmark's own environment, not the project's venv::

    python3 -m venv benchmarks/.venv-langgraph
    benchmarks/.venv-langgraph/bin/pip install --no-deps -e .
    benchmarks/.venv-langgraph/bin/pip install pydantic==2.14.4 clingo==5.8.3 networkx==3.6.1 \\
        PyYAML==6.0.4 Jinja2==3.1.6 SQLAlchemy==2.1.9 langgraph langgraph-checkpoint-sqlite
    benchmarks/.venv-langgraph/bin/python benchmarks/orchestration.py          # ~10-15 min
    benchmarks/.venv-langgraph/bin/python benchmarks/orchestration.py --quick  # ~1 min

(``--no-deps``: the runtime paths measured here need only those libraries; the project venv's
pins are used for the shared ones.) Run with the project's venv, the LangGraph columns are skipped.
``--profile chain:100`` prints a cProfile of nesyflow on that shape instead.

Writes benchmarks/results/orchestration.json (figures + machine info). One thread; medians over
repeats; nesyflow and LangGraph repeats are interleaved so both see the same machine noise.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import io
import itertools
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "orchestration.json"
SCRATCH = ROOT / "benchmarks" / "results" / "orchestration.tmp"  # gitignored (*.tmp)
sys.path.insert(0, str(ROOT / "rules" / "expense"))  # the pack's schema module (ExpenseClaim)

from nesyflow.engine import Services, start_run  # noqa: E402
from nesyflow.graph.builder import WorkflowBuilder  # noqa: E402
from nesyflow.store import open_store  # noqa: E402

try:  # LangGraph is optional: only in benchmarks/.venv-langgraph
    import langgraph.checkpoint.sqlite as lg_sqlite
    from langgraph.graph import END, START, StateGraph

    HAVE_LANGGRAPH = True
except ImportError:  # pragma: no cover - depends on the interpreter
    HAVE_LANGGRAPH = False


# ---------------------------------------------------------------------------------------------
# the mocked model: the same function for both frameworks
# ---------------------------------------------------------------------------------------------
class Topic(BaseModel):
    topic: str


class Out(BaseModel):
    text: str
    n: int


@dataclass
class MockCall:
    """What nesyflow's ``generate`` returns (the LLMCall fields the engine reads)."""

    model: str
    output: Any
    raw: str
    error: str | None = None
    tokens_in: int = 10
    tokens_out: int = 20
    cost: float = 0.0


class MockModel:
    """Returns a prebuilt answer; ``seconds`` is the time spent in here (subtracted later)."""

    def __init__(self, answers: Callable[[list[dict[str, Any]]], BaseModel] | BaseModel):
        self.answers = answers
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, model: str, messages: list[dict[str, Any]], output_type: Any) -> MockCall:
        t0 = time.perf_counter()
        out = self.answers(messages) if callable(self.answers) else self.answers
        call = MockCall(model=model, output=out, raw=_raw(out))
        self.calls += 1
        self.seconds += time.perf_counter() - t0
        return call


_RAW: dict[int, str] = {}


def _raw(out: BaseModel) -> str:
    key = id(out)
    if key not in _RAW:
        _RAW[key] = out.model_dump_json()
    return _RAW[key]


ANSWER = Out(text="a mocked model answer of about eighty characters, the same for every node!", n=1)
TOPIC = {"topic": "orchestration overhead"}
# Group commit's size for the `nesyflow-group` contender: at most this many checkpoints per write
# (a killed process may lose up to GROUP-1 finished steps, which then run again; see README).
GROUP = 32


# ---------------------------------------------------------------------------------------------
# nesyflow graphs
# ---------------------------------------------------------------------------------------------
def nesyflow_graph(shape: str, n: int) -> Any:
    """chain: n1 -> n2 -> ... -> nN, each reading the previous text. fanout: root, then N-1 leaves
    each reading root's text; nesyflow has no parallel branches, so the leaves run one after
    another (``next``), each its own step and checkpoint."""
    b = WorkflowBuilder(f"{shape}{n}", Topic, model="mock/model")
    ids = [f"n{i}" for i in range(1, n + 1)]
    for i, nid in enumerate(ids):
        nxt = ids[i + 1] if i + 1 < n else None
        if i == 0:
            src = "input.topic"
        elif shape == "chain":
            src = f"{ids[i - 1]}.output.text"
        else:
            src = "n1.output.text"
        b.llm(nid, prompt="Continue: {{ prev }}", input={"prev": src}, output=Out, next=nxt)
    return b.build(start="n1")


def run_nesyflow(flow: Any, store: Any, model: MockModel, services: Services) -> int:
    result = start_run(flow, TOPIC, store=store, services=services)
    assert result.status.value == "completed", result
    return result.steps_written


def nesyflow_services(model: MockModel) -> Services:
    return Services(generate=model, resolve_model=lambda node, wf: "mock/model")


def open_nesyflow_store(path: Path, synchronous: str | None = None, group: int = 1) -> Any:
    """nesyflow's store on a file; ``group`` > 1 turns on group commit (NESYFLOW_GROUP_COMMIT)."""
    os.environ["NESYFLOW_GROUP_COMMIT"] = str(group)
    try:
        store = open_store(f"sqlite:///{path}")
    finally:
        del os.environ["NESYFLOW_GROUP_COMMIT"]
    if synchronous is not None:  # override the store's PRAGMA on every new connection
        from sqlalchemy import event

        @event.listens_for(store.engine, "connect")
        def _sync(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.execute(f"PRAGMA synchronous={synchronous}")

        store.engine.dispose()
    return store


# ---------------------------------------------------------------------------------------------
# LangGraph graphs (same shape, same mocked node work, same data in the state)
# ---------------------------------------------------------------------------------------------
def _merge(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    return {**(a or {}), **(b or {})}


class LGState(TypedDict):
    topic: str
    outputs: Annotated[dict[str, Any], _merge]


def langgraph_graph(shape: str, n: int, model: MockModel, saver: Any) -> Any:
    g = StateGraph(LGState)
    ids = [f"n{i}" for i in range(1, n + 1)]

    def make(nid: str, src: str | None) -> Callable[[LGState], dict[str, Any]]:
        def node(state: LGState) -> dict[str, Any]:
            prev = state["topic"] if src is None else state["outputs"][src]["text"]
            messages = [{"role": "user", "content": f"Continue: {prev}"}]
            call = model("mock/model", messages, Out)
            return {"outputs": {nid: call.output.model_dump(mode="json")}}

        return node

    for i, nid in enumerate(ids):
        src = None if i == 0 else (ids[i - 1] if shape == "chain" else "n1")
        g.add_node(nid, make(nid, src))
    g.add_edge(START, "n1")
    if shape == "chain":
        for a, b in itertools.pairwise(ids):
            g.add_edge(a, b)
        g.add_edge(ids[-1], END)
    else:
        for leaf in ids[1:]:
            g.add_edge("n1", leaf)
            g.add_edge(leaf, END)
        if n == 1:
            g.add_edge("n1", END)
    return g.compile(checkpointer=saver)


def open_langgraph_saver(path: Path, synchronous: str | None) -> Any:
    conn = sqlite3.connect(str(path), check_same_thread=False)
    saver = lg_sqlite.SqliteSaver(conn)
    saver.setup()  # PRAGMA journal_mode=WAL + tables
    if synchronous is not None:
        conn.execute(f"PRAGMA synchronous={synchronous}")
    return saver


_THREADS = iter(range(10**9))
FREEZE_GC = True


def run_langgraph(graph: Any, n: int) -> int:
    config = {
        "configurable": {"thread_id": f"t{next(_THREADS)}"},
        "recursion_limit": n + 10,
        "max_concurrency": 1,  # one thread's worth of work (the machine is shared)
    }
    out = graph.invoke({"topic": TOPIC["topic"], "outputs": {}}, config, durability="sync")
    assert len(out["outputs"]) == n
    return n


# ---------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------
@dataclass
class Contender:
    name: str
    setup: Callable[[Path], tuple[Callable[[], int], MockModel, Callable[[], None]]]


def _sqlite_counts(path: Path, tables: list[str]) -> dict[str, Any]:
    """Rows and bytes of each table (after a checkpoint of the WAL into the main file)."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out: dict[str, Any] = {}
        for table in tables:
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            try:
                size = conn.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)
                ).fetchone()[0]
            except sqlite3.OperationalError:
                size = None
            out[table] = {"rows": rows, "bytes": size}
        return out
    finally:
        conn.close()


def contenders(shape: str, n: int, settings: list[str]) -> list[Contender]:
    out: list[Contender] = []

    def nf(sync: str | None, group: int = 1) -> Callable[[Path], Any]:
        def setup(dbdir: Path) -> Any:
            path = dbdir / f"nesyflow-{'group' if group > 1 else sync or 'default'}.db"
            store = open_nesyflow_store(path, sync, group)
            model = MockModel(ANSWER)
            flow = nesyflow_graph(shape, n)
            services = nesyflow_services(model)
            run_nesyflow(flow, store, model, services)  # warm-up (imports, caches)
            return (lambda: run_nesyflow(flow, store, model, services)), model, store.close

        return setup

    def lg(sync: str | None) -> Callable[[Path], Any]:
        def setup(dbdir: Path) -> Any:
            path = dbdir / f"langgraph-{sync or 'default'}.db"
            saver = open_langgraph_saver(path, sync)
            model = MockModel(ANSWER)
            graph = langgraph_graph(shape, n, model, saver)
            run_langgraph(graph, n)
            return (lambda: run_langgraph(graph, n)), model, saver.conn.close

        return setup

    if "nesyflow" in settings:
        out.append(Contender("nesyflow (WAL, sync=NORMAL)", nf(None)))
    if "nesyflow-group" in settings:
        out.append(Contender(f"nesyflow group commit {GROUP} (WAL, NORMAL)", nf(None, GROUP)))
    if "nesyflow-full" in settings:
        out.append(Contender("nesyflow (WAL, sync=FULL)", nf("FULL")))
    if HAVE_LANGGRAPH and "langgraph" in settings:
        out.append(Contender("langgraph (WAL, sync=FULL: as shipped)", lg(None)))
    if HAVE_LANGGRAPH and "langgraph-normal" in settings:
        out.append(Contender("langgraph (WAL, sync=NORMAL)", lg("NORMAL")))
    return out


def measure_shape(
    shape: str, n: int, repeats: int, settings: list[str], dbdir: Path
) -> dict[str, Any]:
    """Interleave the contenders' repeats; per repeat, overhead = (wall - mock) / nodes."""
    dbdir.mkdir(parents=True, exist_ok=True)
    cs = contenders(shape, n, settings)
    prepared = [(c, *c.setup(dbdir)) for c in cs]
    if FREEZE_GC:  # the imported modules' ~140k objects out of every full collection, for both
        gc.collect()
        gc.freeze()
    samples: dict[str, list[float]] = {c.name: [] for c in cs}
    walls: dict[str, list[float]] = {c.name: [] for c in cs}
    for _ in range(repeats):
        for c, run, model, _close in prepared:
            gc.collect()
            before = model.seconds
            t0 = time.perf_counter()
            nodes = run()
            wall = time.perf_counter() - t0
            mocked = model.seconds - before
            samples[c.name].append((wall - mocked) / nodes * 1e6)
            walls[c.name].append(wall)
    for _c, _run, _model, close in prepared:
        close()
    if FREEZE_GC:
        gc.unfreeze()
    result: dict[str, Any] = {"shape": shape, "nodes": n, "repeats": repeats, "contenders": {}}
    for c in cs:
        xs = samples[c.name]
        result["contenders"][c.name] = {
            "per_node_us_median": statistics.median(xs),
            "per_node_us_min": min(xs),
            "per_node_us_max": max(xs),
            "run_ms_median": statistics.median(walls[c.name]) * 1000,
        }
    # what one run persisted (rows and bytes; the warm-up run + `repeats` runs are in each file)
    runs = repeats + 1
    persisted: dict[str, Any] = {}
    for c in cs:
        if c.name.startswith("nesyflow"):
            tag = "group" if "group" in c.name else "FULL" if "FULL" in c.name else "default"
            counts = _sqlite_counts(
                dbdir / f"nesyflow-{tag}.db", ["runs", "run_nodes", "steps", "findings"]
            )
        else:
            tag = "NORMAL" if "NORMAL" in c.name else "default"
            counts = _sqlite_counts(dbdir / f"langgraph-{tag}.db", ["checkpoints", "writes"])
        persisted[c.name] = {
            t: {
                "rows_per_run": v["rows"] / runs,
                "kb_per_run": None if v["bytes"] is None else v["bytes"] / runs / 1024,
            }
            for t, v in counts.items()
        }
    result["persisted"] = persisted
    return result


# ---------------------------------------------------------------------------------------------
# the expense agent: llm extract -> check rules/expense -> tool record, 1,000 runs
# ---------------------------------------------------------------------------------------------
class Employee(BaseModel):
    name: str
    level: str


class ExpenseRequest(BaseModel):
    id: str
    request: str
    receipt: str = ""
    submitted_on: str
    employee: Employee


class RecordArgs(BaseModel):
    claim: dict[str, Any]


class Recorded(BaseModel):
    claim_id: str


def record_claim(args: RecordArgs) -> Recorded:
    """The booking tool (a no-op: the benchmark measures the runtime, not a ledger)."""
    return Recorded(claim_id=f"C-{len(args.claim.get('items', []))}")


EXPENSE_PROMPT = (
    "Employee: {{ employee.name }} ({{ employee.level }}), submitted on {{ submitted_on }}.\n"
    "Request: {{ request }}\nReceipt:\n{{ receipt }}"
)


def expense_workflow() -> Any:
    """The expense agent's model path, built here: llm extract (the mocked model answers each
    sample's ``expected`` claim) → check by ``rules/expense`` → a booking tool.

    Not ``agents/expense/workflow.yaml``: the shipped agent now reads the claim with a
    deterministic reader (no model call) and sends what it cannot settle to a person, so the mock
    was never asked and every run stopped at a review — a figure of neither the model path nor
    the agent (README-orchestration.md, 2026-12-02)."""
    from schema import ExpenseClaim  # rules/expense/schema.py

    b = WorkflowBuilder("expense_bench", ExpenseRequest, model="mock/model", base_dir=ROOT)
    b.llm(
        "extract",
        prompt=EXPENSE_PROMPT,
        system="You extract expense claims.",
        input={
            "employee": "input.employee",
            "submitted_on": "input.submitted_on",
            "request": "input.request",
            "receipt": "input.receipt",
        },
        output=ExpenseClaim,
        next="check",
    )
    b.check("check", "extract.output", packs=["rules/expense"], next="record")
    b.tool("record", record_claim, input={"claim": "extract.output"})
    return b.build(start="extract"), "llm extract → check rules/expense → record (mocked model)"


def measure_expense(runs: int, repeats: int, dbdir: Path) -> dict[str, Any]:
    from schema import ExpenseClaim

    samples = [
        json.loads(line)
        for line in (ROOT / "agents" / "expense" / "samples.jsonl").read_text().splitlines()
        if line.strip()
    ]
    claims = {s["id"]: ExpenseClaim.model_validate(s["expected"]) for s in samples}
    flow, source = expense_workflow()
    input_fields = set(flow.input_schema.model_fields)
    inputs = [{k: v for k, v in s.items() if k in input_fields} for s in samples]
    current: dict[str, Any] = {}
    model = MockModel(lambda messages: current["claim"])
    services = nesyflow_services(model)
    dbdir.mkdir(parents=True, exist_ok=True)
    store = open_nesyflow_store(dbdir / "expense.db")
    rates, per_step, statuses = [], [], {}
    try:
        for rep in range(repeats + 1):  # the first pass is a warm-up (pack load, imports)
            n_runs = min(runs, 20) if rep == 0 else runs
            steps = 0
            before = model.seconds
            t0 = time.perf_counter()
            for i in range(n_runs):
                s = samples[i % len(samples)]
                current["claim"] = claims[s["id"]]
                data = inputs[i % len(inputs)]
                if "id" in data:  # a request id names one run: each run here is a new request
                    data = {**data, "id": f"{data['id']}-{rep}-{i}"}
                res = start_run(flow, data, store=store, services=services)
                steps += res.steps_written
                if rep == 1:
                    statuses[res.status.value] = statuses.get(res.status.value, 0) + 1
            wall = time.perf_counter() - t0
            if rep == 0:
                if FREEZE_GC:
                    gc.collect()
                    gc.freeze()
                continue
            rates.append(steps / wall)
            per_step.append((wall - (model.seconds - before)) / steps * 1e6)
    finally:
        store.close()
        if FREEZE_GC:
            gc.unfreeze()
    return {
        "workflow": source,
        "runs_per_repeat": runs,
        "repeats": repeats,
        "steps_per_s_median": statistics.median(rates),
        "steps_per_s_all": rates,
        "us_per_step_excl_model_median": statistics.median(per_step),
        "run_statuses": statuses,
    }


# ---------------------------------------------------------------------------------------------
# profile, machine, report
# ---------------------------------------------------------------------------------------------
def profile(spec: str, dbdir: Path, top: int) -> None:
    shape, n = spec.split(":")
    dbdir.mkdir(parents=True, exist_ok=True)
    store = open_nesyflow_store(dbdir / "profile.db")
    model = MockModel(ANSWER)
    flow = nesyflow_graph(shape, int(n))
    services = nesyflow_services(model)
    run_nesyflow(flow, store, model, services)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        run_nesyflow(flow, store, model, services)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    store.close()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "interpreter": sys.executable,
        "sqlite": sqlite3.sqlite_version,
        # at the end of the run: on a shared machine the medians follow the load
        "load_average": list(os.getloadavg()),
        "versions": {
            d: _version(d)
            for d in (
                "nesyflow",
                "pydantic",
                "SQLAlchemy",
                "clingo",
                "networkx",
                "Jinja2",
                "langgraph",
                "langgraph-checkpoint",
                "langgraph-checkpoint-sqlite",
                "langchain-core",
                "ormsgpack",
            )
        },
    }


def report(shapes: list[dict[str, Any]], expense: list[dict[str, Any]] | None) -> None:
    print()
    print("Per-node orchestration overhead (µs per node, median; model call excluded)")
    header = f"{'shape':<8}{'nodes':>6}  {'contender':<42}{'µs/node':>10}{'run ms':>10}{'vs nesyflow':>13}"
    print(header)
    print("-" * len(header))
    for r in shapes:
        base = None
        for name, v in r["contenders"].items():
            if name.startswith("nesyflow (WAL, sync=NORMAL"):
                base = v["per_node_us_median"]
        for name, v in r["contenders"].items():
            ratio = "" if base is None else f"{base / v['per_node_us_median']:.2f}x"
            print(
                f"{r['shape']:<8}{r['nodes']:>6}  {name:<42}{v['per_node_us_median']:>10.0f}"
                f"{v['run_ms_median']:>10.1f}{ratio:>13}"
            )
        print()
    print("'vs nesyflow' = nesyflow's µs/node ÷ this contender's (target: ≤ 0.50 vs LangGraph)")
    for e in expense or []:
        print()
        print(
            f"expense agent ({e['workflow']}): {e['steps_per_s_median']:.0f} "
            f"steps/s (median of {e['repeats']} × {e['runs_per_repeat']} runs), "
            f"{e['us_per_step_excl_model_median']:.0f} µs/step excl. model; "
            f"statuses {e['run_statuses']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, fewer runs")
    ap.add_argument("--sizes", default="10,100,500")
    ap.add_argument("--shapes", default="chain,fanout")
    ap.add_argument("--repeats", type=int, default=0, help="0 = by size (30/15/5; quick 5/3/1)")
    ap.add_argument(
        "--settings",
        default="nesyflow,nesyflow-group,nesyflow-full,langgraph,langgraph-normal",
        help="contenders: nesyflow, nesyflow-group, nesyflow-full, langgraph, langgraph-normal",
    )
    ap.add_argument("--expense-runs", type=int, default=1000)
    ap.add_argument("--expense-repeats", type=int, default=3)
    ap.add_argument("--no-expense", action="store_true")
    ap.add_argument("--profile", metavar="SHAPE:N", help="cProfile nesyflow on SHAPE:N and exit")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-freeze", action="store_true", help="do not gc.freeze() after setup")
    args = ap.parse_args()
    global FREEZE_GC
    FREEZE_GC = not args.no_freeze

    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    try:
        if args.profile:
            profile(args.profile, SCRATCH, args.top)
            return
        if not HAVE_LANGGRAPH:
            print(
                "LangGraph is not importable here: run with benchmarks/.venv-langgraph/bin/python"
            )
        settings = args.settings.split(",")
        shapes = []
        for shape in args.shapes.split(","):
            for n in (int(x) for x in args.sizes.split(",")):
                reps = args.repeats or (
                    (5 if n <= 10 else 3 if n <= 100 else 1)
                    if args.quick
                    else (30 if n <= 10 else 15 if n <= 100 else 5)
                )
                t0 = time.perf_counter()
                r = measure_shape(shape, n, reps, settings, SCRATCH / f"{shape}{n}")
                print(f"  {shape} {n}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
                shapes.append(r)
        expense = None
        if not args.no_expense:
            runs = 100 if args.quick else args.expense_runs
            reps = 1 if args.quick else args.expense_repeats
            expense = [measure_expense(runs, reps, SCRATCH / "expense")]
            print("  expense: done", file=sys.stderr)
        report(shapes, expense)
        data = {
            "machine": machine(),
            "method": {
                "overhead": "(wall time of start_run / graph.invoke - time inside the mocked "
                "model) / nodes, median over interleaved repeats; store opened and graph "
                "built/compiled once before timing, one warm-up run",
                "langgraph_invoke": "durability='sync', max_concurrency=1, SqliteSaver on a file",
                "nesyflow_run": "start_run with Services(generate=mock), SqlStore on a file",
                "quick": args.quick,
                "gc_freeze": FREEZE_GC,
            },
            "shapes": shapes,
            "expense": expense,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=2) + "\n")
        print(
            f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
        )
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
