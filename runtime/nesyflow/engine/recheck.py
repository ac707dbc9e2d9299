"""Check a value a person decided on exactly as the engine checks a node's own output.

One function for every path that holds a person's value against the rules: an edit when it is
recorded (:func:`nesyflow.review.decide`), its live preview in the console, and every approval or
edit when the run resumes. The same packs (from disk, now), the same context (the node's
``context:`` data path over the run's checkpoint), the same precedence.

A node with no packs of its own is checked by the gates its output feeds (tool and check nodes
with packs whose data paths read it), with the person's value put in its place. A value nothing
can check is ``unknown`` ("unchecked"), never a pass.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import ValidationError

from nesyflow.engine.checking import CheckSummary, check_subject, unchecked
from nesyflow.engine.state import RunState, jsonable
from nesyflow.errors import format_validation_error
from nesyflow.graph.model import CheckNode, Ref, ToolNode, Workflow
from nesyflow.logic.result import worst

__all__ = ["check_decided", "gates_fed_by"]


def gates_fed_by(workflow: Workflow, node_id: str) -> list[ToolNode | CheckNode]:
    """Tool and check nodes with packs that read ``node_id``'s output through a data path."""
    out: list[ToolNode | CheckNode] = []
    for node in workflow.nodes.values():
        if node.id == node_id or not node.packs:
            continue
        if isinstance(node, ToolNode):
            refs = list(node.input.values())
        elif isinstance(node, CheckNode):
            refs = [node.value]
        else:
            continue
        if any(ref.node == node_id and ref.part == "output" for ref in refs):
            out.append(node)
    return out


def _resolve(ref: Ref, run_input: Any, state: RunState, outputs: dict[str, Any]) -> Any:
    return jsonable(ref.resolve(run_input, outputs, state.derived, state.verdicts))


def check_decided(
    workflow: Workflow,
    node_id: str,
    value: Any,
    run_input: Any,
    state: RunState,
    timeout: float | None = None,
) -> CheckSummary:
    """The verdict the node's rules give ``value`` in this run, now. Never raises."""
    node = workflow.nodes.get(node_id)
    if node is None:
        return unchecked(f"the workflow has no node '{node_id}' any more; nothing can check it")
    data = jsonable(value)
    if node.packs:
        try:
            context = (
                None
                if node.context is None
                else _resolve(node.context, run_input, state, state.outputs)
            )
        except (KeyError, LookupError, AttributeError, TypeError) as exc:
            return unchecked(
                f"the context '{node.context}' of node '{node_id}' has no value: {exc}"
            )
        return check_subject(node.packs, data, context, timeout)
    if isinstance(node, ToolNode):  # a tool review holds arguments, which no gate reads
        return unchecked(f"tool '{node_id}' has no rule packs; nothing can check its arguments")
    gates = gates_fed_by(workflow, node_id)
    if not gates:
        return unchecked(
            f"node '{node_id}' has no rule packs and its output feeds no checked step; "
            "nothing can check a value given in its place"
        )
    return _combine(
        [_through_gate(gate, node_id, data, run_input, state, timeout) for gate in gates]
    )


def _through_gate(
    gate: ToolNode | CheckNode,
    node_id: str,
    data: Any,
    run_input: Any,
    state: RunState,
    timeout: float | None,
) -> CheckSummary:
    """The gate's check of what it would receive with ``data`` as ``node_id``'s output."""
    outputs = {**state.outputs, node_id: data}
    try:
        if isinstance(gate, ToolNode):
            raw = {n: _resolve(r, run_input, state, outputs) for n, r in gate.input.items()}
            subject: Any = jsonable(gate.args_schema.model_validate(raw))
        else:
            subject = _resolve(gate.value, run_input, state, outputs)
        context = (
            None if gate.context is None else _resolve(gate.context, run_input, state, outputs)
        )
    except ValidationError as exc:
        return unchecked(
            f"the value would not fit the arguments of '{gate.id}': {format_validation_error(exc)}"
        )
    except (KeyError, LookupError, AttributeError, TypeError) as exc:
        return unchecked(f"'{gate.id}' could not be given the value: {exc}")
    return check_subject(gate.packs, subject, context, timeout)


def _combine(parts: list[CheckSummary]) -> CheckSummary:
    hashes = [p.facts_hash for p in parts if p.facts_hash]
    derived: dict[str, Any] = {}
    for part in parts:
        derived.update(part.derived)
    return CheckSummary(
        verdict=worst(p.verdict for p in parts),
        results=[r for p in parts for r in p.results],
        findings=[f for p in parts for f in p.findings],
        reasons=tuple(r for p in parts for r in p.reasons),
        packs=[k for p in parts for k in p.packs],
        derived=derived,
        facts="".join(p.facts for p in parts),
        facts_hash=hashlib.sha256("\0".join(sorted(hashes)).encode()).hexdigest() if hashes else "",
        rules_ms=sum(p.rules_ms for p in parts),
    )
