"""The retail tools: one function per tool over a run's :class:`RetailDB`, with argument models.

Each tool validates its own preconditions and raises :class:`ToolError` with a plain message when
they do not hold, whether or not the rule pack checked the call first (defence in depth: the rules
decide what the policy allows; the tools still refuse what the data cannot support). They follow the
behaviour the tau2-bench retail tools document (see data/NOTICE), written afresh for nesyflow.
Amounts are handled in integer cents and stored back as dollars with two decimals.
"""

from __future__ import annotations

import ast
import copy
import json
import operator
from collections import Counter
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nesyflow.replay import Tool, ToolError, ToolRegistry

from .db import RetailDB

__all__ = ["CANCEL_REASONS", "REGISTRY", "RetailDB", "ToolError"]

CANCEL_REASONS = ("no longer needed", "ordered by mistake")


# ---- argument models ------------------------------------------------------------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailArgs(_Args):
    email: str


class NameZipArgs(_Args):
    first_name: str
    last_name: str
    zip: str


class UserArgs(_Args):
    user_id: str


class OrderArgs(_Args):
    order_id: str


class ProductArgs(_Args):
    product_id: str


class ItemArgs(_Args):
    item_id: str


class NoArgs(_Args):
    pass


class CalculateArgs(_Args):
    expression: str


class TransferArgs(_Args):
    summary: str


class CancelArgs(_Args):
    order_id: str
    reason: str


class ItemsArgs(_Args):
    order_id: str
    item_ids: list[str] = Field(min_length=1)
    new_item_ids: list[str] = Field(min_length=1)
    payment_method_id: str


class ReturnArgs(_Args):
    order_id: str
    item_ids: list[str] = Field(min_length=1)
    payment_method_id: str


class PaymentArgs(_Args):
    order_id: str
    payment_method_id: str


class _Address(_Args):
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str

    def record(self) -> dict[str, str]:
        return self.model_dump()


class OrderAddressArgs(_Address):
    order_id: str


class UserAddressArgs(_Address):
    user_id: str


# ---- helpers -------------------------------------------------------------------------------------


def cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def dollars(amount: int) -> float:
    return round(amount / 100, 2)


def _order(db: RetailDB, order_id: str) -> dict[str, Any]:
    order = db.order(order_id)
    if order is None:
        raise ToolError(f"order {order_id} not found")
    return order


def _user(db: RetailDB, user_id: str) -> dict[str, Any]:
    user = db.user(user_id)
    if user is None:
        raise ToolError(f"user {user_id} not found")
    return user


def _method(db: RetailDB, user_id: str, method_id: str) -> dict[str, Any]:
    method = _user(db, user_id).get("payment_methods", {}).get(method_id)
    if method is None:
        raise ToolError(f"payment method {method_id} is not one of user {user_id}'s")
    return method


def _status(order: dict[str, Any], wanted: str, action: str) -> None:
    if order["status"] != wanted:
        raise ToolError(
            f"order {order['order_id']} is {order['status']!r}; only a {wanted} order can be {action}"
        )


def _check_items(order: dict[str, Any], item_ids: list[str]) -> None:
    have = Counter(item["item_id"] for item in order["items"])
    for item_id, count in Counter(item_ids).items():
        if count > have[item_id]:
            raise ToolError(f"item {item_id} is not in order {order['order_id']} {count} time(s)")


def _price_difference(db: RetailDB, order: dict[str, Any], old: list[str], new: list[str]) -> int:
    """Cents to pay (> 0) or refund (< 0) when swapping ``old[i]`` for ``new[i]``."""
    if len(old) != len(new):
        raise ToolError("item_ids and new_item_ids must have the same length")
    lines = {item["item_id"]: item for item in order["items"]}
    diff = 0
    for old_id, new_id in zip(old, new, strict=True):
        if old_id == new_id:
            raise ToolError(f"new item {new_id} is the item it replaces; pick another option")
        product_id = lines[old_id]["product_id"]
        variant = db.product(product_id)["variants"].get(new_id) if db.product(product_id) else None
        if variant is None:
            raise ToolError(f"new item {new_id} is not a variant of product {product_id}")
        if not variant.get("available"):
            raise ToolError(f"new item {new_id} is not available")
        diff += cents(variant["price"]) - cents(lines[old_id]["price"])
    return diff


def _charge(db: RetailDB, user_id: str, method_id: str, amount: int, what: str) -> None:
    """Take ``amount`` cents from a gift card (give back if negative); other methods need nothing."""
    method = _method(db, user_id, method_id)
    if method.get("source") != "gift_card":
        return
    balance = cents(method.get("balance", 0))
    if amount > 0 and balance < amount:
        raise ToolError(
            f"gift card {method_id} has {dollars(balance)}, not enough to pay {dollars(amount)} {what}"
        )
    card = db.user_for_write(user_id)["payment_methods"][method_id]
    card["balance"] = dollars(balance - amount)


