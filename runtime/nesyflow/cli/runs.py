"""``nesyflow run / resume / runs / reviews``: start and continue durable runs, read traces, decide
reviews from the terminal. Bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

__all__ = ["register"]

_DB = typer.Option(
    None, "--db", help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db)."
)
_WHO = typer.Option(None, "--who", help="Who decides (default $USER).")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _store(db: str | None) -> Any:
    from nesyflow.store import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def _read_inputs(path: Path) -> list[Any]:
    if not path.is_file():
        raise _fail(f"{path}: no such input file")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise _fail(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}") from None
        if not items:
            raise _fail(f"{path}: no inputs (the file is empty)")
        return items
    if path.suffix != ".json":
        raise _fail(f"{path}: the input must be a .json or .jsonl file")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as exc:
        raise _fail(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None


def _who(who: str | None) -> str:
    name = who or os.environ.get("USER") or os.environ.get("USERNAME")
    if not name:
        raise _fail("say who decides with --who (no $USER set)")
    return name


def _load_workflow(path: Path) -> Any:
    from nesyflow.errors import NesyflowError
    from nesyflow.graph import load_workflow

    try:
        return load_workflow(path)
    except NesyflowError as exc:
        raise _fail(str(exc)) from None


def _print_result(result: Any) -> None:
    line = f"{result.run_id}  {result.status.value}"
    if result.review_id:
        line += f"  review {result.review_id}"
    if result.error:
        line += f"  ({result.error})"
    if getattr(result, "resubmitted", False):
        line += "  (this request id was submitted before: its run, not run again)"
    typer.echo(line)


def run_cmd(
    workflow: Path = typer.Argument(..., help="Workflow file (YAML)."),
    input: Path = typer.Option(
        ..., "--input", "-i", help="Input: .json (one) or .jsonl (one a line)."
    ),
    db: str | None = _DB,
) -> None:
    """Start a run per input; each goes until it finishes or waits for a review."""
    from nesyflow.engine import start_run
    from nesyflow.errors import NesyflowError

    items = _read_inputs(input)
    flow = _load_workflow(workflow)
    store = _store(db)
    for number, item in enumerate(items, start=1):
        try:
            result = start_run(flow, item, store=store)
        except NesyflowError as exc:
            where = f"{input}:{number}" if input.suffix == ".jsonl" else str(input)
            raise _fail(f"{where}: {exc}") from None
        _print_result(result)


def resume_cmd(
    run_id: str = typer.Argument(...),
    db: str | None = _DB,
    workflow: Path | None = typer.Option(
        None, "--workflow", help="Workflow file, if the run has none."
    ),
) -> None:
    """Continue a run from its last checkpoint (after a decision or a crash)."""
    from nesyflow.engine import resume
    from nesyflow.errors import NesyflowError

    store = _store(db)
    flow = _load_workflow(workflow) if workflow else None
    try:
        _print_result(resume(run_id, store=store, workflow=flow))
    except NesyflowError as exc:
        raise _fail(str(exc)) from None


def runs_list(
    status: str | None = typer.Option(
        None, help="running|waiting_review|completed|rejected|failed"
    ),
    workflow: str | None = typer.Option(None),
    search: str | None = typer.Option(None, help="Id prefix, workflow, node or input text."),
    page: int = typer.Option(1, min=1),
    db: str | None = _DB,
) -> None:
    """Runs, newest first."""
    from rich.console import Console
    from rich.table import Table

    from nesyflow.store.queries import list_runs

    result = list_runs(_store(db), status=status, workflow=workflow, search=search, page=page)
    table = Table(title=f"runs (page {result.page}/{result.pages}, {result.total} in all)")
    for col in ("id", "workflow", "status", "node", "updated"):
        table.add_column(col)
    for run in result.items:
        table.add_row(
            run.id,
            run.workflow,
            run.status.value,
            run.current_node or "",
            run.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    Console().print(table)


def runs_show(run_id: str = typer.Argument(...), db: str | None = _DB) -> None:
    """A run's trace: every step with its verdict, findings, timings and errors."""
    from nesyflow.store import NotFound

    store = _store(db)
    try:
        _print_run(store, run_id)
    except NotFound as exc:
        raise _fail(str(exc)) from None


