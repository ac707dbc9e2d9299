"""The checker: a prepared pack + an instance → a :class:`CheckResult`, bounded and explained.

Each check builds a fresh ``clingo.Control`` (≈ 30 µs): nothing can leak from one check to the next,
checks on different threads share nothing mutable, and the slow-down of long-lived multi-shot
controls never builds up. The pack's program text was prepared at load; input facts go in through
the backend as symbols (never as text), so no input can change the program.

A check never raises for trouble in the rules: a timeout, a grounding blow-up, no answer set, several
answer sets or an input that cannot be encoded all give verdict ``unknown`` with the reason.
"""

from __future__ import annotations

import functools
import hashlib
import math
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clingo
from clingo import Function, Number, Symbol, SymbolType, ast
from pydantic import BaseModel, ValidationError

from nesyflow.errors import EncodingError
from nesyflow.logic import _arith, _cache, _program, bounded
from nesyflow.logic._guard import Guard, Limit
from nesyflow.logic._workers import in_worker
from nesyflow.logic.pack import Pack
from nesyflow.logic.result import (
    CheckResult,
    Explanation,
    Finding,
    SourceRule,
    Timings,
    Verdict,
    worst,
)
from nesyflow.schema import FactSet, to_facts

__all__ = ["DEFAULT_MAX_GROUND_RULES", "DEFAULT_TIMEOUT", "EXECUTORS", "check", "check_many"]

DEFAULT_TIMEOUT = 2.0
DEFAULT_MAX_GROUND_RULES = 1_000_000
_SHOWN = (("violation", 2), ("review", 2), ("deny", 2), ("missing", 1), ("derived", 2))
_SHOWN += ((_program.FIRED, 3), (_arith.SUM, _arith.SUM_ARITY))


@functools.cache
def _shows(extra_arity: int, optimizing: bool = False) -> tuple[ast.AST, ...]:
    """``#show`` of the vocabulary (and, for packs that optimize, ``#project`` on it without the
    explanation atoms: optimal models that differ only in why are the same answer)."""
    loc = ast.Location(ast.Position("<nesyflow>", 1, 1), ast.Position("<nesyflow>", 1, 1))
    out = [ast.ShowSignature(loc, name, arity + extra_arity, 1) for name, arity in _SHOWN]
    if optimizing:
        out += [
            ast.ProjectSignature(loc, name, arity + extra_arity, 1)
            for name, arity in _SHOWN
            if name != _program.FIRED
        ]
    return tuple(out)


_BATCH_CHUNK = 1000
EXECUTORS = ("local", "ray")  # where check_many's chunks run: worker processes here, or Ray actors


def _coerce(model: type[BaseModel], value: Any) -> BaseModel:
    if isinstance(value, model):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump()
    return model.model_validate(value)


def _facts_hash(pack: Pack, roots: Sequence[BaseModel]) -> str:
    """Binds a decision to its input: the pack's hash and the JSON of the encoded models.

    The facts are a deterministic function of these (the pack hash covers its schema module), and
    hashing the JSON costs microseconds where hashing every fact's text costs a C call per fact.
    """
    digest = hashlib.sha256(pack.identity.hash.encode())
    for root in roots:
        digest.update(b"\0")
        digest.update(type(root).__name__.encode())
        digest.update(root.model_dump_json().encode())
    return digest.hexdigest()


def _unknown(pack: Pack, reason: str, started: float, facts_hash: str = "") -> CheckResult:
    total = (time.perf_counter() - started) * 1000
    return CheckResult(
        verdict=Verdict.UNKNOWN,
        pack=pack.identity,
        reason=reason,
        facts_hash=facts_hash,
        timings=Timings(total_ms=total),
    )


def _roots(pack: Pack, instance: Any, context: Any) -> list[BaseModel]:
    roots = [_coerce(pack.input_model, instance)]
    if context is not None:
        if pack.context_model is None:
            raise EncodingError("context", f"pack {pack.name} declares no context schema")
        roots.append(_coerce(pack.context_model, context))
    return roots


