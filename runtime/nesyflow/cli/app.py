"""The Typer application and the registration of every command module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="nesyflow",
    help="Rule-checked LLM agents: rule packs, workflows, runs and reviews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that add commands to `app` (each defines `register(app)`). A missing one is an install
# error and fails loudly: a CLI that silently lacks `check` would be worse than none.
_COMMAND_MODULES = (
    "rules",
    "workflows",
    "runs",
    "replay",
    "insight",
    "precedents",
    "console",
    "demo",
    "invoices",
    "models",
    "audit",
    "retention",
    "users",
    "assign",
)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"nesyflow.cli.{name}").register(app)


_register_all()


def main() -> None:
    app()
