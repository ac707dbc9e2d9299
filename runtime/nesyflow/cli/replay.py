"""``nesyflow replay PACK --actions FILE [--db FILE]`` — replay tool-call sequences through a pack.

Each sequence starts from a fresh copy of the domain's database; each action is checked against the
state as it evolves (allowed actions are applied, denied and reviewed ones are not). The domain (tools,
database, context builder) is named by ``--domain``, else by ``[options] domain`` in the pack's
pack.toml. Exit 0 if every action is allowed (and ran), 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from nesyflow.cli._io import bad_input
from nesyflow.errors import InputError, ProblemsError

__all__ = ["register"]

out = Console(highlight=False)

_STYLE = {"allow": "bold green", "deny": "bold red", "review": "bold yellow"}


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_cmd)


def _domain_ref(pack_dir: Path, given: str | None) -> tuple[str, Path]:
    if given:
        return given, Path.cwd()
    manifest = pack_dir / "pack.toml"
    try:
        options = tomllib.loads(manifest.read_text(encoding="utf-8")).get("options", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        bad_input(f"{manifest}: cannot read ({exc})")
    ref = options.get("domain") if isinstance(options, dict) else None
    if not isinstance(ref, str) or not ref:
        bad_input(
            f'{manifest}: no [options] domain = "path/module.py:NAME" naming the tools and '
            "context builder; pass --domain"
        )
    return ref, pack_dir


def replay_cmd(
    pack: Annotated[Path, typer.Argument(help="Rule pack folder.")],
    actions: Annotated[
        Path,
        typer.Option(
            "--actions",
            "-a",
            help='One JSON object or JSONL: {"actions": [...], "authenticated_user"}.',
        ),
    ],
    db: Annotated[
        Path | None, typer.Option(help="Database file (default: the domain's own copy).")
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(help="The domain as path/module.py:NAME (default: from pack.toml)."),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    assume_confirmed: Annotated[
        bool,
        typer.Option(
            "--assume-confirmed/--require-confirmation",
            help="Take each action without a 'confirmed' field as confirmed by the user (the file "
            "records agreed actions), or send it to review.",
        ),
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds per check.")] = 2.0,
) -> None:
    """Replay tool-call sequences against a pack. Exit 0 if all allowed, 1 otherwise, 2 on bad input."""
    from dataclasses import replace

    from nesyflow.logic import load_pack
    from nesyflow.replay import load_domain, read_sequences, replay

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    try:
        loaded = load_pack(pack)
    except ProblemsError as exc:
        bad_input(str(exc))
    ref, base = _domain_ref(pack, domain)
    try:
        dom = load_domain(ref, base)
    except InputError as exc:
        bad_input(f"domain {ref}: {exc}")
    if db is not None and not db.is_file():
        bad_input(f"{db}: no such database file")
    try:
        sequences = read_sequences(actions, dom)
    except InputError as exc:
        bad_input(str(exc))
    except RecursionError:  # json.loads on a document nested thousands of levels deep
        bad_input(f"{actions}: nested too deeply to read")
    if assume_confirmed:
        sequences = [
            replace(
                s,
                actions=tuple(
                    replace(a, confirmed=True) if a.confirmed is None else a for a in s.actions
                ),
            )
            for s in sequences
        ]
    try:
        dom.new_state(db)
    except Exception as exc:  # a database that does not load is bad input, not a crash
        bad_input(f"{db or 'default database'}: cannot load ({type(exc).__name__}: {exc})")

    all_allowed = True
    counts = {"allow": 0, "deny": 0, "review": 0}
    for outcome in replay(loaded, dom, sequences, db, timeout=timeout):
        counts[outcome.verdict] += 1
        ok = outcome.verdict == "allow" and outcome.error is None
        all_allowed &= ok
        if format == "json":
            print(json.dumps(outcome.json(), ensure_ascii=False))
            continue
        style = _STYLE[outcome.verdict]
        line = (
            f"{outcome.sequence}:{outcome.index} {escape(outcome.name)} "
            f"[{style}]{outcome.verdict}[/]"
        )
        if outcome.error:
            line += f" [red](tool refused: {escape(outcome.error)})[/]"
        out.print(line, soft_wrap=True)
        for reason in outcome.reasons:
            detail = f" ({escape(reason.detail)})" if reason.detail else ""
            out.print(
                f"    {escape(reason.rule or reason.kind)}{detail}: {escape(reason.message)}",
                soft_wrap=True,
            )
    if format == "text":
        out.print(
            f"{len(sequences)} sequence(s): {counts['allow']} allowed, {counts['deny']} denied, "
            f"{counts['review']} to review"
        )
    raise typer.Exit(0 if all_allowed else 1)
