"""Proposals: from violations people approve again and again to an exception rule, as a pack diff.

When people approved the same violation, fired by the same rule body, for the same kind of facts at
least ``min_approvals`` times (distinct reviews), the pack is offered a narrow exception:

* **which facts.** The body's comparisons (``S > X`` of the per-diem rule) are measured on every
  approved instance from its recorded bindings; the exception holds only up to the largest margin
  people approved (``S - X <= 150``). Symbolic values the body bound that were the same in every
  approval (a category, a fare class) are kept as equalities. Instances of the same body that
  people *rejected* inside those bounds are counted as conflicts and shown, never hidden.
* **the diff.** A new file ``exception_<rule>.lp`` with
  ``approved_exception(<rule>, <detail>) :- <the original body>, <the bounds>.`` and the body itself
  gets ``not approved_exception(<rule>, <detail>)`` — a unified diff against the pack folder
  (``patch -p1`` applies it), plus ``tests/proposed_<rule>.yaml``: one case per approved step (the
  rule no longer fires; the rest of its findings stay) and one per rejected step outside the bounds
  (the rule still fires). Expectations come from the recorded results and decisions, not from the
  new rule.
* **proof and impact.** Each proposal is applied to a copy of the pack in a temporary folder; the
  copy's tests (its own and the generated ones) are run, and :func:`~nesyflow.insight.whatif` reports
  what it would change in the store's history.

Nothing here writes to a pack: a person accepts a proposal by applying and committing its diff.
Only steps checked by this exact pack identity are read (the body's file:line is this version's).
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nesyflow.insight.history import PackStep, pack_history
from nesyflow.insight.whatif import ImpactReport, whatif
from nesyflow.logic import Pack
from nesyflow.logic.result import Verdict, worst
from nesyflow.store import Store

__all__ = ["Instance", "Proposal", "propose"]

_EXCEPTION = "approved_exception"
_SIMPLE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_VARIABLE = re.compile(r"(?<![A-Za-z0-9_'])[A-Z_][A-Za-z0-9_']*")


@dataclass(frozen=True)
class Instance:
    """One finding of the body in one decided step: its detail, the values the body bound and the
    step's input facts as conditions over the body's variables (``item_city_tier(I,1)``)."""

    item: PackStep
    detail: str
    bindings: dict[str, str]
    facts: frozenset[str] = frozenset()

    @property
    def review(self) -> str:
        return self.item.step.review_id or ""


@dataclass(frozen=True)
class _Body:
    rule: str
    file: str
    line: int
    text: str  # the rule as written
    detail: str  # the head's detail term, as clingo prints it
    comparisons: tuple[tuple[str, str, str], ...]  # (left, op, right), variables or integers
    variables: frozenset[str] = frozenset()  # first arguments of the body's positive atoms (ids)


@dataclass
class Proposal:
    """An exception rule for one body, the diff that adds it, its tests and what it would do."""

    pack: str
    rule: str
    where: str
    approvals: list[Instance]
    rejections: list[Instance] = field(default_factory=list)  # outside the bounds
    conflicts: list[Instance] = field(default_factory=list)  # rejected inside the bounds
    conditions: list[str] = field(default_factory=list)
    snippet: str = ""
    diff: str = ""
    tests_yaml: str = ""
    files: dict[str, str] = field(default_factory=dict)  # relative path → new content
    tests_passed: int = 0
    tests_failed: int = 0
    test_failures: list[str] = field(default_factory=list)
    impact: ImpactReport | None = None

    @property
    def reviewers(self) -> list[str]:
        return sorted({i.item.step.decided_by or "?" for i in self.approvals})

    def apply(self, folder: Path) -> None:
        """Write the proposal into ``folder`` (a copy of the pack; never call it on the original
        unless a person has decided to accept it)."""
        for relative, text in self.files.items():
            target = Path(folder) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "rule": self.rule,
            "where": self.where,
            "approvals": len(self.approvals),
            "approved_reviews": sorted({i.review for i in self.approvals}),
            "reviewers": self.reviewers,
            "rejections_outside": len(self.rejections),
            "conflicts": sorted({i.review for i in self.conflicts}),
            "conditions": self.conditions,
            "snippet": self.snippet,
            "diff": self.diff,
            "tests_yaml": self.tests_yaml,
            "tests": {
                "passed": self.tests_passed,
                "failed": self.tests_failed,
                "failures": self.test_failures,
            },
            "impact": self.impact.to_json() if self.impact else None,
        }


def propose(
    store: Store,
    pack: Pack,
    *,
    min_approvals: int = 5,
    impact: bool = True,
) -> list[Proposal]:
    """Every exception worth proposing for ``pack`` from the store's decisions (see module doc)."""
    approved: dict[tuple[str, str, int], list[Instance]] = {}
    rejected: dict[tuple[str, str, int], list[Instance]] = {}
    texts: dict[tuple[str, str, int], str] = {}
    for item in pack_history(store, pack.name):
        action = item.step.action
        if action not in ("approve", "reject") or not item.replayable:
            continue
        if (item.result.get("pack") or {}).get("hash") != pack.identity.hash:
            continue
        for key, text, instance in _instances(item):
            texts.setdefault(key, text)
            (approved if action == "approve" else rejected).setdefault(key, []).append(instance)
    out: list[Proposal] = []
    for key, instances in sorted(approved.items()):
        body = _parse_body(key, texts[key])
        if body is None:
            continue
        against = [_with_facts(pack, body, i) for i in rejected.get(key, [])]
        for group in _kinds(body, [_with_facts(pack, body, i) for i in instances]):
            if len({i.review for i in group}) < min_approvals:
                continue
            proposal = _proposal(pack, body, group, against)
            # people must mostly approve this kind: rejections inside the bounds are at most a
            # fifth of the decisions on it (they are shown either way)
            if len(proposal.conflicts) * 4 > len(proposal.approvals):
                continue
            _prove(pack, proposal, store if impact else None)
            out.append(proposal)
    return out


