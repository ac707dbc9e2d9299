"""Load-time validation of a rule pack: every problem found, with file:line:col, before any check.

What it finds: syntax errors and unsafe variables (clingo's own messages, kept with their places),
findings whose rule id is not a constant or not in the catalogue, catalogue entries no rule can
produce, predicates read but never defined nor given as input (likely typos), and program parts other
than ``base`` (a check grounds only ``base``, so rules elsewhere would silently never run).
"""

from __future__ import annotations

import contextlib
import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import clingo
from clingo import ast

from nesyflow.errors import Location, Problem
from nesyflow.logic import _confine, _program
from nesyflow.logic._guard import Guard, Limit

__all__ = [
    "LOAD_MAX_GROUND_RULES",
    "clingo_message_problem",
    "ground_files_task",
    "ground_problems",
    "lint_statements",
]

# Bounds of the no-input grounding: a pack whose static part explodes is a problem, not a hang.
LOAD_MAX_GROUND_RULES = 1_000_000
LOAD_GROUND_TIMEOUT = 10.0

GroundFn = Callable[[Sequence[ast.AST]], list[Problem]]


def _loc(node: ast.AST) -> Location:
    begin = node.location.begin
    return Location(begin.filename, begin.line, begin.column)


def lint_statements(
    statements: Sequence[ast.AST],
    catalogue: Mapping[str, object],
    input_signatures: set[tuple[str, int]] | None,
    manifest: Location,
    *,
    complete: bool = True,
    ground: GroundFn | None = None,
) -> list[Problem]:
    """Every problem in the parsed program. ``complete`` is False when some file did not parse, and
    ``input_signatures`` None when the schema did not load: checks that need the whole program or
    the input vocabulary are then skipped rather than reporting noise. ``ground`` grounds the
    program with no input (default: here, bounded by :func:`ground_problems`' observer only; the
    pack loader passes one that runs in a killable worker)."""
    problems: list[Problem] = []
    info = _program.analyse(statements)

    for prog in info.programs:
        if prog.name != "base" or prog.parameters:
            problems.append(
                Problem(
                    _loc(prog),
                    "program_part",
                    f"#program {prog.name} is never grounded; "
                    "write the pack's rules in the base part",
                )
            )

    produced: set[str] = set()
    for kind, rule_id, node in info.finding_heads:
        if rule_id is None:
            problems.append(
                Problem(
                    _loc(node),
                    "rule_id",
                    f"the first argument of {kind}/2 must be a rule id "
                    "constant from the catalogue, so every finding has a sentence",
                )
            )
            continue
        produced.add(rule_id)
        if rule_id not in catalogue:
            hint = _did_you_mean(rule_id, catalogue)
            problems.append(
                Problem(
                    _loc(node),
                    "uncatalogued_rule",
                    f"{kind}({rule_id}, …) has no entry in pack.toml [rules]{hint}",
                )
            )
    for rule_id in catalogue if complete else ():
        if rule_id not in produced:
            problems.append(
                Problem(
                    manifest,
                    "unproduced_rule",
                    f"catalogue entry {rule_id!r} is produced by no violation/review/deny rule",
                )
            )

    known = set(info.defined) | (input_signatures or set())
    check_defined = complete and input_signatures is not None
    for sig, nodes in sorted(info.used.items()):
        if sig[0].startswith("_nf"):
            problems.append(Problem(_loc(nodes[0]), "reserved", "names starting _nf are reserved"))
        elif check_defined and sig not in known:
            names = [f"{n}/{a}" for n, a in known]
            hint = _did_you_mean(f"{sig[0]}/{sig[1]}", names)
            problems.append(
                Problem(
                    _loc(nodes[0]),
                    "undefined_predicate",
                    f"{sig[0]}/{sig[1]} is read but never defined nor an input fact{hint}",
                )
            )
    for sig, nodes in info.defined.items():
        if sig[0].startswith("_nf"):
            problems.append(Problem(_loc(nodes[0]), "reserved", "names starting _nf are reserved"))

    problems.extend((ground or ground_problems)(statements))
    return problems


