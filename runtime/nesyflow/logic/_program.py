"""Rewrites of a pack's parsed program (clingo AST), done once when the pack loads.

* ``support rules``: every rule whose head is ``violation/2``, ``review/2`` or ``deny/2`` becomes
  ``_nf_fired(K, (V1,…,Vn), Head) :- Body.``, which records each ground instance's variable bindings
  with the finding it derives, so a finding can be explained by the body atoms it matched (no
  meta-encoding, no second solver call); one projection per finding predicate derives the findings.
* ``batch tagging``: every predicate that depends on the input gets the case id as a new first
  argument, so many cases ground and solve in one go while the case-independent part of the pack
  (fee tables, limits) is grounded once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clingo import Function as SymFunction
from clingo import Number, Symbol, SymbolType, ast

__all__ = [
    "FINDING_HEADS",
    "RuleInfo",
    "SupportRule",
    "analyse",
    "batch_rewrite",
    "compile_term",
    "eval_term",
    "read_signatures",
    "support_rules",
]

FIRED = "_nf_fired"
CASE = "_nf_case"
CASE_VAR = "NfCase"
FINDING_HEADS = {("violation", 2): "violation", ("review", 2): "review", ("deny", 2): "deny"}
VOCABULARY = {*FINDING_HEADS, ("missing", 1), ("derived", 2)}


def _signature(atom_term: ast.AST) -> tuple[str, int] | None:
    """(name, arity) of a symbolic atom's term, or None for non-predicates."""
    term = atom_term
    if term.ast_type == ast.ASTType.Pool and term.arguments:  # p(a;b) parses as a pool of p(_)
        term = term.arguments[0]
    if term.ast_type == ast.ASTType.UnaryOperation:
        term = term.argument
    if term.ast_type == ast.ASTType.Function and term.name:
        return (term.name, len(term.arguments))
    if term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == SymbolType.Function:
        return (term.symbol.name, len(term.symbol.arguments))
    return None


def fact_term(stmt: ast.AST) -> ast.AST | None:
    """The head term of a plain fact (``p(a, 1).``), else None.

    Packs carry tables as hundreds of facts; recognising them without walking their arguments keeps
    loading fast (every AST attribute access is a call into clingo's C API).
    """
    if stmt.ast_type != ast.ASTType.Rule or stmt.body:
        return None
    head = stmt.head
    if head.ast_type != ast.ASTType.Literal or head.sign != ast.Sign.NoSign:
        return None
    atom = head.atom
    if atom.ast_type != ast.ASTType.SymbolicAtom:
        return None
    term = atom.symbol
    if term.ast_type != ast.ASTType.Function or not term.name:
        return None
    return term


class _Collect(ast.Transformer):
    """Collects the signatures of symbolic atoms (and optionally variable names) under a node."""

    def __init__(self) -> None:
        self.signatures: list[tuple[tuple[str, int], ast.AST]] = []
        self.variables: list[str] = []

    def visit_SymbolicAtom(self, node: ast.AST) -> ast.AST:
        sig = _signature(node.symbol)
        if sig is not None:
            self.signatures.append((sig, node.symbol))  # the term: it has the location
        return node.update(**self.visit_children(node))

    def visit_Variable(self, node: ast.AST) -> ast.AST:
        self.variables.append(node.name)
        return node


def _collect(nodes: Iterable[ast.AST]) -> _Collect:
    collector = _Collect()
    for node in nodes:
        collector(node)
    return collector


@dataclass
class RuleInfo:
    """What the linter needs to know about a program."""

    defined: dict[tuple[str, int], list[ast.AST]] = field(default_factory=dict)
    used: dict[tuple[str, int], list[ast.AST]] = field(default_factory=dict)
    # (kind, rule id constant or None when not a constant, head atom node)
    finding_heads: list[tuple[str, str | None, ast.AST]] = field(default_factory=list)
    shows: list[ast.AST] = field(default_factory=list)
    programs: list[ast.AST] = field(default_factory=list)


