"""Seed a store the size an operations team reaches: 100,000 steps and 10,000 open reviews.

Every check in it is real: each pack under ``rules/`` is run on its own test cases once (through
the engine's ``check_subject``), and the seeded steps reuse those check results — verdicts,
findings, explanations, facts — so the console shows what production would. Runs, timings, tokens
and dates are drawn from a fixed random seed. Rows go in with the SQLite driver's ``executemany``
(a 100k-step store takes well under a minute); only SQLite URLs are supported.

    .venv/bin/python benchmarks/seed_store.py --db sqlite:///bench.db [--steps 100000 --open 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nesyflow.store.replay_keys import replay_columns

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["SeedReport", "seed_store"]


@dataclass(frozen=True)
class SeedReport:
    runs: int
    steps: int
    reviews: int
    open_reviews: int
    seconds: float


@dataclass(frozen=True)
class _Case:
    input: Any
    context: Any
    summary: Any  # nesyflow.engine.CheckSummary
    approval: float = 0.7  # how often people approve this case when it waits for them


# A workflow to seed: its name, the checked llm node and its pack, and the tool nodes after it.
_WORKFLOWS = {
    "expense": ("expense_claims", "extract", ["route", "reimburse", "notify"]),
    "airline_baggage": ("baggage_fees", "quote", ["charge"]),
}
_MODELS = ["local/smollm2-135m", "openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"]
_REVIEWERS = ["ana.lopez", "ben.okafor", "chen.wei", "dana.w", "eli.kim"]
_COMMENTS = {
    "approve": [
        "checked with the employee's manager",
        "agreed in advance with finance",
        "within what we allow for this client",
        "receipt seen, amount confirmed",
    ],
    "reject": [
        "not covered by the policy",
        "asked the employee to resubmit with a receipt",
        "duplicate of an earlier claim",
    ],
}
# Each case's approval rate, drawn once per case: most cases are nearly always approved or nearly
# always rejected, some split (what lets precedents predict a decision, when they find alike cases).
_APPROVAL_RATES = [0.95, 0.9, 0.85, 0.1, 0.05, 0.5]


def _library(rules: Path, per_pack: int) -> dict[str, list[_Case]]:
    """Real check results: each pack's own test cases, checked once."""
    from nesyflow.engine import check_subject
    from nesyflow.graph.model import PackRef
    from nesyflow.logic import load_pack

    out: dict[str, list[_Case]] = {}
    for folder in sorted(p.parent for p in rules.glob("*/pack.toml")):
        if folder.name not in _WORKFLOWS:
            continue
        try:
            load_pack(folder)
        except Exception:  # a pack in progress: seed without it
            continue
        ref = PackRef(path=folder, text=f"rules/{folder.name}")
        cases: list[_Case] = []
        for file in sorted((folder / "tests").glob("*.yaml")):
            for case in (yaml.safe_load(file.read_text()) or {}).get("cases", []):
                if len(cases) >= per_pack:
                    break
                summary = check_subject([ref], case["input"], case.get("context"), 5.0)
                rate = _APPROVAL_RATES[len(cases) * 7 % len(_APPROVAL_RATES)]
                cases.append(_Case(case["input"], case.get("context"), summary, rate))
        if cases:
            out[folder.name] = cases
    return out


