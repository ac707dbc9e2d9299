"""Stable placeholders for sensitive values, and the one replacement every enforcement point uses.

A value classified ``Sensitive(kind)`` (:mod:`nesyflow.schema.governance`) is shown, exported and
sent to a remote model as ``‹kind:1f3a9c›``: the kind says what it is, the tag (a keyed hash of the
value, spaces and case ignored) says whether two places hold the *same* value — a reviewer still
sees that a supplier's IBAN changed — without showing it. A value does not stay in its field: an
IBAN read from an invoice is also in the invoice's text, in the prompt, in the facts (quoted), in an
explanation's bindings. So masking is by *value*: a :class:`Redactor` knows the run's sensitive
values (:func:`secrets_in` finds them by their classified paths) and replaces every occurrence in
any text or JSON value, whatever its place, written with or without separators (``DE89 3704 …``).

The tag is an HMAC keyed by ``$NESYFLOW_MASK_KEY`` (a fixed default otherwise): set the key so a
viewer cannot confirm a guessed value by hashing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KEY_ENV_VAR",
    "PLACEHOLDER",
    "Redactor",
    "Secret",
    "placeholder",
    "secrets_in",
    "values_at",
]

KEY_ENV_VAR = "NESYFLOW_MASK_KEY"
#: What a placeholder looks like (kind, then six hex digits of the tag).
PLACEHOLDER = re.compile(r"‹([A-Za-z0-9_\-]+):([0-9a-f]{6})›")
_SEPARATORS = r"[\s.\-/]{0,3}"  # "DE89 3704 0044", "12-345-678", "A.B."
_STRIP = re.compile(r"[\s.\-/]+")


def _normal(text: str) -> str:
    return _STRIP.sub("", text).casefold()


def placeholder(kind: str, value: Any) -> str:
    """``‹kind:xxxxxx›`` for ``value``: the same for the same value however it is spaced or cased."""
    key = os.environ.get(KEY_ENV_VAR, "nesyflow-mask").encode()
    tag = hmac.new(key, f"{kind}\0{_normal(str(value))}".encode(), hashlib.sha256).hexdigest()
    return f"‹{kind}:{tag[:6]}›"


@dataclass(frozen=True)
class Secret:
    """One sensitive value as it is stored (``value``, the JSON form) and its kind."""

    kind: str
    value: str | int | float

    def forms(self) -> list[str]:
        """The texts this value may be written as: itself, JSON/ASP-quoted, a date's day number
        (the facts encoding of a date)."""
        text = str(self.value)
        found = {text, json.dumps(text, ensure_ascii=False)[1:-1]}
        if isinstance(self.value, str):
            try:
                day = dt.date.fromisoformat(self.value)
            except ValueError:
                pass
            else:
                found.add(str((day - dt.date(1970, 1, 1)).days))
        return [f for f in found if _normal(f)]


def _pattern(form: str) -> str:
    chars = [c for c in form if not _STRIP.fullmatch(c)]
    body = _SEPARATORS.join(re.escape(c) for c in chars)
    if chars[0].isalnum():
        body = r"(?<![^\W_])" + body
    if chars[-1].isalnum():
        body = body + r"(?![^\W_])"
    return body


class Redactor:
    """Replaces a known set of sensitive values by their placeholders, and (``restore``) back.

    Empty (no secrets) it changes nothing; ``bool(redactor)`` says whether it would."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        self._by_form: dict[str, str] = {}
        self._numbers: dict[float, str] = {}
        self._originals: dict[str, str | int | float] = {}
        for secret in secrets:
            mark = placeholder(secret.kind, secret.value)
            self._originals.setdefault(mark, secret.value)
            if isinstance(secret.value, int | float) and not isinstance(secret.value, bool):
                self._numbers[float(secret.value)] = mark
            for form in secret.forms():
                self._by_form.setdefault(_normal(form), mark)
        forms = sorted(self._by_form, key=len, reverse=True)
        self._regex = (
            re.compile("|".join(_pattern(f) for f in forms), re.IGNORECASE) if forms else None
        )

    def __bool__(self) -> bool:
        return self._regex is not None

    @property
    def placeholders(self) -> dict[str, str | int | float]:
        """Each placeholder and the value it stands for."""
        return dict(self._originals)

    def text(self, text: str) -> str:
        """``text`` with every sensitive value in it replaced."""
        if self._regex is None or not text:
            return text
        return self._regex.sub(lambda m: self._by_form.get(_normal(m.group(0)), "‹hidden›"), text)

    def text_mapped(self, text: str) -> tuple[str, Callable[[int], int]]:
        """``text`` masked, and where each offset of ``text`` lands in it (an offset inside a
        masked value lands on its placeholder's start or end), so spans read from the original
        text (provenance) can be drawn on the masked one."""
        if self._regex is None or not text:
            return text, lambda i: i
        pieces: list[str] = []
        moves: list[tuple[int, int, int, int]] = []  # old start, old end, new start, new end
        pos = new = 0
        for m in self._regex.finditer(text):
            pieces.append(text[pos : m.start()])
            new += m.start() - pos
            mark = self._by_form.get(_normal(m.group(0)), "‹hidden›")
            moves.append((m.start(), m.end(), new, new + len(mark)))
            pieces.append(mark)
            new += len(mark)
            pos = m.end()
        pieces.append(text[pos:])

        def where(i: int) -> int:
            shift = 0
            for old_start, old_end, new_start, new_end in moves:
                if i < old_start:
                    break
                if i < old_end:
                    return new_start if i == old_start else new_end
                shift = new_end - old_end
            return i + shift

        return "".join(pieces), where

    def data(self, value: Any) -> Any:
        """A JSON-like value (dicts, lists, strings, numbers) with every sensitive value replaced,
        in keys too; other types are returned as they are."""
        if self._regex is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return self._numbers.get(float(value), value)
        if isinstance(value, Mapping):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def restore(self, value: Any) -> Any:
        """The inverse for a model's answer: every placeholder back to its value (a field that is
        exactly a placeholder gets the value with its type)."""
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value.strip())
            if whole and value.strip() in self._originals:
                return self._originals[value.strip()]
            return PLACEHOLDER.sub(
                lambda m: str(self._originals.get(m.group(0), m.group(0))), value
            )
        if isinstance(value, Mapping):
            return {self._restore_key(k): self.restore(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.restore(v) for v in value]
        return value

    def _restore_key(self, key: Any) -> Any:
        return str(self.restore(key)) if isinstance(key, str) else key


def values_at(data: Any, path: str) -> list[Any]:
    """The values at a dotted classification path (``items[].iban``) in JSON-like ``data``."""
    current = [data]
    for part in path.split("."):
        name, many = (part[:-2], True) if part.endswith("[]") else (part, False)
        following: list[Any] = []
        for item in current:
            if isinstance(item, Mapping) and name in item:
                value = item[name]
                if many and isinstance(value, list | tuple):
                    following.extend(value)
                elif not many:
                    following.append(value)
        current = following
    return [v for v in current if v is not None]


def secrets_in(data: Any, sensitive: Mapping[str, str]) -> list[Secret]:
    """The sensitive values in ``data`` by ``{path: kind}`` (paths as :func:`classification`
    writes them). A value that is itself a structure gives each of its scalars."""
    found: list[Secret] = []

    def add(kind: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for v in value.values():
                add(kind, v)
        elif isinstance(value, list | tuple):
            for v in value:
                add(kind, v)
        elif (
            isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and str(value).strip()
        ):
            found.append(Secret(kind, value))

    for path, kind in sensitive.items():
        for value in values_at(data, path):
            add(kind, value)
    return found
