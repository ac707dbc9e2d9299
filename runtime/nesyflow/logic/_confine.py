"""A pack reads only its own files, and every file it reads is in its identity hash.

A pack's identity (name, version, SHA-256 of its files) is what binds every decision to the rules
that made it, so anything that can change a verdict must be inside that hash. Three things escaped it:

* ``#include "../x.lp"`` (or ``<lib>``): clingo reads the file while parsing, so a file outside the
  folder changed verdicts without changing the hash. A pack's program is its top-level ``.lp`` files
  (all of them are loaded), so ``#include`` has no use in a pack and is refused before parsing.
* ``#script (python|lua) … #end.``: code run by the grounder, able to read anything. Refused.
* schema paths in ``pack.toml`` (and ``.lp`` files) that are symlinks or ``..`` paths leaving the
  folder, or files the hash skips (``tests/``, hidden files). Refused.

:func:`covered` is the one definition of "in the identity hash"; the pack's hash and the checks on
what it reads both use it, so they cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

from nesyflow.errors import Location, Problem

__all__ = ["HASHED_SUFFIXES", "covered", "directive_problems", "escape_problem"]

# Files that decide verdicts; tests and docs do not, so editing them keeps the identity.
HASHED_SUFFIXES = frozenset({".lp", ".toml", ".py", ".json", ".csv", ".txt", ".yaml", ".yml"})

# Tokens that matter, in the order clingo's lexer sees them: comments and strings hide directives.
_TOKENS = re.compile(r'%\*.*?\*%|%[^\n]*|"(?:\\.|[^"\\\n])*"|#(include|script)\b', re.S)
_WHY = {
    "include": "#include reads a file outside the pack's identity hash; a pack's program is its "
    "top-level .lp files (all of them are loaded), so put the rules in one of them",
    "script": "#script runs code while grounding; a pack is rules only (compute in the schema or "
    "in a tool, and give the result as input)",
}


def covered(folder: Path, file: Path) -> bool:
    """True when ``file`` is one of the files the identity hash of the pack in ``folder`` covers."""
    try:
        rel = file.relative_to(folder)
    except ValueError:
        return False
    return (
        file.is_file()
        and file.suffix in HASHED_SUFFIXES
        and rel.parts[0] != "tests"
        and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts)
    )


def escape_problem(folder: Path, file: Path, what: str, where: Location) -> Problem | None:
    """A problem when the pack would read ``file`` from outside its folder or its hash, else None.

    Symlinks are resolved first: a link inside the folder to a file elsewhere is outside.
    """
    root = folder.resolve()
    real = file.resolve()
    if not real.is_relative_to(root):
        return Problem(where, "outside_pack", f"{what}: {file} is outside the pack folder {folder}")
    if not covered(root, real):
        return Problem(
            where,
            "outside_pack",
            f"{what}: {file} is not part of the pack's identity hash "
            f"(files under tests/, hidden files and suffixes other than "
            f"{', '.join(sorted(HASHED_SUFFIXES))} are not hashed)",
        )
    return None


def directive_problems(file: Path, text: str) -> list[Problem]:
    """``#include`` and ``#script`` directives in ``text`` (outside comments and strings)."""
    problems = []
    for match in _TOKENS.finditer(text):
        name = match.group(1)
        if name is None:
            continue
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        problems.append(Problem(Location(str(file), line, column), f"no_{name}", _WHY[name]))
    return problems
