"""What each node kind does in one step: llm, tool, check, human, branch.

Each handler reads the checkpointed state through the :class:`~nesyflow.engine.runner.Runner`,
checks what the node's packs check, and ends in exactly one checkpoint (advance, reask, review,
reject or fail). A node without packs has no rule to break: it is not checked (its step has no
verdict) and routes as ``pass``; a tool it feeds with packs checks its own arguments before it runs.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from nesyflow.engine import tracing
from nesyflow.engine.checking import CheckSummary, check_subject
from nesyflow.engine.decided import accepted_already
from nesyflow.engine.governance import known_secrets, masked_text
from nesyflow.engine.run_view import RunView, call_tool, effect_key
from nesyflow.engine.state import jsonable
from nesyflow.errors import format_validation_error
from nesyflow.graph.model import BranchNode, CheckNode, Condition, HumanNode, LlmNode, ToolNode
from nesyflow.llm.errors import ProviderFailed
from nesyflow.llm.providers import is_remote
from nesyflow.logic.result import Reason, Verdict
from nesyflow.schema.redact import Redactor
from nesyflow.store._faults import crash_point

if TYPE_CHECKING:
    from nesyflow.engine.runner import Runner

__all__ = ["StepFailed", "run_node"]


class StepFailed(Exception):
    """A step could not even be attempted (a data path with no value, a template that fails)."""


def run_node(r: Runner, node: Any) -> None:
    """One step of ``node`` (the run's cursor is on it)."""
    if isinstance(node, LlmNode):
        _llm(r, node)
    elif isinstance(node, ToolNode):
        _tool(r, node)
    elif isinstance(node, CheckNode):
        _check(r, node)
    elif isinstance(node, HumanNode):
        _human(r, node)
    elif isinstance(node, BranchNode):
        _branch(r, node)
    else:  # pragma: no cover - the model admits no other kinds
        r.fail_run(node.id, f"unknown node kind {node.kind!r}")


def _check_node(r: Runner, node: Any, subject: Any) -> CheckSummary | None:
    """The node's packs on ``subject`` (``None``: the node has no packs, nothing to check)."""
    if not node.packs:
        return None
    return check_subject(node.packs, subject, r.context(node), r.services.check_timeout)


def _passed(summary: CheckSummary | None) -> bool:
    return summary is None or summary.verdict is Verdict.PASS


def _check(r: Runner, node: CheckNode) -> None:
    value = jsonable(r.resolve(node.value, f"value of check node '{node.id}'"))
    # a check node is a gate: with no packs it is unchecked (unknown), never a pass
    summary = check_subject(node.packs, value, r.context(node), r.services.check_timeout)
    step = r.step_draft(node, "check", inputs=value, output=value, summary=summary)
    if summary.verdict is Verdict.PASS:
        r.advance(node, value, summary, step)
    else:
        r.on_fail(node, step, summary, value, kind="output", reaskable=False)


def _hold(
    r: Runner,
    node: Any,
    step: Any,
    kind: str,
    reason: Reason,
    output: Any,
    summary: CheckSummary | None = None,
) -> None:
    """Trouble around the rules (no answer from the provider, arguments that do not fit, a tool
    that raised): the step waits for a person with the reason — ``unknown``, never a pass."""
    r.open_review(
        node,
        step,
        kind=kind,
        verdict=Verdict.UNKNOWN,
        output=output,
        reasons=(reason,),
        summary=summary,
    )


def _llm(r: Runner, node: LlmNode) -> None:
    cur = r.state.cursor
    assert cur is not None
    if not cur.messages:
        variables = r.inputs(node)
        try:
            cur.messages = list(r.services.llm_render()(node.system, node.prompt, variables))
        except Exception as exc:
            raise StepFailed(f"prompt of node '{node.id}' does not render: {exc}") from None
    model = r.services.model_for(node.model, r.flow().model)
    redactor = _redactor(r) if is_remote(model, node.remote) else None
    sent = redactor.data(cur.messages) if redactor else cur.messages
    crash_point("llm:before")
    started = time.perf_counter()
    provider_failed: str | None = None
    with tracing.model_span(model) as sp:
        try:
            options = {"mode": node.mode} if node.mode else {}
            call = r.services.llm_generate()(model, sent, node.output, **options)
            output, error, raw = call.output, call.error, call.raw
            if redactor and output is not None:
                output = _restored(redactor, node, output)
        except Exception as exc:  # provider down, script exhausted…: a failed step, not a crash
            call, output, raw = None, None, None
            error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ProviderFailed):  # retries spent in the llm layer: not the answer
                provider_failed = str(exc)
        model_ms = (time.perf_counter() - started) * 1000
        tracing.model_done(sp, call, model_ms, masked_text(r.run.state, r.run.input, error))
    crash_point("llm:after")
    usage = {
        "model": model,
        "prompt": sent,  # what the model received (placeholders, for a remote one)
        "raw_output": raw,
        "model_ms": model_ms,
        "tokens_in": int(getattr(call, "tokens_in", 0) or 0),
        "tokens_out": int(getattr(call, "tokens_out", 0) or 0),
        "cost": float(getattr(call, "cost", 0.0) or 0.0),
    }
    if provider_failed is not None:
        # Nothing to reask (the model never answered): a person sees why; approving the review
        # tries the model again (the provider may be back), editing gives the output.
        step = r.step_draft(node, "llm", error=provider_failed, verdict=Verdict.UNKNOWN, **usage)
        _hold(r, node, step, "provider", Reason(kind="provider", message=provider_failed), None)
        return
    if output is None:
        message = f"the model's answer could not be used: {error or 'no output'}"
        step = r.step_draft(node, "llm", error=message, verdict=Verdict.UNKNOWN, **usage)
        reasons = (Reason(kind="parse", message=message),)
        # A parse failure is a step failure: reasked like a violation, then the policy.
        r.on_fail(
            node,
            step,
            None,
            None,
            kind="output",
            reaskable=True,
            reasons=reasons,
            verdict=Verdict.FAIL,
        )
        return
    data = jsonable(output)
    unseen = _not_given(r, node, data, redactor) if redactor else []
    if unseen:
        # A sensitive value the remote model was never given as a placeholder: it read it in
        # its prompt, unredacted (the run did not know the value yet). Too late to un-send; never
        # a pass — a person sees it (and the review shows it masked).
        message = (
            f"the remote model of node '{node.id}' answered with a sensitive value "
            f"({', '.join(sorted(unseen))}) it was not given as a placeholder: the prompt held it "
            "unredacted (read sensitive fields with a local step before a remote one)"
        )
        step = r.step_draft(node, "llm", output=data, verdict=Verdict.UNKNOWN, **usage)
        _hold(r, node, step, "governance", Reason(kind="governance", message=message), data)
        return
    summary = _check_node(r, node, output)
    step = r.step_draft(node, "llm", output=data, summary=summary, **usage)
    if _passed(summary):
        r.advance(node, data, summary, step)
    else:
        r.on_fail(node, step, summary, data, kind="output", reaskable=True)


