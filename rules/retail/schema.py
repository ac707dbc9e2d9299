"""Models of the retail pack: the proposed tool call (input) and what the rules see of the run (context).

The input is one proposed call of the retail agent, its arguments flattened into one model::

    call(1). call_name(1, cancel_pending_order). call_order_id(1, "#W5199551").
    call_reason(1, "no longer needed"). call_item_ids(1, 0, "1151293680"). ...

The context is built per call by ``agents/retail_service/context.py`` from the run's history and the
current database, holding only the touched records::

    context(C). context_authenticated_user(C, "yusuf_rossi_9620").   % authenticated before the run
    context_lookup_user(C, "other_user_1")       % whom the proposed find_user_id_* call would find
    context_confirmation(C, yes|no)              % the user's explicit consent (absent = unknown)
    context_users(C, I, U). user_user_id(U, "..."). user_payment_methods(U, I, P).
    payment_method_id(P, "gift_card_0000000"). payment_method_source(P, gift_card|paypal|credit_card).
    payment_method_balance(P, Cents).
    context_orders(C, I, O). order_order_id(O, "#W..."). order_user_id(O, "..."). order_status(O, "pending").
    order_items(O, K, L). order_item_item_id(L, "..."). order_item_product_id(L, "..."). order_item_price(L, Cents).
    order_payments(O, K, P). payment_kind(P, payment|refund). payment_amount(P, Cents).
    payment_payment_method_id(P, "...").
    context_variants(C, I, V). variant_item_id(V, "..."). variant_product_id(V, "...").
    variant_available(V, true|false). variant_price(V, Cents).
    context_history(C, I, S). step_index(S, I). step_name(S, Tool). step_verdict(S, allow|deny|review).
    step_executed(S, true|false). step_order_id(S, "..."). step_user_id(S, "..."). step_found_user(S, "...").

Order statuses are strings as the database holds them: "pending", "processed", "delivered",
"cancelled", "pending (item modified)", "return requested", "exchange requested".
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from nesyflow.schema import Money

ToolName = Literal[
    "calculate",
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_item_details",
    "get_order_details",
    "get_product_details",
    "get_user_details",
    "list_all_product_types",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "transfer_to_human_agents",
]


class Call(BaseModel):
    """A proposed tool call: its name and every argument any retail tool takes (unused = None)."""

    __asp_name__: ClassVar[str] = "call"
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ToolName
    order_id: str | None = None
    user_id: str | None = None
    reason: str | None = None
    item_ids: list[str] = []
    new_item_ids: list[str] = []
    payment_method_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    zip: str | None = None
    product_id: str | None = None
    item_id: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    expression: str | None = None
    summary: str | None = None


class PaymentMethod(BaseModel):
    __asp_name__: ClassVar[str] = "payment_method"
    id: str
    source: Literal["credit_card", "paypal", "gift_card"]
    balance: Money | None = None  # gift cards only


class User(BaseModel):
    __asp_name__: ClassVar[str] = "user"
    user_id: str
    payment_methods: list[PaymentMethod] = []


class OrderItem(BaseModel):
    __asp_name__: ClassVar[str] = "order_item"
    item_id: str
    product_id: str
    price: Money


class Payment(BaseModel):
    __asp_name__: ClassVar[str] = "payment"
    kind: Literal["payment", "refund"]
    amount: Money
    payment_method_id: str


class Order(BaseModel):
    __asp_name__: ClassVar[str] = "order"
    order_id: str
    user_id: str
    status: str
    items: list[OrderItem] = []
    payments: list[Payment] = []


class Variant(BaseModel):
    """A product variant named by the call (a new item of an exchange or modification)."""

    __asp_name__: ClassVar[str] = "variant"
    item_id: str
    product_id: str
    available: bool
    price: Money


class Step(BaseModel):
    """One earlier call of this run (denied ones too: ``executed`` says whether it ran)."""

    __asp_name__: ClassVar[str] = "step"
    index: int
    name: ToolName
    verdict: Literal["allow", "deny", "review"]
    executed: bool
    order_id: str | None = None
    user_id: str | None = None
    found_user: str | None = None  # the user id a find_user_id_* call returned


class Context(BaseModel):
    """What the rules see of the run when judging one call."""

    __asp_name__: ClassVar[str] = "context"
    model_config = ConfigDict(frozen=True)

    authenticated_user: str | None = None
    lookup_user: str | None = None
    confirmation: Literal["yes", "no"] | None = None
    users: list[User] = []
    orders: list[Order] = []
    variants: list[Variant] = []
    history: list[Step] = []