def reviews_list(
    status: str | None = typer.Option("open", help="open|decided|all"),
    workflow: str | None = typer.Option(None),
    rule: str | None = typer.Option(None, help="Only reviews whose step fired this rule."),
    page: int = typer.Option(1, min=1),
    db: str | None = _DB,
) -> None:
    """The review queue, oldest first."""
    from rich.console import Console
    from rich.table import Table

    from nesyflow.store.queries import review_queue

    result = review_queue(
        _store(db),
        status=None if status == "all" else status,
        workflow=workflow,
        rule=rule,
        page=page,
    )
    table = Table(title=f"reviews (page {result.page}/{result.pages}, {result.total} in all)")
    for col in ("id", "workflow", "node", "verdict", "rules", "status", "created"):
        table.add_column(col)
    for r in result.items:
        table.add_row(
            r.id,
            r.workflow,
            r.node,
            r.verdict,
            ", ".join(r.rules),
            r.status.value,
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    Console().print(table)


def reviews_show(review_id: str = typer.Argument(...), db: str | None = _DB) -> None:
    """One review: the held output, the verdict in plain words, the rules' identity."""
    from nesyflow.store import NotFound

    try:
        _print_review(_store(db), review_id)
    except NotFound as exc:
        raise _fail(str(exc)) from None


_SET = typer.Option(
    None,
    "--set",
    help="KEY=VALUE: set a value the rules derive (e.g. total_reimbursable=450.00) in place of "
    "theirs; needs --comment; recorded with the decision.",
)


def _overrides(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise _fail(f"--set {pair!r}: write KEY=VALUE, e.g. --set total_reimbursable=450.00")
        out[key.strip()] = value.strip()
    return out


def _decide(
    review_id: str,
    action: str,
    who: str | None,
    comment: str | None,
    output: Any,
    db: str | None,
    overrides: dict[str, str] | None = None,
) -> None:
    from nesyflow.errors import NesyflowError
    from nesyflow.review import decide
    from nesyflow.store import AlreadyDecided, LeaseHeld

    try:
        done = decide(
            review_id,
            action,
            _who(who),
            comment,
            output,
            store=_store(db),
            resume=True,
            overrides=overrides,
        )
    except AlreadyDecided as exc:
        raise _fail(str(exc), code=1) from None
    except LeaseHeld as exc:  # only continuing the run can meet a lease: the decision stands
        raise _fail(
            f"{action}: review {review_id} is decided and recorded, but the run was not "
            f"continued: {exc} (nesyflow resume {exc.details.get('run_id', 'RUN')} later)"
        ) from None
    except NesyflowError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{action}: review {review_id} decided by {done.decision.who}")
    if done.run is not None:
        _print_result(done.run)


def reviews_approve(
    review_id: str = typer.Argument(...),
    comment: str | None = typer.Option(
        None, "--comment", "-m", help="Required when overriding a violation."
    ),
    who: str | None = _WHO,
    db: str | None = _DB,
    set_values: list[str] | None = _SET,
) -> None:
    """Approve the held output (or tool call) and continue the run."""
    _decide(review_id, "approve", who, comment, None, db, _overrides(set_values))


def reviews_edit(
    review_id: str = typer.Argument(...),
    output: Path = typer.Option(..., "--output", "-o", help="Corrected output (.json)."),
    comment: str | None = typer.Option(None, "--comment", "-m"),
    who: str | None = _WHO,
    db: str | None = _DB,
) -> None:
    """Replace the output with a corrected one; the rules re-check it before it is recorded."""
    data = _read_inputs(output) if output.suffix == ".json" else None
    if data is None:
        raise _fail(f"{output}: the corrected output must be a .json file")
    _decide(review_id, "edit", who, comment, data[0], db)


def reviews_reject(
    review_id: str = typer.Argument(...),
    comment: str | None = typer.Option(None, "--comment", "-m"),
    who: str | None = _WHO,
    db: str | None = _DB,
) -> None:
    """Reject: the run ends (status rejected)."""
    _decide(review_id, "reject", who, comment, None, db)


_COLOURS = {"pass": "green", "fail": "red", "deny": "red", "review": "yellow", "unknown": "magenta"}


def _verdict(verdict: str | None) -> str:
    if not verdict:
        return ""
    return f"[{_COLOURS.get(verdict, 'white')}]{verdict}[/]"


def _print_run(store: Any, run_id: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    run = store.get_run(run_id)
    console = Console()
    console.print(
        f"[bold]run {run.id}[/]  workflow [bold]{escape(run.workflow)}[/]  "
        f"status [bold]{run.status.value}[/]  node {run.current_node or '-'}"
    )
    if run.error:
        console.print(f"[red]{escape(run.error)}[/]")
    console.print(f"input: {escape(json.dumps(run.input, ensure_ascii=False))}")
    table = Table(show_lines=True)
    for col in (
        "#",
        "node",
        "visit.try",
        "kind",
        "verdict",
        "what",
        "ms model/rules/store",
        "model",
    ):
        table.add_column(col, overflow="fold")
    for step in store.steps(run_id):
        what: list[str] = []
        if step.output is not None:
            what.append("output " + json.dumps(step.output, ensure_ascii=False)[:300])
        if step.kind == "decision" and step.inputs:
            what.append(
                f"{step.inputs.get('action')} by {step.inputs.get('who')}"
                + (f": {step.inputs.get('comment')}" if step.inputs.get("comment") else "")
            )
        for reason in (step.check or {}).get("reasons", []):
            what.append(f"{reason.get('kind')} {reason.get('rule') or ''}: {reason.get('message')}")
        if step.error:
            what.append(f"[red]{escape(step.error)}[/]")
        table.add_row(
            str(step.seq),
            step.node,
            f"{step.visit}.{step.attempt}",
            step.kind,
            _verdict(step.verdict),
            "\n".join(w if w.startswith("[red]") else escape(w) for w in what),
            f"{step.model_ms:.0f}/{step.rules_ms:.1f}/{step.store_ms:.1f}",
            step.model or "",
        )
    console.print(table)
    for review in store.reviews_for_run(run_id):
        console.print(
            f"review {review.id}: {review.status.value}"
            + (f" ({review.action.value} by {review.decided_by})" if review.action else "")
        )


def _print_review(store: Any, review_id: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    review = store.get_review(review_id)
    console = Console()
    console.print(
        f"[bold]review {review.id}[/]  {review.status.value}  run {review.run_id}  "
        f"node {review.node} (visit {review.visit}, {review.kind})"
    )
    console.print(f"verdict {_verdict(review.verdict)}")
    if review.question:
        console.print(f"question: {escape(review.question)}")
    for reason in review.reasons:
        console.print(f"  - {escape(str(reason.get('plain') or reason.get('message')))}")
    console.print("output: " + escape(json.dumps(review.output, ensure_ascii=False, indent=2)))
    for pack in review.packs:
        console.print(f"pack {pack.get('name')}@{pack.get('version')}#{str(pack.get('hash'))[:12]}")
    if review.facts_hash:
        console.print(f"facts hash {review.facts_hash[:16]}")
    decision = store.decision_for(review.id)
    if decision is not None:
        console.print(
            f"decided: {decision.action.value} by {decision.who} at {decision.at:%Y-%m-%d %H:%M}"
            + (f": {escape(decision.comment)}" if decision.comment else "")
        )


def register(app: typer.Typer) -> None:
    """Add run, resume, runs … and reviews … to the nesyflow command."""
    app.command("run")(run_cmd)
    app.command("resume")(resume_cmd)
    runs = typer.Typer(help="Runs and their traces.", no_args_is_help=True)
    runs.command("list")(runs_list)
    runs.command("show")(runs_show)
    app.add_typer(runs, name="runs")
    reviews = typer.Typer(
        help="The review queue: list, show, approve, edit, reject.", no_args_is_help=True
    )
    reviews.command("list")(reviews_list)
    reviews.command("show")(reviews_show)
    reviews.command("approve")(reviews_approve)
    reviews.command("edit")(reviews_edit)
    reviews.command("reject")(reviews_reject)
    app.add_typer(reviews, name="reviews")
