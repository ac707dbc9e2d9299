"""Keep credentials out of everything nesyflow writes: error texts, traces, the store, the console.

A provider's error message may echo the key it was given (a proxy, a misconfigured server, an SDK that
prints the header); a base URL may carry ``user:password@`` or ``?api-key=``. :func:`redact` replaces
every secret value nesyflow knows of — the values of environment variables whose name says they are
secret (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``…) and the keys read from the config file —
with ``***``; :func:`safe_url` drops the credentials from a URL. Everything the llm layer returns or
raises goes through :func:`redact` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "is_secret_name", "redact", "safe_url", "secret_values"]

MASK = "***"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"(key|token|secret|password|sig|signature|auth)", re.IGNORECASE)
_MIN_LENGTH = 6  # shorter values ("1", "true") would mask ordinary words
_extra: set[str] = set()


def is_secret_name(name: str) -> bool:
    """True for an environment variable or setting whose value must never be shown."""
    return bool(_SECRET_NAME.search(name))


def remember_secret(value: str | None) -> None:
    """Add a secret read from elsewhere (the config file) to what :func:`redact` masks."""
    if value and len(value) >= _MIN_LENGTH:
        _extra.add(value)


def secret_values(extra: Iterable[str] = ()) -> list[str]:
    """Every secret value known now, longest first (so a key containing another is masked whole)."""
    values = {v for k, v in os.environ.items() if is_secret_name(k) and len(v) >= _MIN_LENGTH}
    values |= _extra
    values |= {v for v in extra if v and len(v) >= _MIN_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str | None, extra: Iterable[str] = ()) -> str | None:
    """``text`` with every known secret value replaced by ``***`` (``None`` stays ``None``)."""
    if not text:
        return text
    for value in secret_values(extra):
        if value in text:
            text = text.replace(value, MASK)
    return text


def safe_url(url: str | None) -> str | None:
    """A URL without its ``user:password@`` and with secret-looking query values masked."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = f"{MASK}@{netloc}"
    query = urlencode(
        [(k, MASK if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query)],
        safe="*",
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
