"""Workflow graphs as Graphviz DOT text (drawn in the browser by ``st.graphviz_chart``; no graphviz
binary needed), nodes coloured by how often they failed or went to review over recent runs."""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["colour", "observed_dot", "workflow_dot"]

_SHAPES = {
    "llm": ("box", "rounded,filled"),
    "tool": ("box", "filled"),
    "check": ("hexagon", "filled"),
    "human": ("ellipse", "filled"),
    "branch": ("diamond", "filled"),
}


def colour(failure: float, review: float) -> str:
    """Green when nothing goes wrong, through amber (reviews) to red (failures)."""
    bad = min(1.0, failure * 2 + review)
    if bad <= 0.0:
        return "#d3f9d8"
    if bad < 0.15:
        return "#ebfbee"
    if bad < 0.35:
        return "#fff3bf"
    if bad < 0.6:
        return "#ffd8a8"
    return "#ffc9c9"


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(node_id: str, kind: str, stat: Any) -> str:
    lines = [node_id, kind]
    if stat is not None and stat.steps:
        lines.append(
            f"{stat.steps} steps · {stat.failure_rate:.0%} fail · {stat.review_rate:.0%} review"
        )
    return "\\n".join(x.replace('"', "'") for x in lines)


def _node(node_id: str, kind: str, stat: Any, start: bool) -> str:
    shape, style = _SHAPES.get(kind, ("box", "filled"))
    fill = (
        colour(stat.failure_rate, stat.review_rate)
        if stat is not None and stat.steps
        else "#f1f3f5"
    )
    pen = ",penwidth=2" if start else ""
    return (
        f'  {_q(node_id)} [label="{_label(node_id, kind, stat)}",shape={shape},'
        f'style="{style}",fillcolor="{fill}"{pen}];'
    )


def workflow_dot(flow: Any, stats: dict[str, Any]) -> str:
    """DOT for a loaded workflow: its networkx graph, edges labelled by how they are taken."""
    lines = [
        "digraph workflow {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica",fontsize=11,color="#868e96"];',
        '  edge [fontname="Helvetica",fontsize=9,color="#868e96"];',
        '  "▶ input" [shape=plaintext];',
        f'  "▶ input" -> {_q(flow.start)};',
    ]
    graph = flow.graph
    for node_id in graph.nodes:
        kind = graph.nodes[node_id].get("kind") or flow.nodes[node_id].kind
        lines.append(_node(node_id, str(kind), stats.get(node_id), node_id == flow.start))
    for src, dst, data in graph.edges(data=True):
        via = data.get("via", "next")
        label = "" if via == "next" else f' [label="{via}",style=dashed]'
        lines.append(f"  {_q(src)} -> {_q(dst)}{label};")
    lines.append("}")
    return "\n".join(lines)


def observed_dot(stats: list[Any]) -> str:
    """DOT for a workflow known only from its traces: the nodes in the order runs reach them."""
    lines = [
        "digraph observed {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica",fontsize=11,color="#868e96"];',
        '  edge [color="#adb5bd",style=dashed];',
    ]
    ordered = sorted(stats, key=lambda s: (s.first_seq, s.node))
    for stat in ordered:
        lines.append(_node(stat.node, "node", stat, False))
    for a, b in itertools.pairwise(ordered):
        lines.append(f"  {_q(a.node)} -> {_q(b.node)};")
    lines.append("}")
    return "\n".join(lines)
