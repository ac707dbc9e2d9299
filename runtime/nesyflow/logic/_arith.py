"""Exact arithmetic for rule packs: no verdict may rest on a value clingo wrapped around 32 bits.

clingo's integers are 32-bit and wrap silently (``2147483647 + 1`` is ``-2147483648``,
``65536 * 65536`` is ``0``; ``-2147483648 / -1`` even kills the process with SIGFPE), and the value
``S`` of ``S = #sum{...}`` wraps too. Inputs that are each in range can therefore make a pack pass
on a wrong number. This module closes that at pack load, invisibly to rule authors:

* **terms** (:func:`guard_program`): every arithmetic term that can leave 32 bits — ``+ - * ** |x|``,
  unary minus, ``/`` and ``\\`` by anything but a constant other than 0 and -1 — becomes a call
  ``@nf_mul(A, B, Site)`` to :class:`Guard`, the context object of ``ctl.ground``. It computes with
  Python integers under clingo's own semantics (division and modulo truncate toward zero; ``**``
  with a negative exponent is 0, undefined for base 0; an operand that is not a number makes the
  term undefined, so the rule instance vanishes as in clingo), and raises :class:`TooLarge` naming
  the rule's file, line and expression when the exact result does not fit. A positive body atom
  that clingo matches by inverting a linear term (``p(X + 1)`` binding ``X``) is matched on a fresh
  variable and inverted exactly instead. Ground arithmetic (``#const n = 2 * 3.``) is evaluated
  once at load; if it does not fit, the pack does not load.
* **sums**: clingo compares ``#sum`` guards exactly but wraps the value it assigns
  (``S = #sum{...}``). For every such aggregate a twin rule with the same body (the literals that
  depend on ``S`` dropped) tests the same elements against the 32-bit bounds as guards, which
  clingo compares exactly, and derives the shown atom ``_nf_sum_over(Site)`` only when the sum
  does not fit; the checker then answers ``unknown`` (:func:`sum_overflow`). ``#count``, ``#min`` and ``#max``
  compute no new numbers.

Not covered (documented): theory atoms, and the weights of ``#minimize`` (clasp sums them in 64
bits; no shipped pack optimises).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from clingo import Function as SymFunction
from clingo import Number, Symbol, SymbolType, ast

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "SUM",
    "Guard",
    "Site",
    "TooLarge",
    "exact",
    "guard_program",
    "sum_overflow",
]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
SUM = "_nf_sum_over"
SUM_ARITY = 1
TOO_LARGE = "too large to compute exactly"

_B = ast.BinaryOperator
_U = ast.UnaryOperator
_OPS = {
    _B.Plus: "add",
    _B.Minus: "sub",
    _B.Multiplication: "mul",
    _B.Division: "div",
    _B.Modulo: "mod",
    _B.Power: "pow",
}
_SIGNS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "\\", "pow": "**"}


class TooLarge(Exception):
    """Raised from inside grounding when an exact result does not fit clingo's 32-bit integers."""

    def __init__(self, reason: object) -> None:
        # clingo re-raises a callback's exception as ``type(exc)(exc)``: keep the text either way
        super().__init__(str(reason))
        self.reason = str(reason)


@dataclass(frozen=True)
class Site:
    """Where an arithmetic term or a sum is written: for the reason a person reads."""

    file: str
    line: int
    text: str

    def where(self) -> str:
        return f"{self.text} in {_short_file(self.file)}:{self.line}"


def _short_file(file: str) -> str:
    parts = file.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) > 1 else file


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def exact(op: str, a: int, b: int) -> int | None:
    """``a op b`` on unbounded integers with clingo's semantics; None when clingo leaves it undefined."""
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return None if b == 0 else _trunc_div(a, b)
    if op == "mod":
        return None if b == 0 else a - b * _trunc_div(a, b)
    if op == "pow":
        if b < 0:
            return None if a == 0 else 0
        if a in (0, 1):
            return a if b else 1
        if a == -1:
            return -1 if b % 2 else 1
        if b > 64:  # |a| >= 2: certainly past 32 bits, without building a huge number
            return INT_MAX + 1 if a > 0 or b % 2 == 0 else INT_MIN - 1
        return a**b
    raise ValueError(op)


