"""Who may drive a run: lease holders and how long a lease lasts.

A run has one driver at a time (``start_run``, ``resume``, a decision that resumes): the driver
takes the run's lease in the store before its first step, every checkpoint proves the lease is
still the driver's and leaves it lasting at least the lease's time (renewing it, see
``renewal_slack``), and it is given up when the run pauses or ends. A process killed while driving
leaves its lease behind; it is taken over when it expires, or at once by a process on the same
host that sees the holder's process has ended (a crashed ``nesyflow resume`` is resumed without
waiting out the lease).

A holder is ``host:pid:token`` — the token tells two drivers in one process apart (two threads).
"""

from __future__ import annotations

import os
import secrets
import socket

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "holder_has_ended",
    "lease_seconds",
    "new_holder",
    "renewal_slack",
]

DEFAULT_LEASE_SECONDS = 60.0


def new_holder() -> str:
    """A holder name for one driver: this host, this process, and a random token."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def lease_seconds() -> float:
    """``$NESYFLOW_LEASE_SECONDS`` (a positive number) or 60: how long a lease lasts unrenewed.

    It must outlast the slowest step (a model call, a tool call): a driver whose lease expired
    mid-step loses the run to the next resumer, and its own next checkpoint is refused.
    """
    raw = os.environ.get("NESYFLOW_LEASE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        from nesyflow.store.base import StoreError

        raise StoreError(f"NESYFLOW_LEASE_SECONDS={raw!r} is not a positive number of seconds")
    return value


def renewal_slack(seconds: float) -> float:
    """How much longer than ``seconds`` a checkpoint's renewal makes a lease last (1% of it, at
    most a second): the checkpoints in that time find it still ending at least ``seconds`` after
    them and need not write it again (SQLite, ``SqlStore._hold_sqlite``). A driver that crashed
    is taken over by another host that much later; on its own host at once, as before."""
    return min(1.0, seconds / 100)


def holder_has_ended(holder: str) -> bool:
    """Whether ``holder`` is a process of this host that no longer exists.

    Only this host's processes can be checked; any other holder (or a name in another shape) is
    taken to be alive until its lease expires — the safe direction. A reused pid looks alive too.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this very process: alive (another driver in it holds the lease)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False