def _uuid7(ms: int, rng: random.Random) -> str:
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    value |= 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def _stamp(when: dt.datetime) -> str:
    """How SQLAlchemy's DateTime stores a value in SQLite (UTC, no zone)."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def _j(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class _Writer:
    """Builds rows in memory, then writes them table by table with ``executemany``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.runs: list[tuple] = []
        self.steps: list[tuple] = []
        self.reviews: list[tuple] = []
        self.decisions: list[tuple] = []
        self.findings: list[tuple] = []

    def step(
        self,
        run_id: str,
        seq: int,
        at: dt.datetime,
        node: str,
        kind: str,
        *,
        workflow: str,
        case: _Case | None = None,
        attempt: int = 1,
        model: str | None = None,
        inputs: Any = None,
        output: Any = None,
        verdict: str | None = None,
    ) -> str:
        rng = self.rng
        step_id = _uuid7(int(at.timestamp() * 1000), rng)
        summary = case.summary if case is not None else None
        prompt = raw = None
        model_ms = rules_ms = tool_ms = cost = 0.0
        tokens_in = tokens_out = 0
        if kind == "llm" and case is not None:
            request = _j(case.input)
            prompt = [
                {"role": "system", "content": f"You fill a {node} form. Answer with JSON only."},
                {"role": "user", "content": f"Fill the form from this request:\n{request}"},
            ]
            raw = request
            output = case.input
            model_ms = rng.lognormvariate(6.4, 0.5)
            tokens_in = 180 + len(request) // 4
            tokens_out = len(request) // 4
            cost = (
                0.0
                if model and model.startswith("local/")
                else tokens_in * 4e-7 + tokens_out * 1.6e-6
            )
        if summary is not None:
            rules_ms = rng.lognormvariate(2.3, 0.4)
            verdict = summary.verdict
        if kind == "tool":
            tool_ms = rng.lognormvariate(4.0, 0.6)
        check = summary.json() if summary else None
        self.steps.append(
            (
                step_id,
                run_id,
                seq,
                node,
                1,
                attempt,
                kind,
                _j(inputs if inputs is not None else (case.context if case else None)),
                _j(prompt),
                raw,
                _j(output),
                summary.facts if summary else None,
                _j(check),
                verdict,
                model_ms,
                rules_ms,
                tool_ms,
                rng.uniform(0.4, 3.0),
                tokens_in,
                tokens_out,
                cost,
                model,
                _j(summary.packs if summary else []),
                _j(summary.findings if summary else []),
                None,
                _stamp(at),
                *replay_columns(check).values(),
            )
        )
        for f in summary.findings if summary else []:
            self.findings.append(
                (
                    run_id,
                    step_id,
                    workflow,
                    node,
                    f.get("pack", ""),
                    f["rule"],
                    f.get("kind", "violation"),
                    f.get("severity", ""),
                    _stamp(at),
                )
            )
        return step_id

    def flush(self, conn: sqlite3.Connection) -> None:
        # the first columns by position; columns later schema versions add stay NULL
        for table, rows, width in (
            ("runs", self.runs, 11),
            ("steps", self.steps, 28),
            ("reviews", self.reviews, 18),
        ):
            names = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")][:width]
            quoted = ", ".join(f'"{n}"' for n in names)
            conn.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({','.join('?' * width)})", rows
            )
        conn.executemany(
            'INSERT INTO decisions (id, review_id, action, who, "at", comment, output, "check") '
            f"VALUES ({','.join('?' * 8)})",
            self.decisions,
        )
        conn.executemany(
            "INSERT INTO findings (run_id, step_id, workflow, node, pack, rule, kind, severity,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            self.findings,
        )


def _log_decisions(url: str) -> None:
    """Enter every seeded decision in the audit log (``store/audit.py``'s hash chain), in the
    order they were made, the way the product does, so ``nesyflow audit verify`` passes."""
    from nesyflow.store import open_store
    from nesyflow.store.audit import log_every_decision

    store = open_store(url)
    try:
        with store.write() as conn:
            log_every_decision(conn, backfilled=False)
    finally:
        store.close()