def check(
    pack: Pack,
    instance: Any,
    context: Any = None,
    *,
    timeout: float | None = None,
    max_ground_rules: int = DEFAULT_MAX_GROUND_RULES,
    isolated: bool | None = None,
) -> CheckResult:
    """Check one instance (a model of the pack's input schema, or data that validates as one).

    By default the check runs in a worker process that is killed when ``timeout`` (+ a small
    margin) is up, whatever the grounder is doing (:mod:`nesyflow.logic.bounded`);
    ``isolated=False`` checks in this process, bounded only where clingo lets Python act.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else bounded.finite(timeout)
    started = time.perf_counter()
    try:
        roots = _roots(pack, instance, context)
    except (EncodingError, ValidationError) as exc:
        return _unknown(pack, f"input could not be encoded: {_short(exc)}", started)
    digest = _facts_hash(pack, roots)
    hit = _cache.results.get(digest, started)
    if hit is not None:  # the same facts, the same pack: the same answer, without grounding
        return hit
    instance, context = roots[0], (roots[1] if len(roots) > 1 else None)
    if not bounded.isolation_enabled(isolated):
        answer = _check_here(pack, instance, context, timeout, max_ground_rules)
    else:
        args = (_sendable(pack, instance, False), _sendable(pack, context, True))
        answer = bounded.run(_task_check, (*args, timeout, max_ground_rules), timeout, pack=pack)
        if isinstance(answer, bounded.Failure):
            return _unknown(pack, answer.reason, started, digest)
    _cache.results.put(answer)
    return answer


def _task_check(
    pack: Pack, instance: Any, context: Any, timeout: float, max_rules: int
) -> CheckResult:
    """A worker's side of :func:`check`."""
    return _check_here(pack, instance, context, timeout, max_rules)


def _sendable(pack: Pack, value: Any, is_context: bool) -> Any:
    """``value`` as the worker can unpickle it: the pack's own models travel as they are (the
    worker loads the pack's schema module first); any other model as its data, which the worker
    validates as :func:`_coerce` would here — so does a model built at run time (a JSON-schema
    pack's), which no module holds by its name."""
    model = pack.context_model if is_context else pack.input_model
    if isinstance(value, BaseModel) and (
        model is None or not isinstance(value, model) or not _importable(type(value))
    ):
        return value.model_dump()
    return value


def _importable(cls: type) -> bool:
    return getattr(sys.modules.get(cls.__module__), cls.__qualname__, None) is cls


def _hash_or_empty(pack: Pack, instance: Any, context: Any) -> str:
    try:
        return _facts_hash(pack, _roots(pack, instance, context))
    except (EncodingError, ValidationError):
        return ""


def _check_here(
    pack: Pack, instance: Any, context: Any, timeout: float, max_ground_rules: int
) -> CheckResult:
    started = time.perf_counter()
    try:
        roots = _roots(pack, instance, context)
        facts = to_facts(*roots, read=pack.read_signatures)
    except (EncodingError, ValidationError) as exc:
        return _unknown(pack, f"input could not be encoded: {_short(exc)}", started)
    encoded = time.perf_counter()
    facts_hash = _facts_hash(pack, roots)

    outcome = _solve(
        [*pack.slicer.live(facts.patterns), *_shows(0, pack.optimizing)],
        facts.symbols,
        started + timeout,
        max_ground_rules,
        pack.stratified,
        pack.optimizing,
        pack.arith,
    )
    if isinstance(outcome, str):
        return _unknown(pack, outcome, started, facts_hash)
    symbols, ground_s, solve_s = outcome
    timings = Timings(
        encode_ms=(encoded - started) * 1000,
        ground_ms=ground_s * 1000,
        solve_ms=solve_s * 1000,
        total_ms=(time.perf_counter() - started) * 1000,
    )
    return _result(pack, symbols, set(facts.symbols), facts_hash, timings)


def _observes(max_rules: int) -> bool:
    """Whether grounding is watched rule by rule by the :class:`Guard` observer. It costs one
    Python call per ground rule — a quarter of a batch check's time (``benchmarks/rule_check.py
    --guard-observer``). In a worker process the default bound is the worker's own: it is killed at
    the time limit and its address space is capped (``RLIMIT_AS``), so a grounding that grows
    too big or too slow still ends ``unknown``, never a pass; there only a limit the caller set is
    counted. In-process the observer is the only bound on grounding, so it always watches."""
    return not in_worker() or max_rules != DEFAULT_MAX_GROUND_RULES


