"""Rulebase analysis before deploy (``nesyflow lint --deep``): what the rules can and cannot do.

A pack's tests say what the rules do on the cases someone wrote; this asks what they do on the inputs
*around* those cases. The method is a choice over input values, checked by the real checker (no
meta-encoding): for every test case and every value in it — every scalar field, every list element's
field, and every optional field the case left empty — the case is varied over a finite domain of
that field (an enum's members, both booleans, the values the cases use for the field, the program's
own numbers and their neighbours near those values, the program's strings, and "absent" for optional
fields). Each variant that the schema admits is checked with :func:`~nesyflow.logic.check_many`,
and the analysis keeps which rule bodies fired together.

So "can never fire" means: for none of those inputs. It is a strong warning, not a proof — a rule that
needs two values changed at once, or a value the pack never mentions, can be reported although some
input would fire it. The report says how many inputs it checked and what it could not finish.
(A choice rule over all values at once was tried first: gringo grounds an assignment aggregate such as
``T = #sum{…}`` over every integer between the smallest and largest possible sum, which for amounts in
cents is millions of atoms per rule.)

What it reports, each with the rule's file:line:
``never_fires``     a finding rule (one body) that no explored input fires;
``always_fires``    a violation or denial that fires for every explored input (nothing can pass);
``redundant``       two finding rule bodies that fired for exactly the same inputs;
``review_shadowed`` a review that only fired together with a violation (the step fails first, so a
                    person is never asked for that reason);
``two_values``      a derived key that took two values at once for one input, where the pack's own
                    tests never show it with several.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from clingo import Function, Number, String, Symbol, SymbolType, ast
from pydantic import BaseModel, ValidationError

from nesyflow.errors import Location, Problem
from nesyflow.logic import _program
from nesyflow.logic.checker import check_many
from nesyflow.logic.pack import Pack
from nesyflow.logic.result import CheckResult, Finding
from nesyflow.schema.facts import decode_value
from nesyflow.schema.plan import Container, FieldPlan, ModelPlan, ValueKind, plan_for

__all__ = ["DeepReport", "analyse_pack"]

_MAX_NUMBERS = 12  # per field: half from the cases' values, half from the program's numbers
_MAX_STRINGS = 4
_MAX_INPUTS = 5_000
_ABSENT = object()

Path_ = tuple[Any, ...]  # where a value sits in a case's JSON: field names and list indexes


@dataclass(frozen=True)
class DeepReport:
    """What the analysis found, how much it looked at, and what it could not finish."""

    pack: str
    problems: tuple[Problem, ...]
    cases: int
    inputs: int
    seconds: float
    incomplete: tuple[str, ...] = ()
    method: str = (
        "each test case varied one value at a time over a finite domain per field (enum members, "
        "booleans, the cases' values, the program's numbers ±1 near them, its strings, absent), "
        "every variant checked by the real checker"
    )

    @property
    def ok(self) -> bool:
        return not self.problems and not self.incomplete

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "method": self.method,
            "cases": self.cases,
            "inputs": self.inputs,
            "seconds": round(self.seconds, 3),
            "incomplete": list(self.incomplete),
            "problems": [
                {"location": str(p.location), "code": p.code, "message": p.message}
                for p in self.problems
            ],
        }


def analyse_pack(pack: Pack, *, max_inputs: int = _MAX_INPUTS) -> DeepReport:
    """Analyse ``pack`` (see the module docstring) on at most ``max_inputs`` variants."""
    started = time.perf_counter()
    fields = _fields(pack)
    cases = list(_cases(pack))
    numbers, strings = _program_constants(pack.statements)
    domains = _domains(fields, cases, numbers, strings)
    supports = {_body_key(pack, s): s for s in pack.supports}
    multi = _multi_valued(pack, cases)

    # the cases as written first: what the pack's tests fire is never reported as unfireable
    variants = [*cases, *_variants(pack, cases, domains)]
    incomplete: list[str] = []
    if len(variants) > max_inputs:  # spread the rest of the budget evenly over cases and fields
        incomplete.append(f"explored {max_inputs} of {len(variants)} variants (evenly spread)")
        rest = variants[len(cases) :]
        room = max(0, max_inputs - len(cases))
        step = len(rest) / max(1, room)
        variants = [*cases, *(rest[int(i * step)] for i in range(room))]
    inputs = [i for i, _c in variants]
    contexts = [c for _i, c in variants]
    results = check_many(pack, inputs, contexts) if variants else []

    fired_any: set[Any] = set()
    always: set[Any] | None = None
    implied: dict[Any, set[Any]] = {}
    two_values: dict[str, int] = {}
    unknown = 0
    for result in results:
        if result.reason and not result.missing and result.verdict.value == "unknown":
            unknown += 1  # the check itself could not decide: says nothing about the rules
            continue
        hits = _hits(result)
        fired_any |= hits
        always = set(hits) if always is None else always & hits
        for a in hits:
            implied[a] = set(hits) if a not in implied else implied[a] & hits
        for key, value in result.derived.items():
            if isinstance(value, list) and key.split("(", 1)[0] not in multi:
                two_values[key] = two_values.get(key, 0) + 1
    if not cases:
        incomplete.append("the pack has no valid test inputs to vary")
    if unknown:
        incomplete.append(f"{unknown} variants could not be checked (unknown with a reason)")

    problems: list[Problem] = []
    for key, spec in sorted(supports.items()):
        if key not in fired_any and cases:
            problems.append(
                Problem(
                    _where(spec.rule),
                    "never_fires",
                    f"{_name(spec)} never fired: no variant of the pack's test cases (one value "
                    f"changed at a time, {len(results)} inputs) makes its body true",
                )
            )
    for key in sorted(always or ()):
        spec = supports.get(key)
        if spec is not None and spec.kind in ("violation", "deny") and len(results) > 1:
            problems.append(
                Problem(
                    _where(spec.rule),
                    "always_fires",
                    f"{_name(spec)} fired for every one of {len(results)} inputs: "
                    "no step checked by this pack can pass",
                )
            )
    for a, bs in sorted(implied.items()):
        sa = supports.get(a)
        if sa is None:
            continue
        shadows: list[_program.SupportRule] = []
        for b in sorted(bs - {a}):
            sb = supports.get(b)
            if sb is None:
                continue
            if a < b and a in implied.get(b, set()):
                problems.append(
                    Problem(
                        _where(sb.rule),
                        "redundant",
                        f"{_name(sb)} fired for exactly the inputs {_name(sa)} at "
                        f"{_where(sa.rule)} fired for: one of them says nothing new",
                    )
                )
            if sa.kind == "review" and sb.kind == "violation":
                shadows.append(sb)
        if shadows:
            by = ", ".join(f"{_name(sb)} at {_where(sb.rule)}" for sb in shadows)
            problems.append(
                Problem(
                    _where(sa.rule),
                    "review_shadowed",
                    f"{_name(sa)} only fired together with {by}: the step fails first, so no "
                    "person is ever asked for this reason",
                )
            )
    for key, count in sorted(two_values.items()):
        problems.append(
            Problem(
                _derived_location(pack, key),
                "two_values",
                f"derived({key}, …) took two values at once for {count} input(s), and the pack's "
                "tests never show it with several; give each value its own key "
                "(e.g. derived(fee(Bag), V)) or make the rules decide one",
            )
        )
    return DeepReport(
        pack=str(pack.identity),
        problems=tuple(sorted(set(problems))),
        cases=len(cases),
        inputs=len(results),
        seconds=time.perf_counter() - started,
        incomplete=tuple(incomplete),
    )


def _body_key(pack: Pack, spec: _program.SupportRule) -> tuple[str, int]:
    """A rule body as explanations name it: its file's name and its first line (explanations give
    the file relative to the pack folder, or to where it was loaded from: the name is common)."""
    begin = spec.rule.location.begin
    return Path(begin.filename).name, begin.line


def _hits(result: CheckResult) -> set[Any]:
    """The rule bodies that fired, as (file, line) of the rule the explanation names."""
    out: set[Any] = set()
    findings: tuple[Finding, ...] = result.findings()
    for finding in findings:
        for e in finding.explanations:
            out.add((Path(e.rule.file).name, e.rule.line))
    return out


# --- the input side -------------------------------------------------------------------------


def _fields(pack: Pack) -> dict[str, tuple[ModelPlan, FieldPlan]]:
    """Every predicate of the input vocabulary → the model and field it encodes."""
    out: dict[str, tuple[ModelPlan, FieldPlan]] = {}
    todo = [m for m in (pack.input_model, pack.context_model) if m is not None]
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        plan = plan_for(model)
        for f in plan.fields:
            out[f.predicate] = (plan, f)
            if f.value.kind is ValueKind.MODEL:
                todo.append(f.value.py_type)
    return out


def _cases(pack: Pack) -> Iterator[tuple[BaseModel, BaseModel | None]]:
    """Every valid test case of the pack (invalid ones are the pack tests' business)."""
    for file in sorted((pack.path / "tests").glob("*.y*ml")):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for case in data.get("cases", []) if isinstance(data, dict) else []:
            if not isinstance(case, dict):
                continue
            try:
                instance = pack.input_model.model_validate(case.get("input"))
                context = None
                if case.get("context") is not None and pack.context_model is not None:
                    context = pack.context_model.model_validate(case["context"])
            except (ValidationError, ValueError):
                continue
            yield instance, context


def _multi_valued(pack: Pack, cases: list[tuple[BaseModel, BaseModel | None]]) -> set[str]:
    """Derived key names the pack's own cases show with several values (meant to be lists)."""
    out: set[str] = set()
    for result in check_many(pack, [i for i, _ in cases], [c for _, c in cases]):
        out |= {k.split("(", 1)[0] for k, v in result.derived.items() if isinstance(v, list)}
    return out


def _leaves(model: type[BaseModel], data: Any, path: Path_) -> Iterator[tuple[Path_, FieldPlan]]:
    """Every value position of one case's JSON, optional scalars left empty included."""
    if not isinstance(data, dict):
        return
    for f in plan_for(model).fields:
        value = data.get(f.name)
        here = (*path, f.name)
        nested = f.value.kind is ValueKind.MODEL
        if f.container is Container.SCALAR:
            if nested:
                if value is not None:
                    yield from _leaves(f.value.py_type, value, here)
            else:
                yield here, f
        elif f.container is Container.LIST and isinstance(value, list):
            for i, item in enumerate(value):
                if nested:
                    yield from _leaves(f.value.py_type, item, (*here, i))
                else:
                    yield (*here, i), f
        elif isinstance(value, dict):
            for k, item in value.items():
                if nested:
                    yield from _leaves(f.value.py_type, item, (*here, k))
                else:
                    yield (*here, k), f


def _variants(
    pack: Pack,
    cases: list[tuple[BaseModel, BaseModel | None]],
    domains: dict[str, list[Any]],
) -> Iterator[tuple[BaseModel, BaseModel | None]]:
    """Each case with one value replaced, for every value and domain member (new inputs only)."""
    seen: set[str] = {"input" + i.model_dump_json() for i, _c in cases}
    for instance, context in cases:
        roots = [("input", pack.input_model, instance.model_dump(mode="python"))]
        if context is not None and pack.context_model is not None:
            roots.append(("context", pack.context_model, context.model_dump(mode="python")))
        for which, model, data in roots:
            for path, f in _leaves(model, data, ()):
                for value in [*domains.get(f.predicate, ()), _ABSENT]:
                    changed = copy.deepcopy(data)
                    if not _put(changed, path, value, f):
                        continue
                    try:
                        varied = model.model_validate(changed)
                    except (ValidationError, ValueError):
                        continue  # not an input the schema admits
                    key = which + varied.model_dump_json()
                    if key in seen:
                        continue
                    seen.add(key)
                    if which == "input":
                        yield varied, context
                    else:
                        yield instance, varied


def _put(data: Any, path: Path_, value: Any, f: FieldPlan) -> bool:
    """Set (or, for ``_ABSENT``, clear) the value at ``path``; False if that makes no new input."""
    *parents, last = path
    for step in parents:
        data = data[step]
    if value is _ABSENT:
        if f.container is not Container.SCALAR or data.get(last) is None:
            return False
        data[last] = None
        return True
    data[last] = value
    return True


def _program_constants(statements: Sequence[ast.AST]) -> tuple[set[int], set[str]]:
    numbers: set[int] = set()
    strings: set[str] = set()

    class Collect(ast.Transformer):
        def visit_SymbolicTerm(self, node: ast.AST) -> ast.AST:
            sym = node.symbol
            if sym.type == SymbolType.Number:
                numbers.add(sym.number)
            elif sym.type == SymbolType.String:
                strings.add(sym.string)
            return node

    collect = Collect()
    for stmt in statements:
        collect(stmt)
    return numbers, strings


def _spread(values: Sequence[int], limit: int) -> list[int]:
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / (limit - 1)
    return sorted({values[round(i * step)] for i in range(limit)})


def _domains(
    fields: dict[str, tuple[ModelPlan, FieldPlan]],
    cases: list[tuple[BaseModel, BaseModel | None]],
    numbers: set[int],
    strings: set[str],
) -> dict[str, list[Any]]:
    """The Python values each field is varied over (converted from the facts' domain)."""
    seen: dict[str, list[Symbol]] = {}
    from nesyflow.errors import EncodingError
    from nesyflow.schema import to_facts

    for instance, context in cases:
        roots = [instance] + ([context] if context is not None else [])
        try:
            symbols = to_facts(*roots).symbols
        except EncodingError:  # a case of a value too large for the rules (its verdict: unknown)
            continue
        for sym in symbols:
            if sym.name in fields and sym.arguments:
                values = seen.setdefault(sym.name, [])
                if sym.arguments[-1] not in values:
                    values.append(sym.arguments[-1])
    around = sorted({n + d for n in numbers for d in (-1, 0, 1)} | {0})
    out: dict[str, list[Any]] = {}
    for name, (_plan, f) in fields.items():
        kind = f.value.kind
        used = seen.get(name, [])
        if kind is ValueKind.MODEL:
            continue
        if kind is ValueKind.CONST:
            symbols = [Function(c) for c, _ in f.value.constants]
        elif kind is ValueKind.BOOL:
            symbols = [Function("true"), Function("false")]
        elif kind is ValueKind.STRING:
            extra = [String(s) for s in sorted(strings) if String(s) not in used]
            symbols = [*used[: _MAX_STRINGS // 2], *extra][:_MAX_STRINGS]
            if String("other") not in symbols:  # a string no rule mentions
                symbols.append(String("other"))
        else:  # numbers of every kind: int, money, dates, times
            case_values = sorted({s.number for s in used if s.type == SymbolType.Number})
            mine = _spread(case_values, _MAX_NUMBERS // 2)
            # the program's numbers near what the field holds (a threshold of nights is not a
            # plausible amount in cents)
            low, high = (min(case_values), max(case_values)) if case_values else (0, 10)
            span = max(high - low, abs(high), 10)
            rest = [n for n in around if n not in mine and low - span <= n <= high + span]
            picked = mine + _spread(rest, _MAX_NUMBERS - len(mine))
            symbols = [Number(n) for n in sorted(set(picked))]
        values: list[Any] = []
        for sym in symbols:
            with contextlib.suppress(Exception):  # a number a date cannot hold, say
                values.append(decode_value(sym, f.value))
        out[name] = values
    return out


def _spread(values: Sequence[int], limit: int) -> list[int]:
    if limit <= 0:
        return []
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / max(1, limit - 1)
    return sorted({values[round(i * step)] for i in range(limit)})


# --- reporting --------------------------------------------------------------------------------


def _where(node: ast.AST) -> Location:
    begin = node.location.begin
    file = begin.filename
    with contextlib.suppress(ValueError):
        file = str(Path(file).resolve().relative_to(Path.cwd()))
    return Location(file, begin.line, begin.column)


def _name(spec: _program.SupportRule) -> str:
    rule = spec.head.arguments[0] if spec.head.arguments else spec.head
    return f"{spec.kind}({rule}, …)"


def _derived_location(pack: Pack, key: str) -> Location:
    name = key.split("(", 1)[0]
    for stmt in pack.statements:
        if stmt.ast_type != ast.ASTType.Rule or stmt.head.ast_type != ast.ASTType.Literal:
            continue
        atom = stmt.head.atom
        if atom.ast_type != ast.ASTType.SymbolicAtom:
            continue
        term = atom.symbol
        if term.ast_type == ast.ASTType.Function and term.name == "derived" and term.arguments:
            first = term.arguments[0]
            text = first.name if first.ast_type == ast.ASTType.Function else str(first)
            if text == name:
                return _where(stmt)
    return Location(str(pack.path / "pack.toml"))
