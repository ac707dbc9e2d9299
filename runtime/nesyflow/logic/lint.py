"""Load-time validation of a rule pack: every problem found, with file:line:col, before any check.

What it finds: syntax errors and unsafe variables (clingo's own messages, kept with their places),
findings whose rule id is not a constant or not in the catalogue, catalogue entries no rule can
produce, predicates read but never defined nor given as input (likely typos), and program parts other
than ``base`` (a check grounds only ``base``, so rules elsewhere would silently never run).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import clingo
from clingo import ast

from nesyflow.errors import Location, Problem
from nesyflow.logic import _program

__all__ = ["clingo_message_problem", "lint_statements"]


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
) -> list[Problem]:
    """Every problem in the parsed program. ``complete`` is False when some file did not parse, and
    ``input_signatures`` None when the schema did not load: checks that need the whole program or
    the input vocabulary are then skipped rather than reporting noise."""
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

    problems.extend(_ground_problems(statements))
    return problems


def _ground_problems(statements: Sequence[ast.AST]) -> list[Problem]:
    """Ground the pack with no input to surface unsafe variables and other grounding errors."""
    messages: list[str] = []
    ctl = clingo.Control(["--warn=none"], logger=lambda _c, m: messages.append(m))
    try:
        with ast.ProgramBuilder(ctl) as builder:
            for stmt in statements:
                builder.add(stmt)
        ctl.ground([("base", [])])
    except RuntimeError as exc:
        if not messages:
            messages.append(f"{exc}")
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
        elif ": error: " in head:
            problems.append(clingo_message_problem(head, "grounding"))
    return problems


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