def _solve(
    program: Sequence[ast.AST],
    facts: Iterable[Symbol],
    deadline: float,
    max_rules: int,
    stratified: bool = False,
    optimizing: bool = False,
    context: Any = None,
) -> tuple[list[Symbol], float, float] | str:
    """Ground and solve; the shown symbols of the single answer set, or the reason there is none.

    Under ``#minimize`` (or weak constraints) the answer is the optimal answer sets' vocabulary,
    and only when every optimal answer set has the same: clingo enumerates optimal models projected
    on the vocabulary (``#project``), so a second one means two optimal answers that disagree.
    """
    messages: list[str] = []
    options = ["--warn=none", "--models=2"]
    if optimizing:
        options = ["--warn=none", "--models=0", "--opt-mode=optN", "--project=project"]
    ctl = clingo.Control(options, logger=lambda _c, m: messages.append(m))
    guard = Guard(max_rules, deadline)
    if _observes(max_rules):
        ctl.register_observer(guard)
    t0 = time.perf_counter()
    try:
        with ast.ProgramBuilder(ctl) as builder:  # parsed once at load: no text parsing here
            for stmt in program:
                builder.add(stmt)
        with ctl.backend() as backend:
            for sym in facts:
                backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])], context=context)  # context: exact arithmetic (_arith)
    except Limit:
        return guard.reason
    except _arith.TooLarge as exc:
        return exc.reason
    except RuntimeError as exc:
        if guard.reason:
            return guard.reason
        detail = " ".join(" ".join(messages).split()) or str(exc)
        return f"grounding failed: {detail}"
    t1 = time.perf_counter()
    models: list[list[Symbol]] = []
    remaining = deadline - t1
    if remaining <= 0:
        return "time limit reached while grounding"

    def on_model(model: clingo.Model) -> bool:
        if optimizing and not model.optimality_proven:
            return True  # an improving model on the way to the optimum
        models.append(model.symbols(shown=True))
        return len(models) < 2

    if stratified and not optimizing:  # grounding already decided every atom: no search
        result = ctl.solve(on_model=on_model)
    else:
        with ctl.solve(on_model=on_model, async_=True) as handle:
            if not handle.wait(remaining):
                handle.cancel()
                return "time limit reached while solving"
            result = handle.get()
    t2 = time.perf_counter()
    if result.unsatisfiable or not models:
        return "the rules have no answer set for this input (an integrity constraint rejected it)"
    if len(models) > 1:
        if optimizing:
            return (
                "the rules have several optimal answer sets that disagree on the verdict "
                "vocabulary; a pack must decide one verdict"
            )
        return "the rules have more than one answer set; a pack must decide one verdict"
    return models[0], t1 - t0, t2 - t1


def _result(
    pack: Pack,
    symbols: Sequence[Symbol],
    inputs: set[Symbol],
    facts_hash: str,
    timings: Timings,
    tag: Symbol | None = None,
) -> CheckResult:
    found: dict[str, list[Symbol]] = {"violation": [], "review": [], "deny": []}
    too_large: list[Symbol] = []  # an assigned #sum past 32 bits (_arith)
    missing: list[str] = []
    derived: dict[str, Any] = {}
    fired: list[Symbol] = []
    atoms: list[str] = []
    for sym in symbols:
        name = sym.name
        if name == "_nf_fired":
            fired.append(sym)
            continue
        if name == _arith.SUM:
            too_large.append(sym)
            continue
        atoms.append(str(sym))
        if name in found:
            found[name].append(sym)
        elif name == "missing":
            missing.append(_text(sym.arguments[0]))
        elif name == "derived":
            key, value = sym.arguments
            _add_derived(derived, _text(key), _decode_derived(pack, key, value))
    if too_large:
        reason = _arith.sum_overflow(pack.arith.sites, too_large)
        return CheckResult(
            verdict=Verdict.UNKNOWN,
            pack=pack.identity,
            reason=reason,
            facts_hash=facts_hash,
            timings=timings,
        )
    explanations = _explanations(pack, fired, inputs, tag)

    def findings(kind: str) -> tuple[Finding, ...]:
        out = []
        for sym in sorted(found[kind]):
            rule = _text(sym.arguments[0])
            entry = pack.catalogue.get(rule)
            out.append(
                Finding(
                    rule=rule,
                    message=entry.message if entry else rule,
                    detail=_text(sym.arguments[1]),
                    severity=entry.severity if entry else "medium",
                    explanations=tuple(explanations.get(sym, ())),
                )
            )
        return tuple(out)

    violations, reviews, denials = findings("violation"), findings("review"), findings("deny")
    return _verdict(
        pack, violations, reviews, denials, missing, derived, atoms, facts_hash, timings
    )