def _redactor(r: Runner) -> Redactor:
    """The run's sensitive values so far (its input's, earlier outputs'), for a remote model."""
    return Redactor(known_secrets(r.classes(), r.run.input, r.state.outputs))


def _not_given(r: Runner, node: LlmNode, data: Any, redactor: Redactor) -> list[str]:
    """The kinds of the sensitive values in a remote model's answer it was not given."""
    classes = r.classes()
    given = {str(v) for v in redactor.placeholders.values()}
    return [s.kind for s in classes.secrets(node.id, data) if str(s.value) not in given]


def _restored(redactor: Redactor, node: LlmNode, output: Any) -> Any:
    """A remote model's answer with the placeholders it was given turned back into the values."""
    assert node.output is not None
    return node.output.model_validate(redactor.restore(jsonable(output)))


def _tool(r: Runner, node: ToolNode) -> None:
    cur = r.state.cursor
    assert cur is not None
    summary: CheckSummary | None = None
    if cur.approved_set:
        args_data = cur.approved  # a person approved (or edited) these; re-checked on resume
    else:
        data = {}
        for name, ref in node.input.items():
            data[name] = jsonable(r.resolve(ref, f"argument '{name}' of tool '{node.id}'"))
        try:
            args = node.args_schema.model_validate(data)
        except ValidationError as exc:
            message = (
                f"the arguments for tool '{node.id}' are not valid: "
                f"{format_validation_error(exc, limit=5)}"
            )
            step = r.step_draft(node, "tool", inputs=data, error=message, verdict=Verdict.UNKNOWN)
            _hold(r, node, step, "tool_args", Reason(kind="args", message=message), data)
            return
        args_data = jsonable(args)
        # The proposed call is checked BEFORE it runs: a deny stops it here.
        summary = _check_node(r, node, args)
        if not _passed(summary) and not accepted_already(summary, r.state.accepted):
            step = r.step_draft(node, "tool_check", inputs=args_data, summary=summary)
            r.on_fail(node, step, summary, args_data, kind="tool_call", reaskable=False)
            return
    _execute(r, node, args_data, summary)


