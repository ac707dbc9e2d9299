"""The exact-arithmetic guard (nesyflow.logic._arith): clingo's semantics on in-range values,
refusal past 32 bits, and the rewritten shipped packs giving exactly the original's results."""

from __future__ import annotations

from pathlib import Path

import clingo
import pytest
import yaml
from clingo import ast
from hypothesis import given, settings
from hypothesis import strategies as st

from nesyflow.errors import ProblemsError
from nesyflow.logic import _arith, check, check_many, load_pack
from nesyflow.logic.pack import without_guard

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [
    ROOT / "rules" / "expense",
    ROOT / "rules" / "airline_baggage",
    ROOT / "rules" / "retail",
    ROOT / "agents" / "retail_service" / "step",
]
INT32 = st.integers(min_value=_arith.INT_MIN, max_value=_arith.INT_MAX)


def _native(expression: str) -> list[str]:
    """What plain clingo derives for ``r(<expression>)`` (wrapping, truncating, undefined)."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], f"r({expression}).")
    ctl.ground([("base", [])])
    return [str(a.symbol) for a in ctl.symbolic_atoms.by_signature("r", 1)]


def _guarded(program: str) -> list[str] | str:
    statements: list[ast.AST] = []
    ast.parse_string(program, statements.append)
    guarded = _arith.guard_program(statements)
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for stmt in guarded.statements:
            builder.add(stmt)
    try:
        ctl.ground([("base", [])], context=guarded.guard)
    except _arith.TooLarge as exc:
        return exc.reason
    models: list[list[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(m.symbols(shown=True)))
    overflow = _arith.sum_overflow(guarded.guard.sites, models[0])
    if overflow:
        return overflow
    return sorted(str(s) for s in models[0] if s.name == "r")


OPS = ["+", "-", "*", "/", "\\", "**"]


@settings(max_examples=400, deadline=None)
@given(a=INT32, b=INT32, op=st.sampled_from(OPS))
def test_exact_results_equal_clingo_wherever_clingo_does_not_wrap(a, b, op):
    if op in "/\\" and a == _arith.INT_MIN and b == -1:
        return  # clingo dies with SIGFPE on this one (the guard refuses it: see below)
    if op == "**":
        b = b % 40 - 5  # exponents that matter: negative, small, past 31
    name = {"+": "add", "-": "sub", "*": "mul", "/": "div", "\\": "mod", "**": "pow"}[op]
    value = _arith.exact(name, a, b)
    native = _native(f"({a}) {op} ({b})")
    guarded = _guarded(f"p({a}, {b}). r(X {op} Y) :- p(X, Y).")
    if value is None:  # undefined (by zero): both drop the instance
        assert native == [] and guarded == []
    elif _arith.INT_MIN <= value <= _arith.INT_MAX:
        assert native == guarded == [f"r({value})"]
    else:  # clingo wraps; the guard refuses and says where
        assert isinstance(guarded, str) and guarded.startswith("too large to compute exactly")
        assert "<string>:1" in guarded


def test_the_division_that_kills_clingo_is_refused():
    assert "too large" in _guarded("p(-2147483648, -1). r(X / Y) :- p(X, Y).")
    assert "too large" in _guarded("p(-2147483648). r(-X) :- p(X).")
    assert "too large" in _guarded("p(-2147483648). r(|X|) :- p(X).")


def test_non_numbers_are_undefined_as_in_clingo_and_minus_negates_a_term():
    assert _guarded('p(a). p("s"). r(X + 1) :- p(X).') == []
    assert _guarded("p(a). r(-X) :- p(X).") == ["r(-a)"]


def test_a_pattern_clingo_inverts_is_inverted_exactly():
    program = "p(5). p(-2147483648). p(2147483647). r(X) :- p(X + 1). r(X) :- p(2 * X)."
    # 2147483647 = 2 * X has no integer solution, -2147483648 - 1 no 32-bit one: no match, no error
    assert _guarded(program) == ["r(-1073741824)", "r(2147483646)", "r(4)"]
    assert _guarded("p(5). q(4). r(X) :- q(X), p(X + 1).") == ["r(4)"]


def test_assigned_sums_are_checked_exactly_guards_are_left_to_clingo():
    base = "w(1, 2147483647). w(2, 2147483647). w(3, -5)."
    assert "#sum" in _guarded(base + "r(S) :- S = #sum{ W, I : w(I, W) }.")
    assert "#sum+" in _guarded(base + "r(S) :- S = #sum+{ W, I : w(I, W) }.")
    # a guard clingo compares in 64 bits: right as it is, no refusal
    assert _guarded(base + "r(big) :- #sum{ W, I : w(I, W) } > 10.") == ["r(big)"]
    # a sum that wraps back into range on the way is still exact at the end
    mixed = "w(1, 2147483647). w(2, 2147483647). w(3, -2147483647)."
    assert _guarded(mixed + "r(S) :- S = #sum{ W, I : w(I, W) }.") == ["r(2147483647)"]


@pytest.mark.parametrize(
    ("weights", "fits"),
    [
        ([2147483647], True),
        ([2147483647, 1], False),
        ([2147483646, 1], True),
        ([-2147483648], True),
        ([-2147483648, -1], False),
        ([-2147483647, -1], True),
        ([2147483647, 2147483647, -2147483647, -2147483647], True),
        ([1] * 40, True),
    ],
)
def test_sums_at_the_ends_of_the_range(weights, fits):
    facts = " ".join(f"w({i}, {w})." for i, w in enumerate(weights))
    for function in ("#sum", "#sum+"):
        if function == "#sum+" and any(w < 0 for w in weights):
            continue
        got = _guarded(facts + f" r(S) :- S = {function}{{ W, I : w(I, W) }}.")
        if fits:
            assert got == [f"r({sum(weights)})"], got
        else:
            assert isinstance(got, str) and "the exact sum is past 32 bits" in got


def test_sum_plus_ignores_negative_weights_as_clingo_does():
    facts = "w(1, 2147483647). w(2, -2147483647). w(3, 5)."
    assert "past 32 bits" in _guarded(facts + "r(S) :- S = #sum+{ W, I : w(I, W) }.")
    assert _guarded(facts + "r(S) :- S = #sum{ W, I : w(I, W) }.") == ["r(5)"]


def test_sum_twins_keep_each_aggregate_instance_apart():
    program = (
        "g(1..2). w(1, 1, 2000000000). w(2, 1, 2000000000). w(1, 2, 5). "
        "r(G, S) :- g(G), S = #sum{ W, I : w(I, G, W) }, S >= 0."
    )
    assert "past 32 bits" in _guarded(program)
    assert _guarded(program.replace("w(2, 1, 2000000000)", "w(2, 1, 2)")) == [
        "r(1,2000000002)",
        "r(2,5)",
    ]


def test_ground_arithmetic_past_32_bits_stops_the_pack_loading(tmp_path):
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.toml").write_text(
        'name = "p"\nversion = "1"\n[schema]\ninput = "schema:In"\n[rules.r]\nmessage = "m"\n'
    )
    (pack / "schema.py").write_text(
        "from pydantic import BaseModel\nclass In(BaseModel):\n  n: int\n"
    )
    (pack / "rules.lp").write_text(
        "#const big = 2 ** 40.\nviolation(r, N) :- in_n(_, N), N > big.\n"
    )
    with pytest.raises(ProblemsError, match=r"rules.lp:1.*does not fit 32 bits"):
        load_pack(pack)


# --- the rewritten shipped packs are the original packs on every case they ship -------------------


def _unguarded(pack):
    return without_guard(pack)


def _cases(folder: Path):
    for file in sorted((folder / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text())["cases"]:
            yield case.get("input"), case.get("context")


def _same(a, b) -> None:
    assert a.verdict == b.verdict
    assert a.atoms == b.atoms
    assert a.derived == b.derived
    assert a.violations == b.violations and a.reviews == b.reviews and a.denials == b.denials


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_the_guarded_pack_gives_the_original_results_on_every_shipped_case(folder):
    pack = load_pack(folder)
    plain = _unguarded(pack)
    cases = list(_cases(folder))
    assert cases, f"{folder} ships no test cases"
    for data, ctx in cases:
        _same(check(pack, data, ctx), check(plain, data, ctx))
    inputs = [d for d, _ in cases]
    contexts = [c for _, c in cases]
    for guarded, original in zip(
        check_many(pack, inputs, contexts), check_many(plain, inputs, contexts), strict=True
    ):
        _same(guarded, original)
