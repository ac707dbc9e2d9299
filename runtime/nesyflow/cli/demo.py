"""``nesyflow demo`` — the main job a newcomer runs first (``make demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]

out = Console(highlight=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


def demo_cmd(
    root: Annotated[Path, typer.Option(help="The project folder (holds rules/).")] = Path("."),
) -> None:
    """Check the shipped packs' test cases and show a few explained verdicts."""
    from nesyflow.cli.rules import _print_result
    from nesyflow.logic import load_pack
    from nesyflow.logic.testing import run_pack_tests

    packs = sorted(p.parent for p in (root / "rules").glob("*/pack.toml"))
    if not packs:
        out.print(f"[red]no rule packs under {root / 'rules'}[/]")
        raise typer.Exit(1)
    failed = 0
    for folder in packs:
        pack = load_pack(folder)
        report = run_pack_tests(pack)
        failed += report.failed
        out.rule(f"{pack.identity}")
        out.print(
            f"{report.passed}/{len(report.cases)} cases as expected, "
            f"catalogue coverage {report.coverage:.0f}%"
        )
        shown = 0
        for case in report.cases:
            if case.result is not None and case.result.findings() and shown < 2:
                shown += 1
                out.print(f"[bold]{case.name}[/]")
                _print_result(str(case.location), case.result)
    raise typer.Exit(1 if failed else 0)
