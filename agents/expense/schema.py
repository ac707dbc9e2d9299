"""Schemas of the expense agent: the run's input and what the model is asked to write.

The claim the rules check is the pack's own ``ExpenseClaim`` (``rules/expense/schema.py``); this
file imports that file by path and narrows it for the model: one or two items, and short free-text fields. The
llama.cpp grammar is built from this schema, so a small model cannot write an empty claim or a
sentence that runs until ``max_tokens``. It has exactly the pack's fields, so the pack checks it as
it is.

``employee_name``, ``employee_level`` and ``submitted_on`` are not the model's to know: they come
with the run's input (HR and the submission system know them). The prompt hands them to the model
to copy, and the reimbursement tool takes them from the input, not from the model, so the payment is
always checked against the true level and date.
"""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nesyflow._imports import load_module
from nesyflow.extract.sources import (
    Default,
    Derived,
    FromInput,
    Keywords,
    Lookup,
    Neighbours,
    Place,
    Present,
    Span,
    When,
    Written,
)
from nesyflow.schema.governance import Sensitive

_PACK_SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "expense" / "schema.py"

_pack = load_module(_PACK_SCHEMA)  # the very module (and classes) the pack loads

ExpenseClaim = _pack.ExpenseClaim
ExpenseItem = _pack.ExpenseItem
ClaimContext = _pack.ClaimContext
Level = _pack.Level
Money = _pack.Money
Rate = _pack.Rate
Category = _pack.Category
Currency = _pack.Currency
FareClass = _pack.FareClass

__all__ = ["ClaimContext", "Employee", "ExpenseRequest", "ExtractedClaim", "ExtractedItem"]


