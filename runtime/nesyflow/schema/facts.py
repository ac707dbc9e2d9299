"""Pydantic instances → clingo symbols, and symbols → typed Python values.

Facts are built only with clingo's symbol factories (``Function``, ``String``, ``Number``); no text is
ever pasted into a program, so a string from a model or a user (``"). violation(x,"y"). %``) stays one
string constant whatever it holds. clingo keeps strings as C strings and would cut one at a NUL, so
a NUL is encoded as U+2400 ``␀`` (SYMBOL FOR NULL); a text that already holds ``␀`` at that place
then compares equal, which is documented in README "How inputs become facts".

Numbers must fit clingo's 32-bit integers: a value that does not is refused with an
:class:`EncodingError` naming the field ("too large"), unless the field is marked
:class:`~nesyflow.schema.plan.OmitOutOfRange` (then it gives no fact). ``to_facts(read=...)``
encodes only the predicates some rule reads: a field no rule reads changes no verdict, so a value in
it the engine could not hold does not block the check.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from clingo import Function, Number, String, Symbol, SymbolType
from pydantic import BaseModel

from nesyflow.errors import EncodingError
from nesyflow.schema.governance import classification
from nesyflow.schema.plan import Container, ValueKind, ValueType, constant_name, plan_for

__all__ = ["NUL_ESCAPE", "FactSet", "decode_value", "encode_value", "from_facts", "to_facts"]

NUL_ESCAPE = "\u2400"  # ␀ SYMBOL FOR NULL: what a NUL in a string becomes
_EPOCH = dt.date(1970, 1, 1)
Signatures = frozenset[tuple[str, int]] | set[tuple[str, int]] | None


class OutOfRange(EncodingError):
    """A number that does not fit the rule engine's 32-bit integers."""


_TRUE = Function("true")
_FALSE = Function("false")
_NUMBERS_MAX = 16_384  # numbers kept (ids, list indexes, common values); past it, made each time
_numbers: dict[int, Symbol] = {}


def _num(value: int) -> Symbol:
    """``Number(value)``, made once for a value seen before: every fact carries an id and many a
    small number, and a batch of thousands of cases makes the same ones over and over (each a few
    cffi calls). Symbols are immutable values, so sharing one changes nothing."""
    found = _numbers.get(value)
    if found is None:
        found = Number(value)
        if len(_numbers) < _NUMBERS_MAX:
            _numbers[value] = found
    return found


@functools.lru_cache(maxsize=4096)
def _constant(name: str) -> Symbol:
    """A constant's symbol, made once (an enum value is encoded once per fact that holds it)."""
    return Function(name)


Pattern = tuple[str, tuple[str | None, ...]]


