"""The run loop: execute one step, checkpoint it, repeat until the run ends or waits for a person.

Durability rule: the only way a run moves on is :meth:`Store.checkpoint`, which writes the step row,
the new state, a tool effect's result and a new review in one transaction. A process killed between
two checkpoints loses only the step in flight; on resume that step runs again from its start, except a
tool call, which is guarded by its idempotency key (run, node, visit — the same for every attempt and
every process): a call whose result was recorded is never made again, and a call that may have
happened before the crash is made again with the same key, so the tool can recognise it.
"""

from __future__ import annotations

import contextvars
import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from nesyflow.engine.checking import CheckSummary, check_subject, pack_identities_changed
from nesyflow.engine.services import Services
from nesyflow.engine.state import Cursor, Pending, RunState
from nesyflow.graph.model import (
    BranchNode,
    CheckNode,
    Condition,
    HumanNode,
    LlmNode,
    OnFail,
    ToolNode,
    Workflow,
)
from nesyflow.store import (
    Action,
    Checkpoint,
    ReviewDraft,
    Run,
    RunStatus,
    StepDraft,
    Store,
    new_id,
)
from nesyflow.store._faults import crash_point
from nesyflow.store.leases import new_holder

__all__ = [
    "RunView",
    "Runner",
    "current_run",
    "current_store",
    "effect_key",
    "idempotency_key",
    "jsonable",
]

# Verdicts a person must see even when the policy says reask/reject: the rules could not decide
# (unknown) or asked for a person (review).
_TO_PERSON = ("review", "unknown")
_TOOL_REVIEWS = ("tool_call", "tool_args", "tool_error")


