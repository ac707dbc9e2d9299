"""``nesyflow reviews precedents | proposals`` — what people decided before on alike reviews, and the
exception rules their repeated approvals suggest (as pack diffs; nothing is written to a pack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from nesyflow.cli._io import bad_input
from nesyflow.cli.insight import _open, _pack

__all__ = ["register"]

out = Console(highlight=False)


def register(app: typer.Typer) -> None:
    app.command("proposals")(proposals_cmd)
    reviews = next((g.typer_instance for g in app.registered_groups if g.name == "reviews"), None)
    if reviews is None:  # the runs module registers ``reviews``; without it this is a bug
        raise RuntimeError("nesyflow.cli.precedents must be registered after nesyflow.cli.runs")
    reviews.command("precedents")(precedents_cmd)


def precedents_cmd(
    review_id: Annotated[str, typer.Argument(help="The review to find precedents for.")],
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many precedents.")] = 3,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """The most similar past decided reviews (same rules, close values, alike input), each with its
    decision, comment and who made it. Exit 2 on bad input or an unknown review."""
    from nesyflow.insight import PrecedentIndex
    from nesyflow.store import NotFound

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    store = _open(db)
    try:
        store.get_review(review_id)
    except NotFound:
        bad_input(f"there is no review {review_id!r} in this store")
    found = PrecedentIndex(store).for_review(review_id, k=k)
    if format == "json":
        print(json.dumps([p.to_json() for p in found], indent=2, ensure_ascii=False))
        return
    if not found:
        out.print("No decided review of the same packs yet.")
        return
    out.print(f"[bold]precedents of review {escape(review_id)}[/] (score: facts and text)")
    for p in found:
        comment = f": “{p.comment}”" if p.comment else ""
        print(
            f"{p.score:.2f}  {p.action} by {p.who or '?'} on {p.decided_at:%Y-%m-%d %H:%M}"
            f"{comment}  (review {p.review_id}; shared rules: {', '.join(p.shared_rules) or '—'})"
        )


def proposals_cmd(
    pack: Annotated[Path, typer.Argument(help="Rule pack folder (the version in production).")],
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store.")] = None,
    min_approvals: Annotated[
        int, typer.Option("--min", min=2, help="Approvals (distinct reviews) before proposing.")
    ] = 5,
    impact: Annotated[
        bool, typer.Option(help="Re-check history with each proposal (what-if).")
    ] = True,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Exception rules people's repeated approvals of one violation suggest: a diff (apply with
    ``patch -p1 -d PACK``), YAML tests from those decisions, the tests' result on a copy of the pack
    and the what-if impact. Nothing is written. Exit 0 with none, 1 with some, 2 on bad input."""
    from nesyflow.insight import propose

    if format not in ("text", "json"):
        bad_input(f"--format must be text or json, not {format!r}")
    found = propose(_open(db), _pack(pack), min_approvals=min_approvals, impact=impact)
    if format == "json":
        print(json.dumps([p.to_json() for p in found], indent=2, ensure_ascii=False, default=str))
    else:
        _print(found)
    raise typer.Exit(1 if found else 0)


def _print(found: list[Any]) -> None:
    if not found:
        out.print("No violation was approved often enough for the same kind of facts.")
        return
    for p in found:
        out.rule(f"[bold]{escape(p.rule)}[/] at {escape(p.where)}")
        out.print(
            f"approved in {len({i.review for i in p.approvals})} reviews by "
            f"{escape(', '.join(p.reviewers))}; when: {escape(' and '.join(p.conditions) or 'always')}"
        )
        if p.conflicts:
            out.print(
                f"[yellow]{len({i.review for i in p.conflicts})} rejected reviews fall inside "
                "these bounds[/] (they are not excepted by the people who rejected them)"
            )
        state = "[green]pass[/]" if not p.tests_failed else f"[red]{p.tests_failed} fail[/]"
        out.print(f"tests on a copy of the pack with it: {p.tests_passed} pass, {state}")
        for failure in p.test_failures[:5]:
            out.print(f"  {escape(failure)}")
        if p.impact is not None:
            i = p.impact
            moves = ", ".join(f"{k} ×{c.count}" for k, c in sorted(i.transitions.items()))
            decisions = ", ".join(f"{k} ×{c.count}" for k, c in sorted(i.decisions.items()))
            out.print(
                f"what-if over {i.steps:,} stored steps: {i.changed:,} change in "
                f"{len(i.runs):,} runs ({moves or 'no verdict changes'}); "
                f"decisions: {decisions or 'none contradicted'}"
            )
        print(p.diff)
