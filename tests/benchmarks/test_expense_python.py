"""The plain-Python baseline (benchmarks/expense_python.py) decides exactly what the ASP pack does.

Every case of ``rules/expense/tests/*.yaml`` and every ``expected`` claim of
``agents/expense/samples.jsonl`` goes through ``nesyflow.logic.check`` and ``evaluate``; verdict,
violation ids, review ids, missing fields and the derived totals must be equal. A seeded property
test then throws claims built around the policy's thresholds at both.
"""

import datetime as dt
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "expense"
SAMPLES = ROOT / "agents" / "expense" / "samples.jsonl"
TOTALS = ("total_claimed", "total_reimbursable")


def _load_baseline():
    spec = importlib.util.spec_from_file_location(
        "expense_python", ROOT / "benchmarks" / "expense_python.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


def _yaml_cases() -> list[tuple[str, dict, dict | None]]:
    out = []
    for file in sorted((PACK / "tests").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text(encoding="utf-8"))["cases"]:
            out.append((f"{file.stem}: {case['name']}", case["input"], case.get("context")))
    return out


def _samples() -> list[tuple[str, dict]]:
    with SAMPLES.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(row["id"], row["expected"]) for row in rows]


YAML_CASES = _yaml_cases()
SAMPLE_CLAIMS = _samples()


@pytest.fixture(scope="module")
def pack():
    from nesyflow.logic import load_pack

    return load_pack(PACK)


def _asp(pack, claim, context) -> dict:
    from nesyflow.logic import check

    result = check(pack, claim, context)
    assert result.reason is None or result.missing, result.reason
    return {
        "verdict": result.verdict.value,
        "violations": {f.rule for f in result.violations},
        "reviews": {f.rule for f in result.reviews},
        "missing": set(result.missing),
        "derived": {key: result.derived.get(key) for key in TOTALS},
    }


def _python(claim, context) -> dict:
    got = baseline.evaluate(claim, context)
    return {**got, "derived": {key: got["derived"][key] for key in TOTALS}}


def _agree(pack, data: dict, context_data: dict | None = None) -> None:
    claim = pack.input_model.model_validate(data)
    context = None if context_data is None else pack.context_model.model_validate(context_data)
    assert _python(claim, context) == _asp(pack, claim, context)


def test_corpus_is_complete():
    assert len(YAML_CASES) == 91
    assert len(SAMPLE_CLAIMS) == 70


