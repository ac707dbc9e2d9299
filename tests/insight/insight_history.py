"""A real store of decided reviews for the precedent and proposal tests: a one-node workflow whose
check node holds each expense claim to the shipped ``rules/expense`` pack (``on_fail: human``), run
by the engine, the reviews decided by people through ``nesyflow.review.decide``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from nesyflow.engine import start_run
from nesyflow.graph import load_workflow
from nesyflow.review import decide

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW = """\
name: claims_check
version: "1"
input_schema: {schema}:ExpenseClaim
start: extract
nodes:
  extract:
    kind: check
    value: input
    packs: [{pack}]
    on_fail: human
"""


def write_workflow(folder: Path) -> Any:
    path = folder / "workflow.yaml"
    path.write_text(
        WORKFLOW.format(schema=ROOT / "rules/expense/schema.py", pack=ROOT / "rules/expense")
    )
    return load_workflow(path)


def meal(
    amount: str, *, tier: int = 1, level: str = "manager", day: int = 10, name: str = "Rahul Mehta"
) -> dict[str, Any]:
    """A one-meal claim (dinner in a tier-``tier`` city): over the per diem when amount > the tier's."""
    date = dt.date(2025, 3, day)
    return {
        "employee_name": name,
        "employee_level": level,
        "submitted_on": str(date + dt.timedelta(days=2)),
        "items": [
            {
                "date": str(date),
                "category": "meals",
                "merchant": "Carmine's",
                "description": f"client dinner, {Decimal(amount)} with tip",
                "amount": amount,
                "city_tier": tier,
                "alcohol": False,
                "receipt_attached": True,
            }
        ],
    }


def run_and_decide(
    store: Any, flow: Any, claim: dict[str, Any], action: str | None, who: str, comment: str
) -> str:
    """Run ``claim``; decide its review (``action`` None leaves it open). Returns the review id."""
    result = start_run(flow, claim, store=store)
    assert result.review_id, f"expected a review for {claim['items'][0]['amount']}"
    if action is not None:
        decide(result.review_id, action, who, comment, store=store)
    return result.review_id


AMOUNTS = ("104.00", "107.50", "110.00", "112.25", "115.00", "118.00")  # tier 1 allows 100.00


def build(folder: Path) -> dict[str, Any]:
    """Six approvals of a manager's tier-1 dinner over the per diem, a rejection far over it, two
    rejections of alcohol on a travel meal, and two open reviews (one of each kind)."""
    from nesyflow.store import open_store

    url = f"sqlite:///{folder / 'store.db'}"
    store = open_store(url)
    flow = write_workflow(folder)
    approved = [
        run_and_decide(store, flow, meal(a, day=3 + i), "approve", who, "client dinner agreed")
        for i, (a, who) in enumerate(zip(AMOUNTS, ["ana.lopez", "ben.okafor"] * 3, strict=True))
    ]
    far = run_and_decide(store, flow, meal("190.00", day=11), "reject", "chen.wei", "far over")
    beer = []
    for day in (4, 5):
        claim = meal("38.00", tier=2, level="staff", day=day, name="Grace Kim")
        claim["items"][0].update(alcohol=True, description="burger and two IPAs")
        beer.append(run_and_decide(store, flow, claim, "reject", "dana.w", "alcohol not paid"))
    open_meal = run_and_decide(store, flow, meal("108.00", day=12), None, "", "")
    claim = meal("36.00", tier=2, level="staff", day=13, name="Grace Kim")
    claim["items"][0].update(alcohol=True, description="tacos and a beer")
    open_beer = run_and_decide(store, flow, claim, None, "", "")
    return {
        "store": store,
        "url": url,
        "flow": flow,
        "approved": approved,
        "far": far,
        "beer": beer,
        "open_meal": open_meal,
        "open_beer": open_beer,
    }