def seed_store(
    url: str,
    *,
    steps: int = 100_000,
    open_reviews: int = 10_000,
    days: int = 30,
    seed: int = 7,
    rules: Path = ROOT / "rules",
    per_pack: int = 60,
) -> SeedReport:
    """Fill the (new or existing) SQLite store at ``url`` with about ``steps`` steps, of which
    ``open_reviews`` runs wait for a person."""
    from sqlalchemy.engine import make_url

    from nesyflow.store import open_store

    started = time.perf_counter()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise SystemExit("seed_store writes SQLite files only (sqlite:///path.db)")
    open_store(url).close()  # create / migrate the schema the store's way
    library = _library(rules, per_pack)
    if not library:
        raise SystemExit(f"no loadable rule packs under {rules}")
    rng = random.Random(seed)
    by_verdict: dict[str, dict[str, list[_Case]]] = {
        pack: {v: [c for c in cases if c.summary.verdict == v] for v in ("pass", "fail", "review")}
        for pack, cases in library.items()
    }
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    w = _Writer(rng)
    total_steps = 0
    n_open = 0
    n_runs = 0

    def pick(pack: str, verdict: str) -> _Case:
        pool = by_verdict[pack][verdict] or library[pack]
        return rng.choice(pool)

    while total_steps < steps or n_open < open_reviews:
        pack = rng.choice(list(library))
        workflow, node, tools = _WORKFLOWS[pack]
        # the open-review backlog is spread over the whole period; finished runs too
        start = now - dt.timedelta(seconds=rng.uniform(60, days * 86400))
        run_id = _uuid7(int(start.timestamp() * 1000), rng)
        model = rng.choice(_MODELS)
        at = start
        seq = 0
        need_open = n_open < open_reviews and (
            total_steps >= steps or rng.random() < open_reviews / max(1, steps / 4)
        )
        if total_steps >= steps and not need_open:
            break
        outcome = (
            "open"
            if need_open
            else rng.choices(
                ["pass", "reask_pass", "review", "rule_reject", "failed"],
                [60, 12, 17, 6, 2],
            )[0]
        )
        status = "completed"
        error = None
        state: dict[str, Any] = {"outputs": {}, "derived": {}, "verdicts": {}, "visits": {node: 1}}
        current: str | None = None

        def add(
            kind: str, *, _run: str = run_id, _node: str = node, _flow: str = workflow, **kw: Any
        ) -> str:
            nonlocal seq, at
            seq += 1
            at = at + dt.timedelta(milliseconds=rng.uniform(200, 4000))
            return w.step(_run, seq, at, kw.pop("node", _node), kind, workflow=_flow, **kw)

        last_case: _Case
        if outcome in ("reask_pass", "rule_reject"):
            for attempt in range(1, 3 if outcome == "reask_pass" else 4):
                add("llm", case=pick(pack, "fail"), attempt=attempt, model=model)
        if outcome == "failed":
            add("error", inputs=None, verdict="unknown")
            status, error = "failed", f"node '{node}': the model's answer could not be used"
        elif outcome == "rule_reject":
            status, error = "rejected", f"node '{node}': fail: rules broken after 2 reasks"
        else:
            verdict = {"pass": "pass", "reask_pass": "pass"}.get(
                outcome, rng.choice(["fail", "review"])
            )
            last_case = pick(pack, verdict)
            step_id = add(
                "llm", case=last_case, model=model, attempt=3 if outcome == "reask_pass" else 1
            )
            if outcome in ("review", "open"):
                review_id = _uuid7(int(at.timestamp() * 1000), rng)
                s = last_case.summary
                decided = outcome != "open"
                # people decide alike on alike claims: each case has its own approval rate
                approve = rng.random() < last_case.approval
                action = ("approve" if approve else "reject") if decided else None
                who = rng.choice(_REVIEWERS) if decided else None
                decided_at = at + dt.timedelta(hours=rng.uniform(0.2, 30)) if decided else None
                w.reviews.append(
                    (
                        review_id,
                        run_id,
                        step_id,
                        workflow,
                        node,
                        1,
                        "output",
                        "decided" if decided else "open",
                        s.verdict,
                        _j([r.model_dump(mode="json") for r in s.reasons]),
                        "",
                        _j(last_case.input),
                        _j(s.packs),
                        s.facts_hash,
                        _stamp(at),
                        _stamp(decided_at) if decided_at else None,
                        action,
                        who,
                    )
                )
                if not decided:
                    n_open += 1
                    status, current = "waiting_review", node
                    state["cursor"] = {"node": node, "visit": 1, "attempt": 1, "messages": []}
                    state["pending"] = {
                        "review_id": review_id,
                        "node": node,
                        "visit": 1,
                        "kind": "output",
                    }
                else:
                    assert decided_at is not None and who is not None
                    comment = rng.choice(_COMMENTS[action]) if action else None
                    w.decisions.append(
                        (
                            _uuid7(int(decided_at.timestamp() * 1000), rng),
                            review_id,
                            action,
                            who,
                            _stamp(decided_at),
                            comment,
                            _j(None),
                            _j(None),
                        )
                    )
                    at = decided_at
                    add(
                        "decision",
                        inputs={
                            "review_id": review_id,
                            "action": action,
                            "who": who,
                            "comment": comment,
                        },
                        verdict=s.verdict,
                    )
                    if action == "reject":
                        status, error = "rejected", f"rejected by {who}"
            if status == "completed":
                for tool in tools:
                    kind = "branch" if tool == "route" else "tool"
                    add(
                        kind,
                        node=tool,
                        inputs={"args": {"claim": run_id[-8:]}},
                        output={"ok": True},
                        verdict="pass",
                    )
                    state["visits"][tool] = 1
        n_runs += 1
        total_steps += seq
        w.runs.append(
            (
                run_id,
                workflow,
                None,
                status,
                _j(last_case.input if outcome not in ("failed", "rule_reject") else None),
                _j(state),
                current,
                seq,
                error,
                _stamp(start),
                _stamp(at),
            )
        )
    database = parsed.database
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        w.flush(conn)
    conn.execute("ANALYZE")
    conn.close()
    _log_decisions(url)
    return SeedReport(
        runs=n_runs,
        steps=total_steps,
        reviews=len(w.reviews),
        open_reviews=n_open,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:///.nesyflow/console_bench.db")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000, dest="open_reviews")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = seed_store(
        args.db, steps=args.steps, open_reviews=args.open_reviews, days=args.days, seed=args.seed
    )
    print(
        f"{args.db}: {report.runs} runs, {report.steps} steps, {report.reviews} reviews "
        f"({report.open_reviews} open) in {report.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
