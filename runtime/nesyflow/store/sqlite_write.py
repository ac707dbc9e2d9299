"""The checkpoint's statements on SQLite, run on the sqlite3 connection itself.

Why: through SQLAlchemy Core every ``execute`` costs ~50 µs of machinery (compiled-cache lookup,
parameter processing, a result object) and opening a transaction ~45 µs; a checkpoint is five or six
statements, so that machinery was most of a step's cost with a mocked model. Here each statement's
SQL is written once and run on the DB-API cursor. The values are encoded by SQLAlchemy's own bind
processors for each column (JSON, DateTime…) and rows read back through its result processors, so
the stored bytes are exactly those the Core path stores and every other reader reads them unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, Table

from nesyflow.store import tables as t
from nesyflow.store.records import NodeState

__all__ = ["Encoded", "SqliteWrites"]

Processor = Callable[[Any], Any] | None


def _apply(procs: Sequence[Processor], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(v if p is None or v is None else p(v) for p, v in zip(procs, values, strict=True))


def _apply_all(procs: Sequence[Processor], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(v if p is None else p(v) for p, v in zip(procs, values, strict=True))


def _bind(column: Column[Any], dialect: Dialect, evaluate_none: bool) -> Processor:
    """The column's bind processor; with ``evaluate_none``, one that also encodes ``None`` as
    Core does (a JSON column stores ``None`` as the JSON text ``null``, not SQL NULL)."""
    proc = column.type._cached_bind_processor(dialect)
    if not evaluate_none or proc is None:
        return proc
    if column.type.should_evaluate_none:
        return proc
    return lambda v: None if v is None else proc(v)


class Encoded:
    """One table's INSERT (or upsert) with its columns' bind processors, built once.

    ``evaluate_none``: encode ``None`` exactly as a Core ``insert().values(col=None)`` does (a
    JSON column's ``None`` is the text ``null``). The checkpoint's statements were built without
    it (their ``None`` is SQL NULL) and keep that, so the rows they write do not change."""

    def __init__(
        self,
        table: Table,
        dialect: Dialect,
        columns: Sequence[Column[Any]],
        suffix: str = "",
        *,
        evaluate_none: bool = False,
    ) -> None:
        self.keys = [c.key for c in columns]
        self.procs: list[Processor] = [_bind(c, dialect, evaluate_none) for c in columns]
        self._apply = _apply_all if evaluate_none else _apply
        names = ", ".join(f'"{c.name}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        self.sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}){suffix}'

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The row's parameters; every column must be in ``values`` (no defaults here: a missing
        key is a bug in the caller, not a NULL)."""
        return self._apply(self.procs, [values[k] for k in self.keys])


class SqliteWrites:
    """The compiled statements of one store's checkpoint (and the processors they need)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.step = Encoded(t.steps, dialect, list(t.steps.c))
        self.finding = Encoded(t.findings, dialect, [c for c in t.findings.c if c.key != "id"])
        self.review = Encoded(t.reviews, dialect, list(t.reviews.c))
        node_cols = list(t.run_nodes.c)
        # node_rows() builds its tuples in this order
        order = ["run_id", "node", "ord", "visits", "output", "derived", "verdict", "version"]
        assert [c.key for c in node_cols] == order, "run_nodes columns changed: update node_rows"
        updates = ", ".join(
            f'"{c.name}" = excluded."{c.name}"' for c in node_cols if not c.primary_key
        )
        self.node = Encoded(
            t.run_nodes,
            dialect,
            node_cols,
            f' ON CONFLICT ("run_id", "node") DO UPDATE SET {updates}',
        )
        self._node_output = t.run_nodes.c.output.type._cached_bind_processor(dialect)
        self._node_derived = t.run_nodes.c.derived.type._cached_bind_processor(dialect)
        self._stamp = t.runs.c.updated_at.type._cached_bind_processor(dialect)
        self._json = t.runs.c.state.type._cached_bind_processor(dialect)
        self._effect_result = t.effects.c.result.type._cached_bind_processor(dialect)
        # The run row moved on, read back without its state (the caller has it).
        self.run_columns = [c for c in t.runs.c if c.key != "state"]
        self._run_results: list[Processor] = [
            c.type._cached_result_processor(dialect, None) for c in self.run_columns
        ]
        returning = ", ".join(f'"{c.name}"' for c in self.run_columns)
        self.move_run = (
            'UPDATE "runs" SET "version" = "version" + 1, "updated_at" = ?, "state" = ?, '
            '"current_node" = ?, "status" = ?, "error" = ? WHERE "id" = ? AND "version" = ? '
            f"RETURNING {returning}"
        )
        self.renew = 'UPDATE "leases" SET "expires_at" = ? WHERE "run_id" = ? AND "holder" = ?'
        self.release = 'DELETE FROM "leases" WHERE "run_id" = ? AND "holder" = ?'
        self.lease_until = 'SELECT "expires_at" FROM "leases" WHERE "run_id" = ? AND "holder" = ?'
        self._expiry = t.leases.c.expires_at.type._cached_result_processor(dialect, None)
        self.last_seq = 'SELECT max("seq") FROM "steps" WHERE "run_id" = ?'
        # create_run's statements: every column given, None encoded as Core encodes it.
        self.run = Encoded(t.runs, dialect, list(t.runs.c), evaluate_none=True)
        self.request = Encoded(t.requests, dialect, list(t.requests.c), evaluate_none=True)
        self.lease = Encoded(t.leases, dialect, list(t.leases.c), evaluate_none=True)
        self.find_request = 'SELECT "run_id", "input_hash" FROM "requests" WHERE "workflow" = ? AND "request_id" = ?'
        self.effect_done = (
            'UPDATE "effects" SET "status" = \'done\', "result" = ?, "completed_at" = ? '
            'WHERE "key" = ?'
        )

    def stamp(self, value: Any) -> Any:
        return value if self._stamp is None else self._stamp(value)

    def lease_expiry(self, value: Any) -> dt.datetime:
        """A lease's stored ``expires_at`` as an aware UTC datetime (SQLite keeps no zone)."""
        decoded = value if self._expiry is None else self._expiry(value)
        return decoded if decoded.tzinfo is not None else decoded.replace(tzinfo=dt.UTC)

    def json(self, value: Any) -> Any:
        return value if self._json is None else self._json(value)

    def effect_result(self, value: Any) -> Any:
        return value if self._effect_result is None else self._effect_result(value)

    def run_row(self, row: Sequence[Any]) -> dict[str, Any]:
        """The RETURNING row as column values (decoded as SQLAlchemy decodes them)."""
        return {
            c.key: v if p is None or v is None else p(v)
            for c, p, v in zip(self.run_columns, self._run_results, row, strict=True)
        }

    def node_rows(
        self, run_id: str, version: int, nodes: Sequence[NodeState]
    ) -> list[tuple[Any, ...]]:
        """The run_nodes rows in column order. An absent output or derived value is SQL NULL;
        a present ``None`` output is JSON ``null`` (the verdict says which it is)."""
        out, der = self._node_output, self._node_derived
        rows = []
        for n in nodes:
            output = None if n.verdict is None else (n.output if out is None else out(n.output))
            derived = None if n.derived is None else (n.derived if der is None else der(n.derived))
            rows.append((run_id, n.node, n.ord, n.visits, output, derived, n.verdict, version))
        return rows
