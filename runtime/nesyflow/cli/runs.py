"""``nesyflow run / resume / runs / reviews``: start and continue durable runs, read traces, decide
reviews from the terminal. Bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import typer

from nesyflow.cli.assign import reviews_mine, reviews_reassign
from nesyflow.cli.identity import TOKEN_OPTION, acting
from nesyflow.logic.result import Verdict, read_reasons

__all__ = ["register"]

_ID_WIDTH = 36  # a store id (UUIDv7 text)
_DB = typer.Option(
    None, "--db", help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db)."
)
_WHO = typer.Option(
    None, "--who", help="Who decides, in single-user mode (default $USER); with accounts, --token."
)
_FORMAT = typer.Option(
    "text", "--format", "-f", help="text, or json (typed, stable keys: see nesyflow.cli.views)."
)
_UNMASK = typer.Option(
    False,
    "--unmask",
    help="Show sensitive values as they are (an admin's explicit choice; masked otherwise).",
)


def _viewer(unmask: bool) -> Any:
    """Who looks from the command line: whoever holds the store's URL is its admin, and sees
    sensitive values only when they ask (``--unmask``); otherwise nobody in particular."""
    from nesyflow.govern import ADMIN, Viewer

    name = os.environ.get("USER", "") or "cli"
    return Viewer(name=name, roles=frozenset({ADMIN}), unmask=True) if unmask else None


_TABLE_MIN_WIDTH = 110  # below this a table would have to cut or fold the cells


def _print_listing(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Rows whose first cell is an id, printed whole (to paste into the next command) however
    narrow the terminal: a table when it fits, else one line per row that the terminal may wrap
    but nothing cuts."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if console.width >= _TABLE_MIN_WIDTH:
        table = Table(title=title)
        table.add_column(headers[0], no_wrap=True, min_width=_ID_WIDTH)
        for header in headers[1:]:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    console.print(escape(title), soft_wrap=True)
    console.print("  ".join(headers), style="bold", soft_wrap=True)
    for row in rows:
        console.print(escape("  ".join(cell or "-" for cell in row)), soft_wrap=True)


def _json_format(format: str) -> bool:
    """True for ``--format json``; exit 2 for anything but text or json."""
    if format not in ("text", "json"):
        raise _fail(f"--format must be text or json, not {format!r}")
    return format == "json"


def _emit(view: Any) -> None:
    """One typed view as one line of JSON."""
    typer.echo(view.model_dump_json())


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
    from nesyflow.cli._io import TooDeep, loads

    if not path.is_file():
        raise _fail(f"{path}: no such input file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise _fail(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.suffix == ".jsonl":
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(loads(line))
            except json.JSONDecodeError as exc:
                raise _fail(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}") from None
            except TooDeep as exc:
                raise _fail(f"{path}:{number}: {exc}") from None
        if not items:
            raise _fail(f"{path}: no inputs (the file is empty)")
        return items
    if path.suffix != ".json":
        raise _fail(f"{path}: the input must be a .json or .jsonl file")
    try:
        return [loads(text)]
    except json.JSONDecodeError as exc:
        raise _fail(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except TooDeep as exc:
        raise _fail(f"{path}: {exc}") from None


def _resumer(who: str | None) -> str:
    """Who the decision log names for a resume: ``--who``, else the account running it."""
    if who and who.strip():
        return who.strip()
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def _load_workflow(path: Path) -> Any:
    from nesyflow.errors import NesyflowError
    from nesyflow.graph import load_workflow

    try:
        return load_workflow(path)
    except NesyflowError as exc:
        raise _fail(str(exc)) from None


def _print_result(result: Any, store: Any = None) -> None:
    line = f"{result.run_id}  {result.status.value}"
    if result.review_id:
        line += f"  review {result.review_id}"
    if result.error:
        error = result.error
        if store is not None:  # an error message may quote a value: masked like every view
            from nesyflow.govern import run_mask

            error = run_mask(store, result.run_id).text(error)
        line += f"  ({error})"
    if getattr(result, "resubmitted", False):
        line += "  (this request id was submitted before: its run, not run again)"
    typer.echo(line)


def run_cmd(
    workflow: Path = typer.Argument(..., help="Workflow file (YAML)."),
    input: Path = typer.Option(
        ..., "--input", "-i", help="Input: .json (one) or .jsonl (one a line)."
    ),
    db: str | None = _DB,
    format: str = _FORMAT,
    token: str | None = TOKEN_OPTION,
    executor_name: str = typer.Option(
        "local",
        "--executor",
        help="Where the runs go: local (one after another here) or ray (one Ray task each, on "
        "the cluster NESYFLOW_RAY_ADDRESS names, else a local one; a shared PostgreSQL --db for "
        "workers on other machines; needs pip install 'nesyflow[ray]').",
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="--executor ray: runs at a time (default: the cluster's CPUs).",
    ),
) -> None:
    """Start a run per input; each goes until it finishes or waits for a review.

    ``--format json``: one object per input (``run``, ``status``, ``outputs``, ``derived``,
    ``reviews``…), one a line."""
    from nesyflow.cli._io import executor
    from nesyflow.cli.views import run_summary
    from nesyflow.engine import start_run
    from nesyflow.errors import NesyflowError

    as_json = _json_format(format)
    executor(executor_name)
    items = _read_inputs(input)
    flow = _load_workflow(workflow)
    store = _store(db)
    starter = acting(store, token, None, what="start a run", named=False).user
    if executor_name == "ray":
        _run_on_ray(workflow, input, items, db, store, starter, workers, as_json)
        return
    for number, item in enumerate(items, start=1):
        try:
            result = start_run(
                flow, item, store=store, submitted_by=starter.name if starter else None
            )
        except NesyflowError as exc:
            where = f"{input}:{number}" if input.suffix == ".jsonl" else str(input)
            raise _fail(f"{where}: {exc}") from None
        if as_json:
            _emit(run_summary(store, result.run_id))
        else:
            _print_result(result, store)


def _run_on_ray(
    workflow: Path,
    input: Path,
    items: list[Any],
    db: str | None,
    store: Any,
    starter: Any,
    workers: int | None,
    as_json: bool,
) -> None:
    """``nesyflow run --executor ray``: every input runs; the refused ones are named at the end
    (exit 2), since the others' runs are already in the store."""
    from nesyflow.cli.views import run_summary
    from nesyflow.engine.ray_runs import run_on_ray
    from nesyflow.errors import NesyflowError
    from nesyflow.store.sql import default_url

    try:
        outcomes = run_on_ray(
            workflow,
            items,
            db or default_url(),
            workers=workers,
            submitted_by=starter.name if starter else None,
        )
    except NesyflowError as exc:
        raise _fail(str(exc)) from None
    failed = []
    for outcome in outcomes:
        if outcome.result is None:
            where = f"{input}:{outcome.index + 1}" if input.suffix == ".jsonl" else str(input)
            failed.append(f"{where}: {outcome.error}")
        elif as_json:
            _emit(run_summary(store, outcome.result.run_id))
        else:
            _print_result(outcome.result, store)
    if failed:
        raise _fail("; ".join(failed))


