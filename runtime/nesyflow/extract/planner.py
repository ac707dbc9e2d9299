"""The planner: read an annotated schema's fields from a text, asking the model only to choose.

For each item (a list's length comes from the text's structure, :func:`split_items`), the fields
are read in declaration order (a ``When`` names an earlier field). A field's sources are tried in
order; a span or keyword source ranks its candidates (:func:`nesyflow.extract.finders.rank`):

* one candidate, or a top candidate with at least twice the evidence of the next (and no second
  candidate with strong evidence of its own) → taken, no model call;
* a second candidate with strong evidence of its own (the employee wrote $2.50, the receipt's
  total line says $27.40) → ambiguous at once: two sources disagree, the model cannot settle it;
* otherwise the :class:`~nesyflow.extract.choosers.Chooser` picks among the top few. If it picks
  the top candidate the value is taken (the model confirmed it); if it picks another or "none of
  these", the field is **ambiguous**: the top value is kept so the claim is complete, and an
  :class:`~nesyflow.extract.provenance.Ambiguity` with the competing values is returned for the
  rules to send the step to a person. The planner never selects on a policy verdict.

Every value gets a :class:`~nesyflow.extract.provenance.Reading` (origin, span offsets, lookup
row, candidates, the model's choice).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nesyflow.extract.choosers import Chooser
from nesyflow.extract.finders import (
    APPROXIMATE,
    COPY_LINE,
    DOCUMENTS,
    FINDERS,
    PAYMENT_LINE,
    SET_ASIDE,
    WHOLE_BILL,
    Occurrence,
    counts,
    dates,
    labelled,
    lower_case_names,
    money,
    names,
    other_dollars,
    phrases,
    place_names,
    rank,
    rates,
    references,
    stays,
)
from nesyflow.extract.provenance import Ambiguity, Candidate, Reading
from nesyflow.extract.sources import (
    Default,
    Derived,
    FieldPlan,
    FromInput,
    Keywords,
    Lookup,
    Neighbours,
    Place,
    Present,
    Span,
    Written,
    field_sources,
)
from nesyflow.extract.tables import Table
from nesyflow.extract.text import Segment, blanked

__all__ = [
    "DECISIVE",
    "STRONG",
    "Extraction",
    "ItemText",
    "extract_items",
    "numbered_lines",
    "quoted_receipt",
    "read_from",
    "split_items",
    "without_signature",
]

DECISIVE = 2.0
"""The top candidate is taken without asking when its score is at least this times the next's."""
STRONG = 3.0
"""...and the next one's score is below this (two strong sources that disagree are never decisive:
the employee wrote $2.50 and the receipt's total line says $27.40)."""


@dataclass(frozen=True)
class ItemText:
    """The text one item is read from: its own part of the request and its receipt block, then
    the whole request as shared context (the trip's date, the city)."""

    request: Segment
    receipt: Segment | None
    whole_request: Segment
    others: tuple[tuple[int, int], ...] = ()
    """The lines of a request's list that are other items' own: what they name (a USB mic on the
    next line) says nothing about this item's category. Empty unless the request is a list of one
    line an item (parts cut at "and" share their context: "two runs for supplies, $45 and $40")."""

    other_parts: tuple[tuple[int, int], ...] = ()
    """The other items' parts of a request cut between its written amounts, the shared preamble
    and what follows the last amount left out (the text before the first amount's sentence,
    "Didn't keep the receipts" after the last): a count of people written beside another item's amount
    ("lunch w/ our two engineers (3 of us), $59.56") is that item's, never this one's."""

    def describes_itself(self) -> bool:
        """Does the item's own part of the request say what it is ("and the Grab back to the
        office (SGD 14.20)", before its amount), rather than only add an amount ("and $40. Didn't
        keep the receipts")? Then another item's part ("Lunch on my own...") is not its
        description to borrow."""
        found = money(self.request)
        before = self.request.text[: found[0].start - self.request.offset] if found else ""
        words = re.findall(r"[^\W\d_]{2,}", before or self.request.text)
        return len([w for w in words if w.lower() not in _FILLER]) >= 3

    def not_others(self, occurrences: list[Occurrence], *, parts: bool = False) -> list[Occurrence]:
        """``occurrences`` without those on another item's line of a list (``parts``: also those
        in another item's part of the request)."""
        spans = self.others + self.other_parts if parts else self.others
        return [
            o
            for o in occurrences
            if o.source != self.whole_request.source or not any(a <= o.start < b for a, b in spans)
        ]

    def places(self, sources: tuple[str, ...] | None = None) -> tuple[list[Segment], list[Segment]]:
        """(own segments, fallback segments), restricted to the named source fields if given."""
        own = [
            s
            for s in (self.request, self.receipt)
            if s is not None and (sources is None or s.source in sources)
        ]
        whole = self.whole_request
        rest = [whole] if (sources is None or whole.source in sources) and whole not in own else []
        return own, rest


class Extraction(BaseModel):
    """What the planner read: one dict of values per item, how, and what is ambiguous."""

    model_config = ConfigDict(frozen=True)

    items: list[dict[str, Any]]
    readings: list[Reading] = Field(default_factory=list)
    ambiguities: list[Ambiguity] = Field(default_factory=list)
    model_calls: int = 0


# ------------------------------------------------------------------------------ structure
_ITEM_WORDS = re.compile(
    r"\b(?P<n>two|three|four|both|2|3|4)\s+(?:\w+\s+)?(?:rides|runs|things|items|expenses|trips|"
    r"purchases|taxis|receipts|meals|slips)\b",
    re.IGNORECASE,
)
_SECOND_ITEM = re.compile(
    r"\b(?:a|the|one) second (?:charge|ride|taxi|meal|item|purchase|payment|transaction)\b",
    re.IGNORECASE,
)
_FILLER = frozenset(
    [
        "and",
        "plus",
        "the",
        "a",
        "an",
        "for",
        "of",
        "on",
        "to",
        "at",
        "in",
        "both",
        "each",
        "with",
        "also",
        "then",
    ]
)
_JOINS = re.compile(
    # "and" in Italian, Portuguese, Spanish, German, French and Swedish only between spaces
    r"\)?\s*(?:,\s*)?\b(?:and|plus)\b|;|\s\+\s|\s(?:e|y|und|et|och)\s",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_SENTENCE_START = re.compile(
    r"[.!?]\s+(?=(?:also|then|additionally|separately|next)\b)", re.IGNORECASE
)
"""A sentence that opens on "Also", "Then"…: the next item ("receipt below. Also the cab back")."""


_SEPARATOR = re.compile(
    r"^[ \t]{0,2}(?:-{2,}|={3,}|_{3,}|\*{3,}|~{3,}|#{3,}|([-=*~#])\1+[ \t]*\w[\w ]{0,20}\1{2,})"
    r"[ \t]*$",
    re.MULTILINE,
)
"""A rule between two receipts, at the margin (an indented one underlines a column)."""
_TOTAL_LINE = re.compile(
    r"\btotal\b|\bbalance due\b|\bamount\b|\bgesamt\b|\btotale\b|\bimporte\b|"
    r"\bmontant\b|\bbetrag\b|合計|"
    # a card terminal's charge line: SALE, VENDITA, PAGAMENTO POS; Summe, Yhteensä, Razem, Jumla
    r"\bsale\b|\bvendita\b|\bventa\b|\bpagamento\b|\bimporto\b|\bsumme\b|\byhteensä\b|"
    r"\brazem\b|\bjumla\b|"
    # Dutch, Turkish, Vietnamese, Polish, Indonesian, Greek
    r"\btotaal\b|\btoplam\b|\btổng cộng\b|\bdo zapłaty\b|\bsuma\b|\bjumlah\b|σύνολο|"
    r"\bto pay\b|(?m:^\s*(?:balance|sum)\b)",
    re.IGNORECASE,
)
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")
_SECTION_TOTAL = re.compile(
    r"^[ \t]*(?:food|beverages?|bar|liquor|drinks?|wines?|kitchen|rooms?|items?|merchandise|"
    r"goods|services?|section|category)[ \t]*(?:sub)?-?[ \t]*total\b",
    re.IGNORECASE | re.MULTILINE,
)
"""A section's total inside one bill ("Food Total" before the drinks): not the bill's end."""


def _is_receipt(seg: Segment) -> bool:
    """A receipt of its own: a few lines, one of them a total line, and an amount (a slip's
    blank "TIP: ____ / TOTAL: ____" under the receipt it belongs to charges nothing)."""
    return (
        bool(_TOTAL_LINE.search(seg.text))
        and len(seg.text.strip().splitlines()) >= 3
        and bool(money(seg))
    )


_QUOTED_RUN = re.compile(r"(?:^[ \t]*>[^\n]*(?:\n|\Z))+", re.MULTILINE)
_QUOTE_MARK = re.compile(r"^[ \t]*>[> \t]?", re.MULTILINE)


def quoted_receipt(request: str) -> tuple[str, str] | None:
    """A receipt quoted in the request's own mail ("> Ember & Oak Steakhouse / > … / > Total
    318.72") when nothing was pasted as the receipt: ``(request, receipt)``, both as long as
    ``request`` — the request with the quoted receipt blanked out, and a view holding only it
    (quote marks blanked), so the quoted lines are read as a document and every offset read
    from the view is an offset into the request (:func:`read_from`). None: no quoted run of
    lines is a receipt (a quoted earlier message is the request's words)."""
    for run in _QUOTED_RUN.finditer(request):
        unquoted = _QUOTE_MARK.sub(lambda m: blanked(m.group(0)), run.group(0))
        if not _is_receipt(Segment("receipt", unquoted)):
            continue
        start, end = run.span()
        blank = blanked(request)
        view = blank[:start] + unquoted + blank[end:]
        return request[:start] + blank[start:end] + request[end:], view
    return None


def read_from(readings: list[Reading], view: str, source: str) -> list[Reading]:
    """``readings`` with what was read from the ``view`` source named as read from ``source``
    (whose offsets the view keeps: :func:`quoted_receipt`)."""

    def moved(x: Any) -> Any:
        return x.model_copy(update={"source": source}) if x.source == view else x

    return [
        moved(r).model_copy(update={"candidates": [moved(c) for c in r.candidates]})
        for r in readings
    ]


_DISCLAIMER = re.compile(
    r"^[ \t]*(?:confidentiality notice|disclaimer|this (?:e-?mail|message)(?: and any attachments)?"
    r" (?:is|are|may) (?:intended|confidential)|the information (?:contained )?in this "
    r"(?:e-?mail|message)|sent from (?:my \w+|outlook for \w+))\b[^\n]*(?:\n[ \t]*\S[^\n]*)*",
    re.IGNORECASE | re.MULTILINE,
)
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:thanks|thank you|many thanks|cheers|regards|best(?: regards| wishes)?|"
    r"kind regards|warm regards|merci|mvh|hilsen|gruß|grüße|groetjes|saludos|cordialement|"
    r"atentamente|obrigad[oa]|grazie|pozdrawiam|ta)\b[^\n]{0,20}\n(?:[ \t]*\n)?"
    r"(?P<name>[ \t]*[^\W\d_][^\n]{0,60})\n(?P<sig>(?:[ \t]*\S[^\n]*(?:\n|$))+)",
    re.IGNORECASE | re.MULTILINE,
)


