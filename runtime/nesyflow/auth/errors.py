"""Authentication errors: one sentence for the person, nothing about which half was wrong."""

from __future__ import annotations

from nesyflow.errors import NesyflowError

__all__ = ["AuthError", "RateLimited"]


class AuthError(NesyflowError):
    """Who this is could not be established (a wrong password, an unknown token, a header the
    operator did not configure); nothing was done as anyone."""

    code = "auth_refused"


class RateLimited(AuthError):
    """Too many failed sign-ins for this name lately; ``details['retry_after']`` (ISO time)."""

    code = "sign_in_rate_limited"
