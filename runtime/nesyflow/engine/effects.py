"""What a tool with a side effect gets from the engine to make that effect happen once.

The tool contract (docs/CONTRACTS.md, "Tools and side effects"): the engine calls a tool *at least
once* per node visit — again after a crash between the call and its checkpoint — always with the
same idempotency key (:func:`~nesyflow.engine.idempotency_key`). A tool makes its effect happen
*exactly once* by keying it: either it passes the key to the system it changes (an
``Idempotency-Key`` header, a unique column), or — for an effect that is a record, like a payment
in a ledger — it keeps the record in the run's own store with :func:`record_once`, which writes it
under the key in one transaction and returns the first record on every repeat. Because the record
lives in the store (SQLite file or PostgreSQL server), not in a file of the working directory,
this holds for every process and host that drives the run.

The idempotency key makes one *call* happen once. A business fact may need to happen once across
*calls* too — an expense item paid once whatever request it came in, an invoice number paid once per
supplier. Checking the store first is not enough: two runs can both check, both see nothing, both
pay. :func:`claim_once` holds a business key for one call in the same store, atomically (the record's
primary key), so the second run's call is refused however the two interleave.
"""

from __future__ import annotations

from typing import Any

from nesyflow.engine.run_view import current_run, current_store, idempotency_key
from nesyflow.engine.state import jsonable
from nesyflow.errors import NesyflowError
from nesyflow.store import Store, ToolRecord

__all__ = ["AlreadyClaimed", "OutsideRun", "claim_once", "record_once", "tool_records"]


class OutsideRun(NesyflowError):
    """A tool's store API was used outside a tool call of a run (no key, no store to keep it in)."""

    code = "outside_run"


class AlreadyClaimed(NesyflowError):
    """A business key another tool call already holds (the same item paid under another request)."""

    code = "already_claimed"

    def __init__(self, kind: str, value: str, holder: str, run_id: str) -> None:
        self.kind, self.value, self.holder, self.run_id = kind, value, holder, run_id
        super().__init__(
            f"{kind} {value!r} is already held by run {run_id} (call {holder}); nothing was done"
        )


def _current() -> tuple[str, Store, Any]:
    key, store, view = idempotency_key(), current_store(), current_run()
    if key is None or store is None or view is None:
        raise OutsideRun(
            "a tool's effects are kept in its run's store: call record_once / claim_once from a "
            "tool that a run is calling (nesyflow run / start_run), not directly"
        )
    return key, store, view


def claim_once(kind: str, value: str) -> ToolRecord:
    """Inside a tool call: hold the business key ``value`` of ``kind`` for this call, across every
    run, process and host that shares the store. Returns the claim; the same call (a resume after a
    crash) gets it back; any other call raises :class:`AlreadyClaimed`. Claim right before the
    effect, after everything that can refuse it, so a call that then does nothing holds nothing."""
    key, store, view = _current()
    record, _written = store.record_once(
        f"claim:{kind}:{value}", view.run_id, f"{kind}.claim", {"by": key, "value": value}
    )
    if record.data.get("by") != key:
        raise AlreadyClaimed(kind, value, str(record.data.get("by")), record.run_id)
    return record


def record_once(kind: str, data: Any) -> ToolRecord:
    """Inside a tool call: keep ``data`` (JSON-able: a model, a dict) as this call's effect, of
    kind ``kind``, in the run's store — once per idempotency key. Returns the stored record; on a
    repeated call (a resume after a crash) that is the first call's record, unchanged."""
    key, store, view = _current()
    record, _written = store.record_once(key, view.run_id, kind, jsonable(data))
    return record


def tool_records(
    kind: str, *, store: Store | None = None, run_id: str | None = None
) -> list[ToolRecord]:
    """Every record of ``kind`` in ``store`` (inside a tool call: the run's store), oldest first;
    ``run_id`` keeps one run's. What a tool reads to know what earlier runs already did (what the
    agent has already paid)."""
    target = store or current_store()
    if target is None:
        raise OutsideRun(f"tool_records({kind!r}) needs a store: pass store=, or call it in a tool")
    return target.tool_records(kind, run_id=run_id)
