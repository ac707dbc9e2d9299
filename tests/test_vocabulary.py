"""One vocabulary: the verdict words and their precedence are declared once, in
``nesyflow.logic.result`` (``Verdict``, ``worst``, ``OVERRIDES``); reasons are the one ``Reason``
value everywhere, never a dict read by key."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted((ROOT / "runtime" / "nesyflow").rglob("*.py")),
    *sorted((ROOT / "ui").rglob("*.py")),
]
HOME = ROOT / "runtime" / "nesyflow" / "logic" / "result.py"
WORDS = {"pass", "fail", "review", "deny", "unknown"}
# "review" and "deny" are also atom names of the rule vocabulary (violation/review/deny); a
# collection of those alone is about atoms, not verdicts
VERDICT_ONLY = {"pass", "fail", "unknown"}


def _words(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        items = [k for k in node.keys if k is not None]
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = node.elts
    elif isinstance(node, ast.Subscript) and getattr(node.value, "id", "") == "Literal":
        inner = node.slice
        items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
    else:
        return []
    return [i.value for i in items if isinstance(i, ast.Constant) and i.value in WORDS]


def test_verdict_words_and_their_order_are_declared_in_one_place():
    found = []
    for file in SOURCES:
        if file == HOME:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            words = _words(node)
            if len(words) >= 2 and VERDICT_ONLY & set(words):
                found.append(f"{file.relative_to(ROOT)}:{node.lineno}: {sorted(set(words))}")
    assert found == [], "verdict words declared outside logic/result.py:\n" + "\n".join(found)


def test_one_precedence_function():
    """``worst`` is defined once; the checker, the engine and re-checks all use that one."""
    defined = [
        f"{f.relative_to(ROOT)}"
        for f in SOURCES
        if re.search(r"^def (worst|_worst|combine_verdicts)\b", f.read_text(), re.M)
    ]
    assert defined == ["runtime/nesyflow/logic/result.py"]
    from nesyflow.engine import checking, recheck
    from nesyflow.logic import checker, result

    assert checking.worst is result.worst and recheck.worst is result.worst
    assert checker.worst is result.worst


def test_reasons_are_typed_everywhere():
    """No reason is read as a dict (``r.get("plain")`` / ``r["message"]``) in the engine, review,
    store, replay, CLI or console; they carry ``nesyflow.logic.Reason``."""
    pattern = re.compile(r"""\.get\(\s*["'](plain|message)["']|\[\s*["'](plain|message)["']\s*\]""")
    found = []
    for file in SOURCES:
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if pattern.search(line) and "choice" not in line and "entry" not in line:
                found.append(f"{file.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_records_and_summaries_carry_reason_values():
    from nesyflow.engine import CheckSummary
    from nesyflow.logic import Reason
    from nesyflow.store import ReviewDraft

    assert ReviewDraft.model_fields["reasons"].annotation == tuple[Reason, ...]
    assert CheckSummary.__dataclass_fields__["reasons"].type in ("tuple[Reason, ...]",)
    # an old store's dict rows read back as the same values
    old = ReviewDraft(
        node="n",
        verdict="fail",
        reasons=[{"rule": "r", "kind": "violation", "message": "m", "plain": "p", "pack": "x@1"}],
    )
    assert old.reasons == (Reason(kind="violation", rule="r", message="m", plain="p", pack="x@1"),)
    assert ReviewDraft.model_validate(old.model_dump(mode="json")) == old
