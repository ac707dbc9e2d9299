"""Check a node's subject with the node's packs, and summarise the verdict for the trace.

Several packs may check one subject; the node's verdict is the most serious of theirs
(deny > fail > unknown > review > pass). Nothing here can pass by accident: a pack that does not
load, an exception in a check or a subject that does not validate gives ``unknown`` with the reason.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from nesyflow.graph.model import PackRef

__all__ = ["CheckSummary", "check_subject", "load_packs", "pack_identities_changed", "worst"]

_ORDER = {"pass": 0, "review": 1, "unknown": 2, "fail": 3, "deny": 4}


def worst(verdicts: list[str]) -> str:
    """The most serious verdict of several (``pass`` for none)."""
    return max(verdicts, key=lambda v: _ORDER.get(v, 2), default="pass")


@dataclass(frozen=True)
class CheckSummary:
    """The outcome of checking one subject with all of a node's packs."""

    verdict: str
    results: list[dict[str, Any]] = field(default_factory=list)  # CheckResult JSON per pack
    findings: list[dict[str, Any]] = field(default_factory=list)  # flat, for the findings table
    reasons: list[dict[str, Any]] = field(default_factory=list)  # what a person (or model) reads
    packs: list[dict[str, Any]] = field(default_factory=list)  # identity + path per pack
    derived: dict[str, Any] = field(default_factory=dict)
    facts: str = ""
    facts_hash: str = ""
    rules_ms: float = 0.0

    def json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "results": self.results, "reasons": self.reasons}


_CACHE: dict[tuple[str, float], Any] = {}


def _folder_stamp(path: Path) -> float:
    try:
        return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)
    except OSError:
        return 0.0


def load_packs(refs: tuple[PackRef, ...] | list[PackRef]) -> list[tuple[PackRef, Any, str | None]]:
    """Each pack ref with its loaded pack, or ``None`` and why it did not load.

    A pack already loaded with the workflow is used as is; others are loaded from their folder and
    cached while the folder's files are unchanged (so an edited pack is seen on the next resume).
    """
    from nesyflow.logic import load_pack

    out: list[tuple[PackRef, Any, str | None]] = []
    for ref in refs:
        if ref.pack is not None:
            out.append((ref, ref.pack, None))
            continue
        key = (str(ref.path), _folder_stamp(Path(ref.path)))
        pack = _CACHE.get(key)
        if pack is None:
            try:
                pack = load_pack(ref.path)
            except Exception as exc:  # ProblemsError or worse: never a pass
                out.append((ref, None, f"pack {ref.text or ref.path} did not load: {exc}"))
                continue
            _CACHE[key] = pack
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


def pack_identities_changed(held: list[dict[str, Any]], refs: tuple[PackRef, ...]) -> bool:
    """Whether the packs a decision was bound to differ from the packs the node has now."""
    now = [_identity(ref, pack) for ref, pack, _ in load_packs(refs)]
    key = lambda p: (p.get("name"), p.get("version"), p.get("hash"))  # noqa: E731
    return sorted(map(key, held)) != sorted(map(key, now))


def _plain(finding: Any) -> str:
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
    """Check ``subject`` (a model instance or JSON data) with every pack; never raises."""
    from nesyflow.logic import check

    started = time.perf_counter()
    verdicts: list[str] = []
    results: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
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
            verdicts.append("unknown")
            reasons.append({"rule": None, "kind": "unknown", "message": problem, "pack": label})
            results.append({"verdict": "unknown", "reason": problem, "pack": identity})
            continue
        try:
            result = check(pack, data, context, timeout=timeout)
        except Exception as exc:  # the checker promises not to raise; if it does, not a pass
            reason = f"the check with {label} raised {type(exc).__name__}: {exc}"
            verdicts.append("unknown")
            reasons.append({"rule": None, "kind": "unknown", "message": reason, "pack": label})
            results.append({"verdict": "unknown", "reason": reason, "pack": identity})
            continue
        verdict = str(result.verdict.value if hasattr(result.verdict, "value") else result.verdict)
        verdicts.append(verdict)
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
                    {
                        "rule": f.rule,
                        "kind": kind,
                        "message": f.message,
                        "detail": f.detail,
                        "severity": f.severity,
                        "pack": label,
                        "plain": _plain(f),
                        "explanation": [e.model_dump(mode="json") for e in f.explanations],
                    }
                )
        meanings = {p.name: p.meaning for p in pack.vocabulary()} if result.missing else {}
        for name in result.missing:
            meaning = meanings.get(str(name), "")
            reasons.append(
                {
                    "rule": None,
                    "kind": "missing",
                    # the input field in words, where the atom names one ("item_alcohol" →
                    # "Meals/entertainment: includes alcohol?")
                    "message": f"the rules need '{name}'" + (f" ({meaning})" if meaning else ""),
                    "pack": label,
                }
            )
        # A reason that only restates the missing atoms above would list each of them twice.
        if verdict == "unknown" and result.reason and not result.missing:
            reasons.append(
                {"rule": None, "kind": "unknown", "message": result.reason, "pack": label}
            )
        facts_parts.append(_facts_text(pack, data, context))
    combined = hashlib.sha256("\0".join(sorted(hashes)).encode()).hexdigest() if hashes else ""
    return CheckSummary(
        verdict=worst(verdicts),
        results=results,
        findings=findings,
        reasons=reasons,
        packs=packs,
        derived=derived,
        facts="".join(facts_parts),
        facts_hash=combined,
        rules_ms=(time.perf_counter() - started) * 1000,
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
