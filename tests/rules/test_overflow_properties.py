"""Property tests on every shipped pack: large, negative and many values never pass (or allow) on
a wrapped result, and whatever the guard does not refuse is exactly the unguarded pack's result.

Each property has an oracle computed here in Python with unbounded integers from the input alone
(the claim's exact total, a bag's exact linear size, an exchange's exact price difference), so a
guard that missed a wrap would be caught, not trusted.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nesyflow.logic import Verdict, _arith, check, check_many, load_pack
from nesyflow.logic.pack import without_guard

ROOT = Path(__file__).resolve().parents[2]
MAX = _arith.INT_MAX
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _unguarded(pack):
    return without_guard(pack)


@pytest.fixture(scope="module")
def packs():
    out = {}
    for name in ("expense", "airline_baggage", "retail"):
        pack = load_pack(ROOT / "rules" / name)
        out[name] = (pack, _unguarded(pack))
    step = load_pack(ROOT / "agents" / "retail_service" / "step")
    out["step"] = (step, _unguarded(step))
    return out


def _refused(result) -> bool:
    return result.verdict == Verdict.UNKNOWN and (result.reason or "").startswith(
        ("too large to compute exactly", "input could not be encoded")
    )


def _agree(guarded, plain) -> None:
    """Not refused → exactly the unguarded pack's result."""
    assert guarded.verdict == plain.verdict, (guarded.reason, plain.reason)
    assert guarded.derived == plain.derived
    assert guarded.atoms == plain.atoms


# --- expense ----------------------------------------------------------------------------------

cents = st.one_of(
    st.integers(1, 100_000),
    st.integers(MAX - 1_000, MAX),
    st.integers(-MAX, MAX),
    st.integers(1_000_000_000, MAX),
)
item = st.fixed_dictionaries(
    {
        "date": st.sampled_from(["2025-03-04", "2025-03-05", "2025-02-01"]),
        "category": st.sampled_from(["other", "ground_transport", "office_supplies", "training"]),
        "merchant": st.sampled_from(["Acme", "Acme West", "Bolt"]),
        "amount": cents.map(lambda c: str(Decimal(c) / 100)),
        "receipt_attached": st.just(True),
        "justification": st.just("client project"),
    },
    optional={
        "currency": st.sampled_from(["USD", "EUR"]),
        "fx_rate": st.integers(1, 50_000).map(lambda r: str(Decimal(r) / 10_000)),
    },
)
claims = st.fixed_dictionaries(
    {
        "employee_name": st.just("Sam Ortiz"),
        "employee_level": st.sampled_from(["staff", "executive"]),
        "submitted_on": st.just("2025-03-10"),
        "items": st.lists(item, min_size=1, max_size=30),
    }
)


def _conv(amount_cents: int, currency: str, rate: int | None) -> int | None:
    """The pack's conversion (base.lp) in exact integers; None where the pack has no value."""
    if currency == "USD":
        return amount_cents
    if rate is None or not 0 < rate <= 50_000:
        return None
    a = abs(amount_cents)
    value = (a // 10_000) * rate + ((a % 10_000) * rate + 5_000) // 10_000
    return value if amount_cents >= 0 else -value


def _convs(claim: dict) -> list[int | None]:
    out = []
    for it in claim["items"]:
        amount = int(Decimal(it["amount"]) * 100)
        rate = int(Decimal(it["fx_rate"]) * 10_000) if "fx_rate" in it else None
        out.append(_conv(amount, it.get("currency", "USD"), rate))
    return out


def _exact_total(claim: dict) -> int | None:
    convs = _convs(claim)
    return None if None in convs else sum(convs)  # type: ignore[arg-type]


@PROPS
@given(claim=claims)
def test_expense_never_passes_on_a_wrapped_total(packs, claim):
    pack, plain = packs["expense"]
    guarded = check(pack, claim)
    total = _exact_total(claim)
    if total is not None and not _arith.INT_MIN <= total <= MAX:
        assert _refused(guarded), (total, guarded.verdict, guarded.derived)
        return
    # every sum the pack takes is over a subset of the items: if even the sum of the magnitudes
    # fits, nothing can leave 32 bits and a refusal would be spurious
    if sum(abs(c) for c in _convs(claim) if c is not None) <= MAX:
        assert not _refused(guarded), guarded.reason
    if not _refused(guarded):
        _agree(guarded, check(plain, claim))
        if total is not None and "total_claimed" in guarded.derived:
            assert guarded.derived["total_claimed"] == Decimal(total) / 100


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(claims, min_size=2, max_size=12))
def test_expense_batches_refuse_exactly_what_single_checks_refuse(packs, batch):
    pack, _ = packs["expense"]
    for many, one in zip(check_many(pack, batch), [check(pack, c) for c in batch], strict=True):
        assert many.verdict == one.verdict
        assert _refused(many) == _refused(one)
        assert many.derived == one.derived


small_items = st.lists(
    item.filter(lambda i: abs(Decimal(i["amount"])) < 10_000), min_size=1, max_size=20
)


@PROPS
@given(items=small_items, level=st.sampled_from(["staff", "manager"]))
def test_expense_in_range_claims_keep_the_unguarded_verdict(packs, items, level):
    pack, plain = packs["expense"]
    claim = {
        "employee_name": "Sam Ortiz",
        "employee_level": level,
        "submitted_on": "2025-03-10",
        "items": items,
    }
    guarded = check(pack, claim)
    assert not _refused(guarded), guarded.reason
    _agree(guarded, check(plain, claim))


