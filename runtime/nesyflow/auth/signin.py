"""Signing in: a password (console) or a token (CLI), every attempt logged, failures rate-limited.

The limit is per name and lives in the store's ``sign_ins`` table, so it holds across console
processes and restarts: after ``max_failures`` failures within ``window`` a name is refused
without its password being checked until the oldest of them leaves the window (and every refused
attempt counts as another failure). A failure says only "unknown name or wrong password".
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass

from nesyflow.auth import passwords
from nesyflow.auth.errors import AuthError, RateLimited
from nesyflow.auth.tokens import token_hash
from nesyflow.store.accounts import Accounts
from nesyflow.store.records import User

__all__ = ["SignInPolicy", "sign_in", "user_for_token"]

log = logging.getLogger("nesyflow.auth")


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_env(cls) -> SignInPolicy:
        """``NESYFLOW_SIGNIN_MAX_FAILURES`` (default 5), ``NESYFLOW_SIGNIN_WINDOW_MINUTES`` (15)."""
        failures = os.environ.get("NESYFLOW_SIGNIN_MAX_FAILURES", "").strip() or "5"
        window = os.environ.get("NESYFLOW_SIGNIN_WINDOW_MINUTES", "").strip() or "15"
        if not failures.isdigit() or int(failures) < 1:
            raise AuthError(f"NESYFLOW_SIGNIN_MAX_FAILURES={failures!r} is not a whole number ≥ 1")
        try:
            minutes = float(window)
        except ValueError:
            minutes = -1
        if minutes <= 0:
            raise AuthError(f"NESYFLOW_SIGNIN_WINDOW_MINUTES={window!r} is not a positive number")
        return cls(int(failures), dt.timedelta(minutes=minutes))


def sign_in(
    accounts: Accounts,
    name: str,
    password: str,
    *,
    policy: SignInPolicy | None = None,
    at: dt.datetime | None = None,
) -> User:
    """The account ``name`` if ``password`` is its password; else :class:`AuthError` (or
    :class:`RateLimited`). Logged either way (the store's ``sign_ins`` and the
    ``nesyflow.auth`` logger)."""
    policy = policy or SignInPolicy.from_env()
    at = at or dt.datetime.now(dt.UTC)
    name = (name or "").strip()
    failures = accounts.failures_since(name, at - policy.window)
    if len(failures) >= policy.max_failures:
        retry = failures[-policy.max_failures] + policy.window
        accounts.log_sign_in(name, ok=False, method="password", detail="rate limited", at=at)
        log.warning(
            "sign-in refused for %r: %d failures within %s", name, len(failures), policy.window
        )
        raise RateLimited(
            f"too many failed sign-ins for {name!r}; try again after {retry:%H:%M:%S} UTC",
            details={"retry_after": retry.isoformat()},
        )
    stored = accounts.password_hash(name) if name else None
    if not passwords.verify_password(stored, password):
        accounts.log_sign_in(
            name, ok=False, method="password", detail="wrong name or password", at=at
        )
        log.warning("failed sign-in for %r", name)
        raise AuthError("sign-in failed: unknown name or wrong password")
    assert stored is not None
    if passwords.needs_rehash(stored):
        accounts.set_password_hash(name, passwords.hash_password(password))
    accounts.log_sign_in(name, ok=True, method="password", at=at)
    log.info("signed in: %r", name)
    return accounts.require(name)


def user_for_token(accounts: Accounts, secret: str) -> User:
    """The account whose CLI token ``secret`` is; else :class:`AuthError` (logged)."""
    user = accounts.by_token(token_hash(secret)) if secret and secret.strip() else None
    if user is None:
        accounts.log_sign_in("(token)", ok=False, method="token", detail="unknown token")
        log.warning("a CLI token that is no account's was refused")
        raise AuthError(
            "the token is not valid (it was replaced, or never issued): get a new one with "
            "`nesyflow users token NAME`"
        )
    return user
