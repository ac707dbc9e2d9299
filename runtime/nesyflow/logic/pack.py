"""Rule packs: a folder (pack.toml, schema module, *.lp, tests/) loaded, validated and prepared once.

Loading does all the work a check would otherwise repeat: it parses every ``.lp`` file, validates the
pack (see :mod:`nesyflow.logic.lint`) and raises every problem at once, and prepares the program text
with the support rules that explanations need. A :class:`Pack` is immutable and safe to share between
threads; each check builds its own solver from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clingo import ast
from pydantic import BaseModel

from nesyflow._imports import resolve_object
from nesyflow.errors import EncodingError, InputError, Location, Problem, ProblemsError
from nesyflow.logic import _arith, _confine, _program, _slice, bounded, lint
from nesyflow.logic.lint import clingo_message_problem, lint_statements
from nesyflow.logic.result import PackIdentity
from nesyflow.roles import parse_role
from nesyflow.schema import Predicate, vocabulary

__all__ = ["CatalogueEntry", "Pack", "load_pack"]

SEVERITIES = ("low", "medium", "high", "critical")
DERIVED_TYPES = ("int", "str", "const", "bool", "date", "money", "any")
_MANIFEST_KEYS = {"name", "version", "description", "schema", "derived", "rules", "options"}


@dataclass(frozen=True)
class CatalogueEntry:
    """A rule's entry in pack.toml: its sentence, severity and, when deciding a review it raises
    needs more than any reviewer, the least ``role`` that may (``nesyflow.roles``)."""

    rule: str
    message: str
    severity: str = "medium"
    role: str | None = None


@dataclass(frozen=True, eq=False)
class Pack:
    """A loaded, validated rule pack."""

    path: Path
    name: str
    version: str
    description: str
    identity: PackIdentity
    input_model: type[BaseModel]
    context_model: type[BaseModel] | None
    catalogue: dict[str, CatalogueEntry]
    derived_types: dict[str, str]
    files: tuple[Path, ...]
    statements: tuple[ast.AST, ...]  # the pack as written (for lint, sources, explanations)
    check_statements: tuple[ast.AST, ...]  # prepared: no #show, finding rules split for support
    supports: tuple[_program.SupportRule, ...]
    input_signatures: frozenset[tuple[str, int]]
    stratified: bool
    optimizing: bool  # has #minimize / weak constraints: the verdict is the optimal answer sets'
    slicer: _slice.Slicer = field(repr=False)
    sources: dict[str, list[str]] = field(repr=False)
    # exact arithmetic: the context of every ground call (its site table names file:line)
    arith: _arith.Guard = field(default_factory=lambda: _arith.Guard(()), repr=False)
    # predicates the prepared program reads (None: unknowable, encode everything)
    read_signatures: frozenset[tuple[str, int]] | None = field(default=None, repr=False)
    _batch: list[list[ast.AST]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def vocabulary(self) -> list[Predicate]:
        models = [self.input_model] + ([self.context_model] if self.context_model else [])
        return vocabulary(*models)

    def batch_statements(self) -> list[ast.AST]:
        """The prepared program with case ids threaded through (built on first use)."""
        with self._lock:
            if not self._batch:
                self._batch.append(
                    _program.batch_rewrite(self.check_statements, set(self.input_signatures))
                )
            return self._batch[0]

    def source_line(self, file: str, line: int) -> str:
        lines = self.sources.get(file, [])
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def __str__(self) -> str:
        return str(self.identity)


_LOADED: dict[tuple[str, str], Pack] = {}
_LOADED_LOCK = threading.Lock()


def load_pack(path: str | Path, *, timeout: float | None = None) -> Pack:
    """Load and validate the pack in folder ``path``; raise :class:`ProblemsError` listing all problems.

    A pack already loaded in this process with the same content hash is returned as is (packs are
    immutable), so workflows, runs and the console can call this freely. ``timeout`` bounds the
    grounding of the pack's static part (default 10 s; it runs in a killable worker process, see
    :mod:`nesyflow.logic.bounded`): past it, or past 1,000,000 ground rules or the worker's memory
    limit, loading fails with a ``grounding_limit`` problem.
    """
    timeout = lint.LOAD_GROUND_TIMEOUT if timeout is None else timeout
    folder = Path(path)
    if (folder / "pack.toml").is_file():
        key = (str(folder.resolve()), _hash_folder(folder))
        with _LOADED_LOCK:
            cached = _LOADED.get(key)
        if cached is not None:
            return cached
        pack = _load(folder, timeout)
        with _LOADED_LOCK:
            _LOADED[key] = pack
        return pack
    return _load(folder, timeout)


def _ground_in_worker(files: list[Path], timeout: float, where: Location) -> list[Problem]:
    """The no-input grounding in a worker that is killed past ``timeout`` (+ a margin)."""
    answer = bounded.run(
        lint.ground_files_task,
        ([str(f) for f in files], lint.LOAD_MAX_GROUND_RULES, timeout),
        timeout,
    )
    if isinstance(answer, bounded.Failure):
        return [lint.limit_problem(where, answer.reason)]
    return answer


def _load(path: Path, timeout: float) -> Pack:
    folder = Path(path)
    manifest_path = folder / "pack.toml"
    if not folder.is_dir():
        raise ProblemsError(
            f"rule pack {path}", [Problem(Location(str(path)), "pack_missing", "no such folder")]
        )
    if not manifest_path.is_file():
        raise ProblemsError(
            f"rule pack {path}",
            [Problem(Location(str(manifest_path)), "pack_missing", "no pack.toml in the folder")],
        )
    problems: list[Problem] = []
    manifest = _read_manifest(manifest_path, problems)
    if problems:  # no catalogue, no schema: every later finding would be a false consequence
        raise ProblemsError(f"rule pack {folder}", problems)
    mloc = Location(str(manifest_path))

    name = str(manifest.get("name", "")) or folder.name
    version = str(manifest.get("version", ""))
    if not version:
        problems.append(Problem(mloc, "manifest", "pack.toml needs a version"))
    for key in manifest:
        if key not in _MANIFEST_KEYS:
            problems.append(Problem(mloc, "manifest", f"unknown key {key!r} in pack.toml"))

    schema = manifest.get("schema", {})
    input_model = _model(schema.get("input"), folder, mloc, "schema.input", problems, required=True)
    context_model = _model(schema.get("context"), folder, mloc, "schema.context", problems)

    catalogue = _catalogue(manifest.get("rules", {}), mloc, problems)
    derived_types = {str(k): str(v) for k, v in manifest.get("derived", {}).items()}
    for key, kind in derived_types.items():
        if kind not in DERIVED_TYPES:
            problems.append(
                Problem(
                    mloc, "manifest", f"derived.{key}: type {kind!r} not one of {DERIVED_TYPES}"
                )
            )

    signatures: set[tuple[str, int]] | None = None
    models = [m for m in (input_model, context_model) if m is not None]
    if input_model is not None:
        try:
            signatures = {p.signature for p in vocabulary(*models)}
        except EncodingError as exc:
            problems.append(Problem(mloc, "schema", str(exc)))

    # hidden files are not in the identity hash (and editors leave .#x.lp lock links)
    files = sorted(f for f in folder.glob("*.lp") if not f.name.startswith("."))
    if not files:
        problems.append(Problem(mloc, "no_rules", "the pack has no .lp files"))
    statements: list[ast.AST] = []
    sources: dict[str, list[str]] = {}
    parsed_all = True
    clean: list[Path] = []  # files whose statements are in the program (the worker grounds these)
    for file in files:
        before = len(problems)
        escape = _confine.escape_problem(folder, file, "rule file", Location(str(file)))
        if escape is not None:  # never read it: its content is not the pack's
            problems.append(escape)
            parsed_all = False
            continue
        text = file.read_text(encoding="utf-8")
        sources[str(file)] = text.splitlines()
        problems.extend(_confine.directive_problems(file, text))
        if len(problems) == before:  # parsing would follow an #include: only clean files
            statements.extend(_parse(file, problems))
        parsed_all &= len(problems) == before
        if len(problems) == before:
            clean.append(file)

    ground = None
    if bounded.isolation_enabled(None):
        ground = lambda _statements: _ground_in_worker(clean, timeout, mloc)  # noqa: E731
    else:
        ground = lambda statements: lint.ground_problems(statements, timeout=timeout)  # noqa: E731
    problems.extend(
        lint_statements(
            statements,
            catalogue,
            signatures,
            mloc,
            complete=parsed_all and bool(files),
            ground=ground,
        )
    )

    if problems:
        raise ProblemsError(f"rule pack {folder}", problems)

    prepared, supports = _program.support_rules(
        [
            s
            for s in statements
            if s.ast_type
            not in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm, ast.ASTType.Comment)
        ]
    )
    guarded = _arith.guard_program(prepared, is_fact=_plain_fact)
    if guarded.problems:
        raise ProblemsError(
            f"rule pack {folder}",
            [
                Problem(
                    Location(loc.begin.filename, loc.begin.line, loc.begin.column),
                    "arithmetic",
                    f"{message}: clingo would wrap it silently",
                )
                for loc, message in guarded.problems
            ],
        )
    # clingo's parser keeps comments as statements; adding them to every check's Control cost
    # ≈ 0.2 ms a check on the expense pack (59 of its 187 live statements) and changes nothing
    prepared = [st for st in guarded.statements if st.ast_type != ast.ASTType.Comment]
    assert input_model is not None
    return Pack(
        path=folder,
        name=name,
        version=version,
        description=str(manifest.get("description", "")),
        identity=PackIdentity(name=name, version=version, hash=_hash_folder(folder)),
        input_model=input_model,
        context_model=context_model,
        catalogue=catalogue,
        derived_types=derived_types,
        files=tuple(files),
        statements=tuple(statements),
        check_statements=tuple(prepared),
        supports=tuple(supports),
        input_signatures=frozenset(signatures or ()),
        stratified=_program.is_stratified(statements),
        optimizing=any(s.ast_type == ast.ASTType.Minimize for s in statements),
        slicer=_slice.Slicer(prepared),
        sources=sources,
        arith=guarded.guard,
        read_signatures=_program.read_signatures(prepared),
    )


def without_guard(pack: Pack, *, read_all: bool = True) -> Pack:
    """``pack`` as prepared before the exact-arithmetic guard: clingo's own 32-bit arithmetic.

    For tests (the guarded pack must give these results wherever nothing wraps) and for the
    benchmark (what the guard costs). ``read_all``: encode every field, as before, too.
    """
    prepared, _ = _program.support_rules(
        [
            s
            for s in pack.statements
            if s.ast_type
            not in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm, ast.ASTType.Comment)
        ]
    )
    return dataclasses.replace(
        pack,
        check_statements=tuple(prepared),
        slicer=_slice.Slicer(prepared),
        arith=_arith.Guard(()),
        read_signatures=None if read_all else pack.read_signatures,
        _batch=[],
        _lock=threading.Lock(),
    )


def _plain_fact(stmt: ast.AST) -> bool:
    """A table row whose arguments are plain symbols (no arithmetic to guard; fast to recognise)."""
    term = _program.fact_term(stmt)
    return term is not None and all(a.ast_type == ast.ASTType.SymbolicTerm for a in term.arguments)


def _read_manifest(path: Path, problems: list[Problem]) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        text = path.read_text(encoding="utf-8")
        line, col = _toml_position(exc, text)
        message = _TOML_AT.sub("", str(exc)).strip()
        problems.append(
            Problem(Location(str(path), line, col), "manifest", f"invalid TOML: {message}")
        )
        return {}


_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)")


def _toml_position(exc: tomllib.TOMLDecodeError, text: str) -> tuple[int, int]:
    """(line, column) of a TOML error. Python 3.14 gives ``lineno``/``colno``; before that the place
    is only in the message ("… (at line 3, column 5)" or "(at end of document)")."""
    if getattr(exc, "lineno", None):
        return int(exc.lineno), int(getattr(exc, "colno", 0) or 0)
    match = _TOML_AT.search(str(exc))
    if match and match.group(1):
        return int(match.group(1)), int(match.group(2))
    if match:  # end of document: its last line
        lines = text.splitlines() or [""]
        return len(lines), len(lines[-1]) + 1
    return 0, 0


def _model(
    ref: Any,
    folder: Path,
    loc: Location,
    what: str,
    problems: list[Problem],
    *,
    required: bool = False,
) -> type[BaseModel] | None:
    if ref is None:
        if required:
            problems.append(Problem(loc, "manifest", f"{what} is required (e.g. 'schema:Claim')"))
        return None
    if not isinstance(ref, str):
        problems.append(Problem(loc, "manifest", f"{what} must be a string 'module:Class'"))
        return None
    if ref.endswith(".json") and ":" not in ref:
        escape = _schema_escape(folder, folder / ref, what, loc)
        if escape is not None:
            problems.append(escape)
            return None
        try:
            from nesyflow.schema.jsonschema import model_from_json_schema

            return model_from_json_schema(folder / ref)
        except (InputError, EncodingError) as exc:
            problems.append(Problem(loc, "schema", f"{what}: {exc}"))
            return None
    module_ref = ref.rpartition(":")[0]
    file = folder / (module_ref if module_ref.endswith(".py") else module_ref + ".py")
    escape = _schema_escape(folder, file, what, loc) if ":" in ref else None
    if escape is not None:
        problems.append(escape)
        return None
    try:
        model = resolve_object(ref, folder)
    except InputError as exc:
        problems.append(Problem(loc, "schema", f"{what}: {exc}"))
        return None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        problems.append(Problem(loc, "schema", f"{what}: {ref} is not a pydantic model class"))
        return None
    return model


def _schema_escape(folder: Path, file: Path, what: str, loc: Location) -> Problem | None:
    """The schema decides how input becomes facts, so it must be a hashed file of the pack (an
    importable module elsewhere, a ``..`` path or a symlink out would change verdicts unseen)."""
    if not file.is_file():
        return Problem(loc, "schema", f"{what}: no file {file} in the pack folder")
    return _confine.escape_problem(folder, file, what, loc)


def _catalogue(rules: Any, loc: Location, problems: list[Problem]) -> dict[str, CatalogueEntry]:
    out: dict[str, CatalogueEntry] = {}
    if not isinstance(rules, dict):
        problems.append(Problem(loc, "manifest", "[rules] must be a table of rule id → entry"))
        return out
    for rule, entry in rules.items():
        if not isinstance(entry, dict) or not str(entry.get("message", "")).strip():
            problems.append(Problem(loc, "catalogue", f"rules.{rule} needs a message"))
            continue
        severity = str(entry.get("severity", "medium"))
        if severity not in SEVERITIES:
            problems.append(
                Problem(
                    loc, "catalogue", f"rules.{rule}: severity {severity!r} not in {SEVERITIES}"
                )
            )
        unknown = set(entry) - {"message", "severity", "role"}
        if unknown:
            problems.append(
                Problem(loc, "catalogue", f"rules.{rule}: unknown keys {sorted(unknown)}")
            )
        role = entry.get("role")
        if role is not None:
            try:
                role = parse_role(role).value
            except ValueError as exc:
                problems.append(Problem(loc, "catalogue", f"rules.{rule}: {exc}"))
                role = None
        out[rule] = CatalogueEntry(rule, str(entry["message"]).strip(), severity, role)
    return out


def _parse(file: Path, problems: list[Problem]) -> list[ast.AST]:
    statements: list[ast.AST] = []
    messages: list[str] = []
    # clingo logs the syntax error (with its place) and then raises; the log is what we keep
    with contextlib.suppress(RuntimeError):
        ast.parse_files([str(file)], statements.append, logger=lambda _c, m: messages.append(m))
    for message in messages:
        problems.append(clingo_message_problem(message, "syntax"))
    for stmt in statements:  # the scan before parsing is the gate; this is the proof
        where = stmt.location.begin
        if stmt.ast_type == ast.ASTType.Script or where.filename != str(file):
            problems.append(
                Problem(
                    Location(where.filename, where.line, where.column),
                    "outside_pack",
                    f"{file}: a statement came from {where.filename} or a script; "
                    "a pack is the rules in its own .lp files",
                )
            )
            return []
    return statements if not messages else []


def _hash_folder(folder: Path) -> str:
    """SHA-256 over every file :func:`_confine.covered` names; loading refuses to read any other."""
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if not _confine.covered(folder, file):
            continue
        rel = file.relative_to(folder)
        digest.update(rel.as_posix().encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