def _with_facts(pack: Pack, body: _Body, instance: Instance) -> Instance:
    """``instance`` with the step's input facts, each linked to the body's variables by its first
    argument (an item's id bound to ``I`` becomes ``I``; only variables the body uses as a first
    argument, so a line number that happens to equal the claim's id links nothing); text values
    are left out (a merchant's name is not a kind of facts), as are facts about other instances."""
    from nesyflow.schema import to_facts

    try:
        roots = [pack.input_model.model_validate(instance.item.subject)]
        if instance.item.context is not None and pack.context_model is not None:
            roots.append(pack.context_model.model_validate(instance.item.context))
        symbols = list(to_facts(*roots))
    except Exception:  # a step the schema no longer reads gives no facts, so no narrowing
        return instance
    by_value: dict[str, str] = {}
    for name in sorted(body.variables):
        value = instance.bindings.get(name)
        if value is not None:
            by_value.setdefault(value, name)
    import clingo

    out: set[str] = set()
    for symbol in symbols:
        args = symbol.arguments
        if symbol.type != clingo.SymbolType.Function or not args:
            continue
        if any(a.type == clingo.SymbolType.String for a in args):
            continue
        first = str(args[0])
        if first in by_value:
            rest = ",".join(str(a) for a in args[1:])
            out.add(f"{symbol.name}({by_value[first]}{',' + rest if rest else ''})")
        elif first == "1" and symbol.name != "claim_items":
            out.add(str(symbol))  # the root's own facts (its id is always 1)
    return Instance(instance.item, instance.detail, instance.bindings, frozenset(out))


