"""Checking proposed tool calls with rules over the whole run, and replaying recorded call sequences.

A pack that checks tool calls declares a context model; a domain's context builder fills it from the
run's :class:`History` and the domain's state (the touched records only); :func:`check_call` gives
``allow`` / ``deny`` / ``review``; :func:`replay` runs whole sequences against a fresh state each.
"""

from nesyflow.replay.domain import (
    ContextBuilder,
    Domain,
    Tool,
    ToolError,
    ToolRegistry,
    load_domain,
)
from nesyflow.replay.history import CallVerdict, ExecutedCall, History, ProposedCall
from nesyflow.replay.run import (
    ActionOutcome,
    ActionSequence,
    read_sequences,
    replay,
    replay_sequence,
)
from nesyflow.replay.toolcheck import CallCheck, Reason, check_call

__all__ = [
    "ActionOutcome",
    "ActionSequence",
    "CallCheck",
    "CallVerdict",
    "ContextBuilder",
    "Domain",
    "ExecutedCall",
    "History",
    "ProposedCall",
    "Reason",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "check_call",
    "load_domain",
    "read_sequences",
    "replay",
    "replay_sequence",
]
