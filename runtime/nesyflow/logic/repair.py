"""Minimal repair: the smallest weighted change to an input that the pack's own rules accept.

The rules search it themselves. Each candidate change (another value for a field, dropping a list
element) becomes an option of a choice in one ASP program together with the pack's prepared rules
(exact arithmetic included); every change has a weight, ``#minimize`` sums them, and integrity
constraints say that no violation, denial, missing fact or wrapped sum may hold. An optimal answer
set is therefore a repair consistent with every rule by construction, not a heuristic guess.

How the options reach the solver: the input and context are encoded once (only what the rules
read); each alternative value is encoded too and its facts compared with the original's — the
atoms that differ are the option (a field whose change alters no fact the rules read is no
option). Those atoms go in through the backend as ``atom :- _nf_rp_pick(Slot, Option)``, so no
text from the input is parsed. A dropped element's facts are made conditional on it staying, and
the list's positions are recomputed over the elements kept (``#count``), so findings about
``item(N)`` keep meaning the N-th item of the repaired value.

Nothing here passes by accident: a timeout before the optimum is proven, a grounding past its
budget, an exact result past 32 bits, no answer set — each is "no repair" with the reason. The
search runs in a killable worker (:mod:`nesyflow.logic.bounded`) like every check. The caller
re-checks the repaired value through the normal path before offering it to anyone.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import clingo
from clingo import Function, Number, Symbol, SymbolType, ast
from pydantic import BaseModel, ValidationError

from nesyflow.errors import EncodingError
from nesyflow.logic import _arith, bounded
from nesyflow.logic._guard import Guard, Limit
from nesyflow.logic.pack import Pack
from nesyflow.schema import to_facts
from nesyflow.schema.plan import Container, plan_for

__all__ = [
    "Alternative",
    "Change",
    "Drop",
    "Path",
    "SearchOutcome",
    "apply_changes",
    "get_path",
    "search_repair",
]

Path = tuple[str | int, ...]
PICK = "_nf_rp_pick"
_OPT, _SLOT, _GONE, _AT = "_nf_rp_opt", "_nf_rp_slot", "_nf_rp_gone", "_nf_rp_at"
_ELEM, _DROPS, _VAL, _COND = "_nf_rp_elem", "_nf_rp_drop", "_nf_rp_val", "_nf_rp_cond"
_IN, _DEAD = "_nf_rp_in", "_nf_rp_dead"
MAX_GROUND_RULES = 2_000_000
_MAX_OPTIMA = 8  # equally small repairs enumerated (to report ties); the first in order is offered


@dataclass(frozen=True)
class Alternative:
    """Another value the field at ``path`` could take, at a cost (``weight`` ≥ 1)."""

    path: Path
    value: Any  # JSON-able, as the field's model validates it
    weight: int
    why: str = ""  # where the value comes from ("receipt 88-94, total line", "enum member")


@dataclass(frozen=True)
class Drop:
    """Dropping the list element at ``path`` (``("items", 1)``), at a cost."""

    path: Path
    weight: int
    why: str = ""


@dataclass(frozen=True)
class Change:
    """One change of a repair, as a person reads it."""

    kind: Literal["change", "fill", "drop"]
    path: Path
    old: Any
    new: Any
    weight: int
    why: str = ""

    @property
    def field(self) -> str:
        return ".".join(str(p) for p in self.path)

    def describe(self) -> str:
        """``change item 0 amount 41.20 → 27.40`` — the words of the review page's diff."""
        where = _words(self.path)
        if self.kind == "drop":
            return f"drop {where}"
        if self.kind == "fill":
            return f"fill {where} with {_show(self.new)}"
        return f"change {where} {_show(self.old)} → {_show(self.new)}"


@dataclass(frozen=True)
class SearchOutcome:
    """What the search found: the changes of one optimal repair, or the reason there is none."""

    found: bool
    reason: str = ""
    changes: tuple[Change, ...] = ()
    cost: int = 0
    value: Any = None  # the repaired input (JSON) when found
    ties: int = 0  # other repairs exactly as small (the first in a fixed order is offered)
    options: int = 0  # alternatives the search could choose from (after those that change nothing)
    skipped: tuple[str, ...] = ()  # alternatives left out, and why
    seconds: float = 0.0