def _instances(item: PackStep) -> Iterator[tuple[tuple[str, str, int], str, Instance]]:
    for finding in item.result.get("violations") or ():
        for explanation in finding.get("explanation") or ():
            source = (explanation or {}).get("rule") or {}
            if not source.get("file") or not source.get("line"):
                continue
            key = (str(finding.get("rule")), str(source["file"]), int(source["line"]))
            bindings = {str(k): str(v) for k, v in (explanation.get("bindings") or {}).items()}
            yield (
                key,
                str(source.get("text") or ""),
                Instance(item, str(finding.get("detail")), bindings),
            )


def _parse_body(key: tuple[str, str, int], text: str) -> _Body | None:
    """The body's head detail and its comparisons, read with clingo's own parser."""
    import clingo.ast as ast

    rules: list[Any] = []
    try:
        ast.parse_string(text, rules.append)
    except RuntimeError:
        return None
    found = [r for r in rules if r.ast_type == ast.ASTType.Rule]
    if len(found) != 1:
        return None
    rule = found[0]
    head = rule.head
    if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
        return None
    symbol = head.atom.symbol
    if symbol.ast_type != ast.ASTType.Function or symbol.name != "violation":
        return None
    if len(symbol.arguments) != 2:
        return None
    detail = str(symbol.arguments[1])
    if any(v.startswith("_") for v in _VARIABLE.findall(detail)):
        return None  # an anonymous variable in the detail names no instance to except
    ops = {
        ast.ComparisonOperator.GreaterThan: ">",
        ast.ComparisonOperator.GreaterEqual: ">=",
        ast.ComparisonOperator.LessThan: "<",
        ast.ComparisonOperator.LessEqual: "<=",
    }
    comparisons = []
    variables: set[str] = set()
    for literal in rule.body:
        if literal.ast_type != ast.ASTType.Literal or literal.sign != ast.Sign.NoSign:
            continue
        atom = literal.atom
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            symbol_ = atom.symbol
            first = symbol_.arguments[0] if getattr(symbol_, "arguments", None) else None
            if first is not None and first.ast_type == ast.ASTType.Variable:
                variables.add(first.name)  # an id the input facts are keyed by (I in line(I, N))
        if atom.ast_type != ast.ASTType.Comparison or len(atom.guards) != 1:
            continue
        guard = atom.guards[0]
        if guard.comparison in ops:
            comparisons.append((str(atom.term), ops[guard.comparison], str(guard.term)))
    return _Body(key[0], key[1], key[2], text, detail, tuple(comparisons), frozenset(variables))


def _value(term: str, bindings: dict[str, str]) -> int | None:
    raw = bindings.get(term, term)
    try:
        return int(raw)
    except ValueError:
        return None


def _margin(comparison: tuple[str, str, str], bindings: dict[str, str]) -> int | None:
    left, op, right = comparison
    a, b = _value(left, bindings), _value(right, bindings)
    if a is None or b is None:
        return None
    return a - b if op in (">", ">=") else b - a


def _margin_term(comparison: tuple[str, str, str]) -> str:
    """How far past its bound a comparison is, as a term (``S - X`` for ``S > X``, ``0 - Q`` for
    ``Q <= 0``): the value :func:`_margin` computes from the bindings."""
    left, op, right = comparison
    return f"{left} - {right}" if op in (">", ">=") else f"{right} - {left}"


def _symbols(bindings: dict[str, str], detail: str) -> dict[str, str]:
    """The bound values that are plain constants (a category), not in the detail (an instance)."""
    named = set(_VARIABLE.findall(detail))
    return {
        k: v
        for k, v in bindings.items()
        if v and v[0].islower() and set(v) <= _SIMPLE and k not in named
    }


def _kinds(body: _Body, instances: list[Instance]) -> list[list[Instance]]:
    """The approvals grouped by the constants their bindings hold: one kind of facts each."""
    groups: dict[tuple[tuple[str, str], ...], list[Instance]] = {}
    for instance in instances:
        key = tuple(sorted(_symbols(instance.bindings, body.detail).items()))
        groups.setdefault(key, []).append(instance)
    return [groups[k] for k in sorted(groups)]


