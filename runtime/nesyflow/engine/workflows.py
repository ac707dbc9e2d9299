"""Which workflow a run follows: the one given, or the file the run names.

Kept apart from :mod:`nesyflow.engine.api` so the runner can load a run's workflow without
importing the API module that drives it (no ``api`` ↔ ``runner`` cycle).
"""

from __future__ import annotations

from pathlib import Path

from nesyflow.errors import InputError
from nesyflow.graph.model import Workflow
from nesyflow.store import Run

__all__ = ["as_workflow", "load_run_workflow"]


def as_workflow(workflow: Workflow | str | Path) -> Workflow:
    """A loaded workflow as it is, or the one in the file named."""
    if isinstance(workflow, Workflow):
        return workflow
    from nesyflow.graph import load_workflow  # type: ignore[attr-defined]

    return load_workflow(workflow)


def load_run_workflow(run: Run) -> Workflow:
    """The workflow a run was started with, from the file it names."""
    if not run.workflow_ref:
        raise InputError(
            f"run {run.id} was started from a workflow built in Python ({run.workflow}); "
            "pass the workflow to resume it"
        )
    return as_workflow(Path(run.workflow_ref))
