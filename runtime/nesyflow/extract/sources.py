"""Where a field's value comes from, declared on the output schema with ``Annotated`` markers.

::

    amount: Annotated[Money, Span("money")]
    currency: Annotated[Currency, Derived("amount", "currency", default="USD")] = "USD"
    city_tier: Annotated[int | None, When("category", "meals", "lodging"), Lookup("cities")]

A field may carry several sources: they are tried in order and the first that yields a value
wins (``attendees``: a count in the text, else ``Default(1)`` for a gift). ``When`` says under
which condition a field is read at all (``nights`` only for lodging); it may only name a field
declared before it, so declaration order is the dependency order. :func:`field_sources`
validates all of that when the schema is loaded (every problem at once, with the field's name)
and :func:`describe_sources` prints it (``nesyflow facts --schema`` and the agent's README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from nesyflow.errors import Location, Problem, ProblemsError

__all__ = [
    "Default",
    "Derived",
    "FieldPlan",
    "FromInput",
    "Keywords",
    "Lookup",
    "Neighbours",
    "Place",
    "Present",
    "Source",
    "Span",
    "When",
    "Written",
    "describe_sources",
    "field_sources",
]


class Source:
    """Base of every source marker."""

    def describe(self) -> str:  # pragma: no cover - every marker overrides it
        return type(self).__name__


@dataclass(frozen=True)
class FromInput(Source):
    """A constant of the run's input (``employee.name``): never asked, never read from text."""

    path: str

    def describe(self) -> str:
        return f"from the run's input ({self.path})"


@dataclass(frozen=True)
class Span(Source):
    """A span of a kind found by a finder (:mod:`nesyflow.extract.finders`): ``money``, ``date``,
    ``rate``, ``name``, ``email``, ``identifier``, ``zip``, ``iban``, ``vat_id``, ``percent``,
    ``stay`` (nights between an arrival and a departure date); ``count``, ``phrase`` and ``reference`` take ``patterns`` (``(regex, weight)`` pairs, ``{n}``
    for the number of a count, the label before a reference). Any other kind with ``patterns``
    keeps only the values written after one of those labels (``Span("money", (("^net", 3),))``).
    ``dayfirst_unless`` (dates): ``05/03`` is the 5th of March unless the earlier field named
    has one of the values given (``("supplier_country", ("US",))``). ``nth``: only the n-th of
    the item's own occurrences in text order (``-1`` the last: an invoice row's amount, ``-2`` its
    unit price), never one borrowed from the shared text. ``when``: only when the earlier field
    named has one of the values given (a trip context is a purpose for client entertainment,
    never a reason to work on a weekend). ``column``: where the item is a row of a sheet pasted
    as text (tab- or comma-separated under a header), the cell under the header this regex names
    ("Miles") is read first — a log's numbers carry no words of their own."""

    kind: str
    patterns: tuple[tuple[str, float], ...] = ()
    text: tuple[str, ...] = ("request", "receipt")
    dayfirst_unless: tuple[str, tuple[Any, ...]] | None = None
    nth: int | None = None
    when: tuple[str, tuple[Any, ...]] | None = None
    column: str | None = None

    def describe(self) -> str:
        label = " after a label" if self.patterns and self.kind not in _PATTERNED else ""
        if self.nth is not None:
            label += " (the last of its row)" if self.nth == -1 else f" (#{self.nth} of its row)"
        if self.when is not None:
            label += f" when {self.when[0]} is {' or '.join(map(str, self.when[1]))}"
        if self.column is not None:
            label += f" (or a sheet's column /{self.column}/)"
        return f"a {self.kind} span{label} of the {' / '.join(self.text)}"


_PATTERNED = ("count", "phrase", "reference")


@dataclass(frozen=True)
class Lookup(Source):
    """A row of a table the rule pack owns (``rules/<pack>/data/<table>.csv``): the first
    ``key`` of the table written in the text gives ``value`` (city → tier)."""

    table: str
    key: str = "key"
    value: str = "value"

    def describe(self) -> str:
        return f"a lookup: {self.key} written in the text → {self.value} (pack table {self.table})"