class Guard:
    """The context object of ``ctl.ground``: clingo calls these for the rewritten terms.

    Stateless apart from the pack's site table, so one instance serves every check and thread.
    Returning ``[]`` makes the term undefined (clingo drops the rule instance), as clingo does for
    arithmetic on non-numbers or by zero.
    """

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = tuple(sites)

    def _fail(self, site: Symbol, text: str, value: int) -> TooLarge:
        where = self.sites[site.number].where() if site.type == SymbolType.Number else "?"
        return TooLarge(f"{TOO_LARGE}: {where} (exact value {text} = {value} is past 32 bits)")

    def _binary(self, op: str, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        if a.type != SymbolType.Number or b.type != SymbolType.Number:
            return []
        x, y = a.number, b.number
        value = exact(op, x, y)
        if value is None:
            return []
        if INT_MIN <= value <= INT_MAX:
            return Number(value)
        raise self._fail(site, f"{x} {_SIGNS[op]} {y}", value)

    def nf_add(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("add", a, b, site)

    def nf_sub(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("sub", a, b, site)

    def nf_mul(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("mul", a, b, site)

    def nf_div(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("div", a, b, site)

    def nf_mod(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("mod", a, b, site)

    def nf_pow(self, a: Symbol, b: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        return self._binary("pow", a, b, site)

    def nf_neg(self, a: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        if a.type == SymbolType.Function:  # -f(x): clingo's sign on a term, not arithmetic
            return SymFunction(a.name, a.arguments, not a.positive)
        if a.type != SymbolType.Number:
            return []
        if a.number == INT_MIN:
            raise self._fail(site, f"-({a.number})", -a.number)
        return Number(-a.number)

    def nf_abs(self, a: Symbol, site: Symbol) -> Symbol | list[Symbol]:
        if a.type != SymbolType.Number:
            return []
        if a.number == INT_MIN:
            raise self._fail(site, f"|{a.number}|", -a.number)
        return Number(abs(a.number))

    # Inverting a matched pattern (p(X + 1) against p(V): X = V - 1). A value with no 32-bit
    # preimage matches nothing, so these make the instance vanish instead of raising.
    def nf_inv(self, op: Symbol, a: Symbol, b: Symbol) -> Symbol | list[Symbol]:
        if a.type != SymbolType.Number or b.type != SymbolType.Number:
            return []
        value = exact(op.name, a.number, b.number)
        return Number(value) if value is not None and INT_MIN <= value <= INT_MAX else []

    def nf_inv_neg(self, a: Symbol) -> Symbol | list[Symbol]:
        if a.type == SymbolType.Function:
            return SymFunction(a.name, a.arguments, not a.positive)
        if a.type != SymbolType.Number or a.number == INT_MIN:
            return []
        return Number(-a.number)


# --- the rewrite ------------------------------------------------------------------------------


def _num(loc: ast.Location, n: int) -> ast.AST:
    return ast.SymbolicTerm(loc, Number(n))


def _call(loc: ast.Location, name: str, args: list[ast.AST]) -> ast.AST:
    return ast.Function(loc, name, args, 1)


def _has_variable(term: ast.AST) -> bool:
    found = []

    class _V(ast.Transformer):
        def visit_Variable(self, node: ast.AST) -> ast.AST:
            found.append(node.name)
            return node

    _V()(term)
    return bool(found)


def _variables(node: ast.AST) -> list[str]:
    names: list[str] = []

    class _V(ast.Transformer):
        def visit_Variable(self, n: ast.AST) -> ast.AST:
            names.append(n.name)
            return n

    _V()(node)
    return names


def _is_arith(term: ast.AST) -> bool:
    kind = term.ast_type
    if kind == ast.ASTType.BinaryOperation:
        return True
    if kind == ast.ASTType.UnaryOperation:
        return not (
            term.operator_type == _U.Minus and term.argument.ast_type == ast.ASTType.SymbolicTerm
        )
    return False


def _const_value(term: ast.AST) -> int | None:
    """The exact value of ground numeric arithmetic, or None when it is not purely numeric."""
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicTerm:
        return term.symbol.number if term.symbol.type == SymbolType.Number else None
    if kind == ast.ASTType.UnaryOperation:
        inner = _const_value(term.argument)
        if inner is None:
            return None
        if term.operator_type == _U.Minus:
            return -inner
        if term.operator_type == _U.Absolute:
            return abs(inner)
        return ~inner
    if kind == ast.ASTType.BinaryOperation:
        left, right = _const_value(term.left), _const_value(term.right)
        if left is None or right is None:
            return None
        op = _OPS.get(term.operator_type)
        if op is None:  # bitwise: stays in range
            return 0
        return exact(op, left, right)
    return None


class _Rewriter(ast.Transformer):
    """Rewrites the arithmetic of one program; collects sites and load-time problems."""

    def __init__(self) -> None:
        self.sites: list[Site] = []
        self.problems: list[tuple[ast.Location, str]] = []
        self.fresh = 0

    def site(self, term: ast.AST, text: str | None = None) -> ast.AST:
        loc = term.location
        self.sites.append(Site(loc.begin.filename, loc.begin.line, text or str(term)))
        return _num(loc, len(self.sites) - 1)

    # terms ---------------------------------------------------------------------------------
    def term(self, t: ast.AST) -> ast.AST:
        kind = t.ast_type
        if _is_arith(t) and not _has_variable(t):
            value = _const_value(t)
            if value is not None and not INT_MIN <= value <= INT_MAX:
                self.problems.append((t.location, f"{t} = {value} does not fit 32 bits"))
            if value is not None:
                return t  # ground numeric arithmetic in range: clingo computes it exactly
        if kind == ast.ASTType.BinaryOperation:
            left, right = self.term(t.left), self.term(t.right)
            op = _OPS.get(t.operator_type)
            if op is None:  # & ? ^ of 32-bit values stay 32-bit
                return t.update(left=left, right=right)
            if op in ("div", "mod"):
                divisor = _const_value(t.right)
                if divisor is not None and divisor not in (0, -1):
                    return t.update(left=left, right=right)  # |result| <= |left|: cannot wrap
            return _call(t.location, f"nf_{op}", [left, right, self.site(t)])
        if kind == ast.ASTType.UnaryOperation:
            arg = self.term(t.argument)
            if t.operator_type == _U.Negation:
                return t.update(argument=arg)
            if t.operator_type == _U.Minus and t.argument.ast_type == ast.ASTType.SymbolicTerm:
                return t
            name = "nf_neg" if t.operator_type == _U.Minus else "nf_abs"
            return _call(t.location, name, [arg, self.site(t)])
        if kind == ast.ASTType.Function:
            return t.update(arguments=[self.term(a) for a in t.arguments])
        if kind == ast.ASTType.Interval:
            return t.update(left=self.term(t.left), right=self.term(t.right))
        if kind == ast.ASTType.Pool:
            return t.update(arguments=[self.term(a) for a in t.arguments])
        return t

    def visit_BinaryOperation(self, node: ast.AST) -> ast.AST:
        return self.term(node)

    def visit_UnaryOperation(self, node: ast.AST) -> ast.AST:
        return self.term(node)

    def visit_Function(self, node: ast.AST) -> ast.AST:
        return self.term(node)

    def visit_Interval(self, node: ast.AST) -> ast.AST:
        return self.term(node)

    def visit_Pool(self, node: ast.AST) -> ast.AST:
        return self.term(node)

    def visit_SymbolicAtom(self, node: ast.AST) -> ast.AST:
        return node.update(symbol=self.term(node.symbol))

    # literals: aggregates, conditions and patterns --------------------------------------------
    def literals(self, lits: Sequence[ast.AST]) -> list[ast.AST]:
        """A body or condition with every term guarded and inverted linear patterns split out."""
        out: list[ast.AST] = []
        for lit in lits:
            extra: list[ast.AST] = []
            out.append(self.literal(lit, extra))
            out.extend(extra)
        return out

    def literal(self, lit: ast.AST, extra: list[ast.AST] | None = None) -> ast.AST:
        if lit.ast_type == ast.ASTType.ConditionalLiteral:
            return lit.update(
                literal=self.literal(lit.literal), condition=self.literals(lit.condition)
            )
        if lit.ast_type != ast.ASTType.Literal:
            return self(lit)
        atom = lit.atom
        kind = atom.ast_type
        if kind == ast.ASTType.SymbolicAtom:
            if extra is not None and lit.sign == ast.Sign.NoSign:
                atom = atom.update(symbol=self.pattern(atom.symbol, extra))
            return lit.update(atom=self(atom))
        if kind in (ast.ASTType.BodyAggregate, ast.ASTType.Aggregate, ast.ASTType.HeadAggregate):
            return lit.update(atom=self.aggregate(atom))
        return self(lit)  # comparisons, booleans, theory atoms

    def aggregate(self, atom: ast.AST) -> ast.AST:
        updates = {}
        for name in ("left_guard", "right_guard"):
            guard = getattr(atom, name, None)
            if guard is not None:
                updates[name] = guard.update(term=self.term(guard.term))
        elements = []
        for element in atom.elements:
            kind = element.ast_type
            if kind == ast.ASTType.ConditionalLiteral:
                elements.append(self.literal(element))
            elif kind == ast.ASTType.HeadAggregateElement:
                elements.append(
                    element.update(
                        terms=[self.term(t) for t in element.terms],
                        condition=self.literal(element.condition),
                    )
                )
            else:  # BodyAggregateElement
                elements.append(
                    element.update(
                        terms=[self.term(t) for t in element.terms],
                        condition=self.literals(element.condition),
                    )
                )
        return atom.update(elements=elements, **updates)

    def head(self, head: ast.AST) -> ast.AST:
        kind = head.ast_type
        if kind in (ast.ASTType.Aggregate, ast.ASTType.HeadAggregate):
            return self.aggregate(head)
        if kind == ast.ASTType.Disjunction:
            return head.update(elements=[self.literal(e) for e in head.elements])
        return self.literal(head)

    def pattern(self, t: ast.AST, extra: list[ast.AST]) -> ast.AST:
        if t.ast_type == ast.ASTType.Function:
            return t.update(arguments=[self.pattern(a, extra) for a in t.arguments])
        if _is_arith(t) and _has_variable(t) and len(_variables(t)) == 1:
            self.fresh += 1
            fresh = ast.Variable(t.location, f"NfPat{self.fresh}")
            bindings = self.invert(t, fresh)
            if bindings is not None:
                extra.extend(bindings)
                return fresh
        return t

    def invert(self, t: ast.AST, value: ast.AST) -> list[ast.AST] | None:
        """Literals binding the one variable of linear ``t`` so that ``t`` equals ``value``."""
        loc = t.location
        kind = t.ast_type
        if kind == ast.ASTType.Variable:
            return [_compare(loc, t, value)]
        if kind == ast.ASTType.UnaryOperation and t.operator_type == _U.Minus:
            return self.invert(t.argument, _call(loc, "nf_inv_neg", [value]))
        if kind != ast.ASTType.BinaryOperation:
            return None
        left_var, right_var = _has_variable(t.left), _has_variable(t.right)
        if left_var == right_var:
            return None
        var, const = (t.left, t.right) if left_var else (t.right, t.left)
        c = self.term(const)

        def inv(op: str, a: ast.AST, b: ast.AST) -> ast.AST:
            return _call(loc, "nf_inv", [ast.SymbolicTerm(loc, SymFunction(op)), a, b])

        op = t.operator_type
        if op == _B.Plus:
            return self.invert(var, inv("sub", value, c))
        if op == _B.Minus:
            return self.invert(var, inv("add", value, c) if left_var else inv("sub", c, value))
        if op == _B.Multiplication:
            rest = self.invert(var, inv("div", value, c))
            divisible = _compare(loc, inv("mod", value, c), _num(loc, 0))
            return None if rest is None else [divisible, *rest]
        return None


def _compare(loc: ast.Location, left: ast.AST, right: ast.AST) -> ast.AST:
    guard = ast.Guard(ast.ComparisonOperator.Equal, right)
    return ast.Literal(loc, ast.Sign.NoSign, ast.Comparison(left, [guard]))


def _guard_statement(stmt: ast.AST, rw: _Rewriter) -> ast.AST:
    kind = stmt.ast_type
    if kind == ast.ASTType.Definition:  # #const: ground; checked at load, left to clingo
        rw.term(stmt.value)
        return stmt
    if kind == ast.ASTType.Rule:
        return stmt.update(head=rw.head(stmt.head), body=rw.literals(stmt.body))
    if kind == ast.ASTType.External:
        return stmt.update(atom=rw(stmt.atom), body=rw.literals(stmt.body))
    if kind == ast.ASTType.Minimize:
        return stmt.update(
            weight=rw.term(stmt.weight),
            priority=rw.term(stmt.priority),
            terms=[rw.term(t) for t in stmt.terms],
            body=rw.literals(stmt.body),
        )
    return stmt


# --- sums -------------------------------------------------------------------------------------


def _sum_twins(stmt: ast.AST, rw: _Rewriter) -> list[ast.AST]:
    """A twin rule for every ``S = #sum{...}`` in ``stmt``'s body, true when the sum leaves 32 bits.

    clingo wraps the value it assigns but compares an aggregate with its guards exactly (in 64
    bits), so ``_nf_sum_over(Site) :- Body', #sum{...} > 2^31-1.`` (and ``< -2^31``) — the same
    elements, the literals that depend on ``S`` dropped from the body — hold exactly when the
    exact sum does not fit (see :func:`_shifted` for the bounds). Nothing leaves the solver unless
    one fires (showing every element instead cost a batch check 12%, adding 16-bit halves in
    three aggregates a single check 17%).
    """
    if stmt.ast_type != ast.ASTType.Rule:
        return []
    out = []
    for position, lit in enumerate(stmt.body):
        atom = lit.atom if lit.ast_type == ast.ASTType.Literal else None
        if (
            atom is None
            or atom.ast_type != ast.ASTType.BodyAggregate
            or atom.function not in (ast.AggregateFunction.Sum, ast.AggregateFunction.SumPlus)
        ):
            continue
        assigned: set[str] = set()
        for guard in (atom.left_guard, atom.right_guard):
            if guard is not None and guard.comparison == ast.ComparisonOperator.Equal:
                assigned.update(_variables(guard.term))
        if not assigned:
            continue  # clingo compares a guard exactly (64 bits); only assignments wrap
        kept = _independent([b for i, b in enumerate(stmt.body) if i != position], assigned)
        loc = lit.location
        site = rw.site(lit, str(lit))
        head = ast.Literal(
            loc, ast.Sign.NoSign, ast.SymbolicAtom(ast.Function(loc, SUM, [site], 0))
        )
        sides = [(-1, ast.ComparisonOperator.GreaterThan, INT_MAX - 1)]  # sum - 1 > 2^31 - 2
        if atom.function == ast.AggregateFunction.Sum:  # #sum+ is never negative
            sides.append((1, ast.ComparisonOperator.LessThan, INT_MIN + 1))  # sum + 1 < 1 - 2^31
        for offset, comparison, bound in sides:
            out.append(ast.Rule(loc, head, [*kept, _shifted(atom, offset, comparison, bound)]))
    return out


def _shifted(atom: ast.AST, offset: int, comparison: ast.ComparisonOperator, bound: int) -> ast.AST:
    """``#sum{ Elements; Offset,_nf_offset } <comparison> Bound`` as a body literal.

    gringo takes a guard at the very ends of the 32-bit range (``<= 2147483647``) as always true,
    so the bounds are moved one inside by an extra element. ``#sum+`` becomes ``#sum`` over the
    positive weights (``#sum+`` would drop the negative offset).
    """
    loc = atom.location
    elements = list(atom.elements)
    if atom.function == ast.AggregateFunction.SumPlus:
        elements = [
            e.update(condition=[*e.condition, _compare_gt(loc, e.terms[0], _num(loc, 0))])
            for e in elements
        ]
    marker = ast.SymbolicTerm(loc, SymFunction("_nf_offset"))
    elements.append(ast.BodyAggregateElement([_num(loc, offset), marker], []))
    aggregate = ast.BodyAggregate(
        loc, None, ast.AggregateFunction.Sum, elements, ast.Guard(comparison, _num(loc, bound))
    )
    return ast.Literal(loc, ast.Sign.NoSign, aggregate)


def _compare_gt(loc: ast.Location, left: ast.AST, right: ast.AST) -> ast.AST:
    guard = ast.Guard(ast.ComparisonOperator.GreaterThan, right)
    return ast.Literal(loc, ast.Sign.NoSign, ast.Comparison(left, [guard]))


def _global_vars(lit: ast.AST) -> list[str]:
    if lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type in (
        ast.ASTType.BodyAggregate,
        ast.ASTType.Aggregate,
    ):
        guards = [g for g in (lit.atom.left_guard, lit.atom.right_guard) if g is not None]
        return [n for g in guards for n in _variables(g.term)]
    if lit.ast_type == ast.ASTType.ConditionalLiteral:
        return []
    return _variables(lit)


def _independent(body: list[ast.AST], assigned: set[str]) -> list[ast.AST]:
    """The literals that do not need the aggregate's value (``T = S + 1, T > 5`` need it too).

    A literal that mentions a dependent variable is dropped; the variables it would bind (those
    no kept positive atom binds) become dependent in turn.
    """
    dependent = set(assigned)
    dropped: set[int] = set()
    while True:
        new = {
            i
            for i, lit in enumerate(body)
            if i not in dropped and set(_global_vars(lit)) & dependent
        }
        if not new:
            return [lit for i, lit in enumerate(body) if i not in dropped]
        dropped |= new
        bound = {
            name
            for i, lit in enumerate(body)
            if i not in dropped and _binds(lit)
            for name in _variables(lit)
        }
        for i in new:
            dependent |= set(_global_vars(body[i])) - bound


def _binds(lit: ast.AST) -> bool:
    return (
        lit.ast_type == ast.ASTType.Literal
        and lit.sign == ast.Sign.NoSign
        and lit.atom.ast_type == ast.ASTType.SymbolicAtom
    )


def sum_overflow(sites: Sequence[Site], symbols: Iterable[Symbol]) -> str | None:
    """The reason a check is ``unknown`` when an assigned ``#sum`` leaves 32 bits, else None.

    ``symbols`` are a model's shown atoms; ``_nf_sum_over(Site)`` is there only for a sum that
    does not fit (see :func:`_sum_twins`).
    """
    for sym in symbols:
        if sym.name == SUM:
            site = sym.arguments[0].number
            where = sites[site].where() if 0 <= site < len(sites) else "a #sum"
            return f"{TOO_LARGE}: {where} (the exact sum is past 32 bits)"
    return None


# --- entry point --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guarded:
    """A pack's program with exact arithmetic, the context that evaluates it, and load problems."""

    statements: tuple[ast.AST, ...]
    guard: Guard
    problems: tuple[tuple[ast.Location, str], ...]


def guard_program(
    statements: Sequence[ast.AST], is_fact: Callable[[ast.AST], bool] | None = None
) -> Guarded:
    """Rewrite ``statements`` for exact arithmetic (see the module docstring)."""
    rw = _Rewriter()
    out: list[ast.AST] = []
    for stmt in statements:
        if is_fact is not None and is_fact(stmt):
            out.append(stmt)  # a table row with plain arguments: nothing to compute
            continue
        guarded = _guard_statement(stmt, rw)
        out.append(guarded)
        out.extend(_sum_twins(guarded, rw))
    return Guarded(tuple(out), Guard(rw.sites), tuple(rw.problems))
