"""A form generated from a pydantic model, pre-filled with a value; returns the edited data as JSON.

Each field gets the widget its type asks for: text, whole or decimal numbers (decimals with the
places their ``Fixed`` unit declares), yes/no, a choice for ``Literal`` / ``Enum``, a date; nested
models are grouped in a box, lists of models give one box per element. Optional fields can be left
empty ("—"). Anything else (dicts, lists of lists) is edited as JSON text. The result is plain JSON
data: the schema validates it again when the decision is made.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import types
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import streamlit as st
from pydantic import BaseModel

__all__ = ["model_form"]

_NONE = "—"


def _unwrap(annotation: Any) -> tuple[Any, bool, tuple[Any, ...]]:
    """(inner type, optional?, Annotated metadata)."""
    optional = False
    meta: tuple[Any, ...] = ()
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            annotation, meta = args[0], meta + tuple(args[1:])
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) < len(get_args(annotation)):
                optional = True
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation, optional, meta


def _places(meta: tuple[Any, ...]) -> int:
    for m in meta:
        scale = getattr(m, "scale", None)
        if isinstance(scale, int) and scale > 0:
            return max(0, round(math.log10(scale)))
    return 2


def _label(name: str, field: Any) -> str:
    return (
        field.title if field is not None and field.title else name.replace("_", " ")
    ).capitalize()


def model_form(model: type[BaseModel], value: Any, key: str) -> dict[str, Any]:
    """Lay out a form for ``model`` pre-filled with ``value`` (JSON data); return the edited data."""
    value = value if isinstance(value, dict) else {}
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        out[name] = _field(
            name, field.annotation, value.get(name), f"{key}.{name}", field, field.description
        )
    return out


def _field(name: str, annotation: Any, current: Any, key: str, field: Any, help: str | None) -> Any:
    kind, optional, meta = _unwrap(annotation)
    label = _label(name, field)
    origin = get_origin(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if optional and current is None:
            st.caption(f"{label}: — (not given)")
            return None
        with st.container(border=True):
            st.markdown(f"**{label}**")
            return model_form(kind, current, key)
    if origin is list:
        (inner,) = get_args(kind) or (Any,)
        inner_kind, _, _ = _unwrap(inner)
        if isinstance(inner_kind, type) and issubclass(inner_kind, BaseModel):
            items = current if isinstance(current, list) else []
            st.markdown(f"**{label}** ({len(items)})")
            edited = []
            for index, item in enumerate(items):
                with st.container(border=True):
                    st.caption(f"{label} {index + 1}")
                    edited.append(model_form(inner_kind, item, f"{key}.{index}"))
            return edited
        if get_origin(inner_kind) is Literal:
            options = list(get_args(inner_kind))
            chosen = st.multiselect(
                label,
                options,
                default=[c for c in current or [] if c in options],
                key=key,
                help=help,
            )
            return chosen
    if origin is Literal or (isinstance(kind, type) and issubclass(kind, enum.Enum)):
        options = (
            list(get_args(kind)) if origin is Literal else [m.value for m in kind]  # type: ignore[union-attr]
        )
        if optional:
            options = [None, *options]
        index = options.index(current) if current in options else 0
        return st.selectbox(
            label,
            options,
            index=index,
            key=key,
            help=help,
            format_func=lambda o: _NONE if o is None else str(o),
        )
    if kind is bool:
        if optional:
            options = [None, True, False]
            return st.selectbox(
                label,
                options,
                index=options.index(current) if current in options else 0,
                key=key,
                help=help,
                format_func=lambda o: {None: _NONE, True: "yes", False: "no"}[o],
            )
        return st.checkbox(label, value=bool(current), key=key, help=help)
    if kind is int:
        number = st.number_input(
            label,
            value=None if current is None else int(current),
            step=1,
            key=key,
            help=help,
            placeholder=_NONE,
        )
        return None if number is None else int(number)
    if kind in (float, Decimal):
        places = _places(meta) if kind is Decimal else 2
        try:
            start = None if current is None else float(Decimal(str(current)))
        except (InvalidOperation, ValueError):
            start = None
        number = st.number_input(
            label,
            value=start,
            step=10.0**-places,
            format=f"%.{places}f",
            key=key,
            help=help,
            placeholder=_NONE,
        )
        if number is None:
            return None
        return (
            f"{Decimal(str(number)).quantize(Decimal(10) ** -places)}"
            if kind is Decimal
            else number
        )
    if kind is dt.date:
        try:
            start = None if current is None else dt.date.fromisoformat(str(current))
        except ValueError:
            start = None
        picked = st.date_input(label, value=start, key=key, help=help, format="YYYY-MM-DD")
        return picked.isoformat() if isinstance(picked, dt.date) else None
    if kind is str:
        text = "" if current is None else str(current)
        widget = st.text_area if len(text) > 80 or "\n" in text else st.text_input
        edited = widget(label, value=text, key=key, help=help)
        return None if optional and not edited.strip() else edited
    # anything else: JSON
    raw = st.text_area(
        f"{label} (JSON)", value=json.dumps(current, indent=2, default=str), key=key, help=help
    )
    try:
        return json.loads(raw)
    except ValueError:
        st.warning(f"{label}: not valid JSON; the value before the edit is kept")
        return current