def _swap_items(db: RetailDB, order: dict[str, Any], old: list[str], new: list[str]) -> None:
    changed: set[int] = set()
    for old_id, new_id in zip(old, new, strict=True):
        index = next(
            i for i, it in enumerate(order["items"]) if it["item_id"] == old_id and i not in changed
        )
        item = order["items"][index]
        variant = db.product(item["product_id"])["variants"][new_id]
        item.update(
            item_id=new_id, price=variant["price"], options=copy.deepcopy(variant["options"])
        )
        changed.add(index)


# ---- read tools -------------------------------------------------------------------------------------


def find_user_id_by_email(db: RetailDB, a: EmailArgs) -> str:
    user_id = db.user_by_email(a.email)
    if user_id is None:
        raise ToolError("user not found")
    return user_id


def find_user_id_by_name_zip(db: RetailDB, a: NameZipArgs) -> str:
    user_id = db.user_by_name_zip(a.first_name, a.last_name, a.zip)
    if user_id is None:
        raise ToolError("user not found")
    return user_id


def get_user_details(db: RetailDB, a: UserArgs) -> dict[str, Any]:
    return copy.deepcopy(_user(db, a.user_id))


def get_order_details(db: RetailDB, a: OrderArgs) -> dict[str, Any]:
    return copy.deepcopy(_order(db, a.order_id))


def get_product_details(db: RetailDB, a: ProductArgs) -> dict[str, Any]:
    product = db.product(a.product_id)
    if product is None:
        raise ToolError(f"product {a.product_id} not found")
    return copy.deepcopy(product)


def get_item_details(db: RetailDB, a: ItemArgs) -> dict[str, Any]:
    variant = db.variant(a.item_id)
    if variant is None:
        raise ToolError(f"item {a.item_id} not found")
    return {**copy.deepcopy(variant), "product_id": db.product_of(a.item_id)}


def list_all_product_types(db: RetailDB, a: NoArgs) -> str:
    return json.dumps({p["name"]: pid for pid, p in db.products.items()}, sort_keys=True)


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    raise ToolError("only numbers, + - * / and parentheses are allowed")


def calculate(db: RetailDB, a: CalculateArgs) -> str:
    """Arithmetic on numbers (parsed, never eval'd), rounded to 2 decimals."""
    if len(a.expression) > 500:
        raise ToolError("expression too long")
    try:
        tree = ast.parse(a.expression, mode="eval")
        return str(round(_evaluate(tree), 2))
    except (SyntaxError, ZeroDivisionError) as exc:
        raise ToolError(f"invalid expression: {exc}") from exc


def transfer_to_human_agents(db: RetailDB, a: TransferArgs) -> str:
    return "Transfer successful"


# ---- write tools ------------------------------------------------------------------------------------


def cancel_pending_order(db: RetailDB, a: CancelArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "pending", "cancelled")
    if a.reason not in CANCEL_REASONS:
        raise ToolError(f"reason {a.reason!r} is not one of {', '.join(CANCEL_REASONS)}")
    paid = [p for p in order["payment_history"] if p["transaction_type"] == "payment"]
    for payment in paid:  # every refund destination must exist before anything is written
        _method(db, order["user_id"], payment["payment_method_id"])
    order = db.order_for_write(a.order_id)
    refunds = []
    for payment in order["payment_history"]:
        if payment["transaction_type"] != "payment":
            continue
        _charge(db, order["user_id"], payment["payment_method_id"], -cents(payment["amount"]), "")
        refunds.append({**payment, "transaction_type": "refund"})
    order["payment_history"].extend(refunds)
    order["status"] = "cancelled"
    order["cancel_reason"] = a.reason
    return copy.deepcopy(order)


def modify_pending_order_items(db: RetailDB, a: ItemsArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "pending", "modified")
    _check_items(order, a.item_ids)
    diff = _price_difference(db, order, a.item_ids, a.new_item_ids)
    _method(db, order["user_id"], a.payment_method_id)
    _charge(db, order["user_id"], a.payment_method_id, diff, "the price difference")
    order = db.order_for_write(a.order_id)
    order["payment_history"].append(
        {
            "transaction_type": "payment" if diff > 0 else "refund",
            "amount": dollars(abs(diff)),
            "payment_method_id": a.payment_method_id,
        }
    )
    _swap_items(db, order, a.item_ids, a.new_item_ids)
    order["status"] = "pending (item modified)"
    return copy.deepcopy(order)


