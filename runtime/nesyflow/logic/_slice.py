"""Relevance slicing: ground only the rules that can fire for this kind of input.

clingo spends ≈ 9 µs instantiating each non-ground rule even when no fact matches it, so a
150-rule pack costs ≈ 1.5 ms a check before it does anything useful. Most rules cannot fire for a
given input (a claim with only meals never touches the lodging rules), so the checker drops them.

The slice is computed on an abstraction that is sound by construction: an atom is abstracted to its
predicate plus, for each argument, the constant it holds (only argument-less constants are kept) or
``ANY``. A rule is live when every plain positive body literal matches some abstract atom with
consistent variable bindings; heads of live rules add abstract atoms; repeat to a fixpoint. A rule
that is not live has a positive literal that no atom can ever match, so dropping it changes no answer
set. Slices are cached by the abstract input (the set of input predicates and their constants).

A name defined by ``#const`` is not the constant it is spelled as: clingo replaces it by its value
(``#const watched = meals.`` makes ``flag(watched)`` the atom ``flag(meals)``), so the abstraction
reads such a name as ``ANY``. Taking it literally dropped live rules (``check`` passed where
``check_many``, which does not slice, failed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from clingo import Symbol, SymbolType, ast

from nesyflow.logic import _program

__all__ = ["Slicer", "abstract_key"]

ANY = None  # an argument whose value the abstraction does not track
Pattern = tuple[str, tuple]  # (predicate, args); args hold a constant name, ANY, or a variable


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _Rule:
    index: int  # position in the statement list
    body: tuple[Pattern, ...]  # plain positive literals (args: str constant | _Var | ANY)
    heads: tuple[Pattern, ...]


def _const(sym: Symbol) -> str | None:
    """Input side: only argument-less constants are tracked (numbers vary per case; tracking them
    would make every amount its own cache key)."""
    if sym.type == SymbolType.Function and not sym.arguments and sym.name:
        return sym.name
    return ANY


def _value(sym: Symbol, consts: frozenset[str]) -> str | int | None:
    """Program side: constants and numbers written in rules are tracked (not ``#const`` names)."""
    if sym.type == SymbolType.Number:
        return sym.number
    if sym.type == SymbolType.Function and not sym.arguments and sym.name in consts:
        return ANY
    return _const(sym)


def abstract_key(symbols: Iterable[Symbol]) -> frozenset[Pattern]:
    """The abstraction of a set of input facts."""
    return frozenset(
        ((("-" if not s.positive else "") + s.name), tuple(_const(a) for a in s.arguments))
        for s in symbols
    )


def _term_pattern(term: ast.AST, consts: frozenset[str]) -> str | _Var | None:
    kind = term.ast_type
    if kind == ast.ASTType.Variable:
        return _Var(term.name) if term.name != "_" else ANY
    if kind == ast.ASTType.SymbolicTerm:
        return _value(term.symbol, consts)
    if kind == ast.ASTType.Function and not term.arguments and term.name:
        return ANY if term.name in consts else term.name
    return ANY  # numbers, strings, arithmetic, tuples, nested terms: not tracked


def _atom_pattern(term: ast.AST, consts: frozenset[str]) -> list[Pattern]:
    """Patterns of an atom's term (a pool gives several)."""
    if term.ast_type == ast.ASTType.Pool:
        return [p for alt in term.arguments for p in _atom_pattern(alt, consts)]
    sign = ""
    if term.ast_type == ast.ASTType.UnaryOperation:
        sign, term = "-", term.argument
    if term.ast_type == ast.ASTType.Function and term.name:
        if any(a.ast_type == ast.ASTType.Pool for a in term.arguments):
            return [(sign + term.name, tuple(ANY for _ in term.arguments))]
        return [(sign + term.name, tuple(_term_pattern(a, consts) for a in term.arguments))]
    if term.ast_type == ast.ASTType.SymbolicTerm and term.symbol.type == SymbolType.Function:
        sym = term.symbol
        return [(sign + sym.name, tuple(_value(a, consts) for a in sym.arguments))]
    return []


class _Heads(ast.Transformer):
    def __init__(self, consts: frozenset[str]) -> None:
        self.patterns: list[Pattern] = []
        self.consts = consts

    def visit_SymbolicAtom(self, node: ast.AST) -> ast.AST:
        self.patterns.extend(_atom_pattern(node.symbol, self.consts))
        return node


def _defined_constants(statements: Sequence[ast.AST]) -> frozenset[str]:
    """Names given a value by ``#const`` (anywhere in the program: clingo applies them everywhere)."""
    return frozenset(s.name for s in statements if s.ast_type == ast.ASTType.Definition)


def _compile(statements: Sequence[ast.AST]) -> tuple[list[_Rule], set[Pattern]]:
    rules: list[_Rule] = []
    facts: set[Pattern] = set()
    consts = _defined_constants(statements)
    for index, stmt in enumerate(statements):
        if stmt.ast_type == ast.ASTType.External:
            collector = _Heads(consts)
            collector(stmt.atom)
            rules.append(_Rule(index, (), tuple(_ground(p) for p in collector.patterns)))
            continue
        if stmt.ast_type != ast.ASTType.Rule:
            continue
        fact = _program.fact_term(stmt)
        if fact is not None:  # tables: one pattern, no walk over the rule
            facts.update(_ground(p) for p in _atom_pattern(fact, consts))
            continue
        body: list[Pattern] = []
        for lit in stmt.body:
            if (
                lit.ast_type == ast.ASTType.Literal
                and lit.sign == ast.Sign.NoSign
                and lit.atom.ast_type == ast.ASTType.SymbolicAtom
            ):
                pats = _atom_pattern(lit.atom.symbol, consts)
                if len(pats) == 1:
                    body.append(pats[0])
        collector = _Heads(consts)
        collector(stmt.head)
        rules.append(_Rule(index, tuple(body), tuple(collector.patterns)))
        if not body:
            facts.update(_ground(p) for p in collector.patterns)
    return rules, facts


def _ground(pattern: Pattern) -> Pattern:
    """A head pattern with no bindings: variables become ANY."""
    name, args = pattern
    return name, tuple(ANY if isinstance(a, _Var) else a for a in args)


def _matches(
    pattern: Pattern, atom_args: tuple, binding: dict[str, str | None]
) -> dict[str, str | None] | None:
    """The binding extended by matching ``pattern`` against an abstract atom, or None."""
    _, args = pattern
    if len(args) != len(atom_args):
        return None
    new = binding
    for want, have in zip(args, atom_args, strict=True):
        if want is ANY:
            continue
        if isinstance(want, _Var):
            if want.name not in new:
                new = {**new, want.name: have}
            elif new[want.name] is ANY:
                if have is not ANY:  # the value must be this constant for both literals
                    new = {**new, want.name: have}
            elif have is not ANY and have != new[want.name]:
                return None
        elif have is not ANY and have != want:
            return None
    return new


def _fire(rule: _Rule, by_pred: dict[str, set[tuple]]) -> list[dict[str, str | None]]:
    bindings: list[dict[str, str | None]] = [{}]
    for pattern in rule.body:
        candidates = by_pred.get(pattern[0])
        if not candidates:
            return []
        nxt = []
        for binding in bindings:
            for args in candidates:
                result = _matches(pattern, args, binding)
                if result is not None:
                    nxt.append(result)
        bindings = list({tuple(sorted(b.items(), key=lambda kv: kv[0])): b for b in nxt}.values())
        if not bindings:
            return []
    return bindings


def _head(pattern: Pattern, binding: dict[str, str | None]) -> Pattern:
    name, args = pattern
    out = []
    for a in args:
        if isinstance(a, _Var):
            out.append(binding.get(a.name, ANY))
        else:
            out.append(a)
    return name, tuple(out)


class Slicer:
    """Computes (and caches) the live statements of a program for an abstract input."""

    def __init__(self, statements: Sequence[ast.AST], cache_size: int = 512) -> None:
        self.statements = list(statements)
        self.rules, self.facts = _compile(self.statements)
        self._rule_index = {r.index for r in self.rules}
        self._cache: OrderedDict[frozenset[Pattern], list[ast.AST]] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def live(self, key: frozenset[Pattern]) -> list[ast.AST]:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        live = self._compute(key)
        with self._lock:
            self._cache[key] = live
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return live

    def _compute(self, key: frozenset[Pattern]) -> list[ast.AST]:
        by_pred: dict[str, set[tuple]] = {}
        for name, args in [*key, *self.facts]:
            by_pred.setdefault(name, set()).add(args)
        live: set[int] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.rules:
                bindings = _fire(rule, by_pred)
                if not bindings:
                    continue
                live.add(rule.index)
                for binding in bindings:
                    for head in rule.heads:
                        name, args = _head(head, binding)
                        known = by_pred.setdefault(name, set())
                        if args not in known:
                            known.add(args)
                            changed = True
        return [
            stmt for i, stmt in enumerate(self.statements) if i not in self._rule_index or i in live
        ]
