"""Retention: a finished run's trace is purged after its period, except what must be kept.

What a run holds is classified when it starts (``RunState.classes``): ``Retain(years)`` fields
must be kept that many years from the run's start; everything else is trace, kept ``keep_days``
(the store's period). :func:`plan_retention` says, per finished run past the period, what goes and
what stays (and until when); :func:`apply_retention` does it, one transaction per run, and writes
what it did to ``retention_log``. A dry run is the plan, nothing written.

What "purged" means, per table: the prompt, raw output, facts and rules' input (``check``) of every
step go; inputs and outputs of steps, reviews, decisions, effects and the run's input and
checkpointed outputs keep only their must-keep fields still within their years; the sensitive
values the run held are anonymised (placeholders) in what stays as free text — errors, comments,
reasons, tool records (the business's own ledger is anonymised, not deleted). A must-keep field
that is also sensitive is kept as it is until its years are over (the law that says keep it wins;
views still mask it). Verdicts, rule names, statuses and times stay: what was decided, by which
rules, is the audit trail. Runs that wait for a person or are running are never touched — they
need their data to continue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select, update

from nesyflow.engine.governance import INPUT_PLACE, Classes
from nesyflow.engine.state import RunState
from nesyflow.govern.masking import RunMask, run_secrets
from nesyflow.store import RunStatus, SqlStore
from nesyflow.store import tables as t
from nesyflow.store.replay_keys import replay_columns

__all__ = ["KeptField", "RetentionReport", "RunPlan", "apply_retention", "plan_retention"]

_FINISHED = (RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.REJECTED.value)


class KeptField(BaseModel):
    place: str
    path: str
    until: dt.date


class RunPlan(BaseModel):
    """What retention does to one run: ``removed`` names each changed column (with a count for
    many rows), ``kept`` the must-keep fields left and until when."""

    run_id: str
    workflow: str
    created_at: dt.datetime
    action: str  # "purge": the trace goes, must-keep fields stay
    removed: list[str] = Field(default_factory=list)
    kept: list[KeptField] = Field(default_factory=list)


class RetentionReport(BaseModel):
    now: dt.datetime
    keep_days: int
    dry_run: bool
    finished_runs_past_period: int
    runs: list[RunPlan]


def _add_years(day: dt.datetime, years: int) -> dt.datetime:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _tree(paths: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def _take(data: Any, tree: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        return None
    out: dict[str, Any] = {}
    for part, sub in tree.items():
        name, many = (part[:-2], True) if part.endswith("[]") else (part, False)
        if name not in data:
            continue
        value = data[name]
        if not sub:
            out[name] = value
        elif many and isinstance(value, list):
            out[name] = [_take(v, sub) for v in value]
        else:
            inner = _take(value, sub)
            if inner is not None:
                out[name] = inner
    return out or None


def project(data: Any, paths: list[str]) -> Any:
    """Only the fields of ``data`` at ``paths`` (classification paths), in their places."""
    if data is None or not paths:
        return None
    return _take(data, _tree(paths))


class _Run:
    """One run's retention: which paths stay per place, and the purged form of each value."""

    def __init__(self, row: Mapping[str, Any], now: dt.datetime, mask: RunMask) -> None:
        self.row = row
        state = RunState.model_validate(row["state"] or {})
        self.state = state
        self.classes: Classes = state.classes
        self.mask = mask
        created = row["created_at"]
        created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
        self.kept: list[KeptField] = []
        self.paths: dict[str, list[str]] = {}
        for place, fields in self.classes.retain.items():
            for path, years in sorted(fields.items()):
                until = _add_years(created, years)
                if until > now:
                    self.kept.append(KeptField(place=place, path=path, until=until.date()))
                    self.paths.setdefault(place, []).append(path)

    def value(self, place: str, data: Any) -> Any:
        return project(data, self.paths.get(place, []))

    def node_value(self, node: str, data: Any) -> Any:
        """A node's value: its output's must-keep fields, or a tool argument's."""
        kept = self.value(node, data)
        args = self.value(f"{node}.args", data)
        if kept is None:
            return args
        if isinstance(args, dict):
            return {**args, **kept}
        return kept

    def step_inputs(self, node: str, inputs: Any) -> Any:
        if isinstance(inputs, Mapping) and "args" in inputs:
            return {"args": self.value(f"{node}.args", inputs.get("args"))}
        return self.node_value(node, inputs)

    def state_after(self) -> dict[str, Any]:
        state = self.state.model_copy(deep=True)
        state.outputs = {
            n: v
            for n, v in ((n, self.node_value(n, o)) for n, o in state.outputs.items())
            if v is not None
        }
        state.derived = {}
        state.cursor = None
        state.accepted = []
        state.overrides = {}
        return state.dump()