def analyse(statements: Sequence[ast.AST]) -> RuleInfo:
    info = RuleInfo()
    for stmt in statements:
        kind = stmt.ast_type
        fact = fact_term(stmt)
        if fact is not None:
            sig = (fact.name, len(fact.arguments))
            info.defined.setdefault(sig, []).append(fact)
            if sig in FINDING_HEADS:
                info.finding_heads.append((FINDING_HEADS[sig], _rule_id(fact), fact))
            continue
        if kind == ast.ASTType.Rule:
            head = _collect([stmt.head])
            for sig, node in head.signatures:
                info.defined.setdefault(sig, []).append(node)
                if sig in FINDING_HEADS:
                    info.finding_heads.append((FINDING_HEADS[sig], _rule_id(node), node))
            for sig, node in _collect(stmt.body).signatures:
                info.used.setdefault(sig, []).append(node)
            # a head's condition (p(X) : q(X)) reads q
            if stmt.head.ast_type in (
                ast.ASTType.Disjunction,
                ast.ASTType.Aggregate,
                ast.ASTType.HeadAggregate,
            ):
                conds = _collect(_head_conditions(stmt.head)).signatures
                for sig, node in conds:
                    info.used.setdefault(sig, []).append(node)
        elif kind == ast.ASTType.External:
            for sig, node in _collect([stmt.atom]).signatures:
                info.defined.setdefault(sig, []).append(node)
        elif kind in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm):
            info.shows.append(stmt)
        elif kind == ast.ASTType.Program:
            info.programs.append(stmt)
    return info


def read_signatures(statements: Sequence[ast.AST]) -> frozenset[tuple[str, int]] | None:
    """Every predicate some statement reads (bodies, conditions), or None when that is unknowable.

    The checker encodes only input facts of these predicates: a field no rule reads cannot change
    a verdict, so a value in it the engine could not hold (a NUL, a number past 32 bits) must not
    block the check either. A ``#script`` could read anything, so it makes the answer None.
    """
    read: set[tuple[str, int]] = set()
    for stmt in statements:
        kind = stmt.ast_type
        if kind == ast.ASTType.Script:
            return None
        if kind == ast.ASTType.Rule:
            if fact_term(stmt) is not None:
                continue
            read.update(sig for sig, _ in _collect(stmt.body).signatures)
            read.update(sig for sig, _ in _collect(_head_conditions(stmt.head)).signatures)
        elif kind in (ast.ASTType.ShowSignature, ast.ASTType.Program, ast.ASTType.Definition):
            continue
        elif kind == ast.ASTType.External:
            read.update(sig for sig, _ in _collect(stmt.body).signatures)
        else:  # #minimize, #show t : body, #heuristic, #edge, #project, theory atoms…
            read.update(sig for sig, _ in _collect([stmt]).signatures)
    return frozenset(read)


