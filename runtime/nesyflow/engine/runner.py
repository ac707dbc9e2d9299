"""The run loop: execute one step, checkpoint it, repeat until the run ends or waits for a person.

Durability rule: the only way a run moves on is :meth:`Store.checkpoint`, which writes the step row,
the new state, a tool effect's result and a new review in one transaction. A process killed between
two checkpoints loses only the step in flight; on resume that step runs again from its start, except a
tool call, which is guarded by its idempotency key (run, node, visit — the same for every attempt and
every process): a call whose result was recorded is never made again, and a call that may have
happened before the crash is made again with the same key, so the tool can recognise it.

Supersteps: the independent branches of a fan-out (consecutive llm/check nodes that read nothing
produced among them, :meth:`Workflow.joins_superstep`) are each run and checked as any step, but
a passing one is held in memory and written with the superstep's last step — or with the first
step that does not pass — in ONE checkpoint. A crash before that write loses the whole superstep,
which runs again on resume (its model calls are made again: the price of one write instead of one
per branch); nothing of it was counted, so nothing counts twice.

What each node kind does is in :mod:`nesyflow.engine.nodes`; how a decision continues a run in
:mod:`nesyflow.engine.decisions`; this module keeps the loop, the checkpoint and the routing of a
step that did not pass.
"""

from __future__ import annotations

import time
from typing import Any

from nesyflow.engine import decisions, nodes, tracing
from nesyflow.engine.checking import CheckSummary
from nesyflow.engine.governance import Classes, workflow_classes
from nesyflow.engine.nodes import StepFailed
from nesyflow.engine.reask import feedback
from nesyflow.engine.roles import required_role
from nesyflow.engine.services import Services
from nesyflow.engine.state import Cursor, Pending, RunState, jsonable
from nesyflow.engine.workflows import load_run_workflow
from nesyflow.graph.model import BranchNode, OnFail, ReviewPolicy, Workflow
from nesyflow.logic.result import Reason, Verdict, reason_lines
from nesyflow.store import Checkpoint, ReviewDraft, Run, RunStatus, StepDraft, Store, new_id
from nesyflow.store.leases import new_holder

__all__ = ["Runner"]

# Verdicts a person must see even when the policy says reask/reject: the rules could not decide
# (unknown) or asked for a person (review).
_TO_PERSON = (Verdict.REVIEW, Verdict.UNKNOWN)


