"""The steps a pack checked, as the rules saw them: the value, its context and the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nesyflow.store import Store
from nesyflow.store.queries import CheckedStep, checked_steps

__all__ = ["PackStep", "pack_history"]


@dataclass(frozen=True)
class PackStep:
    """One stored check by a pack of the given name: the step, and that pack's own result."""

    step: CheckedStep
    subject: Any
    context: Any
    result: dict[str, Any]  # the CheckResult JSON this pack gave then

    @property
    def replayable(self) -> bool:
        """Whether the step kept what the rules were given (steps stored before it did, did not)."""
        return self.subject is not None


def pack_history(
    store: Store,
    pack_name: str,
    *,
    since: dt.datetime | None = None,
    workflow: str | None = None,
) -> Iterator[PackStep]:
    """Every stored step that ``pack_name`` (any version) checked, oldest first."""
    steps = checked_steps(
        store,  # type: ignore[arg-type]
        since=since,
        workflow=workflow,
        pack=pack_name,
    )
    for step in steps:
        for result in step.check.get("results") or ():
            pack = result.get("pack") if isinstance(result, dict) else None
            if isinstance(pack, dict) and pack.get("name") == pack_name:
                yield PackStep(
                    step=step,
                    subject=step.check.get("subject"),
                    context=step.check.get("context"),
                    result=result,
                )
                break