def _add_derived(derived: dict[str, Any], text: str, decoded: Any) -> None:
    """Several values for one key make a list, in the solver's order."""
    if text in derived:
        previous = derived[text]
        derived[text] = [*previous, decoded] if isinstance(previous, list) else [previous, decoded]
    else:
        derived[text] = decoded


def _verdict(
    pack: Pack,
    violations: tuple[Finding, ...],
    reviews: tuple[Finding, ...],
    denials: tuple[Finding, ...],
    missing: list[str],
    derived: dict[str, Any],
    atoms: list[str],
    facts_hash: str,
    timings: Timings,
) -> CheckResult:
    """The result of a check that found these (shared by :func:`_result` and the batch decoder,
    so the two cannot drift apart)."""
    # one precedence for every layer (nesyflow.logic.result.worst); a check that ran and found
    # nothing is a pass
    fired = ((Verdict.FAIL, violations), (Verdict.DENY, denials), (Verdict.UNKNOWN, missing))
    fired += ((Verdict.REVIEW, reviews),)
    verdict = worst([Verdict.PASS, *(v for v, found in fired if found)])
    return CheckResult(
        verdict=verdict,
        violations=violations,
        reviews=reviews,
        denials=denials,
        missing=tuple(sorted(set(missing))),
        derived=dict(sorted(derived.items())),
        atoms=tuple(sorted(atoms)),
        pack=pack.identity,
        facts_hash=facts_hash,
        reason=f"missing: {', '.join(sorted(set(missing)))}"
        if verdict is Verdict.UNKNOWN
        else None,
        timings=timings,
    )


def _text(sym: Symbol) -> str:
    return sym.string if sym.type == SymbolType.String else str(sym)


def _decode_derived(pack: Pack, key: Symbol, value: Symbol) -> Any:
    kind = pack.derived_types.get(key.name if key.type == SymbolType.Function else "", "any")
    if value.type == SymbolType.Number:
        if kind == "money":
            from decimal import Decimal

            return Decimal(value.number) / 100
        if kind == "date":
            import datetime as dt

            return dt.date(1970, 1, 1) + dt.timedelta(days=value.number)
        return value.number
    if value.type == SymbolType.String:
        return value.string
    if kind == "bool" and value.type == SymbolType.Function and not value.arguments:
        return value.name == "true"
    return str(value)


def _explanations(
    pack: Pack, fired: Iterable[Symbol], inputs: set[Symbol], tag: Symbol | None = None
) -> dict[Symbol, list[Explanation]]:
    """Explanations by finding atom. ``tag``: the case number the input facts carry (batch mode)."""
    out: dict[Symbol, list[Explanation]] = {}
    for atom in sorted(fired):
        index, values, head = atom.arguments
        spec = pack.supports[index.number]
        binding = dict(zip(spec.variables, values.arguments, strict=False))
        from_input: list[str] = []
        from_rules: list[str] = []
        for term in spec.body_fns:
            ground = term(binding)
            if ground is None:
                continue
            key = ground if tag is None else Function(ground.name, [tag, *ground.arguments])
            (from_input if key in inputs else from_rules).append(str(ground))
        out.setdefault(head, []).append(
            Explanation(
                rule=_source(pack, spec),
                bindings={k: str(v) for k, v in binding.items() if not k.startswith("NfAnon")},
                input_facts=tuple(dict.fromkeys(from_input)),
                derived_facts=tuple(dict.fromkeys(from_rules)),
            )
        )
    return out


def _source(pack: Pack, spec: _program.SupportRule) -> SourceRule:
    loc = spec.rule.location
    file = loc.begin.filename
    lines = pack.sources.get(file, [])
    first, last = loc.begin.line, max(loc.end.line, loc.begin.line)
    text = "\n".join(lines[first - 1 : last]) if lines else str(spec.rule)
    return SourceRule(file=_relative(pack.path, file), line=first, end_line=last, text=text.strip())