def _conditions(body: _Body, group: list[Instance]) -> list[str]:
    conditions: list[str] = []
    for comparison in body.comparisons:
        margins = [_margin(comparison, i.bindings) for i in group]
        if margins and all(m is not None for m in margins):
            conditions.append(
                f"{_margin_term(comparison)} <= {max(m for m in margins if m is not None)}"
            )
    for name, value in sorted(_symbols(group[0].bindings, body.detail).items()):
        conditions.append(f"{name} = {value}")
    shared = frozenset.intersection(*(i.facts for i in group)) if group else frozenset()
    conditions.extend(sorted(shared))
    return conditions


def _inside(body: _Body, conditions: list[str], instance: Instance) -> bool:
    """Whether the exception's bounds hold for ``instance`` (its recorded bindings)."""
    bounds = {_margin_term(c): c for c in body.comparisons}
    for condition in conditions:
        lhs, _, rhs = condition.rpartition(" <= ") if " <= " in condition else ("", "", "")
        if lhs in bounds:
            margin = _margin(bounds[lhs], instance.bindings)
            if margin is None or margin > int(rhs):
                return False
            continue
        name, sep, value = condition.partition(" = ")
        if sep:
            if instance.bindings.get(name) != value:
                return False
        elif condition not in instance.facts:
            return False
    return True


def _proposal(pack: Pack, body: _Body, group: list[Instance], rejected: list[Instance]) -> Proposal:
    conditions = _conditions(body, group)
    inside = [i for i in rejected if _inside(body, conditions, i)]
    outside = [i for i in rejected if not _inside(body, conditions, i)]
    reviews = sorted({i.review for i in group})
    who = sorted({i.item.step.decided_by or "?" for i in group})
    head = f"{_EXCEPTION}({body.rule}, {body.detail})"
    statement = body.text.strip()
    if not statement.endswith("."):
        raise ValueError(f"{body.file}:{body.line}: the recorded rule does not end with '.'")
    rule_body = statement.split(":-", 1)[1].strip()[:-1].strip()
    snippet = (
        f"% Proposed by nesyflow: people approved {body.rule} ({body.file}:{body.line}) in "
        f"{len(reviews)} reviews\n% ({', '.join(who)}; reviews {', '.join(r[:13] for r in reviews[:6])}"
        f"{', …' if len(reviews) > 6 else ''}).\n"
        f"% An exception holds only within what they approved. Accept it by committing this file.\n"
        f"{head} :-\n    {rule_body}" + "".join(f",\n    {c}" for c in conditions) + ".\n"
    )
    source = _source_file(pack, body.file)
    original = source.read_text(encoding="utf-8")
    at = _offset(original, body.line)
    position = original.find(statement, at)
    if position < 0:
        raise ValueError(f"{body.file}:{body.line}: the recorded rule is not in the pack's file")
    end = position + len(statement) - 1  # the final "."
    edited = original[:end] + f", not {head}" + original[end:]
    relative = source.relative_to(Path(pack.path).resolve()).as_posix()
    exception_file = f"exception_{body.rule}.lp"
    tests_file = f"tests/proposed_{body.rule}.yaml"
    tests_yaml = _tests(body, group, outside)
    files = {relative: edited, exception_file: snippet, tests_file: tests_yaml}
    diff = "".join(
        _diff(relative, original, edited)
        + _diff(exception_file, None, snippet)
        + _diff(tests_file, None, tests_yaml)
    )
    return Proposal(
        pack=str(pack.identity),
        rule=body.rule,
        where=f"{body.file}:{body.line}",
        approvals=group,
        rejections=outside,
        conflicts=inside,
        conditions=conditions,
        snippet=snippet,
        diff=diff,
        tests_yaml=tests_yaml,
        files=files,
    )