def without_signature(text: str) -> str:
    """``text`` with an e-mail's signature block and legal footer blanked out, **same length**:
    the lines under the sign-off and the sender's name (a job title, the company, phones, an
    address) and a confidentiality notice name the sender's job, not the expense ("Retail
    Education Specialist" is no training course, "150 Fifth Avenue, New York" no city the lunch
    was eaten in). A block holding an amount is the request's own and stays."""
    out = _DISCLAIMER.sub(lambda m: blanked(m.group(0)), text)
    for m in _SIGN_OFF.finditer(out):
        sig = m.group("sig")
        if not money(Segment("request", sig)):
            out = out[: m.start("sig")] + blanked(sig) + out[m.end("sig") :]
    return out


def _continues(block: Segment) -> bool:
    """A block after a rule that goes on with the receipt above it rather than starting one: its
    first line is an amount or a total ("---- / TOTAL $67.94" under a pump's fuel lines), where a
    receipt of its own starts with its issuer's header."""
    first = block.text.strip().split("\n", 1)[0]
    return bool(money(Segment("receipt", first)) or _TOTAL_LINE.search(first))


def _totals_of(found: list[Occurrence]) -> set[Decimal]:
    """Every amount printed on a total line, the earlier ones of several included."""
    return {o.value for o in found if "total" in o.why}


def _same_charge(before: Segment, block: Segment, between: str = "") -> bool:
    """A block that is the signed card slip of the receipt above it: marked as a copy ("---
    MERCHANT COPY ---") or with a tip written on it (a total above the receipt's), the same
    issuer, and the receipt's total among its amounts — one charge, one item. Two tickets of one
    garage, each with its own total, stay two receipts."""
    totals = [o.value for o in money(before) if o.why == "total line"]
    if not totals:
        return False
    slip = money(block)
    slip_totals = [o.value for o in slip if o.why == "total line"]
    marked = any(
        COPY_LINE.match(line) for line in [*between.splitlines(), *block.text.splitlines()]
    )
    tipped = bool(slip_totals) and slip_totals[-1] > totals[-1]
    if not (marked or tipped) or not any(o.value == totals[-1] for o in slip):
        return False
    head = [o.value.lower() for o in names(before)]
    return any(
        o.value.lower() in head or any(h in o.value.lower() for h in head) for o in names(block)
    )


_SECTION_HEAD = re.compile(
    r"\s*(?:(?:new|current|previous|recurring|one-time|other|monthly|your) charges|"
    r"account summary|charges|summary of charges|(?:charge|bill|billing) details|itemi[sz]ation|"
    r"breakdown)\s*:?\s*$",
    re.IGNORECASE,
)
"""A bill's section label ("New charges") after a blank line: the same bill goes on, no issuer
heads another receipt there."""


def _its_detail(summary: Segment, block: Segment) -> bool:
    """A bill's summary (a header and its total, no lines: "Total amount due by 07/16: $112.47")
    and, after a rule, the lines it sums to the same total ("Total current charges $112.47"):
    one bill. Two receipts of one fare each list what they charge, so they stay two."""
    amounts = [o for o in money(summary) if o.weight > 0]
    if not amounts or any("total" not in o.why for o in amounts):
        return False
    return any(o.value == amounts[-1].value for o in money(block) if "total" in o.why)


def _priced(seg: Segment) -> bool:
    """A block set off by rules that reads as a receipt without a total word ("Prijs EUR 52,60",
    "PAID $15.00"): a few lines, a header and an amount."""
    return len(seg.text.strip().splitlines()) >= 3 and bool(money(seg))


def _ruled_blocks(seg: Segment) -> list[Segment]:
    """``seg`` cut at every rule at the margin that starts a new receipt (a rule above a
    receipt's total or its item lines underlines, it does not separate: :func:`_continues`)."""
    cuts = [0]
    for m in _SEPARATOR.finditer(seg.text):
        cuts += [m.start(), m.end()]
    cuts.append(len(seg.text))
    spans = [(x, y) for x, y in zip(cuts[::2], cuts[1::2], strict=True) if seg.part(x, y)]
    merged: list[tuple[int, int]] = []
    for x, y in spans:
        if merged and (
            _continues(seg.part(x, y))
            or _same_charge(seg.part(*merged[-1]), seg.part(x, y), seg.text[merged[-1][1] : x])
        ):
            merged[-1] = (merged[-1][0], y)
        else:
            merged.append((x, y))
    joined: list[tuple[int, int]] = []  # a bill's summary and its lines, once both are whole
    for x, y in merged:
        if joined and _its_detail(seg.part(*joined[-1]), seg.part(x, y)):
            joined[-1] = (joined[-1][0], y)
        else:
            joined.append((x, y))
    return [seg.part(x, y) for x, y in joined]


def _gaps(text: str) -> list[tuple[int, int]]:
    """Where one pasted receipt may end and the next begin: a blank line, or the end of a card
    or payment line (receipts pasted one after another with nothing between: "Total 15.57 /
    VISA 4410 / STAPLES ...")."""
    blank = [(m.start(), m.end()) for m in _BLANK_LINES.finditer(text)]
    paid = [
        (m.end(1), m.end())
        for m in re.finditer(r"^([^\n]*)\n(?=[ \t]*\S)", text, re.MULTILINE)
        if PAYMENT_LINE.match(m.group(1))
    ]
    ends = sorted([a for a, _ in blank + paid] + [len(text)])
    # a payment line ends a receipt only where a whole receipt follows it, up to the next gap
    # (not "CASH $10.00 CHANGE $3.25" above the same slip's "Receipt 00771294")
    paid = [
        (a, b)
        for a, b in paid
        if _is_receipt(Segment("receipt", text[b : next(e for e in ends if e > a)]))
    ]
    return sorted(blank + paid)


def receipts(receipt: str, *, loose: bool = False) -> list[Segment]:
    """The receipts a text of pasted receipts holds, in order: the blocks between rules (dashes,
    equals, stars, tildes) when each is a receipt of its own, and within a block, a part after a
    blank line that starts a new receipt (the part before ends with its total line, the part
    after has a header and its own total). One receipt when nothing sets one off: a rule or a
    blank line inside a receipt sets off lines, not receipts. ``loose``: a part with a header and
    an amount is a receipt without a total word ("Toll $6.75", "Tarifa $118.00 MXN") — only when
    the request lists more items than the strict reading finds receipts for."""
    seg = Segment("receipt", receipt)
    if not seg:
        return []
    blocks = _ruled_blocks(seg)
    if len(blocks) > 1 and not all(_is_receipt(b) or _priced(b) for b in blocks):
        blocks = [seg]
    out: list[Segment] = []
    for block in blocks:
        start = 0
        for gap_start, gap_end in _gaps(block.text):
            if gap_start < start:
                continue
            before, after = block.part(start, gap_start), block.part(gap_end, len(block.text))
            # the next receipt's first line is its header: a rule above it is none of its own
            # ("Credit: unused time -$95.18" / "-----" / "Subtotal $163.86" goes on with one)
            first = next(
                (ln for ln in after.text.strip().splitlines() if not _SEPARATOR.fullmatch(ln)), ""
            )
            lines = before.text.strip().splitlines()
            tail = "\n".join(lines[-3:])  # the total, then payment
            # or the total first, then its parts, and the card it was paid with (a ride's)
            paid = bool(lines) and bool(PAYMENT_LINE.match(lines[-1]))
            if (
                (
                    _priced(before) and _priced(after)
                    if loose
                    else _is_receipt(before)
                    and (_TOTAL_LINE.search(tail) or paid)
                    and not _SECTION_TOTAL.search(tail)
                    and _is_receipt(after)
                )
                and not money(Segment("receipt", first))
                and not _TOTAL_LINE.search(first)
                and not _same_charge(before, after)
                and not _SECTION_HEAD.match(first)  # "New charges": the bill goes on
            ):
                out.append(before)
                start = gap_end
        out.append(block.part(start, len(block.text)))
    return _without_payment_screens([b for b in out if b])


_PAYMENT_SCREEN = re.compile(
    r"\b(?:payment (?:successful|confirmed|complete[d]?|received)|transaction (?:successful|"
    r"complete[d]?)|paid to|you paid|sent to)\b",
    re.IGNORECASE,
)


def _without_payment_screens(found: list[Segment]) -> list[Segment]:
    """A wallet's or a bank app's payment screen ("✔ Payment Successful ₹4,720 Paid to
    Skillbridge Learning") pasted beside the invoice of the same amount: proof the invoice was
    paid, not a second charge — the invoice is the item's receipt."""
    screens = [b for b in found if _PAYMENT_SCREEN.search(b.text)]
    if len(found) < 2 or not screens:
        return found
    invoiced = {
        o.value for b in found if b not in screens for o in money(b) if o.why == "total line"
    }
    proofs = []
    for block in screens:
        paid = [o for o in money(block) if o.weight > 0]
        if paid and rank(paid)[0].value in invoiced:
            proofs.append(block)
    return [b for b in found if b not in proofs]


def _amount_end(line: str) -> int:
    """Where a total line's last amount ends (its whole length when it has none)."""
    found = list(re.finditer(r"\d[\d,.]*[.,]\d{2}", line))
    return found[-1].end() if found else len(line)


def _set_aside(request: Segment) -> set[Decimal]:
    """The amounts the employee writes only to set them aside ("my own groceries (R469,43), not
    claiming", "not 17.80")."""
    return {o.value for o in money(request) if o.why == SET_ASIDE}


def _not_claimed_receipt(block: Segment, aside: set[Decimal]) -> bool:
    """A pasted receipt whose paid total the employee sets aside: no item's, and no doubt."""
    found = [o for o in money(block) if o.weight > 0]
    return bool(aside) and bool(found) and rank(found)[0].value in aside


