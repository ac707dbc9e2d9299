"""A console session: who signed in and when; it expires after a time idle and a time in all.

``NESYFLOW_SESSION_IDLE_MINUTES`` (default 30) and ``NESYFLOW_SESSION_MAX_MINUTES`` (default 480).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace

__all__ = ["Session", "session_limits"]


def _minutes(variable: str, default: int) -> dt.timedelta:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return dt.timedelta(minutes=default)
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        from nesyflow.auth.errors import AuthError

        raise AuthError(f"{variable}={raw!r} is not a positive number of minutes")
    return dt.timedelta(minutes=value)


def session_limits() -> tuple[dt.timedelta, dt.timedelta]:
    """(idle limit, total limit) from the environment."""
    return (
        _minutes("NESYFLOW_SESSION_IDLE_MINUTES", 30),
        _minutes("NESYFLOW_SESSION_MAX_MINUTES", 480),
    )


@dataclass(frozen=True)
class Session:
    name: str
    method: str  # password | proxy | single-user
    started: dt.datetime
    last_seen: dt.datetime

    @classmethod
    def start(cls, name: str, method: str, at: dt.datetime | None = None) -> Session:
        at = at or dt.datetime.now(dt.UTC)
        return cls(name=name, method=method, started=at, last_seen=at)

    def expired(self, at: dt.datetime | None = None) -> bool:
        at = at or dt.datetime.now(dt.UTC)
        idle, total = session_limits()
        return at - self.last_seen > idle or at - self.started > total

    def seen(self, at: dt.datetime | None = None) -> Session:
        return replace(self, last_seen=at or dt.datetime.now(dt.UTC))