@functools.lru_cache(maxsize=1024)
def _relative(pack_dir: Path, file: str) -> str:
    """``file`` relative to the pack folder, however the pack's path was given (a parser's file name
    is relative to the working folder when the pack was loaded by a relative path; cached:
    resolving paths was 10% of a batch check)."""
    try:
        return str(Path(file).resolve().relative_to(pack_dir.resolve()))
    except ValueError:
        return file


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{where}: {first.get('msg')}{more}"
    return str(exc)


def check_many(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any] | None = None,
    *,
    timeout: float | None = None,
    max_ground_rules: int = DEFAULT_MAX_GROUND_RULES,
    isolated: bool | None = None,
    workers: int | None = None,
    executor: str = "local",
) -> list[CheckResult]:
    """Check many instances, grounding and solving them together in chunks (facts tagged by case).

    Results are the same as calling :func:`check` on each (a test proves it). A chunk that cannot
    be solved together (a case with no answer set would make the whole chunk unsatisfiable) is
    checked case by case, so one bad case never decides another's verdict. ``timeout`` bounds each
    chunk (default: 2 s per 100 cases). Chunks run in worker processes (see :func:`check`),
    ``workers`` of them at once (default 1).

    ``executor="ray"`` sends the chunks to Ray actors instead (:mod:`nesyflow.logic.ray_executor`,
    the optional ``ray`` extra): ``workers`` actors (default the cluster's CPUs, at most one per
    chunk), each bounded by the chunk's time limit as a local worker is.

    Each distinct input is solved once: cases whose facts hash equals an earlier case's (or a
    decided result still in the result cache) take that answer, as :func:`check` would give it.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    contexts = list(contexts) if contexts is not None else [None] * len(instances)
    if len(contexts) != len(instances):
        raise ValueError(f"{len(instances)} instances but {len(contexts)} contexts")
    started = time.perf_counter()
    out: list[CheckResult | None] = [None] * len(instances)
    first_of: dict[str, int] = {}  # facts hash → the case that is solved for it
    same_as: dict[int, int] = {}  # a repeated case → the case whose answer it takes
    todo: list[tuple[int, BaseModel, BaseModel | None]] = []
    for i, (instance, context) in enumerate(zip(instances, contexts, strict=True)):
        try:
            roots = _roots(pack, instance, context)
        except (EncodingError, ValidationError) as exc:
            out[i] = _unknown(pack, f"input could not be encoded: {_short(exc)}", started)
            continue
        digest = _facts_hash(pack, roots)
        if digest in first_of:
            same_as[i] = first_of[digest]
        elif (hit := _cache.results.get(digest, started)) is not None:
            out[i] = hit
        else:
            first_of[digest] = i
            todo.append((i, roots[0], roots[1] if len(roots) > 1 else None, digest))
    solved = _check_distinct(
        pack,
        [instance for _, instance, _, _ in todo],
        [context for _, _, context, _ in todo],
        timeout,
        max_ground_rules,
        isolated,
        workers,
        executor,
        [digest for *_, digest in todo],
    )
    for (i, *_), result in zip(todo, solved, strict=True):
        out[i] = result
        _cache.results.put(result)
    for i, j in same_as.items():
        first = out[j]
        assert first is not None
        out[i] = first.model_copy(update={"derived": dict(first.derived)})
    return [r for r in out if r is not None]


def _check_distinct(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any],
    timeout: float | None,
    max_ground_rules: int,
    isolated: bool | None,
    workers: int | None,
    executor: str = "local",
    digests: Sequence[str] | None = None,
) -> list[CheckResult]:
    """The chunked batch check of :func:`check_many`, on inputs already made distinct.

    ``digests``: each input's facts hash, when the caller has it (``check_many`` deduplicates by
    it), so a chunk does not hash its cases again."""
    if not instances:
        return []
    if executor == "ray":  # imported here: the default path never imports ray
        from nesyflow.logic import ray_executor

        return ray_executor.check_distinct(
            pack, instances, contexts, timeout, max_ground_rules, workers
        )
    workers = 1 if workers is None else workers
    if not bounded.isolation_enabled(isolated):
        results: list[CheckResult] = []
        for start in range(0, len(instances), _BATCH_CHUNK):
            end = start + _BATCH_CHUNK
            chunk, ctx = instances[start:end], contexts[start:end]
            known = digests[start:end] if digests is not None else None
            results.extend(
                _check_chunk(pack, chunk, ctx, timeout, max_ground_rules, True, known) or []
            )
        return results
    spans = _spans(len(instances), workers)

    def run(span: tuple[int, int]) -> list[CheckResult]:
        lo, hi = span
        known = digests[lo:hi] if digests is not None else None
        return _check_chunk_isolated(
            pack, instances[lo:hi], contexts[lo:hi], timeout, max_ground_rules, known
        )

    if workers <= 1 or len(spans) <= 1:
        return [r for span in spans for r in run(span)]
    with ThreadPoolExecutor(max_workers=workers) as executor:
        return [r for chunk in executor.map(run, spans) for r in chunk]


def _spans(cases: int, workers: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` chunks of ``cases``: one per worker, at most :data:`_BATCH_CHUNK` each."""
    size = max(1, min(_BATCH_CHUNK, math.ceil(cases / max(1, workers))))
    return [(i, min(i + size, cases)) for i in range(0, cases, size)]