def _receipt_blocks(
    receipt: str, want: int, aside: set[Decimal] = frozenset(), *, loose: bool = False
) -> list[Segment]:
    seg = Segment("receipt", receipt)
    if not seg:
        return []
    if want == 1:  # one item: the whole text is its receipt, less a receipt set aside
        kept = [b for b in receipts(receipt) if not _not_claimed_receipt(b, aside)]
        return kept if len(kept) == 1 else [seg]
    blocks = _ruled_blocks(seg)  # the request names several items: every rule sets one off
    if len(blocks) == 1:
        blocks = receipts(receipt, loose=loose)
    if len(blocks) == 1:
        ends = [  # after the total's amount: "Total 16.26SANTARPIO'S" runs into the next one
            m.start() + _amount_end(m.group(0))
            # a total line has its amount: a column header "Qty Description Price Total" has none
            for m in re.finditer(
                r"^.*\btotal\b.*\d[.,]\d{2}.*$", receipt, re.IGNORECASE | re.MULTILINE
            )
        ]
        if len(ends) == want:
            cut, start = [], 0
            for end in ends:
                cut.append(seg.part(start, end))
                start = end
            # a part that starts with an amount or a total goes on with the one above it (a
            # handwritten "TIP 1.54 / TOTAL 17.35" under the printed total), never a receipt
            if not any(_continues(b) for b in cut[1:]):
                blocks = cut
    return blocks


def _without_conversions(amounts: list[Occurrence], rates: list[Any]) -> list[Occurrence]:
    """Drop an amount that is another amount of the request converted at a rate the request
    writes ("EUR 53.50 ... converted it at 1.0850, so $58.05"): one expense written twice, not two
    items. Only an exact product (to the cent) counts."""
    if not rates:
        return amounts
    converted = {
        id(b)
        for a in amounts
        for b in amounts
        if a is not b
        and a.attrs.get("currency") != b.attrs.get("currency")
        and any(abs(a.value * r - b.value) <= Decimal("0.01") for r in rates)
    }
    return [o for o in amounts if id(o) not in converted]


_LIST_LINE = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+.*$", re.MULTILINE)
_ROW = re.compile(r"^.*$", re.MULTILINE)


def _cells(line: str) -> int:
    """How many cells a line of a table has: a Markdown one (``| a | b | c |``), a tab-, semicolon-
    or comma-separated one, or one whose columns are aligned with spaces (two or more between cells,
    four cells or more: a report pasted out of a PDF); 0: not such a line."""
    return len(_cell_spans(line))


_ALIGNED_CELL = re.compile(r"\S+(?: \S+)*")
"""A cell of a space-aligned table: words one space apart (two or more end the cell)."""


def _cell_spans(line: str) -> list[tuple[int, int]]:
    """Where each cell of a table line starts and ends in ``line`` (none: not a table line)."""
    inner = line.strip()
    if inner.startswith("|") and inner.count("|") >= 3:  # Markdown: the outer bars are no cells
        first = line.index("|") + 1
        last = line.rindex("|") if inner.endswith("|") else len(line)
        sep, line, shift = "|", line[first:last], first
    elif line.count("\t") >= 2 or line.count(";") >= 3 or line.count(",") >= 3:
        # a European export separates with semicolons: its commas are decimal commas
        sep = "\t" if line.count("\t") >= 2 else ";" if line.count(";") >= 3 else ","
        shift = 0
    else:
        spans = [m.span() for m in _ALIGNED_CELL.finditer(line)]
        return spans if len(spans) >= 4 else []
    out, at = [], 0
    for cell in line.split(sep):
        out.append((shift + at, shift + at + len(cell)))
        at += len(cell) + 1
    return out


def _filled(line: str) -> int:
    """How many of a table line's cells hold something (a dash is nothing)."""
    return sum(bool(line[a:b].strip(" -–")) for a, b in _cell_spans(line))


def _item_lines(text: str) -> list[tuple[int, int]]:
    """The lines that are one item each: a list's lines (``- …``, ``1) …``), else the rows of a
    table pasted from a sheet (tab- or comma-separated, every row as many cells as its header,
    the header holding no digit): "date,vendor,what,amount,receipt" and the rows under it."""
    listed = [(m.start(), m.end()) for m in _LIST_LINE.finditer(text)]
    if listed:
        return listed
    rows = [m for m in _ROW.finditer(text) if _cells(m.group(0))]
    for head in rows:
        # a row of column sums under the items ("\t\t\t392\t\t\t322.81") is no item: most of
        # its cells are empty
        body = [
            (m.start(), m.end())
            for m in rows
            if m.start() > head.start()
            and _cells(m.group(0)) == _cells(head.group(0))
            and re.search(r"\d", m.group(0))
            and 2 * _filled(m.group(0)) > _cells(m.group(0))
        ]
        if not re.search(r"\d", head.group(0)) and len(body) >= 2:
            return body
    return []


def _column_cells(column: str, own: Segment, whole: Segment) -> list[Segment]:
    """The cell of ``own`` (an item's part of the request) under the sheet header ``column``
    names: ``own`` holds one row of a table :func:`_item_lines` finds, whose header line is the
    nearest line above with as many cells."""
    rows = _item_lines(whole.text)
    mine = [(a, b) for a, b in rows if own.offset <= a < own.offset + len(own.text)]
    if len(mine) != 1 or _LIST_LINE.match(whole.text, mine[0][0]):
        return []
    start, end = mine[0]
    line = whole.text[start:end]
    header = next(
        (
            m.group(0)
            for m in reversed(list(_ROW.finditer(whole.text, 0, start)))
            if _cells(m.group(0)) == _cells(line)
            and not re.search(r"\d", m.group(0))
            and re.search(r"[^\W\d_]", m.group(0))  # not a Markdown rule: |---|---|
        ),
        None,
    )
    if header is None:
        return []
    names = [header[a:b].strip() for a, b in _cell_spans(header)]
    index = next((i for i, h in enumerate(names) if re.fullmatch(column, h, re.IGNORECASE)), None)
    cells = _cell_spans(line)
    if index is None or index >= len(cells):
        return []
    a, b = cells[index]
    return [whole.part(start + a, start + b)]


def _sheet_column(source: Span, text: ItemText) -> list[Occurrence]:
    """``source``'s value in the item's cell under its sheet column: a bare number is a count."""
    assert source.column is not None
    out = []
    for cell in _column_cells(source.column, text.request, text.whole_request):
        word = cell.text.strip()
        at = cell.offset + cell.text.index(word) if word else cell.offset
        why = f"the sheet's {source.column} column"
        if source.kind == "count" and re.fullmatch(r"\d{1,6}", word):
            out.append(Occurrence(int(word), cell.source, at, at + len(word), word, 3.0, why))
        elif source.kind == "name" and re.search(r"[^\W\d_]", word):  # the cell is the name
            out.append(Occurrence(word, cell.source, at, at + len(word), word, 3.0, why))
        elif source.kind == "rate" and re.fullmatch(r"\d[.,]\d{2,6}", word):  # "1,0380"
            rate = Decimal(word.replace(",", "."))
            out.append(Occurrence(rate, cell.source, at, at + len(word), word, 3.0, why))
        elif source.kind != "count":
            out += FINDERS[source.kind](cell)
    return out


def _listed_amounts(whole: Segment) -> list[Occurrence]:
    """The amount of each line of a list (``- drove ... $12.06``: its first) or of each row of a
    sheet (its last: a total column is right of the subtotal and tax), when every line has one: a
    list is one item per line, even where two lines cost the same."""
    firsts = []
    for start, end in _item_lines(whole.text):
        found = money(whole.part(start, end))
        if not found:
            return []
        firsts.append(found[0] if _LIST_LINE.match(whole.text, start) else found[-1])
    return firsts


def _sheet_rows(whole: Segment) -> bool:
    """Are the request's item lines the rows of a sheet (not a list's lines)?"""
    lines = _item_lines(whole.text)
    return len(lines) >= 2 and not _LIST_LINE.match(whole.text, lines[0][0])


def _part_of(parts: list[Segment], o: Occurrence) -> int | None:
    """The index of the part of the request that holds ``o``."""
    return next(
        (i for i, p in enumerate(parts) if p.offset <= o.start < p.offset + len(p.text)), None
    )


def _sums_receipts(written: Occurrence, found: list[Segment]) -> bool:
    """Is ``written`` the sum of every receipt's total (one amount of each, two to four
    receipts, to the cent), none of which shows it?"""
    if not 2 <= len(found) <= 4:
        return False
    amounts = [money(b) for b in found]
    if any(x.value == written.value for xs in amounts for x in xs):
        return False
    choices = [sorted({x.value for x in xs if x.weight >= 3.0}) or [] for xs in amounts]
    return all(choices) and any(sum(pick) == written.value for pick in itertools.product(*choices))


_ALL_IN = re.compile(r"\s*(?:in )?(?:total|all in|altogether|overall|for everything)\b", re.I)
_ON_TOP = re.compile(
    r"\s*(?:\w+\s+){0,2}(?:tip|gratuity|tolls?|surcharge|service charge|fee|on top)\b", re.I
)
"""After an amount: what is added to a charge ("a $10.00 cash tip on top", "$25 cash on top"), no
charge of its own."""
_ADDED_BEFORE = re.compile(r"\b(?:tip(?:ped)?|gratuity|added)\b(?:[^.;\n]|\.\d){0,50}$", re.I)
"""Before an amount, the same: "I added 18% on the pre-tax $333.00 ($59.94)"."""
_SUM_BEFORE = re.compile(
    r"(?:=|\bso|\btotal(?: of| to claim| claimed| requested| sum| paid| was| came to)*|"
    r"\b(?:comes|came) to|\bthat'?s|\bmaking|\bfor a total of)\s*:?\s*$",
    re.IGNORECASE,
)
"""Before an amount: words that say it is the sum of those before ("= $35.40", "so $62.00",
"total to claim: $2,475.80")."""


_LIST_ELEMENT = r"[^,.;:\n]{2,60}?"


def _serial_list(request: str, count: int) -> list[int]:
    """Where a sentence's serial list of ``count`` things starts each of its second to last
    ("Receipts below in this order: flight (booked 5/28), Hampton Inn 3 nights, Hertz car, and
    one dinner"): each receipt's item reads its own words, not the first thing listed — the
    dinner's receipt was read as a flight."""
    if not 3 <= count <= 8:
        return []
    middle = "".join(rf"(?P<s{i}>,\s+){_LIST_ELEMENT}" for i in range(count - 2))
    pattern = rf"{_LIST_ELEMENT}{middle}(?P<last>,?\s+and\s+){_LIST_ELEMENT}(?=[.;:\n-]|$)"
    m = re.search(pattern, request, re.IGNORECASE)
    if m is None:
        return []
    return [m.start(f"s{i}") for i in range(count - 2)] + [m.start("last")]


