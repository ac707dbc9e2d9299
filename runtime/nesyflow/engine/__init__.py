"""Durable runs: walk a workflow, check every step with its rule packs, checkpoint after each step,
pause for people, resume anywhere. Imports logic, llm, graph and store; nothing imports it but
review, the CLI, the console and agents' tools (:func:`current_run`).

Modules, one job each: ``api`` (start / resume), ``runner`` (the loop and its checkpoints),
``nodes`` (what each node kind does), ``decisions`` (a person's decision continues a run),
``recheck`` (a decided value checked as the node checks its output), ``checking`` (packs → one
summary), ``reask`` (the words sent back to a model), ``run_view`` (what a tool sees of its run),
``state`` (the checkpoint), ``workflows`` (which workflow a run follows), ``services``.
"""

from nesyflow.engine.api import RunResult, load_run_workflow, resume, start_run
from nesyflow.engine.checking import CheckSummary, check_subject
from nesyflow.engine.effects import (
    AlreadyClaimed,
    OutsideRun,
    claim_once,
    record_once,
    tool_records,
)
from nesyflow.engine.recheck import check_decided
from nesyflow.engine.run_view import (
    RunView,
    current_run,
    current_store,
    effect_key,
    idempotency_key,
)
from nesyflow.engine.services import Services
from nesyflow.engine.state import Cursor, Pending, RunState

__all__ = [
    "AlreadyClaimed",
    "CheckSummary",
    "Cursor",
    "OutsideRun",
    "Pending",
    "RunResult",
    "RunState",
    "RunView",
    "Services",
    "check_decided",
    "check_subject",
    "claim_once",
    "current_run",
    "current_store",
    "effect_key",
    "idempotency_key",
    "load_run_workflow",
    "record_once",
    "resume",
    "start_run",
    "tool_records",
]
