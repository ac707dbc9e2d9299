"""A bounded memory of decided checks, keyed by the facts hash (which covers the pack's identity).

A check is a pure function of the pack and the encoded facts, so the same facts checked again give
the same answer: a repeat needs no grounding. Only *decided* results are kept (pass, fail, review,
deny): an ``unknown`` may be a timeout or a worker that died, and the next attempt must run. A hit
hands back a copy with its own ``derived`` dict and the lookup's own timing, so no caller can
change what another caller is given. Least recently used entries go first; ``NESYFLOW_CHECK_CACHE``
sets the size (0 turns it off).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

from nesyflow.logic.result import CheckResult, Timings, Verdict

__all__ = ["ResultCache", "results"]

_DEFAULT_SIZE = 4096


class ResultCache:
    """Decided :class:`CheckResult` values by facts hash, at most ``size`` of them."""

    def __init__(self, size: int) -> None:
        self.size = max(0, size)
        self._items: OrderedDict[str, CheckResult] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, facts_hash: str, started: float) -> CheckResult | None:
        if not self.size or not facts_hash:
            return None
        with self._lock:
            found = self._items.get(facts_hash)
            if found is None:
                return None
            self._items.move_to_end(facts_hash)
            self.hits += 1
        took = Timings(total_ms=(time.perf_counter() - started) * 1000)
        return found.model_copy(update={"derived": dict(found.derived), "timings": took})

    def put(self, result: CheckResult) -> None:
        if not self.size or not result.facts_hash or result.verdict is Verdict.UNKNOWN:
            return
        with self._lock:
            self._items[result.facts_hash] = result
            self._items.move_to_end(result.facts_hash)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = 0


def _size() -> int:
    raw = os.environ.get("NESYFLOW_CHECK_CACHE", "").strip()
    if not raw:
        return _DEFAULT_SIZE
    if not raw.isdigit():
        raise ValueError(
            f"NESYFLOW_CHECK_CACHE must be a whole number of results (0: off), not {raw!r}"
        )
    return int(raw)


results = ResultCache(_size())