def _without_their_sum(distinct: list[Occurrence], request: str) -> list[Occurrence]:
    """The written amounts without the one that is the others' sum and is said to be ("Uber
    there $20.00 plus Uber back $15.40 = $35.40 total": two rides, not three — read as the second
    ride's amount, the sum paid $55.40 for $35.40 of rides). When all but one of the others were added to that one charge (a tip, a
    toll, a fee: "meter $52.00; a $10.00 cash tip on top, so $62.00 all in") the sum is the one
    charge. A sum nobody calls one is left alone."""
    if len(distinct) < 3:
        return distinct
    sums = [o for o in distinct if o.value == sum(x.value for x in distinct if x is not o)]
    if len(sums) != 1:
        return distinct
    total = sums[0]
    if not (
        _ALL_IN.match(request, total.end)
        or _SUM_BEFORE.search(request, max(0, total.start - 16), total.start)
    ):
        return distinct
    others = [o for o in distinct if o is not total]
    added = [
        o
        for o in others
        if _ON_TOP.match(request, o.end) or _ADDED_BEFORE.search(request, 0, o.start)
    ]
    return [total] if len(added) == len(others) - 1 else others


def _tip_added_to_one(distinct: list[Occurrence], request: str) -> list[Occurrence]:
    """Three written amounts in a row, the second a tip added to the first and the third their
    sum said to be paid ("The meter displayed $19.30, to which I added a gratuity of $3.50, such
    that the total sum paid was $22.80"): one charge at the sum — the fare and the tip are no
    items of their own, whatever other items the request names."""
    out = list(distinct)
    for fare, tip, total in zip(distinct, distinct[1:], distinct[2:], strict=False):
        if (
            fare.value + tip.value == total.value
            and _ADDED_BEFORE.search(request, fare.end, tip.start)
            and _SUM_BEFORE.search(request, max(tip.end, total.start - 40), total.start)
        ):
            out = [o for o in out if o is not fare and o is not tip]
    return out


_SUBTOTAL_LABEL = re.compile(
    r"\b(?:sub-?total|(?:report|grand|day|daily|trip|page) total|total(?: for| of)? (?:the )?(?:day|"
    r"report|trip|claim)|total)\b[^\n$€£\d]*(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?[^\n$€£\d]*)?$",
    re.IGNORECASE,
)
"""Before an amount on its line: a (sub)total's label ("Subtotal 10/14/2025", "REPORT TOTAL")."""


def _without_subtotals(distinct: list[Occurrence], request: str) -> list[Occurrence]:
    """The written amounts without a report's subtotals and total: an amount labelled a
    (sub)total on its line that is the sum of the amounts since the last subtotal, or of all so
    far ("Subtotal 10/14/2025  53.00", "REPORT TOTAL  79.60" under five expense rows) is no item
    of its own. A total the amounts above do not add up to stays (it may be the only charge)."""
    kept: list[Occurrence] = []
    group: list[Occurrence] = []
    for o in sorted(distinct, key=lambda x: x.start):
        line_start = request.rfind("\n", 0, o.start) + 1
        labelled = _SUBTOTAL_LABEL.search(request, line_start, o.start) is not None
        sums = {sum(x.value for x in kept), *([sum(x.value for x in group)] if group else [])}
        if labelled and len(kept) >= 2 and o.value in sums:
            group = []
            continue
        kept.append(o)
        group.append(o)
    return kept if len(kept) < len(distinct) else distinct


def _without_the_whole_bill(occs: list[Occurrence]) -> list[Occurrence]:
    """ "I put the whole $57.90 on my card" (of which the employee claims a part): nor is the
    receipt's total of that bill the amount."""
    whole_bill = {o.value for o in occs if o.why == WHOLE_BILL}
    if not whole_bill:
        return occs
    return [replace(o, weight=0.0, why=WHOLE_BILL) if o.value in whole_bill else o for o in occs]


PART_OF_SUM = "a part of the one charge whose sum the employee writes ('so $62.00 all in')"


def _parts_of_their_sum(occs: list[Occurrence], text: ItemText) -> list[Occurrence]:
    """An item whose request adds a tip, a toll or a fee to one charge and writes their sum as
    the whole ("$38.43 on the card plus a $6 cash tip, so $44.43 all in"): the sum is its amount
    (the pack's conventions), so its parts, written beside it or printed as the receipt's total
    (the meter's $52.00 before the tip on top), weigh little."""
    source = text.request.source
    mine: list[Occurrence] = []
    for o in occs:
        if o.source == source and o.weight > 0 and all(o.value != x.value for x in mine):
            mine.append(o)
    kept = _without_their_sum(mine, text.whole_request.text)
    if len(mine) < 3 or len(kept) != 1:
        return occs
    total = kept[0].value
    parts = {o.value for o in mine} - {total}
    return [
        replace(o, weight=min(o.weight, 0.5), why=PART_OF_SUM)
        if o.weight > 0 and (o.value in parts or (o.source == source and o.value != total))
        else o
        for o in occs
    ]


def _estimate_of_the_others(o: Occurrence, amounts: list[Occurrence], request: str) -> bool:
    """An approximate amount beside exact ones that restates them: in another currency ("¥48,600
    ... ¥14,720 ... about $429.29") or as their total ("about $60 all in"). "Taxi about $20 and
    lunch $15.40" keeps both: an estimate of its own item."""
    exact = [x for x in amounts if x.why != APPROXIMATE]
    if o.why != APPROXIMATE or not exact:
        return False
    currency = o.attrs.get("currency")
    return all(x.attrs.get("currency") != currency for x in exact) or bool(
        _ALL_IN.match(request, o.end)
    )


