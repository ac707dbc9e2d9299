"""``nesyflow users add / token / list``: accounts, their roles and their CLI tokens.

The first account must be an admin (so someone can always manage the rest); after it, adding an
account needs an admin's token. A token is issued to an admin's token or to the account's own
password (how the first admin gets one), shown once, and replaces the account's earlier token.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from nesyflow.cli.identity import TOKEN_OPTION, acting, fail
from nesyflow.roles import ROLE_NAMES, Role

__all__ = ["register"]

_DB = typer.Option(None, "--db", help="Store URL (default $NESYFLOW_DB or ./.nesyflow/store.db).")
_PASSWORD_FILE = typer.Option(
    None,
    "--password-file",
    help="Read the password from this file's first line (else stdin when piped, else a prompt).",
)


def _store(db: str | None):
    from nesyflow.store import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as exc:
        raise fail(str(exc)) from None


def _read_password(path: Path | None, *, confirm: bool) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: cannot read the password ({exc})") from None
        if not lines:
            raise fail(f"{path}: the password file is empty")
        return lines[0]
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def users_add(
    name: str = typer.Argument(..., help="The account's name (as it is recorded with decisions)."),
    role: list[str] = typer.Option(
        ..., "--role", "-r", help=f"A role: {' | '.join(ROLE_NAMES)} (repeat for several)."
    ),
    password_file: Path | None = _PASSWORD_FILE,
    group: list[str] = typer.Option(
        [], "--group", "-g", help="A group the account belongs to (repeat for several)."
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="No password: the account signs in through the proxy only."
    ),
    token: str | None = TOKEN_OPTION,
    db: str | None = _DB,
) -> None:
    """Add an account with its roles and (unless --no-password) a password hashed with argon2id."""
    from nesyflow.auth import hash_password
    from nesyflow.roles import parse_role
    from nesyflow.store import StoreError
    from nesyflow.store.accounts import Accounts

    try:
        roles = [parse_role(r) for r in role]
    except ValueError as exc:
        raise fail(f"--role: {exc}") from None
    store = _store(db)
    accounts = Accounts(store)
    if accounts.any():
        admin = acting(store, token, None, what="add an account")
        assert admin.user is not None
        if Role.ADMIN.value not in admin.user.roles:
            raise fail(
                f"only an admin adds accounts; {admin.name} holds {', '.join(admin.user.roles)}"
            )
    elif Role.ADMIN not in roles:
        raise fail(
            "the store has no accounts yet: the first one must be an admin (--role admin), so "
            "someone can manage the others"
        )
    hashed = None
    if not no_password:
        try:
            hashed = hash_password(_read_password(password_file, confirm=True))
        except ValueError as exc:
            raise fail(str(exc)) from None
    try:
        user = accounts.add(name, [r.value for r in roles], hashed, groups=group)
    except StoreError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"added {user.name} ({', '.join(user.roles)})")


def users_token(
    name: str = typer.Argument(...),
    password_file: Path | None = _PASSWORD_FILE,
    token: str | None = TOKEN_OPTION,
    db: str | None = _DB,
) -> None:
    """Issue NAME's CLI token (printed once; the earlier one stops working). Needs an admin's
    token, or NAME's own password."""
    import os

    from nesyflow.auth import AuthError, new_token, sign_in
    from nesyflow.store.accounts import Accounts

    store = _store(db)
    accounts = Accounts(store)
    target = accounts.get(name)
    if target is None:
        raise fail(f"no account named {name!r} (nesyflow users list)")
    if token or os.environ.get("NESYFLOW_TOKEN"):
        admin = acting(store, token, None, what="issue a token")
        assert admin.user is not None
        if Role.ADMIN.value not in admin.user.roles and admin.name != target.name:
            raise fail(f"only an admin issues another account's token ({admin.name} is not one)")
    else:
        try:
            sign_in(accounts, target.name, _read_password(password_file, confirm=False))
        except AuthError as exc:
            raise fail(str(exc)) from None
    secret, digest = new_token()
    accounts.set_token(target.name, digest)
    typer.echo(secret)
    typer.echo(
        f"the token of {target.name}, shown once: export NESYFLOW_TOKEN=… (the earlier one, if "
        "any, no longer works)",
        err=True,
    )


def users_list(db: str | None = _DB) -> None:
    """The accounts and their roles."""
    from nesyflow.store.accounts import Accounts

    users = Accounts(_store(db)).list()
    if not users:
        typer.echo("no accounts (single-user mode: see nesyflow users add --help)")
    for user in users:
        how = "password" if user.has_password else "proxy only"
        groups = ", ".join(user.groups)
        typer.echo(
            f"{user.name}\t{', '.join(user.roles)}\t{how}" + (f"\t{groups}" if groups else "")
        )


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Accounts: add, token, list.", no_args_is_help=True)
    users.command("add")(users_add)
    users.command("token")(users_token)
    users.command("list")(users_list)
    app.add_typer(users, name="users")