class Runner:
    """Drives one run. Not shared between threads; one per ``start_run`` / ``resume`` call."""

    def __init__(
        self,
        store: Store,
        run: Run,
        workflow: Workflow | None,
        services: Services,
        *,
        holder: str | None = None,
    ):
        self.store = store
        self.run = run
        self.workflow = workflow
        self.services = services
        self.load(run)
        self.written = 0
        # The superstep in progress: its passing steps, not yet written (``advance``), and the
        # time of the last write (a superstep is written before it outlasts half the lease).
        self.held: list[StepDraft] = []
        self.held_nodes: set[str] = set()
        self.wrote_at = time.monotonic()
        self._classes: Classes | None = None
        # One driver per run: this runner's name in the run's lease (taken in ``drive``, renewed
        # by every checkpoint, checked before a tool call begins, given up when ``drive`` ends).
        self.holder = holder or new_holder()
        self.released = False  # the last checkpoint gave the lease up (see ``drive``)

    # -- checkpoints --------------------------------------------------------------------------
    def load(self, run: Run) -> None:
        """Continue from ``run`` as the store has it (its whole state). The first checkpoint after
        a load writes every node's row once (cheap, once per drive), so a run whose state was
        written whole by an older nesyflow moves to the per-node layout without losing a value."""
        self.run = run
        self.state = RunState.model_validate(run.state)
        self.order = {node: i for i, node in enumerate(self.state.nodes())}
        self.touched: dict[str, None] = dict.fromkeys(self.order)

    def touch(self, node: str) -> None:
        """``node``'s visits, output, derived values or verdict changed: the next checkpoint
        writes its row. Every change to those four dicts goes through here — a change not
        touched would be lost on resume (tests/engine/test_state_deltas.py replays the shipped
        agents to prove the rebuilt state equals the state the engine held, step by step)."""
        if node not in self.order:
            self.order[node] = len(self.order)
        self.touched[node] = None

    def commit(
        self,
        step: StepDraft | None,
        *,
        status: RunStatus = RunStatus.RUNNING,
        review: ReviewDraft | None = None,
        effect: tuple[str, Any] | None = None,
        error: str | None = None,
    ) -> Checkpoint:
        """Write ``step`` — after the superstep's held steps, if any — with the run's position and
        the nodes changed since the last write, in one checkpoint."""
        current = self.state.cursor.node if self.state.cursor else self.state.next_node
        if self.state.pending is not None:
            current = self.state.pending.node
        nodes = [self.state.node_state(n, self.order[n]) for n in self.touched]
        held, self.held, self.held_nodes = self.held, [], set()
        # a finished run's drive ends here: the lease goes with this checkpoint (a run waiting
        # for a person may still move on in this drive — a decision's recheck — so it keeps it)
        last = status.finished
        saved = self.store.checkpoint(
            self.run.id,
            expect_version=self.run.version,
            state=self.state.position(),
            nodes=nodes,
            current_node=current,
            status=status,
            step=step,
            steps=held,
            review=review,
            effect=effect,
            error=error,
            lease=self.holder,
            release=last,
        )
        self.released = last
        self.run = saved.run
        self.touched.clear()
        self.written += len(saved.steps)
        self.wrote_at = time.monotonic()
        tracing.checkpointed(saved)
        return saved

    # -- the loop -----------------------------------------------------------------------------
    def drive(self, *, created: bool = False) -> Run:
        """Run steps until the run finishes or waits for a person; returns the run as stored.

        Holds the run's lease throughout (raises :class:`~nesyflow.store.LeaseHeld` if another
        process drives the run) and reads the run again once it holds it, so it continues from
        what the previous driver last checkpointed. ``created``: this runner's run was just
        created with its lease in the same transaction (``create_run(lease=)``), so there is no
        lease to take and nothing newer to read."""
        if not created:
            self.store.acquire_lease(self.run.id, self.holder)
        self.released = False  # set by the checkpoint that ends the drive and gives the lease up
        try:
            if not created:
                self.load(self.store.get_run(self.run.id))
            with tracing.segment(self):
                if self.run.status is not RunStatus.WAITING_REVIEW or self._apply_decision():
                    while self.run.status is RunStatus.RUNNING:
                        self.step()
            # a checkpoint hands back the run row's position only; the caller gets it whole
            return self.run.model_copy(update={"state": self.state.dump()})
        finally:
            if not self.released:  # an error, or a drive that ended without a checkpoint
                self.store.release_lease(self.run.id, self.holder)

    def _apply_decision(self) -> bool:
        pending = self.state.pending
        with tracing.step_span(self, pending.node if pending else "?", "decision"):
            return decisions.apply_decision(self)

    def step(self) -> None:
        workflow = self.flow()
        if self.state.cursor is None:
            node_id = self.state.next_node
            if node_id is None:
                self.commit(None, status=RunStatus.COMPLETED)
                return
            node = workflow.nodes.get(node_id)
            if node is None:
                self.fail_run(node_id, f"the workflow has no node '{node_id}' (was it edited?)")
                return
            visit = self.state.visits.get(node_id, 0) + 1
            if node.max_visits is not None and visit > node.max_visits:
                self.fail_run(
                    node_id,
                    f"node '{node_id}' would run a {visit}th time "
                    f"(max_visits is {node.max_visits})",
                )
                return
            self.state.visits[node_id] = visit
            self.touch(node_id)
            self.state.cursor = Cursor(node=node_id, visit=visit)
        node = workflow.node(self.state.cursor.node)
        with tracing.step_span(self, node.id) as sp:
            sp.set(**{"nesyflow.node.kind": node.kind})
            try:
                nodes.run_node(self, node)
            except StepFailed as exc:
                self.fail_run(node.id, str(exc))

    def classes(self) -> Classes:
        """What is sensitive / must be kept in this run: as recorded when it started, or — for a
        run recorded before classes were, or a workflow that declares none — computed from the
        workflow once per driver (per step, it made each remote model call walk every node)."""
        if self._classes is None:
            self._classes = self.state.classes or workflow_classes(self.flow())
        return self._classes

    def flow(self) -> Workflow:
        """The run's workflow (loaded from the file the run names when none was given)."""
        if self.workflow is None:
            self.workflow = load_run_workflow(self.run)
        return self.workflow

    # -- helpers for the node handlers ---------------------------------------------------------
    def resolve(self, ref: Any, what: str) -> Any:
        try:
            return ref.resolve(
                self.run.input, self.state.outputs, self.state.derived, self.state.verdicts
            )
        except (KeyError, LookupError, AttributeError, TypeError) as exc:
            raise StepFailed(
                f"{what}: '{ref}' has no value ({type(exc).__name__}: {exc})"
            ) from None

    def inputs(self, node: Any) -> dict[str, Any]:
        return {
            name: self.resolve(ref, f"input '{name}' of node '{node.id}'")
            for name, ref in node.input.items()
        }

    def context(self, node: Any) -> Any:
        return None if node.context is None else jsonable(self.resolve(node.context, "context"))

    def step_draft(
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

    def advance(
        self,
        node: Any,
        output: Any,
        summary: CheckSummary | None,
        step: StepDraft,
        *,
        effect: tuple[str, Any] | None = None,
        to: str | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        """The node is done: record its output and move to the next node, in one checkpoint — or,
        when the next node joins this node's superstep, held for that superstep's checkpoint."""
        self.state.outputs[node.id] = output
        self.touch(node.id)
        if summary is not None:
            self.state.derived[node.id] = summary.derived
        self.state.verdicts[node.id] = verdict or (summary.verdict if summary else Verdict.PASS)
        self.state.cursor = None
        self.state.next_node = to if isinstance(node, BranchNode) else node.next
        if effect is None and self._holds(node, step):
            self.held.append(step)
            return
        # After the last node the run ends in this same checkpoint (not in a second one).
        done = self.state.next_node is None
        self.commit(step, effect=effect, status=RunStatus.COMPLETED if done else RunStatus.RUNNING)

    def _holds(self, node: Any, step: StepDraft) -> bool:
        """Whether the step just passed waits for its superstep's write: it is the node's own
        passing step (not a person's decision), the next node joins the superstep, and the
        superstep has been held less than half the run's lease (a live driver renews its lease
        only by writing, and must never lose the run to a takeover while it holds steps).
        The node joins ``held_nodes`` either way: if not held, ``commit`` clears them."""
        flow = self.flow()
        if step.kind != node.kind or self.state.verdicts[node.id] is not Verdict.PASS:
            return False
        if not self.held and not flow.joins_superstep(node.id, ()):
            return False  # a superstep is made of member kinds only
        self.held_nodes.add(node.id)
        if not flow.joins_superstep(self.state.next_node, self.held_nodes):
            return False
        lease = getattr(self.store, "lease_seconds", 0.0)
        return time.monotonic() - self.wrote_at < lease / 2

    def fail_run(self, node_id: str, message: str) -> None:
        self.state.cursor = None
        step = StepDraft(
            node=node_id,
            visit=self.state.visits.get(node_id, 1),
            kind="error",
            error=message,
            verdict=Verdict.UNKNOWN,
        )
        self.commit(step, status=RunStatus.FAILED, error=message)

    def on_fail(
        self,
        node: Any,
        step: StepDraft,
        summary: CheckSummary | None,
        held: Any,
        *,
        kind: str,
        reaskable: bool,
        reasons: tuple[Reason, ...] | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        """Route a step that did not pass: reask (if allowed and budget left), a person, or reject."""
        verdict = verdict or (summary.verdict if summary else Verdict.UNKNOWN)
        reasons = reasons if reasons is not None else (summary.reasons if summary else ())
        cur = self.state.cursor
        assert cur is not None
        if verdict in _TO_PERSON:
            action = "human"
        elif (
            reaskable and node.on_fail.policy == "reask" and cur.attempt <= node.on_fail.max_reasks
        ):
            action = "reask"
        else:
            action = _then(node.on_fail)
        if action == "reask":
            cur.messages = [*cur.messages, *feedback(step.raw_output, reasons)]
            cur.attempt += 1
            self.commit(step)
        elif action == "reject":
            self.state.cursor = None
            self.commit(
                step,
                status=RunStatus.REJECTED,
                error=f"node '{node.id}': {verdict.value}: " + reason_lines(reasons),
            )
        else:
            self.open_review(
                node,
                step,
                kind=kind,
                verdict=verdict,
                reasons=reasons,
                output=held,
                summary=summary,
            )

    def open_review(
        self,
        node: Any,
        step: StepDraft,
        *,
        kind: str,
        verdict: Verdict,
        reasons: tuple[Reason, ...],
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
            required_role=required_role(node, reasons),
            assigned_group=node.review.group,
            deadline_seconds=node.review.seconds,
            on_expiry=_on_expiry(node.review),
        )
        self.commit(step, status=RunStatus.WAITING_REVIEW, review=review)


def _on_expiry(policy: ReviewPolicy) -> dict[str, str] | None:
    if policy.escalate_to is not None:
        return {"escalate_to": policy.escalate_to.value}
    if policy.default is not None:
        return {"default": policy.default}
    return None


def _then(on_fail: OnFail) -> str:
    """What happens once retries are spent (or for a node that cannot reask)."""
    if on_fail.policy == "reject":
        return "reject"
    if on_fail.policy == "human":
        return "human"
    return on_fail.then
