"""``nesyflow models`` — what each llm node will call, and how, before anything runs.

For every llm node of the given workflows (or, with none, for the model a node with no model of its
own would use): the model string as resolved (node → workflow → ``$NESYFLOW_MODEL`` → local), the
litellm provider, the structured-output mode and who chose it (the node, the config file,
``$NESYFLOW_MODEL_MODE``, the provider table), the base URL without credentials, and where the key
comes from (never the key). No request is made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nesyflow.cli._io import bad_input
from nesyflow.errors import InputError, NesyflowError, ProblemsError

__all__ = ["register"]

out = Console(highlight=False)


def register(app: typer.Typer) -> None:
    app.command("models")(models_cmd)


def models_cmd(
    workflows: Annotated[
        list[Path] | None, typer.Argument(help="Workflow YAML files (none: the default model).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """Show, per llm node, the model, provider, mode, base URL and key source it will use."""
    from nesyflow.graph import load_workflow
    from nesyflow.graph.model import LlmNode
    from nesyflow.llm import RetryPolicy, resolve_model, route_for

    if format not in ("text", "json"):
        bad_input(f"--format: unknown format {format!r} (text or json)")
    rows: list[dict[str, str | None]] = []
    try:
        policy = RetryPolicy.from_env()  # the retry variables are checked before anything runs
        if not workflows:
            rows.append(_row("(default)", "-", route_for(resolve_model(None, None))))
        for path in workflows or []:
            try:
                flow = load_workflow(path)
            except ProblemsError as exc:
                bad_input(f"{path}: does not load:\n" + "\n".join(f"  {p}" for p in exc.problems))
            for node in flow.nodes.values():
                if isinstance(node, LlmNode):
                    model = resolve_model(node.model, flow.model)
                    rows.append(_row(flow.name, node.id, route_for(model, mode=node.mode)))
    except InputError as exc:
        bad_input(str(exc))
    except NesyflowError as exc:  # a config file that cannot be used
        bad_input(str(exc))
    if format == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    out.print(
        f"retries: {policy.max_attempts} attempts a request, {policy.timeout_s:g} s timeout, "
        f"waits ×{policy.time_scale:g}"
    )
    table = Table("workflow", "node", "model", "provider", "mode", "base URL", "key")
    for row in rows:
        table.add_row(
            *(
                escape(str(row[k] or "-"))
                for k in ("workflow", "node", "model", "provider", "mode", "api_base", "key")
            )
        )
    out.print(table)


def _row(workflow: str, node: str, route: object) -> dict[str, str | None]:
    from nesyflow.llm import ModelRoute

    assert isinstance(route, ModelRoute)
    return {
        "workflow": workflow,
        "node": node,
        "model": route.model,
        "provider": route.provider,
        "mode": f"{route.mode.value} ({route.mode_from})",
        "api_base": route.api_base,
        "key": route.key,
    }