def _head_conditions(head: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for element in getattr(head, "elements", []):
        cond = getattr(element, "condition", None)
        if cond is None:
            continue
        if isinstance(cond, ast.AST) and cond.ast_type == ast.ASTType.ConditionalLiteral:
            out.extend(cond.condition)
        else:
            out.extend(cond)
    return out


def _rule_id(term: ast.AST) -> str | None:
    first = term.arguments[0] if term.ast_type == ast.ASTType.Function else None
    if first is None:
        return None
    symbol = first.symbol if first.ast_type == ast.ASTType.SymbolicTerm else None
    if symbol is not None and symbol.type == SymbolType.Function and not symbol.arguments:
        return symbol.name
    if first.ast_type == ast.ASTType.Function and not first.arguments and first.name:
        return first.name
    return None


@dataclass(frozen=True)
class SupportRule:
    """The bookkeeping for one finding rule: its head, body atoms and variable order."""

    index: int
    kind: str
    rule: ast.AST  # the original rule (location and text)
    variables: tuple[str, ...]
    head: ast.AST  # head atom term with variables
    body_atoms: tuple[ast.AST, ...]  # positive body atom terms (anonymous variables named)
    body_fns: tuple[Any, ...] = ()  # compiled body atom terms


class _NameAnonymous(ast.Transformer):
    def __init__(self) -> None:
        self.count = 0

    def visit_Variable(self, node: ast.AST) -> ast.AST:
        if node.name == "_":
            self.count += 1
            return node.update(name=f"NfAnon{self.count}")
        return node


def support_rules(statements: Sequence[ast.AST]) -> tuple[list[ast.AST], list[SupportRule]]:
    """The program with every finding rule recording why it fired, and what each records.

    ``violation(r, D) :- Body.`` becomes ``_nf_fired(K, (V1,…,Vn), violation(r, D)) :- Body.``:
    the body is grounded once, and every instance that fires leaves its variable bindings behind
    for the explanation. One projection per finding predicate, ``violation(R, D) :- _nf_fired(_, _,
    violation(R, D)).``, derives the findings themselves. Not one projection per rule: clingo spends
    ~10 µs per non-ground rule on every ground call, and a pack has dozens of finding rules.
    """
    out: list[ast.AST] = []
    specs: list[SupportRule] = []
    projected: list[tuple[str, int]] = []
    for stmt in statements:
        split = _split_finding_rule(stmt, len(specs))
        if split is None:
            out.append(stmt)
            continue
        fired_rule, spec = split
        out.append(fired_rule)
        specs.append(spec)
        sig = _signature(stmt.head.atom.symbol)
        if sig not in projected:
            projected.append(sig)
    out.extend(_projection(name, arity) for name, arity in projected)
    return out, specs


_HERE = ast.Location(ast.Position("<nesyflow>", 1, 1), ast.Position("<nesyflow>", 1, 1))


def _projection(name: str, arity: int) -> ast.AST:
    """``name(A1,…,An) :- _nf_fired(_, _, name(A1,…,An)).``"""
    args = [ast.Variable(_HERE, f"NfArg{i}") for i in range(arity)]
    head = ast.Function(_HERE, name, args, 0)
    fired = ast.Function(
        _HERE, FIRED, [ast.Variable(_HERE, "_"), ast.Variable(_HERE, "_"), head], 0
    )
    return ast.Rule(
        _HERE,
        ast.Literal(_HERE, ast.Sign.NoSign, ast.SymbolicAtom(head)),
        [ast.Literal(_HERE, ast.Sign.NoSign, ast.SymbolicAtom(fired))],
    )


def _split_finding_rule(stmt: ast.AST, index: int) -> tuple[ast.AST, SupportRule] | None:
    if stmt.ast_type != ast.ASTType.Rule or stmt.head.ast_type != ast.ASTType.Literal:
        return None
    head_atom = stmt.head.atom
    if head_atom.ast_type != ast.ASTType.SymbolicAtom:
        return None
    sig = _signature(head_atom.symbol)
    if sig not in FINDING_HEADS:
        return None
    namer = _NameAnonymous()
    body: list[ast.AST] = []
    positive: list[ast.AST] = []
    for lit in stmt.body:
        if (
            lit.ast_type == ast.ASTType.Literal
            and lit.sign == ast.Sign.NoSign
            and lit.atom.ast_type == ast.ASTType.SymbolicAtom
        ):
            lit = namer(lit)
            positive.append(lit.atom.symbol)
        body.append(lit)
    names: list[str] = []
    for node in [stmt.head, *body]:
        for name in _global_variables(node):
            if name != "_" and name not in names:
                names.append(name)
    loc = stmt.location
    tup = ast.Function(loc, "", [ast.Variable(loc, n) for n in names], 0)
    fired = ast.Function(
        loc, FIRED, [ast.SymbolicTerm(loc, Number(index)), tup, head_atom.symbol], 0
    )
    fired_rule = ast.Rule(loc, ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(fired)), body)
    spec = SupportRule(
        index,
        FINDING_HEADS[sig],
        stmt,
        tuple(names),
        head_atom.symbol,
        tuple(positive),
        tuple(compile_term(t) for t in positive),
    )
    return fired_rule, spec