def _chunk_timeout(timeout: float | None, cases: int) -> float:
    return DEFAULT_TIMEOUT * max(1, cases // 100) if timeout is None else bounded.finite(timeout)


def _check_chunk_isolated(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any],
    timeout: float | None,
    max_rules: int,
    digests: Sequence[str] | None = None,
) -> list[CheckResult]:
    started = time.perf_counter()
    limit = _chunk_timeout(timeout, len(instances))
    sent = (
        [_sendable(pack, i, False) for i in instances],
        [_sendable(pack, c, True) for c in contexts],
    )
    answer = bounded.run(
        _task_chunk, (*sent, limit, max_rules, digests), limit, pack=pack, cases=len(instances)
    )
    if isinstance(answer, bounded.Failure):
        return [
            _unknown(pack, answer.reason, started, _hash_or_empty(pack, i, c))
            for i, c in zip(instances, contexts, strict=True)
        ]
    if answer is None:  # not solvable together: each case on its own, each with its own bound
        return [
            check(pack, i, c, timeout=timeout, max_ground_rules=max_rules)
            for i, c in zip(instances, contexts, strict=True)
        ]
    return answer


def _task_chunk(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any],
    timeout: float,
    max_rules: int,
    digests: Sequence[str] | None = None,
) -> list[CheckResult] | None:
    """A worker's side of one chunk; None asks the parent to check the cases one by one."""
    return _check_chunk(pack, instances, contexts, timeout, max_rules, False, digests)


def _check_chunk(
    pack: Pack,
    instances: Sequence[Any],
    contexts: Sequence[Any],
    timeout: float | None,
    max_rules: int,
    one_by_one_here: bool,
    digests: Sequence[str] | None = None,
) -> list[CheckResult] | None:
    started = time.perf_counter()
    chunk_limit = _chunk_timeout(timeout, len(instances))
    encoded: dict[int, tuple[FactSet, str]] = {}
    early: dict[int, CheckResult] = {}
    tagged: list[Symbol] = []
    for case, (instance, context) in enumerate(zip(instances, contexts, strict=True)):
        tag = Number(case)
        try:
            roots = _roots(pack, instance, context)
            facts = to_facts(*roots, prefix=[tag], read=pack.read_signatures)
        except (EncodingError, ValidationError) as exc:
            early[case] = _unknown(pack, f"input could not be encoded: {_short(exc)}", started)
            continue
        digest = digests[case] if digests is not None else _facts_hash(pack, roots)
        encoded[case] = (facts, digest)
        tagged.append(Function(_program.CASE, [tag]))
        tagged.extend(facts.symbols)
    outcome = _solve(
        [*pack.batch_statements(), *_shows(1, pack.optimizing)],
        tagged,
        started + chunk_limit,
        max_rules,
        pack.stratified,
        pack.optimizing,
        pack.arith,
    )
    if isinstance(outcome, str):
        # one case's answer must not decide the others': no answer set, or arithmetic too large
        if outcome.startswith(("the rules have", _arith.TOO_LARGE)):
            if not one_by_one_here:
                return None
            one = DEFAULT_TIMEOUT if timeout is None else timeout
            return [
                early.get(i) or _check_here(pack, instances[i], contexts[i], one, max_rules)
                for i in range(len(instances))
            ]
        return [early.get(i) or _unknown(pack, outcome, started) for i in range(len(instances))]
    symbols, ground_s, solve_s = outcome
    decoder = _decoder(pack)
    per_case = decoder.split(symbols)
    n = max(1, len(encoded))
    timings = Timings(
        ground_ms=ground_s * 1000 / n,
        solve_ms=solve_s * 1000 / n,
        total_ms=(time.perf_counter() - started) * 1000 / n,
    )
    out = []
    for i in range(len(instances)):
        if i in early:
            out.append(early[i])
            continue
        facts, digest = encoded[i]
        out.append(decoder.result(per_case.get(i, []), facts, digest, timings, i))
    return out


