"""What a field *is* to the organisation, declared once on the schema: sensitive, or kept for years.

::

    iban: Annotated[str, Sensitive("bank")]
    issue_date: Annotated[dt.date, Retain(years=10)]

People decide these classes (finance, tax, privacy), not the model and not each place data flows:
the runtime reads them from the schema and enforces them wherever a value goes (traces, the
console, exports, prompts to a remote model, retention). :func:`classification` walks a model —
nested models and lists included — and returns each classified field by its dotted path
(``items[].amount``), so every enforcement point asks the same question of the same answer.
A field with no marker gets the schema's default: not sensitive, kept as long as the store keeps
anything.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = ["FieldClass", "Retain", "Sensitive", "classification"]


@dataclass(frozen=True)
class Sensitive:
    """A value only some people may see and no remote model may receive; ``kind`` names why
    (``bank``, ``tax_id``, ``personal``) so a role can be allowed one kind and not another."""

    kind: str = "personal"


@dataclass(frozen=True)
class Retain:
    """A value that must be stored for ``years`` (tax law, audit) and may be purged after."""

    years: int

    def __post_init__(self) -> None:
        if not isinstance(self.years, int) or isinstance(self.years, bool) or self.years < 0:
            raise ValueError(f"Retain(years=...) must be a whole number ≥ 0, not {self.years!r}")


@dataclass(frozen=True)
class FieldClass:
    """The classification of one field: its markers, at its dotted path."""

    path: str
    sensitive: Sensitive | None = None
    retain: Retain | None = None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``Item``, ``list[Item]``, ``Item | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin is None and not isinstance(annotation, types.UnionType):
        return []
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return True
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def classification(model: type[BaseModel], prefix: str = "") -> dict[str, FieldClass]:
    """Every classified field of ``model`` and of the models it nests, by dotted path.

    A list of models is written ``items[]``: the class holds for every element."""
    found: dict[str, FieldClass] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        sensitive = next((m for m in info.metadata if isinstance(m, Sensitive)), None)
        retain = next((m for m in info.metadata if isinstance(m, Retain)), None)
        if sensitive or retain:
            found[path] = FieldClass(path, sensitive, retain)
        inner = "[]." if _is_list(info.annotation) else "."
        for sub in _models_in(info.annotation):
            found.update(classification(sub, f"{path}{inner}"))
    return found
