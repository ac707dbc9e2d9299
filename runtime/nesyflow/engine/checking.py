"""Check a node's subject with the node's packs, and summarise the verdict for the trace.

Several packs may check one subject; the node's verdict is the most serious of theirs, by the one
precedence :func:`nesyflow.logic.worst` (fail > deny > unknown > review > pass). Nothing here can
pass by accident: a pack that does not load, an exception in a check or a subject that does not
validate gives ``unknown`` with the reason, and so do zero packs (nothing checked is not a pass).

Packs are always taken from their folder on disk (``load_pack`` caches by content hash), never
from the copy a workflow loaded earlier: an approval compares the identity the rules have *now*.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from nesyflow.engine import tracing
from nesyflow.graph.model import PackRef
from nesyflow.logic.result import Finding, Reason, Verdict, worst

__all__ = [
    "CheckSummary",
    "check_subject",
    "load_packs",
    "pack_key",
    "unchecked",
    "worst",
]


@dataclass(frozen=True)
class CheckSummary:
    """The outcome of checking one subject with all of a node's packs."""

    verdict: Verdict
    results: list[dict[str, Any]] = field(default_factory=list)  # CheckResult JSON per pack
    findings: list[dict[str, Any]] = field(default_factory=list)  # flat, for the findings table
    reasons: tuple[Reason, ...] = ()  # what a person (or model) reads
    packs: list[dict[str, Any]] = field(default_factory=list)  # identity + path per pack
    derived: dict[str, Any] = field(default_factory=dict)
    facts: str = ""
    facts_hash: str = ""
    rules_ms: float = 0.0
    # what the rules were given (the value and its context, as JSON): kept in the step's check so
    # a later pack version can be replayed against history (``nesyflow whatif``, ``coverage``)
    subject: Any = None
    context: Any = None

    def json(self) -> dict[str, Any]:
        """What a step's ``check`` column and a decision's ``check`` keep: enough to compare a later
        re-check with (verdict, pack identities, facts hash)."""
        return {
            "verdict": self.verdict.value,
            "results": self.results,
            "reasons": [r.model_dump(mode="json") for r in self.reasons],
            "packs": self.packs,
            "facts_hash": self.facts_hash,
            "derived": self.derived,
            "subject": self.subject,
            "context": self.context,
        }


def unchecked(why: str) -> CheckSummary:
    """The summary of a value no pack checked: ``unknown``, with the reason a person reads."""
    return CheckSummary(verdict=Verdict.UNKNOWN, reasons=(Reason(kind="unchecked", message=why),))


def load_packs(refs: tuple[PackRef, ...] | list[PackRef]) -> list[tuple[PackRef, Any, str | None]]:
    """Each pack ref with its pack as it is on disk now, or ``None`` and why it did not load.

    Every pack lives in a folder; it is loaded from there every time (cheap: the logic layer
    caches by content hash), so an edited pack is seen at once by every path, and a deleted one
    is not a pass. The copy a workflow loaded earlier (``ref.pack``) is never used to decide.
    """
    from nesyflow.logic import load_pack

    out: list[tuple[PackRef, Any, str | None]] = []
    for ref in refs:
        folder = Path(ref.pack.path if ref.pack is not None else ref.path)
        try:
            pack = load_pack(folder)
        except Exception as exc:  # ProblemsError or worse: never a pass
            out.append((ref, None, f"pack {ref.text or ref.path} did not load: {exc}"))
            continue
        out.append((ref, pack, None))
    return out


def _identity(ref: PackRef, pack: Any) -> dict[str, Any]:
    if pack is None:
        return {
            "name": str(ref.text or ref.path),
            "version": "?",
            "hash": "",
            "path": str(ref.path),
        }
    return {**pack.identity.model_dump(), "path": str(ref.path)}


