"""Durable persistence for runs, steps, reviews, decisions and tool effects (SQLAlchemy).

``open_store()`` opens ``$NESYFLOW_DB`` (a SQLAlchemy URL) or ``./.nesyflow/store.db``. The console's
read queries are in :mod:`nesyflow.store.queries`. The store never imports the engine.
"""

from nesyflow.store.audit import AuditEntry
from nesyflow.store.audit_verify import AuditProblem, AuditReport
from nesyflow.store.base import (
    AlreadyDecided,
    Checkpoint,
    Conflict,
    DuplicateRequest,
    LeaseHeld,
    NotFound,
    Store,
    StoreError,
)
from nesyflow.store.ids import new_id
from nesyflow.store.records import (
    Action,
    Decision,
    DecisionDraft,
    Effect,
    Lease,
    Page,
    ReviewDraft,
    ReviewRecord,
    ReviewStatus,
    Run,
    RunStatus,
    Step,
    StepDraft,
    ToolRecord,
    User,
)
from nesyflow.store.sql import DEFAULT_URL, SqlStore, default_url, open_store

__all__ = [
    "DEFAULT_URL",
    "Action",
    "AlreadyDecided",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "Checkpoint",
    "Conflict",
    "Decision",
    "DecisionDraft",
    "DuplicateRequest",
    "Effect",
    "Lease",
    "LeaseHeld",
    "NotFound",
    "Page",
    "ReviewDraft",
    "ReviewRecord",
    "ReviewStatus",
    "Run",
    "RunStatus",
    "SqlStore",
    "Step",
    "StepDraft",
    "Store",
    "StoreError",
    "ToolRecord",
    "User",
    "default_url",
    "new_id",
    "open_store",
]