# --- airline baggage --------------------------------------------------------------------------

sides = st.one_of(st.integers(1, 40), st.integers(1, MAX), st.integers(MAX // 3, MAX // 2))
bags = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(max_size=8),  # no rule reads it: NUL and all
            "size": st.lists(sides, min_size=3, max_size=3),
            "weight": st.one_of(st.integers(1, 120), st.integers(1, MAX)),
        }
    ),
    min_size=1,
    max_size=8,
)
tickets = st.fixed_dictionaries(
    {
        "base_price": st.one_of(st.integers(0, 2_000), st.integers(0, MAX), st.just(MAX)),
        "customer_class": st.sampled_from(["Main Cabin", "Business", "Basic Economy"]),
        "routine": st.sampled_from(["U.S.", "Europe", "China", "Cuba"]),
        "direction": st.sampled_from([0, 1]),
        "bag_list": bags.map(lambda bs: [{**b, "id": i + 1} for i, b in enumerate(bs)]),
    }
)


@PROPS
@given(ticket=tickets)
def test_airline_never_prices_a_bag_or_a_ticket_on_a_wrapped_sum(packs, ticket):
    pack, plain = packs["airline_baggage"]
    guarded = check(pack, ticket)
    linear = [sum(b["size"]) for b in ticket["bag_list"]]
    if any(size > MAX for size in linear):
        assert _refused(guarded), (linear, guarded.verdict, guarded.derived)
        return
    if ticket["base_price"] + 650 * len(linear) <= MAX:  # a bag's fees are at most $200 + $450
        assert not _refused(guarded), guarded.reason
    if _refused(guarded):
        return
    _agree(guarded, check(plain, ticket))
    total = guarded.derived.get("total_cost")
    if total is not None:  # fees are never negative: a wrapped total would be below the price
        assert total >= ticket["base_price"]
    for bag, size in zip(ticket["bag_list"], linear, strict=True):
        fee = guarded.derived.get(f"oversize_fee({bag['id']})")
        if fee is not None:
            assert (fee == 0) == (size <= 62), (size, fee)


# --- retail -----------------------------------------------------------------------------------

prices = st.one_of(st.integers(0, 50_000), st.integers(0, MAX), st.integers(MAX - 100, MAX))


@PROPS
@given(
    old=st.lists(prices, min_size=1, max_size=5),
    new=st.lists(prices, min_size=5, max_size=5),
    balance=prices,
)
def test_retail_never_allows_on_a_wrapped_price_difference(packs, old, new, balance):
    pack, plain = packs["retail"]
    n = len(old)
    money = lambda c: str(Decimal(c) / 100)  # noqa: E731
    context = {
        "confirmation": "yes",
        "users": [
            {
                "user_id": "ann",
                "payment_methods": [{"id": "gc", "source": "gift_card", "balance": money(balance)}],
            }
        ],
        "orders": [
            {
                "order_id": "#W1",
                "user_id": "ann",
                "status": "pending",
                "items": [
                    {"item_id": f"{i}00", "product_id": f"P{i}", "price": money(p)}
                    for i, p in enumerate(old)
                ],
                "payments": [{"kind": "payment", "amount": "1.00", "payment_method_id": "gc"}],
            }
        ],
        "variants": [
            {"item_id": f"{i}01", "product_id": f"P{i}", "available": True, "price": money(p)}
            for i, p in enumerate(new[:n])
        ],
        "history": [
            {
                "index": 0,
                "name": "find_user_id_by_email",
                "verdict": "allow",
                "executed": True,
                "found_user": "ann",
            }
        ],
    }
    call = {
        "name": "modify_pending_order_items",
        "order_id": "#W1",
        "item_ids": [f"{i}00" for i in range(n)],
        "new_item_ids": [f"{i}01" for i in range(n)],
        "payment_method_id": "gc",
    }
    guarded = check(pack, call, context)
    difference = sum(new[i] - old[i] for i in range(n))
    if not _arith.INT_MIN <= difference <= MAX:
        assert _refused(guarded), (difference, guarded.verdict, guarded.derived)
        return
    assert not _refused(guarded), guarded.reason
    _agree(guarded, check(plain, call, context))
    assert guarded.derived["price_difference"] == Decimal(difference) / 100
    denied = [f.rule for f in guarded.denials]
    assert ("gift_card_balance" in denied) == (balance < difference)


# --- the retail agent's step pack -------------------------------------------------------------


@PROPS
@given(calls=st.integers(-(2**40), 2**40), limit=st.integers(-(2**40), 2**40))
def test_step_budget_numbers_are_compared_exactly_or_refused(packs, calls, limit):
    pack, plain = packs["step"]
    proposal = {"name": "get_order_details", "order_id": "#W1"}
    guarded = check(pack, proposal, {"calls": calls, "limit": limit})
    if not (_arith.INT_MIN <= calls <= MAX and _arith.INT_MIN <= limit <= MAX):
        assert _refused(guarded) and "too large" in guarded.reason
        return
    _agree(guarded, check(plain, proposal, {"calls": calls, "limit": limit}))
    assert (guarded.verdict == Verdict.REVIEW) == (calls >= limit)
