"""Check one proposed tool call against a pack, with the run's history and state as context.

``check_call`` is the one place where a proposed call meets the rules: the domain's context builder
turns (state, history, call) into the pack's context model, the call itself becomes the pack's input,
and the ordinary checker decides. The pack's verdict maps to what a tool node does with the call:
``pass`` → ``allow``; ``deny`` / ``fail`` → ``deny`` (the call must not run); ``review`` → ``review``
(a person decides); ``unknown`` (missing facts, timeout, an input that does not encode) → ``review``,
never ``allow``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from nesyflow.logic import CheckResult, Pack, Reason, Verdict, check
from nesyflow.replay.domain import Domain
from nesyflow.replay.history import CallVerdict, History, ProposedCall

__all__ = ["CallCheck", "Reason", "check_call"]

_VERDICTS: dict[Verdict, CallVerdict] = {
    Verdict.PASS: "allow",
    Verdict.DENY: "deny",
    Verdict.FAIL: "deny",
    Verdict.REVIEW: "review",
    Verdict.UNKNOWN: "review",
}


@dataclass(frozen=True)
class CallCheck:
    verdict: CallVerdict
    reasons: tuple[Reason, ...]
    result: CheckResult | None
    context_ms: float = 0.0  # building the context from state and history
    check_ms: float = 0.0  # encoding, grounding and solving
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rules(self) -> set[str]:
        """The rule ids that fired (``missing`` / ``unknown`` for a reason no rule gave)."""
        return {r.rule or r.kind for r in self.reasons}


def _reasons(result: CheckResult) -> tuple[Reason, ...]:
    kinds = (("deny", result.denials), ("violation", result.violations))
    kinds += (("review", result.reviews),)
    out = [
        Reason(kind=kind, rule=f.rule, message=f.message, detail=f.detail, severity=f.severity)
        for kind, found in kinds
        for f in found
    ]
    out.extend(
        Reason(kind="missing", message=f"the rules need {m} to decide", detail=m)
        for m in result.missing
    )
    if result.verdict == "unknown" and not result.missing:
        out.append(Reason(kind="unknown", message=result.reason or "the rules could not decide"))
    return tuple(out)


def check_call(
    pack: Pack,
    domain: Domain,
    state: Any,
    history: History,
    call: ProposedCall,
    *,
    timeout: float | None = None,
) -> CallCheck:
    """The verdict of ``pack`` on ``call`` given the run so far. Never raises for rule trouble."""
    started = time.perf_counter()
    try:
        context = domain.build_context(state, history, call)
        if pack.context_model is not None and not isinstance(context, pack.context_model):
            context = pack.context_model.model_validate(context)
        instance = domain.input_for(call)
    except Exception as exc:  # a builder bug must not let a call through
        why = f"the context could not be built: {type(exc).__name__}: {exc}"
        reason = Reason(kind="unknown", message=why)
        return CallCheck("review", (reason,), None)
    built = time.perf_counter()
    result = check(pack, instance, context, timeout=timeout)
    done = time.perf_counter()
    t = result.timings
    return CallCheck(
        verdict=_VERDICTS[Verdict(result.verdict)],
        reasons=_reasons(result),
        result=result,
        context_ms=(built - started) * 1000,
        check_ms=(done - built) * 1000,
        timings={
            "encode_ms": t.encode_ms,
            "ground_ms": t.ground_ms,
            "solve_ms": t.solve_ms,
        },
    )
