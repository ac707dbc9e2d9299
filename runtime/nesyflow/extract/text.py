"""A piece of a source text, with its offset, so every value read from it can point back."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Segment"]


@dataclass(frozen=True)
class Segment:
    """``text`` is ``source[offset : offset + len(text)]`` of the input field named ``source``
    (``"request"``, ``"receipt"``...): offsets in findings are offsets into that whole field."""

    source: str
    text: str
    offset: int = 0

    def part(self, start: int, end: int) -> Segment:
        """The sub-segment ``text[start:end]``, still pointing into the same source."""
        return Segment(self.source, self.text[start:end], self.offset + start)

    def __bool__(self) -> bool:
        return bool(self.text.strip())