def split_items(request: str, receipt: str) -> list[ItemText]:
    """The items a request claims, from its structure: as many as the distinct amounts the
    employee wrote (or "two rides", or the lines of a list), at least one; when it writes none,
    one per receipt (:func:`receipts`). A receipt that lacks the amount written is never another
    item: an employee's "$45" beside a receipt's 45.20 is one expense the reading is unsure of
    (the one receipt stays with it and the two amounts make it ambiguous), not two to pay. The
    request is cut where a list's next line starts, else at the last "and" / "plus" / "+" / ";"
    between consecutive amounts (or, for items counted from receipts, at its joins when there is
    one fewer than items); each receipt goes to the item whose amount it contains, the rest in
    order to items that wrote none."""
    whole = Segment("request", request)
    amounts = [o for o in money(whole) if o.weight > 0]  # not an amount set aside ("not 45")
    amounts = [o for o in amounts if not _estimate_of_the_others(o, amounts, request)]
    distinct: list[Occurrence] = []
    for o in amounts:
        if all(o.value != d.value for d in distinct):
            distinct.append(o)
    distinct = _without_conversions(distinct, [r.value for r in rates(whole)])
    subtotals = [o for o in distinct if o not in _without_subtotals(distinct, request)]
    distinct = [o for o in distinct if o not in subtotals]
    distinct = _tip_added_to_one(distinct, request)
    kept = _without_their_sum(distinct, request)
    # the sum said to be the items' total, when they are still its items: no part of any of them
    their_sum = next((o for o in distinct if o not in kept), None) if len(kept) > 1 else None
    distinct = kept
    listed = _listed_amounts(whole)
    # A list's lines are its items: two drives of $12.06 are two; a sheet's rows are its items
    # whatever else is written (subtotal and tax columns, a row of column sums, the rate under
    # it); and the items are in the list's order though an amount was written before it ("I
    # typed the hotel as $543.18, it's $534.18 ... 1) Alaska ... $642.30 2) The hotel $534.18").
    if len(listed) >= 2 and (
        len(listed) > len(distinct)
        or _sheet_rows(whole)
        or {o.value for o in listed} == {o.value for o in distinct}
    ):
        distinct = listed
    words = [
        int(m.group("n"))
        if m.group("n").isdigit()
        else {"two": 2, "both": 2, "three": 3, "four": 4}[m.group("n").lower()]
        for m in _ITEM_WORDS.finditer(request)
    ]
    # "also a second charge on 3/25, same amount": one more item, though no new amount is written
    words += [2 for _ in _SECOND_ITEM.finditer(request)]
    aside = _set_aside(whole)
    found = [b for b in receipts(receipt) if not _not_claimed_receipt(b, aside)]
    loose = False
    item_lines = _item_lines(request)
    if len(item_lines) > len(found) >= 1:
        # a list of more items than receipts with a total word: a toll's or a fare's slip
        # prints its one amount without one ("Toll $6.75"); a receipt of each line, if so many
        wider = [b for b in receipts(receipt, loose=True) if not _not_claimed_receipt(b, aside)]
        if len(wider) == len(item_lines):
            found, loose = wider, True
    if len(found) == 1 and len(distinct) > 1:
        # "paid $20 of it with a gift card, so my visa shows 39.74, the whole thing was 59.74":
        # every amount written is on the one receipt and one is its total: parts of one charge
        on_receipt = money(found[0])
        totals = {o.value for o in on_receipt if o.why == "total line"}
        # the parts are printed as lines of it (a tender, a tip), never as a total of their own
        # (two receipts run together: "Total 16.26SANTARPIO'S" is another charge's total)
        parts = {o.value for o in on_receipt if "total" not in o.why}
        whole_amounts = [o for o in distinct if o.value in totals]
        if len(whole_amounts) == 1 and all(
            o in whole_amounts or (o.value in parts and o.value not in _totals_of(on_receipt))
            for o in distinct
        ):
            distinct = whole_amounts
        # "the printed total is 78.23 but my card was charged C$96.35 with the tip": two
        # amounts written, the receipt's printed total and, under it, that total plus a line
        # printed between them (a handwritten tip): one charge, the later total's
        final = [o for o in on_receipt if o.why == "total line"]
        if len(distinct) == 2 and final:
            last = final[-1]
            earlier = [o for o in on_receipt if "total" in o.why and o.end <= last.start]
            between = {
                o.value for o in on_receipt if earlier and earlier[-1].end <= o.start < last.start
            }
            if (
                earlier
                and {o.value for o in distinct} == {earlier[-1].value, last.value}
                and last.value - earlier[-1].value in between
            ):
                distinct = [o for o in distinct if o.value == last.value]
        # "prepaid € 1.060,00 and the city tax (€ 90,10) at the desk, so the full stay was
        # € 1.150,10": one amount written is the sum of the others, all on the one receipt
        sums = [o for o in distinct if o.value == sum(x.value for x in distinct if x is not o)]
        printed = {o.value for o in on_receipt}
        if len(sums) == 1 and sums[0].value in totals and all(o.value in printed for o in distinct):
            distinct = sums
    count = max([len(distinct), *words, 1])
    if len(distinct) == 1 and _sums_receipts(distinct[0], found):
        # "Lyft there and back, $58.40 both together" beside the two rides' receipts: the items
        # are the receipts, each read from its own (the sum is no item's amount)
        empty = whole.part(distinct[0].end, distinct[0].end)
        return [ItemText(empty, b, whole) for b in found]
    if not distinct and not words:  # "hotel and one dinner, receipts below": one per receipt
        # (one receipt pasted twice, every line the same, is one receipt)
        count = len({" ".join(b.text.split()) for b in found}) or 1
    if len(item_lines) == len(found) >= 2 and count < len(found):
        count = len(found)  # "1) the course 2) the train", a receipt for each line
    elif distinct and not words and len(found) > count:
        # "$495 for the registration and the garage on day 1": every written amount is on a
        # receipt of its own and the request joins on more items than it wrote amounts for
        # (or before it: "two nights at the Stanley (folio below) and the transfer, $25"; or the
        # lines of a list, only some with an amount)
        claimed = [b for b in found if any(o.value == x.value for o in distinct for x in money(b))]
        joins = len(list(_JOINS.finditer(request))) + max(0, len(item_lines) - 1)
        if len(claimed) == len(distinct) and joins >= len(found) - count:
            count = len(found)
    if 2 <= len(item_lines) != count and not words:
        # "1) hotel, folio below / 2) Sunday dinner ... $38.50": a list whose lines without an
        # amount are each a receipt's that holds none of the amounts written — an item a line
        with_amount = [s for s, e in item_lines if any(s <= o.start < e for o in distinct)]
        unwritten = [
            b for b in found if not any(x.value == o.value for o in distinct for x in money(b))
        ]
        if len(with_amount) == len(distinct) and len(with_amount) + len(unwritten) == len(
            item_lines
        ):
            count = len(item_lines)
    # request segments
    if len(distinct) == count and count > 1:
        line_starts = [start for start, _ in item_lines]
        # a list of one line an item: the lines are the items' own, what heads the list
        # ("Tuesday 9/9 on the Midtown shoot:") is every item's shared context
        cuts = [line_starts[0] if len(line_starts) == count else 0]
        for left, right in itertools.pairwise(distinct):
            # a list's next line starts the next item; else the last join between the amounts
            listed = [a for a in line_starts if left.end <= a <= right.start]
            between = [j.start() for j in _JOINS.finditer(request, left.end, right.start)]
            # a sentence opening on "Also" after the last join starts the next item ("…incl.
            # wine and propina, receipt below. Also the cab back, $12")
            between += [m.end() for m in _SENTENCE_START.finditer(request, left.end, right.start)]
            cuts.append(listed[-1] if listed else max(between) if between else left.end)
        cuts.append(len(request))
        if their_sum is not None and their_sum.start >= distinct[-1].end:
            cuts[-1] = their_sum.start  # "... $15.40 = $35.40 total": not the last ride's
        elif their_sum is not None and their_sum.end <= distinct[0].start:
            cuts[0] = max(cuts[0], their_sum.end)
        ends = cuts[1:]
        for i, own in enumerate(distinct):  # a subtotal's line ends the part before it
            after = [o.start for o in subtotals if own.end <= o.start < ends[i]]
            if after:
                ends[i] = max(own.end, request.rfind("\n", own.end, min(after)) + 1)
        parts = [whole.part(a, b) for a, b in zip(cuts, ends, strict=False)]
    else:
        joins = [j.start() for j in _JOINS.finditer(request)]
        starts = [start for start, _ in item_lines]
        if count > 1 and len(starts) == count and len(distinct) < count:
            joins = starts[1:]  # a list, a line an item, only some lines with an amount
        if count > 1 and len(joins) != count - 1 and not distinct:
            joins = _serial_list(request, count) or joins
        if count > 1 and len(joins) == count - 1 and len(distinct) < count:
            cuts = [0, *joins, len(request)]
            parts = [whole.part(a, b) for a, b in itertools.pairwise(cuts)]
            owners = [_part_of(parts, o) for o in distinct]
            if None in owners or len(set(owners)) < len(owners):
                parts = [whole] * count  # an amount outside the parts, or two in one
        else:
            parts = [whole] * count
        distinct = distinct if len(parts) > 1 and parts[0] is not whole else []
    blocks = [
        b
        for b in _receipt_blocks(receipt, count, aside, loose=loose)
        if not _not_claimed_receipt(b, aside)
    ]
    assigned: list[Segment | None] = [None] * count
    free = list(blocks)
    # the item whose part holds each written amount (in order when the request was cut there)
    owners = [_part_of(parts, o) if parts[0] is not whole else i for i, o in enumerate(distinct)]
    for i, o in zip(owners, distinct, strict=True):
        for b in free:
            if i is not None and any(x.value == o.value for x in money(b)):
                assigned[i] = b
                free.remove(b)
                break
    for i in range(count):  # the others in order, to items that wrote no amount of their own
        if assigned[i] is None and free and i not in owners:
            assigned[i] = free.pop(0)
    if not any(assigned) and len(blocks) == count:
        assigned = list(blocks)  # the amounts are written once, in the receipts only
    lines = item_lines
    own: list[tuple[int, int] | None] = [None] * count
    if count > 1 and len(lines) == count and parts[0] is not whole:  # a list: a line an item
        own = [
            next((ln for ln in lines if p.offset <= ln[0] < p.offset + len(p.text)), None)
            for p in parts
        ]
    spans = []  # only parts cut where the items' amounts or lines are are each item's own
    if count > 1 and distinct and parts[0] is not whole:
        spans = [(p.offset, p.offset + len(p.text)) for p in parts]
        # the first part's preamble speaks for every item
        first = distinct[0].start if owners[0] == 0 else spans[0][1]
        preamble = max(request.rfind(c, 0, first) for c in ".:\n") + 1
        spans[0] = (min(max(spans[0][0], preamble), spans[0][1]), spans[0][1])
        # and the sentences after the last amount's ("... $40. Didn't keep the receipts."); the
        # rest of its own sentence is its item's ("taxi, 22 euro, ho solo la ricevuta del POS.")
        if owners[-1] == count - 1:
            end = _SENTENCE_END.search(request, distinct[-1].end)
            tail = end.start() if end else len(request)
            spans[-1] = (spans[-1][0], min(spans[-1][1], max(spans[-1][0], tail)))
    return [
        ItemText(
            parts[i],
            assigned[i],
            whole,
            tuple(sp for j, sp in enumerate(own) if j != i and sp),
            tuple(sp for j, sp in enumerate(spans) if j != i),
        )
        for i in range(count)
    ]


def unclaimed_receipts(texts: list[ItemText], receipt: str) -> list[Ambiguity]:
    """A pasted receipt that no item was read from: the reading did not account for evidence the
    employee gave ("the taxi, 36 euros … the meter said 38,60" read as two items while the lunch's
    receipt went unread; "$58.40 both together" beside two ride receipts), so what it claims is
    doubtful however well each item reads — a person looks at the items."""
    held = [(t.receipt.offset, t.receipt.offset + len(t.receipt.text)) for t in texts if t.receipt]
    aside = _set_aside(texts[0].whole_request) if texts else set()
    out = []
    for r in receipts(receipt):
        lo, hi = r.offset, r.offset + len(r.text)
        if any(a < hi and lo < b for a, b in held) or _not_claimed_receipt(r, aside):
            continue
        head = " ".join(r.text.split())[:60]
        out.append(
            Ambiguity(
                field="items",
                values=[f"{len(texts)} items", f"{len(texts) + 1} items"],
                why=f"a pasted receipt is no item's ({head}…): the items were read from the "
                "request's amounts and none of them is on it",
            )
        )
    return out


def numbered_lines(text: str, source: str) -> list[ItemText]:
    """One item per numbered line (``1. A backpack: 22 x 13 x 6 inches, 10 lbs;``): a list's
    length is the number of lines, each element read from its own line only (a value missing
    from its line is missing, never borrowed from another line)."""
    whole = Segment(source, text)
    lines = [
        whole.part(m.start(), m.end())
        for m in re.finditer(r"^[ \t]*\d{1,3}[.)][ \t]+.*$", text, re.MULTILINE)
    ]
    return [ItemText(line, None, line) for line in lines]


# ------------------------------------------------------------------------------ reading
def _coerce(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?\d+", low):
        return int(low)
    return text.strip()


@dataclass(frozen=True)
class _Gazetteer:
    """A place table indexed for :func:`~nesyflow.extract.finders.place_names`: US rows by name and
    state, every row by name (the most populous of a name)."""

    by_state: dict[tuple[str, str], tuple[int, dict[str, str]]]
    by_name: dict[str, tuple[int, dict[str, str]]]

    def known(self, name: str, state: str | None) -> bool:
        key = name.lower()
        return (key, state) in self.by_state if state else key in self.by_name

    def row(self, name: str, state: str | None) -> tuple[int, dict[str, str]]:
        key = name.lower()
        return self.by_state[(key, state)] if state else self.by_name[key]


_GAZETTEERS: dict[int, tuple[Table, _Gazetteer]] = {}
_NOT_A_STREET = (
    r"(?![A-Za-z])(?!\s+(?:st|street|ave|avenue|blvd|boulevard|rd|road|dr|drive|ln|lane|way|pl|"
    r"place|sq|square|ct|court|pkwy|parkway|hwy|highway|ter|terrace)\b)"
)
"""A table's key followed by a street word is the street, not the city: "210 Washington St,
Hoboken" is in Hoboken, not in Washington."""


def _gazetteer(table: Table) -> _Gazetteer:
    """The index of ``table``, built once per loaded table (51k rows: ≈0.1 s)."""
    held = _GAZETTEERS.get(id(table))
    if held is not None and held[0] is table:
        return held[1]
    by_state: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
    by_name: dict[str, tuple[int, dict[str, str]]] = {}
    for line, row in table.rows:
        key = row["city"].lower()
        if row["country"] == "US" and row["region"]:
            by_state[(key, row["region"])] = (line, row)
        old = by_name.get(key)
        if old is None or int(old[1]["population"]) < int(row["population"]):
            by_name[key] = (line, row)
    index = _Gazetteer(by_state, by_name)
    _GAZETTEERS[id(table)] = (table, index)
    return index


def _occurrences(
    source: Span,
    segs: list[Segment],
    submitted: dt.date | None,
    exclude: Any,
    dayfirst: bool = False,
) -> list[Occurrence]:
    out: list[Occurrence] = []
    for seg in segs:
        if source.kind == "count":
            out += counts(source.patterns)(seg)
        elif source.kind == "phrase":
            out += phrases(source.patterns)(seg)
        elif source.kind == "reference":
            out += references(source.patterns)(seg)
        elif source.kind == "stay":
            out += stays(seg, submitted)
        else:
            if source.kind == "date":
                finder: Any = lambda s: dates(s, submitted, dayfirst)  # noqa: E731
            elif source.kind == "name":
                finder = lambda s: names(s, exclude)  # noqa: E731
            else:
                finder = FINDERS[source.kind]
            if source.patterns:  # only the values written after one of the labels
                finder = labelled(finder, source.patterns, last=source.kind == "money")
            out += finder(seg)
    return _in_the_receipts_order(out) if source.kind == "date" else out


_NUMERIC_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-]\d{2,4})?")


