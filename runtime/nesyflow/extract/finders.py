"""Finders: every candidate of a kind in a text, with its position and an evidence weight.

A finder never picks: it returns every occurrence it recognises (an amount on the total line and
the tip above it; every date), each weighted by the evidence around it (the line's keyword, the
field it was read from). :func:`rank` groups occurrences by value and sums the weights; the
planner decides whether the top value is decisive. Deterministic regular expressions on purpose:
the candidates contained the right value in 100% of the expense samples, and a 135M model asked
to read the same text invents values.

Kinds: ``money``, ``date``, ``count`` (a number before a unit word: "3 nights", "four of us"),
``rate`` (an exchange rate), ``name`` (a receipt header or a capitalised span),
``dimensions`` (``22 x 13 x 6``), ``email``,
``identifier`` (order ids such as ``#W1234567``), ``zip``, ``phrase`` (a purpose phrase),
``iban`` (mod-97 checked), ``vat_id`` (EU VAT numbers, US EINs), ``percent`` (a tax rate),
``quantity`` (an invoice row's quantity),
``reference`` (the token after a label: an invoice or order number). :func:`labelled` restricts
any kind to the values written after a label (the invoice's net, tax and gross; its due date).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from nesyflow.extract.provenance import Candidate
from nesyflow.extract.spelled import ORDINAL_DAY, SPELLED, ordinal_day, spelled_value
from nesyflow.extract.text import Segment

__all__ = ["DOCUMENTS", "FINDERS", "Occurrence", "find", "iban_valid", "labelled", "rank"]


@dataclass(frozen=True)
class Occurrence:
    """One place a value was read: ``[start, end)`` in the source field, and why it weighs what
    it weighs. ``attrs`` carries what the span says besides the value (a money span's currency)."""

    value: Any
    source: str
    start: int
    end: int
    text: str
    weight: float
    why: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


def _occ(seg: Segment, m: re.Match[str], value: Any, weight: float, why: str, **attrs: Any):
    start, end = m.span()
    return Occurrence(
        value,
        seg.source,
        seg.offset + start,
        seg.offset + end,
        m.group(0),
        weight,
        why,
        dict(attrs),
    )


DOCUMENTS = frozenset({"receipt", "invoice"})
"""Source fields that are documents (a receipt, an invoice): unmarked two-decimal amounts are money
there, their first line is the issuer's header and a date on them is the document's, not a date a
person wrote in a message."""


def _line_of(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end >= 0 else len(text)]


# ------------------------------------------------------------------------------------ money
_CUR_CODES = "USD|EUR|GBP|JPY|CAD|CHF|AUD|SGD|MXN|INR"
_SYMBOL = {
    "円": "JPY",
    "$": "USD",
    "US$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "S$": "SGD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "RS": "INR",
    "RS.": "INR",
    "R": "ZAR",  # rand and real, zloty: found so that they are never read as dollars
    "R$": "BRL",
    "ZŁ": "PLN",
    "zł": "PLN",
}
_WORD = {
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
    "peso": "MXN",
    "pesos": "MXN",
    "rupee": "INR",
    "rupees": "INR",
    "franc": "CHF",
    "francs": "CHF",
}
_MONEY = re.compile(
    # not inside a word, but a symbol glued to a digit or a lower-case letter (a PDF's text run
    # together: "Qty 1$1,595.00", "Total$1,680.00"; "NZ$45" is no US dollar); after a comma
    # only as a cell of comma-separated rows ("2 nights,177.94", "38,25.46"), never as the
    # thousands of "1,234.56" or the decimals of a rate "1,1180" (three digits after a digit and a comma)
    r"(?:(?<![^\W_])|(?<=(?-i:[a-z\d]))(?=[$€£]))(?<![.$])(?!(?<=\d,)\d{3})(?P<pre>CA\$|AU\$|C\$|US\$|A\$|S\$|R\$|\$|€|£|¥|₹|Rs\.?(?=\s?\d)|"
    r"R(?=\s?\d{1,3}(?:[.,\s]?\d{3})*[.,]\d{2}(?!\d))|zł|(?:" + _CUR_CODES + r")\b)?[ \t]{0,40}"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+,\d{2}"
    r"|\d{1,3}(?:[\u00a0\u202f']\d{3})+(?:[.,]\d{2})?|\d{1,3}(?: \d{3})+[.,]\d{2}"
    r"|\d+(?:[.,]\d{1,2})?)(?![\d%x\"]|[.,]\d)"  # not the "1" of "USD 1,1690" (a rate)
    r"(?:\s?(?:(?P<post>dollars?|euros?|pounds?|yen|pesos?|rupees?|francs?|"
    + _CUR_CODES
    + r")\b|(?P<sym>€|£|zł|円)))?",
    re.IGNORECASE,
)
_RATE_UNIT_BEFORE = re.compile(
    r"\b1(?:[.,]0+)?\s*(?:" + _CUR_CODES + r"|[€£¥])\s*=\s*$|(?:(?:A|AU|C|CA|S)\$|₹)\s*1\s*=\s*$",
    re.IGNORECASE,
)
_RATE_VALUE_BEFORE = re.compile(
    r"(?:[€£¥₹$]\s?\d[\d.,]*|\d[\d.,]*\s?(?:" + _CUR_CODES + r"|[€£¥₹]))\s*"
    r"(?:=|per|pour|por|para|für|pro|voor|za)\s*$",  # "1,0790 USD pour 1 EUR"
    re.IGNORECASE,
)
_RATE_AFTER = re.compile(r"\s*(?:USD\s*)?(?:per\b|/)", re.IGNORECASE)
_TOTAL = re.compile(
    r"\b(total|balance due|amount due|amount paid|total paid|paid by card|total due|"
    r"total charges|order total|totale|gesamt|summe|importe total|yhteensä|razem|jumla|"
    r"totaal|toplam|tổng cộng|do zapłaty|suma|jumlah|to pay|te betalen)\b|合計|σύνολο"
    r"|^\s*(?:balance|sum|amount)\b[^A-Za-z\n]*$",  # a line of the word and its amount only
    re.IGNORECASE,
)
_CONVERTED_TOTAL = re.compile(
    r"\b(?:kurs|wechselkurs|rate|exchange|taux|cambio|tasso|koers)\b", re.IGNORECASE
)
"""On a receipt's total line, a rate: the total printed again in another currency ("Total EUR
(Kurs 1.0500) 166.32" under "Total CHF 158.40"), not what was charged."""
_RATE_NEXT = re.compile(r"\s*(?:rate\b|/\s*mi\b|per mile\b|a mile\b)", re.IGNORECASE)
_RATE_BEFORE = re.compile(r"(?:\brate\b[^.\n]{0,20}|\bat|@|\bx|×|\(\s*a)\s*$", re.IGNORECASE)
"""Words before an unmarked number of the employee's that make it a rate or a factor, not money
("converted at 1.13", "(a 17.20)": Spanish and Portuguese "a" is "at")."""
_MINOR = re.compile(
    r"\b(subtotal|tax|tip|fee|fees|vat|hst|gratuity|service|tolls?|deposit)\b|@", re.IGNORECASE
)

_TENDER = re.compile(
    r"\s*(?:cash(?:\s+tendered)?|tendered|amount tendered|change(?:\s+due)?|efectivo|cambio)\b"
    r"\W*(?:[$€£¥₹]|\d)",
    re.IGNORECASE,
)
"""A receipt line of cash handed over or change given back ("CASH $10.00   CHANGE $3.25"): no
charge; below a toll or a fare's one line."""


def _number(text: str) -> Decimal:
    """``1,450.00`` / ``42,50`` (a decimal comma) / ``1.234,56`` (German) / ``1\u202f234,56``
    (French, a narrow or plain space before a decimal comma) / ``64`` → a Decimal in cents."""
    text = re.sub(r"[\u00a0\u202f' ]", "", text)
    if re.fullmatch(r"\d+,\d{1,2}|\d{1,3}(?:\.\d{3})+,\d{2}", text):
        return Decimal(text.replace(".", "").replace(",", ".")).quantize(Decimal("0.01"))
    return Decimal(text.replace(",", "")).quantize(Decimal("0.01"))


_MINOR_BEFORE = re.compile(
    r"\b(?:tip|tax|fee|vat|gratuity|tolls?|deposit)\s*(?:of\s*)?:?\s*$", re.I
)
_MINOR_AFTER = re.compile(
    r"^\s*(?:tip|tax|fee|vat|gratuity|tolls?|deposit|(?:/|per|a|an)\s*(?:night|nite|nt|day|"
    r"person|head|pax|hour|hr|week)|each|ea)\b",
    re.I,
)
"""Words after an amount that make it a tip, a tax or a price per unit ("₹4,200 per night")."""


SET_ASIDE = "an amount the employee says is not the one claimed"
WHOLE_BILL = "the whole bill, of which the employee claims a part"
APPROXIMATE = "an approximate amount the employee wrote (a receipt's total wins)"
_APPROX_BEFORE = re.compile(
    r"(?:\babout|\baround|\broughly|\bapprox(?:imately|\.)?|\bcirca|\bca\.|~|≈|\bjust under|"
    r"\bjust over|\bsomething like|\bapproximativement|\benviron|\bcerca de|\bunos|\betwa|"
    r"\bcirca|\bsekitar|\bkhoảng|\baprox(?:imadamente|\.)?|\baproximadamente)\s*$",
    re.IGNORECASE,
)
"""Words before an amount the employee only estimates ("about $1,234 all in")."""
_STATEMENT_BEFORE = re.compile(
    r"\bstatement\b(?:[^.\n\d$€£¥₹]{0,24}|[^\n$€£¥₹]{0,60}?\b(?:posted|shows?|showed|came to)"
    r"(?: it)?(?: as| at)?\s*)$",
    re.IGNORECASE,
)
_STATEMENT_AFTER = re.compile(
    r"[^.\n\d]{0,8}\b(?:on|in)\s+(?:my|the)\s+[\w ]{0,16}?statement\b", re.IGNORECASE
)
"""Words around the figure a card statement shows ("my Amex statement shows $141.93", "my card
statement converted it at 1 USD = 0.7459 GBP and posted $286.90"): the
employee's converted figure, which yields to the receipt's total in its own currency."""
_NOT_CLAIMED_BEFORE = re.compile(
    r"(?:\bnot|\bfirst wrote|\btyped|\bput down|\bentered|\binstead of|\b(?:list|original|"
    r"regular|full|normal) price(?: was| of)?|\bdeposit(?: of)?|\bkaution|\bkaucj\w*|"
    r"\bcaução|\bdepósito|\bborg|\b(?:first|originally|initially) (?:charged|billed|rang up)"
    r"(?: me)?|\b(?:less|minus|excluding|except|abzüglich|ohne) (?:the |die |den |das )?|"
    r"\b(?:it was|it's|was|is|came in|that's) (?:under|below|less than)|\bno more than|"
    r"\brefunded(?: me)?|\bpaid me back(?: (?:her|his|their) (?:share|part|half))?|"
    r"\b(?:her|his|their) (?:share|part|half)(?: of| was)?|"
    r"\b(?:typed|entered|keyed|put)(?: in| down)? (?:it|that|the \w+)(?: \w+)? as|"
    r"\bpre-?tax|\bbefore tax(?:es)?)"
    r"\s*:?\s*\(?\s*$",
    re.IGNORECASE,
)
_PART_CLAIMED_BEFORE = re.compile(
    r"\b(?:not|instead of|put|paid|charged) the (?:full|whole|entire)(?: amount| total| bill)?"
    r"(?: of)?\s*:?\s*$|\b(?:not|instead of) the\s*$",
    re.IGNORECASE,
)
"""Before the whole bill the employee claims only a part of ("only claiming the food + tip =
30.80 not the full 43.52", "claiming $170.14 instead of the full $189.99", "I put the whole
$57.90 on my card", "only claiming $591.20, not the $671.20 I paid"): no item's amount, but its
receipt is still the item's."""
_PART_CLAIMED_AFTER = re.compile(
    r"[^.;\n$€£]{0,20}?\b(?:we |and )*split (?:it|the bill|the check|that)?\s*"
    r"(?:down the middle|evenly|in half|50/50|\w+ ways)"
    r"|(?:\s*(?:total|in all|all in))?\s+(?:less|minus)\b",  # "$205.64 total less the $59.98"
    re.IGNORECASE,
)
"""After the whole bill, the words that say it was shared ("Bill was $76.40 and we split it down
the middle, so I'm only claiming my half, $38.20") or that a part is taken off it ("$205.64 total
less the $59.98 waiver = $145.66")."""
_NOT_CLAIMED_AFTER = re.compile(
    r"^\s*(?:before (?:the |an? )?[\w-]*\s?discount|(?:…|\.\.\.|\?)?\s*(?:no|wait|scratch that)\b|"
    r"deposit\b[^.\n]{0,40}\b(?:refunded|returned|back)|"
    # "a $500 deposit on 3/2 and the balance on the night": a part paid ahead, not the charge
    r"deposit\b(?![^.\n]{0,40}\bclaim)|"
    # "64,20 € and US$72.98 at their rate": the same charge converted, no charge of its own
    r"at (?:their|the terminal's|the bank's|the card's|the shop's|its) (?:exchange )?rate\b|"
    # "$18.50 pp for the 6 of us": a price per person, no charge of its own
    r"(?:pp|p\.p\.|per (?:person|head|pax|guest)|a head)\b|"
    # "about $310 more than Economy": a difference in price, no charge
    r"(?:more|less|cheaper|dearer|extra) than\b|"
    # "Under my $2,500 approval limit": a limit, a cap or a budget is no charge
    r"(?:approval |spending |daily |monthly |meal |travel )?(?:limit|cap|budget)\b|"
    # "$11.48, not claiming", "(R469,43), not claiming it", "was personal": not "not claiming
    # the beer" (something else) nor "personal card" (how it was paid)
    r"[(),;:–-]*\s*(?:(?:was|is|were|are)\s+)?(?:not (?:being )?claim(?:ing|ed)\b"
    r"(?!\s+(?:the|a|an|my|for)\b)|personal\b(?!\s+(?:card|credit|account|visa|amex)\b)))",
    re.IGNORECASE,
)


_NOT_CLAIMED_SENTENCE = re.compile(
    r"^(?:[^\n.!?]|[.,]\d)*?\b(?:please ignore|ignore (?:that|this|it)\b|by mistake|por engano|"
    r"not claim(?:ing)? (?:that|this|it)\b(?=\s*(?:[,.;:!)–-]|$))|"
    r"not (?:a|an expense|part of (?:the|this|my)) claim\b|not (?:for|to be|up for) reimburse\w*|"
    r"not a separate charge|(?:is|it's|that's) (?:on|in(?:cluded in)?) the same (?:receipt|bill)|"
    r"por error|not (?:part of|on) this claim|paid (?:for )?by (?:the|our) [\w ]{0,30}"
    r"(?:office|branch)|foi pago pel[oa]|nie rozliczam|zapłacił\w* (?:oddział|firma|biuro))",
    re.IGNORECASE,
)
"""The rest of an amount's sentence saying it is not on this claim ("(R$ 1.486,50) foi pago pelo
escritório de São Paulo, so please ignore that one")."""
_NOT_CLAIMED_NEXT = re.compile(
    r"^[^\d\n.!?]{0,80}?\b(?:(?:that one's|that one is|that's|that is) on me\b|"
    # "$287.40, you already reimbursed on the September report": claimed before, not again
    r"(?:you|you've|you have|finance|AP|it was|it's been|was) already (?:reimbursed|paid|"
    r"approved|covered|claimed)|already (?:reimbursed|claimed) (?:on|in|with))",
    re.IGNORECASE,
)
"""Words after an amount, no other number between, that set that amount aside ("a $50 pet fee on
the folio — that one's on me"; not the $576.18 claimed before "less the $14.99 movie (that one's
on me)")."""


def _not_claimed(text: str, m: re.Match[str]) -> bool:
    """An amount the employee writes only to set it aside: a correction ("not 45, it was 54",
    "I typed 113.62 in the first draft", "47… no, 74,50", "they first charged $150.40"), a
    price before a discount, a deposit, a limit it is compared with ("it was under $25"), one
    the sentence says is not on this claim. It is no
    item's amount and makes no item of its own."""
    return bool(
        _NOT_CLAIMED_BEFORE.search(text[max(0, m.start() - 24) : m.start()])
        or _NOT_CLAIMED_AFTER.match(text[m.end() : m.end() + 60])
        or _NOT_CLAIMED_SENTENCE.match(text[m.end() : m.end() + 160])
        or _NOT_CLAIMED_NEXT.match(text[m.end() : m.end() + 120])
        or _named_not_claimed(text, m)
    )


_NOT_CLAIMING_THE = re.compile(
    r"\b(?:not|never|n't|no)\s+(?:claiming|claimed|expensing|submitting|charging)\s+"
    r"(?:the|that|this|my)\s+(?P<w>[a-z]{3,})",
    re.IGNORECASE,
)


def _named_not_claimed(text: str, m: re.Match[str]) -> bool:
    """The thing an amount is for, set aside by name in the next sentences ("the $1,195
    registration went through in August … Not claiming the reg again"): the word after the
    amount begins with the word the employee says they are not claiming."""
    after = re.match(r"\s+(?P<w>[a-z]{3,})", text[m.end() : m.end() + 30], re.IGNORECASE)
    if not after:
        return False
    noun = after.group("w").lower()
    return any(
        noun.startswith(n.group("w").lower())
        for n in _NOT_CLAIMING_THE.finditer(text, m.end(), m.end() + 240)
    )


def _minor_beside(text: str, m: re.Match[str]) -> bool:
    """In a message, an amount is a tip or a tax only when the word is next to it ("a $5 tip",
    "tip of $5"): "$37.80 w/ tip" is the total with the tip in it."""
    return bool(
        _MINOR_BEFORE.search(text[max(0, m.start() - 12) : m.start()])
        or _MINOR_AFTER.match(text[m.end() : m.end() + 12])
    )


_TAX_WORD = r"(?:内消費税|消費税|税|tax|vat|gst|hst|mwst|tva|iva|incl\.?|inkl\.?|enth\.?)"
_BRACKETED_TAX = re.compile(r"\([^()\n]*" + _TAX_WORD + r"[^()\n]*$", re.IGNORECASE)
"""An amount in brackets after a tax word ("合計 ¥4,200 (内消費税 ¥381)"): the tax in a total."""
_BRACKETED_TAX_PART = re.compile(r"\([^()\n]*" + _TAX_WORD + r"[^()\n]*\)", re.IGNORECASE)
_DAY_MONTH = re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{2})")
_ON_DAY = re.compile(
    r"\b(?:am|vom|bis|ab|den|le|du|au|el|del|il|dal|on|od|do|van|tot|até)\s+$|\d{1,2}\.?\s*[–-]\s*$",
    re.IGNORECASE,
)
_DAY_MONTH_RANGE = re.compile(
    r"(?P<a>\d{1,2})\.(?P<b>\d{2})\s?[–-]\s?(?P<c>\d{1,2})\.(?P<d>\d{2})(?![.,]?\d)"
)
"""``13.10–15.10``: two days and months joined by a dash (a stay, a trip), never two amounts."""