# --- decoding a batch model -------------------------------------------------------------------
#
# A batch model holds every case's shown atoms, tagged by case number. Decoding them as _result does
# (rebuild each atom without its tag, then ask clingo for its name, arguments and text) costs a
# dozen cffi calls per atom and was most of a batch check's Python time. Most atoms repeat from
# case to case (``derived(total,…)``, a fired rule instance with the same bindings), so each atom is
# read once per pack, by its untagged text, into a _Piece that holds everything _result would have
# computed from it; a case then costs one ``str`` per atom. Only whether a fired rule's ground body
# atom is one of the case's input facts differs by case, and that is still asked of clingo.

_PIECES_MAX = 50_000  # untagged atoms remembered per pack (a full table is emptied, not grown)
_FINDINGS = frozenset({"violation", "review", "deny"})


@dataclass(frozen=True, slots=True)
class _Pattern:
    """One fired rule instance, read once: all of its explanation but the input/derived split."""

    head: Symbol
    rule: SourceRule
    bindings: dict[str, str]
    body: tuple[tuple[str, str, tuple[Symbol, ...]], ...]  # (text, name, arguments), deduplicated
    built: dict[tuple[bool, ...], Explanation]  # by which body atoms are inputs


@dataclass(frozen=True, slots=True)
class _Piece:
    """One untagged shown atom and what :func:`_result` reads from it."""

    name: str
    text: str  # str() of the untagged atom, as ``CheckResult.atoms`` lists it
    symbol: Symbol  # the untagged atom: findings and fired atoms sort by it, as _result does
    value: Any  # by name: (rule, detail) text, missing text, (key, decoded) or a _Pattern


class _Decoder:
    """A pack's table of untagged atoms (see above); kept as long as the pack lives."""

    def __init__(self, pack: Pack) -> None:
        self._pack = weakref.ref(pack)  # not the pack itself: the table must not keep it alive
        self.pieces: dict[str, _Piece] = {}

    @property
    def pack(self) -> Pack:
        pack = self._pack()
        assert pack is not None  # a decoder is reached only through its live pack
        return pack

    def split(self, symbols: Iterable[Symbol]) -> dict[int, list[_Piece]]:
        """The model's atoms by case, untagged and decoded, in the solver's order."""
        per_case: dict[int, list[_Piece]] = {}
        pieces = self.pieces
        for sym in symbols:
            text = str(sym)  # name(Case,Rest…): the tag is the first argument, a number
            head, comma, rest = text.partition(",")
            opened = head.find("(")
            key = head[: opened + 1] + rest
            piece = pieces.get(key) if comma and opened > 0 else None
            if piece is None:
                case, piece = self._read(sym, key)
            else:
                case = int(head[opened + 1 :])
            per_case.setdefault(case, []).append(piece)
        return per_case

    def _read(self, sym: Symbol, key: str) -> tuple[int, _Piece]:
        """An atom not seen yet: untag it as clingo symbols and decode it as _result would."""
        tag, *rest = sym.arguments
        untagged = Function(sym.name, rest, sym.positive)
        piece = self._piece(untagged)
        if piece.text == key and len(self.pieces) < _PIECES_MAX:
            self.pieces[key] = piece
        elif piece.text == key:
            self.pieces.clear()
        return tag.number, piece

    def _piece(self, sym: Symbol) -> _Piece:
        pack, name = self.pack, sym.name
        value: Any = None
        if name == _program.FIRED:
            value = _pattern(pack, sym)
        elif name in _FINDINGS:
            rule, detail = sym.arguments
            value = (_text(rule), _text(detail))
        elif name == "missing":
            value = _text(sym.arguments[0])
        elif name == "derived":
            key, found = sym.arguments
            value = (_text(key), _decode_derived(pack, key, found))
        return _Piece(name, str(sym), sym, value)

    def result(
        self, pieces: Sequence[_Piece], facts: FactSet, digest: str, timings: Timings, case: int
    ) -> CheckResult:
        """One case's :class:`CheckResult`, the same as :func:`_result` gives on its atoms."""
        pack = self.pack
        found: dict[str, list[_Piece]] = {"violation": [], "review": [], "deny": []}
        missing: list[str] = []
        derived: dict[str, Any] = {}
        fired: list[_Piece] = []
        too_large: list[Symbol] = []
        atoms: list[str] = []
        for piece in pieces:
            name = piece.name
            if name == _program.FIRED:
                fired.append(piece)
                continue
            if name == _arith.SUM:
                too_large.append(piece.symbol)
                continue
            atoms.append(piece.text)
            if name in found:
                found[name].append(piece)
            elif name == "missing":
                missing.append(piece.value)
            elif name == "derived":
                _add_derived(derived, *piece.value)
        if too_large:
            return CheckResult(
                verdict=Verdict.UNKNOWN,
                pack=pack.identity,
                reason=_arith.sum_overflow(pack.arith.sites, too_large),
                facts_hash=digest,
                timings=timings,
            )
        explanations = _batch_explanations(fired, facts, case)

        def findings(kind: str) -> tuple[Finding, ...]:
            out = []
            for piece in sorted(found[kind], key=_by_symbol):
                rule, detail = piece.value
                entry = pack.catalogue.get(rule)
                out.append(
                    Finding(
                        rule=rule,
                        message=entry.message if entry else rule,
                        detail=detail,
                        severity=entry.severity if entry else "medium",
                        explanations=tuple(explanations.get(piece.symbol, ())),
                    )
                )
            return tuple(out)

        violations, reviews, denials = findings("violation"), findings("review"), findings("deny")
        return _verdict(
            pack, violations, reviews, denials, missing, derived, atoms, digest, timings
        )


