"""Passwords hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

Why argon2-cffi: it is the maintained binding of the reference implementation, and its
``PasswordHasher`` encodes the parameters in the hash, so raising them later re-hashes old
accounts on their next sign-in (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_LENGTH", "check_password", "hash_password", "needs_rehash", "verify_password"]

MIN_LENGTH = 8
_HASHER = PasswordHasher()
# verified against when the name is unknown, so both failures take the same time
_DUMMY = _HASHER.hash("nesyflow: no such account")


def check_password(password: str) -> str:
    """``password`` if it may be an account's password, else a ``ValueError`` saying why."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password has at least {MIN_LENGTH} characters")
    if password != password.strip():
        raise ValueError("a password does not start or end with a space or a newline")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no password, always False — after the same
    work as a real check)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