@dataclass(frozen=True)
class Place(Source):
    """A place the text names (a US address's city and state, a city after a postcode or after
    "in" / "near") looked up in a gazetteer the rule pack owns (``rules/<pack>/data/<table>.csv``
    with columns ``city``, ``country``, ``region``, ``population`` and ``value``): the city →
    tier knowledge of a whole country, where :class:`Lookup` holds a short hand-kept list. A name
    in several places without a state is the most populous one."""

    table: str
    value: str = "value"

    def describe(self) -> str:
        return f"a place named in the text → {self.value} (pack gazetteer {self.table})"


@dataclass(frozen=True)
class Keywords(Source):
    """Keyword evidence from the pack's keyword table (rows ``field,value,phrase,weight``) for a
    boolean or an enum: each phrase found votes for its value, the earliest phrase counting
    double. ``itemised`` is the value when no phrase occurs but the receipt lists its items (no
    alcohol on an itemised receipt means none was bought); else the field is left unset."""

    table: str = "keywords"
    itemised: Any = None
    itemised_unless: tuple[str, Any] | None = None
    """``(field, value)``: no ``itemised`` value when that earlier field has it (a receipt read
    as not itemised — a card slip — cannot say what was not bought)."""
    itemised_known: str | None = None
    """A pack table (column ``phrase``) that must name every line the receipt lists for the
    ``itemised`` value to hold: a line none of its phrases names (a beer by its brand, "Half Acre
    Daisy Cutter") makes the field ambiguous instead, naming the line. The keyword table can
    never list every beer; a table of dishes and soft drinks fails safe when it misses one."""

    def describe(self) -> str:
        extra = (
            f"; {self.itemised!r} if an itemised receipt has none"
            if self.itemised is not None
            else ""
        )
        if self.itemised is not None and self.itemised_known:
            extra += f" and table {self.itemised_known} names every line it lists"
        return f"keyword evidence (pack table {self.table}){extra}"


@dataclass(frozen=True)
class Neighbours(Source):
    """For an enum the keywords leave open: the ``k`` nearest labelled examples of the index
    named ``index`` (sentence-transformers + faiss) vote among the keyword options; agreeing
    with the keywords' top option settles it, disagreeing makes the field ambiguous."""

    index: str
    k: int = 5

    def describe(self) -> str:
        return (
            f"if the keywords leave it open: the {self.k} nearest labelled examples ({self.index})"
        )


@dataclass(frozen=True)
class Derived(Source):
    """An attribute of another field's chosen span (the currency written next to the amount).
    ``or_rate_unit``: when the span has none, the unit of an exchange rate the text states
    ("converted at 0.7305 USD per CAD": the unmarked amounts are CAD), before ``default``."""

    field: str
    attr: str
    default: Any = None
    or_rate_unit: bool = False

    def describe(self) -> str:
        unit = ", else the unit of a rate the text states" if self.or_rate_unit else ""
        return f"the {self.attr} written with {self.field}{unit} (else {self.default!r})"


@dataclass(frozen=True)
class Default(Source):
    """A value used when the earlier sources found nothing (a gift has one recipient); with
    ``field``/``values``, only when that earlier field has one of them (mileage → "personal car")."""

    value: Any
    field: str | None = None
    values: tuple[Any, ...] = ()

    def describe(self) -> str:
        cond = f" when {self.field} is {' or '.join(map(str, self.values))}" if self.field else ""
        return f"default {self.value!r}{cond}"


@dataclass(frozen=True)
class Present(Source):
    """``value`` when the item has its own block of the source text (a receipt block → a
    receipt is attached). ``slip``: the value instead when the block is only a card slip (a
    masked card number and a charge, nothing bought named). ``total_only``: ``(value, field,
    values)``, the value instead when the block lists nothing bought and ``field`` is one of
    ``values`` (a meal's or goods' receipt that shows just a total is no itemised receipt; a
    ride's or a fare's one service line is)."""

    source: str
    value: Any
    slip: Any = None
    total_only: tuple[Any, str, tuple[Any, ...]] | None = None

    @property
    def field(self) -> str | None:
        return self.total_only[1] if self.total_only else None

    def describe(self) -> str:
        out = f"{self.value!r} when the item has its own {self.source} text"
        if self.slip is not None:
            out += f", {self.slip!r} when it is only a card slip"
        if self.total_only:
            v, f, vs = self.total_only
            out += f", {v!r} when it shows only a total and {f} is {' or '.join(map(str, vs))}"
        return out


