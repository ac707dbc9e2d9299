"""The ``evidence`` tool: what the text itself says, for the rules to hold the model's claim against.

The model's claim is checked by the expense rules, but rules alone only see the claim: a 135M model
that reads "$1,450.00" as 450 writes a claim that passes every policy rule (it is under the
approval limit) and would be paid short. So before the model runs, this tool reads every number
written in the request and the receipt (``$1,450``, ``1,450.00``, ``27.40``, ``12000``) and hands
them to the rules in the claim's context (``source_checked``, ``source_amounts``); the pack's
``amount_not_in_source`` rule then fails any item amount the text does not contain, which sends it
back to the model once and then to a person.

Deterministic on purpose (regular expressions, not a model). What is *not* an amount is taken out
first, because every extra number widens what an item amount may match: phone numbers, dates and
times, percentages, identifiers after a label (``Confirmation #``, ``Tracking``, ``Order``, ``Room``,
``ending``…), ``#``-numbers, masked card numbers (``••4471``), digit runs glued to letters
(``1Z8V2W190318842201``), and long digit runs (6 or more digits) with no separator, no decimals and
no currency beside them. A decimal comma is read (``85,50 EUR`` → 85.50, ``1.450,00`` → 1450.00).
An amount too large for the rules gives no fact (``ClaimContext.source_amounts`` is
``OmitOutOfRange``), so a number no item could match never makes the check ``unknown``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module
from nesyflow.extract import Segment
from nesyflow.extract.finders import money
from nesyflow.extract.text import without_mail_headers, without_markup

__all__ = ["EvidenceArgs", "found_amounts", "gather_context", "written_amounts"]

_pack = load_module(Path(__file__).resolve().parents[2] / "rules" / "expense" / "schema.py")
ClaimContext = _pack.ClaimContext

_CODES = "USD|EUR|GBP|CAD|AUD|JPY|CHF|MXN|INR|SGD"
_SYMBOL = r"[$€£¥₹]"
_LABELS = (
    "confirmation|conf|tracking|track|order|reference|ref|booking|reservation|invoice|account"
    "|acct|member|membership|loyalty|ticket|folio|room|phone|tel|fax|transaction|txn|auth"
    "|authorization|approval|pnr|ending|store|terminal|register|zip|flight|seat|gate|check"
)
# Spans that hold digits but no amount, removed before amounts are read (order matters).
_NOT_AMOUNTS = [
    re.compile(r"\+\d[\d\s().-]{7,}\d"),  # +49 30 2261 1111
    re.compile(r"(?<![\w.,])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w.,]?\d)"),  # phone
    re.compile(r"(?<![\w.,])\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}(?!\w)"),  # 2025-04-02, 13.05.2025
    re.compile(r"(?<![\w.,/])\d{1,2}/\d{1,2}(?![\w/])"),  # 3/4
    re.compile(r"(?<!\w)\d{1,2}:\d{2}(?::\d{2})?(?!\w)"),  # 9:12, 19:02:11
    re.compile(r"\d+(?:[.,]\d+)?\s?%"),  # VAT 20%, 6.75%
    re.compile(
        rf"(?i)\b(?:{_LABELS})\b\.?(?:\s*(?:no\.?|number|nr\.?|code|id|ending|in))?[\s:#-]*"
        r"(?>[A-Z0-9-]*\d[A-Z0-9-]*)(?![.,]\d)"
    ),
    re.compile(r"#\s?[A-Za-z0-9-]*\d[A-Za-z0-9-]*"),  # store #1187, #W5199551
    re.compile(r"(?:[•*]{2,}|[xX]{4,})\s?\d+"),  # ••4471, ****4471, XXXX4471
]
_GLUED_BEFORE = re.compile(rf"\b({_CODES})(?=\d)")  # USD27.40 → USD 27.40
_GLUED_AFTER = re.compile(rf"(\d)({_CODES})\b")  # 27.40USD → 27.40 USD
_AMOUNT = re.compile(
    r"(?<![\w.])(?!(?<=\d,)\d{3})(?:"  # a cell after a comma ("38,25.46"), not "1,450"'s 450
    r"(?P<eu>\d{1,3}(?:\.\d{3})+,\d{2})"  # 1.450,00
    r"|(?P<us>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?)"  # 1,450 and 1,450.00
    r"|(?P<comma>\d+,\d{2})"  # 85,50
    r"|(?P<plain>\d+(?:\.\d{1,2})?)"  # 1450, 1450.00, 27.4
    r")(?!\w|[.,]\d)"
)
_CURRENCY_BEFORE = re.compile(rf"(?:{_SYMBOL}|\b(?:{_CODES})|US\$|[CAS]\$)\s*$")
_CURRENCY_AFTER = re.compile(rf"^\s*(?:{_SYMBOL}|(?:{_CODES})\b)")
_LONG_RUN = 6  # digits: a plain integer this long with no currency beside it is an identifier


class EvidenceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str
    receipt: str = ""
    history: ClaimContext = Field(default_factory=ClaimContext)  # type: ignore[valid-type]


def written_amounts(text: str) -> list[Decimal]:
    """Every amount written in ``text``, in order of appearance, without repeats."""
    text = _GLUED_AFTER.sub(r"\1 \2", _GLUED_BEFORE.sub(r"\1 ", text))
    for pattern in _NOT_AMOUNTS:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    seen: dict[Decimal, None] = {}
    for match in _AMOUNT.finditer(text):
        if match["eu"]:
            number = match["eu"].replace(".", "").replace(",", ".")
        elif match["comma"]:
            number = match["comma"].replace(",", ".")
        elif match["us"]:
            number = match["us"].replace(",", "")
        else:
            number = match["plain"]
            if "." not in number and len(number) >= _LONG_RUN and not _has_currency(text, match):
                continue  # a confirmation, account or phone number, not an amount
        seen[Decimal(number).quantize(Decimal("0.01"))] = None
    return list(seen)


def _has_currency(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 6) : match.start()]
    after = text[match.end() : match.end() + 6]
    return bool(_CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.search(after))


def found_amounts(request: str, receipt: str) -> list[Decimal]:
    """Every amount the reader's money finder sees (``nesyflow.extract``): amounts in words
    ("eighty eight dollars and fourteen cents"), a handwritten total between rules
    ("___315.00___"), a space between thousands ("MXN 1 234.50"), an OCR'd "24,5O". The reader
    chooses among these, so an amount it may choose is one the text holds; what the model writes
    is still held to both readings."""
    seen: dict[Decimal, None] = {}
    for name, text in (
        ("request", without_mail_headers(without_markup(request))),
        ("receipt", without_markup(receipt)),
    ):
        for occ in money(Segment(name, text)):
            seen[Decimal(occ.value).quantize(Decimal("0.01"))] = None
    return list(seen)


def gather_context(args: EvidenceArgs) -> ClaimContext:  # type: ignore[valid-type]
    """What finance knows (``history``) plus the amounts the request and receipt contain: this
    tool's own reading of every number, with every amount the money finder reads (two readings of
    one text must not disagree on what it holds — a correct claim read by the finder once failed
    ``amount_not_in_source`` because this tool missed an amount written in words)."""
    own = written_amounts(f"{args.request}\n{args.receipt}")
    amounts = list(dict.fromkeys([*own, *found_amounts(args.request, args.receipt)]))
    return args.history.model_copy(update={"source_checked": True, "source_amounts": amounts})