def _words(path: Path) -> str:
    parts: list[str] = []
    for i, p in enumerate(path):
        if isinstance(p, int) and i > 0 and isinstance(path[i - 1], str):
            name = str(path[i - 1])
            parts[-1] = f"{name[:-1] if name.endswith('s') else name} {p}"
        else:
            parts.append(str(p))
    return " ".join(parts)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def get_path(data: Any, path: Path) -> Any:
    """The value at ``path`` in JSON ``data`` (None when a step of it is absent)."""
    node = data
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
            node = node[step]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
    return node


def _set_path(data: Any, path: Path, value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def apply_changes(data: Any, changes: Sequence[Change]) -> Any:
    """``data`` with ``changes`` applied (value changes first, then drops from the last index)."""
    out = copy.deepcopy(data)
    for change in changes:
        if change.kind != "drop":
            out = _set_path(out, change.path, change.new)
    drops = sorted((c.path for c in changes if c.kind == "drop"), key=lambda p: p[-1], reverse=True)
    for path in drops:
        parent = get_path(out, path[:-1])
        del parent[path[-1]]
    return out


def search_repair(
    pack: Pack,
    value: Any,
    context: Any,
    alternatives: Sequence[Alternative],
    drops: Sequence[Drop] = (),
    *,
    timeout: float = 5.0,
    isolated: bool | None = None,
) -> SearchOutcome:
    """The smallest weighted set of ``alternatives``/``drops`` under which ``pack`` finds no
    violation, denial or missing fact for ``value`` with ``context``; never raises.

    In a killable worker by default; past ``timeout`` the answer is "no repair found within N s".
    """
    timeout = bounded.finite(timeout)
    started = time.perf_counter()
    args = (value, context, tuple(alternatives), tuple(drops), timeout)
    if not bounded.isolation_enabled(isolated):
        return _task_search(pack, *args)
    answer = bounded.run(_task_search, args, timeout, pack=pack)
    if isinstance(answer, bounded.Failure):
        why = (
            f"no repair found within {timeout:g} s (the search was stopped)"
            if answer.timed_out
            else f"no repair found: {answer.reason}"
        )
        return SearchOutcome(found=False, reason=why, seconds=time.perf_counter() - started)
    return answer


@dataclass
class _Slot:
    path: Path
    original: frozenset[Symbol]
    options: list[tuple[Alternative, frozenset[Symbol]]] = field(default_factory=list)
    element: tuple[int, int] | None = None  # (list number, index) of the element it lies in


def _task_search(
    pack: Pack,
    value: Any,
    context: Any,
    alternatives: tuple[Alternative, ...],
    drops: tuple[Drop, ...],
    timeout: float,
) -> SearchOutcome:
    """A worker's side of :func:`search_repair`."""
    started = time.perf_counter()
    deadline = started + timeout
    try:
        outcome = _search(pack, value, context, alternatives, drops, deadline, timeout)
    except (EncodingError, ValidationError) as exc:
        outcome = SearchOutcome(found=False, reason=f"the value could not be encoded: {exc}")
    return dataclasses.replace(outcome, seconds=time.perf_counter() - started)


def _encode(pack: Pack, data: Any, context: Any) -> tuple[set[Symbol], list[int], BaseModel]:
    instance = pack.input_model.model_validate(data)
    roots: list[BaseModel] = [instance]
    if context is not None and pack.context_model is not None:
        roots.append(pack.context_model.model_validate(context))
    facts = to_facts(*roots, read=pack.read_signatures)
    return set(facts.symbols), facts.roots, instance


def _models_in(value: Any) -> int:
    """How many model instances ``value`` holds (the ids its subtree takes in pre-order)."""
    if isinstance(value, BaseModel):
        return 1 + sum(_models_in(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_models_in(v) for v in value)
    if isinstance(value, dict):
        return sum(_models_in(v) for v in value.values())
    return 0


def _search(
    pack: Pack,
    value: Any,
    context: Any,
    alternatives: tuple[Alternative, ...],
    drops: tuple[Drop, ...],
    deadline: float,
    timeout: float,
) -> SearchOutcome:
    if pack.optimizing:
        return SearchOutcome(
            found=False,
            reason=f"no repair: pack {pack.name} has its own #minimize, which a repair's would mix with",
        )
    base, roots, instance = _encode(pack, value, context)
    skipped: list[str] = []
    slots: dict[Path, _Slot] = {}
    for alt in alternatives:
        where = ".".join(str(p) for p in alt.path)
        if alt.weight < 1:
            skipped.append(f"{where} = {alt.value!r}: a change costs at least 1")
            continue
        try:
            facts, _roots, _ = _encode(pack, _set_path(value, alt.path, alt.value), context)
        except (EncodingError, ValidationError, KeyError, IndexError, TypeError) as exc:
            skipped.append(f"{where} = {alt.value!r}: {str(exc).splitlines()[0]}")
            continue
        removed, added = frozenset(base - facts), frozenset(facts - base)
        if not removed and not added:
            continue  # the rules read nothing that changes
        slot = slots.setdefault(alt.path, _Slot(alt.path, removed))
        if removed != slot.original:
            skipped.append(f"{where} = {alt.value!r}: changes more than the field")
            continue
        if any(added == a for _, a in slot.options):
            continue  # the same facts as a cheaper or earlier option
        slot.options.append((alt, added))
    # options of different fields must touch different atoms, or choosing both would be unsound
    owner: dict[Symbol, Path] = {}
    for path, slot in list(slots.items()):
        atoms = slot.original.union(*(a for _, a in slot.options))
        if any(owner.get(a, path) != path for a in atoms):
            skipped.append(f"{'.'.join(map(str, path))}: shares facts with another field")
            del slots[path]
            continue
        owner.update(dict.fromkeys(atoms, path))

    lists: dict[Path, int] = {}  # list path -> list number
    drop_rows: list[tuple[int, Drop, int, int, Symbol]] = []  # (list, drop, index, elem id, atom)
    conditional: dict[Symbol, tuple[int, int]] = {}  # atom -> the element it needs kept
    plan = plan_for(type(instance))
    for drop in drops:
        where = ".".join(str(p) for p in drop.path)
        if len(drop.path) != 2 or not isinstance(drop.path[1], int):
            skipped.append(f"drop {where}: only elements of the input's own lists can be dropped")
            continue
        name, index = drop.path
        fplan = next((f for f in plan.fields if f.name == name), None)
        items = getattr(instance, str(name), None)
        if fplan is None or fplan.container is not Container.LIST or not isinstance(items, list):
            skipped.append(f"drop {where}: {name} is not a list of the input")
            continue
        if not 0 <= index < len(items):
            skipped.append(f"drop {where}: no such element")
            continue
        atom = next(
            (
                a
                for a in base
                if a.name == fplan.predicate
                and len(a.arguments) == 3
                and a.arguments[0] == Number(roots[0])
                and a.arguments[1] == Number(index)
            ),
            None,
        )
        if atom is None:
            continue  # no rule reads the list: dropping changes nothing
        number = lists.setdefault((name,), len(lists))
        elem = atom.arguments[2]
        drop_rows.append(
            (number, drop, index, elem.number if elem.type == SymbolType.Number else -1, atom)
        )
        if elem.type == SymbolType.Number and isinstance(items[index], BaseModel):
            first, size = elem.number, _models_in(items[index])
            for a in base:
                head = a.arguments[0] if a.arguments else None
                if (
                    head is not None
                    and head.type == SymbolType.Number
                    and first <= head.number < first + size
                ):
                    conditional[a] = (number, index)
            for slot in slots.values():
                if any(
                    a.arguments
                    and a.arguments[0].type == SymbolType.Number
                    and first <= a.arguments[0].number < first + size
                    for a in slot.original.union(*(x for _, x in slot.options))
                ):
                    slot.element = (number, index)
    list_atoms = {row[4] for row in drop_rows}
    # every element of a list with a drop option is repositioned, kept or not
    all_elements: list[tuple[int, int, Symbol]] = []
    for (name,), number in lists.items():
        fplan = next(f for f in plan.fields if f.name == name)
        for a in base:
            if (
                a.name == fplan.predicate
                and len(a.arguments) == 3
                and a.arguments[0] == Number(roots[0])
                and a.arguments[1].type == SymbolType.Number
            ):
                all_elements.append((number, a.arguments[1].number, a))
                list_atoms.add(a)
    options = sum(len(s.options) for s in slots.values()) + len(drop_rows)
    if options == 0:
        return SearchOutcome(
            found=False,
            reason="no repair: none of the candidate values changes a fact the rules read",
            skipped=tuple(skipped),
        )

    fixed_out = set(list_atoms)
    for slot in slots.values():
        fixed_out |= slot.original
    ordered = sorted(slots.values(), key=lambda s: [str(p) for p in s.path])
    problem = _Problem(pack, base - fixed_out, ordered, drop_rows, all_elements, conditional)
    # Numbers the pack sums are facts in each solve, one combination at a time (cheapest first):
    # gringo grounds an assigned #sum over every integer its elements could add up to, so a choice
    # among amounts in cents grounds millions of rules. Choices of constants stay in the solver.
    numeric = [i for i, slot in enumerate(ordered) if _numeric(slot)]
    best: tuple[int, list[tuple[int, int]], dict[int, int]] | None = None
    ties = 0
    tried = 0
    for combo_weight, combo in _cheapest_first([ordered[i] for i in numeric]):
        if best is not None and combo_weight > best[0]:
            break  # no later combination can be cheaper: the best is proven smallest
        if tried >= _MAX_SPLITS or time.perf_counter() >= deadline:
            return SearchOutcome(
                found=False,
                reason=f"no repair found within {timeout:g} s ({tried} combinations of numeric "
                "candidates tried, the smallest not proven)",
                skipped=tuple(skipped),
                options=options,
            )
        tried += 1
        fixed = dict(zip(numeric, combo, strict=True))
        answer = problem.solve(fixed, deadline)
        if isinstance(answer, str):
            if answer.startswith("unsatisfiable"):
                continue
            return SearchOutcome(
                found=False, reason=answer, skipped=tuple(skipped), options=options
            )
        cost, picks, more = answer
        total = combo_weight + cost
        if best is None or total < best[0]:
            best, ties = (total, picks, fixed), more
        elif total == best[0]:
            ties += 1 + more
    if best is None:
        why = (
            f"no repair among the {options} candidate change(s): no combination of them "
            "makes the rules pass"
        )
        return SearchOutcome(found=False, reason=why, skipped=tuple(skipped), options=options)
    cost, picks, fixed = best
    changes: list[Change] = []
    chosen = [(s, k) for s, k in fixed.items() if k] + picks
    for s, k in sorted(chosen):
        if s < len(ordered):
            slot = ordered[s]
            alt, _ = slot.options[k - 1]
            old = get_path(value, slot.path)
            kind: Literal["change", "fill"] = "fill" if old is None else "change"
            changes.append(Change(kind, slot.path, old, alt.value, alt.weight, alt.why))
        else:
            _n, drop, _i, _e, _a = drop_rows[s - len(ordered)]
            changes.append(
                Change("drop", drop.path, get_path(value, drop.path), None, drop.weight, drop.why)
            )
    return SearchOutcome(
        found=True,
        changes=tuple(changes),
        cost=cost,
        value=apply_changes(value, changes),
        ties=ties,
        options=options,
        skipped=tuple(skipped),
    )


_MAX_SPLITS = 256  # combinations of numeric candidates solved before the search gives up


def _numeric(slot: _Slot) -> bool:
    """A field whose values are numbers (amounts, dates, counts): fixed per solve."""
    atoms = list(slot.original) + [a for _, opt in slot.options for a in opt]
    return any(a.arguments and a.arguments[-1].type == SymbolType.Number for a in atoms)


def _cheapest_first(slots: list[_Slot]) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Every choice of one option per slot (0 = keep), in order of total weight."""
    costs = [[0] + [alt.weight for alt, _ in slot.options] for slot in slots]
    order = [sorted(range(len(c)), key=lambda k, c=c: (c[k], k)) for c in costs]
    start = tuple(0 for _ in slots)
    heap = [(0, start)]
    seen = {start}
    while heap:
        weight, ranks = heapq.heappop(heap)
        yield weight, tuple(order[i][r] for i, r in enumerate(ranks))
        for i in range(len(ranks)):
            if ranks[i] + 1 < len(order[i]):
                nxt = (*ranks[:i], ranks[i] + 1, *ranks[i + 1 :])
                if nxt not in seen:
                    seen.add(nxt)
                    w = sum(costs[j][order[j][r]] for j, r in enumerate(nxt))
                    heapq.heappush(heap, (w, nxt))


@dataclass
class _Problem:
    """The search's facts, solved once per combination of numeric values."""

    pack: Pack
    fixed_facts: set[Symbol]
    ordered: list[_Slot]
    drop_rows: list[tuple[int, Drop, int, int, Symbol]]
    all_elements: list[tuple[int, int, Symbol]]
    conditional: dict[Symbol, tuple[int, int]]

    def solve(
        self, fixed: dict[int, int], deadline: float
    ) -> tuple[int, list[tuple[int, int]], int] | str:
        """(cost, picks, other optima) of one solve, or why there is none ("unsatisfiable…")."""
        data: list[Symbol] = []  # every input of the search goes in as a fact, never as a rule
        signatures: set[tuple[str, int]] = set()

        def num(*values: int) -> list[Symbol]:
            return [Number(v) for v in values]

        def put(sym: Symbol, element: tuple[int, int] | None) -> None:
            if element is None:
                data.append(sym)
            else:
                data.append(Function(_COND, [*num(*element), sym]))
                signatures.add((sym.name, len(sym.arguments)))

        for sym in sorted(self.fixed_facts):
            put(sym, self.conditional.get(sym))
        for s, slot in enumerate(self.ordered):
            if s in fixed:
                k = fixed[s]
                for sym in sorted(slot.original if k == 0 else slot.options[k - 1][1]):
                    put(sym, slot.element)
                continue
            data += [Function(_SLOT, num(s)), Function(_OPT, num(s, 0, 0))]
            if slot.element:
                data.append(Function(_IN, num(s, *slot.element)))
            choices = [(0, slot.original)] + [(k, a) for k, (_, a) in enumerate(slot.options, 1)]
            for k, atoms in choices:
                if k:
                    data.append(Function(_OPT, num(s, k, slot.options[k - 1][0].weight)))
                for sym in sorted(atoms):
                    data.append(Function(_VAL, [*num(s, k), sym]))
                    signatures.add((sym.name, len(sym.arguments)))
        base_slot = len(self.ordered)
        for d, (number, drop, index, _elem, _atom) in enumerate(self.drop_rows):
            s = base_slot + d
            data += [Function(_SLOT, num(s)), Function(_OPT, num(s, 0, 0))]
            data += [
                Function(_OPT, num(s, 1, drop.weight)),
                Function(_DROPS, num(s, number, index)),
            ]
        for number, index, sym in self.all_elements:
            data.append(Function(_ELEM, [*num(number, index), sym]))
            signatures.add((sym.name, len(sym.arguments)))
        program = list(self.pack.check_statements) + _statements(sorted(signatures))
        ctl = clingo.Control(
            ["--warn=none", "--opt-mode=optN", f"--models={_MAX_OPTIMA}"],
            logger=lambda _c, _m: None,
        )
        guard = Guard(MAX_GROUND_RULES, deadline)
        ctl.register_observer(guard)
        try:
            with ast.ProgramBuilder(ctl) as builder:
                for stmt in program:
                    builder.add(stmt)
            with ctl.backend() as backend:
                for sym in data:
                    backend.add_rule([backend.add_atom(sym)])
            ctl.ground([("base", [])], context=self.pack.arith)
        except Limit:
            return f"no repair: {guard.reason}"
        except _arith.TooLarge as exc:
            return f"no repair: {exc.reason}"
        except RuntimeError as exc:
            return f"no repair: {guard.reason or f'grounding failed: {exc}'}"
        optima: list[tuple[int, list[tuple[int, int]]]] = []

        def on_model(model: clingo.Model) -> bool:
            if model.optimality_proven or not model.cost:  # nothing left to choose: optimal
                picks = sorted(
                    (s.arguments[0].number, s.arguments[1].number)
                    for s in model.symbols(shown=True)
                    if s.name == PICK and s.arguments[1].number > 0
                )
                optima.append((sum(model.cost), picks))
            return len(optima) < _MAX_OPTIMA

        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return "no repair found in time (grounding took it all)"
        with ctl.solve(on_model=on_model, async_=True) as handle:
            finished = handle.wait(remaining)
            if not finished:
                handle.cancel()
            result = handle.get()
        if not optima:
            if not finished:
                return "no repair found in time (no change proven smallest)"
            if result.unsatisfiable:
                return "unsatisfiable"
            return "no repair: the search ended without an answer"
        cost, picks = min(optima, key=lambda o: (o[0], o[1]))
        unique = {tuple(p) for c, p in optima if c == cost}
        return cost, picks, len(unique) - 1


_PROGRAM = f"""
1 {{ {PICK}(S, K) : {_OPT}(S, K, _) }} 1 :- {_SLOT}(S).
#minimize {{ W@1, S, K : {PICK}(S, K), {_OPT}(S, K, W) }}.
{_GONE}(L, I) :- {_DROPS}(S, L, I), {PICK}(S, 1).
{_AT}(L, I, P) :- {_ELEM}(L, I, _), not {_GONE}(L, I),
    P = #count {{ J : {_ELEM}(L, J, _), J < I, not {_GONE}(L, J) }}.
{_DEAD}(S) :- {_IN}(S, L, I), {_GONE}(L, I).
:- {PICK}(S, K), K > 0, {_DEAD}(S).
:- violation(_, _).
:- deny(_, _).
:- missing(_).
:- {_arith.SUM}({", ".join("_" for _ in range(_arith.SUM_ARITY))}).
#show {PICK}/2.
"""

# How the chosen facts become the input predicates the pack reads, one rule each per signature
# (names from the pack's schema plan, never from the input): a slot's chosen option, a fact of an
# element that is kept, an element of a list at its position among the kept ones.
_LIFT = f"""
{{atom}} :- {_VAL}(S, K, {{atom}}), {PICK}(S, K), not {_DEAD}(S).
{{atom}} :- {_COND}(L, I, {{atom}}), not {_GONE}(L, I).
"""
_MOVE = f"{{name}}(P, M, E) :- {_ELEM}(L, I, {{name}}(P, _, E)), {_AT}(L, I, M)."


def _statements(signatures: Sequence[tuple[str, int]]) -> list[ast.AST]:
    """The search's own rules (no input text in them), parsed per call."""
    text = [_PROGRAM]
    for name, arity in signatures:
        if not name.isidentifier():  # the plan's names always are; never paste anything else
            raise EncodingError(name, "is not a predicate name")
        atom = f"{name}({', '.join(f'X{i}' for i in range(arity))})" if arity else name
        text.append(_LIFT.format(atom=atom))
        if arity == 3:
            text.append(_MOVE.format(name=name))
    out: list[ast.AST] = []
    ast.parse_string("\n".join(text), out.append)
    return [s for s in out if s.ast_type != ast.ASTType.Program]
