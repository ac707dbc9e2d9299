"""The retail agent's grounded proposer: the next call is chosen among those the rules allow now.

Each turn:

1. **Candidates** — every call the conversation grounds, best first, each argument a span of the
   text or a result so far that the database knows: the customer's e-mail
   (``find_user_id_by_email``), a name ("You are Yusuf Rossi", a last name from a user id span
   such as ``lucas_santos_6600``) with a zip (``find_user_id_by_name_zip``); the orders the
   customer names (``#W2378156``), the products of their items the request mentions ("mechanical
   keyboard"), the customer's details (the user id a lookup returned or the text names) and the
   rest of their orders. Nothing here knows the policy: a call on an order before anyone is
   authenticated, or on another customer's order, is still a candidate.
2. **What the rules allow** — the retail pack checks every candidate in the current state
   (:func:`nesyflow.replay.check_call` with the run's database copy and history, as ``dispatch``
   will): only ``allow`` stays. "Authenticate first", "one customer per conversation", "only the
   customer's own orders" are the pack's rules, not this file's ordering.
3. **The choice** — among the allowed calls only: the grounded policy takes the first
   (``$NESYFLOW_RETAIL_CHOOSER=policy``, the default), or the model picks one
   (``model``: ``$NESYFLOW_MODEL`` or the embedded model, a short question with the allowed calls
   as letters; "none of these" ends the turn with ``done``). Nothing allowed: ``done`` once the
   customer is identified, else ``transfer_to_human_agents``.

What to change (which items to exchange for which, which payment method) is left to a person: the
candidates are read-only calls and the transfer. The step pack and ``dispatch``'s own check by the
retail pack still stand between the choice and any tool.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from nesyflow._imports import load_module
from nesyflow.extract import Segment, find

__all__ = ["GroundArgs", "Grounded", "Option", "candidates", "propose"]

_HERE = Path(__file__).resolve().parent
_PACK = _HERE.parents[1] / "rules" / "retail"
_agent = load_module(_HERE / "agent.py")
Proposal = _agent.Proposal
Session = _agent.Session
DOMAIN = _agent.DOMAIN

_NAME = re.compile(
    r"\b(?:You are|called|name is|I am)\s+(?:an?\s+[a-z ]+?\s+)?"
    r"(?P<first>[A-Z][a-z]+)(?:\s+(?P<last>[A-Z][a-z]+))?"
)
_USER_ID = re.compile(r"\b(?P<first>[a-z]+)_(?P<last>[a-z]+)_\d{3,5}\b")


class GroundArgs(BaseModel):
    reason_for_call: str
    known_info: str = ""
    confirmed: bool | None = None
    session: Session  # type: ignore[valid-type]


class Option(BaseModel):
    """A candidate call and what the retail pack says of it in the current state."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    verdict: Literal["allow", "deny", "review"]
    rules: list[str] = Field(default_factory=list)


class Grounded(BaseModel):
    """The turn's choice and how it was made: the proposal (what the step pack checks), every
    candidate with the pack's verdict, and who chose among the allowed ones."""

    proposal: Proposal  # type: ignore[valid-type]
    options: list[Option] = Field(default_factory=list)
    chosen_by: Literal["policy", "model", "nothing allowed"] = "policy"