def _by_symbol(piece: _Piece) -> Symbol:
    return piece.symbol


_decoders: weakref.WeakKeyDictionary[Pack, _Decoder] = weakref.WeakKeyDictionary()
_decoders_lock = threading.Lock()


def _decoder(pack: Pack) -> _Decoder:
    """The pack's decoder (by the pack object: a pack variant with the same content hash, as
    ``without_guard`` makes, numbers its fired rules differently)."""
    with _decoders_lock:
        found = _decoders.get(pack)
        if found is None:
            found = _decoders[pack] = _Decoder(pack)
        return found


def _pattern(pack: Pack, atom: Symbol) -> _Pattern:
    """A fired atom's explanation parts, as :func:`_explanations` builds them."""
    index, values, head = atom.arguments
    spec = pack.supports[index.number]
    binding = dict(zip(spec.variables, values.arguments, strict=False))
    body: dict[str, tuple[str, str, tuple[Symbol, ...]]] = {}
    for term in spec.body_fns:
        ground = term(binding)
        if ground is None:
            continue
        text = str(ground)
        if text not in body:
            body[text] = (text, ground.name, tuple(ground.arguments))
    return _Pattern(
        head=head,
        rule=_source(pack, spec),
        bindings={k: str(v) for k, v in binding.items() if not k.startswith("NfAnon")},
        body=tuple(body.values()),
        built={},
    )


def _batch_explanations(
    fired: Sequence[_Piece], facts: FactSet, case: int
) -> dict[Symbol, list[Explanation]]:
    """Explanations by finding atom, as :func:`_explanations` gives them for case ``case``."""
    out: dict[Symbol, list[Explanation]] = {}
    if not fired:
        return out
    inputs = set(facts.symbols)
    tag = Number(case)
    for piece in sorted(fired, key=_by_symbol):
        pattern: _Pattern = piece.value
        mask = tuple(Function(name, [tag, *args]) in inputs for _, name, args in pattern.body)
        explanation = pattern.built.get(mask)
        if explanation is None:
            explanation = pattern.built[mask] = Explanation(
                rule=pattern.rule,
                bindings=pattern.bindings,
                input_facts=tuple(t for (t, _, _), m in zip(pattern.body, mask, strict=True) if m),
                derived_facts=tuple(
                    t for (t, _, _), m in zip(pattern.body, mask, strict=True) if not m
                ),
            )
        out.setdefault(pattern.head, []).append(explanation)
    return out
