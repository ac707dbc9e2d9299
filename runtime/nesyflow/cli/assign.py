"""``nesyflow tick``, ``nesyflow reviews mine`` and ``nesyflow reviews reassign``: deadlines,
"assigned to me", and giving a review to someone else with the reason recorded."""

from __future__ import annotations

import typer

from nesyflow.cli.identity import TOKEN_OPTION, acting, fail

__all__ = ["register", "reviews_mine", "reviews_reassign"]

_DB = typer.Option(None, "--db", help="Store URL (default $NESYFLOW_DB or ./.nesyflow/store.db).")
_WHO = typer.Option(None, "--who", help="Who you are, in single-user mode (default $USER).")


def _store(db: str | None):
    from nesyflow.store import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as exc:
        raise fail(str(exc)) from None


def tick_cmd(db: str | None = _DB) -> None:
    """Honour every review deadline that has passed (escalate, or record the default decision),
    however long ago; run it from cron or a timer. Exit 0; one line per review handled."""
    from nesyflow.errors import NesyflowError
    from nesyflow.review import tick

    try:
        handled = tick(_store(db))
    except NesyflowError as exc:
        raise fail(str(exc)) from None
    for item in handled:
        line = f"{item.review_id}  {item.outcome}  {item.detail}"
        if item.run_status:
            line += f"  run {item.run_id} {item.run_status}"
        typer.echo(line)
    typer.echo(f"{len(handled)} deadline(s) handled", err=True)


def reviews_mine(token: str | None = TOKEN_OPTION, db: str | None = _DB) -> None:
    """The open reviews assigned to you (by name, group or role), overdue first."""
    from nesyflow.review import assigned_to_me

    store = _store(db)
    person = acting(store, token, None, what="list your reviews")
    if person.user is None:
        raise fail("no accounts in this store: every review is yours (nesyflow reviews list)")
    for review in assigned_to_me(store, person.user):
        due = "" if review.due_at is None else f"due {review.due_at:%Y-%m-%d %H:%M}"
        flag = "OVERDUE" if review.overdue() else ""
        to = review.assigned_to or (
            f"group:{review.assigned_group}" if review.assigned_group else ""
        )
        typer.echo("\t".join([review.id, review.workflow, review.node, flag, due, to]).rstrip())


def reviews_reassign(
    review_id: str = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="An account name, or group:NAME."),
    reason: str = typer.Option(..., "--reason", "-m", help="Why (recorded)."),
    who: str | None = _WHO,
    token: str | None = TOKEN_OPTION,
    db: str | None = _DB,
) -> None:
    """Give an open review to another person or group; the reason is recorded with it."""
    from nesyflow.errors import NesyflowError
    from nesyflow.review import reassign

    store = _store(db)
    person = acting(store, token, who, what="reassign a review")
    try:
        review = reassign(store, review_id, to, reason, person.name)
    except NesyflowError as exc:
        raise fail(str(exc)) from None
    now_to = review.assigned_to or f"group:{review.assigned_group}"
    typer.echo(f"review {review_id} reassigned to {now_to} by {person.name}")


def register(app: typer.Typer) -> None:
    app.command("tick")(tick_cmd)