def modify_pending_order_address(db: RetailDB, a: OrderAddressArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "pending", "modified")
    order = db.order_for_write(a.order_id)
    order["address"] = a.model_dump(exclude={"order_id"})
    return copy.deepcopy(order)


def modify_pending_order_payment(db: RetailDB, a: PaymentArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "pending", "modified")
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise ToolError(f"order {a.order_id} must have exactly one payment to change its method")
    old_method = history[0]["payment_method_id"]
    if old_method == a.payment_method_id:
        raise ToolError(f"{a.payment_method_id} already pays for order {a.order_id}")
    amount = cents(history[0]["amount"])
    _method(db, order["user_id"], a.payment_method_id)
    _method(db, order["user_id"], old_method)  # the refund's destination, before any write
    _charge(db, order["user_id"], a.payment_method_id, amount, "for the order")
    _charge(db, order["user_id"], old_method, -amount, "")
    order = db.order_for_write(a.order_id)
    order["payment_history"].extend(
        [
            {
                "transaction_type": "payment",
                "amount": dollars(amount),
                "payment_method_id": a.payment_method_id,
            },
            {
                "transaction_type": "refund",
                "amount": dollars(amount),
                "payment_method_id": old_method,
            },
        ]
    )
    return copy.deepcopy(order)


def modify_user_address(db: RetailDB, a: UserAddressArgs) -> dict[str, Any]:
    _user(db, a.user_id)
    user = db.user_for_write(a.user_id)
    user["address"] = a.model_dump(exclude={"user_id"})
    return copy.deepcopy(user)


def return_delivered_order_items(db: RetailDB, a: ReturnArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "delivered", "returned")
    method = _method(db, order["user_id"], a.payment_method_id)
    original = order["payment_history"][0]["payment_method_id"]
    if method.get("source") != "gift_card" and a.payment_method_id != original:
        raise ToolError(
            f"the refund must go to the original payment method {original} or a gift card"
        )
    _check_items(order, a.item_ids)
    order = db.order_for_write(a.order_id)
    order["status"] = "return requested"
    order["return_items"] = sorted(a.item_ids)
    order["return_payment_method_id"] = a.payment_method_id
    return copy.deepcopy(order)


def exchange_delivered_order_items(db: RetailDB, a: ItemsArgs) -> dict[str, Any]:
    order = _order(db, a.order_id)
    _status(order, "delivered", "exchanged")
    _check_items(order, a.item_ids)
    diff = _price_difference(db, order, a.item_ids, a.new_item_ids)
    method = _method(db, order["user_id"], a.payment_method_id)
    if method.get("source") == "gift_card" and cents(method.get("balance", 0)) < diff:
        raise ToolError(
            f"gift card {a.payment_method_id} cannot cover the price difference {dollars(diff)}"
        )
    order = db.order_for_write(a.order_id)
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(a.item_ids)
    order["exchange_new_items"] = sorted(a.new_item_ids)
    order["exchange_payment_method_id"] = a.payment_method_id
    order["exchange_price_difference"] = dollars(diff)
    return copy.deepcopy(order)


# ---- the registry -----------------------------------------------------------------------------------

REGISTRY = ToolRegistry.of(
    Tool("find_user_id_by_email", find_user_id_by_email, EmailArgs),
    Tool("find_user_id_by_name_zip", find_user_id_by_name_zip, NameZipArgs),
    Tool("get_user_details", get_user_details, UserArgs),
    Tool("get_order_details", get_order_details, OrderArgs),
    Tool("get_product_details", get_product_details, ProductArgs),
    Tool("get_item_details", get_item_details, ItemArgs),
    Tool("list_all_product_types", list_all_product_types, NoArgs),
    Tool("calculate", calculate, CalculateArgs),
    Tool("transfer_to_human_agents", transfer_to_human_agents, TransferArgs),
    Tool("cancel_pending_order", cancel_pending_order, CancelArgs, writes=True),
    Tool("modify_pending_order_items", modify_pending_order_items, ItemsArgs, writes=True),
    Tool(
        "modify_pending_order_address", modify_pending_order_address, OrderAddressArgs, writes=True
    ),
    Tool("modify_pending_order_payment", modify_pending_order_payment, PaymentArgs, writes=True),
    Tool("modify_user_address", modify_user_address, UserAddressArgs, writes=True),
    Tool("return_delivered_order_items", return_delivered_order_items, ReturnArgs, writes=True),
    Tool("exchange_delivered_order_items", exchange_delivered_order_items, ItemsArgs, writes=True),
)