def _in_day_range(text: str, start: int, end: int) -> bool:
    for r in _DAY_MONTH_RANGE.finditer(text, max(0, start - 8), min(len(text), end + 8)):
        if r.start() <= start and end <= r.end():
            a, b, c, d = (int(x) for x in r.groups())
            return 1 <= a <= 31 and 1 <= c <= 31 and 1 <= b <= 12 and 1 <= d <= 12
    return False


def _day_month_here(text: str, m: re.Match[str]) -> bool:
    """``am 14.05.`` / ``le 05.11.``: a day and month written with a closing dot after a word
    that introduces a date, as German, French, Spanish and Italian write them without a year."""
    day, month = (int(x) for x in _DAY_MONTH.fullmatch(m.group("num")).groups())  # type: ignore[union-attr]
    return (
        1 <= day <= 31
        and 1 <= month <= 12
        and re.match(r"\.(?!\d)", text[m.end() : m.end() + 2]) is not None
        and _ON_DAY.search(text[max(0, m.start("num") - 8) : m.start("num")]) is not None
    )


_LABEL_CODE = re.compile(r"(?<![A-Za-z])\(?(" + _CUR_CODES + r")\)?(?![A-Za-z])")
_COLUMN_CODE = re.compile(r"\((" + _CUR_CODES + r")\)")


_ROUNDING = re.compile(r"\bround(?:ing|ed)?[ -]?(?:off|adj\w*)?\b|\brundung\b|\barrondi", re.I)


def _code_in_label(text: str, start: int) -> str | None:
    """The currency an unmarked amount of a document is in when its line's label or a column
    header above names it: ``Grand Total (INR)  2,833.00``, ``Charges (INR)`` over a folio's
    lines."""
    line_start = text.rfind("\n", 0, start) + 1
    label = _LABEL_CODE.findall(text[line_start:start])
    if label:
        return label[-1]
    above = _COLUMN_CODE.findall(text[:line_start])
    return above[-1] if len(set(above)) == 1 else None


def money(seg: Segment) -> list[Occurrence]:
    """Amounts: marked by a currency (``$27.40``, ``EUR 42,50``, ``64 dollars``) anywhere, or
    unmarked with two decimals on a receipt line. Weight: a total line or the employee's own
    marked amount 3, an item line 1, tax/tip/subtotal/per-unit lines 0.3. Rates ("1.08 USD per
    euro") and numbers inside dates, times, ids and sizes are not amounts."""
    out: list[Occurrence] = []
    totals: list[int] = []  # indexes of the total lines' amounts, in text order
    for m in _MONEY.finditer(seg.text):
        pre, num, post = m.group("pre"), m.group("num"), m.group("post") or m.group("sym")
        if post and post.upper() == "USD" and _RATE_AFTER.match(seg.text, m.end()):
            continue  # "1.08 USD per euro": a rate
        if _RATE_AFTER.match(seg.text, m.end()) and not pre:
            continue
        first = m.start("pre") if pre else m.start("num")  # not the blanks the match began with
        before = seg.text[max(0, first - 1) : first]
        after = seg.text[m.end() : m.end() + 1]
        if (before in "#:/-" and before) or after in (":", "/"):
            continue  # ids, times, dates
        if re.match(r"\s*=\s*(?:US\$|USD|\$)?\s*\d", seg.text[m.end() : m.end() + 10]) and (
            _number(num) == 1 or (pre or post or "$").upper() not in ("$", "US$", "USD")
        ):
            continue  # "1 CAD = 0.7215 USD": a rate's unit; "$15.40 = $35.40" is a sum's part
        if re.match(r"[./:]\d", seg.text[m.end() : m.end() + 2]):
            continue  # 13.05.2025
        if _RATE_UNIT_BEFORE.search(seg.text[max(0, first - 24) : first]):
            continue  # "1 EUR = 1,17 USD": the rate's value, not an amount
        if _number(num) == 1 and _RATE_VALUE_BEFORE.search(seg.text[max(0, first - 24) : first]):
            continue  # "¥147.5 = $1": the unit of a rate, not an amount
        if not (pre or post) and _DAY_MONTH.fullmatch(num) and _day_month_here(seg.text, m):
            continue  # "am 14.05.": a day and a month, not money
        if not (pre or post) and _in_day_range(seg.text, m.start("num"), m.end("num")):
            continue  # "13.10–15.10": a stay's days
        if not (pre or post) and _RATE_NEXT.match(seg.text, m.end()):
            continue  # "at the 0.67 rate", "0.67/mi": a rate, not money
        marked = bool(pre or post)
        if (
            marked
            and seg.source not in DOCUMENTS
            and _number(num) < 1
            and _RATE_BEFORE.search(seg.text[max(0, first - 30) : first])
        ):
            continue  # "At $0.67 that's $50.92": less than a dollar at a rate is the rate
        cents = re.search(r"[.,]\d{2}$", num) is not None
        if not marked and (
            not cents
            or (seg.source not in DOCUMENTS and _RATE_BEFORE.search(seg.text[: m.start()]))
        ):
            continue  # "42 miles", "converted at 1.13": not money unless written as money
        code = None
        if pre and not (
            pre == "$" and post and (post.upper() in _CUR_CODES.split("|") or post.lower() in _WORD)
        ):
            code = _SYMBOL.get(pre.upper() if pre[0].isalpha() else pre, pre.upper())
        elif post:  # "$28.60 CAD", "$4,237 pesos": the code or the word names which dollar
            code = _SYMBOL.get(post) or _WORD.get(post.lower(), post.upper())
        line = _line_of(seg.text, m.start())
        if code is None and seg.source in DOCUMENTS:  # "Grand Total (INR)  2,833.00"
            code = _code_in_label(seg.text, m.start())
        if _BRACKETED_TAX.search(seg.text[max(0, m.start() - 40) : m.start() + 1]):
            weight, why = 0.3, "tax in brackets beside a total"
        elif seg.source not in DOCUMENTS and (
            _PART_CLAIMED_BEFORE.search(seg.text[max(0, m.start() - 24) : m.start()])
            or _PART_CLAIMED_AFTER.match(seg.text, m.end())
        ):
            weight, why = 0.0, WHOLE_BILL
        elif seg.source not in DOCUMENTS and _not_claimed(seg.text, m):
            weight, why = 0.0, SET_ASIDE
        elif seg.source not in DOCUMENTS and _APPROX_BEFORE.search(
            seg.text[max(0, m.start() - 16) : m.start()]
        ):
            weight, why = 1.0, APPROXIMATE  # "(about $429.29 total)": an estimate, not a total
        elif (
            seg.source in DOCUMENTS
            and _TOTAL.search(line)
            and _CONVERTED_TOTAL.search(line)
            and not re.search(r"subtotal", line, re.IGNORECASE)
        ):
            weight, why = 1.0, "a total converted at the rate printed beside it"
        elif _TOTAL.search(line) and not re.search(r"subtotal", line, re.IGNORECASE):
            weight, why = 3.0, "total line"
            if _number(num) == 0:
                weight, why = 0.0, "nothing left to pay (a balance after payment)"
        elif seg.source not in DOCUMENTS and (
            _STATEMENT_BEFORE.search(seg.text[max(0, first - 80) : first])
            or _STATEMENT_AFTER.match(seg.text, m.end())
        ):
            weight, why = (
                1.0,
                "the card statement's figure the employee wrote (a receipt's total wins)",
            )
        elif seg.source in DOCUMENTS and _TENDER.match(line):
            weight, why = 0.1, "cash handed over or change (a tender, not a charge)"
        elif _MINOR.search(line) if seg.source in DOCUMENTS else _minor_beside(seg.text, m):
            weight, why = 0.3, "tax, tip, fee or per-unit line"
        elif seg.source in DOCUMENTS:
            weight, why = 1.0, "item line"
        elif marked:
            weight, why = 3.0, "amount the employee wrote"
        else:
            weight, why = 2.0, "number with cents the employee wrote"
        # a line with several amounts: on a total line only the last one is the total
        if weight == 3.0 and seg.source in DOCUMENTS:
            rest = seg.text[m.end() : m.end() + len(line)]
            rest_line = _BRACKETED_TAX_PART.sub("", rest.split("\n", 1)[0])
            if _MONEY.search(rest_line) and any(
                x.group("pre") or re.search(r"[.,]\d{2}$", x.group("num"))
                for x in _MONEY.finditer(rest_line)
            ):
                weight, why = 0.3, "not the last amount on its line"
        m_text = m.group(0).strip()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if why == "total line":
            totals.append(len(out))
        out.append(
            Occurrence(
                _number(num),
                seg.source,
                seg.offset + start,
                seg.offset + start + len(m_text),
                m_text,
                weight,
                why,
                {"currency": code, "bare_dollar": pre == "$" and not post},
            )
        )
    spelled = _spelled_money(seg) if seg.source not in DOCUMENTS else []
    if spelled:
        out = sorted([*out, *spelled], key=lambda o: o.start)
    if seg.source in DOCUMENTS:
        out = _charged_sum(seg, _broken_totals(seg, out))
    if spelled or seg.source in DOCUMENTS:
        totals = [i for i, o in enumerate(out) if o.why == "total line"]
    if seg.source not in DOCUMENTS:
        out = _before_the_part_claimed(seg, out)
        # "…$17.80" then "sorry, it was $19.80, not 17.80": every mention of it is set aside
        aside = {o.value for o in out if o.why == SET_ASIDE}
        out = [
            replace(o, weight=0.0, why=SET_ASIDE) if o.value in aside and o.weight else o
            for o in out
        ]
    for earlier in totals[:-1]:  # "Total 31.80 / Tip 6.00 / Grand Total 37.80": the last was paid
        if not out[earlier].weight:
            continue  # set aside, or the whole bill of a part claimed: it stays so
        last = out[totals[-1]]
        rounded = abs(out[earlier].value - last.value) < 1 and _ROUNDING.search(
            seg.text, out[earlier].end - seg.offset, last.start - seg.offset
        )  # "Gross Total 2,833.36 / Round Off -0.36 / Grand Total 2,833.00"
        if out[earlier].value < last.value or rounded:  # a smaller last total is another receipt's
            out[earlier] = replace(
                out[earlier], weight=1.0, why="earlier total line (a later one is what was paid)"
            )
    if len(totals) > 1:  # "Total price 1.150,10 / You paid 1.060,00 / Amount due 90,10"
        charge, due = out[totals[0]], out[totals[-1]]
        if (
            charge.value > due.value
            and _BALANCE_DUE.search(_line_of(seg.text, due.start - seg.offset))
            and _PREPAID.search(seg.text, charge.end - seg.offset, due.start - seg.offset)
        ):
            out[totals[-1]] = replace(
                due, weight=1.0, why="the balance left after a payment (the total is the charge)"
            )
    return out


