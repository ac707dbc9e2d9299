"""``nesyflow retention apply`` — purge finished runs' traces past their period, keep what must be
kept, record what was done (``retention_log``); ``--dry-run`` shows the plan and writes nothing.
The policy is in :mod:`nesyflow.govern.retention`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["register"]

out = Console(highlight=False)


def apply_cmd(
    db: Annotated[
        str | None, typer.Option("--db", help="SQLAlchemy URL of the store (default $NESYFLOW_DB).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be done; change nothing.")
    ] = False,
    keep_days: Annotated[
        int,
        typer.Option(
            "--keep-days",
            min=0,
            help="How long a finished run's trace is kept (days); must-keep fields keep their years.",
        ),
    ] = 365,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Purge (or with --dry-run, list) the trace of finished runs older than --keep-days."""
    from nesyflow.cli.runs import _fail, _store
    from nesyflow.govern.retention import apply_retention

    if format not in ("text", "json"):
        raise _fail(f"--format must be text or json, not {format!r}")
    report = apply_retention(_store(db), keep_days=keep_days, dry_run=dry_run)
    if format == "json":
        typer.echo(report.model_dump_json())
        return
    verb = "would purge" if dry_run else "purged"
    out.print(
        f"{report.finished_runs_past_period} finished run(s) older than {keep_days} days; "
        f"{verb} {len(report.runs)}" + (" (dry run: nothing written)" if dry_run else "")
    )
    if not report.runs:
        return
    table = Table(show_header=True, header_style="bold", show_lines=True)
    for column in ("run", "workflow", "started", "removed", "kept until"):
        table.add_column(column, overflow="fold")
    for plan in report.runs:
        table.add_row(
            plan.run_id,
            escape(plan.workflow),
            f"{plan.created_at:%Y-%m-%d}",
            escape("\n".join(plan.removed)),
            escape("\n".join(f"{k.place}.{k.path} → {k.until}" for k in plan.kept) or "-"),
        )
    out.print(table)
    if not dry_run:
        out.print("[dim]recorded in the store's retention_log[/]")


def register(app: typer.Typer) -> None:
    retention = typer.Typer(
        help="Data retention: purge what is past its period.", no_args_is_help=True
    )
    retention.command("apply")(apply_cmd)
    app.add_typer(retention, name="retention")
