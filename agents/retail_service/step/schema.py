"""The retail agent's proposal (what the model writes each turn) and its budget (the loop's context).

A proposal is one tool call in a flat form a tiny model can fill under a grammar: ``name`` is one of
the retail tools or ``done``; every argument any tool takes is an optional field (the ones the named
tool does not take are ignored). Encoded as::

    proposal(1). proposal_name(1, cancel_pending_order). proposal_order_id(1, "#W5199551").
    proposal_reason(1, "no longer needed"). proposal_item_ids(1, 0, "1151293680"). ...
    budget(2). budget_calls(2, 3). budget_limit(2, 10).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

ProposedName = Literal[
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_user_details",
    "get_order_details",
    "get_product_details",
    "get_item_details",
    "list_all_product_types",
    "calculate",
    "cancel_pending_order",
    "modify_pending_order_items",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "transfer_to_human_agents",
    "done",
]

_ID = Field(default=None, max_length=40)


class Proposal(BaseModel):
    """The next tool call the model proposes (``name: done`` = the request is handled)."""

    __asp_name__: ClassVar[str] = "proposal"
    model_config = ConfigDict(extra="forbid")

    name: ProposedName
    email: str | None = Field(default=None, max_length=60)
    first_name: str | None = _ID
    last_name: str | None = _ID
    zip: str | None = Field(default=None, max_length=10)
    user_id: str | None = _ID
    order_id: str | None = Field(default=None, max_length=12)
    product_id: str | None = Field(default=None, max_length=12)
    item_id: str | None = Field(default=None, max_length=12)
    reason: str | None = _ID
    item_ids: list[str] = Field(default_factory=list, max_length=5)
    new_item_ids: list[str] = Field(default_factory=list, max_length=5)
    payment_method_id: str | None = _ID
    address1: str | None = Field(default=None, max_length=60)
    address2: str | None = Field(default=None, max_length=60)
    city: str | None = _ID
    state: str | None = _ID
    country: str | None = _ID
    expression: str | None = Field(default=None, max_length=60)
    summary: str | None = Field(default=None, max_length=160)


class Budget(BaseModel):
    """How many calls the conversation has made, and how many it may make."""

    __asp_name__: ClassVar[str] = "budget"

    calls: int
    limit: int
