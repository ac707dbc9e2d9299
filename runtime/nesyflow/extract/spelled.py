"""Numbers written in English words ("a hundred forty-two", "twelve"), as people say them in a
message or a voice note: a pattern that finds one and the whole number it stands for."""

from __future__ import annotations

import re

__all__ = ["ORDINAL_DAY", "SPELLED", "ordinal_day", "spelled_value"]

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_TEN = "|".join(_TENS)
_BELOW_100 = rf"(?:(?:{_TEN})(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|{_UNIT})"
_BELOW_1000 = rf"(?:(?:a|one|{_BELOW_100})\s+hundred(?:\s+(?:and\s+)?{_BELOW_100})?|{_BELOW_100})"
SPELLED = rf"(?:(?:a|{_BELOW_1000})\s+thousand(?:\s+(?:and\s+)?{_BELOW_1000})?|{_BELOW_1000})"
"""A regular expression (no groups) for a whole number in words below a million."""

_SPELLED = re.compile(rf"\b{SPELLED}\b", re.IGNORECASE)


def spelled_value(text: str) -> int | None:
    """The number ``text`` spells ("a hundred forty-two" → 142), None if it spells none."""
    if not _SPELLED.fullmatch(text.strip()):
        return None
    total = current = 0
    for word in re.split(r"[\s-]+", text.strip().lower()):
        if word == "and":
            continue
        if word == "a":
            current = 1
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total += max(current, 1) * 1000
            current = 0
    return total + current


_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_ORDINAL_UNIT = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
ORDINAL_DAY = (
    rf"(?:(?:twenty|thirty)[- ](?:{_ORDINAL_UNIT})|"
    + "|".join(sorted(_ORDINALS, key=len, reverse=True))
    + ")"
)
"""A regular expression (no groups) for a day of the month in words ("eleventh", "twenty-third")."""


def ordinal_day(text: str) -> int | None:
    """The day ``text`` names ("twenty-third" → 23), None if it is no day of a month."""
    words = re.split(r"[\s-]+", text.strip().lower())
    if len(words) == 1:
        return _ORDINALS.get(words[0])
    if len(words) == 2 and words[0] in ("twenty", "thirty") and words[1] in _ORDINALS:
        day = _TENS[words[0]] + _ORDINALS[words[1]]
        return day if day <= 31 and _ORDINALS[words[1]] < 10 else None
    return None