class FactSet:
    """The facts of one or more root instances, with the id each root got, and their abstraction
    (:func:`nesyflow.logic._slice.abstract_key`: each fact's predicate and, per argument, the
    constant it holds or None), made while encoding: read back from the symbols it cost a cffi
    call per argument, more than building them."""

    __slots__ = ("patterns", "roots", "symbols")

    def __init__(
        self, symbols: list[Symbol], roots: list[int], patterns: frozenset[Pattern] = frozenset()
    ) -> None:
        self.symbols = symbols
        self.roots = roots
        self.patterns = patterns

    def __iter__(self):
        return iter(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def text(self) -> str:
        """The facts as ASP text, one per line (for people; checks never parse this)."""
        return "".join(f"{s}.\n" for s in self.symbols)


def to_facts(
    *instances: BaseModel,
    first_id: int = 1,
    prefix: Sequence[Symbol] = (),
    read: Signatures = None,
) -> FactSet:
    """Encode root instances as facts; ids continue from one root to the next.

    ``prefix`` symbols are put before every fact's own arguments (the checker's batch mode tags each
    case's facts with its case number this way, without building every symbol twice). ``read``:
    when given, only facts of these (name, arity) signatures are made (ids stay the same).
    """
    out = _Out()
    roots: list[int] = []
    counter = [first_id]
    pre = list(prefix)
    for instance in instances:
        if not isinstance(instance, BaseModel):
            raise EncodingError(type(instance).__name__, "is not a pydantic model instance")
        roots.append(counter[0])
        _encode_model(instance, type(instance).__name__, out, counter, pre, read)
    for instance in instances:
        _encode_classes(instance, out, pre, read)
    return FactSet(out.symbols, roots, frozenset(out.patterns))


class _Out:
    """The facts being made, and their abstraction (constants by name, everything else None)."""

    __slots__ = ("patterns", "symbols")

    def __init__(self) -> None:
        self.symbols: list[Symbol] = []
        self.patterns: set[Pattern] = set()

    def add(self, name: str, args: list[Symbol], pattern: tuple[str | None, ...]) -> None:
        self.symbols.append(Function(name, args))
        self.patterns.add((name, pattern))


_classification = functools.lru_cache(maxsize=256)(classification)


def _encode_classes(instance: BaseModel, out: _Out, pre: list[Symbol], read: Signatures) -> None:
    """``sensitive(Path, Kind)``, ``retained(Path, Years)``, ``has_value(Path)`` for a root's
    classified fields (only those some rule reads, like every other fact)."""
    classes = _classification(type(instance))
    if not classes:
        return
    wants = {
        sig: read is None or sig in read
        for sig in (("sensitive", 2), ("retained", 2), ("has_value", 1))
    }
    data = instance.model_dump(mode="json") if wants[("has_value", 1)] else None
    unknown = (None,) * len(pre)  # the case tags: numbers
    for path, found in sorted(classes.items()):
        name = String(path)
        if found.sensitive is not None and wants[("sensitive", 2)]:
            kind = constant_name(found.sensitive.kind)
            out.add("sensitive", [*pre, name, _constant(kind)], (*unknown, None, kind))
        if found.retain is not None and wants[("retained", 2)]:
            years = Number(found.retain.years)
            out.add("retained", [*pre, name, years], (*unknown, None, None))
        if data is not None and _has_value(data, path):
            out.add("has_value", [*pre, name], (*unknown, None))


def _has_value(data: Any, path: str) -> bool:
    """A value at ``path`` that is not empty; every item of a list holds one (and there is one)."""
    parts = path.split(".")
    current = [data]
    for part in parts:
        name, many = (part[:-2], True) if part.endswith("[]") else (part, False)
        following: list[Any] = []
        for item in current:
            value = item.get(name) if isinstance(item, dict) else None
            if value is None or value == "" or value == []:
                return False
            if many:
                if not isinstance(value, list):
                    return False
                following.extend(value)
            else:
                following.append(value)
        current = following
    return bool(current)


def _encode_model(
    instance: BaseModel,
    path: str,
    out: _Out,
    counter: list[int],
    pre: list[Symbol],
    read: Signatures = None,
) -> Number:
    plan = plan_for(type(instance))
    ident = _num(counter[0])
    counter[0] += 1
    unknown = (None,) * len(pre)  # the case tags: numbers
    if read is None or (plan.entity, 1) in read:
        out.add(plan.entity, [*pre, ident], (*unknown, None))
    for f in plan.fields:
        value = getattr(instance, f.name)
        if value is None:
            continue
        wanted = read is None or (f.predicate, 2 if f.container is Container.SCALAR else 3) in read
        if not wanted and f.value.kind is not ValueKind.MODEL:
            continue  # no rule reads it: whatever it holds cannot change a verdict
        fpath = f"{path}.{f.name}"
        omit = f.value.omit_out_of_range
        if f.container is Container.SCALAR:
            try:
                sym = _encode(value, f.value, fpath, out, counter, pre, read)
            except OutOfRange:
                if omit:
                    continue
                raise
            if wanted:
                out.add(f.predicate, [*pre, ident, sym], (*unknown, None, _held(value, f.value)))
        elif f.container is Container.LIST:
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            for index, item in enumerate(items):
                if item is None:
                    continue
                try:
                    sym = _encode(item, f.value, f"{fpath}[{index}]", out, counter, pre, read)
                except OutOfRange:
                    if omit:
                        continue
                    raise
                if wanted:
                    held = (*unknown, None, None, _held(item, f.value))
                    out.add(f.predicate, [*pre, ident, _num(index), sym], held)
        else:
            for key in sorted(value):
                item = value[key]
                if item is None:
                    continue
                try:
                    sym = _encode(item, f.value, f"{fpath}[{key!r}]", out, counter, pre, read)
                except OutOfRange:
                    if omit:
                        continue
                    raise
                if wanted:
                    held = (*unknown, None, None, _held(item, f.value))
                    out.add(f.predicate, [*pre, ident, _string(key, fpath), sym], held)
    return ident


def _held(value: Any, vt: ValueType) -> str | None:
    """The constant a value is encoded as (an enum member, true/false), or None: the abstraction
    :func:`nesyflow.logic._slice.abstract_key` reads from a symbol, without reading it."""
    if vt.kind is ValueKind.BOOL:
        return "true" if value else "false"
    if vt.kind is ValueKind.CONST:
        return _constant_name(value, vt)
    return None


def _constant_name(value: Any, vt: ValueType) -> str | None:
    for name, member in vt.constants:
        if member == value or getattr(member, "value", member) == value:
            return name
    return None


def _string(value: str, path: str) -> Symbol:
    if "\x00" in value:  # clingo would cut the string here
        value = value.replace("\x00", NUL_ESCAPE)
    try:
        return String(value)
    except UnicodeEncodeError as exc:
        raise EncodingError(path, f"is not valid Unicode text ({exc.reason})") from None


def _encode(
    value: Any,
    vt: ValueType,
    path: str,
    out: _Out,
    counter: list[int],
    pre: list[Symbol],
    read: Signatures = None,
) -> Symbol:
    if vt.kind is ValueKind.MODEL:
        return _encode_model(value, path, out, counter, pre, read)
    return encode_value(value, vt, path)


def encode_value(value: Any, vt: ValueType, path: str = "value") -> Symbol:
    """One scalar value as a symbol, by its planned kind."""
    kind = vt.kind
    try:
        if kind is ValueKind.STRING:
            return _string(str(value), path)
        if kind is ValueKind.BOOL:
            return _TRUE if value else _FALSE
        if kind is ValueKind.INT:
            return _number(int(value), path)
        if kind is ValueKind.CONST:
            name = _constant_name(value, vt)
            if name is None:
                raise EncodingError(path, f"{value!r} is not one of the allowed values")
            return _constant(name)
        if kind is ValueKind.DATETIME:
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return _number(int(value.timestamp()), path)
        if kind is ValueKind.DATE:
            return _number((value - _EPOCH).days, path)
        if kind is ValueKind.FIXED:
            assert vt.fixed is not None
            return _number(_scaled(value, vt.fixed.scale, path), path)
    except EncodingError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise EncodingError(path, f"cannot encode {value!r} as {vt.describe()}: {exc}") from None
    raise EncodingError(path, f"no encoding for kind {kind}")


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _number(value: int, path: str) -> Symbol:
    # clingo numbers are 32-bit; a silent wrap-around would change what the rules see.
    if not _INT_MIN <= value <= _INT_MAX:
        raise OutOfRange(path, f"{value} is too large for the rule engine's 32-bit integers")
    return _num(value)


def _scaled(value: Any, scale: int, path: str) -> int:
    """``value * scale`` rounded half-even, exactly; huge or non-finite values are refused clearly.

    ``Decimal("1e30") * 100`` has more digits than decimal's default precision (an
    InvalidOperation), and ``1e999999999`` must not be expanded at all: the magnitude is checked
    from the exponent first.
    """
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise EncodingError(path, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise EncodingError(path, f"{value!r} is not a finite number")
    if number and number.adjusted() + len(str(scale)) > 12:  # >= 10^11: past 32 bits for sure
        raise OutOfRange(path, f"{value} is too large for the rule engine's 32-bit integers")
    with localcontext() as ctx:
        ctx.prec = 40
        return int((number * scale).quantize(Decimal(1), ROUND_HALF_EVEN))


def decode_value(symbol: Symbol, vt: ValueType) -> Any:
    """A symbol back to the Python value its kind describes (the inverse of :func:`encode_value`)."""
    kind = vt.kind
    if kind is ValueKind.STRING:
        _expect(symbol, SymbolType.String, vt)
        return symbol.string
    if kind is ValueKind.INT:
        _expect(symbol, SymbolType.Number, vt)
        return symbol.number
    if kind is ValueKind.BOOL:
        if symbol == _TRUE:
            return True
        if symbol == _FALSE:
            return False
        raise EncodingError(str(symbol), "expected true or false")
    if kind is ValueKind.CONST:
        _expect(symbol, SymbolType.Function, vt)
        for name, member in vt.constants:
            if symbol.name == name and not symbol.arguments:
                return member
        raise EncodingError(str(symbol), f"expected {vt.describe()}")
    if kind is ValueKind.DATE:
        _expect(symbol, SymbolType.Number, vt)
        return _EPOCH + dt.timedelta(days=symbol.number)
    if kind is ValueKind.DATETIME:
        _expect(symbol, SymbolType.Number, vt)
        return dt.datetime.fromtimestamp(symbol.number, tz=dt.UTC)
    if kind is ValueKind.FIXED:
        _expect(symbol, SymbolType.Number, vt)
        assert vt.fixed is not None
        amount = Decimal(symbol.number) / vt.fixed.scale
        return float(amount) if vt.py_type is float else amount
    raise EncodingError(str(symbol), f"cannot decode a {kind.value} here")


def _expect(symbol: Symbol, stype: SymbolType, vt: ValueType) -> None:
    if symbol.type != stype:
        raise EncodingError(str(symbol), f"expected {vt.describe()}")


def from_facts(model: type[BaseModel], symbols: Iterable[Symbol], root: int = 1) -> BaseModel:
    """Rebuild an instance of ``model`` from facts made by :func:`to_facts` (the reverse direction)."""
    index: dict[tuple[str, int], list[Sequence[Symbol]]] = {}
    for sym in symbols:
        if sym.type is SymbolType.Function and sym.arguments:
            first = sym.arguments[0]
            if first.type is SymbolType.Number:
                index.setdefault((sym.name, first.number), []).append(sym.arguments[1:])
    return _decode_model(model, root, index)


def _decode_model(
    model: type[BaseModel], ident: int, index: dict[tuple[str, int], list[Sequence[Symbol]]]
) -> BaseModel:
    plan = plan_for(model)
    if (plan.entity, ident) not in index and not any(
        (f.predicate, ident) in index for f in plan.fields
    ):
        raise EncodingError(f"{plan.entity}({ident})", "no such object in the facts")
    data: dict[str, Any] = {}
    for f in plan.fields:
        rows = index.get((f.predicate, ident), [])

        def value(sym: Symbol, f=f) -> Any:
            if f.value.kind is ValueKind.MODEL:
                return _decode_model(f.value.py_type, sym.number, index)
            return decode_value(sym, f.value)

        if f.container is Container.SCALAR:
            if rows:
                data[f.name] = value(rows[0][0])
        elif f.container is Container.LIST:
            ordered = sorted(rows, key=lambda r: r[0].number)
            items = [value(r[1]) for r in ordered]
            data[f.name] = f.py_container(items) if f.py_container is not list else items
        elif rows:
            data[f.name] = {r[0].string: value(r[1]) for r in rows}
    return model.model_validate(data)
