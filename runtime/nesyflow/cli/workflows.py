"""``nesyflow validate`` — the agent builder's check of a workflow file before running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from nesyflow.cli._io import bad_input
from nesyflow.errors import InputError, ProblemsError

__all__ = ["register"]

out = Console(highlight=False)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)


def validate_cmd(
    workflow: Annotated[Path, typer.Argument(help="Workflow YAML file.")],
) -> None:
    """Validate a workflow: every problem with file:line:col. Exit 0 if valid, 1 if not, 2 if the
    file cannot be read."""
    from nesyflow.graph import load_workflow

    try:
        wf = load_workflow(workflow)
    except InputError as exc:
        bad_input(str(exc))
    except ProblemsError as exc:
        for problem in exc.problems:
            out.print(escape(str(problem)), soft_wrap=True)
        out.print(f"[bold red]{len(exc.problems)} problem(s)[/] in {escape(str(workflow))}")
        raise typer.Exit(1) from None
    graph = wf.graph
    out.print(
        f"[bold green]OK[/] {escape(wf.name)}: {graph.number_of_nodes()} nodes, "
        f"{graph.number_of_edges()} edges, start {escape(wf.start)}"
    )
    for node_id, node in wf.nodes.items():
        targets = list(dict.fromkeys(wf.successors(node_id)))
        arrow = ", ".join(targets) if targets else "end"
        packs = f" packs: {', '.join(p.text for p in node.packs)}" if node.packs else ""
        bound = f" max_visits: {node.max_visits}" if node.max_visits else ""
        out.print(escape(f"  {node_id} [{node.kind}] → {arrow}{packs}{bound}"))
