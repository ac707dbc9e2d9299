"""The SQL tables (SQLAlchemy Core), written once for SQLite and PostgreSQL.

Core rather than the ORM: the store's work is a handful of explicit statements inside explicit
transactions (a checkpoint, a conditional decision), and records are pydantic values, so mapped
classes would add a second model of the same rows. Indexes follow the console's queries: reviews by
status and age, by workflow, by rule (through ``findings``); runs by status / workflow / time; steps by
run in order.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "audit_log",
    "decisions",
    "effects",
    "findings",
    "leases",
    "metadata",
    "requests",
    "retention_log",
    "review_events",
    "reviews",
    "run_nodes",
    "runs",
    "schema_version",
    "sign_ins",
    "steps",
    "tool_records",
    "user_tokens",
    "users",
]

metadata = MetaData()

_ID = 36  # canonical UUID text

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("workflow", String(200), nullable=False),
    Column("workflow_ref", Text),
    Column("status", String(20), nullable=False),
    Column("input", JSON),
    Column("state", JSON, nullable=False),
    Column("current_node", String(200)),
    Column("version", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # who submitted the run (schema version 8): nobody decides a review of their own submission
    Column("submitted_by", JSON),
    Index("ix_runs_status_updated", "status", "updated_at"),
    Index("ix_runs_workflow_created", "workflow", "created_at"),
    Index("ix_runs_created", "created_at"),
)

steps = Table(
    "steps",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("node", String(200), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("inputs", JSON),
    Column("prompt", JSON),
    Column("raw_output", Text),
    Column("output", JSON),
    Column("facts", Text),
    Column("check", JSON),
    Column("verdict", String(20)),
    Column("model_ms", Float, nullable=False, default=0.0),
    Column("rules_ms", Float, nullable=False, default=0.0),
    Column("tool_ms", Float, nullable=False, default=0.0),
    Column("store_ms", Float, nullable=False, default=0.0),
    Column("tokens_in", Integer, nullable=False, default=0),
    Column("tokens_out", Integer, nullable=False, default=0),
    Column("cost", Float, nullable=False, default=0.0),
    Column("model", String(200)),
    Column("packs", JSON, nullable=False),
    Column("findings", JSON, nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # What a replay of history groups checks by (``replay_keys.py``; schema version 11)
    Column("input_hash", String(64)),
    Column("outcomes", Text),
    # One row per place in the run: a second process replaying the same step cannot insert it.
    UniqueConstraint("run_id", "seq", name="uq_steps_run_seq"),
    # The console's verdict trend reads the steps of the last days (schema version 2).
    Index("ix_steps_created", "created_at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("step_id", String(_ID), ForeignKey("steps.id")),
    Column("workflow", String(200), nullable=False),
    Column("node", String(200), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("question", Text, nullable=False, default=""),
    Column("output", JSON),
    Column("packs", JSON, nullable=False),
    Column("facts_hash", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("action", String(20)),
    Column("decided_by", String(200)),
    Column("required_role", String(20)),  # schema version 8: the least role that may decide it
    # schema version 9: who should decide it, by when, and what happens then
    Column("assigned_group", String(200)),
    Column("assigned_to", String(200)),  # a person, after a reassignment
    Column("due_at", DateTime(timezone=True)),
    Column("on_expiry", JSON),  # {"escalate_to": role} | {"default": action}
    Index("ix_reviews_status_created", "status", "created_at"),
    Index("ix_reviews_workflow_status", "workflow", "status"),
    Index("ix_reviews_run", "run_id"),
    Index("ix_reviews_status_decided", "status", "decided_at"),
    Index("ix_reviews_status_due", "status", "due_at"),  # schema version 9: what is overdue
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("review_id", String(_ID), ForeignKey("reviews.id"), nullable=False),
    Column("action", String(20), nullable=False),
    Column("who", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", Text),
    Column("output", JSON),
    Column("check", JSON),
    Column("overrides", JSON),  # schema version 4
    # Append-only and one per review: the second of two simultaneous decisions cannot land.
    UniqueConstraint("review_id", name="uq_decisions_review"),
)

effects = Table(
    "effects",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("node", String(200), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("args", JSON),
    Column("result", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Index("ix_effects_run", "run_id"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("step_id", String(_ID), ForeignKey("steps.id", ondelete="CASCADE"), nullable=False),
    Column("workflow", String(200), nullable=False),
    Column("node", String(200), nullable=False),
    Column("pack", String(200), nullable=False, default=""),
    Column("rule", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("severity", String(20), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_findings_rule_created", "rule", "created_at"),
    Index("ix_findings_step", "step_id"),
)

# --- schema version 3: one driver per run, one run per request, tools' effects in the store -------

leases = Table(
    "leases",
    metadata,
    # One row per run that is (or was) driven; the holder is a process (host:pid:token).
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("holder", String(300), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    # A caller's request id (the input's ``id``) names one run per workflow: submitting it again
    # finds that run instead of starting (and paying) a second one.
    Column("workflow", String(200), primary_key=True),
    Column("request_id", String(400), primary_key=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tool_records = Table(
    "tool_records",
    metadata,
    # A tool's side effect kept in the store (a payment), written once per idempotency key.
    Column("key", String(400), primary_key=True),
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(200), nullable=False),
    Column("data", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_tool_records_kind_created", "kind", "created_at"),
)

# --- schema version 5: the decision log (a hash chain; see store/audit.py) ------------------------

audit_log = Table(
    "audit_log",
    metadata,
    # 1-based and contiguous; the entry's number is inside its hashed body, so moving it shows.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),  # decision, resume (and what people do next)
    Column("who", String(200), nullable=False),
    # No foreign keys: the log outlives what it speaks of (a deleted run must still show).
    Column("run_id", String(_ID)),
    Column("review_id", String(_ID)),
    Column("ref", String(_ID)),  # the decision's id for a decision entry
    Column("body", Text, nullable=False),  # the canonical JSON that is hashed, exactly
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_ref", "ref"),
)

# --- schema version 7: what retention did (nesyflow retention apply) -----------------------------

retention_log = Table(
    "retention_log",
    metadata,
    # One row per run retention changed: what it removed or anonymised, what it kept and until when.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(_ID), nullable=False),
    Column("workflow", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("removed", JSON, nullable=False),
    Column("kept", JSON, nullable=False),
    Column("policy", JSON, nullable=False),
    Index("ix_retention_log_run", "run_id"),
)

# --- schema version 8: accounts (issue 12 §2) ----------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("roles", JSON, nullable=False),
    Column("groups", JSON),
    # argon2id hash (argon2-cffi); None: the account signs in only through the trusted proxy
    Column("password_hash", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

user_tokens = Table(
    "user_tokens",
    metadata,
    # one CLI token per account, kept as the SHA-256 of a 256-bit random secret (never the secret)
    Column("name", String(200), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sign_ins = Table(
    "sign_ins",
    metadata,
    # every sign-in attempt, kept: the rate limit counts recent failures per name from here
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Integer, nullable=False),
    Column("method", String(20), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_sign_ins_name_at", "name", "at"),
)

# --- schema version 9: assignment and deadlines (issue 12 §5) -------------------------------------

review_events = Table(
    "review_events",
    metadata,
    # what happened to a review besides its decision: reassigned (by whom, why), escalated or
    # defaulted when its deadline passed, a default that could not be applied
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(_ID), ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("who", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_review_events_review", "review_id"),
)

# --- schema version 10: the state a run's nodes leave, one row per (run, node) ------------------

run_nodes = Table(
    "run_nodes",
    metadata,
    # What a node left in its run (how often it ran, its output, derived values, verdict), written
    # by the checkpoint of the step that changed it, so a checkpoint writes what changed instead of
    # the whole state (``runs.state`` keeps only the run's position). ``ord`` is the order the run
    # first entered the node (the state's dicts are rebuilt in that order); ``verdict`` NULL: the
    # node was entered but has no output yet; ``derived`` NULL: none recorded.
    Column("run_id", String(_ID), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("node", String(200), primary_key=True),
    Column("ord", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("output", JSON),
    Column("derived", JSON),
    Column("verdict", String(20)),
    Column("version", Integer, nullable=False),  # the run version of the checkpoint that wrote it
)