def _in_the_receipts_order(occs: list[Occurrence]) -> list[Occurrence]:
    """An employee's numeric date that could be read either way ("3/11") is the receipt's date
    when read in the other order it is: beside a Mexican receipt's "11/03/2025" the employee's
    "3/11" is the 11th of March, whatever order the currency makes the default — the conventions
    date a charge as its receipt prints it. Any other reading is left as it is."""
    printed = [o.value for o in occs if o.source in DOCUMENTS]
    out = []
    for o in occs:
        m = _NUMERIC_DAY.fullmatch(o.text.strip()) if o.source not in DOCUMENTS else None
        if m and o.value not in printed and max(int(m[1]), int(m[2])) <= 12:
            match = next(
                (p for p in printed if (p.month, p.day) == (o.value.day, o.value.month)), None
            )
            if match is not None:
                o = replace(o, value=match, why=f"{o.why}, read in the receipt's order")
        out.append(o)
    return out


def _keyword_occurrences(
    rows: list[tuple[int, dict[str, str]]],
    segs: list[Segment],
    table: str,
    header: float | None = 1.0,
) -> list[Occurrence]:
    """Every phrase of ``rows`` in ``segs``. A phrase on a receipt's header (the issuer's name)
    weighs ``header`` times its weight (None: does not count): AMERICAN AIRLINES says what was
    bought, the "bar" of NOODLE BAR says nothing about what was drunk."""
    found: list[Occurrence] = []
    for seg in segs:
        low = seg.text.lower()
        head = re.search(r"\S[^\n]*", seg.text) if seg.source in DOCUMENTS else None
        for line, row in rows:
            phrase = row["phrase"]
            if phrase.startswith("re:"):  # a regular expression (case-insensitive)
                try:
                    pattern = re.compile(phrase[3:], re.IGNORECASE)
                except re.error as exc:
                    raise ValueError(
                        f"{table}.csv:{line}: phrase {phrase!r} is not a valid regular "
                        f"expression ({exc})"
                    ) from None
            else:
                pattern = _phrase_pattern(phrase)
            for m in pattern.finditer(low if not phrase.startswith("re:") else seg.text):
                on_head = head is not None and head.start() <= m.start() < head.end()
                if on_head and header is None:
                    continue
                found.append(
                    Occurrence(
                        _coerce(row["value"]),
                        seg.source,
                        seg.offset + m.start(),
                        seg.offset + m.end(),
                        seg.text[m.start() : m.end()],
                        # the issuer's name says what was bought (AMERICAN AIRLINES, AMTRAK)
                        float(row.get("weight") or 1) * (header if on_head and header else 1),
                        f"keyword '{row['phrase']}' ({table}.csv:{line})"
                        + (" on the receipt's header" if on_head else ""),
                    )
                )
    # a phrase inside a longer phrase that matched (e.g. "uber" in "uber eats") does not vote,
    # nor a second row's phrase on the same words for the same value ("meal" and "meals")
    found.sort(key=lambda o: (o.source, o.start, -(o.end - o.start)))
    kept: list[Occurrence] = []
    for o in found:
        if any(
            k.source == o.source
            and k.start <= o.start
            and o.end <= k.end
            and k is not o
            and ((k.end - k.start) > (o.end - o.start) or k.value == o.value)
            for k in kept
        ):
            continue
        kept.append(o)
    if kept:  # the earliest phrase counts double: the request names its subject first
        first = min(kept, key=lambda o: (o.source != "request", o.start))
        kept = [
            Occurrence(
                o.value,
                o.source,
                o.start,
                o.end,
                o.text,
                o.weight * (2 if o is first else 1),
                o.why + (", first" if o is first else ""),
            )
            for o in kept
        ]
    return kept


def _itemised(receipt: Segment | None) -> bool:
    """Does the receipt list what was bought (an amount labelled by something other than a
    total, a tax, a tip, a fee or the charge itself)?"""
    return bool(_listed(receipt))


def _listed(receipt: Segment | None) -> list[str]:
    """The labels of the receipt's lines that name what was bought, in order."""
    if receipt is None:
        return []
    out = []
    above = ""  # the line before, when it names something and has no amount of its own
    for line in receipt.text.splitlines():
        seg = Segment("receipt", line)
        last = 0
        found = money(seg)
        for o in found:
            label = line[last : o.start]
            last = o.end
            if not _LETTERS.search(label):  # "   2 @ 87.99   175.98" under the item's name
                if _CHARGE_LABEL.search(line[o.end :]):
                    continue  # "$23.80 with Visa ••6093": the charge, labelled after it
                label = above
            if _LETTERS.search(label) and not _CHARGE_LABEL.search(label):
                out.append(" ".join(label.split()))
        if line.strip():
            above = "" if found else line
    return out


_CLAUSES = re.compile(r"[^.;:!?\n()]+")
_LIST_JOIN = re.compile(r",\s*(?:and\s+)?|\s+(?:and|&|\+|w/)\s+", re.IGNORECASE)
_LEAD_IN = re.compile(r"^.*\b(?:just|only|had|ordered|got|ate)\s+", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:a|an|the|some|one|two)\s+", re.IGNORECASE)


def _named_list(request: Segment, table: Table) -> tuple[int, int] | None:
    """Where the request lists what was had, two things or more, every one named in ``table``
    ("it was just a turkey club and an iced tea", "- turkey burger, sweet potato fries and a
    chai"): as itemised as a receipt's lines when no receipt lists them. Each part is at most
    four words without digits, so a sentence that merely mentions a dish is no list."""
    patterns = _phrase_patterns(table)

    def named(part: str) -> tuple[bool, bool]:
        """(a short part without digits that the table names, it opens with a lead-in)"""
        lead_in = _LEAD_IN.sub("", part.strip())
        core = _ARTICLE.sub("", lead_in)
        ok = bool(core) and len(core.split()) <= 4 and not re.search(r"\d", core)
        return ok and any(p.search(core.lower()) for p in patterns), lead_in != part.strip()

    for clause in _CLAUSES.finditer(request.text):
        for piece in re.split(r"\s[–—-]\s", clause.group(0)):
            parts = _LIST_JOIN.split(piece.strip())
            run: list[str] = []
            for part in [*parts, ""]:
                ok, lead = named(part) if part else (False, False)
                if ok and not (lead and run):
                    run.append(part)
                    continue
                if len(run) >= 2:
                    at = request.text.find(run[0].strip(), clause.start())
                    last = run[-1].strip()
                    end = request.text.find(last, at) + len(last)
                    return request.offset + at, request.offset + end
                run = [part] if ok else []
    return None


def _unnamed(labels: list[str], table: Table) -> list[str]:
    """The labels no phrase of ``table`` names (matched as keywords are: whole words, a plural)."""
    patterns = _phrase_patterns(table)
    unnamed = [label for label in labels if not any(p.search(label.lower()) for p in patterns)]
    return list(dict.fromkeys(unnamed))  # each line once


_PHRASES: dict[int, tuple[Table, tuple[re.Pattern[str], ...]]] = {}