class Employee(BaseModel):
    """Who submits the claim (from HR, not from the text)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Sensitive("personal")] = Field(min_length=1)
    level: Level  # type: ignore[valid-type]


class ExpenseRequest(BaseModel):
    """The run's input: the employee's message, the receipt text, who and when.

    Extra keys are ignored, so a line of ``agents/expense/samples.jsonl`` (which also holds the
    expected claim) is a valid input as it is. ``history`` is what finance already knows (items paid
    on earlier claims, training reimbursed this year); the rules read it as their context.
    """

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, description="The caller's reference for this request.")
    request: str = Field(min_length=1, description="The employee's message.")
    receipt: str = Field("", description="The receipt as text (OCR); empty if none.")
    submitted_on: dt.date
    employee: Employee
    history: ClaimContext = Field(default_factory=ClaimContext)  # type: ignore[valid-type]


_MONTH_FIRST = ("USD", "CAD", "JPY")
"""Currencies whose receipts write ``05/03`` as the 3rd of May; every other (EUR, GBP...) is
day-first, as the policy's conventions say."""
_CATEGORIES = typing.get_args(Category)
_FOREIGN = ("EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "MXN", "INR", "SGD")
_RATE_COLUMN = (
    r"(?:kurs|rate|fx(?: rate)?|exchange rate|wechselkurs|taux|tipo de cambio|cambio)"
    r"(?:\s*\((?:USD|US\$|\$)\s*(?:je|per|pro|par|por|/)\s*[^\W\d_]+\))?"
)
"""A sheet's exchange-rate column: bare, or saying US dollars per unit (never "EUR per USD")."""
_PURPOSE = (
    # a form's field, or a request's own label: "Business purpose: 7th grade science classroom"
    (r"\b(?:business )?(?:purpose|reason)\s*[:–-]\s*(?P<v>[^.;\n()]*[^\s.;()])", 3.0),
    (
        r"\bto (?P<v>(?:close|pitch|talk|discuss|plan|thank|celebrate|negotiate|review|present|"
        r"sign|welcome|meet|walk (?:them )?through|go ove?r|prepare|demo|kick off|finali[sz]e|"
        r"scope|explore|brief|introduce|agree on|align on|lock)"
        r"\b[^.;()]*)",
        3.0,
    ),
    (r"\bneed(?:ed)? (?:it|this|them) for (?P<v>[^.;()]*)", 3.0),
    (r"\bneeded (?:a|an|some) [^.;()]{1,60}?\bto (?P<v>[^.;()]*)", 3.0),
    # Spanish, Portuguese and French: "para / pour" and an infinitive ("para submeter a proposta")
    (
        # "pour le remercier": an object pronoun before the infinitive
        r"\b(?:para|pour) (?P<v>(?:(?:le|la|les|lui|leur|nous|l')\s*)?"
        r"[^\W\d_]{2,}(?:ar|er|ir|re)\b[^.;()]*)",
        2.0,
    ),
    (r"\b(?P<v>(?:went|go|going) (?:through|over) (?:the|our|their) [^.;()]*)", 3.0),
    (r"\b(?:using|use|used) (?:it|this|them) (?P<v>(?:to|for) [^.;()]*)", 3.0),
    (r"\bso I had to (?P<v>[^.;()]*)", 3.0),
    (
        r"\b(?:had|needed) to (?P<v>(?:fly|travel|leave|drive|work|be (?:in|at|there|on)|"
        r"go|head|get|catch|stay|cover|attend)\b[^.;()]*)",
        3.0,
    ),
    (r"\b(?P<v>advisory board (?:dinner|lunch|meeting) for [^.;,()]*?)(?= at |[.;,()]|$)", 2.0),
    (r"\bpart of (?P<v>(?:my|our|the) [^.;()]*)", 2.0),
    (  # "- walked them through our new Douro reds": what the meeting was for, said after it
        r"(?:^|[-–—;:]\s+|\b(?:we|I)\s+)(?P<v>(?:pitched|discussed|reviewed|presented|"
        r"negotiated|demoed|walked (?:them|him|her) through|went over)\b[^.;()]*)",
        2.5,
    ),
    (  # "a thank-you to the buyers who featured us", never the sign-off "Thanks!" / "thanks
        # again" (a Saturday's claim signed so has no reason for the Saturday)
        r"\b(?P<v>thank-you\b[^.;()]*|thank(?:ing|s| you)\b(?!\s*(?:[!,.:;—–-]|$|again|so much|"
        r"a lot|in advance|(?:very|so) much|for (?:your|the|all) (?:help|approval|time|support)))"
        r"[^.;()]*)",
        3.0,
    ),
    (r"\bI was (?P<v>(?:staffing|working|covering|presenting|supporting|running)\b[^.;()]*)", 3.0),
    (r"\bwhile (?P<v>(?:staffing|working|covering|presenting|running)\b[^.;()]*)", 3.0),
    (r"\b(?P<v>(?:customer|client) advisory board[^.;,()]*)", 2.0),
    (  # "since I was there anyway for my own stuff" says why it was no business errand
        r"\b(?:because|since) (?![^.;()]*\b(?:anyway|my own|personal(?:ly)?|for myself)\b)"
        r"(?P<v>[^.;()]*)",
        2.0,
    ),
    (r"\b(?P<v>(?:the )?client moved [^.;()]*)", 2.0),
    (  # "The city only permitted the Ocean Ave closure for a Saturday so we shot that day"
        r"\b(?P<v>[^.;()]*\bonly (?:permitted|allowed|approved|scheduled|available|open)\b"
        r"[^.;()]*\b(?:saturday|sunday|weekend)s?\b[^.;()]*)",
        3.0,
    ),
)
"""Phrases that state why the expense was incurred: a purpose, or a reason to work on a weekend."""
_PERSONAL = (
    r"(?![^.;()]*\b(?:(?:have|having|enjoy|enjoying|spend|spending) (?:the|a|my) (?:weekend|"
    r"day|time)|my own (?:stuff|time|trip)|personal (?:trip|reasons?|errands?|time|stuff)|"
    r"for myself|vacation|on holiday|my holiday|sightseeing|for fun|"
    r"visit(?:ing)? (?:my )?(?:family|friends|parents))\b)"
)
"""What makes a phrase no business reason ("went over on Saturday to have the weekend in the
city before the commissioning week" says why the employee was there, not why the company pays)."""
_PURPOSE = tuple((p.replace("(?P<v>", "(?P<v>" + _PERSONAL, 1), w) for p, w in _PURPOSE)
_CONTEXT = (
    (
        r"\bfor the (?P<v>[^.;,()]*?\b(?:kickoff|meeting|summit|audit|visit|review|launch|"
        r"conference|workshop|sessions|job|install|show|onsite|off-site|prep|renewal|onboarding|"
        r"integration))\b",
        1.0,
    ),
    (r"\bduring the (?P<v>[^.;,()]*)", 1.0),
)
"""Phrases that name the trip or event an expense belongs to: the business purpose of what
needs one (client entertainment, gifts, other), but no reason to work on a Saturday or Sunday —
the conventions say so, and the pack's weekend rule trusts the reader's justification."""
_NEEDS_PURPOSE = ("client_entertainment", "gifts", "other")


class ExtractedItem(BaseModel):
    """An ``ExpenseItem`` as the agent reads it: the same fields, each annotated with where its
    value comes from (:mod:`nesyflow.extract.sources`; ``nesyflow facts rules/expense --schema``
    prints them). Declaration order is reading order: a field's ``When`` names an earlier one."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[  # type: ignore[valid-type]
        Money, Span("money", column=r"(?:total|amount|cost)(?: \(\w+\))?")
    ]
    currency: Annotated[
        Currency, Derived("amount", "currency", default="USD", or_rate_unit=True)
    ] = "USD"  # type: ignore[valid-type]
    category: Annotated[Category, Keywords(), Neighbours("categories"), Default("other")]  # type: ignore[valid-type]
    merchant: Annotated[
        str,
        Default("personal car", "category", ("mileage",)),
        Span("name", column=r"merchant|vendor|payee|supplier|store|where"),
    ] = Field(min_length=1, max_length=60)
    date: Annotated[dt.date | None, Span("date", dayfirst_unless=("currency", _MONTH_FIRST))] = None
    receipt_attached: Annotated[
        bool | None,
        When("category", *(c for c in _CATEGORIES if c != "mileage")),
        Keywords(),
        Present(
            "receipt",
            True,
            slip=False,
            total_only=(
                False,
                "category",
                ("meals", "client_entertainment", "office_supplies", "gifts"),
            ),
        ),
    ] = None
    description: Annotated[str, Written(80)] = Field("", max_length=80)
    fx_rate: Annotated[  # type: ignore[valid-type]
        Rate | None,
        When("currency", *_FOREIGN),
        # a sheet's rate column, when its header says US dollars per unit ("Kurs (USD je EUR)")
        Span("rate", column=_RATE_COLUMN),
    ] = None
    city_tier: Annotated[
        Literal[1, 2, 3] | None,
        When("category", "meals", "lodging"),
        Lookup("cities", "city", "tier"),
        Place("places", "tier"),
    ] = None
    nights: Annotated[
        int | None,
        When("category", "lodging"),
        Span(
            "count",
            (  # and in French, Spanish, German, Italian, Portuguese, Polish, Dutch, Swedish,
                # Turkish, Vietnamese, Indonesian, Greek
                (
                    "{n} (?:nights?|nuits?|noches?|nächte|notti|noites|noce|nocy|nachten|"
                    "nätter|gece|đêm|malam|νύχτες)",
                    2.0,
                ),
                (  # a folio's field: "Noites: 3", "Nights: 2"
                    r"(?:nights?|nuits?|noches|nächte|notti|noites|nachten|nätter)\s*:\s*{n}",
                    2.0,
                ),
            ),
        ),
        Span("stay"),
    ] = None
    attendees: Annotated[
        int | None,
        When("category", "meals", "client_entertainment", "gifts"),
        Span(
            "count",
            (
                (r"(?<!plus )(?<!and )(?<!\+ ){n} of us", 3.0),  # "9 customers plus 3 of us"
                ("zu {n}", 3.0),  # "wir waren zu dritt"
                (r"{n+1} (?:people|folks|guests|staff)(?: \w+){0,4} plus me", 3.0),
                (  # "the two people from the developer, plus Dana (our architect) and me"
                    r"{n+2} (?:people|folks|guests|clients|visitors|reps)\b[^.;\n]{0,50}?,? plus "
                    r"\w+(?: \([^)]{0,40}\))? (?:and|&) me",
                    3.0,
                ),
                ("(?:nous étions|éramos|wir waren) {n}", 3.0),
                (r"me \+ {n+1}", 3.0),
                (
                    r"me (?:and|plus) (?:the |my )?{n+1} (?:\w+ )?(?:colleagues|teammates|"
                    r"coworkers|others|techs|technicians|engineers|interns|guys|crew)",
                    3.0,
                ),
                ("{n} attendees", 3.0),
                (
                    r"(?:so |for a total of |that's )?{n} (?:people |guests |persons )?"
                    r"(?:total|in total|all together)",
                    3.0,
                ),
                (r"(?:took|with|hosted) {n+1} (?:\w+ ){0,2}(?:folks|people|guests) from", 2.5),
                (  # "dinner with the two buyers from Lakeshore": they and the employee
                    r"(?:took|with|hosted) (?:the |our |my )?{n+1} (?:\w+ ){0,2}(?:buyers|clients|"
                    r"customers|partners|prospects|reps|executives|investors|vendors|"
                    r"distributors)\b",
                    2.5,
                ),
                (
                    r"(?:guests|covers|pax|pers|personas|personnes|couverts|gäste|comensals|comensales|coperti)\.?:?\s*{n}",
                    2.5,
                ),
                (r"= {n}\)", 3.0),
                (
                    r"to (?:each of )?(?:our |my |the )?{n} (?:\w+ ){0,2}(?:contacts|clients|customers|people|leads|"
                    r"partners|hosts|recipients|executives|managers)",
                    2.0,
                ),
                (
                    r"for (?:the |our |my )?{n} (?:\w+ ){0,2}(?:owners|managers|hosts|clients|"
                    r"customers|partners|contacts|recipients|executives|leads|volunteers|"
                    r"producers|officers|doctors|nurses|organi[sz]ers|speakers|donors|reviewers|"
                    r"testers|members|buyers|suppliers|growers|vendors|agents|brokers|teachers|"
                    r"coaches|mentors|judges|drivers|guides)",
                    2.0,
                ),
                ("party of {n}", 2.0),
                ("for {n}", 1.0),
                ("{n} (?:people|folks|recipients|contacts)", 1.0),
            ),
        ),
        Span("party"),  # no count written: the people named ("with Lukas and Aylin")
        Default(1, "category", ("gifts",)),
    ] = None
    alcohol: Annotated[
        bool | None,
        When("category", "meals", "client_entertainment"),
        Keywords(
            itemised=False, itemised_unless=("receipt_attached", False), itemised_known="dishes"
        ),
    ] = None
    fare_class: Annotated[FareClass | None, When("category", "airfare"), Keywords()] = None  # type: ignore[valid-type]
    miles: Annotated[
        int | None,
        When("category", "mileage"),
        Span(
            "count",
            (
                # "38 miles each way, so 76 mi": one leg is not the trip's miles
                (r"{n} miles(?!\s+(?:each|ea\.?|one)[ -]way)", 2.0),
                (r"{n} mi\b(?!\s+(?:each|ea\.?|one)[ -]way)", 2.0),
                (r"{n}\s*mi(?:les)?\s+(?:each|ea\.?|one)[ -]way", 0.5),
                (r"(?:so|that's|that is|=|makes)\s*{n}\s*mi(?:les)?\b", 3.0),
                # "23 mi ea way, RT = 46 mi": the round trip's total is the claim's miles
                (r"(?:RT|round[ -]?trip|in total|total)\s*(?:=|:|of|was)?\s*{n}\s*mi(?:les)?", 3.0),
                (r"{n}\s*mi(?:les)? (?:round[ -]?trip|RT|total|in total)", 3.0),
                # a form's field: "Odometer start: 48,211 … Total miles: 212"
                (r"(?:total\s+)?(?:miles|mileage|distance)(?:\s+driven)?\s*[:=]\s*{n}\b", 3.0),
                # "only putting in for 62 mi", "62 x .67 = $41.54": the miles claimed, not the
                # odometer's 71 with a personal detour in it
                (r"(?:putting in|claiming|submitting|charging|billing)\s+(?:for\s+)?{n}\s*mi", 3.0),
                (r"{n}\s*(?:mi(?:les)?\s*)?[x×*@]\s*\$?0?\.\d{2,3}\b", 3.0),
            ),
            column=r"miles?|mi\.?|distance(?: \(mi(?:les)?\))?",
        ),
    ] = None
    justification: Annotated[
        str | None,
        Span("phrase", _PURPOSE, ("request",)),
        Span("phrase", _CONTEXT, ("request",), when=("category", _NEEDS_PURPOSE)),
    ] = Field(None, max_length=120)


class ExtractedClaim(ExpenseClaim):  # type: ignore[misc, valid-type]
    """The claim the agent writes: an ``ExpenseClaim`` whose employee fields come from the run's
    input and whose items are read from the request's structure, one to four."""

    employee_name: Annotated[str, FromInput("employee.name"), Sensitive("personal")] = Field(
        description="Name of the employee asking for reimbursement."
    )
    employee_level: Annotated[Level, FromInput("employee.level")] = Field(  # type: ignore[valid-type]
        description="Employee level: staff, manager, director, executive."
    )
    submitted_on: Annotated[dt.date, FromInput("submitted_on")] = Field(
        description="Date the claim is submitted (YYYY-MM-DD)."
    )

    justification: str | None = Field(
        None,
        max_length=120,
        description="Business purpose of the whole claim (trip, event, project).",
    )
    items: list[ExtractedItem] = Field(
        min_length=1, max_length=12, description="The expenses claimed."
    )
