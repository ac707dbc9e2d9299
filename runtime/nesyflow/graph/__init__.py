"""Workflows: a directed graph of nodes (networkx), defined in YAML or Python, validated at load."""

from nesyflow.graph.model import (
    INPUT,
    VERDICTS,
    BranchNode,
    CheckNode,
    Condition,
    HumanNode,
    LlmNode,
    Node,
    NodeKind,
    OnFail,
    PackRef,
    Ref,
    Route,
    ToolNode,
    Verdict,
    Workflow,
)

__all__ = [
    "INPUT",
    "VERDICTS",
    "BranchNode",
    "CheckNode",
    "Condition",
    "HumanNode",
    "LlmNode",
    "Node",
    "NodeKind",
    "OnFail",
    "PackRef",
    "Ref",
    "Route",
    "ToolNode",
    "Verdict",
    "Workflow",
]
