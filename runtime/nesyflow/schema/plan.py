"""How a pydantic model maps to ASP predicates: the encoding's *plan* and the vocabulary it yields.

The encoding (documented in README "Fact encoding"):

* Every model instance gets an integer id, assigned 1, 2, 3, … in pre-order (fields in declaration
  order), so the same instance always gives the same facts.
* A model class has an *entity* name: ``__asp_name__`` if the class sets it, else its name in
  snake_case (``ExpenseItem`` → ``expense_item``). Each instance gives ``entity(Id)``.
* A scalar field ``f`` gives ``entity_f(Id, Value)``; a nested model gives ``entity_f(Id, ChildId)``.
* A list (or tuple / set) field gives ``entity_f(Id, Index, Value)``, index from 0.
* A ``dict[str, X]`` field gives ``entity_f(Id, Key, Value)`` with the key as a string.
* ``None`` gives no fact (rules see the absence; use ``missing/1`` to say a needed field is absent).

Values: ``str`` → string; ``int`` → number; ``bool`` → constant ``true``/``false``; an ``Enum`` or a
``Literal`` of strings → constant (lower-cased, non-alphanumerics → ``_``: ``"Main Cabin"`` →
``main_cabin``); ``date`` → number of days since 1970-01-01 (so ``D2 - D1`` is a number of days; the
weekday, Monday = 0, is ``(D + 3) \\ 7``); ``datetime`` → seconds since the epoch (UTC);
``Decimal``/``float`` → integer in the field's declared fixed-point unit (``Annotated[Decimal,
Fixed(100, "cents")]``, rounded half-even), and a float with no unit is refused at plan time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from nesyflow.errors import EncodingError
from nesyflow.schema.governance import classification

__all__ = [
    "Fixed",
    "ModelPlan",
    "Money",
    "OmitOutOfRange",
    "Predicate",
    "ValueKind",
    "constant_name",
    "entity_name",
    "plan_for",
    "vocabulary",
]


@dataclass(frozen=True)
class Fixed:
    """Declares a fixed-point unit for a decimal field: the fact holds ``round(value * scale)``."""

    scale: int
    unit: str = ""

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError("Fixed scale must be positive")

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """Validation refuses NaN and infinities (pydantic's floats accept them; facts cannot)."""
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(_finite, handler(source))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError("must be a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


@dataclass(frozen=True)
class OmitOutOfRange:
    """Marks a number field whose value gives no fact when it does not fit 32 bits.

    For values the rules only ever compare for equality with numbers that were encoded (the
    amounts a receipt contains, matched against a claim's amounts): nothing encodable can equal
    them, so leaving them out changes no verdict, where refusing them would make the whole check
    ``unknown``. Unmarked fields are refused ("too large") when a rule reads them.
    """


Money = Annotated[Decimal, Fixed(100, "cents")]
"""A money amount, encoded in cents."""


_CONST_RE = re.compile(r"[^a-z0-9_]+")


def constant_name(value: str) -> str:
    """The ASP constant for an enum value: lower case, runs of other characters → ``_``."""
    name = _CONST_RE.sub("_", value.strip().lower()).strip("_")
    if not name:
        name = "empty"
    if not name[0].isalpha():
        name = "c_" + name
    return name


def entity_name(model: type[BaseModel]) -> str:
    """The entity (predicate prefix) for a model class."""
    explicit = model.__dict__.get("__asp_name__")
    if isinstance(explicit, str) and explicit:
        return explicit
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", model.__name__).lower()


class ValueKind(enum.Enum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    CONST = "const"
    DATE = "date"
    DATETIME = "datetime"
    FIXED = "fixed"
    MODEL = "model"


@dataclass(frozen=True)
class ValueType:
    """The kind of one value position and what it needs to convert both ways."""

    kind: ValueKind
    py_type: Any = None
    fixed: Fixed | None = None
    # constant name → Python value, for CONST
    constants: tuple[tuple[str, Any], ...] = ()
    omit_out_of_range: bool = False  # OmitOutOfRange: no fact instead of an error

    def describe(self) -> str:
        if self.kind is ValueKind.CONST:
            return "one of " + ", ".join(name for name, _ in self.constants)
        if self.kind is ValueKind.FIXED and self.fixed:
            unit = self.fixed.unit or f"1/{self.fixed.scale}"
            return f"integer in {unit}"
        if self.kind is ValueKind.DATE:
            return "date as days since 1970-01-01"
        if self.kind is ValueKind.DATETIME:
            return "time as seconds since the epoch (UTC)"
        if self.kind is ValueKind.MODEL:
            return f"id of a {entity_name(self.py_type)}"
        return self.kind.value


class Container(enum.Enum):
    SCALAR = "scalar"
    LIST = "list"
    DICT = "dict"


@dataclass(frozen=True)
class FieldPlan:
    name: str
    predicate: str
    container: Container
    value: ValueType
    description: str
    py_container: Any = list


@dataclass(frozen=True)
class ModelPlan:
    model: type[BaseModel]
    entity: str
    fields: tuple[FieldPlan, ...]
    description: str = ""


@dataclass(frozen=True)
class Predicate:
    """One predicate of the vocabulary a rule author writes against."""

    name: str
    arity: int
    arguments: tuple[str, ...]
    meaning: str = ""

    @property
    def signature(self) -> tuple[str, int]:
        return (self.name, self.arity)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.arguments)})"


