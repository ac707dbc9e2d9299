"""One error family for nesyflow.

Every error carries a stable ``code`` (for machines), a message (for people) and, where the problem has
a place, a :class:`Location`. Problems found while loading something (a pack, a workflow) are collected
and raised together as one :class:`ProblemsError`, sorted by location, so an author fixes them in one
pass instead of one per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "EncodingError",
    "InputError",
    "Location",
    "NesyflowError",
    "Problem",
    "ProblemsError",
    "format_validation_error",
    "validation_problems",
]


def validation_problems(exc: ValidationError, *, root: str = "value", limit: int = 20) -> list[str]:
    """Each problem pydantic found, as ``field.path: message`` (``root`` for the whole value).

    The one formatter of pydantic errors: an input, an edit, tool arguments and a pack case all
    name the field the same way. At most ``limit`` problems (a huge list gives a readable error).
    """
    out = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error.get("loc", ())) or root
        out.append(f"{where}: {error.get('msg', 'invalid')}")
    hidden = exc.error_count() - len(out)
    if hidden > 0:
        out.append(f"… and {hidden} more")
    return out


def format_validation_error(exc: ValidationError, *, root: str = "value", limit: int = 20) -> str:
    """:func:`validation_problems` on one line."""
    return "; ".join(validation_problems(exc, root=root, limit=limit))


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column; ``line == 0`` means the whole file."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, with where it is."""

    location: Location
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.message}"


class NesyflowError(Exception):
    """Root of every error nesyflow raises on purpose."""

    code = "nesyflow_error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ProblemsError(NesyflowError):
    """Several problems found at once (a pack or workflow that does not load)."""

    code = "problems"

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{what}: {len(self.problems)} problem(s)\n{lines}")


class InputError(NesyflowError):
    """An input (a JSON case, a file, an argument) is not what was expected."""

    code = "bad_input"


class EncodingError(NesyflowError):
    """A value cannot be turned into facts (or facts back into a value); names the field path."""

    code = "encoding_error"

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}", details={"path": path})