_SO_CLAIMING = re.compile(
    r"\bso,? I(?:'m| am) (?:only )?(?:claiming|putting in for|submitting)(?: (?:for )?(?:just )?"
    r"(?:my|the) (?:share|half|third|part|portion|rest)| the \w+ less (?:that|the|this) \w+)?"
    r"\s*[:,]?\s*(?:just\s*)?$",
    re.IGNORECASE,
)
_BILL_BEFORE = re.compile(
    r"\b(?:total (?:is|was|came to)|came to|(?:folio|bill|check|receipt|invoice) (?:is|was|says)|"
    r"(?:the )?(?:whole|full) (?:bill|check|folio|thing))\s*:?\s*$",
    re.IGNORECASE,
)


def _before_the_part_claimed(seg: Segment, out: list[Occurrence]) -> list[Occurrence]:
    """ "The folio total is $301.48 but the $11.50 Pantry charge is mine (snacks), so I'm claiming
    $289.98"; "The check came to $113.97 … so I'm only claiming my share: $37.99": the bill named
    before the one amount the employee says they claim is the whole bill (its receipt stays the
    item's), and a part that with the claim makes it is set aside. Only in the claim's paragraph,
    and only a bill named as one ("total is", "came to"): "Taxi $30. Lunch …, so I'm claiming $20"
    keeps the taxi."""
    claims = [
        o for o in out if o.weight > 0 and _SO_CLAIMING.search(seg.text, 0, o.start - seg.offset)
    ]
    if len(claims) != 1:
        return out
    claim = claims[0]
    para = seg.text.rfind("\n\n", 0, claim.start - seg.offset) + seg.offset
    bills = {
        o.value
        for o in out
        if o.value > claim.value
        and (
            o.why == WHOLE_BILL  # "…: €573.90, not the €612.40 total"
            or (
                para <= o.start < claim.start
                and _BILL_BEFORE.search(seg.text, 0, o.start - seg.offset) is not None
            )
        )
    }
    if not bills:
        return out
    return [
        replace(o, weight=0.0, why=WHOLE_BILL)
        if o.value in bills
        else replace(o, weight=0.0, why=SET_ASIDE)
        if o is not claim and o.value + claim.value in bills  # the part taken off the bill
        else o
        for o in out
    ]


_BROKEN_AMOUNT = re.compile(
    r"(?P<pre>[$€£])(?P<a>\d{1,3}(?:,\d{3})*,?)[ \t]*\n[ \t]*(?P<b>\d{1,3}(?:,\d{3})*\.\d{2})(?![\d.,])"
)


_GLUED_TOTAL = re.compile(
    r"\b(?:total(?: charges?| due| paid)?|balance due|amount due)(?P<num>\d{1,3}(?:,\d{3})*\.\d{2})(?!\d)",
    re.IGNORECASE,
)


def _broken_totals(seg: Segment, found: list[Occurrence]) -> list[Occurrence]:
    """A total whose amount a PDF's text broke over two lines ("Total Charged: $14" / "8.00",
    "Total$1," / "680.00"): one amount, 148.00, not a $14 total and an 8.00 line; or ran into
    its label ("Total Charges780.02")."""
    out = list(found)
    broken = [
        (m, m.group("pre"), m.group("a") + m.group("b"))
        for m in _BROKEN_AMOUNT.finditer(seg.text)
        if _TOTAL.search(_line_of(seg.text, m.start()))
    ]
    glued = [(m, None, m.group("num")) for m in _GLUED_TOTAL.finditer(seg.text)]
    for m, pre, num in broken + glued:
        start, end = seg.offset + m.start(), seg.offset + m.end()
        if pre is None:
            start = seg.offset + m.start("num")
        out = [o for o in out if o.end <= start or o.start >= end]
        code = _SYMBOL.get(pre) if pre else _code_in_label(seg.text, m.start("num"))
        joined = Occurrence(
            _number(num),
            seg.source,
            start,
            end,
            seg.text[start - seg.offset : end - seg.offset],
            3.0,
            "total line",
            {"currency": code, "bare_dollar": pre == "$"},
        )
        out = sorted([*out, joined], key=lambda o: o.start)
    return out


def _charged_sum(seg: Segment, found: list[Occurrence]) -> list[Occurrence]:
    """A receipt with no total line whose card line charges the sum of every amount above it
    ("Lyft fare 23.47 / Wait time fee 1.80 / Service fee 3.35 / Tip 6.00 / ---- / Visa *2210
    $34.62"): that card line is the total, not a fifth item."""
    if any(o.why == "total line" for o in found):
        return found
    out = list(found)
    for i, o in enumerate(found):
        if i < 2 or o.weight < 1:
            continue
        line = _line_of(seg.text, o.start - seg.offset)
        if not PAYMENT_LINE.match(line.strip()):
            continue
        above = [a for a in found[:i] if a.weight > 0.1]
        if above and abs(sum(a.value for a in above) - o.value) < Decimal("0.01"):
            out[i] = replace(o, weight=3.0, why="total line")
            break
    return out


_BALANCE_DUE = re.compile(r"\b(?:amount|balance)\s+due\b|\bdue at\b", re.IGNORECASE)
_PREPAID = re.compile(r"^.*\b(?:you paid|paid|prepaid|deposit)\b.*\d", re.IGNORECASE | re.MULTILINE)

_SPELLED_MONEY = re.compile(
    rf"\b(?P<whole>{SPELLED})\s+(?P<unit>dollars?|bucks|euros?|pounds?)"
    rf"(?:,?\s+(?:and\s+)?(?P<cents>{SPELLED})(?:\s+cents?)?)?\b",
    re.IGNORECASE,
)
_SPELLED_UNIT = {"dollar": "USD", "buck": "USD", "euro": "EUR", "pound": "GBP"}


def _spelled_money(seg: Segment) -> list[Occurrence]:
    """Amounts written in words in a message ("twelve dollars fifty", "twenty bucks"), as the
    employee wrote them: weight 3, the currency the word names."""
    out = []
    for m in _SPELLED_MONEY.finditer(seg.text):
        whole = spelled_value(m.group("whole"))
        cents = spelled_value(m.group("cents")) if m.group("cents") else 0
        end = m.end()
        if cents is None or cents >= 100:  # "five euros two hundred": no cents after all
            cents, end = 0, m.end("unit")
        if whole is None:
            continue
        unit = m.group("unit").lower().rstrip("s")
        out.append(
            Occurrence(
                (Decimal(whole) + Decimal(cents) / 100).quantize(Decimal("0.01")),
                seg.source,
                seg.offset + m.start(),
                seg.offset + end,
                seg.text[m.start() : end],
                3.0,
                "amount the employee wrote in words",
                {"currency": _SPELLED_UNIT[unit]},
            )
        )
    return out


# ------------------------------------------------------------------------------------ dates
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_FOREIGN_MONTHS = {
    "janvier": 1,
    "enero": 1,
    "januar": 1,
    "gennaio": 1,
    "janeiro": 1,
    "février": 2,
    "fevrier": 2,
    "febrero": 2,
    "februar": 2,
    "febbraio": 2,
    "fevereiro": 2,
    "mars": 3,
    "marzo": 3,
    "märz": 3,
    "maerz": 3,
    "março": 3,
    "marco": 3,
    "avril": 4,
    "abril": 4,
    "aprile": 4,
    "mai": 5,
    "mayo": 5,
    "maggio": 5,
    "maio": 5,
    "juin": 6,
    "junio": 6,
    "juni": 6,
    "giugno": 6,
    "junho": 6,
    "juillet": 7,
    "julio": 7,
    "juli": 7,
    "luglio": 7,
    "julho": 7,
    "août": 8,
    "aout": 8,
    "agosto": 8,
    "septembre": 9,
    "septiembre": 9,
    "setiembre": 9,
    "settembre": 9,
    "setembro": 9,
    "octobre": 10,
    "octubre": 10,
    "oktober": 10,
    "ottobre": 10,
    "outubro": 10,
    "novembre": 11,
    "noviembre": 11,
    "novembro": 11,
    "décembre": 12,
    "decembre": 12,
    "diciembre": 12,
    "dezember": 12,
    "dicembre": 12,
    "dezembro": 12,
}
"""French, Spanish, German, Italian and Portuguese month names ("14-16 avril", "3 de marzo")."""
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    + "|".join(sorted(_FOREIGN_MONTHS, key=len, reverse=True))
    + r")"
)


_FOREIGN_SHORT = {
    "ene": 1,
    "gen": 1,
    "fev": 2,
    "abr": 4,
    "mai": 5,
    "giu": 6,
    "lug": 7,
    "ago": 8,
    "set": 9,
    "out": 10,
    "okt": 10,
    "ott": 10,
    "dez": 12,
    "dic": 12,
}
"""Short month names of other languages that are also English words or overlap them ("2 out
2025"): read only with a day before and a year after."""


def _month(name: str) -> int:
    low = name.lower().rstrip(".")
    return _FOREIGN_MONTHS.get(low) or _FOREIGN_SHORT.get(low) or _MONTHS[low[:3]]


