"""The retail context builder: (database, history, proposed call) → the pack's ``Context``.

Only the records the call touches go in: the authenticated user(s) with their payment methods and
gift-card balances, the order the call names (items, status, payments), the product variants the
call names as new items, and a compact history (one step per earlier call: name, verdict, whether it
ran, the order or user it named, the user a lookup found). The rules derive everything else —
who is authenticated, what was already done to an order — from these facts.
"""

from __future__ import annotations

from typing import Any

from nesyflow.replay import History, ProposedCall

__all__ = ["build_context"]

_LOOKUPS = ("find_user_id_by_email", "find_user_id_by_name_zip")


def _authenticated(history: History) -> list[str]:
    users = [history.principal] if history.principal else []
    for _, call in history.executed():
        if call.name in _LOOKUPS and isinstance(call.result, str) and call.result not in users:
            users.append(call.result)
    return users


def _user(db: Any, user_id: str) -> dict[str, Any] | None:
    user = db.user(user_id)
    if user is None:
        return None
    return {
        "user_id": user_id,
        "payment_methods": [
            {"id": mid, "source": m["source"], "balance": m.get("balance")}
            for mid, m in user.get("payment_methods", {}).items()
        ],
    }


def _order(db: Any, order_id: str) -> dict[str, Any] | None:
    order = db.order(order_id)
    if order is None:
        return None
    return {
        "order_id": order_id,
        "user_id": order["user_id"],
        "status": order["status"],
        "items": [
            {"item_id": i["item_id"], "product_id": i["product_id"], "price": str(i["price"])}
            for i in order["items"]
        ],
        "payments": [
            {
                "kind": p["transaction_type"],
                "amount": str(p["amount"]),
                "payment_method_id": p["payment_method_id"],
            }
            for p in order["payment_history"]
        ],
    }


def _lookup(db: Any, call: ProposedCall) -> str | None:
    """Whom the proposed lookup would find (the rules judge a lookup by its outcome)."""
    a = call.arguments
    if call.name == "find_user_id_by_email":
        return db.user_by_email(str(a.get("email", "")))
    if call.name == "find_user_id_by_name_zip":
        return db.user_by_name_zip(
            str(a.get("first_name", "")), str(a.get("last_name", "")), str(a.get("zip", ""))
        )
    return None


def build_context(db: Any, history: History, call: ProposedCall) -> dict[str, Any]:
    """The data of the pack's ``Context`` (rules/retail/schema.py) for checking ``call`` after
    ``history`` on database ``db``; the checker validates it with the pack's own model class."""
    args = call.arguments
    users = [u for u in (_user(db, uid) for uid in _authenticated(history)) if u is not None]
    orders = []
    if isinstance(args.get("order_id"), str):
        order = _order(db, args["order_id"])
        if order is not None:
            orders.append(order)
    variants = []
    for item_id in dict.fromkeys(args.get("new_item_ids") or ()):
        variant = db.variant(item_id)
        if variant is not None:
            variants.append(
                {
                    "item_id": item_id,
                    "product_id": db.product_of(item_id),
                    "available": bool(variant.get("available")),
                    "price": str(variant["price"]),
                }
            )
    steps = []
    for index, done in enumerate(history.calls):
        found = done.result if done.executed and done.name in _LOOKUPS else None
        steps.append(
            {
                "index": index,
                "name": done.name,
                "verdict": done.verdict,
                "executed": done.executed,
                "order_id": done.arguments.get("order_id"),
                "user_id": done.arguments.get("user_id"),
                "found_user": found if isinstance(found, str) else None,
            }
        )
    confirmation = {True: "yes", False: "no"}.get(call.confirmed)  # type: ignore[arg-type]
    return {
        "authenticated_user": history.principal,
        "lookup_user": _lookup(db, call),
        "confirmation": confirmation,
        "users": users,
        "orders": orders,
        "variants": variants,
        "history": steps,
    }
