"""``nesyflow audit verify`` and ``nesyflow audit log``: the decision log of a store.

``verify`` exits 0 when the chain holds and every decision matches its entry, 1 when anything was
altered, removed, reordered or inserted (each problem with its entry number and what differs), and
2 when it cannot check at all (a store it cannot open, a ``--head`` it cannot read).
"""

from __future__ import annotations

import re
from typing import Any

import typer

__all__ = ["register"]

_DB = typer.Option(
    None, "--db", help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db)."
)
_HEAD = re.compile(r"^\s*(\d+):([0-9a-fA-F]{64})\s*$")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _store(db: str | None) -> Any:
    from nesyflow.store import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def verify_cmd(
    db: str | None = _DB,
    head: str | None = typer.Option(
        None,
        "--head",
        help="N:HASH printed by an earlier verify and kept elsewhere: entry N must still have it.",
    ),
    format: str = typer.Option("text", "--format", "-f", help="text, or json."),
) -> None:
    """Check the decision log: exit 1 naming each entry that was altered, removed, reordered or
    inserted, and each decision that no longer matches its entry."""
    anchor: tuple[int, str] | None = None
    if head is not None:
        found = _HEAD.match(head)
        if found is None:
            raise _fail(f"--head {head!r}: write N:HASH (the 64 hex digits verify printed)")
        anchor = (int(found.group(1)), found.group(2).lower())
    if format not in ("text", "json"):
        raise _fail(f"--format {format!r}: text or json")
    from sqlalchemy.exc import SQLAlchemyError

    store = _store(db)
    try:
        report = store.verify_audit(head=anchor)
    except SQLAlchemyError as exc:  # a table it reads is gone or reshaped: cannot check
        cause = getattr(exc, "orig", None) or exc
        raise _fail(f"cannot read the decision log or the decisions: {cause}") from None
    finally:
        store.close()
    if format == "json":
        typer.echo(report.model_dump_json())
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        state = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        typer.echo(
            f"decision log: {report.entries} entries, {report.decisions} decisions: {state}; "
            f"head {report.head}"
        )
    if not report.ok:
        raise typer.Exit(1)


def log_cmd(
    db: str | None = _DB,
    run: str | None = typer.Option(None, "--run", help="Only this run's entries."),
) -> None:
    """Print the decision log, oldest first: number, time, what, who, run, hash."""
    store = _store(db)
    try:
        entries = store.audit_entries(run_id=run)
    finally:
        store.close()
    for e in entries:
        what = e.kind + (f" {e.data.get('action')}" if e.kind == "decision" else "")
        typer.echo(
            f"{e.seq:>6}  {e.at:%Y-%m-%d %H:%M:%S}  {what:<16} {e.who:<20} "
            f"{e.run_id or '-'}  {e.hash[:16]}"
        )


def register(app: typer.Typer) -> None:
    """Add ``audit verify`` and ``audit log`` to the nesyflow command."""
    audit = typer.Typer(help="The decision log (a hash chain): verify it, print it.")
    audit.command("verify")(verify_cmd)
    audit.command("log")(log_cmd)
    app.add_typer(audit, name="audit")
