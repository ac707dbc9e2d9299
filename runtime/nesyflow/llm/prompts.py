"""Prompts from Jinja2 templates: strict about missing variables, plain text (no HTML escaping)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from nesyflow.llm.errors import TemplateError

__all__ = ["render_messages", "render_template"]

Example = tuple[Any, Any]  # (user text or variables, expected output: BaseModel | dict | str)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def _tojson(value: Any, indent: int | None = None) -> str:
    """``{{ x | tojson }}``: compact JSON, non-ASCII kept, pydantic models dumped in JSON mode."""
    return json.dumps(_to_jsonable(value), ensure_ascii=False, indent=indent, default=str)


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["tojson"] = _tojson
    return env


@lru_cache(maxsize=256)
def _compile(template: str) -> Any:
    """Parsing and compiling a template costs ≈ 0.45 ms; a workflow renders the same few many times."""
    return _environment().from_string(template)


_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")


def render_template(template: str, variables: Mapping[str, Any], *, what: str = "template") -> str:
    """Render one Jinja2 template string; raise :class:`TemplateError` naming what went wrong."""
    from jinja2 import TemplateSyntaxError, UndefinedError

    try:
        compiled = _compile(template)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"{what}: syntax error on line {exc.lineno}: {exc.message}",
            details={"line": exc.lineno},
        ) from exc
    try:
        return compiled.render(**dict(variables)).strip()
    except UndefinedError as exc:
        text = str(exc)
        match = _UNDEFINED_NAME.match(text)
        given = ", ".join(sorted(variables)) or "none"
        if match:
            name = match.group(1)
            message = f"{what}: variable '{name}' is not defined (variables given: {given})"
            details: dict[str, Any] = {"variable": name}
        else:
            message = f"{what}: {text} (variables given: {given})"
            details = {}
        raise TemplateError(message, details=details) from exc
    except TemplateError:
        raise
    except Exception as exc:  # a filter or expression that fails on these values
        raise TemplateError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _example_output(output: Any) -> str:
    if isinstance(output, str):
        return output
    return _tojson(output)


def render_messages(
    system: str | None,
    template: str,
    variables: Mapping[str, Any],
    *,
    examples: Sequence[Example] = (),
) -> list[dict[str, str]]:
    """Chat messages from a system template and a user template, both rendered with ``variables``.

    Missing variables are errors (``StrictUndefined``): :class:`TemplateError` names the variable.
    ``examples`` are worked examples put between the system and the user message, each as a user turn
    and the assistant's answer: ``(input, output)`` where ``input`` is a string (rendered with
    ``template`` if it is a mapping of variables) and ``output`` a pydantic model, dict or JSON string.
    ``{{ value | tojson }}`` dumps values (pydantic models included) as JSON.
    """
    messages: list[dict[str, str]] = []
    if system is not None:
        text = render_template(system, variables, what="system template")
        if text:
            messages.append({"role": "system", "content": text})
    for number, (given, output) in enumerate(examples, start=1):
        if isinstance(given, Mapping):
            user = render_template(template, given, what=f"example {number}")
        else:
            user = str(given)
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": _example_output(output)})
    messages.append({"role": "user", "content": render_template(template, variables)})
    return messages