def ground_files_task(
    _pack: object, files: Sequence[str], max_rules: int, timeout: float
) -> list[Problem]:
    """A checker worker's side of the no-input grounding: parse ``files`` and ground them.

    The loader sends only files it found clean; they are scanned again here, so a file changed in
    between cannot slip an ``#include`` or ``#script`` past it."""
    statements: list[ast.AST] = []
    for file in files:
        text = Path(file).read_text(encoding="utf-8")
        refused = _confine.directive_problems(Path(file), text)
        if refused:
            return refused
        with contextlib.suppress(RuntimeError):  # the loader reported syntax errors already
            ast.parse_files([file], statements.append, logger=lambda _c, _m: None)
    return ground_problems(statements, max_rules, timeout)


def ground_problems(
    statements: Sequence[ast.AST],
    max_rules: int = LOAD_MAX_GROUND_RULES,
    timeout: float = LOAD_GROUND_TIMEOUT,
) -> list[Problem]:
    """Ground the pack with no input to surface unsafe variables and other grounding errors, and a
    static part too big to ground (``grounding_limit``)."""
    messages: list[str] = []
    ctl = clingo.Control(["--warn=none"], logger=lambda _c, m: messages.append(m))
    guard = Guard(max_rules, time.perf_counter() + timeout)
    ctl.register_observer(guard)
    where = Location(statements[0].location.begin.filename) if statements else Location("")
    try:
        with ast.ProgramBuilder(ctl) as builder:
            for stmt in statements:
                builder.add(stmt)
        ctl.ground([("base", [])])
    except Limit:
        return [limit_problem(where, f"{guard.reason} (limit {timeout:g} s, {max_rules} rules)")]
    except MemoryError:
        return [limit_problem(where, "memory ran out")]
    except RuntimeError as exc:
        if guard.reason:
            return [limit_problem(where, guard.reason)]
        if not messages:
            messages.append(f"{where.file}:0:0: error: {exc}")
    problems = []
    for message in messages:
        lines = message.strip().split("\n")
        head = lines[0]
        if "unsafe variables in" in head:
            rule = " ".join(lines[1].split()).replace("[#inc_base];", "") if len(lines) > 1 else ""
            for note in lines[2:]:
                if ": note: " in note:
                    p = clingo_message_problem(note, "unsafe_variable")
                    var = p.message.removeprefix("note: ").removesuffix(" is unsafe")
                    problems.append(
                        Problem(
                            p.location,
                            "unsafe_variable",
                            f"variable {var} is unsafe: it appears in no positive body "
                            f"literal of: {rule}",
                        )
                    )
        elif ": error: " in head or "bad_alloc" in head:
            problems.append(clingo_message_problem(head, "grounding"))
    return problems


def limit_problem(where: Location, why: str) -> Problem:
    """The static part of the pack (what grounds with no input) went past a bound."""
    return Problem(
        where,
        "grounding_limit",
        f"grounding the pack with no input did not finish: {why}; a pack's tables and rules "
        "must ground in bounded time and memory before any check can",
    )


def _did_you_mean(word: str, choices: object) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)  # type: ignore[call-overload]
    return f" (did you mean {close[0]}?)" if close else ""


def clingo_message_problem(message: str, code: str) -> Problem:
    """A clingo log message (``file:line:col-col: error: text``) as a :class:`Problem`."""
    head, _, rest = message.strip().partition(": ")
    parts = head.split(":")
    file, line, col = head, 0, 0
    if len(parts) >= 3 and parts[-2].isdigit():
        file = ":".join(parts[:-2])
        line = int(parts[-2])
        col = int(parts[-1].split("-")[0]) if parts[-1].split("-")[0].isdigit() else 0
    text = rest.removeprefix("error: ").removeprefix("warning: ").removeprefix("info: ")
    return Problem(Location(file, line, col), code, " ".join(text.split()))