def _execute(r: Runner, node: ToolNode, args_data: Any, summary: CheckSummary | None) -> None:
    cur = r.state.cursor
    assert cur is not None
    key = effect_key(r.run.id, node.id, cur.visit)
    effect = r.store.begin_effect(key, r.run.id, node.id, cur.visit, args_data, lease=r.holder)
    crash_point("tool:begun")
    started = time.perf_counter()
    if effect.status == "done":  # recorded by an earlier process: never call again
        result, replayed = effect.result, True
    else:
        replayed = False
        try:
            args = node.args_schema.model_validate(args_data)
            crash_point("tool:before")
            value = call_tool(node.tool, args, key, _view(r, node), r.store)
            crash_point("tool:after")
            if node.output is not None and not isinstance(value, node.output):
                value = node.output.model_validate(jsonable(value))
            result = jsonable(value)
        except Exception as exc:
            message = f"tool '{node.id}' failed: {type(exc).__name__}: {exc}"
            step = r.step_draft(
                node,
                "tool",
                inputs=args_data,
                error=message,
                verdict=Verdict.UNKNOWN,
                tool_ms=(time.perf_counter() - started) * 1000,
            )
            _hold(
                r,
                node,
                step,
                "tool_error",
                Reason(kind="tool_error", message=message),
                args_data,
                summary=summary,
            )
            return
    step = r.step_draft(
        node,
        "tool",
        inputs={"args": args_data, "idempotency_key": key, "replayed": replayed},
        output=result,
        summary=summary,
        tool_ms=(time.perf_counter() - started) * 1000,
    )
    r.advance(
        node,
        result,
        summary,
        step,
        effect=None if replayed else (key, result),
        verdict=Verdict.PASS,
    )


def _view(r: Runner, node: ToolNode) -> RunView:
    """The checkpointed run as the tool about to run may read it (deep copies: read-only)."""
    cur = r.state.cursor
    assert cur is not None
    return RunView(
        run_id=r.run.id,
        workflow=r.run.workflow,
        node=node.id,
        visit=cur.visit,
        input=copy.deepcopy(r.run.input),
        outputs=copy.deepcopy(r.state.outputs),
        derived=copy.deepcopy(r.state.derived),
        verdicts=dict(r.state.verdicts),
        visits=dict(r.state.visits),
        approved=cur.approved_set,
        overrides=copy.deepcopy(r.state.overrides),
        accepted=tuple(r.state.accepted),
    )


def _human(r: Runner, node: HumanNode) -> None:
    value = None if node.value is None else jsonable(r.resolve(node.value, "value"))
    summary = None
    verdict = Verdict.REVIEW
    if node.packs and value is not None:
        summary = check_subject(node.packs, value, r.context(node), r.services.check_timeout)
        verdict = Verdict.REVIEW if summary.verdict is Verdict.PASS else summary.verdict
    step = r.step_draft(node, "human", inputs=value, summary=summary)
    if summary is not None:
        step = step.model_copy(update={"verdict": verdict})
    r.open_review(
        node,
        step,
        kind="human",
        verdict=verdict,
        reasons=summary.reasons if summary else (),
        output=value,
        summary=summary,
        question=node.question,
    )


def _branch(r: Runner, node: BranchNode) -> None:
    target = node.default
    chosen = "default"
    for number, route in enumerate(node.routes):
        if _holds(r, route.when):
            target, chosen = route.to, f"route {number + 1}"
            break
    step = r.step_draft(node, "branch", output={"to": target, "by": chosen})
    r.advance(node, {"to": target}, None, step, to=target, verdict=Verdict.PASS)


def _holds(r: Runner, cond: Condition) -> bool:
    if cond.verdict is not None and r.state.verdicts.get(cond.node) not in cond.verdict:
        return False
    if cond.derived:
        have = r.state.derived.get(cond.node, {})
        return all(k in have and have[k] == jsonable(v) for k, v in cond.derived.items())
    return True