def _global_variables(node: ast.AST) -> list[str]:
    """Variables of a body element that are global (not local to an aggregate or condition)."""
    kind = node.ast_type
    if kind == ast.ASTType.Literal:
        atom = node.atom
        if atom.ast_type in (ast.ASTType.BodyAggregate, ast.ASTType.Aggregate):
            guards = [g for g in (atom.left_guard, atom.right_guard) if g is not None]
            return _collect([g.term for g in guards]).variables
        return _collect([atom]).variables
    return []  # conditional literals and theory atoms keep their variables to themselves


# --- evaluating a term under a binding (to rebuild ground body atoms) -------------------------

_ARITH = {
    ast.BinaryOperator.Plus: lambda a, b: a + b,
    ast.BinaryOperator.Minus: lambda a, b: a - b,
    ast.BinaryOperator.Multiplication: lambda a, b: a * b,
    ast.BinaryOperator.Division: lambda a, b: int(a / b) if b else None,
    ast.BinaryOperator.Modulo: lambda a, b: a - b * int(a / b) if b else None,
}


def eval_term(term: ast.AST, binding: dict[str, Symbol]) -> Symbol | None:
    """The ground symbol of ``term`` under ``binding``, or None when it cannot be rebuilt."""
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicTerm:
        return term.symbol
    if kind == ast.ASTType.Variable:
        return binding.get(term.name)
    if kind == ast.ASTType.Function:
        args = [eval_term(a, binding) for a in term.arguments]
        if any(a is None for a in args):
            return None
        return SymFunction(term.name, args)  # type: ignore[arg-type]
    if kind == ast.ASTType.UnaryOperation:
        inner = eval_term(term.argument, binding)
        if inner is None:
            return None
        if term.operator_type == ast.UnaryOperator.Minus:
            if inner.type == SymbolType.Number:
                return Number(-inner.number)
            if inner.type == SymbolType.Function:
                return SymFunction(inner.name, inner.arguments, not inner.positive)
        return None
    if kind == ast.ASTType.BinaryOperation:
        left, right = eval_term(term.left, binding), eval_term(term.right, binding)
        op = _ARITH.get(term.operator_type)
        if left is None or right is None or op is None:
            return None
        if left.type != SymbolType.Number or right.type != SymbolType.Number:
            return None
        value = op(left.number, right.number)
        return None if value is None else Number(value)
    return None


def compile_term(term: ast.AST):
    """``term`` as a Python closure ``binding -> Symbol | None`` (same result as :func:`eval_term`).

    Walking clingo's AST goes through its C API on every attribute access; explanations evaluate the
    same few terms for every finding of every check, so they are compiled once at load.
    """
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicTerm:
        sym = term.symbol
        return lambda _b: sym
    if kind == ast.ASTType.Variable:
        name = term.name
        return lambda b: b.get(name)
    if kind == ast.ASTType.Function:
        fname = term.name
        parts = [compile_term(a) for a in term.arguments]

        def function(b):
            args = [f(b) for f in parts]
            return None if None in args else SymFunction(fname, args)

        return function
    return lambda b: eval_term(term, b)  # arithmetic and the rest: rare in atoms, keep exact


# --- batch rewrite ------------------------------------------------------------------------------