def _source_file(pack: Pack, name: str) -> Path:
    folder = Path(pack.path).resolve()
    for file in pack.sources:
        path = Path(file).resolve()
        if path.name == Path(name).name or path == (folder / name).resolve():
            return path
    raise ValueError(f"{name}: not a file of pack {pack.name}")


def _offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


def _diff(name: str, before: str | None, after: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile="/dev/null" if before is None else f"a/{name}",
            tofile=f"b/{name}",
        )
    )
    return [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    ]


def _expect_without(result: dict[str, Any], rule: str) -> dict[str, Any]:
    """The recorded result with ``rule``'s violation gone: what the person's approval says."""
    kinds = {
        kind: sorted(
            {str(f.get("rule")) for f in result.get(kind) or ()}
            - ({rule} if kind == "violations" else set())
        )
        for kind in ("violations", "reviews", "denials")
    }
    missing = sorted({str(m) for m in result.get("missing") or ()})
    verdicts = [Verdict.PASS]
    verdicts += [Verdict.FAIL] if kinds["violations"] else []
    verdicts += [Verdict.DENY] if kinds["denials"] else []
    verdicts += [Verdict.UNKNOWN] if missing else []
    verdicts += [Verdict.REVIEW] if kinds["reviews"] else []
    expect: dict[str, Any] = {"verdict": worst(verdicts).value}
    expect.update({k: v for k, v in kinds.items()})
    if missing:
        expect["missing"] = missing
    return expect


def _tests(body: _Body, group: list[Instance], rejected: list[Instance]) -> str:
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()

    def case(instance: Instance, name: str, expect: dict[str, Any]) -> None:
        step = instance.item.step
        if step.step_id in seen:
            return
        seen.add(step.step_id)
        entry: dict[str, Any] = {"name": name, "input": instance.item.subject}
        if instance.item.context is not None:
            entry["context"] = instance.item.context
        entry["expect"] = expect
        cases.append(entry)

    for instance in group:
        step = instance.item.step
        excepted = [
            i for i in group if i.item.step.step_id == step.step_id
        ]  # every approved instance of this step is inside the bounds by construction
        others = [
            f
            for f in instance.item.result.get("violations") or ()
            if f.get("rule") == body.rule
            and str(f.get("detail")) not in {i.detail for i in excepted}
        ]
        expect = _expect_without(instance.item.result, "" if others else body.rule)
        comment = f": {step.comment}" if step.comment else ""
        case(
            instance,
            f"{body.rule} approved by {step.decided_by} (review {instance.review[:13]}){comment}",
            expect,
        )
    for instance in rejected:
        step = instance.item.step
        expect = _expect_without(instance.item.result, "")
        case(
            instance,
            f"{body.rule} still fires: rejected by {step.decided_by} (review {instance.review[:13]})",
            expect,
        )
    return yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True)


def _prove(pack: Pack, proposal: Proposal, store: Store | None) -> None:
    """Apply the proposal to a copy of the pack: run its tests; with a store, its what-if."""
    from nesyflow.logic import load_pack
    from nesyflow.logic.testing import run_pack_tests

    with tempfile.TemporaryDirectory(prefix="nesyflow-proposal-") as tmp:
        copy = Path(tmp) / Path(pack.path).name
        shutil.copytree(pack.path, copy)
        proposal.apply(copy)
        try:
            patched = load_pack(copy)
        except Exception as exc:  # a proposal that does not load is shown failing, never passing
            proposal.tests_failed = 1
            proposal.test_failures = [f"the patched pack does not load: {exc}"]
            return
        report = run_pack_tests(patched)
        proposal.tests_passed, proposal.tests_failed = report.passed, report.failed
        proposal.test_failures = [
            f"{c.name} ({c.location}): {'; '.join(c.diffs) or c.error}"
            for c in report.cases
            if not c.passed
        ]
        if store is not None:
            proposal.impact = whatif(store, patched)
