"""Per-user CLI tokens: 256 random bits shown once, kept as their SHA-256.

A plain hash is enough here (unlike a password): the secret is random and long, so nothing can be
guessed from its hash, and a lookup by hash finds the account in one indexed read.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["PREFIX", "new_token", "token_hash"]

PREFIX = "nft_"


def new_token() -> tuple[str, str]:
    """(the secret to hand the person once, the hash to keep)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, token_hash(secret)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode()).hexdigest()