def resume_cmd(
    run_id: str = typer.Argument(...),
    db: str | None = _DB,
    workflow: Path | None = typer.Option(
        None, "--workflow", help="Workflow file, if the run has none."
    ),
    format: str = _FORMAT,
    who: str | None = typer.Option(
        None, "--who", help="Who resumes (named in the decision log; default: this account)."
    ),
    token: str | None = TOKEN_OPTION,
) -> None:
    """Continue a run from its last checkpoint (after a decision or a crash); entered in the
    decision log as done by ``--who`` (default: the account running it) — with accounts in the
    store, by the token's account."""
    from nesyflow.cli.views import run_summary
    from nesyflow.engine import resume
    from nesyflow.errors import NesyflowError

    as_json = _json_format(format)
    store = _store(db)
    account = acting(store, token, who, what="resume a run", named=False).user
    by = account.name if account is not None else _resumer(who)
    flow = _load_workflow(workflow) if workflow else None
    try:
        result = resume(run_id, store=store, workflow=flow, by=by)
    except NesyflowError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _emit(run_summary(store, result.run_id))
    else:
        _print_result(result, store)


def runs_list(
    status: str | None = typer.Option(
        None, help="running|waiting_review|completed|rejected|failed"
    ),
    workflow: str | None = typer.Option(None),
    search: str | None = typer.Option(None, help="Id prefix, workflow, node or input text."),
    page: int = typer.Option(1, min=1),
    db: str | None = _DB,
    format: str = _FORMAT,
) -> None:
    """Runs, newest first (``--format json``: one page object with ``items``)."""

    from nesyflow.cli.views import RunPage, run_row
    from nesyflow.store.queries import list_runs

    as_json = _json_format(format)
    result = list_runs(_store(db), status=status, workflow=workflow, search=search, page=page)
    if as_json:
        _emit(
            RunPage(
                page=result.page,
                pages=result.pages,
                total=result.total,
                items=[run_row(r) for r in result.items],
            )
        )
        return
    _print_listing(
        f"runs (page {result.page}/{result.pages}, {result.total} in all)",
        ("id", "workflow", "status", "node", "updated"),
        [
            (
                run.id,
                run.workflow,
                run.status.value,
                run.current_node or "",
                run.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
            for run in result.items
        ],
    )


def _provenance(console: Any, run: Any, steps: list[Any], mask: Any) -> None:
    """Where each extracted value was read (a step whose output carries ``readings``), on the
    run's texts as the viewer may see them (``run`` and ``steps`` as stored; ``mask`` masks)."""
    from rich.markup import escape

    from nesyflow.extract.render import find_readings, provenance_rows

    readings = find_readings(s.output for s in steps)
    if not readings:
        return
    texts = {k: v for k, v in (run.input or {}).items() if isinstance(v, str)}
    texts, readings = mask.provenance(texts, readings)
    console.print("[bold]where each value was read[/]")
    for row in provenance_rows(readings, texts):
        console.print("  " + escape(row.line()))


def runs_show(
    run_id: str = typer.Argument(...),
    db: str | None = _DB,
    format: str = _FORMAT,
    unmask: bool = _UNMASK,
) -> None:
    """A run's trace: every step with its verdict, findings, timings and errors (sensitive
    values masked unless --unmask)."""
    from nesyflow.cli.views import run_detail
    from nesyflow.store import NotFound

    as_json = _json_format(format)
    store = _store(db)
    try:
        if as_json:
            _emit(run_detail(store, run_id, _viewer(unmask)))
        else:
            _print_run(store, run_id, _viewer(unmask))
    except NotFound as exc:
        raise _fail(str(exc)) from None


def reviews_list(
    status: str | None = typer.Option("open", help="open|decided|all"),
    workflow: str | None = typer.Option(None),
    rule: str | None = typer.Option(None, help="Only reviews whose step fired this rule."),
    page: int = typer.Option(1, min=1),
    db: str | None = _DB,
    format: str = _FORMAT,
    unmask: bool = _UNMASK,
) -> None:
    """The review queue, oldest first (``--format json``: one page object with ``items``)."""

    from nesyflow.cli.views import ReviewPage, review_summary
    from nesyflow.govern import Masks
    from nesyflow.store.queries import review_queue

    as_json = _json_format(format)
    store = _store(db)
    result = review_queue(
        store,
        status=None if status == "all" else status,
        workflow=workflow,
        rule=rule,
        page=page,
    )
    masks = Masks(store, _viewer(unmask))
    if as_json:
        _emit(
            ReviewPage(
                page=result.page,
                pages=result.pages,
                total=result.total,
                items=[review_summary(store, r, masks=masks) for r in result.items],
            )
        )
        return
    _print_listing(
        f"reviews (page {result.page}/{result.pages}, {result.total} in all)",
        ("id", "workflow", "node", "verdict", "rules", "status", "created"),
        [
            (
                r.id,
                r.workflow,
                r.node,
                r.verdict,
                ", ".join(rule for rule in r.rules if rule),  # parse/missing reasons name none
                r.status.value,
                r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
            for r in result.items
        ],
    )


def reviews_show(
    review_id: str = typer.Argument(...),
    db: str | None = _DB,
    format: str = _FORMAT,
    unmask: bool = _UNMASK,
) -> None:
    """One review: the held output, the verdict in plain words, the rules' identity (sensitive
    values masked unless --unmask)."""
    from nesyflow.cli.views import review_summary
    from nesyflow.store import NotFound

    as_json = _json_format(format)
    store = _store(db)
    try:
        if as_json:
            _emit(review_summary(store, store.get_review(review_id), _viewer(unmask)))
        else:
            _print_review(store, review_id, _viewer(unmask))
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
    token: str | None = None,
) -> None:
    from nesyflow.errors import NesyflowError
    from nesyflow.review import decide
    from nesyflow.store import AlreadyDecided, LeaseHeld

    store = _store(db)
    person = acting(store, token, who, what="decide")
    if output is not None:  # an edit written over a masked view: its placeholders keep their values
        from nesyflow.govern import run_mask
        from nesyflow.store import NotFound

        with contextlib.suppress(NotFound):  # decide names a missing review
            output = run_mask(store, store.get_review(review_id).run_id).redactor.restore(output)
    try:
        done = decide(
            review_id,
            action,
            person.name,
            comment,
            output,
            store=store,
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
        _print_result(done.run, store)


def reviews_approve(
    review_id: str = typer.Argument(...),
    comment: str | None = typer.Option(
        None, "--comment", "-m", help="Required when overriding a violation."
    ),
    who: str | None = _WHO,
    db: str | None = _DB,
    set_values: list[str] | None = _SET,
    token: str | None = TOKEN_OPTION,
) -> None:
    """Approve the held output (or tool call) and continue the run."""
    _decide(review_id, "approve", who, comment, None, db, _overrides(set_values), token)


def reviews_edit(
    review_id: str = typer.Argument(...),
    output: Path = typer.Option(..., "--output", "-o", help="Corrected output (.json)."),
    comment: str | None = typer.Option(
        None, "--comment", "-m", help="Required: what was changed and why."
    ),
    who: str | None = _WHO,
    db: str | None = _DB,
    token: str | None = TOKEN_OPTION,
) -> None:
    """Replace the output with a corrected one; the rules re-check it before it is recorded."""
    data = _read_inputs(output) if output.suffix == ".json" else None
    if data is None:
        raise _fail(f"{output}: the corrected output must be a .json file")
    _decide(review_id, "edit", who, comment, data[0], db, token=token)


def reviews_reject(
    review_id: str = typer.Argument(...),
    comment: str | None = typer.Option(None, "--comment", "-m"),
    who: str | None = _WHO,
    db: str | None = _DB,
    token: str | None = TOKEN_OPTION,
) -> None:
    """Reject: the run ends (status rejected)."""
    _decide(review_id, "reject", who, comment, None, db, token=token)


_COLOURS = {
    Verdict.PASS: "green",
    Verdict.FAIL: "red",
    Verdict.DENY: "red",
    Verdict.REVIEW: "yellow",
    Verdict.UNKNOWN: "magenta",
}


def _verdict(verdict: str | None) -> str:
    if not verdict:
        return ""
    return f"[{_COLOURS.get(verdict, 'white')}]{verdict}[/]"


def _print_run(store: Any, run_id: str, viewer: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from nesyflow.govern import run_mask

    mask = run_mask(store, run_id, viewer)
    stored = store.get_run(run_id)
    run = mask.mask(stored)
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
    steps = store.steps(run_id)
    for step in (mask.mask(s) for s in steps):
        what: list[str] = []
        if step.output is not None:
            what.append("output " + json.dumps(step.output, ensure_ascii=False)[:300])
        if step.kind == "decision" and step.inputs:
            what.append(
                f"{step.inputs.get('action')} by {step.inputs.get('who')}"
                + (f": {step.inputs.get('comment')}" if step.inputs.get("comment") else "")
            )
        for reason in read_reasons((step.check or {}).get("reasons")):
            what.append(f"{reason.kind} {reason.rule or ''}: {reason.message}")
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
    _provenance(console, stored, steps, mask)
    if mask:
        console.print(f"[dim]sensitive values masked ({', '.join(mask.kinds)}); --unmask[/]")
    for review in store.reviews_for_run(run_id):
        console.print(
            f"review {review.id}: {review.status.value}"
            + (f" ({review.action.value} by {review.decided_by})" if review.action else "")
        )


def _print_review(store: Any, review_id: str, viewer: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    from nesyflow.govern import run_mask

    review = store.get_review(review_id)
    mask = run_mask(store, review.run_id, viewer)
    review = mask.mask(review)
    console = Console()
    console.print(
        f"[bold]review {review.id}[/]  {review.status.value}  run {review.run_id}  "
        f"node {review.node} (visit {review.visit}, {review.kind})"
    )
    console.print(f"verdict {_verdict(review.verdict)}")
    if review.question:
        console.print(f"question: {escape(review.question)}")
    for reason in review.reasons:
        console.print(f"  - {escape(reason.text)}")
    console.print("output: " + escape(json.dumps(review.output, ensure_ascii=False, indent=2)))
    for pack in review.packs:
        console.print(f"pack {pack.get('name')}@{pack.get('version')}#{str(pack.get('hash'))[:12]}")
    if review.facts_hash:
        console.print(f"facts hash {review.facts_hash[:16]}")
    decision = store.decision_for(review.id)
    if decision is not None:
        decision = mask.mask(decision)
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
        help="The review queue: list, show, approve, edit, reject, repair.", no_args_is_help=True
    )
    reviews.command("list")(reviews_list)
    reviews.command("show")(reviews_show)
    reviews.command("approve")(reviews_approve)
    reviews.command("edit")(reviews_edit)
    reviews.command("reject")(reviews_reject)
    reviews.command("reassign")(reviews_reassign)
    reviews.command("mine")(reviews_mine)
    from nesyflow.cli.repair import repair_cmd

    reviews.command("repair")(repair_cmd)
    app.add_typer(reviews, name="reviews")
