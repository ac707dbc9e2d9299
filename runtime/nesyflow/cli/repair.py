"""``nesyflow reviews repair REVIEW_ID``: the smallest change to a held output that its rules
allow, as a diff to accept with ``reviews edit`` (or in the console). Records nothing.

Exit 0 when a repair is offered, 1 when none is (the reason says why: none among the candidates,
the time bound, nothing failing), 2 on bad input (no such review, a bad option)."""

from __future__ import annotations

import json
import math

import typer

__all__ = ["repair_cmd"]


def repair_cmd(
    review_id: str = typer.Argument(..., help="The review whose held output to repair."),
    db: str | None = typer.Option(
        None,
        "--db",
        help="SQLAlchemy URL of the store (default $NESYFLOW_DB or ./.nesyflow/store.db).",
    ),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds the search may take."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the repaired output here (.json), for reviews edit."
    ),
) -> None:
    """Search the smallest change the node's rules allow; print it as a diff."""
    from rich.console import Console
    from rich.markup import escape

    from nesyflow.insight.repair import repair_review
    from nesyflow.store import NotFound, StoreError, open_store

    def fail(message: str, code: int = 2) -> typer.Exit:
        typer.echo(f"error: {message}", err=True)
        return typer.Exit(code)

    if format not in ("text", "json"):
        raise fail(f"--format must be text or json, not {format!r}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise fail(f"--timeout must be a positive number of seconds, not {timeout}")
    try:
        store = open_store(db)
        repair = repair_review(store, review_id, timeout=timeout)
    except StoreError as exc:
        raise fail(str(exc)) from None
    except NotFound as exc:
        raise fail(str(exc)) from None
    if output and repair.found:
        with open(output, "w", encoding="utf-8") as fh:
            json.dump(repair.value, fh, indent=2, ensure_ascii=False)
    if format == "json":
        typer.echo(json.dumps(repair.to_json(), ensure_ascii=False))
        raise typer.Exit(0 if repair.found else 1)
    out = Console(highlight=False)
    if not repair.found:
        out.print(f"review {review_id}: no repair offered — {escape(repair.reason)}")
        raise typer.Exit(1)
    out.print(
        f"[bold]review {review_id}[/]: the smallest repair the rules allow "
        f"(cost {repair.cost}, {repair.options} candidate changes, {repair.seconds:.2f} s)"
        + (f"; {repair.ties} other repair(s) as small" if repair.ties else "")
    )
    for line in repair.lines:
        out.print(f"  {escape(line.text())}")
        if line.change.why:
            out.print(f"      [dim]from {escape(line.change.why)}[/]")
    verdict = repair.verdict.value if repair.verdict else "?"
    out.print(f"re-checked as an edit: [bold]{verdict}[/]")
    for reason in repair.remaining:
        out.print(f"  - {escape(reason.text)}")
    hint = f"--output {output}" if output else "--output repaired.json (write it with -o)"
    out.print(
        f"accept it: nesyflow reviews edit {review_id} {hint} --comment 'what and why'",
        soft_wrap=True,
    )