def _phrase_patterns(table: Table) -> tuple[re.Pattern[str], ...]:
    """The table's phrases compiled, once per loaded table."""
    held = _PHRASES.get(id(table))
    if held is None or held[0] is not table:
        held = _PHRASES[id(table)] = (
            table,
            tuple(_phrase_pattern(row["phrase"]) for _, row in table.rows),
        )
    return held[1]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A plain phrase of a table as a pattern on lower-cased text: whole words, and its plural
    ("lunches", "courses")."""
    plural = r"(?:e?s)?" if phrase[-1:].isalpha() else ""
    return re.compile(r"(?<![a-z])" + re.escape(phrase.lower()) + plural + r"(?![a-z])")


_LETTERS = re.compile(r"[^\W\d_]{2,}")
_CHARGE_LABEL = re.compile(
    # a card slip's "AMOUNT" / "Charged" line is the charge, not an item
    r"total|tax|tip|fee|paid|due|subtotal|balance|vat|hst|service|fare|amount|"
    r"charged?|sale|purchase|payment|gratuity|cash|change|card|visa|mastercard|"
    r"amex|debit|credit|auth|合計|\d{1,2}:\d{2}|\b(?:am|pm)\b|"
    # the same labels in Spanish, French, German and Italian
    r"importe|venta|propina|montant|pourboire|betrag|summe|trinkgeld|importo|totale|mancia|"
    r"pagamento|vendita|\bpos\b|carta|tarjeta|yhteensä|razem|jumla|"
    r"gesamt|totaal|toplam|\b[cs]?gst\b|mwst|btw|\biva\b|\btva\b|消費税",
    re.IGNORECASE,
)


_MASKED_CARD = re.compile(r"(?:(?:[*xX]{3,}|[*•]{2,})[ -]?){1,3}\d{4}\b")  # "••6093" too
_SERVICE_LINE = re.compile(
    r"\b(?:fare|room|nights?|parking|fee|plan|ride|trip|ticket|rate|miles?|km|service|stay)\b",
    re.IGNORECASE,
)


def _card_slip(receipt: Segment) -> bool:
    """Only a card terminal's slip: a masked card number, no line naming what was bought and no
    service line (a ride's fare, a room, a parking period). Called when nothing is itemised."""
    return bool(_MASKED_CARD.search(receipt.text)) and not _SERVICE_LINE.search(receipt.text)


class _Reader:
    def __init__(
        self,
        tables: Mapping[str, Table],
        chooser: Chooser,
        submitted: dt.date | None,
        exclude_names: Any,
        indexes: Mapping[str, Any] | None = None,
        model: type[BaseModel] | None = None,
    ) -> None:
        self.model = model
        self.tables = tables
        self.indexes = indexes or {}
        self.chooser = chooser
        self.submitted = submitted
        self.exclude = exclude_names
        self.readings: list[Reading] = []
        self.ambiguities: list[Ambiguity] = []
        self.calls = 0

    def fits(self, name: str, value: Any) -> bool:
        """Whether ``value`` passes the schema's own constraints on field ``name`` (type, length,
        bounds): a span that cannot be the value (a 90-character header line for a merchant of
        at most 60) is no candidate, rather than a claim that fails to validate after reading."""
        if self.model is None:
            return True
        try:
            self.model.__pydantic_validator__.validate_assignment(
                self.model.model_construct(), name, value
            )
        except ValidationError:
            return False
        return True

    def _receipt_names_another_place(
        self, hits: list[tuple[Any, ...]], text: ItemText, plan_sources: tuple[Any, ...]
    ) -> bool:
        """A table's city found only in the employee's words, while the item's receipt prints an
        address in a place the field's gazetteer (a later :class:`Place` source) knows: the
        conventions read the receipt's address first, so the table's hit yields to it."""
        if any(h[2].source in DOCUMENTS for h in hits) or text.receipt is None:
            return False
        place = next((s for s in plan_sources if isinstance(s, Place)), None)
        if place is None:
            return False
        index = _gazetteer(self.tables[place.table])
        return bool(place_names(text.receipt, index.known))

    def _shortened(self, name: str, o: Occurrence) -> Occurrence:
        """A phrase longer than the field holds, cut at its last word that fits: "Thank-you gifts
        for the six reviewers ... so we hit their cert submission" still says why."""
        if not isinstance(o.value, str) or self.fits(name, o.value):
            return o
        words = o.value.split()
        while len(words) > 3 and not self.fits(name, " ".join(words)):
            words.pop()
        return replace(o, value=" ".join(words).rstrip(" ,;:-"))

    @staticmethod
    def _decisive(cands: list[Candidate]) -> bool:
        return len(cands) == 1 or (
            cands[0].score >= DECISIVE * cands[1].score and cands[1].score < STRONG
        )

    @staticmethod
    def _top(path: str, cands: list[Candidate], **fields: Any) -> Reading:
        """A reading of the top-ranked candidate: its value and where it stands in the text."""
        top = cands[0]
        return Reading(
            field=path,
            value=top.value,
            source=top.source,
            start=top.start,
            end=top.end,
            candidates=cands,
            **fields,
        )

    def _neighbours(
        self, path: str, cands: list[Candidate], text: ItemText, near: Neighbours
    ) -> Reading | None:
        """The keywords left the enum open: the nearest labelled examples vote among the options."""
        from nesyflow.extract.neighbours import NeighboursUnavailable

        index = self.indexes[near.index]
        try:
            if callable(index) and not hasattr(index, "vote"):
                index = index()  # built on first use (loading the embedding model takes seconds)
        except NeighboursUnavailable:
            return None  # not installed: the chooser decides, as without neighbours
        options = [str(c.value) for c in cands[:4]]
        best, found = index.vote(text.request.text, options, near.k)
        top = cands[0]
        neighbours = ", ".join(f"{n.example}={n.label} ({n.similarity})" for n in found)
        if best == top.value:
            return self._top(
                path,
                cands,
                origin="neighbours",
                detail=f"keywords left {' / '.join(options)} open; the nearest "
                f"examples chose {best}: {neighbours}",
            )
        self.ambiguities.append(
            Ambiguity(
                field=path,
                values=options,
                why=f"keywords ranked {top.value} first (score {top.score} vs {cands[1].score}); "
                f"the nearest examples chose {best or 'none of these'}: {neighbours}",
            )
        )
        return self._top(
            path,
            cands,
            origin="keywords",
            detail=f"keywords and neighbours disagree ({neighbours})",
            model_choice=None,
            ambiguous=True,
        )

    def _neighbours_against_default(
        self, path: str, default: Any, text: ItemText, near: Neighbours
    ) -> Reading | None:
        """No keyword named the enum's value, so the schema's default would stand: the nearest
        labelled examples check it. When they choose another value ("took the Globex team out
        to celebrate" is client entertainment, not "other"), the default stays the reading but
        the two are ambiguous — a person decides, never the default alone (measured on 270
        requests: when the two disagreed, each was right about half the time). None: they
        agree, or are not available."""
        from nesyflow.extract.neighbours import NeighboursUnavailable

        index = self.indexes[near.index]
        try:
            if callable(index) and not hasattr(index, "vote"):
                index = index()
        except NeighboursUnavailable:
            return None
        found = index.query(text.request.text, near.k)
        best, _ = index.vote(text.request.text, sorted({n.label for n in found}), near.k)
        if best is None or best == str(default):
            return None
        neighbours = ", ".join(f"{n.example}={n.label} ({n.similarity})" for n in found)
        self.ambiguities.append(
            Ambiguity(
                field=path,
                values=[best, str(default)],
                why=f"no keyword named it, so the default would be {default}; the nearest "
                f"examples chose {best}: {neighbours}",
            )
        )
        return Reading(
            field=path,
            value=default,
            origin="default",
            detail=f"nothing in the text; the schema's default, but the nearest examples chose "
            f"{best} ({neighbours})",
            ambiguous=True,
        )

    def decide(
        self,
        path: str,
        cands: list[Candidate],
        text: ItemText,
        question: str,
        origin: str,
        detail: str = "",
        never_ambiguous: bool = False,
    ) -> Reading:
        top = cands[0]
        decisive = self._decisive(cands)
        if decisive or never_ambiguous:
            return self._top(
                path,
                cands,
                origin=origin,
                detail=detail or top.why,
            )
        options = cands[:4]
        if cands[1].score >= STRONG:  # the employee and the receipt disagree: not the model's call
            self.ambiguities.append(
                Ambiguity(
                    field=path,
                    values=[str(c.value) for c in options],
                    why=f"two strong sources disagree: {top.value} ({top.why}) and "
                    f"{cands[1].value} ({cands[1].why})",
                )
            )
            return self._top(
                path,
                cands,
                origin=origin,
                detail=detail or top.why,
                ambiguous=True,
            )
        context = "\n".join(s.text for s in (text.request, text.receipt) if s is not None)
        self.calls += 1
        pick = self.chooser.choose(context, question, [str(c.value) for c in options])
        choice = options[pick].value if pick is not None else "none of these"
        if pick == 0:
            return self._top(
                path,
                cands,
                origin="model",
                detail=f"model confirmed the top of {len(options)} candidates",
                model_choice=choice,
            )
        self.ambiguities.append(
            Ambiguity(
                field=path,
                values=[str(c.value) for c in options],
                why=f"finders ranked {top.value} first (score {top.score} vs {cands[1].score}); "
                f"the model chose {choice}",
            )
        )
        return self._top(
            path,
            cands,
            origin=origin,
            detail=detail or top.why,
            model_choice=choice,
            ambiguous=True,
        )

    def read(
        self,
        plan: FieldPlan,
        path: str,
        text: ItemText,
        values: dict[str, Any],
        readings: dict[str, Reading],
    ) -> Reading | None:
        if plan.when is not None and values.get(plan.when.field) not in plan.when.values:
            return None
        for source in plan.sources:
            reading = self._one(source, plan.name, path, text, readings, values, plan.sources)
            if reading is not None:
                return reading
        return None

    def _one(
        self,
        source: Any,
        name: str,
        path: str,
        text: ItemText,
        readings: dict[str, Reading],
        values: dict[str, Any],
        plan_sources: tuple[Any, ...] = (),
    ) -> Reading | None:
        if isinstance(source, Span):
            if source.when is not None and values.get(source.when[0]) not in source.when[1]:
                return None
            own, rest = text.places(source.text)
            first = source.dayfirst_unless
            dayfirst = first is not None and values.get(first[0]) not in first[1]
            occs = _occurrences(source, own, self.submitted, self.exclude, dayfirst)
            if source.kind == "money":
                occs = _without_the_whole_bill(_parts_of_their_sum(occs, text))
            if source.column is not None and (not occs or source.kind in ("name", "money")):
                occs = _sheet_column(source, text) or occs  # a cell outweighs its row
            if source.nth is not None:  # a column of the item's own text
                occs = sorted(occs, key=lambda o: (o.source, o.start))
                occs = [occs[source.nth]] if -len(occs) <= source.nth < len(occs) else []
            elif not occs:
                occs = _occurrences(source, rest, self.submitted, self.exclude, dayfirst)
                occs = text.not_others(occs, parts=source.kind == "count")
            if not occs and source.kind == "name" and source.nth is None:
                # a message typed without capitals: "at home depot", in the item's own words
                occs = [o for seg in own for o in lower_case_names(seg, self.exclude)]
            if source.kind == "phrase":
                occs = [self._shortened(name, o) for o in occs]
            occs = [o for o in occs if o.weight > 0 and self.fits(name, o.value)]
            if not occs:
                return None
            return self.decide(
                path,
                rank(occs),
                text,
                f"What is the {name.replace('_', ' ')}?",
                "span",
                never_ambiguous=source.kind == "phrase",
            )
        if isinstance(source, Keywords):
            table = self.tables[source.table]
            rows = [(ln, r) for ln, r in table.rows if r["field"] == name]
            own, rest = text.places()
            header = 3.0 if name == "category" else None  # the issuer names what was bought
            occs = _keyword_occurrences(rows, own, table.name, header) or text.not_others(
                _keyword_occurrences(rows, rest, table.name, header), parts=text.describes_itself()
            )
            if occs:
                cands = rank(occs)
                near = next((m for m in plan_sources if isinstance(m, Neighbours)), None)
                if near is not None and not self._decisive(cands) and near.index in self.indexes:
                    reading = self._neighbours(path, cands, text, near)
                    if reading is not None:
                        return reading
                return self.decide(
                    path, cands, text, f"Which {name.replace('_', ' ')} is it?", "keywords"
                )
            unless = source.itemised_unless
            settled = unless is not None and values.get(unless[0]) == unless[1]
            listed = _listed(text.receipt) if source.itemised is not None and not settled else []
            unnamed = (
                _unnamed(listed, self.tables[source.itemised_known])
                if listed and source.itemised_known
                else []
            )
            if unnamed:
                other = not source.itemised if isinstance(source.itemised, bool) else None
                self.ambiguities.append(
                    Ambiguity(
                        field=path,
                        values=[str(source.itemised), str(other)],
                        why=f"the receipt lists its items and none of the keywords, but "
                        f"{source.itemised_known}.csv names no "
                        + ", ".join(repr(u) for u in unnamed[:3])
                        + (f" (+{len(unnamed) - 3} more)" if len(unnamed) > 3 else ""),
                    )
                )
                return Reading(
                    field=path,
                    value=source.itemised,
                    origin="keywords",
                    detail=f"itemised receipt, but lines {source.itemised_known}.csv does not "
                    f"name: {', '.join(unnamed)}",
                    source="receipt",
                    ambiguous=True,
                )
            dishes = (
                _named_list(text.request, self.tables[source.itemised_known])
                if not listed and source.itemised is not None and source.itemised_known
                else None
            )
            if dishes is not None:
                start, end = dishes
                return Reading(
                    field=path,
                    value=source.itemised,
                    origin="keywords",
                    detail=f"the request lists what it was, none of it a keyword, every part "
                    f"named in {source.itemised_known}.csv: "
                    + text.request.text[start - text.request.offset : end - text.request.offset],
                    source=text.request.source,
                    start=start,
                    end=end,
                )
            if listed:
                return Reading(
                    field=path,
                    value=source.itemised,
                    origin="keywords",
                    detail="the receipt lists its items and none of the keywords",
                    source="receipt",
                    start=text.receipt.offset if text.receipt else None,
                    end=(text.receipt.offset + len(text.receipt.text)) if text.receipt else None,
                )
            return None
        if isinstance(source, Lookup):
            table = self.tables[source.table]
            keys = sorted(table.rows, key=lambda r: -len(r[1][source.key]))
            own, rest = text.places()
            for segs in (own, rest):
                hits: list[tuple[int, int, Segment, int, dict[str, str], re.Match[str]]] = []
                for order, seg in enumerate(segs):
                    for line, row in keys:
                        m = re.search(
                            r"(?<![A-Za-z])" + re.escape(row[source.key]) + _NOT_A_STREET,
                            seg.text,
                            re.IGNORECASE,
                        )
                        if m and not any(
                            h[2] is seg and h[5].start() <= m.start() < h[5].end() for h in hits
                        ):
                            hits.append((order, m.start(), seg, line, row, m))
                if hits and self._receipt_names_another_place(hits, text, plan_sources):
                    return None  # "a tier 1 city like Paris?" beside a receipt from Lyon
                if hits:
                    order, _pos, seg, line, row, m = min(hits, key=lambda h: (h[0], h[1]))
                    cands = [
                        Candidate(
                            value=_coerce(r[source.value]),
                            score=1.0,
                            source=s.source,
                            start=s.offset + mm.start(),
                            end=s.offset + mm.end(),
                            text=mm.group(0),
                            why=f"{table.name}.csv:{ln}",
                        )
                        for _, _, s, ln, r, mm in sorted(hits, key=lambda h: (h[0], h[1]))
                    ]
                    return Reading(
                        field=path,
                        value=_coerce(row[source.value]),
                        origin="lookup",
                        detail=f"{table.name}.csv:{line} {row[source.key]} → "
                        f"{source.value} {row[source.value]}",
                        source=seg.source,
                        start=seg.offset + m.start(),
                        end=seg.offset + m.end(),
                        candidates=cands,
                    )
            return None
        if isinstance(source, Place):
            index = _gazetteer(self.tables[source.table])
            own, rest = text.places()
            for segs in (own, rest):
                occs = [o for seg in segs for o in place_names(seg, index.known)]
                if not occs:
                    continue
                best = max(occs, key=lambda o: (o.weight, -o.start))
                line, row = index.row(*best.value)
                cands = []
                for o in sorted(occs, key=lambda o: (-o.weight, o.start)):
                    ln, r = index.row(*o.value)
                    cands.append(
                        Candidate(
                            value=_coerce(r[source.value]),
                            score=o.weight,
                            source=o.source,
                            start=o.start,
                            end=o.end,
                            text=o.text,
                            why=f"{source.table}.csv:{ln} {r['city']} {r['region'] or r['country']}"
                            f" (population {r['population']}), {o.why}",
                        )
                    )
                return Reading(
                    field=path,
                    value=_coerce(row[source.value]),
                    origin="lookup",
                    detail=f"{source.table}.csv:{line} {row['city']} "
                    f"{row['region'] or row['country']} (population {row['population']}) → "
                    f"{source.value} {row[source.value]}",
                    source=best.source,
                    start=best.start,
                    end=best.end,
                    candidates=cands,
                )
            return None
        if isinstance(source, Derived):
            base = readings.get(source.field)
            got = None
            chosen = None
            if base is not None and base.candidates:
                chosen = next((c for c in base.candidates if c.value == base.value), None)
                got = chosen.attrs.get(source.attr) if chosen else None
            bare = chosen is not None and (chosen.attrs.get("bare_dollar") or got is None)
            if bare and source.or_rate_unit:  # a bare $ or no mark at all
                own, rest = text.places()
                named = [o for segs in (own, rest) for seg in segs for o in other_dollars(seg)]
                if len({o.value for o in named}) == 1:  # "All A$", "C$ receipt": that dollar
                    o = named[0]
                    return Reading(
                        field=path,
                        value=o.value,
                        origin="span",
                        source=o.source,
                        start=o.start,
                        end=o.end,
                        detail=f"{source.field} is written with a bare $ or no currency and the "
                        f"text names {o.value} ({o.text})",
                    )
            if got is None and source.or_rate_unit:
                own, rest = text.places()
                units = [
                    o
                    for segs in (own, rest)
                    for seg in segs
                    for o in rates(seg)
                    if o.attrs.get("unit") not in (None, source.default)
                ]
                if units:  # "converted both at 0.7305 USD per CAD": the amounts are in CAD
                    o = units[0]
                    return Reading(
                        field=path,
                        value=o.attrs["unit"],
                        origin="span",
                        source=o.source,
                        start=o.start,
                        end=o.end,
                        detail=f"no {source.attr} written with {source.field}; the rate the "
                        f"text states is per {o.attrs['unit']}",
                    )
            if got is None and source.or_rate_unit and base is not None:
                marked = {c.attrs.get(source.attr) for c in base.candidates or ()} - {None}
                if len(marked) == 1 and marked != {source.default}:
                    (unit,) = marked  # "₹4,200 per night" beside a folio's unmarked total
                    other = next(c for c in base.candidates if c.attrs.get(source.attr) == unit)
                    return Reading(
                        field=path,
                        value=unit,
                        origin="span",
                        source=other.source,
                        start=other.start,
                        end=other.end,
                        detail=f"no {source.attr} written with {source.field}; every other "
                        f"{source.field} the text marks is in {unit}",
                    )
            if got is None:
                if source.default is None:
                    return None
                return Reading(
                    field=path,
                    value=source.default,
                    origin="default",
                    detail=f"no {source.attr} written with {source.field}",
                )
            if not self.fits(name, got):  # "R469,43": rand, a currency the schema cannot hold
                self.ambiguities.append(
                    Ambiguity(
                        field=path,
                        values=[str(got), str(source.default)],
                        why=f"{source.field} is written in {got}, which {name} cannot hold",
                    )
                )
                return None
            return Reading(
                field=path,
                value=got,
                origin="span",
                source=base.source,
                start=base.start,
                end=base.end,
                detail=f"the {source.attr} written with {source.field}",
            )
        if isinstance(source, Present):
            seg = text.receipt if source.source == "receipt" else text.request
            if seg is None or not seg:
                return None
            value, detail = source.value, f"the item has its own {source.source} text"
            listed = _itemised(seg)
            only = source.total_only
            if source.slip is not None and not listed and _card_slip(seg):
                value, detail = source.slip, f"the item's {source.source} text is a card slip"
            elif only is not None and not listed and values.get(only[1]) in only[2]:
                value = only[0]
                detail = f"the item's {source.source} text shows a total, nothing bought"
            return Reading(
                field=path,
                value=value,
                origin="structure",
                detail=detail,
                source=seg.source,
                start=seg.offset,
                end=seg.offset + len(seg.text),
            )
        if isinstance(source, Default):
            if source.field is not None and values.get(source.field) not in source.values:
                return None
            near = next((m for m in plan_sources if isinstance(m, Neighbours)), None)
            if near is not None and near.index in self.indexes:
                reading = self._neighbours_against_default(path, source.value, text, near)
                if reading is not None:
                    return reading
            return Reading(
                field=path,
                value=source.value,
                origin="default",
                detail="nothing in the text; the schema's default",
            )
        if isinstance(source, Written):
            clauses = [c.strip() for c in re.split(r"[.;:!?]\s|,\s|\s-\s", text.request.text)]
            clauses = [re.sub(r"^\W*(and|plus)\b\s*", "", c).strip(" .,;") for c in clauses]
            clause = next((c for c in clauses if len(c.split()) >= 3), "")[: source.max_chars]
            if not clause:  # a greeting or a fragment: no description beats a wrong one
                return None
            start = text.request.offset + text.request.text.find(clause[:10])
            return Reading(
                field=path,
                value=clause,
                origin="span",
                source="request",
                start=start,
                end=start + len(clause),
                detail="first clause",
            )
        if isinstance(source, FromInput | Neighbours):
            return None  # input constants are set by the caller; neighbours serve Keywords
        return None


def _defaults_that_disagree(
    readings: list[Reading], prefix: str, names: set[str]
) -> list[Ambiguity]:
    """A :class:`Derived` field (``names``) one item read from the text and another item only
    defaulted, to different values (one item's amount marked CAD, the other's unmarked and taken
    as USD): the default is a guess the text argues against, so a person reads it."""
    if not prefix:
        return []
    found: dict[str, list[Reading]] = {}
    for r in readings:
        parts = r.field.split(".")
        if len(parts) == 3 and parts[0] == prefix and parts[2] in names:
            found.setdefault(parts[2], []).append(r)
    out = []
    for name, rs in found.items():
        read = {str(r.value) for r in rs if r.origin != "default"}
        for r in rs:
            if r.origin == "default" and read and str(r.value) not in read:
                out.append(
                    Ambiguity(
                        field=r.field,
                        values=[str(r.value), *sorted(read)],
                        why=f"{name} defaulted to {r.value} while another item's reads "
                        f"{', '.join(sorted(read))}",
                    )
                )
    return out


def extract_items(
    item_model: type[BaseModel],
    texts: list[ItemText],
    tables: Mapping[str, Table],
    chooser: Chooser,
    *,
    submitted: dt.date | None = None,
    exclude_names: Any = lambda _s: False,
    prefix: str = "items",
    indexes: Mapping[str, Any] | None = None,
) -> Extraction:
    """Read every annotated field of ``item_model`` for each item text (see the module doc).
    A reading's path is ``prefix.index.field``; with ``prefix=""`` (one document's own fields,
    one text) just ``field``. ``indexes`` names the neighbour indexes (a :class:`~nesyflow.extract.neighbours.NeighbourIndex`
    or a function building one on first use)."""
    plans = field_sources(item_model)
    reader = _Reader(tables, chooser, submitted, exclude_names, indexes, item_model)
    items: list[dict[str, Any]] = []
    for index, text in enumerate(texts):
        values: dict[str, Any] = {}
        by_name: dict[str, Reading] = {}
        for plan in plans:
            path = f"{prefix}.{index}.{plan.name}" if prefix else plan.name
            reading = reader.read(plan, path, text, values, by_name)
            if reading is None:
                continue
            values[plan.name] = reading.value
            by_name[plan.name] = reading
            reader.readings.append(reading)
        items.append(values)
    derived = {plan.name for plan in plans if any(isinstance(x, Derived) for x in plan.sources)}
    reader.ambiguities += _defaults_that_disagree(reader.readings, prefix, derived)
    return Extraction(
        items=items,
        readings=reader.readings,
        ambiguities=reader.ambiguities,
        model_calls=reader.calls,
    )
