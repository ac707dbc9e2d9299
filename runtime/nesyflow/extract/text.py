"""A piece of a source text, with its offset, so every value read from it can point back."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Segment", "without_mail_headers", "without_markup"]


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


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*>|<!DOCTYPE[^<>]*>", re.DOTALL)
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d{1,5}|#x[0-9A-Fa-f]{1,4});")
_EMPHASIS = re.compile(r"(?<![*_\w])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![*_\w])")
_LINE_END = re.compile(r"[ \t]*(?:\n|$)")
_HEADING = re.compile(r"^(#{1,6})[ \t]+", re.MULTILINE)


def _blank_tags(text: str) -> str:
    """Tags as spaces; a block tag as one line break where the text has none since its last
    word (``</td></tr><tr>`` is one break: no blank line appears that was not in the text)."""
    parts: list[str] = []
    last = 0
    for m in _TAG.finditer(text):
        parts.append(text[last : m.start()])
        width = len(m.group(0))
        block = (m.group(2) or "").lower() in _BLOCK_TAGS
        written = "".join(parts).rstrip(" \t")
        ahead = _LINE_END.match(text, m.end())
        if block and written and not written.endswith("\n") and not ahead:
            parts.append("\n" + " " * (width - 1))
        else:
            parts.append(" " * width)
        last = m.end()
    parts.append(text[last:])
    return "".join(parts)


_STRUCK = re.compile(r"~~[^~\n]+~~|<(s|del|strike)\b[^>]*>[^<]{0,400}</\1\s*>", re.IGNORECASE)


def blanked(text: str) -> str:
    """``text`` as spaces, its line breaks kept (offsets and lines stay where they were)."""
    return re.sub(r"[^\n]", " ", text)


def without_markup(text: str) -> str:
    """``text`` with HTML tags and markdown markers blanked out, **same length**: a receipt pasted
    from an e-mail's HTML or a chat's markdown reads as its plain words, while every offset a
    finder reports still points at the same characters of the original (provenance highlights
    the text the person pasted, not a converted copy). A block tag (``<p>``, ``<tr>``, ``<br>``)
    becomes a line break, any other tag spaces; ``&amp;`` and friends their character; ``**bold**``
    and ``# heading`` lose their markers. Struck-out text (``~~dinner w/ the team~~``,
    ``<del>…</del>``, ``<s>…</s>``) is blanked with its words: the writer took it back, so it
    names no item, amount or category. Text without markup is returned unchanged."""
    if (
        "<" not in text
        and "&" not in text
        and "*" not in text
        and "_" not in text
        and "#" not in text
        and "~~" not in text
    ):
        return text
    text = _STRUCK.sub(lambda m: blanked(m.group(0)), text)

    def entity(m: re.Match[str]) -> str:
        code = m.group(0)[1:-1]
        char = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": " "}.get(code)
        if char is None:
            number = int(code[2:], 16) if code.startswith("#x") else int(code[1:])
            char = chr(number) if 32 <= number < 0x110000 and number != 0x7F else " "
        return char + " " * (len(m.group(0)) - 1)

    out = _blank_tags(text) if "<" in text else text
    out = _ENTITY.sub(entity, out) if "&" in out else out
    out = _EMPHASIS.sub(lambda m: " " * len(m.group(1)) + m.group(2) + " " * len(m.group(1)), out)
    return _HEADING.sub(lambda m: " " * len(m.group(0)), out)


_MAIL_HEADER = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?P<key>from|sent|to|cc|bcc|date|von|gesendet|an|datum|de|envoyé|à|"
    r"para|enviado|fecha|da|inviato|data|van|verzonden|aan)[ \t]*:.*$",
    re.IGNORECASE | re.MULTILINE,
)
_SENDER = frozenset({"from", "von", "de", "da", "van"})
_QUOTE_MARKS = re.compile(r"^[ \t]*>[> \t]*", re.MULTILINE)


def without_mail_headers(text: str) -> str:
    """``text`` with an e-mail's envelope blanked out, **same length**: the sender, recipients and
    sending date of a forwarded or replied-to mail (``From:``, ``Sent:``, ``To:``, ``Date:`` and
    their German, French, Spanish, Italian and Dutch names) say who wrote when, not who was paid
    or when the charge was made. The quote marks of earlier mails (``> ``) go too; the subject
    and every quoted word stay."""
    keys = {m.group("key").lower() for m in _MAIL_HEADER.finditer(text)}
    if not (keys & _SENDER and len(keys) >= 2):  # an envelope: a sender and one more line
        return text  # a form's own "Date: 06/11" is the expense's
    out = _MAIL_HEADER.sub(lambda m: " " * len(m.group(0)), text)
    return _QUOTE_MARKS.sub(lambda m: " " * len(m.group(0)), out)
