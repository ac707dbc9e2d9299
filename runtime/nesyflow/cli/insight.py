"""``nesyflow whatif | coverage`` — what a pack change would do to history, and which rule bodies
production fires that no test covers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nesyflow.cli._io import EXECUTOR_HELP, bad_input, executor

__all__ = ["register"]

out = Console(highlight=False)


def register(app: typer.Typer) -> None:
    app.command("whatif")(whatif_cmd)
    app.command("coverage")(coverage_cmd)


def _open(db: str | None) -> Any:
    from nesyflow.store import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as exc:
        bad_input(str(exc))


def _pack(path: Path) -> Any:
    from nesyflow.errors import ProblemsError
    from nesyflow.logic import load_pack

    try:
        return load_pack(path)
    except ProblemsError as exc:
        bad_input(str(exc))


def whatif_cmd(
    pack: Annotated[Path, typer.Argument(help="The new version of a rule pack (its folder).")],
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only steps stored on or after this date (YYYY-MM-DD).")
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow's runs.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    executor_name: Annotated[str, typer.Option("--executor", help=EXECUTOR_HELP)] = "local",
) -> None:
    """Re-check every stored step a pack of this name checked with this version, and report what
    would change. Exit 0 if nothing changes, 1 if some verdict or firing would, 2 on bad input."""
    from nesyflow.insight import whatif

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    executor(executor_name)
    after = None
    if since:
        try:
            after = dt.datetime.fromisoformat(since).replace(tzinfo=dt.UTC)
        except ValueError:
            bad_input(f"--since must be a date like 2026-11-30, not {since!r}")
    report = whatif(_open(db), _pack(pack), since=after, workflow=workflow, executor=executor_name)
    if format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_whatif(report)
    raise typer.Exit(1 if report.changed else 0)


def _print_whatif(report: Any) -> None:
    out.print(
        f"[bold]{escape(report.pack)}[/] against {report.steps:,} stored steps "
        f"(from versions {', '.join(sorted(report.from_versions)) or '—'}) in "
        f"{report.seconds:.2f} s ({report.per_second:,.0f} steps/s; "
        f"{report.checked:,} distinct inputs checked)"
    )
    if report.skipped:
        out.print(
            f"[yellow]{report.skipped:,} steps not re-checkable[/] (stored before steps kept "
            "what the rules were given)"
        )
    out.print(f"{report.changed:,} steps would change, in {len(report.runs):,} runs")
    for title, changes in (("verdicts", report.transitions), ("decisions", report.decisions)):
        if not changes:
            continue
        table = Table(title=title, show_header=True, header_style="bold")
        table.add_column("change")
        table.add_column("steps", justify="right")
        table.add_column("examples (run / step: rules before → after)")
        for kind, change in sorted(changes.items()):
            examples = "\n".join(
                f"{e.run} / {e.step}: {','.join(e.rules_before) or '—'} → "
                f"{','.join(e.rules_after) or '—'}"
                for e in change.examples
            )
            table.add_row(kind, f"{change.count:,}", examples)
        out.print(table)
    for label, counter in (
        ("start firing", report.rules_started),
        ("stop firing", report.rules_stopped),
        ("fire on other instances", report.rules_changed),
    ):
        if counter:
            out.print(
                f"rules that {label}: " + ", ".join(f"{r} ×{n}" for r, n in counter.most_common())
            )


def coverage_cmd(
    pack: Annotated[Path, typer.Argument(help="Rule pack folder.")],
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Per rule body: firings in the pack's tests and in production; bodies production fires that no
    test covers get a YAML test case built from a real step. Exit 1 if any such body exists."""
    from nesyflow.insight import production_coverage

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    report = production_coverage(_open(db), _pack(pack))
    if format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str))
    else:
        table = Table(
            title=f"{report.pack}: {report.steps:,} production steps "
            f"({report.other_versions:,} by other versions, not counted)",
            show_header=True,
            header_style="bold",
        )
        for column in ("rule", "where", "tests", "production", "status"):
            table.add_column(
                column, justify="right" if column in ("tests", "production") else "left"
            )
        for body in report.bodies:
            table.add_row(
                body.rule, body.where, str(body.tests), f"{body.production:,}", body.status
            )
        out.print(table)
        for body in report.bodies:
            if body.suggestion:
                out.print(f"\n[bold]# a test for {body.rule} ({body.where}):[/]")
                print(body.suggestion)
    raise typer.Exit(1 if any(b.suggestion for b in report.bodies) else 0)