def case_dependent(
    statements: Sequence[ast.AST], inputs: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Predicates whose truth depends on the input (so they need a case id in batch mode)."""
    tagged = set(inputs) | VOCABULARY
    rules = []
    for stmt in statements:
        if stmt.ast_type == ast.ASTType.Rule and fact_term(stmt) is None:
            heads = {sig for sig, _ in _collect([stmt.head]).signatures}
            body = {sig for sig, _ in _collect(stmt.body).signatures}
            body |= {sig for sig, _ in _collect(_head_conditions(stmt.head)).signatures}
            rules.append((heads, body))
    changed = True
    while changed:
        changed = False
        for heads, body in rules:
            if body & tagged and not heads <= tagged:
                tagged |= heads
                changed = True
    return tagged


class _Tag(ast.Transformer):
    def __init__(self, tagged: set[tuple[str, int]]) -> None:
        self.tagged = tagged
        self.hit = False

    def visit_SymbolicAtom(self, node: ast.AST) -> ast.AST:
        term = node.symbol
        negated = term.ast_type == ast.ASTType.UnaryOperation
        inner = term.argument if negated else term
        sig = _signature(inner)
        if sig is None or sig not in self.tagged:
            return node
        if inner.ast_type == ast.ASTType.SymbolicTerm:  # a zero-arity atom written as a constant
            inner = ast.Function(inner.location, inner.symbol.name, [], 0)
        self.hit = True
        loc = inner.location
        new = inner.update(arguments=[ast.Variable(loc, CASE_VAR), *inner.arguments])
        return node.update(symbol=term.update(argument=new) if negated else new)


def batch_rewrite(statements: Sequence[ast.AST], inputs: set[tuple[str, int]]) -> list[ast.AST]:
    """The program with a case id threaded through every input-dependent predicate."""
    tagged = case_dependent(statements, inputs)
    tagged |= {(FIRED, 3), ("_nf_sum_over", 1)}
    out: list[ast.AST] = []
    for stmt in statements:
        fact = fact_term(stmt)
        if stmt.ast_type not in (ast.ASTType.Rule, ast.ASTType.External) or (
            fact is not None and (fact.name, len(fact.arguments)) not in tagged
        ):
            out.append(stmt)
            continue
        tagger = _Tag(tagged)
        new = tagger(stmt)
        if tagger.hit:
            loc = stmt.location
            case_lit = ast.Literal(
                loc,
                ast.Sign.NoSign,
                ast.SymbolicAtom(ast.Function(loc, CASE, [ast.Variable(loc, CASE_VAR)], 0)),
            )
            new = new.update(body=[case_lit, *new.body])
        out.append(new)
    return out


# --- determinism ----------------------------------------------------------------------------------


def is_stratified(statements: Sequence[ast.AST]) -> bool:
    """True when the program has one answer set that grounding alone computes.

    That holds with no choice rules or disjunctions and no recursion through negation or
    aggregates. Such a pack needs no search, so the checker can solve it synchronously (an
    asynchronous solve with a watchdog costs ≈ 0.1 ms a check); other packs get the watchdog.
    """
    edges: dict[tuple[str, int], set[tuple[str, int]]] = {}
    nonmonotone: list[tuple[tuple[str, int], tuple[str, int]]] = []
    for stmt in statements:
        if stmt.ast_type != ast.ASTType.Rule or not stmt.body:
            if stmt.ast_type == ast.ASTType.Rule and stmt.head.ast_type != ast.ASTType.Literal:
                return False
            continue
        if stmt.head.ast_type != ast.ASTType.Literal:
            return False  # choice, disjunction or head aggregate: search may be needed
        heads = [sig for sig, _ in _collect([stmt.head]).signatures]
        for lit in stmt.body:
            plain = (
                lit.ast_type == ast.ASTType.Literal
                and lit.atom.ast_type == ast.ASTType.SymbolicAtom
            )
            for sig, _ in _collect([lit]).signatures:
                for head in heads:
                    edges.setdefault(head, set()).add(sig)
                    if not plain or lit.sign != ast.Sign.NoSign:
                        nonmonotone.append((head, sig))

    def reaches(start: tuple[str, int], goal: tuple[str, int]) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))
        return False

    return not any(reaches(body, head) for head, body in nonmonotone)
