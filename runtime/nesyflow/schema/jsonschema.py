"""A pack's input schema given as a JSON Schema file instead of a Python module.

Packs travel whole, and some teams write schemas in JSON Schema rather than Python. The file becomes a
pydantic model with the same encoding as a hand-written one. Supported: objects (``properties``,
``required``), ``string`` (``enum`` → constants, ``format: date`` / ``date-time``), ``integer``,
``boolean``, ``number`` with ``x-fixed-scale`` (and optional ``x-unit``), ``array`` of one item
type, local ``$ref`` into ``$defs``; ``x-asp-name`` sets an object's entity name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, Field, create_model

from nesyflow.errors import EncodingError
from nesyflow.schema.plan import Fixed

__all__ = ["model_from_json_schema"]


def model_from_json_schema(path: str | Path) -> type[BaseModel]:
    """The pydantic model described by the JSON Schema file at ``path``."""
    file = Path(path)
    try:
        schema = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EncodingError(str(file), f"cannot read JSON schema: {exc}") from None
    if schema.get("type") != "object":
        raise EncodingError(str(file), "the root of an input schema must be an object")
    return _Builder(schema, str(file)).model(schema, schema.get("title") or "Input", "$")


class _Builder:
    def __init__(self, root: dict[str, Any], file: str) -> None:
        self.root = root
        self.file = file
        self.models: dict[str, type[BaseModel]] = {}

    def resolve(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        ref = node.get("$ref")
        if ref is None:
            return node
        match = re.fullmatch(r"#/(\$defs|definitions)/(.+)", ref)
        if not match or match.group(2) not in self.root.get(match.group(1), {}):
            raise EncodingError(f"{self.file}:{path}", f"cannot resolve $ref {ref!r}")
        return self.root[match.group(1)][match.group(2)]

    def model(self, node: dict[str, Any], name: str, path: str) -> type[BaseModel]:
        class_name = re.sub(r"\W", "", name.title().replace(" ", "")) or "Model"
        if class_name in self.models:
            return self.models[class_name]
        required = set(node.get("required", []))
        fields: dict[str, Any] = {}
        for prop, sub in node.get("properties", {}).items():
            annotation = self.type_of(sub, prop, f"{path}.{prop}")
            description = sub.get("description")
            if prop in required:
                fields[prop] = (annotation, Field(description=description))
            else:
                fields[prop] = (Optional[annotation], Field(None, description=description))  # noqa: UP045
        model = create_model(class_name, **fields)  # type: ignore[call-overload]
        if node.get("x-asp-name"):
            model.__asp_name__ = node["x-asp-name"]
        self.models[class_name] = model
        return model

    def type_of(self, node: dict[str, Any], name: str, path: str) -> Any:
        node = self.resolve(node, path)
        kind = node.get("type")
        if "enum" in node:
            return Literal[tuple(node["enum"])]
        if kind == "string":
            fmt = node.get("format")
            return dt.date if fmt == "date" else dt.datetime if fmt == "date-time" else str
        if kind == "integer":
            return int
        if kind == "boolean":
            return bool
        if kind == "number":
            scale = node.get("x-fixed-scale")
            if not isinstance(scale, int) or scale <= 0:
                raise EncodingError(
                    f"{self.file}:{path}", "a number needs 'x-fixed-scale' (e.g. 100 for cents)"
                )
            return Annotated[Decimal, Fixed(scale, node.get("x-unit", ""))]
        if kind == "array":
            return list[self.type_of(node.get("items", {}), name, f"{path}[]")]  # type: ignore[misc]
        if kind == "object":
            return self.model(node, node.get("title") or name, path)
        raise EncodingError(f"{self.file}:{path}", f"unsupported JSON schema type {kind!r}")
