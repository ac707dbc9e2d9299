"""The expense policy of ``rules/expense`` written as plain Python: the benchmark's baseline.

    from nesyflow.logic import load_pack
    from benchmarks.expense_python import evaluate

    pack = load_pack("rules/expense")
    claim = pack.input_model.model_validate(data)
    evaluate(claim)            # or evaluate(claim, pack.context_model.model_validate(ctx))

``evaluate`` gives the same verdict, rule ids, missing fields and derived totals as
``nesyflow.logic.check(pack, claim, context)`` (``tests/benchmarks/test_expense_python.py`` proves
it case by case), so a benchmark compares two implementations of one policy, not two policies.

It works the way the pack does, so the edge cases agree too:

* Money is whole cents and rates are 1/10000, each rounded half-even from the model's ``Decimal``
  exactly as the fact encoder does; merchants, dates, amounts and currencies compare on those
  encoded values (duplicates, prior items, split purchases).
* Conversion is ``Q*R + (M*R + 5000) // 10000`` with ``A = Q*10000 + M`` (half up, mirrored for
  negative amounts), and a foreign item with a rate outside (0, 5] has no converted amount: no
  total, no limit checks that need it.
* A day's meals: allowance is the largest ``per_diem * people`` of the day's meals, total is the sum
  of all of them; a day with any meal lacking a converted amount, a tier or a positive head count is
  not judged (and pays nothing).
* Weekday is ``(days since 1970-01-01 + 3)`` remainder 7 with clingo's truncating remainder.
* ``total_reimbursable`` only when every item converts and nothing is missing: blocked items pay 0,
  capped categories pay up to the allowance, meals pay up to the day's allowance (blocked meals
  left out of the day's sum but still counted for its allowance).

No clingo: every rule family is one function over small per-item records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

__all__ = ["evaluate"]

# --- policy tables (limits.lp; cents) -------------------------------------------------------------
PER_DIEM = {1: 10000, 2: 7500, 3: 6000}
LODGING_CAP = {
    1: {"staff": 30000, "manager": 32500, "director": 40000, "executive": 50000},
    2: {"staff": 20000, "manager": 22500, "director": 27500, "executive": 35000},
    3: {"staff": 15000, "manager": 16500, "director": 20000, "executive": 25000},
}
ENTERTAINMENT_CAP = {"staff": 7500, "manager": 10000, "director": 15000, "executive": 25000}
FARE_RANK = {"economy": 1, "premium_economy": 2, "business": 3, "first": 4}
FARE_MAX = {
    "staff": "economy",
    "manager": "economy",
    "director": "premium_economy",
    "executive": "business",
}
SUPPLIES_CAP = {"staff": 10000, "manager": 25000, "director": 50000, "executive": 50000}
TRAINING_ALLOWANCE = {"staff": 150000, "manager": 200000, "director": 300000, "executive": 500000}
APPROVAL_LIMIT = {"staff": 100000, "manager": 250000, "director": 500000, "executive": 1000000}
MILEAGE_RATE = 67  # cents per mile
GIFT_CAP = 2500  # per recipient
TELECOM_CAP = 7500  # per monthly bill
RECEIPT_THRESHOLD = 7500
GROUND_REVIEW_OVER = 15000
LARGE_EVENT_OVER = 10
LONG_STAY_OVER = 14
STALE_AFTER = 60
LATE_AFTER = 30
MAX_FX_RATE = 50000  # 5 USD per unit, in 1/10000
UNIT_RATE = 10000  # rate 1.0000

HOME = "USD"

# Rules that make an item pay nothing when they fail for it.
BLOCKING = frozenset(
    {
        "non_positive_amount",
        "invalid_quantity",
        "invalid_fx_rate",
        "item_after_submission",
        "stale_item",
        "weekend_needs_justification",
        "receipt_required",
        "duplicate_in_claim",
        "duplicate_of_prior",
        "alcohol_not_reimbursable",
        "entertainment_without_guest",
        "business_purpose_required",
        "fare_class_not_allowed",
        "mileage_not_home_currency",
        "office_supplies_over_limit",
    }
)
NEEDS_PURPOSE = frozenset({"client_entertainment", "gifts", "other"})

_EPOCH = dt.date(1970, 1, 1).toordinal()
_HUNDRED = Decimal(100)
_TEN_THOUSAND = Decimal(10000)
_ONE = Decimal(1)


def _fixed(value: Decimal, scale: Decimal) -> int:
    """A decimal as the fact encoder stores it: ``round(value * scale)``, half-even."""
    return int((Decimal(str(value)) * scale).quantize(_ONE, ROUND_HALF_EVEN))


def _days(day: dt.date) -> int:
    return day.toordinal() - _EPOCH


# --- the claim as per-item records ----------------------------------------------------------------
@dataclass(slots=True)
class Line:
    """One item, encoded like its facts, with what every rule family needs precomputed."""

    n: int
    category: str
    merchant: str
    date: int | None  # days since 1970-01-01
    amount: int  # cents, item currency
    currency: str
    fx_rate: int | None  # 1/10000
    conv: int | None  # cents, USD; None when no usable rate
    receipt: bool | None
    city_tier: int | None
    nights: int | None
    attendees: int | None
    heads: int | None  # people fed / recipients: attendees, 1 when not given, None when <= 0
    alcohol: bool | None
    fare_class: str | None
    miles: int | None
    justified: bool
    allowance: int | None = None  # capped categories: what the item may pay at most


def _convert(amount: int, rate: int) -> int:
    """USD cents of ``amount`` at ``rate`` (1/10000), rounded half up (away from zero)."""
    q, m = divmod(abs(amount), 10000)
    cents = q * rate + (m * rate + 5000) // 10000
    return cents if amount >= 0 else -cents


def _lines(claim: Any) -> list[Line]:
    claim_justified = bool(claim.justification)
    out = []
    for n, it in enumerate(claim.items):
        amount = _fixed(it.amount, _HUNDRED)
        fx = None if it.fx_rate is None else _fixed(it.fx_rate, _TEN_THOUSAND)
        if it.currency == HOME:
            conv: int | None = amount
        elif fx is not None and 0 < fx <= MAX_FX_RATE:
            conv = _convert(amount, fx)
        else:
            conv = None
        att = it.attendees
        out.append(
            Line(
                n=n,
                category=it.category,
                merchant=it.merchant,
                date=None if it.date is None else _days(it.date),
                amount=amount,
                currency=it.currency,
                fx_rate=fx,
                conv=conv,
                receipt=it.receipt_attached,
                city_tier=it.city_tier,
                nights=it.nights,
                attendees=att,
                heads=1 if att is None else (att if att > 0 else None),
                alcohol=it.alcohol,
                fare_class=it.fare_class,
                miles=it.miles,
                justified=claim_justified or bool(it.justification),
            )
        )
    return out


class Findings:
    """Rule ids that fired, missing fields, and the items a blocking rule rejected."""

    __slots__ = ("blocked", "missing", "reviews", "violations")

    def __init__(self) -> None:
        self.violations: set[str] = set()
        self.reviews: set[str] = set()
        self.missing: set[str] = set()
        self.blocked: set[int] = set()

    def fail(self, rule: str, line: Line | None = None) -> None:
        self.violations.add(rule)
        if line is not None and rule in BLOCKING:
            self.blocked.add(line.n)


# --- every item (claim.lp) ------------------------------------------------------------------------
def check_amounts(lines: list[Line], f: Findings) -> None:
    """Positive amounts; nights, attendees and miles positive when given."""
    for ln in lines:
        if ln.amount <= 0:
            f.fail("non_positive_amount", ln)
        if (
            (ln.nights is not None and ln.nights <= 0)
            or (ln.attendees is not None and ln.attendees <= 0)
            or (ln.miles is not None and ln.miles <= 0)
        ):
            f.fail("invalid_quantity", ln)


def check_fx(lines: list[Line], f: Findings) -> None:
    """Foreign items need a plausible rate (0 < rate <= 5); USD items, rate 1 if any."""
    for ln in lines:
        fx = ln.fx_rate
        if ln.currency == HOME:
            if fx is not None and fx != UNIT_RATE:
                f.fail("invalid_fx_rate", ln)
        elif fx is None:
            f.missing.add("item_fx_rate")
        elif fx <= 0 or fx > MAX_FX_RATE:
            f.fail("invalid_fx_rate", ln)


def check_dates(lines: list[Line], submitted: int, f: Findings) -> None:
    """Not after submission, not stale, late ones reviewed; weekends need a justification."""
    for ln in lines:
        d = ln.date
        if d is None:
            f.missing.add("item_date")
            continue
        age = submitted - d
        if age < 0:
            f.fail("item_after_submission", ln)
        elif age > STALE_AFTER:
            f.fail("stale_item", ln)
        elif age > LATE_AFTER:
            f.reviews.add("late_submission_review")
        # clingo's remainder truncates toward zero: (D + 3) \ 7 is negative before 1969-12-29.
        x = d + 3
        weekday = x % 7 if x >= 0 else -(-x % 7)
        if weekday >= 5 and ln.category != "telecom" and not ln.justified:
            f.fail("weekend_needs_justification", ln)


def check_receipts(lines: list[Line], f: Findings) -> None:
    """Receipts for lodging, airfare and anything of $75 or more (but never for mileage)."""
    for ln in lines:
        cat = ln.category
        if (
            cat == "lodging"
            or cat == "airfare"
            or (ln.conv is not None and ln.conv >= RECEIPT_THRESHOLD and cat != "mileage")
        ):
            if ln.receipt is None:
                f.missing.add("item_receipt_attached")
            elif not ln.receipt:
                f.fail("receipt_required", ln)


def check_source(lines: list[Line], context: Any, f: Findings) -> None:
    """With the amounts written in the request and receipt, every item amount must be one of them."""
    if context is None or not context.source_checked:
        return
    written = {_fixed(a, _HUNDRED) for a in context.source_amounts}
    for ln in lines:
        if ln.amount not in written:
            f.fail("amount_not_in_source", ln)


def check_ambiguity(context: Any, f: Findings) -> None:
    """A field the reader found competing values for: a person decides."""
    if context is not None and getattr(context, "ambiguities", None):
        f.reviews.add("ambiguous")


def check_duplicates(lines: list[Line], context: Any, f: Findings) -> None:
    """Same merchant/date/amount/currency twice in the claim or already paid; the same charge
    under two merchant names; split purchases."""
    seen: set[tuple[str, int, int, str]] = set()
    prior: set[tuple[str, int, int, str]] = set()
    if context is not None:
        prior = {
            (p.merchant, _days(p.date), _fixed(p.amount, _HUNDRED), p.currency)
            for p in context.prior_items
        }
    groups: defaultdict[tuple[str, str, int], list[Line]] = defaultdict(list)
    for ln in lines:
        if ln.date is None:
            continue
        key = (ln.merchant, ln.date, ln.amount, ln.currency)
        if key in seen:
            f.fail("duplicate_in_claim", ln)
        else:
            seen.add(key)
        if key in prior:
            f.fail("duplicate_of_prior", ln)
        groups[ln.category, ln.merchant, ln.date].append(ln)
    # one charge under two merchant names, in the claim or against the paid ledger
    dated = [ln for ln in lines if ln.date is not None]
    for i, a in enumerate(dated):
        for b in dated[i + 1 :]:
            same = (a.category, a.date, a.amount, a.currency) == (
                b.category,
                b.date,
                b.amount,
                b.currency,
            )
            if same and a.merchant != b.merchant:
                f.reviews.add("possible_duplicate")
    paid = {(d, a, c) for _m, d, a, c in prior}
    for ln in dated:
        key = (ln.merchant, ln.date, ln.amount, ln.currency)
        if key[1:] in paid and key not in prior:
            f.reviews.add("possible_duplicate_of_prior")

    for group in groups.values():
        if len(group) < 2 or "possible_split_transaction" in f.reviews:
            continue
        for i, a in enumerate(group):
            if a.conv is None or a.conv >= RECEIPT_THRESHOLD:
                continue
            for b in group[i + 1 :]:
                if (
                    b.conv is not None
                    and b.conv < RECEIPT_THRESHOLD
                    and a.conv + b.conv >= RECEIPT_THRESHOLD
                    and not (a.amount == b.amount and a.currency == b.currency)
                    and not (a.receipt is True and b.receipt is True)
                ):
                    f.reviews.add("possible_split_transaction")
                    return


# --- categories (categories.lp) -------------------------------------------------------------------
def check_meals(lines: list[Line], f: Findings) -> dict[int, tuple[int, list[Line]]]:
    """Per diem per person per day; alcohol only with client entertainment.

    Returns the judged meal days: date → (allowance, that day's meals), for what is paid.
    """
    by_day: defaultdict[int, list[Line]] = defaultdict(list)
    for ln in lines:
        if ln.alcohol is True and ln.category != "client_entertainment":
            f.fail("alcohol_not_reimbursable", ln)
        if ln.category != "meals":
            continue
        if ln.city_tier is None:
            f.missing.add("item_city_tier")
        if ln.alcohol is None:
            f.missing.add("item_alcohol")
        if ln.date is not None:
            by_day[ln.date].append(ln)

    days: dict[int, tuple[int, list[Line]]] = {}
    for day, meals in by_day.items():
        if any(m.conv is None or m.city_tier is None or m.heads is None for m in meals):
            continue  # the day cannot be judged
        allowance = max(PER_DIEM[m.city_tier] * m.heads for m in meals)
        if sum(m.conv for m in meals) > allowance:
            f.fail("meal_over_per_diem")
        days[day] = (allowance, meals)
    return days


def check_entertainment_and_gifts(lines: list[Line], level: str, f: Findings) -> None:
    """Entertainment: a guest, a per-person cap, large events reviewed; gifts per recipient;
    entertainment, gifts and 'other' need a business purpose."""
    cap = ENTERTAINMENT_CAP[level]
    for ln in lines:
        cat = ln.category
        if cat in NEEDS_PURPOSE and not ln.justified:
            f.fail("business_purpose_required", ln)
        if cat == "client_entertainment":
            people = ln.attendees
            if people is None:
                f.missing.add("item_attendees")
                continue
            if people == 1:
                f.fail("entertainment_without_guest", ln)
            if people > LARGE_EVENT_OVER:
                f.reviews.add("large_event_review")
            if people > 0:
                ln.allowance = cap * people
        elif cat == "gifts" and ln.heads is not None:
            ln.allowance = GIFT_CAP * ln.heads
        else:
            continue
        if ln.allowance is not None and ln.conv is not None and ln.conv > ln.allowance:
            f.fail(
                "entertainment_over_limit" if cat == "client_entertainment" else "gift_over_limit",
                ln,
            )


def check_lodging(lines: list[Line], level: str, f: Findings) -> None:
    """Nightly cap by city tier and level; long stays reviewed."""
    for ln in lines:
        if ln.category != "lodging":
            continue
        nights, tier = ln.nights, ln.city_tier
        if nights is None:
            f.missing.add("item_nights")
        elif nights > LONG_STAY_OVER:
            f.reviews.add("lodging_long_stay_review")
        if tier is None:
            f.missing.add("item_city_tier")
        if nights is not None and nights > 0 and tier is not None:
            ln.allowance = LODGING_CAP[tier][level] * nights
            if ln.conv is not None and ln.conv > ln.allowance:
                f.fail("lodging_over_nightly_cap", ln)


def check_airfare(lines: list[Line], level: str, f: Findings) -> None:
    """Cabin class up to the level's highest."""
    highest = FARE_RANK[FARE_MAX[level]]
    for ln in lines:
        if ln.category != "airfare":
            continue
        if ln.fare_class is None:
            f.missing.add("item_fare_class")
        elif FARE_RANK[ln.fare_class] > highest:
            f.fail("fare_class_not_allowed", ln)


def check_mileage(lines: list[Line], f: Findings) -> None:
    """Personal car: USD only, at most miles times the policy rate."""
    for ln in lines:
        if ln.category != "mileage":
            continue
        if ln.currency != HOME:
            f.fail("mileage_not_home_currency", ln)
        if ln.miles is None:
            f.missing.add("item_miles")
        elif ln.miles > 0:
            ln.allowance = ln.miles * MILEAGE_RATE
            if ln.conv is not None and ln.conv > ln.allowance:
                f.fail("mileage_over_rate", ln)


def check_supplies_telecom_ground(lines: list[Line], level: str, f: Findings) -> None:
    """Office supplies per item by level; phone/internet per bill; one big taxi ride reviewed."""
    supplies_cap = SUPPLIES_CAP[level]
    for ln in lines:
        cat, conv = ln.category, ln.conv
        if cat == "telecom":
            ln.allowance = TELECOM_CAP
            if conv is not None and conv > TELECOM_CAP:
                f.fail("telecom_over_limit", ln)
        elif conv is None:
            continue
        elif cat == "office_supplies":
            if conv > supplies_cap:
                f.fail("office_supplies_over_limit", ln)
        elif cat == "ground_transport" and conv > GROUND_REVIEW_OVER:
            f.reviews.add("ground_transport_review")


# --- the whole claim (claim.lp) -------------------------------------------------------------------
def check_claim(
    lines: list[Line], level: str, context: Any, total_claimed: int | None, f: Findings
) -> None:
    """Approver sign-off above the level's limit; training against the annual allowance."""
    if not lines:
        f.fail("empty_claim")
        return
    if total_claimed is not None and total_claimed > APPROVAL_LIMIT[level]:
        f.reviews.add("manager_approval_required")
    training = sum(ln.conv for ln in lines if ln.category == "training" and ln.conv is not None)
    spent = 0 if context is None else _fixed(context.training_spent_ytd, _HUNDRED)
    if training > 0 and training + spent > TRAINING_ALLOWANCE[level]:
        f.reviews.add("training_over_allowance")


def reimbursable(
    lines: list[Line], meal_days: dict[int, tuple[int, list[Line]]], blocked: set[int]
) -> int:
    """What would be paid: blocked items 0, capped items up to their allowance, meals up to the
    day's allowance (every item has a converted amount when this is called)."""
    total = 0
    for ln in lines:
        if ln.n in blocked or ln.category == "meals":
            continue
        conv = ln.conv
        total += conv if ln.allowance is None else min(conv, ln.allowance)
    for allowance, meals in meal_days.values():
        paid = sum(m.conv for m in meals if m.n not in blocked)
        total += min(paid, allowance)
    return total


# --- entry point ----------------------------------------------------------------------------------
def evaluate(claim: Any, context: Any = None) -> dict[str, Any]:
    """Check an ``ExpenseClaim`` (and optional ``ClaimContext``) against the expense policy."""
    level = claim.employee_level
    lines = _lines(claim)
    f = Findings()

    check_amounts(lines, f)
    check_fx(lines, f)
    check_dates(lines, _days(claim.submitted_on), f)
    check_receipts(lines, f)
    check_source(lines, context, f)
    check_ambiguity(context, f)
    check_duplicates(lines, context, f)
    meal_days = check_meals(lines, f)
    check_entertainment_and_gifts(lines, level, f)
    check_lodging(lines, level, f)
    check_airfare(lines, level, f)
    check_mileage(lines, f)
    check_supplies_telecom_ground(lines, level, f)

    convs = [ln.conv for ln in lines]
    total_claimed = None if None in convs else sum(convs)
    check_claim(lines, level, context, total_claimed, f)

    total_reimbursable = None
    if total_claimed is not None and not f.missing:
        total_reimbursable = reimbursable(lines, meal_days, f.blocked)

    if f.violations:
        verdict = "fail"
    elif f.missing:
        verdict = "unknown"
    elif f.reviews:
        verdict = "review"
    else:
        verdict = "pass"
    return {
        "verdict": verdict,
        "violations": f.violations,
        "reviews": f.reviews,
        "missing": f.missing,
        "derived": {
            "total_claimed": None if total_claimed is None else Decimal(total_claimed) / 100,
            "total_reimbursable": (
                None if total_reimbursable is None else Decimal(total_reimbursable) / 100
            ),
        },
    }
