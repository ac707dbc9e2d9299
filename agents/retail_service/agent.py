"""The retail agent's workflow nodes (workflow.yaml): observe → propose → prepare → dispatch, in a loop.

Where the history lives: in the run's checkpointed state, as the ``dispatch`` node's output — a
:class:`Session` holding every call of the conversation (name, arguments, verdict, result or the
tool's refusal, whether a person approved it) and the database records the run changed. Nothing is
kept in the process: every node re-derives what it needs from the checkpoint, so a resumed run (any
process, after a crash, after a review) sees exactly what the first attempt saw.

* ``observe`` (tool) opens each turn: the latest session (``dispatch``'s output through
  :func:`nesyflow.engine.current_run`; on the first pass there is none yet, so a new one), the
  transcript the model reads, and the budget the loop rules check.
* ``propose`` (llm) writes a :class:`Proposal`: a tool name (or ``done``) and flat optional
  arguments; the step pack (step/) sends an incomplete call back to the model and routes the loop.
* ``prepare`` (tool) turns the proposal into the retail pack's ``Call`` (only the named tool's
  arguments) and builds its ``Context`` with the domain's ``build_context`` over the session's
  database copy and history.
* ``dispatch`` (tool) is checked by rules/retail with that context BEFORE it runs (deny or review →
  a person); then it runs the real tool on a fresh copy of db.json with the session's changes applied,
  and returns the longer session. A tool's own refusal (``ToolError``) is recorded for the model to
  read; it is not a crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from nesyflow._imports import load_module
from nesyflow.engine import current_run
from nesyflow.replay import ExecutedCall, History, ProposedCall, ToolError

__all__ = [
    "DOMAIN",
    "Budget",
    "CallRecord",
    "Observation",
    "Prepared",
    "Proposal",
    "RetailRequest",
    "Session",
    "dispatch",
    "observe",
    "prepare",
    "transcript",
]

_HERE = Path(__file__).resolve().parent
_domain = load_module(_HERE / "domain.py")
DOMAIN = _domain.DOMAIN
RetailDB = _domain.package("db").RetailDB  # type: ignore[attr-defined]
_retail = load_module(_HERE.parents[1] / "rules" / "retail" / "schema.py")  # the pack's models
Call = _retail.Call
Context = _retail.Context
_step = load_module(_HERE / "step" / "schema.py")
Proposal = _step.Proposal
Budget = _step.Budget

MAX_CALLS = 10  # proposals that reach a tool, per conversation (workflow.yaml bounds the loop too)


class RetailRequest(BaseModel):
    """What the customer wants (a tau2 scenario's reason for the call and what they know)."""

    reason_for_call: str
    known_info: str = ""
    # The customer's explicit "yes" to the changes their request describes, given in advance
    # (True), refused (False) or not known (None: every change goes to a person to confirm).
    confirmed: bool | None = None
    # Who was authenticated before the conversation (e.g. by a login in front of the agent).
    authenticated_user: str | None = None
    max_calls: int = Field(default=MAX_CALLS, ge=1, le=MAX_CALLS)


class CallRecord(BaseModel):
    """One call of the conversation: it ran (``verdict`` allow); ``error`` = the tool refused it."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    verdict: Literal["allow", "deny", "review"] = "allow"
    result: Any = None
    error: str | None = None
    approved: bool = False  # the rules did not allow it; a person approved (or edited) it


class Session(BaseModel):
    """The conversation so far: its calls and the database records it changed."""

    principal: str | None = None
    calls: list[CallRecord] = Field(default_factory=list)
    changes: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)

    def history(self) -> History:
        return History(
            tuple(
                ExecutedCall(c.name, c.arguments, c.verdict, c.result, c.error) for c in self.calls
            ),
            self.principal,
        )

    def database(self, path: Path | None = None) -> Any:
        """This run's database: a fresh copy of db.json with the run's changes applied."""
        return RetailDB.fresh(path).apply(self.changes)


class ObserveArgs(BaseModel):
    authenticated_user: str | None = None
    max_calls: int = MAX_CALLS


class Observation(BaseModel):
    session: Session
    transcript: str
    budget: Budget


class PrepareArgs(BaseModel):
    proposal: Proposal
    session: Session
    confirmed: bool | None = None


class Prepared(BaseModel):
    call: Call
    context: Context


# ---- the nodes ------------------------------------------------------------------------------------


def observe(args: ObserveArgs) -> Observation:
    """The state of the conversation at the start of a turn."""
    view = current_run()
    last = view.outputs.get("dispatch") if view is not None else None
    session = (
        Session.model_validate(last)
        if last is not None
        else Session(principal=args.authenticated_user)
    )
    return Observation(
        session=session,
        transcript=transcript(session),
        budget=Budget(calls=len(session.calls), limit=args.max_calls),
    )


def tool_arguments(name: str, proposal: Any) -> dict[str, Any]:
    """The named tool's arguments out of a flat proposal (or call): blanks dropped, ids trimmed."""
    fields = DOMAIN.tools[name].args.model_fields
    out: dict[str, Any] = {}
    for field in fields:
        value = getattr(proposal, field, None)
        if isinstance(value, str):
            value = value.strip()
            if not value and field != "address2":
                continue
        elif isinstance(value, list):
            value = [v.strip() for v in value if isinstance(v, str) and v.strip()]
            if not value:
                continue
        elif value is None:
            if field == "address2" and "address1" in fields:
                value = ""
            else:
                continue
        out[field] = value
    return out


def prepare(args: PrepareArgs) -> Prepared:
    """The call the rules check, and what they see of the run (``build_context``)."""
    name = args.proposal.name
    if name not in DOMAIN.tools:
        raise ValueError(f"'{name}' is not a tool; the loop should have ended")
    arguments = tool_arguments(name, args.proposal)
    call = ProposedCall(name, arguments, args.confirmed)
    session = args.session
    context = DOMAIN.build_context(session.database(), session.history(), call)
    return Prepared(
        call=Call.model_validate(DOMAIN.input_for(call)),
        context=Context.model_validate(context),
    )


def dispatch(call: Call) -> Session:  # type: ignore[valid-type]
    """Run the checked (or person-approved) call on the run's database; the longer session."""
    view = current_run()
    if view is None or "observe" not in view.outputs:
        raise RuntimeError("dispatch runs inside the retail workflow, after 'observe'")
    session = Session.model_validate(view.outputs["observe"]["session"])
    tool = DOMAIN.tools[call.name]
    arguments = tool_arguments(call.name, call)
    db = session.database()
    result: Any = None
    error: str | None = None
    try:
        result = tool.run(db, arguments)
    except ToolError as exc:
        error = exc.message
    except ValidationError as exc:
        error = "invalid arguments: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
    record = CallRecord(
        name=call.name,
        arguments=arguments,
        result=json.loads(json.dumps(result, default=str)),
        error=error,
        approved=view.approved,
    )
    return Session(
        principal=session.principal, calls=[*session.calls, record], changes=db.changes()
    )


# ---- what the model reads -------------------------------------------------------------------------


def _options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in options.items())