_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?P<y>20\d\d)[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>20\d\d)\b"), "dmy"),
    (re.compile(r"\b(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>20\d\d)\b"), "dmy"),  # Dutch 12-03-2025
    (  # a range of days written day.month, "13.10–15.10", "od 12.05. do 15.05.": its first day
        re.compile(
            r"(?:\b(?:od|from|vom|von|du|dal|del|de|van|desde)\s+)?\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})"
            r"\.?(?P<y>(?:20)?\d\d)?\s*(?:[-–]|\s(?:do|to|bis|au|al|a|tot|till|until|hasta)\s)"
            r"\s*\d{1,2}\.\d{1,2}\b\.?(?:(?:20)?\d\d\b)?(?![.,]\d|\s*(?:%|per ?cent))"
        ),
        "dmy",
    ),
    (  # a German or Polish receipt's two-digit year, "Anreise 12.05.25"
        re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d\d)\b(?![.,]\d)"),
        "dmy",
    ),
    (  # "02/20/2025Invoice No.": a PDF's text runs a four-digit year into the next word
        re.compile(
            r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>20\d\d|\d\d)(?:\b|(?<=\d{4})(?=[A-Za-z]))"
        ),
        "slash",
    ),
    (re.compile(r"(?P<y>20\d\d)年\s*(?P<m>\d{1,2})月\s*(?P<d>\d{1,2})日"), "ymd"),  # 2025年7月9日
    (re.compile(r"\b(?P<d>\d{1,2})" + _MON + r"(?P<y>(?:20)?\d\d)?\b", re.IGNORECASE), "dmonY"),
    (
        re.compile(
            r"\b(?P<d>\d{1,2})\s+(?P<mon>" + "|".join(_FOREIGN_SHORT) + r")\.?\s+(?P<y>20\d\d)\b",
            re.IGNORECASE,
        ),
        "dmon",
    ),
    (
        re.compile(  # a range, "3-19 March", "14-16 avril": its first day
            r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*[-–]\s*\d{1,2}(?:st|nd|rd|th)?\s+(?:de\s+)?"
            + _MON
            + r"\.?(?:\s+(?:de\s+)?(?P<y>20\d\d))?\b",
            re.IGNORECASE,
        ),
        "dmon",
    ),
    (
        re.compile(
            r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s+(?:de\s+)?|-)"  # 9 Apr, 02-Sep-2025
            + _MON
            + r"\.?(?:(?:\s+(?:de\s+)?|-)(?P<y>20\d\d))?\b",
            re.IGNORECASE,
        ),
        "dmon",
    ),
    (
        re.compile(
            r"\b" + _MON + r"\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:-\d{1,2})?"
            r"(?:,?\s+(?P<y>20\d\d))?",
            re.IGNORECASE,
        ),
        "mond",
    ),
    (  # "march eleventh", "on October the twenty-third" (a voice note's date)
        re.compile(
            r"\b" + _MON + r"\s+(?:the\s+)?(?P<od>" + ORDINAL_DAY + r")\b(?:,?\s+(?P<y>20\d\d))?",
            re.IGNORECASE,
        ),
        "mond",
    ),
    (re.compile(r"(?<![\d/.$])\b(?P<a>\d{1,2})/(?P<b>\d{1,2})\b(?![/\d])"), "md"),
    (  # "on the 23rd", not "the 5th grade" / "the 3rd floor" (an ordinal of something else)
        re.compile(
            r"\bthe\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s*-?\s*(?:grade|grader|floor|"
            r"place|year|time|edition|round|century|anniversary|annual|street|st\b|ave))",
            re.IGNORECASE,
        ),
        "day",
    ),
]
_DATE_LABEL = re.compile(r"\b(arrive|statement date|bill date|date)\b", re.IGNORECASE)
_FIRST_DAY_LABEL = re.compile(
    r"\b(arrival|check-?in|entry|enter(?:ed|s)?(?: after)?|pick-?up|llegada|entrada|arrivée|"
    r"arrivee|anreise|ankunft|arrivo|chegada)\b",
    re.IGNORECASE,
)
"""The first day of a stay or a span (a hotel's arrival, a garage's entry, a car's pickup): the
conventions date the whole stay by it, over the invoice's own date or the day it was paid."""
_FIRST_DAY = "first day of the stay or span (arrival, check-in, entry, pickup)"
_PURCHASE = "purchase or issue date printed on the ticket or order"
_DUE_LABEL = re.compile(
    r"\b(?:due(?: date)?|pay by|payment due|autopay(?: scheduled)?|scheduled|fällig\w*|"
    r"échéance|vencimiento|scadenza)\b",
    re.IGNORECASE,
)
_PURCHASE_LABEL = re.compile(
    r"\b(issued|issue date|date of issue|purchased|purchase date|date of purchase|booked|"
    r"statement date|bill date|invoice date|date of invoice|"
    r"booking date|order placed|order date|ordered|aankoopdatum|kaufdatum|data zakupu|"
    r"data da compra|data de compra|fecha de compra|data acquisto|date d'achat|satın alma|"
    r"kauf|achat|buchungsdatum|gebucht|réservé le|date de réservation|fecha de reserva)\b",
    re.IGNORECASE,
)
"""A ticket's, an order's or a bill's own date: the date the charge was made (the policy's
conventions: a bill's statement or invoice date, not its service period, due or autopay date),
which outweighs a travel date the employee wrote."""
_TODAY = re.compile(
    r"\b(?:today|today's date|it's now|heute|aujourd'hui|hoy|oggi)\b(?:\s+is)?[\s,:(]*"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?$",
    re.IGNORECASE,
)
_CHAT_STAMP = re.compile(r",?\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?\]?\s", re.IGNORECASE)
"""After a date at a line's start: the time a chat export stamps each message with
("[17/06/2025, 08:14] Renee: ...")."""
_CORRECTED = re.compile(
    r"[\s,;:)–—-]*(?:no wait|wait,? no|no,? sorry|sorry,? (?:no|I mean|it was)|I mean|"
    r"actually,? (?:it was|the))\b",
    re.IGNORECASE,
)
"""After a date: words that take it back ("Wednesday the 14th - no wait, it was Thursday the
15th")."""
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RELATIVE_DAY = re.compile(
    r"(?<![-/])\b(?P<last>(?:last|this past|past)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)s?\b\.?"
    r"(?![-/]|,?\s*(?:\d|" + _MON[8:-1] + r"))"
    r"|\b(?P<rel>yesterday|today|tonight)\b",
    re.IGNORECASE,
)


def _year(y: str | None, default: int) -> int:
    if not y:
        return default
    return int(y) + 2000 if len(y) == 2 else int(y)


_DAY_FIRST_LABEL = re.compile(
    r"\b(?:fecha|data\s*:|data d[ae]\b|datum|date d'émission|date de facture|emissão|emisión|"
    r"rechnungsdatum|"
    r"belegdatum|buchungsdatum|päiväys|fakturadatum)\b[^\n\d]*$",
    re.IGNORECASE,
)
"""A date label in a language that writes the day first ("Data da emissão: 04/11/2025"), whatever
the currency: an invoice in US dollars from São Paulo is still written day first."""


