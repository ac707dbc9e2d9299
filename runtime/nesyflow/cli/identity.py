"""Who runs a CLI command: the account of its token once the store has accounts, else the name
given (``--who``) or ``$USER`` (single-user mode, :mod:`nesyflow.auth`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the CLI imports the store only when a command needs it
    from nesyflow.store import SqlStore
    from nesyflow.store.records import User

__all__ = ["TOKEN_OPTION", "Acting", "acting", "fail"]

TOKEN_OPTION = typer.Option(
    None,
    "--token",
    help="Your CLI token (default $NESYFLOW_TOKEN), from `nesyflow users token NAME`; needed "
    "once the store has accounts.",
    show_default=False,
)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@dataclass(frozen=True)
class Acting:
    """The person a command acts as: an account (``user``) or, with no accounts, a name."""

    name: str
    user: User | None = None


def acting(
    store: SqlStore, token: str | None, who: str | None, *, what: str, named: bool = True
) -> Acting:
    """Authenticate the caller for ``what`` (e.g. "decide"); a clear error (exit 2) when that
    cannot be done. Never falls back to ``$USER`` while accounts exist. ``named=False``: in
    single-user mode the command needs no name (an empty one is returned)."""
    from nesyflow.auth import AuthError, user_for_token
    from nesyflow.store.accounts import Accounts

    accounts = Accounts(store)
    secret = (token or os.environ.get("NESYFLOW_TOKEN") or "").strip()
    if accounts.any():
        if not secret:
            raise fail(
                f"this store has accounts: to {what}, say who you are with --token or "
                "NESYFLOW_TOKEN (an admin or you: nesyflow users token NAME)"
            )
        try:
            user = user_for_token(accounts, secret)
        except AuthError as exc:
            raise fail(str(exc)) from None
        if who and who.strip() and who.strip() != user.name:
            raise fail(
                f"--who {who.strip()!r} is not the token's account ({user.name}); a token "
                "decides as its own account only"
            )
        return Acting(user.name, user)
    if secret:
        raise fail(
            "a token was given but this store has no accounts (single-user mode): drop it, or "
            "add accounts with nesyflow users add"
        )
    if not named:
        return Acting("")
    name = (who or os.environ.get("USER") or os.environ.get("USERNAME") or "").strip()
    if not name:
        raise fail(f"say who you are to {what} with --who (no $USER set)")
    return Acting(name)