_PLANS: dict[type[BaseModel], ModelPlan] = {}


def plan_for(model: type[BaseModel]) -> ModelPlan:
    """The (cached) plan for a model class; raises :class:`EncodingError` for unsupported types."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = _build_plan(model)
        _PLANS[model] = plan
    return plan


def _build_plan(model: type[BaseModel]) -> ModelPlan:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise EncodingError(str(model), "is not a pydantic model class")
    entity = entity_name(model)
    hints = typing.get_type_hints(model, include_extras=True)
    fields = []
    for name, info in model.model_fields.items():
        annotation = hints.get(name, info.annotation)
        metadata = list(info.metadata)
        path = f"{model.__name__}.{name}"
        container, value_ann, py_container = _split_container(annotation, path)
        value = _value_type(value_ann, metadata, path)
        fields.append(
            FieldPlan(
                name=name,
                predicate=f"{entity}_{name}",
                container=container,
                value=value,
                description=info.description or "",
                py_container=py_container,
            )
        )
    doc = (model.__doc__ or "").strip().splitlines()
    return ModelPlan(model, entity, tuple(fields), doc[0] if doc else "")


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _unwrap_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    extra: list[Any] = []
    while get_origin(annotation) is Annotated:
        args = get_args(annotation)
        annotation, extra = args[0], [*extra, *args[1:]]
    return annotation, extra


def _split_container(annotation: Any, path: str) -> tuple[Container, Any, Any]:
    annotation = _strip_optional(annotation)
    bare, _ = _unwrap_annotated(annotation)
    bare = _strip_optional(bare)
    origin = get_origin(bare)
    if origin in (list, tuple, set, frozenset):
        args = [a for a in get_args(bare) if a is not Ellipsis]
        if not args:
            raise EncodingError(path, "a list field needs an item type, e.g. list[int]")
        if origin is tuple and len(set(map(repr, args))) != 1:
            raise EncodingError(path, "tuples must hold one item type, e.g. tuple[int, ...]")
        item = args[0]
        inner, _ = _unwrap_annotated(_strip_optional(item))
        if get_origin(inner) in (list, tuple, set, frozenset, dict):
            raise EncodingError(
                path, "nested containers are not supported; wrap the inner one in a model"
            )
        return Container.LIST, item, origin
    if origin is dict:
        key, item = get_args(bare)
        if key is not str:
            raise EncodingError(path, "dict keys must be str")
        return Container.DICT, item, dict
    return Container.SCALAR, annotation, None


def _value_type(annotation: Any, metadata: list[Any], path: str) -> ValueType:
    # Annotated[Rate | None, marker] wraps an Optional of an Annotated: unwrap until bare
    extra: list[Any] = []
    while True:
        bare, more = _unwrap_annotated(_strip_optional(annotation))
        bare = _strip_optional(bare)
        extra += more
        if bare == annotation:
            break
        annotation = bare
    metadata = [*metadata, *extra]
    vt = _plain_value_type(annotation, metadata, path)
    if any(isinstance(m, OmitOutOfRange) for m in metadata):
        if vt.kind not in (ValueKind.INT, ValueKind.FIXED, ValueKind.DATE, ValueKind.DATETIME):
            raise EncodingError(path, "OmitOutOfRange applies to numbers, dates and times only")
        vt = dataclasses.replace(vt, omit_out_of_range=True)
    return vt


def _plain_value_type(annotation: Any, metadata: list[Any], path: str) -> ValueType:
    fixed = next((m for m in metadata if isinstance(m, Fixed)), None)
    origin = get_origin(annotation)
    if origin is Literal:
        values = get_args(annotation)
        if all(isinstance(v, str) for v in values):
            return ValueType(ValueKind.CONST, annotation, constants=_constants(values, path))
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return ValueType(ValueKind.INT, int)
        raise EncodingError(path, "a Literal must hold only strings or only integers")
    if origin in (Union, types.UnionType):
        raise EncodingError(
            path, f"unions are not supported ({annotation}); use one type or Optional"
        )
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            plan_for(annotation)  # validate the nested model early
            return ValueType(ValueKind.MODEL, annotation)
        if issubclass(annotation, bool):
            return ValueType(ValueKind.BOOL, bool)
        if issubclass(annotation, enum.Enum):
            members = list(annotation)
            names = [m.value if isinstance(m.value, str) else m.name for m in members]
            consts = _constants(names, path)
            return ValueType(
                ValueKind.CONST,
                annotation,
                constants=tuple((c, m) for (c, _), m in zip(consts, members, strict=True)),
            )
        if issubclass(annotation, int):
            return ValueType(ValueKind.INT, int)
        if issubclass(annotation, str):
            return ValueType(ValueKind.STRING, str)
        if issubclass(annotation, dt.datetime):
            return ValueType(ValueKind.DATETIME, dt.datetime)
        if issubclass(annotation, dt.date):
            return ValueType(ValueKind.DATE, dt.date)
        if issubclass(annotation, (Decimal, float)):
            if fixed is None:
                raise EncodingError(
                    path,
                    f"{annotation.__name__} needs a fixed-point unit, e.g. "
                    "Annotated[Decimal, Fixed(100, 'cents')] (ASP has only integers)",
                )
            return ValueType(ValueKind.FIXED, annotation, fixed=fixed)
    raise EncodingError(path, f"type {annotation!r} cannot be encoded as facts")


def _constants(values: tuple[Any, ...] | list[Any], path: str) -> tuple[tuple[str, Any], ...]:
    seen: dict[str, Any] = {}
    for value in values:
        name = constant_name(str(value))
        if name in seen and seen[name] != value:
            raise EncodingError(
                path, f"enum values {seen[name]!r} and {value!r} both become constant {name!r}"
            )
        seen[name] = value
    return tuple(seen.items())


def vocabulary(*models: type[BaseModel]) -> list[Predicate]:
    """Every predicate the given root models (and the models they contain) can produce.

    Raises :class:`EncodingError` when two classes share an entity name or two predicates collide.
    """
    out: dict[tuple[str, int], Predicate] = {}
    owners: dict[str, type[BaseModel]] = {}
    todo = list(models)
    while todo:
        model = todo.pop(0)
        plan = plan_for(model)
        if plan.entity in owners:
            if owners[plan.entity] is not model:
                raise EncodingError(
                    model.__name__,
                    f"entity name {plan.entity!r} is also used by {owners[plan.entity].__name__}; "
                    "set __asp_name__ on one of them",
                )
            continue
        owners[plan.entity] = model
        _put(out, Predicate(plan.entity, 1, ("Id",), plan.description or f"one {model.__name__}"))
        for f in plan.fields:
            what = f.value.describe()
            if f.container is Container.SCALAR:
                args: tuple[str, ...] = ("Id", f"Value: {what}")
            elif f.container is Container.LIST:
                args = ("Id", "Index: 0-based position", f"Value: {what}")
            else:
                args = ("Id", "Key: string", f"Value: {what}")
            _put(out, Predicate(f.predicate, len(args), args, f.description))
            if f.value.kind is ValueKind.MODEL:
                todo.append(f.value.py_type)
    if any(classification(m) for m in models):
        for pred in CLASS_PREDICATES:
            _put(out, pred)
    return sorted(out.values(), key=lambda p: (p.name, p.arity))


#: What a schema's classification (nesyflow.schema.governance) gives the rules, for a root model
#: with classified fields: policy over classes is then a plain rule ("a must-keep field has a value
#: before approval": ``review(r, P) :- retained(P, _), not has_value(P).``).
CLASS_PREDICATES = (
    Predicate(
        "sensitive",
        2,
        ("Path: string (a field's dotted path, items[].x)", "Kind: constant"),
        "the field is sensitive, of this kind",
    ),
    Predicate(
        "retained",
        2,
        ("Path: string", "Years: number"),
        "the field must be kept this many years",
    ),
    Predicate(
        "has_value",
        1,
        ("Path: string",),
        "a classified field holds a value (in every item, for a list's field; not empty)",
    ),
)


def _put(out: dict[tuple[str, int], Predicate], pred: Predicate) -> None:
    if pred.signature in out:
        raise EncodingError(pred.name, f"predicate {pred.name}/{pred.arity} is produced twice")
    out[pred.signature] = pred
