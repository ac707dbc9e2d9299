"""A run's classification, recorded when it starts, and the sensitive values it knows.

Masking a trace, redacting a prompt and applying retention must all ask the same question of the
same answer, long after the run: which fields of what this run holds are sensitive, which must be
kept and for how long. The workflow file may have changed or moved by then, so the answer is
computed from the workflow's schemas (:func:`nesyflow.schema.governance.classification`) when the
run starts and kept in its checkpoint (``RunState.classes``). Places are ``input`` (the run's
input), a node id (the node's output) and ``NODE.args`` (a tool's argument).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from nesyflow.graph.model import ToolNode, Workflow
from nesyflow.schema.governance import classification
from nesyflow.schema.redact import Secret, secrets_in

__all__ = ["INPUT_PLACE", "Classes", "known_secrets", "masked_text", "workflow_classes"]

INPUT_PLACE = "input"


class Classes(BaseModel):
    """``sensitive[place][path] = kind`` and ``retain[place][path] = years`` for one run."""

    sensitive: dict[str, dict[str, str]] = Field(default_factory=dict)
    retain: dict[str, dict[str, int]] = Field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.sensitive or self.retain)

    def add(self, place: str, model: type[BaseModel] | None) -> None:
        if model is None:
            return
        for path, found in classification(model).items():
            if found.sensitive is not None:
                self.sensitive.setdefault(place, {})[path] = found.sensitive.kind
            if found.retain is not None:
                self.retain.setdefault(place, {})[path] = found.retain.years

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(place, field, sensitive, retain)`` for people (the CLI and the console print
        these): ``-`` where a field has the default (not sensitive, kept with the trace)."""
        out = []
        for place in sorted({*self.sensitive, *self.retain}):
            paths = sorted({*self.sensitive.get(place, {}), *self.retain.get(place, {})})
            for path in paths:
                kind = self.sensitive.get(place, {}).get(path)
                years = self.retain.get(place, {}).get(path)
                out.append(
                    (
                        place,
                        path,
                        kind or "-",
                        f"{years} years" if years is not None else "-",
                    )
                )
        return out

    def secrets(self, place: str, data: Any) -> list[Secret]:
        """The sensitive values of ``data`` held at ``place``."""
        return secrets_in(data, self.sensitive.get(place, {}))


def workflow_classes(flow: Workflow) -> Classes:
    """The classification of everything a run of ``flow`` can hold."""
    classes = Classes()
    classes.add(INPUT_PLACE, flow.input_schema)
    for node_id, node in flow.nodes.items():
        classes.add(node_id, node.output)
        if isinstance(node, ToolNode):
            classes.add(f"{node_id}.args", node.args_schema)
    return classes


def known_secrets(
    classes: Classes, run_input: Any, outputs: Mapping[str, Any], extra: Iterable[Secret] = ()
) -> list[Secret]:
    """Every sensitive value a run holds so far: its input's and its nodes' outputs'. Only the
    places with a sensitive field are looked at (a remote model's every step asks this: walking
    every output made a step's cost grow with the run)."""
    found = list(classes.secrets(INPUT_PLACE, run_input))
    for place in classes.sensitive:
        if place != INPUT_PLACE and place in outputs:
            found.extend(classes.secrets(place, outputs[place]))
    found.extend(extra)
    return found


def masked_text(state: Mapping[str, Any], run_input: Any, text: str | None) -> str | None:
    """``text`` (an error, for a trace) with the sensitive values of a run's checkpointed
    ``state`` and ``run_input`` replaced: what leaves the process in telemetry is masked too."""
    if not text:
        return text
    from nesyflow.schema.redact import Redactor

    classes = Classes.model_validate(state.get("classes") or {})
    if not classes.sensitive:
        return text
    outputs = state.get("outputs") or {}
    return Redactor(known_secrets(classes, run_input, outputs)).text(text)