def _summary(name: str, result: Any) -> str:
    """A tool's result in a few lines (the model's context is 2,048 tokens)."""
    if isinstance(result, str):
        return result[:300]
    if not isinstance(result, dict):
        return json.dumps(result, default=str)[:300]
    if "order_id" in result and "items" in result:
        items = "; ".join(
            f"item_id {i['item_id']} {i['name']} (product_id {i['product_id']}, "
            f"{_options(i.get('options', {}))}) {i['price']}"
            for i in result["items"]
        )
        paid = ", ".join(
            p["payment_method_id"]
            for p in result.get("payment_history", [])
            if p["transaction_type"] == "payment"
        )
        return f"order {result['order_id']} status {result['status']}; items: {items}; paid with {paid}"
    if "payment_methods" in result and "orders" in result:
        return (
            f"user {result['user_id']}; orders: {', '.join(result['orders'])}; payment methods: "
            f"{', '.join(result['payment_methods'])}"
        )
    if "variants" in result:
        variants = [
            f"item_id {vid} ({_options(v.get('options', {}))}) {v['price']}"
            f"{'' if v.get('available') else ' unavailable'}"
            for vid, v in result["variants"].items()
        ]
        return f"product {result.get('name')} {result.get('product_id')}: " + "; ".join(
            variants[:12]
        )
    return json.dumps(result, default=str)[:300]


def transcript(session: Session) -> str:
    """The calls so far as the model reads them, one per line with its result."""
    if not session.calls:
        return "(no calls yet)"
    lines = []
    for number, c in enumerate(session.calls, start=1):
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in c.arguments.items())
        outcome = f"error: {c.error}" if c.error else _summary(c.name, c.result)
        lines.append(f"{number}. {c.name}({args}) -> {outcome}")
    return "\n".join(lines)