def _key(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps([name, arguments], sort_keys=True)


def candidates(text: str, session: Any) -> list[Any]:
    """Every call the conversation grounds (see the module doc), best first, none made before."""
    seg = Segment("request", text)
    db = session.database()
    made = {_key(c.name, c.arguments) for c in session.calls}
    ok = [c for c in session.calls if not c.error]
    out: list[Any] = []

    def add(name: str, **arguments: Any) -> None:
        if _key(name, arguments) not in made and all(
            _key(p.name, _agent.tool_arguments(p.name, p)) != _key(name, arguments) for p in out
        ):
            out.append(Proposal(name=name, **arguments))

    for email in [o.value for o in find("email", seg)]:
        if db.user_by_email(email):
            add("find_user_id_by_email", email=email)
    names = [(m.group("first"), m.group("last")) for m in _NAME.finditer(text)]
    ids = [(m.group("first").title(), m.group("last").title()) for m in _USER_ID.finditer(text)]
    people = [(f, last or next((i[1] for i in ids if i[0] == f), None)) for f, last in names]
    for first, last in [*people, *ids]:
        for zip_code in [o.value for o in find("zip", seg)]:
            if last and db.user_by_name_zip(first, last, zip_code):
                add("find_user_id_by_name_zip", first_name=first, last_name=last, zip=zip_code)
    mentioned = [o.value for o in find("identifier", seg) if db.order(o.value) is not None]
    _orders_and_products(mentioned, ok, text, add)
    found = [
        c.result for c in ok if c.name.startswith("find_user_id") and isinstance(c.result, str)
    ]
    named = [m.group(0) for m in _USER_ID.finditer(text)]
    for user_id in dict.fromkeys([*found, *named]):
        if db.user(user_id) is not None:
            add("get_user_details", user_id=user_id)
    details = next((c.result for c in ok if c.name == "get_user_details"), None) or {}
    _orders_and_products(list(details.get("orders") or []), ok, text, add)
    return out


def _orders_and_products(orders: list[str], ok: list[Any], text: str, add: Any) -> None:
    for order_id in orders:
        add("get_order_details", order_id=order_id)
    low = text.lower()
    for c in ok:
        if c.name != "get_order_details" or not isinstance(c.result, dict):
            continue
        if c.result.get("order_id") not in orders:
            continue
        for item in c.result.get("items") or []:
            if str(item.get("name", "")).lower() in low:
                add("get_product_details", product_id=str(item.get("product_id", "")))


@cache
def _pack() -> Any:
    from nesyflow.logic import load_pack

    return load_pack(_PACK)


def allowed_now(proposals: list[Any], session: Any, confirmed: bool | None) -> list[Option]:
    """The retail pack's verdict on each proposal in the current state (the run's database copy
    and history), exactly as ``dispatch``'s check will see it."""
    from nesyflow.replay import ProposedCall, check_call

    db, history = session.database(), session.history()
    out = []
    for p in proposals:
        arguments = _agent.tool_arguments(p.name, p)
        got = check_call(_pack(), DOMAIN, db, history, ProposedCall(p.name, arguments, confirmed))
        out.append(
            Option(name=p.name, arguments=arguments, verdict=got.verdict, rules=sorted(got.rules))
        )
    return out


def _describe(option: Option) -> str:
    args = ", ".join(f"{k}={v}" for k, v in option.arguments.items())
    return f"{option.name}({args})"


def _model_choice() -> Callable[[str, list[Option]], int | None]:
    from nesyflow.extract import ModelChooser
    from nesyflow.llm import resolve_model

    chooser = ModelChooser(resolve_model(None, None))

    def choose(text: str, allowed: list[Option]) -> int | None:
        return chooser.choose(
            text,
            "Which call should the customer-service agent make next?",
            [_describe(o) for o in allowed],
        )

    return choose


def propose(args: GroundArgs) -> Grounded:
    """The next call, chosen among those the rules allow now (see the module doc)."""
    text = f"{args.reason_for_call}\n{args.known_info}"
    session = args.session
    proposals = candidates(text, session)
    options = allowed_now(proposals, session, args.confirmed)
    allowed = [(p, o) for p, o in zip(proposals, options, strict=True) if o.verdict == "allow"]
    identified = session.principal is not None or any(
        c.name.startswith("find_user_id") and not c.error for c in session.calls
    )
    if not allowed:
        if identified:
            return Grounded(
                proposal=Proposal(name="done"), options=options, chosen_by="nothing allowed"
            )
        return Grounded(
            proposal=Proposal(
                name="transfer_to_human_agents",
                summary="The customer could not be identified from an e-mail or a name and zip code.",
            ),
            options=options,
            chosen_by="nothing allowed",
        )
    if os.environ.get("NESYFLOW_RETAIL_CHOOSER", "policy").strip() == "model":
        pick = _model_choice()(text, [o for _, o in allowed])
        if pick is None or not 0 <= pick < len(allowed):
            return Grounded(proposal=Proposal(name="done"), options=options, chosen_by="model")
        return Grounded(proposal=allowed[pick][0], options=options, chosen_by="model")
    return Grounded(proposal=allowed[0][0], options=options, chosen_by="policy")