@pytest.mark.parametrize(("name", "data", "context"), YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_pack_cases_agree(pack, name, data, context):
    _agree(pack, data, context)


@pytest.mark.parametrize(("sample_id", "data"), SAMPLE_CLAIMS, ids=[s[0] for s in SAMPLE_CLAIMS])
def test_sample_claims_agree(pack, sample_id, data):
    _agree(pack, data)


def test_result_shape(pack):
    claim = pack.input_model.model_validate(YAML_CASES[0][1])
    got = baseline.evaluate(claim)
    assert set(got) == {"verdict", "violations", "reviews", "missing", "derived"}
    assert got["verdict"] in {"pass", "fail", "review", "unknown"}
    assert all(isinstance(got[k], set) for k in ("violations", "reviews", "missing"))
    assert set(got["derived"]) == set(TOTALS)
    assert isinstance(got["derived"]["total_claimed"], Decimal)


# --- hand-picked corners of the ASP semantics ------------------------------------------------------
def _claim(*items, submitted="2025-03-14", level="staff", justification=None):
    return {
        "employee_name": "Edge",
        "employee_level": level,
        "submitted_on": submitted,
        "justification": justification,
        "items": list(items),
    }


def _meal(amount, **extra):
    base = {"date": "2025-03-12", "category": "meals", "merchant": "Cafe", "city_tier": 2}
    return {**base, "amount": amount, "alcohol": False, "receipt_attached": True, **extra}


EDGE_CASES = {
    # clingo's remainder truncates: before 1969-12-29 no date counts as a weekend day.
    "saturday before 1970 is not a weekend": _claim(
        {"date": "1969-12-13", "category": "rail", "merchant": "Amtrak", "amount": "10"},
        submitted="1969-12-20",
    ),
    "sunday 1969-12-28 is not a weekend either": _claim(
        {"date": "1969-12-28", "category": "rail", "merchant": "Amtrak", "amount": "10"},
        submitted="1969-12-30",
    ),
    "saturday 1970-01-03 is a weekend": _claim(
        {"date": "1970-01-03", "category": "rail", "merchant": "Amtrak", "amount": "10"},
        submitted="1970-01-05",
    ),
    "a meal with 0 attendees leaves its day unjudged and unpaid": _claim(
        _meal("90.00", attendees=0), _meal("30.00", merchant="Deli")
    ),
    "a blocked meal still widens the day's allowance": _claim(
        _meal("20.00", attendees=3, alcohol=True), _meal("150.00", merchant="Grill")
    ),
    "negative foreign amounts round half away from zero": _claim(
        {
            "date": "2025-03-12",
            "category": "rail",
            "merchant": "JR",
            "amount": "-1234567",
            "currency": "JPY",
            "fx_rate": "0.0067",
        },
        {
            "date": "2025-03-12",
            "category": "rail",
            "merchant": "DB",
            "amount": "0.05",
            "currency": "EUR",
            "fx_rate": "1.1",
        },
    ),
    "sub-cent amounts and rates are rounded half-even before the rules see them": _claim(
        {
            "date": "2025-03-12",
            "category": "rail",
            "merchant": "DB",
            "amount": "74.995",
            "currency": "EUR",
            "fx_rate": "1.00005",
            "receipt_attached": False,
        },
        {"date": "2025-03-12", "category": "rail", "merchant": "DB", "amount": "74.985"},
        {"date": "2025-03-12", "category": "rail", "merchant": "DB", "amount": "74.98"},
    ),
    "three copies: the two later ones are duplicates, no split between copies": _claim(
        *[
            {
                "date": "2025-03-12",
                "category": "office_supplies",
                "merchant": "Staples",
                "amount": "40.00",
            }
        ]
        * 3
    ),
    "split across currencies at one merchant": _claim(
        {"date": "2025-03-12", "category": "other", "merchant": "Shop", "amount": "40.00"},
        {
            "date": "2025-03-12",
            "category": "other",
            "merchant": "Shop",
            "amount": "40.00",
            "currency": "EUR",
            "fx_rate": "0.9",
            "receipt_attached": True,
        },
        justification="offsite",
    ),
    "training counts even when another item cannot be converted": _claim(
        {
            "date": "2025-03-12",
            "category": "training",
            "merchant": "Coursera",
            "amount": "1600",
            "receipt_attached": True,
        },
        {
            "date": "2025-03-12",
            "category": "rail",
            "merchant": "DB",
            "amount": "10",
            "currency": "EUR",
        },
    ),
    "a USD item with rate 1.00004 encodes to rate 1": _claim(
        {
            "date": "2025-03-12",
            "category": "rail",
            "merchant": "Amtrak",
            "amount": "10",
            "fx_rate": "1.00004",
        },
    ),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_agree(pack, name):
    _agree(pack, EDGE_CASES[name])


# --- generated claims around the thresholds ---------------------------------------------------------
SUBMITTED = dt.date(2025, 3, 14)  # a Friday
CATEGORIES = [
    "meals",
    "lodging",
    "airfare",
    "rail",
    "ground_transport",
    "mileage",
    "office_supplies",
    "client_entertainment",
    "training",
    "telecom",
    "gifts",
    "other",
]
# Amounts near the limits ($25, $60, $75, $100, $150, ...), odd cents and sub-cent digits.
AMOUNTS = st.one_of(
    st.sampled_from(
        [
            "0",
            "-15.00",
            "24.99",
            "25.00",
            "25.01",
            "37.50",
            "37.49",
            "60.00",
            "74.99",
            "75.00",
            "100.00",
            "100.01",
            "150.00",
            "150.01",
            "199.99",
            "300.00",
            "412.60",
            "1000.00",
            "1000.01",
            "1500.00",
            "0.005",
            "0.015",
            "12.345",
        ]
    ).map(Decimal),
    st.decimals(min_value=Decimal("-50"), max_value=Decimal("3000"), places=2),
)
RATES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "1",
            "1.0000",
            "1.0850",
            "1.2712",
            "0.0067",
            "0.00665",
            "0",
            "-1",
            "5",
            "5.0001",
            "150.2",
            "0.5",
            "0.7531",
        ]
    ).map(Decimal),
)
DATES = st.one_of(
    st.none(),
    st.sampled_from([-1, 0, 1, 5, 6, 7, 30, 31, 60, 61]).map(
        lambda back: SUBMITTED - dt.timedelta(days=back)
    ),
)
SMALL = st.one_of(st.none(), st.integers(min_value=-1, max_value=20))


