"""Workflows: a directed graph of nodes (networkx), defined in YAML or Python, validated at load."""

from nesyflow.graph.builder import WorkflowBuilder, build_workflow
from nesyflow.graph.loader import load_workflow, parse_workflow
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
    "WorkflowBuilder",
    "build_workflow",
    "load_workflow",
    "parse_workflow",
]
