"""The retail agent's grounded proposer: the next read-only call from what the text and the results
so far say, every argument a span of the conversation checked against the database first.

* identify the customer: an e-mail span that the database knows → ``find_user_id_by_email``; else
  a name ("You are Yusuf Rossi", "called Noah Patel"; a last name may come from a user id span
  such as ``lucas_santos_6600``) and a zip span that the database knows together →
  ``find_user_id_by_name_zip``; else a person (``transfer_to_human_agents``);
* the orders the customer names (``#W2378156`` spans that exist), then the products of their items
  whose names the request mentions ("mechanical keyboard"), then the customer's details and the
  rest of their orders;
* then ``done``: what to change (which items to exchange for which, which payment method) is a
  judgement this agent leaves to a person — the 135M model made no correct call on these scenarios.

Every proposal still goes through the step pack and the retail pack before anything runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nesyflow._imports import load_module
from nesyflow.extract import Segment, find

__all__ = ["GroundArgs", "propose"]

_HERE = Path(__file__).resolve().parent
_agent = load_module(_HERE / "agent.py")
Proposal = _agent.Proposal
Session = _agent.Session

_NAME = re.compile(
    r"\b(?:You are|called|name is|I am)\s+(?:an?\s+[a-z ]+?\s+)?"
    r"(?P<first>[A-Z][a-z]+)(?:\s+(?P<last>[A-Z][a-z]+))?"
)
_USER_ID = re.compile(r"\b(?P<first>[a-z]+)_(?P<last>[a-z]+)_\d{3,5}\b")


class GroundArgs(BaseModel):
    reason_for_call: str
    known_info: str = ""
    session: Session  # type: ignore[valid-type]


def _key(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps([name, arguments], sort_keys=True)


def propose(args: GroundArgs) -> Proposal:  # type: ignore[valid-type]
    """The next call (see the module doc)."""
    text = f"{args.reason_for_call}\n{args.known_info}"
    seg = Segment("request", text)
    session = args.session
    db = session.database()
    made = {_key(c.name, c.arguments) for c in session.calls}
    ok = [c for c in session.calls if not c.error]

    def fresh(name: str, **arguments: Any) -> bool:
        return _key(name, arguments) not in made

    user_id = next(
        (c.result for c in ok if c.name.startswith("find_user_id") and isinstance(c.result, str)),
        None,
    )
    if user_id is None:
        for email in [o.value for o in find("email", seg)]:
            if db.user_by_email(email) and fresh("find_user_id_by_email", email=email):
                return Proposal(name="find_user_id_by_email", email=email)
        names = [(m.group("first"), m.group("last")) for m in _NAME.finditer(text)]
        ids = [(m.group("first").title(), m.group("last").title()) for m in _USER_ID.finditer(text)]
        people = [(f, last or next((i[1] for i in ids if i[0] == f), None)) for f, last in names]
        people += ids
        for first, last in people:
            for zip_code in [o.value for o in find("zip", seg)]:
                if (
                    last
                    and db.user_by_name_zip(first, last, zip_code)
                    and fresh(
                        "find_user_id_by_name_zip", first_name=first, last_name=last, zip=zip_code
                    )
                ):
                    return Proposal(
                        name="find_user_id_by_name_zip",
                        first_name=first,
                        last_name=last,
                        zip=zip_code,
                    )
        return Proposal(
            name="transfer_to_human_agents",
            summary="The customer could not be identified from an e-mail or a name and zip code.",
        )
    mentioned = [o.value for o in find("identifier", seg) if db.order(o.value) is not None]
    proposal = _orders_and_products(mentioned, ok, text, fresh)
    if proposal is not None:
        return proposal
    if fresh("get_user_details", user_id=user_id):
        return Proposal(name="get_user_details", user_id=user_id)
    details = next((c.result for c in ok if c.name == "get_user_details"), None) or {}
    proposal = _orders_and_products(list(details.get("orders") or []), ok, text, fresh)
    return proposal if proposal is not None else Proposal(name="done")


def _orders_and_products(orders: list[str], ok: list[Any], text: str, fresh: Any) -> Any:
    for order_id in orders:
        if fresh("get_order_details", order_id=order_id):
            return Proposal(name="get_order_details", order_id=order_id)
    low = text.lower()
    for c in ok:
        if c.name != "get_order_details" or not isinstance(c.result, dict):
            continue
        if c.result.get("order_id") not in orders:
            continue
        for item in c.result.get("items") or []:
            product = str(item.get("product_id", ""))
            if str(item.get("name", "")).lower() in low and fresh(
                "get_product_details", product_id=product
            ):
                return Proposal(name="get_product_details", product_id=product)
    return None