def _rare(draw, usual, edge):
    """Mostly a well-formed value, one time in ten an edge case."""
    return draw(edge) if draw(st.integers(min_value=0, max_value=9)) == 0 else draw(usual)


@st.composite
def items(draw):
    category = draw(st.sampled_from(CATEGORIES))
    currency = _rare(draw, st.just("USD"), st.sampled_from(["EUR", "JPY", "GBP"]))
    rate = {"USD": None, "EUR": Decimal("1.0850"), "JPY": Decimal("0.0067")}.get(currency)
    item = {
        "date": _rare(
            draw,
            st.sampled_from([SUBMITTED - dt.timedelta(days=d) for d in (1, 2, 3, 4, 7, 10)]),
            DATES,
        ),
        "category": category,
        "merchant": draw(st.sampled_from(["Uber", "Staples", "Hilton", "Verizon", "Delta"])),
        "amount": _rare(
            draw, st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=2), AMOUNTS
        ),
        "currency": currency,
        "fx_rate": _rare(draw, st.just(rate), RATES),
        "receipt_attached": _rare(draw, st.just(True), st.one_of(st.none(), st.booleans())),
        "alcohol": _rare(draw, st.just(False), st.one_of(st.none(), st.just(True))),
        "justification": _rare(draw, st.just("client visit"), st.sampled_from([None, ""])),
    }
    usual = {
        "meals": {
            "city_tier": st.sampled_from([1, 2, 3]),
            "attendees": st.sampled_from([None, 1, 2, 4]),
        },
        "lodging": {"city_tier": st.sampled_from([1, 2, 3]), "nights": st.integers(1, 16)},
        "client_entertainment": {"attendees": st.integers(1, 12)},
        "gifts": {"attendees": st.sampled_from([None, 1, 2, 5])},
        "airfare": {
            "fare_class": st.sampled_from(["economy", "premium_economy", "business", "first"])
        },
        "mileage": {"miles": st.integers(1, 500)},
    }.get(category, {})
    edges = {
        "city_tier": st.one_of(st.none(), st.sampled_from([1, 2, 3])),
        "nights": SMALL,
        "attendees": SMALL,
        "fare_class": st.none(),
        "miles": st.one_of(st.none(), st.integers(min_value=-1, max_value=500)),
    }
    for name, edge in edges.items():
        item[name] = _rare(draw, usual.get(name, st.none()), edge)
    return item


@st.composite
def claims(draw):
    chosen = draw(st.lists(items(), max_size=5))
    # Copies and near-copies of earlier items exercise duplicates and split purchases.
    if chosen and draw(st.booleans()):
        twin = dict(draw(st.sampled_from(chosen)))
        if draw(st.integers(min_value=0, max_value=3)):
            twin["amount"] = draw(
                st.decimals(min_value=Decimal("1"), max_value=Decimal("80"), places=2)
            )
        twin["receipt_attached"] = draw(st.one_of(st.none(), st.booleans()))
        chosen.append(twin)
    claim = {
        "employee_name": "Test",
        "employee_level": draw(st.sampled_from(["staff", "manager", "director", "executive"])),
        "submitted_on": SUBMITTED,
        "justification": draw(st.sampled_from([None, "", "trip"])),
        "items": chosen,
    }
    context = None
    if draw(st.booleans()):
        prior = [
            {k: it[k] for k in ("merchant", "date", "amount", "currency")}
            for it in chosen
            if it["date"] is not None and not draw(st.integers(min_value=0, max_value=4))
        ]
        ytd = draw(st.sampled_from(["0", "1000.00", "1499.99", "4999.00"]))
        context = {"prior_items": prior, "training_spent_ytd": ytd}
    return claim, context


@settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(claims())
def test_generated_claims_agree(pack, case):
    data, context = case
    _agree(pack, data, context)