def jsonable(value: Any) -> Any:
    """Plain JSON data for a model instance, a Decimal, a date… (what the store keeps)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return to_jsonable_python(value, fallback=str)


def effect_key(run_id: str, node: str, visit: int) -> str:
    """The idempotency key of a tool call: the same for every attempt and every process."""
    return f"{run_id}:{node}:{visit}"


class _StepFailed(Exception):
    """A step could not even be attempted (a data path with no value, a template that fails)."""


class Runner:
    """Drives one run. Not shared between threads; one per ``start_run`` / ``resume`` call."""

    def __init__(self, store: Store, run: Run, workflow: Workflow | None, services: Services):
        self.store = store
        self.run = run
        self.workflow = workflow
        self.services = services
        self.state = RunState.model_validate(run.state)
        self.written = 0
        # One driver per run: this runner's name in the run's lease (taken in ``drive``, renewed
        # by every checkpoint, checked before a tool call begins, given up when ``drive`` ends).
        self.holder = new_holder()

    # -- checkpoints --------------------------------------------------------------------------
    def commit(
        self,
        step: StepDraft | None,
        *,
        status: RunStatus = RunStatus.RUNNING,
        review: ReviewDraft | None = None,
        effect: tuple[str, Any] | None = None,
        error: str | None = None,
    ) -> Checkpoint:
        current = self.state.cursor.node if self.state.cursor else self.state.next_node
        if self.state.pending is not None:
            current = self.state.pending.node
        saved = self.store.checkpoint(
            self.run.id,
            expect_version=self.run.version,
            state=self.state.dump(),
            current_node=current,
            status=status,
            step=step,
            review=review,
            effect=effect,
            error=error,
            lease=self.holder,
        )
        self.run = saved.run
        self.written += 1 if step is not None else 0
        return saved

    # -- the loop -----------------------------------------------------------------------------
    def drive(self) -> Run:
        """Run steps until the run finishes or waits for a person; returns the run as stored.

        Holds the run's lease throughout (raises :class:`~nesyflow.store.LeaseHeld` if another
        process drives the run) and reads the run again once it holds it, so it continues from
        what the previous driver last checkpointed."""
        self.store.acquire_lease(self.run.id, self.holder)
        try:
            self.run = self.store.get_run(self.run.id)
            self.state = RunState.model_validate(self.run.state)
            if self.run.status is RunStatus.WAITING_REVIEW and not self.apply_decision():
                return self.run
            while self.run.status is RunStatus.RUNNING:
                self.step()
            return self.run
        finally:
            self.store.release_lease(self.run.id, self.holder)

    def step(self) -> None:
        workflow = self._workflow()
        if self.state.cursor is None:
            node_id = self.state.next_node
            if node_id is None:
                self.commit(None, status=RunStatus.COMPLETED)
                return
            node = workflow.nodes.get(node_id)
            if node is None:
                self._fail_run(node_id, f"the workflow has no node '{node_id}' (was it edited?)")
                return
            visit = self.state.visits.get(node_id, 0) + 1
            if node.max_visits is not None and visit > node.max_visits:
                self._fail_run(
                    node_id,
                    f"node '{node_id}' would run a {visit}th time "
                    f"(max_visits is {node.max_visits})",
                )
                return
            self.state.visits[node_id] = visit
            self.state.cursor = Cursor(node=node_id, visit=visit)
        node = workflow.node(self.state.cursor.node)
        try:
            if isinstance(node, LlmNode):
                self._llm(node)
            elif isinstance(node, ToolNode):
                self._tool(node)
            elif isinstance(node, CheckNode):
                self._check(node)
            elif isinstance(node, HumanNode):
                self._human(node)
            elif isinstance(node, BranchNode):
                self._branch(node)
            else:  # pragma: no cover - the model admits no other kinds
                self._fail_run(node.id, f"unknown node kind {node.kind!r}")
        except _StepFailed as exc:
            self._fail_run(node.id, str(exc))

    def _workflow(self) -> Workflow:
        if self.workflow is None:
            from nesyflow.engine.api import load_run_workflow

            self.workflow = load_run_workflow(self.run)
        return self.workflow

    # -- helpers ------------------------------------------------------------------------------
    def _resolve(self, ref: Any, what: str) -> Any:
        try:
            return ref.resolve(
                self.run.input, self.state.outputs, self.state.derived, self.state.verdicts
            )
        except (KeyError, LookupError, AttributeError, TypeError) as exc:
            raise _StepFailed(
                f"{what}: '{ref}' has no value ({type(exc).__name__}: {exc})"
            ) from None

    def _inputs(self, node: Any) -> dict[str, Any]:
        return {
            name: self._resolve(ref, f"input '{name}' of node '{node.id}'")
            for name, ref in node.input.items()
        }

    def _context(self, node: Any) -> Any:
        return None if node.context is None else jsonable(self._resolve(node.context, "context"))

    def _check(self, node: CheckNode) -> None:
        value = jsonable(self._resolve(node.value, f"value of check node '{node.id}'"))
        summary = check_subject(node.packs, value, self._context(node), self.services.check_timeout)
        step = self._step(node, "check", inputs=value, output=value, summary=summary)
        if summary.verdict == "pass":
            self._advance(node, value, summary, step)
        else:
            self._on_fail(node, step, summary, value, kind="output", reaskable=False)

    def _step(
        self, node: Any, kind: str, *, summary: CheckSummary | None = None, **fields: Any
    ) -> StepDraft:
        cur = self.state.cursor
        extra: dict[str, Any] = {}
        if summary is not None:
            extra = {
                "check": summary.json(),
                "verdict": summary.verdict,
                "facts": summary.facts,
                "rules_ms": summary.rules_ms,
                "packs": summary.packs,
                "findings": summary.findings,
            }
        return StepDraft(
            node=node.id,
            visit=cur.visit if cur else self.state.visits.get(node.id, 1),
            attempt=cur.attempt if cur else 1,
            kind=kind,
            **extra,
            **fields,
        )

    def _advance(
        self,
        node: Any,
        output: Any,
        summary: CheckSummary | None,
        step: StepDraft,
        *,
        effect: tuple[str, Any] | None = None,
        to: str | None = None,
        verdict: str | None = None,
    ) -> None:
        """The node is done: record its output and move to the next node, in one checkpoint."""
        self.state.outputs[node.id] = output
        if summary is not None:
            self.state.derived[node.id] = summary.derived
        self.state.verdicts[node.id] = verdict or (summary.verdict if summary else "pass")
        self.state.cursor = None
        self.state.next_node = to if isinstance(node, BranchNode) else node.next
        self.commit(step, effect=effect)

    def _fail_run(self, node_id: str, message: str) -> None:
        self.state.cursor = None
        step = StepDraft(
            node=node_id,
            visit=self.state.visits.get(node_id, 1),
            kind="error",
            error=message,
            verdict="unknown",
        )
        self.commit(step, status=RunStatus.FAILED, error=message)

    def _then(self, on_fail: OnFail) -> str:
        """What happens once retries are spent (or for a node that cannot reask)."""
        if on_fail.policy == "reject":
            return "reject"
        if on_fail.policy == "human":
            return "human"
        return on_fail.then

    def _on_fail(
        self,
        node: Any,
        step: StepDraft,
        summary: CheckSummary | None,
        held: Any,
        *,
        kind: str,
        reaskable: bool,
        reasons: list[dict[str, Any]] | None = None,
        verdict: str | None = None,
    ) -> None:
        """Route a step that did not pass: reask (if allowed and budget left), a person, or reject."""
        verdict = verdict or (summary.verdict if summary else "unknown")
        reasons = reasons if reasons is not None else (summary.reasons if summary else [])
        cur = self.state.cursor
        assert cur is not None
        if verdict in _TO_PERSON:
            action = "human"
        elif (
            reaskable and node.on_fail.policy == "reask" and cur.attempt <= node.on_fail.max_reasks
        ):
            action = "reask"
        else:
            action = self._then(node.on_fail)
        if action == "reask":
            cur.messages = [*cur.messages, *_feedback(step, reasons)]
            cur.attempt += 1
            self.commit(step)
        elif action == "reject":
            self.state.cursor = None
            self.commit(
                step,
                status=RunStatus.REJECTED,
                error=f"node '{node.id}': {verdict}: " + _sentences(reasons),
            )
        else:
            self._open_review(
                node,
                step,
                kind=kind,
                verdict=verdict,
                reasons=reasons,
                output=held,
                summary=summary,
            )

    def _open_review(
        self,
        node: Any,
        step: StepDraft,
        *,
        kind: str,
        verdict: str,
        reasons: list[dict[str, Any]],
        output: Any,
        summary: CheckSummary | None,
        question: str = "",
    ) -> None:
        cur = self.state.cursor
        visit = cur.visit if cur else self.state.visits.get(node.id, 1)
        review_id = new_id()
        self.state.pending = Pending(review_id=review_id, node=node.id, visit=visit, kind=kind)
        review = ReviewDraft(
            id=review_id,
            node=node.id,
            visit=visit,
            kind=kind,
            verdict=verdict,
            reasons=reasons,
            question=question,
            output=output,
            packs=summary.packs if summary else [],
            facts_hash=summary.facts_hash if summary else "",
        )
        self.commit(step, status=RunStatus.WAITING_REVIEW, review=review)

    # -- node kinds ---------------------------------------------------------------------------
    def _llm(self, node: LlmNode) -> None:
        cur = self.state.cursor
        assert cur is not None
        if not cur.messages:
            variables = self._inputs(node)
            try:
                cur.messages = list(self.services.llm_render()(node.system, node.prompt, variables))
            except Exception as exc:
                raise _StepFailed(f"prompt of node '{node.id}' does not render: {exc}") from None
        model = self.services.model_for(node.model, self._workflow().model)
        crash_point("llm:before")
        started = time.perf_counter()
        try:
            call = self.services.llm_generate()(model, cur.messages, node.output)
            output, error, raw = call.output, call.error, call.raw
        except Exception as exc:  # provider down, script exhausted…: a failed step, not a crash
            call, output, raw = None, None, None
            error = f"{type(exc).__name__}: {exc}"
        model_ms = (time.perf_counter() - started) * 1000
        crash_point("llm:after")
        usage = {
            "model": model,
            "prompt": cur.messages,
            "raw_output": raw,
            "model_ms": model_ms,
            "tokens_in": int(getattr(call, "tokens_in", 0) or 0),
            "tokens_out": int(getattr(call, "tokens_out", 0) or 0),
            "cost": float(getattr(call, "cost", 0.0) or 0.0),
        }
        if output is None:
            message = f"the model's answer could not be used: {error or 'no output'}"
            step = self._step(node, "llm", error=message, verdict="unknown", **usage)
            reasons = [{"rule": None, "kind": "parse", "message": message, "plain": message}]
            # A parse failure is a step failure: reasked like a violation, then the policy.
            self._on_fail(
                node,
                step,
                None,
                None,
                kind="output",
                reaskable=True,
                reasons=reasons,
                verdict="fail",
            )
            return
        data = jsonable(output)
        summary = check_subject(
            node.packs, output, self._context(node), self.services.check_timeout
        )
        step = self._step(node, "llm", output=data, summary=summary, **usage)
        if summary.verdict == "pass":
            self._advance(node, data, summary, step)
        else:
            self._on_fail(node, step, summary, data, kind="output", reaskable=True)

    def _tool(self, node: ToolNode) -> None:
        cur = self.state.cursor
        assert cur is not None
        summary: CheckSummary | None = None
        if cur.approved_set:
            args_data = cur.approved  # a person approved (or edited) these arguments
        else:
            data = {}
            for name, ref in node.input.items():
                data[name] = jsonable(self._resolve(ref, f"argument '{name}' of tool '{node.id}'"))
            try:
                args = node.args_schema.model_validate(data)
            except ValidationError as exc:
                message = f"the arguments for tool '{node.id}' are not valid: {_short(exc)}"
                step = self._step(node, "tool", inputs=data, error=message, verdict="unknown")
                self._open_review(
                    node,
                    step,
                    kind="tool_args",
                    verdict="unknown",
                    output=data,
                    reasons=[{"rule": None, "kind": "args", "message": message}],
                    summary=None,
                )
                return
            args_data = jsonable(args)
            # The proposed call is checked BEFORE it runs: a deny stops it here.
            summary = check_subject(
                node.packs, args, self._context(node), self.services.check_timeout
            )
            if summary.verdict != "pass" and not _all_accepted(summary, self.state.accepted):
                step = self._step(node, "tool_check", inputs=args_data, summary=summary)
                self._on_fail(node, step, summary, args_data, kind="tool_call", reaskable=False)
                return
        self._execute(node, args_data, summary)

    def _execute(self, node: ToolNode, args_data: Any, summary: CheckSummary | None) -> None:
        cur = self.state.cursor
        assert cur is not None
        key = effect_key(self.run.id, node.id, cur.visit)
        effect = self.store.begin_effect(
            key, self.run.id, node.id, cur.visit, args_data, lease=self.holder
        )
        crash_point("tool:begun")
        started = time.perf_counter()
        if effect.status == "done":  # recorded by an earlier process: never call again
            result, replayed = effect.result, True
        else:
            replayed = False
            try:
                args = node.args_schema.model_validate(args_data)
                crash_point("tool:before")
                value = _call_tool(node.tool, args, key, self._view(node), self.store)
                crash_point("tool:after")
                if node.output is not None and not isinstance(value, node.output):
                    value = node.output.model_validate(jsonable(value))
                result = jsonable(value)
            except Exception as exc:
                message = f"tool '{node.id}' failed: {type(exc).__name__}: {exc}"
                step = self._step(
                    node,
                    "tool",
                    inputs=args_data,
                    error=message,
                    verdict="unknown",
                    tool_ms=(time.perf_counter() - started) * 1000,
                )
                self._open_review(
                    node,
                    step,
                    kind="tool_error",
                    verdict="unknown",
                    output=args_data,
                    reasons=[{"rule": None, "kind": "tool_error", "message": message}],
                    summary=summary,
                )
                return
        step = self._step(
            node,
            "tool",
            inputs={"args": args_data, "idempotency_key": key, "replayed": replayed},
            output=result,
            summary=summary,
            tool_ms=(time.perf_counter() - started) * 1000,
        )
        self._advance(
            node, result, summary, step, effect=None if replayed else (key, result), verdict="pass"
        )

    def _view(self, node: ToolNode) -> RunView:
        """The checkpointed run as the tool about to run may read it (deep copies: read-only)."""
        cur = self.state.cursor
        assert cur is not None
        return RunView(
            run_id=self.run.id,
            workflow=self.run.workflow,
            node=node.id,
            visit=cur.visit,
            input=copy.deepcopy(self.run.input),
            outputs=copy.deepcopy(self.state.outputs),
            derived=copy.deepcopy(self.state.derived),
            verdicts=dict(self.state.verdicts),
            visits=dict(self.state.visits),
            approved=cur.approved_set,
            overrides=copy.deepcopy(self.state.overrides),
        )

    def _human(self, node: HumanNode) -> None:
        value = None if node.value is None else jsonable(self._resolve(node.value, "value"))
        summary = None
        verdict = "review"
        if node.packs and value is not None:
            summary = check_subject(
                node.packs, value, self._context(node), self.services.check_timeout
            )
            verdict = "review" if summary.verdict == "pass" else summary.verdict
        step = self._step(node, "human", inputs=value, summary=summary)
        if summary is not None:
            step = step.model_copy(update={"verdict": verdict})
        reasons = summary.reasons if summary else []
        self._open_review(
            node,
            step,
            kind="human",
            verdict=verdict,
            reasons=reasons,
            output=value,
            summary=summary,
            question=node.question,
        )

    def _branch(self, node: BranchNode) -> None:
        target = node.default
        chosen = "default"
        for number, route in enumerate(node.routes):
            if self._holds(route.when):
                target, chosen = route.to, f"route {number + 1}"
                break
        step = self._step(node, "branch", output={"to": target, "by": chosen})
        self._advance(node, {"to": target}, None, step, to=target, verdict="pass")

    def _holds(self, cond: Condition) -> bool:
        if cond.verdict is not None and self.state.verdicts.get(cond.node) not in cond.verdict:
            return False
        if cond.derived:
            have = self.state.derived.get(cond.node, {})
            return all(k in have and have[k] == jsonable(v) for k, v in cond.derived.items())
        return True

    # -- decisions ----------------------------------------------------------------------------
    def apply_decision(self) -> bool:
        """Continue a paused run from its review's decision; False if it must still wait."""
        pending = self.state.pending
        if pending is None:  # waiting with nothing to wait on: continue (defensive)
            self.commit(None)
            return True
        review = self.store.get_review(pending.review_id)
        decision = self.store.decision_for(review.id)
        if decision is None:
            return False
        note = {
            "review_id": review.id,
            "action": decision.action.value,
            "who": decision.who,
            "comment": decision.comment,
        }
        if decision.overrides:
            note["overrides"] = decision.overrides
        step = StepDraft(
            node=review.node,
            visit=review.visit,
            kind="decision",
            inputs=note,
            output=decision.output if decision.action is Action.EDIT else None,
            verdict=review.verdict,
        )
        if decision.action is Action.REJECT:
            self.state.pending = None
            self.state.cursor = None
            self.commit(
                step,
                status=RunStatus.REJECTED,
                error=f"rejected by {decision.who}"
                + (f": {decision.comment}" if decision.comment else ""),
            )
            return False
        node = self._workflow().node(review.node)
        value = decision.output if decision.action is Action.EDIT else review.output
        bound = (decision.check or {}).get("verdict") if decision.action is Action.EDIT else None
        bound = bound or review.verdict
        subject_packs = node.packs
        summary: CheckSummary | None = None
        if (
            subject_packs
            and review.packs
            and value is not None
            and pack_identities_changed(review.packs, subject_packs)
        ):
            # The approval was given under other rules: check again; a changed verdict goes back
            # to a person with the new reasons.
            summary = check_subject(
                subject_packs, value, self._context(node), self.services.check_timeout
            )
            if summary.verdict != bound:
                self.state.pending = None
                self.state.cursor = self.state.cursor or Cursor(node=node.id, visit=review.visit)
                recheck = StepDraft(
                    node=node.id,
                    visit=review.visit,
                    kind="recheck",
                    output=value,
                    inputs={**note, "was": bound},
                    check=summary.json(),
                    verdict=summary.verdict,
                    facts=summary.facts,
                    rules_ms=summary.rules_ms,
                    packs=summary.packs,
                    findings=summary.findings,
                )
                self._open_review(
                    node,
                    recheck,
                    kind=review.kind,
                    verdict=summary.verdict,
                    reasons=summary.reasons,
                    output=value,
                    summary=summary,
                )
                return False
        self.state.pending = None
        # What the person decided over counts as decided for the rest of the run (see _all_accepted).
        decided_reasons = list(review.reasons) if decision.action is Action.APPROVE else []
        if decision.action is Action.EDIT:
            decided_reasons = list((decision.check or {}).get("reasons") or [])
        self.state.accepted = sorted(
            {*self.state.accepted, *(_reason_key(r) for r in decided_reasons)}
        )
        if decision.overrides:
            self.state.overrides[node.id] = dict(decision.overrides)
        if review.kind in _TOOL_REVIEWS:
            self.state.cursor = Cursor(
                node=node.id, visit=review.visit, approved=value, approved_set=True
            )
            self.commit(step)
            return True
        self.state.cursor = Cursor(node=node.id, visit=review.visit)
        verdict = "pass" if decision.action is Action.EDIT else review.verdict
        if summary is None and decision.action is Action.EDIT and decision.check:
            self.state.derived[node.id] = dict(decision.check.get("derived") or {})
        self._advance(node, value, summary, step, verdict=verdict)
        return True