def pack_key(packs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Pack identities as a comparable value (order-free): what an approval is bound to."""
    return sorted((str(p.get("name")), str(p.get("version")), str(p.get("hash"))) for p in packs)


def _plain(finding: Finding) -> str:
    """A violation in plain words: the catalogue sentence, which instance, and the facts behind it."""
    text = finding.message
    if finding.detail:
        text += f" (rule {finding.rule}, about {finding.detail})"
    else:
        text += f" (rule {finding.rule})"
    facts = [f for e in finding.explanations for f in e.input_facts]
    if facts:
        text += "; because of: " + ", ".join(dict.fromkeys(facts))
    return text


def check_subject(
    refs: tuple[PackRef, ...] | list[PackRef],
    subject: Any,
    context: Any = None,
    timeout: float | None = None,
) -> CheckSummary:
    """Check ``subject`` (a model instance or JSON data) with every pack; never raises.

    No packs at all gives :func:`unchecked` (``unknown``), never ``pass``."""
    from nesyflow.logic import check

    if not refs:
        return unchecked("no rule pack checks this value")
    started = time.perf_counter()
    verdicts: list[Verdict] = []
    results: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    reasons: list[Reason] = []
    packs: list[dict[str, Any]] = []
    derived: dict[str, Any] = {}
    facts_parts: list[str] = []
    hashes: list[str] = []
    data = subject.model_dump(mode="json") if isinstance(subject, BaseModel) else subject
    for ref, pack, problem in load_packs(refs):
        identity = _identity(ref, pack)
        packs.append(identity)
        label = f"{identity['name']}@{identity['version']}"
        if pack is None:
            verdicts.append(Verdict.UNKNOWN)
            reasons.append(Reason(kind="unknown", message=problem, pack=label))
            results.append({"verdict": "unknown", "reason": problem, "pack": identity})
            continue
        try:
            with tracing.rules_span(identity) as sp:
                result = check(pack, data, context, timeout=timeout)
                tracing.rules_done(sp, result)
        except Exception as exc:  # the checker promises not to raise; if it does, not a pass
            reason = f"the check with {label} raised {type(exc).__name__}: {exc}"
            verdicts.append(Verdict.UNKNOWN)
            reasons.append(Reason(kind="unknown", message=reason, pack=label))
            results.append({"verdict": "unknown", "reason": reason, "pack": identity})
            continue
        verdicts.append(Verdict(result.verdict))
        results.append(result.to_json())
        hashes.append(result.facts_hash)
        derived.update(to_jsonable_python(result.derived, fallback=str))
        for kind, items in (
            ("violation", result.violations),
            ("review", result.reviews),
            ("deny", result.denials),
        ):
            for f in items:
                findings.append(
                    {"rule": f.rule, "kind": kind, "severity": f.severity, "pack": label}
                )
                reasons.append(
                    Reason(
                        kind=kind,
                        rule=f.rule,
                        message=f.message,
                        detail=f.detail,
                        severity=f.severity,
                        pack=label,
                        plain=_plain(f),
                        explanation=f.explanations,
                    )
                )
        meanings = {p.name: p.meaning for p in pack.vocabulary()} if result.missing else {}
        for name in result.missing:
            meaning = meanings.get(str(name), "")
            # the input field in words, where the atom names one ("item_alcohol" →
            # "Meals/entertainment: includes alcohol?")
            message = f"the rules need '{name}'" + (f" ({meaning})" if meaning else "")
            reasons.append(Reason(kind="missing", message=message, detail=str(name), pack=label))
        # A reason that only restates the missing atoms above would list each of them twice.
        if result.verdict == Verdict.UNKNOWN and result.reason and not result.missing:
            reasons.append(Reason(kind="unknown", message=result.reason, pack=label))
        facts_parts.append(_facts_text(pack, data, context))
    combined = hashlib.sha256("\0".join(sorted(hashes)).encode()).hexdigest() if hashes else ""
    return CheckSummary(
        verdict=worst(verdicts),
        results=results,
        findings=findings,
        reasons=tuple(reasons),
        packs=packs,
        derived=derived,
        facts="".join(facts_parts),
        facts_hash=combined,
        rules_ms=(time.perf_counter() - started) * 1000,
        subject=to_jsonable_python(data, fallback=str),
        context=to_jsonable_python(context, fallback=str),
    )


def _facts_text(pack: Any, data: Any, context: Any) -> str:
    """The input facts as people read them (for the trace only; a failure here changes nothing)."""
    try:
        from nesyflow.schema import to_facts

        roots = [pack.input_model.model_validate(data)]
        if context is not None and pack.context_model is not None:
            roots.append(pack.context_model.model_validate(context))
        return f"% {pack.name}@{pack.version}\n" + to_facts(*roots).text()
    except Exception as exc:
        return f"% {pack.name}: facts not shown ({type(exc).__name__})\n"