def _day_first_label(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return _DAY_FIRST_LABEL.search(text[line_start:start]) is not None


def dates(
    seg: Segment, submitted: dt.date | None = None, dayfirst: bool = False
) -> list[Occurrence]:
    """Dates in many spellings, normalised to ``datetime.date`` (``Apr 2, 2025``, ``5/6``,
    ``17/06/2025``, ``02-Sep-2025``, ``13.05.2025``, ``10FEB25``, ``Mar 17-19`` → the 17th). A
    missing year is the submission's, or the year before when that would put the date half a year after submission.
    Weight: a labelled receipt date (issued, arrival, statement...) 2.5, the employee's 2, the
    first date of a receipt 1.5, others 0.5; a date without its year on a receipt 0.3.
    ``dayfirst``: ``05/03/2025`` is the 5th of March (British, French, Dutch, German writing);
    else the 3rd of May unless the first number cannot be a month."""
    base = submitted or dt.date.today()
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, re.Match[str], dt.date, bool]] = []
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(seg.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groupdict()
            try:
                if kind in ("ymd", "dmy"):
                    day = dt.date(_year(g["y"], base.year), int(g["m"]), int(g["d"]))
                elif kind == "slash":
                    a, b = int(g["a"]), int(g["b"])
                    first = dayfirst or _day_first_label(seg.text, m.start())
                    month, dd = (b, a) if a > 12 or (first and b <= 12) else (a, b)
                    day = dt.date(_year(g["y"], base.year), month, dd)
                elif kind == "day":  # "on the 23rd": this month's, else the month before's
                    day = dt.date(base.year, base.month, int(g["d"]))
                    if day > base:
                        day = (base.replace(day=1) - dt.timedelta(days=1)).replace(day=day.day)
                elif kind == "md":
                    a, b = int(g["a"]), int(g["b"])
                    month, dd = (b, a) if dayfirst and b <= 12 else (a, b)
                    day = dt.date(base.year, month, dd)
                else:
                    month = _month(g["mon"])
                    dd = ordinal_day(g["od"]) if g.get("od") else int(g["d"])
                    if dd is None:
                        continue
                    day = dt.date(_year(g.get("y"), base.year), month, dd)
            except ValueError:
                continue
            has_year = bool(g.get("y"))
            if not has_year and (day - base).days > 180:
                day = day.replace(year=day.year - 1)
            taken.append(m.span())
            found.append((m.start(), m, day, has_year))
    found.sort(key=lambda x: x[0])
    out = []
    for n, (_pos, m, day, has_year) in enumerate(found):
        line_start = seg.text.rfind("\n", 0, m.start()) + 1
        head = seg.text[max(line_start, m.start() - 20) : m.start()]
        if seg.source not in DOCUMENTS and _TODAY.search(head):
            weight, why = 0.3, "the day the employee writes on (today), not the charge's"
        elif (
            seg.source not in DOCUMENTS
            and _CHAT_STAMP.match(seg.text, m.end())
            and (
                seg.text[line_start : m.start()].strip() in ("[", "")
                # "Thandi Mokoena · Oct 8, 2025 10:14 AM": a thread's author, then the stamp
                or _STAMP_AUTHOR.fullmatch(seg.text[line_start : m.start()])
            )
        ):
            weight, why = 0.05, "when a chat message was sent (its timestamp), not the charge's"
        elif seg.source not in DOCUMENTS and _CORRECTED.match(seg.text, m.end()):
            weight, why = 0.1, "a date the employee corrects right after it"
        elif seg.source not in DOCUMENTS:
            weight, why = 2.0, "date the employee wrote"
        elif _PURCHASE_LABEL.search(head):
            weight, why = 6.0, _PURCHASE
        elif _DUE_LABEL.search(head):
            weight, why = 0.3, "a date the bill is due or paid later (not the charge's)"
        elif _FIRST_DAY_LABEL.search(head):
            weight, why = 5.0, _FIRST_DAY
        elif _DATE_LABEL.search(head):
            weight, why = 2.5, "labelled receipt date"
        elif not has_year:
            weight, why = 0.3, "receipt date without a year (a flight or a range)"
        elif n == 0:
            weight, why = 1.5, "first date on the receipt"
        else:
            weight, why = 0.5, "later receipt date"
        out.append(_occ(seg, m, day, weight, why))
    if any(o.why == _FIRST_DAY for o in out):  # a stay or a span: its booking does not date it
        out = [
            replace(o, weight=1.0, why="when the stay or span was booked (its first day dates it)")
            if o.why == _PURCHASE
            else o
            for o in out
        ]
    if seg.source not in DOCUMENTS and submitted is not None:
        out += _relative_days(seg, submitted, taken)
    return out


_STAMP_AFTER = re.compile(r"\s+at\s+\d{1,2}:\d{2}\b", re.IGNORECASE)


def _relative_days(
    seg: Segment, submitted: dt.date, taken: list[tuple[int, int]]
) -> list[Occurrence]:
    """``last tue``, ``Tuesday``, ``yesterday`` in the employee's message: the last such day
    before the submission (weight 1: a dated receipt outweighs it). A weekday written next to a
    date (``Mon 6/2``) is that date's label, not a date of its own."""
    out = []
    for m in _RELATIVE_DAY.finditer(seg.text):
        if any(m.start() < e and s < m.end() for s, e in taken):
            continue
        if m.group("wd") and m.group("wd").lower() in ("sat", "sun") and not m.group("last"):
            continue  # "sat in traffic", "the sun"
        if m.group("rel"):
            if re.match(r"(?:'s date|\s+is)\b", seg.text[m.end() :], re.IGNORECASE):
                continue  # "today is Tuesday June 10": the day of writing, stated
            back = {"yesterday": 1, "today": 0, "tonight": 0}[m.group("rel").lower()]
        else:
            wanted = _WEEKDAYS.index(m.group("wd")[:3].lower())
            back = (submitted.weekday() - wanted) % 7 or 7
        day = submitted - dt.timedelta(days=back)
        if m.group("rel") and _STAMP_AFTER.match(seg.text, m.end()):
            # "jpike — Today at 9:14 AM": when a chat message was sent, not the charge's day
            out.append(_occ(seg, m, day, 0.05, "when a chat message was sent (its timestamp)"))
            continue
        out.append(
            _occ(seg, m, day, 1.0, "weekday the employee wrote (the last before submission)")
        )
    return out


# ------------------------------------------------------------------------------------ counts
_NUMBER_WORDS = {  # English counts are spelled.py's (SPELLED, spelled_value)
    # German, French and Spanish counts as written in a request ("wir waren zu dritt")
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "zweit": 2,
    "dritt": 3,
    "viert": 4,
    "fünft": 5,
    "sechst": 6,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
}
_NUM = r"(?P<n>(?<![\d.,])\d{1,6}(?![.,]\d)|" + SPELLED + "|" + "|".join(_NUMBER_WORDS) + r")"
"""A count: a whole number in English words ("a hundred forty-two miles"), a German, French or
Spanish word up to twelve, or digits that are not part of an amount ("$268.40 total" holds no
count of 40)."""


def _count_value(text: str) -> int:
    value = _NUMBER_WORDS.get(text.lower())
    if value is None:
        value = spelled_value(text)
    return int(text) if value is None else value


def counts(patterns: Iterable[tuple[str, float]]) -> Callable[[Segment], list[Occurrence]]:
    """A finder for a whole number in context: each ``(pattern, weight)`` has ``{n}`` where the
    number (digits or a word up to twelve) stands, e.g. ``("{n} nights?", 2)``; ``{n+1}`` counts
    one more than written (``"me \\+ {n+1}"``: the employee and the others), ``{n+2}`` two more
    ("two people from the developer, plus Dana and me")."""
    compiled = []
    for p, w in patterns:
        plus = re.search(r"\{n\+(\d)\}", p)
        regex = re.sub(r"\{n(?:\+\d)?\}", lambda _: _NUM, p, count=1)
        compiled.append(
            (re.compile(r"\b" + regex + r"\b", re.IGNORECASE), w, p, int(plus[1]) if plus else 0)
        )

    def finder(seg: Segment) -> list[Occurrence]:
        out = []
        for pattern, weight, text, plus in compiled:
            for m in pattern.finditer(seg.text):
                value = _count_value(m.group("n")) + plus
                out.append(_occ(seg, m, value, weight, f"'{text}'"))
        return out

    return finder


# ------------------------------------------------------------------------------------ party
_PERSON = r"(?:(?:Dr|Prof|Mr|Mrs|Ms)\.?\s+)?[A-Z][a-zà-ÿ'’-]{1,15}(?:\s+[A-Z][a-zà-ÿ'’-]{1,15})?"
_PARTY = re.compile(
    r"(?:\b(?:with|w/)\s+|\b(?P<me>me)\s*(?:\+|&|and)\s*)(?P<names>"
    + _PERSON
    + r"(?:\s*,\s*"
    + _PERSON
    + r")*"
    r"(?:\s*,?\s*(?:and|&)\s+" + _PERSON + r")?)(?P<after>[^.;\n]{0,40})"
)
_PERSON_AFTER = re.compile(
    r"\s*(?:\((?:both |all |each )?(?:from|of|our|my|at)\b|from (?:our|my|the|their)\b|"
    r"of (?:our|my|the)\b|,?\s*(?:our|my) (?:colleagues?|co-?workers?|teammates?|interns?|"
    r"students?|assistants?|postdocs?|engineers?|architects?))",
    re.IGNORECASE,
)
_NOT_PEOPLE = frozenset(
    [
        "The",
        "Our",
        "My",
        "Their",
        "His",
        "Her",
        "A",
        "An",
        "Client",
        "Clients",
        "Visa",
        "Amex",
        "Mastercard",
        "Card",
        "Cash",
        "Uber",
        "Lyft",
        "Bolt",
        "Grab",
        "Team",
        "Receipt",
        "Tip",
        "Tax",
        "Everyone",
        "Everybody",
        "Colleagues",
        "Me",
    ]
)


def party(seg: Segment) -> list[Occurrence]:
    """How many ate when the employee names who was with them: "with Lukas and Aylin (both from
    our office)" is 3, "with Reto from our Basel office" 2, "lunch for me + Sam" 2 — the people
    named and the employee. Only names a person's words follow (from our office, our
    colleague…), or a title (Dr.), or two or more first names joined by "and", or "me and …":
    "with Acme" or "paid with Visa" count no one."""
    out = []
    for m in _PARTY.finditer(seg.text):
        people = [
            p.strip()
            for p in re.split(r"\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+", m.group("names"))
        ]
        if any(p.split()[0] in _NOT_PEOPLE or p.isupper() for p in people):
            continue
        titled = any(re.match(r"(?:Dr|Prof|Mr|Mrs|Ms)\b", p) for p in people)
        first_names = len(people) >= 2 and all(" " not in p for p in people)
        person = m.group("me") or _PERSON_AFTER.match(m.group("after"))  # "me + Sam" is people
        if not (person or titled or first_names):
            continue
        out.append(
            Occurrence(
                len(people) + 1,
                seg.source,
                seg.offset + m.start("names"),
                seg.offset + m.end("names"),
                m.group("names"),
                2.0,
                "the people named with the employee, and the employee",
                {},
            )
        )
    return out


# ------------------------------------------------------------------------------------ rates
_RATE_VALUE = r"(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)"
_UNIT_SIGNS = r"CA\$|AU\$|C\$|A\$|S\$|€|£|¥|₹"
_RATE_UNIT = r"(?P<unit>" + _CUR_CODES + "|" + _UNIT_SIGNS + ")"
_RATE = [
    (
        re.compile(
            r"\b1(?:[.,]0+)?\s*(?P<unit>" + _CUR_CODES + r"|euros?|pounds?|yen|€|£|¥)\s*=\s*"
            r"(?:US\$|\$)?\s*(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)\s*(?:USD|dollars?)?",
            re.IGNORECASE,
        ),
        3.0,
        "rate written as 1 unit = USD",
    ),
    (
        re.compile(
            r"(?<![\w$])(?P<unit>CA\$|AU\$|C\$|A\$|S\$|€|£|¥|₹)\s*1(?:[.,]0+)?\s*=\s*"
            r"(?:US\$|USD\s*|\$)\s*(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)",
            re.IGNORECASE,
        ),
        3.0,
        "rate written as unit 1 = US dollars (A$1 = US$0.6520)",
    ),
    (
        re.compile(
            r"(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)\s*USD\s*(?:per|por|pro|par|pour|za|für|voor|/)\s*"
            r"(?:1\s+)?(?P<unit>[^\W\d]\w*)",  # "1,1598 USD za 1 EUR" (Czech, Polish)
            re.IGNORECASE,
        ),
        3.0,
        "rate written as USD per unit",
    ),
    (
        re.compile(
            r"(?<![\d.,])(?P<r>[0-4][.,]\d{2,6})(?![.,]?\d)\s*(?:per|for each|for one|a|an)\s+"
            r"(?P<unit>euros?|pounds?|francs?|yen|pesos?|rupees?|"
            + _CUR_CODES.replace("USD|", "")
            + r")\b",
            re.IGNORECASE,
        ),
        2.5,
        "rate per unit, the dollar unsaid (1.1230 per euro)",
    ),
    (
        re.compile(
            r"(?:US\$|\$)\s*(?P<r>[0-4][.,]\d{2,6})(?![.,]?\d)\s*(?:per|for each|for one|a|/)\s*"
            r"(?P<unit>[£€¥₹])"
        ),
        3.0,
        "rate written as dollars per currency sign ($1.2710 per £)",
    ),
    (
        re.compile(
            r"\bUSD\s*(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)\s*(?:per|/)\s*(?P<unit>"
            + _CUR_CODES
            + r")\b",
            re.IGNORECASE,
        ),
        3.0,
        "rate written as USD amount per unit (USD 0.7720 / SGD)",
    ),
    (
        re.compile(
            r"\bUSD\s*/\s*(?P<unit>" + _CUR_CODES + r")\s*:?\s*(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)",
            re.IGNORECASE,
        ),
        2.0,
        "rate written USD/EUR 1.08 (read as USD per unit: a rate is at most 5)",
    ),
    (
        re.compile(
            r"\b(?P<unit>" + _CUR_CODES + r")\s*(?:/|->|→|to)\s*USD\b\s*(?:rate)?\s*[:=@]?\s*"
            r"(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)\b",
            re.IGNORECASE,
        ),
        3.0,
        "rate written as a currency pair quoted in USD (EUR/USD 1.0850)",
    ),
    (
        re.compile(_RATE_VALUE + r"\s*(?:US\$|USD|\$)\s*/\s*" + _RATE_UNIT),
        3.0,
        "rate written as dollars per unit (0.0117 $/₹)",
    ),
    (
        re.compile(
            r"(?<![\w$])"
            + _RATE_UNIT
            + r"\s*(?:(?:conv(?:ersion)?|rate|fx)\.?\s*)?@\s*"
            + _RATE_VALUE,
            re.IGNORECASE,
        ),
        2.5,
        "rate after a currency's '@' (SGD @ 0.7710)",
    ),
    (
        re.compile(
            _RATE_VALUE + r"\s+for (?:the )?" + _RATE_UNIT + r"\s+(?:conversion|rate)\b",
            re.IGNORECASE,
        ),
        2.5,
        "rate given for a currency's conversion (0.0116 for the INR conversion)",
    ),
    (
        re.compile(
            r"\b(?:rate|conversion|fx)\s*:?\s*" + _RATE_UNIT + r"\s*" + _RATE_VALUE,
            re.IGNORECASE,
        ),
        2.5,
        "rate naming its currency (Rate AUD 0.6540)",
    ),
    (
        re.compile(
            r"(?:(?<![\w$])" + _RATE_UNIT + r"\s+)?\b(?:(?:forex|fx|exchange|card)\s+)?"
            r"(?:rate|conversion)\b(?:\s+[A-Za-z]+){0,4}?\s+(?:is|was|came to|comes to|of)\s*:?\s*"
            + _RATE_VALUE,
            re.IGNORECASE,
        ),
        2.0,
        "rate in a sentence (AUD rate this month is 0.6480)",
    ),
    (
        re.compile(
            r"(?:[£€¥₹]|\b(?:" + _CUR_CODES + r"|[ACS]\$)\s?)\d[\d.,]*\s*@\s*(?P<r>\d+[.,]\d{1,6})"
            r"(?![.,]?\d)"
        ),
        2.0,
        "rate after a foreign amount's '@' (£8.10 @ 1.3452)",
    ),
    (
        re.compile(
            r"\b(?:rate|conversion|converted at|at|tipo de cambio|cambio|tc|taux(?: de change)?|"
            r"wechselkurs|kurs|koers|kur|tasso(?: di cambio)?|c[aâ]mbio)\b"
            r"(?:\s+(?:was|is|of|de|di|von|van|on (?:my|the) [\w ]{1,24}?|(?:according to|per|from|volgens|"
            r"według|segundo|laut|selon) (?:my|the|mijn|de|moja|o|meine|ma) [\w ]{1,24}?))?"
            r"\s*:?\s*(?P<r>\d+[.,]\d{1,6})(?![.,]?\d)\b",
            re.IGNORECASE,
        ),
        2.0,
        "rate after 'rate' / 'converted at'",
    ),
    (
        re.compile(r"(?<![\w$])(?P<unit>" + _CUR_CODES + r")\s*(?P<r>\d[.,]\d{4,6})(?![.,]?\d)"),
        1.5,
        "a four-decimal number after a currency code (AUD 0.6530): amounts have two",
    ),
]


_DOLLAR_UNIT = r"(?:USD|US\$|US dollars?|dollars?|the dollar|\$)"
_PER_DOLLAR = r"\s*(?:per|pro|par|por|/|to the|to a|for each|for one)\s*" + _DOLLAR_UNIT + r"(?!\w)"
_ANY_RATE_VALUE = _RATE_VALUE.replace("?P<r>", "?:")
_ANY_RATE_UNIT = (  # "0.8012 francs per dollar": the currency by its name too
    r"(?:" + _CUR_CODES + "|" + _UNIT_SIGNS + r"|francs?|euros?|pounds?|yen|pesos?|rupees?|lei|"
    r"kronor|kroner|zlot(?:y|ys|ych)|won|baht|rand|reais|ringgit|rupiah)"
)
_INVERSE_RATE = re.compile(
    "|".join(
        [  # 1 USD = 0.8812 CHF; 0.92 EUR per USD; EUR 0.92 / USD
            r"(?:\b1(?:[.,]0+)?\s*(?:USD|US\$|US dollars?|dollars?)|(?<![\w$])(?:US)?\$\s*"
            r"1(?:[.,]0+)?)\s*=\s*" + _RATE_VALUE + r"\s*" + _RATE_UNIT,
            _ANY_RATE_VALUE + r"\s*" + _ANY_RATE_UNIT + _PER_DOLLAR,
            r"(?<![\w$])" + _ANY_RATE_UNIT + r"\s*" + _ANY_RATE_VALUE + _PER_DOLLAR,
        ]
    ),
    re.IGNORECASE,
)
"""A rate written the other way round: foreign units per US dollar ("1 USD = 0.8812 CHF",
"0.92 EUR per USD"). The policy's rate is US dollars per unit, stated and never computed, so this
is no rate (the claim waits for one) and its number is no amount."""

_OTHER_DOLLAR = re.compile(
    r"(?<![\w$])(?:(?P<sym>CA\$|AU\$|C\$|A\$|S\$)|(?P<code>CAD|AUD|SGD|MXN)\b|"
    r"(?P<word>canadian|australian|singapore|aussie)\s+dollars?\b|(?P<peso>pesos?)\b)",
    re.IGNORECASE,
)
_DOLLAR_WORD = {"canadian": "CAD", "australian": "AUD", "aussie": "AUD", "singapore": "SGD"}


def other_dollars(seg: Segment) -> list[Occurrence]:
    """Where the text names a currency written with a bare ``$`` that is not the US dollar
    ("All A$", "C$ receipt", "Canadian dollars", "pesos"): the policy reads ``$`` as USD unless
    the text names another dollar."""
    out = []
    for m in _OTHER_DOLLAR.finditer(seg.text):
        if m.group("sym"):
            code = _SYMBOL[m.group("sym").upper()]
        elif m.group("code"):
            code = m.group("code").upper()
        elif m.group("word"):
            code = _DOLLAR_WORD[m.group("word").lower()]
        else:
            code = "MXN"
        out.append(_occ(seg, m, code, 2.0, "another dollar the text names"))
    return out


_CODE_WORD = re.compile(r"\b(?:" + _CUR_CODES + r")\b", re.IGNORECASE)


def _to_another_currency(line: str) -> bool:
    """A line naming a currency code, none of them USD: its rate is not US dollars per unit."""
    codes = {c.upper() for c in _CODE_WORD.findall(line)}
    return bool(codes) and "USD" not in codes


def rates(seg: Segment) -> list[Occurrence]:
    """Exchange rates (US dollars per unit): ``1.08 USD per euro``, ``1.27 USD/GBP``,
    ``converted at 1.13``, ``Rate 0.0067``."""
    out = []
    taken = [m.span() for m in _INVERSE_RATE.finditer(seg.text)]
    for pattern, weight, why in _RATE:
        for m in pattern.finditer(seg.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append(m.span())
            if seg.source in DOCUMENTS and _to_another_currency(_line_of(seg.text, m.start())):
                continue  # "Total EUR (Kurs 1.0500) 166.32": a rate to euros, not US dollars
            unit = (m.groupdict().get("unit") or "").lower()
            code = (
                _SYMBOL.get(unit)
                or _SYMBOL.get(unit.upper())
                or _WORD.get(unit)
                or (unit.upper() if unit.upper() in _CUR_CODES.split("|") else None)
            )
            # a rate's comma is a decimal comma ("1 EUR = 1,1180 USD"): rates are at most 5
            rate = Decimal(m.group("r").replace(",", "."))
            if rate >= 10:  # no currency is worth ten dollars: "Room Rate 219.00", a price
                continue
            out.append(_occ(seg, m, rate, weight, why, unit=code))
    return out


# ------------------------------------------------------------------------------------ names
_HEADER_NOISE = re.compile(
    r"\s*(?:#\S*|store\s*#?\S*|e-?ticket(?: receipt)?|receipt|invoice|order\b.*|"
    r"statement|trip receipt)\s*$",
    re.IGNORECASE,
)
COPY_LINE = re.compile(
    r"\W*(?:(?:merchant|customer|cardholder|card ?holder|store|guest)'?s? copy"
    r"|(?:receipt|slip|ticket)\s*(?:#|no\.?)?\s*\d{1,2})\W*$",  # "Receipt 1": the employee's label
    re.IGNORECASE,
)
"""The line a card slip prints above its header ("--- MERCHANT COPY ---"), never its issuer."""
PAYMENT_LINE = re.compile(
    r"\s*(?:visa|mastercard|mc|amex|american express|discover|debit|credit|cash|card|paid|"
    r"payment|change|auth)\b|.*\*{3,}\d",
    re.IGNORECASE,
)
"""A card or payment line: where two receipts run together, it ends the first, not heads the next."""
_SENDER_LINE = re.compile(
    r"\s*From:\s*\"?(?P<n>[^<\"\n]*?[^\W\d_][^<\"\n]*?)\"?"
    r"(?:\s+(?:receipts?|bookings?|reservations?|notifications?|no-?reply))?\s*(?:<[^>\s]+@|$)",
    re.IGNORECASE,
)
"""A receipt e-mail's sender line ("From: National Express <bookings@nationalexpress.com>")."""
_WALLET_LINE = re.compile(
    r"\W*(?:apple pay|google pay|google wallet|samsung pay|wallet)\b", re.IGNORECASE
)
"""A phone wallet's notification header ("Apple Pay · Wallet   now"): the charge's merchant is
on the next line, the wallet never is."""
_TITLE_LINE = re.compile(
    r"\W*(?:(?:領収書|領収証|レシート|receipt|tax invoice|invoice|quittung|reçu|ricevuta|recibo|"
    r"factura|rechnung)\W*)+$",
    re.IGNORECASE,
)
"""A first line that only names the document ("領収書 RECEIPT"): the issuer's name comes after."""
_NOTE_LINE = re.compile(r"\s*\[[^\]\n]*\]\s*$")
"""A line wholly in square brackets above a receipt ("[photo, taken at an angle - OCR text]",
"[IMG_4471.jpg - OCR]"): the sender's note on what was pasted, never the issuer."""
_BOOKING_SITE = re.compile(
    r"(?:booking\.com|expedia|hotels\.com|agoda|rakuten travel|trip\.com|priceline|hotwire|"
    r"orbitz|travelocity|egencia|hrs)\b",
    re.IGNORECASE,
)
"""A booking site's confirmation: the site only sold the stay; the property it names is the
business whose stay it was (the conventions' hotel "keeps its full property name")."""
_PROPERTY_LINE = re.compile(
    r"^[ \t]*([^\n:\d]*\b(?:hotel|inn|suites?|resort|lodge|hostel|motel|residence|ryokan|"
    r"apartments?|aparthotel|B&B)\b[^\n:\d]*?)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_NEXT_LINE = re.compile(r"^[ \t]*(\S[^\n]*)", re.MULTILINE)
_LATIN_LINE = re.compile(r"^[ \t]*([^\n]*[A-Za-z][^\n]*)", re.MULTILINE)
_CAP_SPAN = re.compile(r"\b[A-Z][\w'&.-]*(?: (?:de |of )?[A-Z][\w'&.-]*)*")
"""A run of capitalised words one space apart, on one line: a form's "Merchant: Target" is not
"Target Category", a report row's "Han Dynasty    Meals    Dinner" is "Han Dynasty"."""
_STAMP_AUTHOR = re.compile(r"\s*[^\W\d_][\w .'-]{0,40}?\s+[·•|—–]\s*")
"""A chat or comment thread's author before its message's timestamp ("Kenji Mori · ")."""
_NAME_CUE = re.compile(
    r"(?:\b(?:bought|grabbed|purchased|picked up|ordered|paid|spent|shopped|stayed|dinner|lunch|"
    r"breakfast|brunch|drinks|coffee|meal|nights?)\b[^.;\n]{0,60}\bat\s+(?:the\s+)?|"
    r"\b(?:makan siang|makan malam|sarapan)\b[^.;\n]{0,30}\bdi\s+(?:stall\s+|warung\s+)?|"
    r"\b(?:both|all|each)(?: of them)?(?: were| was)? (?:bought |purchased )?at\s+(?:the\s+)?|"
    r"\b(?:bought|purchased|ordered|booked|rented|hired)\b[^.;\n]{0,60}\b(?:from|with|through)"
    r"\s+(?:the\s+)?|\b(?:box|bag|bottle|basket|set|pack) of [a-z]+ from\s+(?:the\s+)?|"
    r"\d[.,]\d\d\s+(?:at|from)\s+(?:the\s+)?|"
    r"\b(?:merchant|vendor|payee|store|supplier|restaurant|hotel|airline|carrier|shop)\s*"
    r"(?:\[[\w.-]{1,30}\]\s*)?:\s*)$",
    re.IGNORECASE,
)
"""Before a capitalised span, words that make it the place paid: "bought a headset at Best
Buy", "dinner at Grill 23", "booked with Dial 7", "box of pralines from Bayou City Pralines",
"$23.10 at Cafe Bernardo", "Merchant: Target" (a form filled field by field) — a name the text
puts there, not one it mentions ("the permit counter at City Hall", "our contact at Initech")."""
_GREETINGS = frozenset({"hi", "hello", "hey", "dear"})
"""A span a greeting opens ("Hello Finance,", "Hi Dana") names who the message is to."""
_IDENTIFIER = re.compile(r"[A-Z]{2,}[-#]?\d{4,}\w*")
"""A ticket or order number ("RITM0048213", "INC-20931"): a reference, never a business."""
_NAME_NUMBER = re.compile(r" (\d{1,3})(?=\s+(?:in|on|at|for)\b|[,.;)]|$)")
_ARTICLES = frozenset({"a", "an", "our", "my"})
"""Words a span the text names as the place paid does not begin with: "at The Bad Waitress" keeps
its "The" (a name printed so), "at Our Lady's Bakery" is rare beside "from My Cafe"."""
_STATEMENT_HEAD = re.compile(
    r"(?=.*\b(?:statement|account activity|card activity)\b)(?=.*(?:\b(?:card|visa|mastercard|"
    r"amex|american express|sapphire|bank|credit|debit)\b|(?:\.{3}|[•*x]{2,})\s?\d{4}\b))",
    re.I,
)
"""A document's first line that says it is a card or bank statement ("CHASE SAPPHIRE PREFERRED
...4417 Statement excerpt"): whose name it prints is the bank's, not a merchant's."""
_OPERATOR_OF = re.compile(
    r"\s+(?:train|flight|ticket|bus|coach|ferry|rail|shuttle|parking|garage|car service)s?\b", re.I
)
"""After a short acronym, what it sold: "LNER train", "KLM flight" — the operator, not a code."""
_NOT_NAMES = {
    "firstly",
    "secondly",
    "thirdly",
    "lastly",
    "finally",
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "claiming",
    "his",
    "her",
    "their",
    "we",
    "he",
    "she",
    "they",
    "plus",
    "also",
    "hi",
    "can",
    "please",
    "two",
    "three",
    "one",
    "the",
    "a",
    "my",
    "our",
    "sorry",
    "late",
    "receipt",
    "receipts",
    "invoice",
    "folio",
    "ticket",
    "mileage",
    "dinner",
    "lunch",
    "breakfast",
    "meals",
    "meal",
    "hotel",
    "flight",
    "taxi",
    "parking",
    "client",
    "customer",
    "team",
    "found",
    "took",
    "tossed",
    "submitting",
    "requesting",
    "registration",
    "replacement",
    "business",
    "economy",
    "first",
    "premium",
    "round-trip",
    "holiday",
    "thank-you",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "extended",
    "train",
    "car",
    "home",
    "monthly",
    "online",
    "whiteboard",
    "noise-cancelling",
    "printer",
    "picked",
    "march",
    "april",
    # greetings and openers a message starts with, in the languages requests come in
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "ok",
    "okay",
    "so",
    "both",
    "just",
    "here",
    "attached",
    "fyi",
    "fw",
    "fwd",
    "from",
    "subject",
    "sent",
    "cc",
    "re",
    "hola",
    "olá",
    "ola",
    "oi",
    "bonjour",
    "salut",
    "ciao",
    "buongiorno",
    "hallo",
    "hej",
    "cześć",
    "merhaba",
    "selam",
    "xin",
    "chào",
    "habari",
    "halo",
    "selamat",
    "kalimera",
    # a receipt's labels, never its issuer
    "total",
    "totaal",
    "subtotal",
}


_OCR_DIGIT = re.compile(r"\b\w*[01]\w*\b")


def _ocr_letters(text: str) -> str:
    """A scanned header's 0 and 1 misread for the letters O and I ("MOTEL 0NE", "H0LIDAY INN",
    "TABERNA D0 R1O"): in a word of letters whose only digits are 0 and 1, each 0 is an O and, in
    a word of two letters or more, each 1 an I (lower case "o" / "l" between lower-case letters:
    "Mi1waukee")."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        letters = len(re.findall(r"[^\W\d_]", word))
        if re.search(r"[2-9_]", word) or not letters:
            return word
        out = []
        for i, ch in enumerate(word):
            lower = word[i + 1 : i + 2].islower() and i > 0
            if ch == "0":
                ch = "o" if lower else "O"
            elif ch == "1" and letters >= 2:  # "A1" stays
                ch = "l" if lower else "I"
            out.append(ch)
        return "".join(out)

    return _OCR_DIGIT.sub(fix, text)


def _title(text: str) -> str:
    """A header's name as a name is written: "HARRY & DAVID" and a brand's lower-case "verizon"
    in capitals; a mixed-case one ("McDonald's") and an acronym ("NS", "BP") as printed."""
    if text.lower() != text and (text.upper() != text or re.fullmatch(r"[A-Z]{2,3}", text)):
        return text
    words = [("-".join(map(_title_word, w.split("-")))) for w in text.split()]
    return " ".join(
        w.lower() if i and w.lower() in _SMALL_WORDS else w for i, w in enumerate(words)
    )


_SMALL_WORDS = frozenset({"by", "of", "and", "at", "on", "in", "for"}) | frozenset(
    {"de", "du", "la", "le", "des", "del", "di", "da", "do", "dos", "das", "der", "von"}
)
"""Words a name writes in lower case after its first ("Residence Inn by Marriott")."""


_LEGAL_FORMS = {"LTD": "Ltd", "PVT": "Pvt", "PTE": "Pte", "GMBH": "GmbH", "BHD": "Bhd"}
"""Legal forms without a vowel, which an all-capitals header prints like initialisms: "SKILLBRIDGE
LEARNING PVT LTD" is "Skillbridge Learning Pvt Ltd" (LLC, PLC and SA stay capitals)."""


def _title_word(word: str) -> str:
    """An upper-case word as a name writes it: "SHADY" → "Shady", "MY" → "My"; an initialism
    stays as printed: "BBQ", "NYC" (no vowel, no final Y), "AT&T"."""
    if word in _LEGAL_FORMS:
        return _LEGAL_FORMS[word]
    initialism = not re.search(r"[AEIOU]", word) and not word.endswith("Y")
    if word.isupper() and len(word) <= 4 and (initialism or "&" in word):
        return word
    return word[:1].upper() + word[1:].lower()


_AT_LOWER = re.compile(
    r"\b(?:at|from)\s+(?:the\s+)?(?P<n>[a-z][\w'&.-]*(?:\s+[a-z][\w'&.-]*){0,2})"
)
_LOWER_STOP = re.compile(
    r"\s+(?:for|on|in|to|and|with|came|was|were|then|last|this|that|yesterday|today|tonight|"
    r"night|morning|around|about|after|before|near|by|so|but|it|its|i|my|site|visit|mon|tue|"
    r"tues|wed|thu|thurs|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"\b.*$"
)
_COMMON_PLACES = {
    "home", "work", "night", "noon", "lunch", "dinner", "breakfast", "office", "hotel",
    "airport", "site", "store", "shop", "restaurant", "station", "gas", "least", "all", "first",
    "once", "last",
}  # fmt: skip


_LEAD_LOWER = re.compile(r"\s*(?P<n>[a-z][\w'&.-]{2,})\s+(?=\$?\d)")
"""A message's first word right before a date or an amount ("uber 6/3 hotel to the stages")."""
_LEAD_NOT = frozenset(
    {"cab", "ride", "rides", "bus", "coffee", "snacks", "supplies", "fuel", "toll", "tolls",
     "paid", "spent", "drove", "bought", "got", "expense", "expenses", "reimburse", "claim"}
)  # fmt: skip
"""First words that say what was bought or done, not where."""


def lower_case_names(seg: Segment, exclude: Callable[[str], bool]) -> list[Occurrence]:
    """A message typed without capitals ("bought vests at home depot 6/24"): the words after
    "at" / "from", up to a preposition, a time word or a number, are the name — weight 0.4; one
    common word ("at home", "from the office") is none; else its first word when a date or an
    amount follows it ("uber 6/3 ..."), weight 0.3. The planner asks for these only when no text
    of the item holds a receipt header or a capitalised span."""
    if re.search(r"[A-Z]", re.sub(r"\bI\b", "", seg.text)):
        return []
    out = []
    lead = _LEAD_LOWER.match(seg.text)
    if lead and seg.source not in DOCUMENTS:
        name = lead.group("n")
        common = name in _COMMON_PLACES or name in _NOT_NAMES or name in _LEAD_NOT
        if not common and not exclude(name.title()):
            why = "a message's first word, before a date or an amount (typed without capitals)"
            out.append(_lower_name(seg, lead.start("n"), name, 0.3, why))
    for m in _AT_LOWER.finditer(seg.text):
        name = _LOWER_STOP.sub("", m.group("n")).strip(" .,;:!?")
        words = name.split()
        if not words or (len(words) == 1 and (words[0] in _COMMON_PLACES or len(name) < 4)):
            continue
        if exclude(name.title()) or name in _NOT_NAMES:
            continue
        why = "lower-case words after 'at' (a message typed without capitals)"
        out.append(_lower_name(seg, m.start("n"), name, 0.4 / (1 + len(out)), why))
    return out


_FORM_LABEL = re.compile(r"[ \t]*(?:\([^)\n]{0,12}\))?[ \t]*\??:")


def _at_line_start(seg: Segment, m: re.Match[str]) -> bool:
    """Nothing but blanks before ``m`` on its line."""
    return not seg.text[seg.text.rfind("\n", 0, m.start()) + 1 : m.start()].strip()


def _lower_name(seg: Segment, at: int, name: str, weight: float, why: str) -> Occurrence:
    """A name typed in lower case at ``at`` of ``seg``, written as a name is ("Home Depot")."""
    start = seg.offset + at
    return Occurrence(name.title(), seg.source, start, start + len(name), name, weight, why)


def names(seg: Segment, exclude: Callable[[str], bool] = lambda _s: False) -> list[Occurrence]:
    """Business names: a receipt's header line (its first line, without store numbers, dates and
    "e-ticket receipt"), weight 3; else each capitalised span of the text in order (weight
    falling with position), skipping sentence openers, months, weekdays and what ``exclude``
    says is not a name (the pack's cities)."""
    out: list[Occurrence] = []
    if seg.source in DOCUMENTS:
        first = re.match(r"\s*([^\n]+)", seg.text)
        if first and _STATEMENT_HEAD.search(first.group(1)):
            return out  # a card statement's header is the bank's: the charge's merchant is not
        # the last receipt's card line (its first column: a receipt pasted as one line has its
        # card at the end, "BLUE RIBBON CAR SERVICE  Invoice ...  Paid: AMEX ***4002")
        while first and (
            PAYMENT_LINE.match(re.split(r"\s{2,}", first.group(1).strip())[0])
            or COPY_LINE.match(first.group(1))
            or _WALLET_LINE.match(first.group(1))
            or _TITLE_LINE.match(first.group(1))
            or _NOTE_LINE.match(first.group(1))
        ):
            first = _NEXT_LINE.search(seg.text, first.end())
        if first and not re.search(r"[A-Za-z]", first.group(1)):  # of two scripts, the Latin
            first = _LATIN_LINE.search(seg.text, first.end()) or first
        if first:
            line, lead = first.group(1), 0
            if " / " in line and re.search(r"[^\x00-\u024f\s]", line):
                # "JR東海 / Central Japan Railway Company": of a name in two scripts, the Latin one
                latin = [
                    p
                    for p in line.split(" / ")
                    if re.search(r"[A-Za-z]", p) and not re.search(r"[^\x00-\u024f\s]", p)
                ]
                if latin:
                    lead, line = line.find(latin[0]), latin[0]
            if re.search(r"[A-Za-z]", line) and re.search(r"[^\x00-\u024f\s]", line):
                line = re.sub(r"[^\x00-\u024f]+", " ", line).strip(" /|-")  # 日本交通 Nihon Kotsu
            cut = re.search(
                r"\s{2,}|\s[|·]\s|\s+\d{1,2}/\d{1,2}/|\s+(?:mon|tue|wed|thu|fri|sat|"
                r"sun)\b,?",
                line,
                re.IGNORECASE,
            )
            head = line[: cut.start()] if cut else line
            sender = _SENDER_LINE.match(line)
            if sender:  # an e-mailed receipt: its sender is its issuer
                head = sender.group("n")
            head = re.sub(r"\s+-\s+(?:e-?ticket.*|receipt.*)$", "", head, flags=re.IGNORECASE)
            # a branch after a dash ("CITY OF FRESNO - PARKING SERVICES"); a hotel keeps its
            # full property name as printed
            if not _PROPERTY_LINE.match(head):
                head = re.split(r"\s+[-–]\s+", head, maxsplit=1)[0]
            for _ in range(3):
                head = _CITY_STATE_END.sub("", head)  # "Raleigh NC", not "Fernverkehr AG"
                head = _HEADER_NOISE.sub("", head)
            head = head.strip(" -|")
            stay = _BOOKING_SITE.match(head) and _PROPERTY_LINE.search(seg.text, first.end())
            if stay:
                first, head = stay, stay.group(1)
            if re.search(r"[^\W\d_]", head):  # a name has a letter: not "2" of "2  Whirl-Pak"
                head = _ocr_letters(head)
                start = seg.offset + first.start(1) + lead + (sender.start("n") if sender else 0)
                out.append(
                    Occurrence(
                        _title(head),
                        seg.source,
                        start,
                        start + len(head),
                        head,
                        3.0,
                        "receipt header",
                    )
                )
        return out
    rank = 0
    for m in _CAP_SPAN.finditer(seg.text):
        words = m.group(0).split()
        if words[0].lower().strip(".,") in _GREETINGS:
            continue  # the addressee, not a business
        if len(words) <= 3 and _FORM_LABEL.match(seg.text, m.end()) and _at_line_start(seg, m):
            continue  # a form's label ("Merchant: Blue Bottle Coffee"), not what it holds
        cued = _NAME_CUE.search(seg.text, max(0, m.start() - 90), m.start()) is not None
        while words and (
            (words[0].lower().strip(".,") in (_ARTICLES if cued else _NOT_NAMES))
            or (words[0][:3].lower() in _MONTHS and len(words[0]) <= 9)
        ):
            words = words[1:]
        if not words:
            continue
        text = " ".join(words)
        number = _NAME_NUMBER.match(seg.text, m.end()) if cued else None
        if number:
            text += " " + number.group(1)  # "at Grill 23 in Boston"
        if (
            exclude(text)
            or exclude(re.sub(r"['’]\w+$", "", text))  # a city with a suffix: "Frankfurt'taki"
            or (text.isupper() and len(text) <= 4 and not _OPERATOR_OF.match(seg.text, m.end()))
            or text.lower() in _NOT_NAMES
            or text.lower().endswith("n't")
            or _IDENTIFIER.fullmatch(text)
        ):
            continue
        start = seg.offset + m.start() + m.group(0).find(words[0])
        out.append(
            Occurrence(
                text,
                seg.source,
                start,
                start + len(text),
                text,
                1.5 if cued else 1.0 / (1 + rank),
                f"capitalised span #{rank + 1}" + (", named as the place paid" if cued else ""),
            )
        )
        rank += 1
    return out


# ------------------------------------------------------------------------------------ places
_US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]
_US_STATE = "(?:" + "|".join(_US_STATES) + ")"
_CITY_STATE_END = re.compile(r"\s+[A-Z][A-Za-z]+\s+" + _US_STATE + "$")
_STATE_AFTER_CITY = re.compile(
    r"(?P<before>[^\n]{0,60}?)[,\s]\s*(?P<st>" + _US_STATE + r")\b(?=\s+\d{5}|\s*[,.()\n]|\s*$)"
)
_POSTCODE_CITY = re.compile(
    r"(?<![/.-])\b\d{4,5}(?:\s?[A-Z]{2}(?=\s))?\s+"
    r"(?P<city>[A-ZÄÖÜÉ][\w'-]+(?:[ -][A-ZÄÖÜÉ][\w'-]+)?)"
)  # "80331 München", a Dutch "3011 XB Rotterdam"
_PROVINCE_AFTER_CITY = re.compile(
    r"(?P<city>[A-ZÀ-Ý][\w'’.-]+(?:[ -][A-ZÀ-Ý][\w'’.-]+){0,2})\s*(?:,\s*|\()"
    r"(?:QC|ON|BC|AB|MB|SK|NS|NB|NL|PE|NSW|VIC|QLD|TAS|ACT)\)?(?=[\s,.]|$)"
    # "320 4 Ave SW, Calgary AB T2P 2S6": a province and a Canadian postal code after a space
    r"|(?P<city2>[A-ZÀ-Ý][\w'’.-]+(?:[ -][A-ZÀ-Ý][\w'’.-]+){0,2})\s+"
    r"(?:QC|ON|BC|AB|MB|SK|NS|NB|NL|PE)\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
    # "4308 Main St, Whistler BC": a province ending the address line
    r"|(?<=, )(?P<city3>[A-ZÀ-Ý][\w'’.-]+(?:[ -][A-ZÀ-Ý][\w'’.-]+){0,2})\s+"
    r"(?:QC|ON|BC|AB|MB|SK|NS|NB|NL|PE|NSW|VIC|QLD|TAS)[ \t]*$",
    re.MULTILINE,
)
"""A Canadian or Australian address's city before its province or state: ``Montréal (QC)``,
``Geelong, VIC``. (A year before a label, "24/04/2025  Salida", is no postcode before a city.)"""
_CITY_POSTCODE = re.compile(
    r"(?P<before>[^\n]{1,80}?)\s*[-–,]?\s*\b(?:\d{3}\s?\d{3}|\d{4}|"
    # and the UK's "Birmingham B2 4XJ"; a number before a comma is a street's ("Haven 1742,
    # 2040 Antwerpen"), not a postcode
    r"[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\b(?![\d/.:-]|\s*,\s*\d{4,5}\s+[A-Z])"
)
"""A four- or six-digit postcode after a city (India's PIN, Singapore's, South Africa's,
Australia's) or a British one, the city in one of the comma-separated parts before it: ``Gachibowli, Hyderabad,
Telangana 500032``, ``90 Bree Street, Cape Town 8001``."""
_CALENDAR_WORD = re.compile(
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|"
    r"oct|nov|dec)(?:[a-z]*day|uary|ruary|ch|il|e|y|ust|tember|ober|ember)?\.?",
    re.IGNORECASE,
)
"""A weekday or a month ("in Mon 13 Oct"): never a place, whatever the gazetteer holds."""
_PREPOSITION_CITY = re.compile(
    # and the same in Spanish, French, German, Italian and Portuguese ("cena en Monterrey")
    r"\b(?:in|near|outside|around|to|from|en|à|au|dans|nach|bei|em|presso)\s+(?:downtown\s+)?"
    r"(?P<city>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){0,2})"
)


def place_names(seg: Segment, known: Callable[[str, str | None], bool]) -> list[Occurrence]:
    return [o for o in _place_names(seg, known) if not _CALENDAR_WORD.fullmatch(o.value[0])]


def _place_names(seg: Segment, known: Callable[[str, str | None], bool]) -> list[Occurrence]:
    """Places a text names, as ``(name, US state or None)``, for a gazetteer lookup: a US
    address's city before its state code (``Boise ID``, ``Moab UT 84532``: weight 3), a city
    after a postcode (``10179 Berlin``: 2.5), a capitalised name after "in", "near", "to"...
    (``dinner in Dallas``: 1.5). ``known(name, state)`` says whether the gazetteer has it: the
    longest run of words before a state code that it knows is the city."""
    out: list[Occurrence] = []
    for m in _STATE_AFTER_CITY.finditer(seg.text):
        words = re.split(r"[\s,]+", m.group("before").strip(" ,"))
        state = m.group("st")
        for n in range(min(4, len(words)), 0, -1):
            name = " ".join(words[-n:])
            if name[:1].isupper() and known(name, state):
                start = seg.offset + m.start("before") + m.group("before").rfind(name)
                out.append(
                    Occurrence(
                        (name, state),
                        seg.source,
                        start,
                        seg.offset + m.end("st"),
                        seg.text[start - seg.offset : m.end("st")],
                        3.0,
                        "city and state",
                    )
                )
                break
    for m in _CITY_POSTCODE.finditer(seg.text):
        parts = m.group("before").split(",")
        for part in reversed(parts):  # the city is the last part the gazetteer knows
            name = part.strip(" -–.")
            if name[:1].isupper() and known(name, None):
                start = seg.offset + m.start("before") + m.group("before").rfind(name)
                out.append(
                    Occurrence(
                        (name, None),
                        seg.source,
                        start,
                        start + len(name),
                        name,
                        2.5,
                        "city before a postcode",
                    )
                )
                break
    for pattern, weight, why in (
        (_POSTCODE_CITY, 2.5, "city after a postcode"),
        (_PROVINCE_AFTER_CITY, 2.5, "city and province"),
        (_PREPOSITION_CITY, 1.5, "place named after 'in' / 'near'"),
    ):
        for m in pattern.finditer(seg.text):
            # the pattern's alternative that matched
            group = next(g for g in ("city", "city2", "city3") if m.groupdict().get(g))
            words = m.group(group).split()
            for n in range(len(words), 0, -1):
                name = " ".join(words[:n]).rstrip(".,'")
                if known(name, None):
                    out.append(
                        Occurrence(
                            (name, None),
                            seg.source,
                            seg.offset + m.start(group),
                            seg.offset + m.start(group) + len(name),
                            name,
                            weight,
                            why,
                        )
                    )
                    break
    return out


# ------------------------------------------------------------------------------------ stays
_WEEKDAY_TAIL = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*$", re.IGNORECASE)
_ARRIVE = re.compile(
    r"(?:arriv\w*|\barr\b\.?|check(?:ed)?[ -]?in(?: on)?|llegada|entrada|anreise|ankunft|"
    r"chegada)\W*$",
    re.IGNORECASE,
)
_DEPART = re.compile(
    r"(?:depart\w*|\bdep\b\.?|check(?:ed)?[ -]?out(?: on)?|\band out|\bout|salida|départ|"
    r"abreise|partenza|saída)\W*$",
    re.IGNORECASE,
)
_BETWEEN = re.compile(r"^\s*(?:-|–|to|through|thru|until)\s*$", re.IGNORECASE)
_DAY_RANGE = re.compile(
    r"\b(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<a>\d{1,2})"
    r"\s*[-–]\s*(?P<b>\d{1,2})\b(?!\s*[/:])",
    re.IGNORECASE,
)


def stays(seg: Segment, submitted: dt.date | None = None) -> list[Occurrence]:
    """Nights of a stay from its dates: a labelled arrival and departure (``Arrive: 06/02/25
    Depart: 06/05/25``, ``checked in Mon 6/2 and out Thu 6/5``) weight 2; two dates joined as a
    range (``8/4-8/6``, ``May 12 to May 15``) or days of one month (``Jan 12-14``) 1.5. Only 1 to
    60 nights count."""
    out: list[Occurrence] = []
    found = sorted(dates(seg, submitted), key=lambda o: o.start)
    arrive = depart = None
    for o in found:
        local = o.start - seg.offset
        line_start = seg.text.rfind("\n", 0, local) + 1
        label = _WEEKDAY_TAIL.sub("", seg.text[max(line_start, local - 30) : local])
        if arrive is None and _ARRIVE.search(label):
            arrive = o
        elif arrive is not None and depart is None and _DEPART.search(label):
            depart = o
    if arrive is not None and depart is not None:
        nights = (depart.value - arrive.value).days
        if 1 <= nights <= 60:
            out.append(
                Occurrence(
                    nights,
                    seg.source,
                    arrive.start,
                    depart.end,
                    f"{arrive.text} … {depart.text}",
                    2.0,
                    "arrival and departure dates",
                )
            )
    for a, b in itertools.pairwise(found):
        gap = seg.text[a.end - seg.offset : b.start - seg.offset]
        nights = (b.value - a.value).days
        if _BETWEEN.match(gap) and 1 <= nights <= 60:
            text = seg.text[a.start - seg.offset : b.end - seg.offset]
            out.append(
                Occurrence(nights, seg.source, a.start, b.end, text, 1.5, "a range of dates")
            )
    for m in _DAY_RANGE.finditer(seg.text):
        nights = int(m.group("b")) - int(m.group("a"))
        if 1 <= nights <= 60:
            out.append(_occ(seg, m, nights, 1.5, "days of one month"))
    return out


# ------------------------------------------------------------------------------------ dimensions
_DIMS = re.compile(r"\b(\d{1,4})\s*[x×]\s*(\d{1,4})\s*[x×]\s*(\d{1,4})\b", re.IGNORECASE)


def dimensions(seg: Segment) -> list[Occurrence]:
    """Sizes written ``22 x 13 x 6``: the three numbers as a tuple, in the order written."""
    return [
        _occ(seg, m, (int(m.group(1)), int(m.group(2)), int(m.group(3))), 2.0, "L x W x H")
        for m in _DIMS.finditer(seg.text)
    ]


# ------------------------------------------------------------------------------------ identifiers
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_ORDER_ID = re.compile(r"#[A-Z]?\d{5,}\b")
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")


def _simple(pattern: re.Pattern[str], why: str) -> Callable[[Segment], list[Occurrence]]:
    def finder(seg: Segment) -> list[Occurrence]:
        return [_occ(seg, m, m.group(0), 1.0, why) for m in pattern.finditer(seg.text)]

    return finder


_CLAUSE_DASH = re.compile(r"\s[–—-]\s|,\s(?:and|but)\s")


def phrases(patterns: Iterable[tuple[str, float]]) -> Callable[[Segment], list[Occurrence]]:
    """Phrases in context (a purpose: "to pitch the add-on"): the whole match is the value, up
    to a dash between spaces or a ", and", which start another clause as a full stop would
    ("thank-you gift for Lorena in berth planning - she reshuffled the berth window so ...")."""
    compiled = [(re.compile(p, re.IGNORECASE), w) for p, w in patterns]

    def finder(seg: Segment) -> list[Occurrence]:
        out = []
        for pattern, weight in compiled:
            for m in pattern.finditer(seg.text):
                value = m.group("v") if "v" in pattern.groupindex else m.group(0)
                value = _CLAUSE_DASH.split(value)[0]
                out.append(_occ(seg, m, value.strip(" .,;"), weight, "purpose phrase"))
        return out

    return finder


# ------------------------------------------------------------------------------------ quantities
_QTY_UNIT = (
    r"(?:h|hrs?|hours?|std\.?|stunden|stk\.?|stück|pcs?|pieces?|units?|days?|tage?|jours?|uur|"
    r"stuks?|dagen|x|×|kg|nights?|nächte|nuits?|weeks?|wochen|months?|mois|maanden|licen[cs]es?|"
    r"seats?|ea|pers\.?|personen|lizenzen|tsd\.?)"
)
_QTY_WITH_UNIT = re.compile(
    r"(?<![\w.,])(?P<q>\d{1,6}(?:[.,]\d{1,3})?)\s?" + _QTY_UNIT + r"(?![\w])", re.IGNORECASE
)
_QTY_BARE = re.compile(r"(?:(?<=\s)|^)(?P<q>[1-9]\d{0,5}(?:[.,]\d{1,3})?)(?=[ ]{2,}|\t)", re.M)


def quantities(seg: Segment) -> list[Occurrence]:
    """The quantity of an invoice row: a number with a unit (``10 h``, ``2,5 Std``, ``6 x``,
    ``12 pcs``) weight 2, or a number standing alone in a column (two spaces after it) weight
    1.5 — not a position number (``1.``, ``01``), a year, or an amount with two decimals."""
    out = []
    taken: list[tuple[int, int]] = []
    for m in _QTY_WITH_UNIT.finditer(seg.text):
        taken.append(m.span("q"))
        value = Decimal(m.group("q").replace(",", "."))
        out.append(_occ(seg, m, value, 2.0, "number with a unit"))
    for m in _QTY_BARE.finditer(seg.text):
        q = m.group("q")
        if any(a <= m.start("q") < b for a, b in taken) or re.fullmatch(r"(?:19|20)\d\d", q):
            continue
        if re.search(r"[.,]\d{2}$", q):
            continue  # written like money: the unit price or the amount
        out.append(_occ(seg, m, Decimal(q.replace(",", ".")), 1.5, "number in a column"))
    return sorted(out, key=lambda o: o.start)


# ------------------------------------------------------------------------------------ bank and tax ids
_IBAN = re.compile(r"\b(?P<cc>[A-Z]{2})(?P<check>\d{2})(?P<rest>(?:[ ]?[A-Z0-9]){11,30})\b")
_IBAN_LENGTH = {"DE": 22, "FR": 27, "NL": 18, "GB": 22, "BE": 16, "ES": 24, "IT": 27, "AT": 20,
                "CH": 21, "IE": 22, "LU": 20, "PL": 28, "PT": 25, "DK": 18, "SE": 24}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """ISO 13616 check: the country's length, and the number mod 97 is 1 (letters A=10 … Z=35,
    the first four characters moved to the end). One changed or swapped digit always fails."""
    iban = iban.replace(" ", "").upper()
    want = _IBAN_LENGTH.get(iban[:2])
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban) or (want and len(iban) != want):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def ibans(seg: Segment) -> list[Occurrence]:
    """IBANs, written grouped by four or in one run, normalised to one run of capitals; only
    those that pass the mod-97 check (a misprinted or OCR-garbled IBAN is no candidate: the field
    is then missing and a person reads it, never a payment to a near-miss account)."""
    out = []
    for m in _IBAN.finditer(seg.text):
        value = m.group(0).replace(" ", "")
        # grouped writing may run into the next word ("… 3000 BIC …"): trim to the country's length
        want = _IBAN_LENGTH.get(m.group("cc"))
        if want and len(value) > want:
            written = m.group(0)
            cut = next(
                i for i in range(len(written)) if len(written[: i + 1].replace(" ", "")) == want
            )
            value, m_end = value[:want], m.start() + cut + 1
        else:
            m_end = m.end()
        if not iban_valid(value):
            continue
        out.append(
            Occurrence(
                value,
                seg.source,
                seg.offset + m.start(),
                seg.offset + m_end,
                seg.text[m.start() : m_end],
                2.0,
                "IBAN (mod-97 checked)",
                {"country": value[:2]},
            )
        )
    return out


_VAT = re.compile(
    r"\b(?:(?P<de>DE ?\d{9})|(?P<fr>FR ?[0-9A-HJ-NP-Z]{2} ?\d{3} ?\d{3} ?\d{3})"
    r"|(?P<nl>NL ?\d{9} ?B ?\d{2})|(?P<gb>GB ?\d{3} ?\d{4} ?\d{2}(?: ?\d{3})?)"
    r"|(?:EIN|TIN|Tax ID|Federal Tax ID)[:#\s]*(?P<us>\d{2}-\d{7}))\b",
    re.IGNORECASE,
)
_VAT_COUNTRY = {"de": "DE", "fr": "FR", "nl": "NL", "gb": "UK", "us": "US"}
_BUYER_LINE = re.compile(
    r"\b(?:customer|client|buyer|bill(?:ed)? to|your|kunden?|ihre|votre|v\.?\s?réf|klant|uw|"
    r"acheteur|empfänger|destinataire)\b",
    re.IGNORECASE,
)


def vat_ids(seg: Segment) -> list[Occurrence]:
    """VAT registration numbers (DE, FR, NL, GB formats) and US employer ids (``EIN 12-3456789``),
    normalised without spaces; ``attrs['country']`` is the issuing country (``UK`` for GB).
    An id on a line about the customer ("Your VAT ID", "Kunden-USt-IdNr.") weighs 0: it is the
    buyer's, not the supplier's."""
    out = []
    for m in _VAT.finditer(seg.text):
        kind = next(k for k in _VAT_COUNTRY if m.group(k))
        value = m.group(kind).replace(" ", "").upper()
        line = _line_of(seg.text, m.start())
        buyer = bool(_BUYER_LINE.search(line))
        start = m.start(kind)
        out.append(
            Occurrence(
                value,
                seg.source,
                seg.offset + start,
                seg.offset + m.end(kind),
                m.group(kind),
                0.0 if buyer else 2.0,
                "the customer's id" if buyer else "tax id",
                {"country": _VAT_COUNTRY[kind]},
            )
        )
    return out


_PERCENT = re.compile(r"(?<![\d.,])(?P<r>\d{1,2}(?:[.,]\d{1,3})?)\s?%")


def percents(seg: Segment) -> list[Occurrence]:
    """Percentages (a tax rate: ``19%``, ``5,5 %``, ``8.875%``) as a Decimal number of percent."""
    return [
        _occ(seg, m, Decimal(m.group("r").replace(",", ".")), 1.0, "percentage")
        for m in _PERCENT.finditer(seg.text)
    ]


_REFERENCE = (
    r"[:#.°º\s]*(?:no\.?|nr\.?|n°|number)?[:#.\s]*(?P<v>[A-Z0-9][A-Z0-9/_.-]*[A-Z0-9]|[A-Z0-9])"
)


def references(patterns: Iterable[tuple[str, float]]) -> Callable[[Segment], list[Occurrence]]:
    """A document reference after its label (an invoice number after "Invoice no.", a purchase
    order after "PO"): each ``(label, weight)`` is a regular expression (case-insensitive, ``^``
    a line start); the
    value is the token that follows it (letters, digits, ``/ - _ .``), upper-cased. Weight 0
    for a token without a digit (a word after the label is not a reference)."""
    compiled = [
        (re.compile(r"(?:" + p + r")" + _REFERENCE, re.IGNORECASE | re.MULTILINE), w, p)
        for p, w in patterns
    ]

    def finder(seg: Segment) -> list[Occurrence]:
        out = []
        for pattern, weight, text in compiled:
            for m in pattern.finditer(seg.text):
                value = m.group("v").upper()
                w = weight if re.search(r"\d", value) else 0.0
                out.append(
                    Occurrence(
                        value,
                        seg.source,
                        seg.offset + m.start("v"),
                        seg.offset + m.end("v"),
                        m.group("v"),
                        w,
                        f"after '{text}'",
                    )
                )
        return out

    return finder


def labelled(
    finder: Callable[[Segment], list[Occurrence]],
    patterns: Iterable[tuple[str, float]],
    last: bool = False,
) -> Callable[[Segment], list[Occurrence]]:
    """``finder``'s values that stand on a labelled line: each ``(label, weight)`` is a regular
    expression (case-insensitive, ``^`` is a line start); the value is the first occurrence on
    the rest of the label's line (``last``: the last one — a total line "VAT 19% on 1,000.00
    190.00" ends with its amount), weighted by the label. The invoice's net, tax and gross, its
    issue and due dates: the same kind, told apart by what they are written after."""
    compiled = [(re.compile(p, re.IGNORECASE | re.MULTILINE), w, p) for p, w in patterns]

    def find_labelled(seg: Segment) -> list[Occurrence]:
        out = []
        for pattern, weight, text in compiled:
            for m in pattern.finditer(seg.text):
                end = seg.text.find("\n", m.end())
                rest = seg.part(m.end(), end if end >= 0 else len(seg.text))
                found = finder(rest)
                if not found:
                    continue
                o = found[-1] if last else found[0]
                out.append(
                    Occurrence(
                        o.value,
                        o.source,
                        o.start,
                        o.end,
                        o.text,
                        weight,
                        f"after '{text}'",
                        o.attrs,
                    )
                )
        return out

    return find_labelled


FINDERS: dict[str, Callable[..., list[Occurrence]]] = {
    "money": money,
    "date": dates,
    "rate": rates,
    "name": names,
    "dimensions": dimensions,
    "email": _simple(_EMAIL, "e-mail address"),
    "identifier": _simple(_ORDER_ID, "order id"),
    "zip": _simple(_ZIP, "zip code"),
    "iban": ibans,
    "vat_id": vat_ids,
    "percent": percents,
    "quantity": quantities,
    "stay": stays,
    "party": party,
}
"""The span kinds a schema may name (``count`` and ``phrase`` finders take their patterns)."""


def find(kind: str, seg: Segment, **options: Any) -> list[Occurrence]:
    """Every occurrence of ``kind`` in ``seg`` (``KeyError`` names an unknown kind)."""
    if kind not in FINDERS:
        raise KeyError(f"unknown span kind '{kind}' (known: {', '.join(sorted(FINDERS))})")
    return FINDERS[kind](seg, **options)


_ONCE_PER_TEXT = frozenset({"item line", "tax, tip, fee or per-unit line"})
"""Receipt-line evidence that counts once per text however often the value repeats."""


def _score(occs: list[Occurrence]) -> float:
    """Evidence for one value: its weights summed, except that an item (or tax) line counts once
    per source text: a nightly room charge on three folio lines is one item line's evidence, not
    as much as the total line's."""
    once: dict[tuple[str, str], float] = {}
    total = 0.0
    for o in occs:
        if o.why in _ONCE_PER_TEXT:
            key = (o.source, o.why)
            once[key] = max(once.get(key, 0.0), o.weight)
        else:
            total += o.weight
    return total + sum(once.values())


def rank(occurrences: Iterable[Occurrence]) -> list[Candidate]:
    """Group occurrences by value, score = :func:`_score`, best first (ties: first seen)."""
    groups: dict[Any, list[Occurrence]] = {}
    for o in occurrences:
        key = o.value.lower() if isinstance(o.value, str) else o.value
        groups.setdefault(key, []).append(o)
    cands = []
    for order, occs in enumerate(groups.values()):
        best = max(occs, key=lambda o: o.weight)
        score = _score(occs)
        cands.append(
            (
                -score,
                order,
                Candidate(
                    value=best.value,
                    score=round(score, 3),
                    source=best.source,
                    start=best.start,
                    end=best.end,
                    text=best.text,
                    why=best.why,
                    also=[(o.source, o.start, o.end) for o in occs if o is not best],
                    attrs={
                        k: v for o in reversed(occs) for k, v in o.attrs.items() if v is not None
                    },
                ),
            )
        )
    cands.sort(key=lambda c: (c[0], c[1]))
    return [c for _, _, c in cands]