def _reasons(mask: RunMask, reasons: Any) -> list[Any]:
    """Reasons without explanations (they quote the facts), sensitive values anonymised."""
    out = []
    for reason in reasons or []:
        if isinstance(reason, Mapping):
            kept = {k: v for k, v in reason.items() if k not in ("explanation", "plain")}
            out.append(mask.data(kept))
    return out


def _changes(store: SqlStore, row: Mapping[str, Any], now: dt.datetime) -> tuple[RunPlan, list]:
    """The plan for one run and the statements that carry it out."""
    run_id = row["id"]
    mask = RunMask(run_secrets(store, run_id))
    # the whole state: runs.state keeps the position, each node's values are its run_nodes row
    row = {**row, "state": store.get_run(run_id).state}
    r = _Run(row, now, mask)
    removed: list[str] = []
    statements: list[Any] = []

    def changed(label: str, count: int) -> None:
        if count:
            removed.append(label if count == 1 else f"{label} ×{count}")

    new_input = r.value(INPUT_PLACE, row["input"])
    new_state = r.state_after()
    new_error = mask.text(row["error"])
    if (new_input, new_state, new_error) != (row["input"], row["state"], row["error"]):
        changed("runs.input/state", 1)
        statements.append(
            update(t.runs)
            .where(t.runs.c.id == run_id)
            .values(input=new_input, state=new_state, error=new_error)
        )
        # the retained state goes back whole into runs.state (a finished run is never checkpointed
        # again); the rows that held its per-node values before retention go with it
        statements.append(delete(t.run_nodes).where(t.run_nodes.c.run_id == run_id))
    with store.read() as conn:
        steps = conn.execute(select(t.steps).where(t.steps.c.run_id == run_id)).mappings().all()
        reviews = conn.execute(select(t.reviews).where(t.reviews.c.run_id == run_id))
        reviews = reviews.mappings().all()
        ids = [v["id"] for v in reviews]
        decisions = (
            conn.execute(select(t.decisions).where(t.decisions.c.review_id.in_(ids)))
            .mappings()
            .all()
            if ids
            else []
        )
        effects = conn.execute(select(t.effects).where(t.effects.c.run_id == run_id))
        effects = effects.mappings().all()
        records = conn.execute(select(t.tool_records).where(t.tool_records.c.run_id == run_id))
        records = records.mappings().all()
    node_of = {v["id"]: v["node"] for v in reviews}
    count = 0
    for s in steps:
        check = {"verdict": s["verdict"], "retention": "purged"} if s["check"] else None
        new = {
            "inputs": r.step_inputs(s["node"], s["inputs"]),
            "prompt": None,
            "raw_output": None,
            "output": r.node_value(s["node"], s["output"]),
            "facts": None,
            "check": check,
            "error": mask.text(s["error"]),
            **replay_columns(check),
        }
        if any(new[k] != s[k] for k in new):
            count += 1
            statements.append(update(t.steps).where(t.steps.c.id == s["id"]).values(**new))
    changed("steps.inputs/prompt/raw_output/output/facts/check", count)
    count = 0
    for v in reviews:
        new = {
            "output": r.node_value(v["node"], v["output"]),
            "reasons": _reasons(mask, v["reasons"]),
            "question": mask.text(v["question"]) or "",
        }
        if any(new[k] != v[k] for k in new):
            count += 1
            statements.append(update(t.reviews).where(t.reviews.c.id == v["id"]).values(**new))
    changed("reviews.output/reasons", count)
    count = 0
    for d in decisions:
        node = node_of.get(d["review_id"], "")
        new = {
            "output": r.node_value(node, d["output"]),
            "comment": mask.text(d["comment"]),
            "check": None,
            "overrides": mask.data(d["overrides"]),
        }
        if any(new[k] != d[k] for k in new):
            count += 1
            statements.append(update(t.decisions).where(t.decisions.c.id == d["id"]).values(**new))
    changed("decisions.output/comment/check", count)
    count = 0
    for e in effects:
        new = {
            "args": r.value(f"{e['node']}.args", e["args"]),
            "result": r.value(e["node"], e["result"]),
        }
        if any(new[k] != e[k] for k in new):
            count += 1
            statements.append(update(t.effects).where(t.effects.c.key == e["key"]).values(**new))
    changed("effects.args/result", count)
    count = 0
    for rec in records:
        new_data = mask.data(rec["data"])
        if new_data != rec["data"]:
            count += 1
            statements.append(
                update(t.tool_records)
                .where(t.tool_records.c.key == rec["key"])
                .values(data=new_data)
            )
    changed("tool_records.data (anonymised)", count)
    plan = RunPlan(
        run_id=run_id,
        workflow=row["workflow"],
        created_at=row["created_at"],
        action="purge",
        removed=removed,
        kept=r.kept,
    )
    return plan, statements


