"""Masking what the store holds before anyone sees or exports it: one function for every view.

The store keeps a run's values as they are (a run must resume, an approval must be re-checked);
what a person or an export sees goes through :meth:`RunMask.mask`, which the CLI (``runs show``,
``reviews``, every ``--format json`` view), the console's pages and exports all call on the
store's records. A run's mask knows every sensitive value the run holds — its input's, every
step's output and tool argument, every review's and decision's value, by the classification the
run recorded when it started (``RunState.classes``) — and replaces each of them, wherever it
appears (a prompt, the facts, an explanation's bindings, an error message), by its stable
placeholder (:mod:`nesyflow.schema.redact`), unless :func:`~nesyflow.govern.access.may_see` lets
the viewer see that kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from nesyflow.engine.governance import INPUT_PLACE, Classes
from nesyflow.engine.state import RunState
from nesyflow.govern.access import Viewer, may_see
from nesyflow.schema.redact import Redactor, Secret
from nesyflow.store import Store

__all__ = ["DATA_FIELDS", "Masks", "RunMask", "run_mask"]

R = TypeVar("R", bound=BaseModel)

#: The fields of the store's records that hold a run's data (everything else is ids, times,
#: statuses, counts): a record's mask replaces sensitive values in exactly these.
DATA_FIELDS = frozenset(
    {
        "input",
        "state",
        "error",
        "inputs",
        "prompt",
        "raw_output",
        "output",
        "facts",
        "check",
        "findings",
        "reasons",
        "question",
        "comment",
        "overrides",
        "args",
        "result",
        "data",
    }
)


class RunMask:
    """The mask of one run for one viewer: ``mask(record)``, ``data(value)``, ``text(str)``."""

    def __init__(self, secrets: list[Secret], viewer: Viewer | None = None) -> None:
        hidden = [s for s in secrets if not may_see(viewer, s.kind)]
        self.redactor = Redactor(hidden)
        self.kinds = sorted({s.kind for s in hidden})

    def __bool__(self) -> bool:
        return bool(self.redactor)

    def data(self, value: Any) -> Any:
        """A JSON-like value with the run's sensitive values replaced."""
        return self.redactor.data(value)

    def text(self, text: str | None) -> str | None:
        return None if text is None else self.redactor.text(text)

    def mask(self, record: R) -> R:
        """A copy of a store record (Run, Step, ReviewRecord, Decision, Effect, ToolRecord…) with
        every data field masked; the record itself is untouched."""
        if not self.redactor:
            return record
        dumped = record.model_dump(mode="json")
        for name in DATA_FIELDS & set(type(record).model_fields):
            dumped[name] = self.redactor.data(dumped[name])
        return type(record).model_validate(dumped)

    def provenance(
        self, texts: Mapping[str, str], readings: list[Mapping[str, Any]]
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """The run's source texts masked and its readings (provenance) masked, their offsets
        moved onto the masked texts, so a value's span is still drawn where it was read."""
        masked: dict[str, str] = {}
        moves: dict[str, Callable[[int], int]] = {}
        for name, text in texts.items():
            masked[name], moves[name] = self.redactor.text_mapped(text)
        out: list[dict[str, Any]] = []
        for reading in readings:
            copy = dict(self.redactor.data(dict(reading)))
            source, start, end = reading.get("source"), reading.get("start"), reading.get("end")
            if source in moves and isinstance(start, int) and isinstance(end, int):
                copy["start"], copy["end"] = moves[source](start), moves[source](end)
            out.append(copy)
        return masked, out


def _places(node: str) -> tuple[str, ...]:
    """Where a step's or review's value is classified: the node's output, a tool's argument."""
    return (node, f"{node}.args")


def run_secrets(store: Store, run_id: str) -> list[Secret]:
    """Every sensitive value the run holds anywhere in the store."""
    run = store.get_run(run_id)
    state = RunState.model_validate(run.state)
    classes: Classes = state.classes
    if not classes.sensitive:
        return []
    found = list(classes.secrets(INPUT_PLACE, run.input))
    for node, output in state.outputs.items():
        found.extend(classes.secrets(node, output))
    values: list[tuple[str, Any]] = []
    for step in store.steps(run_id):
        values.append((step.node, step.output))
        values.append((step.node, step.inputs))
        if isinstance(step.inputs, dict):
            values.append((step.node, step.inputs.get("args")))
            values.append((step.node, step.inputs.get("output")))
    for review in store.reviews_for_run(run_id):
        values.append((review.node, review.output))
        decision = store.decision_for(review.id) if review.action is not None else None
        if decision is not None:
            values.append((review.node, decision.output))
    for node, value in values:
        if value is None:
            continue
        for place in _places(node):
            found.extend(classes.secrets(place, value))
    return found


def run_mask(store: Store, run_id: str, viewer: Viewer | None = None) -> RunMask:
    """The mask of ``run_id`` for ``viewer`` (``None``: nobody in particular — everything masked)."""
    return RunMask(run_secrets(store, run_id), viewer)


class Masks:
    """Masks for many runs (a queue, a list), each computed once: ``masks.mask(record)`` finds
    the record's run by its ``run_id`` (a ``Run`` by its ``id``)."""

    def __init__(self, store: Store, viewer: Viewer | None = None) -> None:
        self.store = store
        self.viewer = viewer
        self._runs: dict[str, RunMask] = {}

    def of(self, run_id: str) -> RunMask:
        if run_id not in self._runs:
            self._runs[run_id] = run_mask(self.store, run_id, self.viewer)
        return self._runs[run_id]

    def mask(self, record: R, run_id: str | None = None) -> R:
        found = run_id or getattr(record, "run_id", None)
        if found is None and "state" in type(record).model_fields:
            found = getattr(record, "id", None)
        if found is None:
            raise ValueError(f"cannot tell which run a {type(record).__name__} belongs to")
        return self.of(found).mask(record)
