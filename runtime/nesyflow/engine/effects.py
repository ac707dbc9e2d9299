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
"""

from __future__ import annotations

from typing import Any

from nesyflow.engine.run_view import current_run, current_store, idempotency_key
from nesyflow.engine.state import jsonable
from nesyflow.errors import NesyflowError
from nesyflow.store import Store, ToolRecord

__all__ = ["OutsideRun", "record_once", "tool_records"]


class OutsideRun(NesyflowError):
    """A tool's store API was used outside a tool call of a run (no key, no store to keep it in)."""

    code = "outside_run"


def record_once(kind: str, data: Any) -> ToolRecord:
    """Inside a tool call: keep ``data`` (JSON-able: a model, a dict) as this call's effect, of
    kind ``kind``, in the run's store — once per idempotency key. Returns the stored record; on a
    repeated call (a resume after a crash) that is the first call's record, unchanged."""
    key, store, view = idempotency_key(), current_store(), current_run()
    if key is None or store is None or view is None:
        raise OutsideRun(
            f"record_once({kind!r}) keeps a tool's effect in its run's store: call it from a tool "
            "that a run is calling (nesyflow run / start_run), not directly"
        )
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