def plan_retention(
    store: SqlStore, *, keep_days: int = 365, now: dt.datetime | None = None
) -> tuple[int, list[tuple[RunPlan, list]]]:
    """Every finished run older than ``keep_days`` that retention would change, with its
    statements; and how many finished runs were past the period in all."""
    if keep_days < 0:
        raise ValueError(f"keep_days must be ≥ 0, not {keep_days}")
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=keep_days)
    with store.read() as conn:
        rows = (
            conn.execute(
                select(t.runs)
                .where(t.runs.c.status.in_(_FINISHED), t.runs.c.created_at < cutoff)
                .order_by(t.runs.c.created_at)
            )
            .mappings()
            .all()
        )
    found = []
    for row in rows:
        plan, statements = _changes(store, row, now)
        if statements:
            found.append((plan, statements))
    return len(rows), found


def apply_retention(
    store: SqlStore,
    *,
    keep_days: int = 365,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Plan and (unless ``dry_run``) apply retention; each run in one transaction with its log row."""
    now = now or dt.datetime.now(dt.UTC)
    past, found = plan_retention(store, keep_days=keep_days, now=now)
    policy = {"keep_days": keep_days, "now": now.isoformat()}
    if not dry_run:
        for plan, statements in found:
            with store.write() as conn:
                if conn.dialect.name == "sqlite":  # overwrite freed pages: purged means gone
                    conn.exec_driver_sql("PRAGMA secure_delete=ON")
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    insert(t.retention_log).values(
                        applied_at=now,
                        run_id=plan.run_id,
                        workflow=plan.workflow,
                        action=plan.action,
                        removed=plan.removed,
                        kept=[k.model_dump(mode="json") for k in plan.kept],
                        policy=policy,
                    )
                )
        if found and store.engine.dialect.name == "sqlite":
            with store.engine.connect() as conn:  # old page images out of the WAL file too
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return RetentionReport(
        now=now,
        keep_days=keep_days,
        dry_run=dry_run,
        finished_runs_past_period=past,
        runs=[plan for plan, _ in found],
    )