@dataclass(frozen=True)
class Written(Source):
    """Free text: a short phrase of the request (``description``)."""

    max_chars: int = 80

    def describe(self) -> str:
        return f"the request's first clause (at most {self.max_chars} characters)"


@dataclass(frozen=True)
class When(Source):
    """Read the field only when ``field`` (declared before) has one of ``values``."""

    field: str
    values: tuple[Any, ...] = ()

    def __init__(self, field: str, *values: Any) -> None:
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "values", tuple(values))

    def describe(self) -> str:
        return f"only when {self.field} is {' or '.join(map(str, self.values))}"


@dataclass(frozen=True)
class FieldPlan:
    """One field's sources, in order, and its condition."""

    name: str
    sources: tuple[Source, ...]
    when: When | None = None
    depends: tuple[str, ...] = field(default=())


def field_sources(model: type[BaseModel], known_kinds: set[str] | None = None) -> list[FieldPlan]:
    """The annotated fields of ``model`` in declaration order, validated: a ``When`` or
    ``Derived`` names a field declared before it, a span kind is known, a field has at most one
    ``When``. Raises :class:`ProblemsError` listing every problem."""
    from nesyflow.extract.finders import FINDERS

    kinds = known_kinds or set(FINDERS) | set(_PATTERNED)
    where = Location(f"{model.__module__}:{model.__qualname__}")
    problems: list[Problem] = []
    plans: list[FieldPlan] = []
    seen: list[str] = []
    for name, info in model.model_fields.items():
        markers = [m for m in info.metadata if isinstance(m, Source)]
        whens = [m for m in markers if isinstance(m, When)]
        sources = tuple(m for m in markers if not isinstance(m, When))
        if len(whens) > 1:
            problems.append(Problem(where, "source_when", f"field '{name}' has two When markers"))
        depends = (
            tuple(
                m.field
                for m in [*whens, *sources]
                if isinstance(m, When | Derived | Default | Present) and m.field is not None
            )
            + tuple(
                cond[0]
                for m in sources
                if isinstance(m, Span)
                for cond in (m.dayfirst_unless, m.when)
                if cond is not None
            )
            + tuple(
                m.itemised_unless[0]
                for m in sources
                if isinstance(m, Keywords) and m.itemised_unless is not None
            )
        )
        for dep in depends:
            if dep not in seen:
                problems.append(
                    Problem(
                        where,
                        "source_order",
                        f"field '{name}' depends on '{dep}', which is not a field declared before it",
                    )
                )
        for m in sources:
            if isinstance(m, Span) and m.kind not in kinds:
                problems.append(
                    Problem(
                        where,
                        "source_kind",
                        f"field '{name}': unknown span kind '{m.kind}' (known: {', '.join(sorted(kinds))})",
                    )
                )
            if isinstance(m, Span) and m.kind in _PATTERNED and not m.patterns:
                problems.append(
                    Problem(
                        where, "source_patterns", f"field '{name}': a {m.kind} span needs patterns"
                    )
                )
        seen.append(name)
        if sources:
            plans.append(FieldPlan(name, sources, whens[0] if whens else None, depends))
    if problems:
        raise ProblemsError(f"sources of {model.__name__}", problems)
    return plans


def describe_sources(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    """``(field, where its value comes from)`` for every annotated field, for people; the fields
    of nested models (``items[].amount``) too. Validates as :func:`field_sources` does."""
    import typing

    rows = []
    for plan in field_sources(model):
        text = "; else ".join(s.describe() for s in plan.sources)
        if plan.when is not None:
            text = f"{plan.when.describe()}: {text}"
        rows.append((prefix + plan.name, text))
    for name, info in model.model_fields.items():
        for arg in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                many = typing.get_origin(info.annotation) in (list, tuple)
                rows += describe_sources(arg, f"{prefix}{name}{'[]' if many else ''}.")
    return rows