def _reason_key(reason: dict[str, Any]) -> str:
    """A finding as one comparable string: pack, kind, rule and which instance (or, for a missing
    fact or an unknown, its message)."""
    what = reason.get("detail") if reason.get("rule") else reason.get("message")
    what_text = json.dumps(jsonable(what), sort_keys=True)
    return f"{reason.get('pack')}|{reason.get('kind')}|{reason.get('rule')}|{what_text}"


def _all_accepted(summary: CheckSummary, accepted: list[str]) -> bool:
    """Whether every reason the rules give against a tool call is one a person already decided
    over in this run (an approval over it, an edit that kept it). A verdict with no reasons (it
    should not happen) or any new reason is not accepted: it goes to a person."""
    if not summary.reasons or not accepted:
        return False
    have = set(accepted)
    return all(_reason_key(r) in have for r in summary.reasons)


def _feedback(step: StepDraft, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reask turn: the model's answer, then the violations in plain words."""
    lines = [f"- {r.get('plain') or r.get('message')}" for r in reasons] or ["- (no reason given)"]
    return [
        {"role": "assistant", "content": step.raw_output or ""},
        {
            "role": "user",
            "content": "Your answer breaks these rules:\n"
            + "\n".join(lines)
            + "\nAnswer again with every field corrected so that no rule is broken.",
        },
    ]


def _sentences(reasons: list[dict[str, Any]]) -> str:
    return "; ".join(str(r.get("message")) for r in reasons) or "no reason given"


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:5]
    )


