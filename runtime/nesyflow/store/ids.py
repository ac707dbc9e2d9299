"""Time-sortable ids (UUIDv7 layout, RFC 9562) so rows sort by creation in every database.

Python 3.11 has no ``uuid.uuid7``; this is the 48-bit millisecond timestamp + version + a 12-bit
counter (monotonic within one process and millisecond) + 62 random bits. Sorting the text sorts by
time, which is what the console's "newest first" pages need without a second index.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

__all__ = ["new_id"]

_LOCK = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A new UUIDv7 as canonical text (36 chars), strictly increasing within this process."""
    global _last_ms, _counter
    with _LOCK:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = secrets.randbits(8)  # random start leaves room to count up
        counter = _counter
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    return str(uuid.UUID(int=value))
