"""Crash injection for the durability tests: kill this process (SIGKILL) at a chosen point.

``NESYFLOW_CRASH_AFTER=N`` kills the process at the N-th crash point it reaches; with
``NESYFLOW_CRASH_AT=name`` only points with that name count. Unset (always, outside tests), a crash
point is one dictionary look-up. It lives in the store (the lowest layer that has crash points) so
the engine and the store share one counter.
"""

from __future__ import annotations

import os
import signal

__all__ = ["crash_point"]

_hits = 0


def crash_point(name: str) -> None:
    """A place where a real crash would hurt; the tests kill the process here."""
    global _hits
    after = os.environ.get("NESYFLOW_CRASH_AFTER")
    if not after:
        return
    only = os.environ.get("NESYFLOW_CRASH_AT")
    if only and only != name:
        return
    _hits += 1
    if _hits >= int(after):
        log = os.environ.get("NESYFLOW_CRASH_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(name + "\n")
        os.kill(os.getpid(), signal.SIGKILL)