_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "nesyflow_effect_key", default=None
)


def idempotency_key() -> str | None:
    """Inside a tool call: the call's idempotency key (run:node:visit), else ``None``.

    A tool with an external side effect passes it on (as an ``Idempotency-Key`` header, a unique
    column, a file marker) so that a call repeated after a crash is recognised and not done twice.
    """
    return _KEY.get()


@dataclass(frozen=True)
class RunView:
    """What a tool may read of its own run while it runs: the checkpointed state, as JSON copies.

    ``outputs`` / ``derived`` / ``verdicts`` are the latest of each node (on a cycle, the previous
    visit's until the node runs again), ``visits`` how often each node has run, ``approved`` whether
    the arguments are a person's approval (or edit) of a call the rules did not allow. It is the
    state the run was checkpointed in, so a call made again after a crash or on resume sees exactly
    what the first attempt saw. Data paths (``input:``) stay the way to give a tool its arguments;
    this is for what a data path cannot name, e.g. a node's output that does not exist yet on the
    first pass through a cycle (a conversation's history carried by the loop).
    """

    run_id: str
    workflow: str
    node: str
    visit: int
    input: Any
    outputs: Mapping[str, Any]
    derived: Mapping[str, Mapping[str, Any]]
    verdicts: Mapping[str, str]
    visits: Mapping[str, int]
    approved: bool = False
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_RUN: contextvars.ContextVar[RunView | None] = contextvars.ContextVar(
    "nesyflow_run_view", default=None
)


def current_run() -> RunView | None:
    """Inside a tool call: the :class:`RunView` of the run making it, else ``None``."""
    return _RUN.get()


_STORE: contextvars.ContextVar[Store | None] = contextvars.ContextVar(
    "nesyflow_tool_store", default=None
)


def current_store() -> Store | None:
    """Inside a tool call: the store of the run making it (for :func:`nesyflow.engine.record_once`
    and reading what earlier calls kept there), else ``None``."""
    return _STORE.get()


def _call_tool(
    tool: Any,
    args: BaseModel,
    key: str,
    view: RunView | None = None,
    store: Store | None = None,
) -> Any:
    """Call the tool with its argument model, with :func:`idempotency_key`,
    :func:`current_run` and :func:`current_store` set for the call."""
    token = _KEY.set(key)
    run_token = _RUN.set(view)
    store_token = _STORE.set(store)
    try:
        return tool(args)
    finally:
        _STORE.reset(store_token)
        _RUN.reset(run_token)
        _KEY.reset(token)
