"""JSON schema → llama.cpp GBNF grammar that a small model cannot run away in.

llama-cpp-python's own converter (``LlamaGrammar.from_json_schema``) lets any character but ``"`` and
``\\`` into a string, raw newlines and control characters included (which is not even valid JSON), and
puts no bound on a string's length: a 135M model then writes one string until ``max_tokens`` and the
output never parses. This converter reuses llama.cpp's (for objects, enums, ``$ref``, dates…) but:

* string characters exclude control characters (no raw newline or tab); the only escapes are ``\\"``,
  ``\\\\`` and ``\\/``;
* every free string is bounded: its ``maxLength``, else ``max_string_length`` (default 200);
* arrays without ``maxItems`` get ``max_items`` (default 32);
* free-form JSON (``dict[str, Any]``, ``json_object`` mode) nests at most 3 deep, 8 members an object
  (unbounded, a small model writes ``{"value": {"value": {...`` until ``max_tokens``);
* ``anyOf [number, string]`` (how pydantic describes ``Decimal``) is generated as a number.

``Literal``/``Enum`` fields become alternatives of constants; ``date`` (format ``date``) becomes
``YYYY-MM-DD``; ``datetime`` and ``time`` follow llama.cpp's formats. These limits are on generation
only: the output is still validated by the pydantic model.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DEFAULT_MAX_ITEMS", "DEFAULT_MAX_STRING_LENGTH", "schema_to_grammar"]

DEFAULT_MAX_STRING_LENGTH = 200
DEFAULT_MAX_ITEMS = 32
MAX_DEPTH = 3  # free-form JSON (dict[str, Any], json_object mode): nesting depth
MAX_MEMBERS = 8  # ... and members per object

# Any character but ", \ and control characters (C0 and DEL); or an escaped quote, backslash or slash.
STRICT_CHAR = r'[^"\\\x00-\x1F\x7F] | "\\" ["\\/]'
_FORMATS_KEPT = {"date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5"}


def _is_number_or_string(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return False
    types = sorted(o.get("type", "") for o in options if isinstance(o, dict) and len(o) == 1)
    return types == ["number", "string"]


def _converter_class() -> type:
    from llama_cpp.llama_grammar import (
        PRIMITIVE_RULES,
        RESERVED_NAMES,
        BuiltinRule,
        SchemaConverter,
    )

    class StrictSchemaConverter(SchemaConverter):  # type: ignore[misc]
        def __init__(self, *, max_string_length: int, max_items: int) -> None:
            super().__init__(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
            self.max_string_length = max_string_length
            self.max_items = max_items

        def _add_primitive(self, name: str, rule: Any) -> str:
            if name == "char":
                rule = BuiltinRule(STRICT_CHAR, [])
            elif name == "string":  # untyped strings: free-form object keys and values
                rule = BuiltinRule(rf'"\"" char{{0,{self.max_string_length}}} "\"" space', ["char"])
            elif name in ("object", "array", "value"):  # free-form JSON: bounded depth and size
                return self._add_free_json(name)
            return super()._add_primitive(name, rule)

        def _add_free_json(self, name: str) -> str:
            string = self._add_primitive("string", BuiltinRule("", []))
            scalars = f"{string} | number | boolean | null"
            for dep in ("number", "boolean", "null"):
                super()._add_primitive(dep, PRIMITIVE_RULES[dep])
            self._add_rule("value-0", scalars)
            for depth in range(1, MAX_DEPTH + 1):
                inner = f"value-{depth - 1}"
                self._add_rule(
                    f"object-{depth}",
                    rf'"{{" space ( {string} ":" space {inner} '
                    rf'("," space {string} ":" space {inner}){{0,{MAX_MEMBERS - 1}}} )? "}}" space',
                )
                self._add_rule(
                    f"array-{depth}",
                    rf'"[" space ( {inner} ("," space {inner}){{0,{self.max_items - 1}}} )? '
                    r'"]" space',
                )
                self._add_rule(f"value-{depth}", f"object-{depth} | array-{depth} | {scalars}")
            return self._add_rule(name, f"{name}-{MAX_DEPTH}")

        def visit(self, schema: dict[str, Any], name: str) -> str:
            if _is_number_or_string(schema):
                schema = {k: v for k, v in schema.items() if k != "anyOf"} | {"type": "number"}
            if (
                schema.get("type") == "string"
                and not {"pattern", "enum", "const", "$ref"} & schema.keys()
                and schema.get("format") not in _FORMATS_KEPT
            ):
                rule_name = name + "-" if name in RESERVED_NAMES else name or "root"
                char = self._add_primitive("char", BuiltinRule(STRICT_CHAR, []))
                low = int(schema.get("minLength", 0))
                high = int(schema.get("maxLength", max(low, self.max_string_length)))
                return self._add_rule(rule_name, rf'"\"" {char}{{{low},{high}}} "\"" space')
            if (
                schema.get("type") in (None, "array")
                and isinstance(schema.get("items"), dict)
                and "maxItems" not in schema
            ):
                low = int(schema.get("minItems", 0))
                schema = {**schema, "maxItems": max(low, self.max_items)}
            return super().visit(schema, name)

    return StrictSchemaConverter


def schema_to_grammar(
    schema: dict[str, Any] | str,
    *,
    max_string_length: int = DEFAULT_MAX_STRING_LENGTH,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> str:
    """GBNF text for a JSON schema (a dict or JSON text), with the strict rules above.

    Needs llama-cpp-python (its converter is the base); ``{}`` or ``{"type": "object"}`` gives a
    grammar for any JSON object.
    """
    if isinstance(schema, str):
        schema = json.loads(schema)
    converter = _converter_class()(max_string_length=max_string_length, max_items=max_items)
    resolved = converter.resolve_refs(schema, "schema") or {"type": "object"}
    converter.visit(resolved, "")
    return str(converter.format_grammar())
