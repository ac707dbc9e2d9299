"""The train tasks as replayable sequences, and a mutation generator for the retail rules.

Shared by tests/retail/ and benchmarks/replay.py. ``task_sequences()`` gives each train task's correct
action sequence; tasks whose recorded actions start after the authentication (the later tasks list
only the database writes) get ``authenticated_user`` from the user the scenario says the caller is
(email, or name + zip, resolved in the database). ``mutants()`` breaks one rule at one action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nesyflow.replay import ActionSequence, ProposedCall, load_domain

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "rules" / "retail"
TASKS = ROOT / "tests" / "fixtures" / "retail" / "train_tasks.json"
DOMAIN = load_domain("agents/retail_service/domain.py:DOMAIN", ROOT)

LOOKUPS = ("find_user_id_by_email", "find_user_id_by_name_zip")
WRITES = {name for name in DOMAIN.tools if DOMAIN.tools[name].writes}
NEEDS_AUTH = WRITES | {"get_user_details", "get_order_details"}
PENDING_TOOLS = (
    "cancel_pending_order",
    "modify_pending_order_items",
    "modify_pending_order_address",
    "modify_pending_order_payment",
)
DELIVERED_TOOLS = ("return_delivered_order_items", "exchange_delivered_order_items")
SWAP_TOOLS = ("modify_pending_order_items", "exchange_delivered_order_items")


def load_tasks() -> list[dict[str, Any]]:
    return json.loads(TASKS.read_text(encoding="utf-8"))


def _caller(db: Any, task: dict[str, Any]) -> str | None:
    """The user the scenario says the caller is: by email, else by name and zip code."""
    info = task["user_scenario"]["instructions"]
    text = f"{info.get('known_info') or ''} {info.get('reason_for_call') or ''}"
    for email in re.findall(r"[\w.+-]+@[\w-]+\.\w+", text):
        user = db.user_by_email(email)
        if user:
            return user
    name = re.search(r"(?:You're|You are|name is) ([A-Z][a-z]+) ([A-Z][a-z]+)", text)
    for zip_code in re.findall(r"\b(\d{5})\b", text):
        if name:
            user = db.user_by_name_zip(name.group(1), name.group(2), zip_code)
            if user:
                return user
    return None


def task_sequences() -> list[tuple[str, ActionSequence]]:
    """(task id, its correct sequence) for every train task with actions; every action confirmed."""
    db = DOMAIN.new_state(None)
    out = []
    for task in load_tasks():
        actions = task["evaluation_criteria"]["actions"] or []
        if not actions:
            continue
        calls = tuple(ProposedCall(a["name"], a["arguments"], True) for a in actions)
        preset = None
        if not any(c.name in LOOKUPS for c in calls):
            preset = _caller(db, task)
        out.append((task["id"], ActionSequence(calls, preset, meta={"task": task["id"]})))
    return out


# ---- mutations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """A sequence that breaks ``rule`` at action ``target`` (and, by construction, nothing else)."""

    task: str
    kind: str
    rule: str
    sequence: ActionSequence
    target: int


class _World:
    """Read-only facts about the initial database the generator picks replacements from."""

    def __init__(self) -> None:
        self.db = DOMAIN.new_state(None)
        self.orders_by_user: dict[str, list[str]] = {}
        for oid, order in self.db.orders.items():
            self.orders_by_user.setdefault(order["user_id"], []).append(oid)
        self.user_ids = sorted(self.db.users)

    def other_user(self, user: str) -> str:
        return next(u for u in self.user_ids if u != user)

    def acting_user(self, seq: ActionSequence, upto: int) -> str | None:
        found = self.authentication(seq, upto)
        return found[1] if found else None

    def authentication(self, seq: ActionSequence, upto: int) -> tuple[int, str] | None:
        """(index after which the user is authenticated, user id), or None."""
        if seq.authenticated_user:
            return 0, seq.authenticated_user
        for index, call in enumerate(seq.actions[:upto]):
            if call.name == "find_user_id_by_email":
                found = self.db.user_by_email(call.arguments["email"])
            elif call.name == "find_user_id_by_name_zip":
                a = call.arguments
                found = self.db.user_by_name_zip(a["first_name"], a["last_name"], a["zip"])
            else:
                continue
            if found:
                return index + 1, found
        return None

    def methods(self, user: str) -> dict[str, dict[str, Any]]:
        return self.db.user(user)["payment_methods"]

    def other_variant(
        self, product: str, avoid: set[str], available: bool = True, max_price: float | None = None
    ) -> str | None:
        for vid, v in sorted(self.db.product(product)["variants"].items()):
            if vid in avoid or bool(v["available"]) != available:
                continue
            if max_price is not None and v["price"] > max_price:
                continue
            return vid
        return None

    def retarget(self, call: ProposedCall, order_id: str) -> ProposedCall | None:
        """``call`` moved to ``order_id`` with items valid for that order (None if impossible)."""
        args = dict(call.arguments, order_id=order_id)
        if "item_ids" not in args:
            return replace(call, arguments=args)
        order = self.db.order(order_id)
        lines = order["items"][: len(args["item_ids"])]
        if len(lines) < len(args["item_ids"]):
            return None
        args["item_ids"] = [line["item_id"] for line in lines]
        if "new_item_ids" in args:
            new = []
            for line in lines:
                vid = self.other_variant(
                    line["product_id"], {line["item_id"]}, max_price=line["price"]
                )
                if vid is None:
                    return None
                new.append(vid)
            args["new_item_ids"] = new
        return replace(call, arguments=args)


def _with(seq: ActionSequence, index: int, call: ProposedCall) -> ActionSequence:
    actions = list(seq.actions[: index + 1])
    actions[index] = call
    return replace(seq, actions=tuple(actions))


def _insert(seq: ActionSequence, index: int, call: ProposedCall) -> ActionSequence:
    actions = [*seq.actions[:index], call]
    return replace(seq, actions=tuple(actions))


def _args(call: ProposedCall, **changes: Any) -> ProposedCall:
    return replace(call, arguments={**call.arguments, **changes})


def mutants(
    task: str,
    seq: ActionSequence,
    world: _World | None = None,
    skip: frozenset[int] = frozenset(),
) -> Iterator[Mutant]:
    """The mutants of one correct sequence; actions at ``skip`` (already not allowed as they are)
    are not mutated, since a mutant must break exactly one rule."""
    w = world or _World()
    db = w.db
    acts = seq.actions

    def m(kind: str, rule: str, s: ActionSequence, target: int) -> Mutant:
        return Mutant(task, kind, rule, s, target)

    # -- identity: skip the authentication; a second user; another user's profile
    first_gated = next((i for i, c in enumerate(acts) if c.name in NEEDS_AUTH), None)
    if first_gated is not None:
        kept = [c for c in acts[: first_gated + 1] if c.name not in LOOKUPS]
        unauth = ActionSequence(tuple(kept), None, meta=seq.meta)
        yield m("skip_authentication", "not_authenticated", unauth, len(kept) - 1)
    auth = w.authentication(seq, len(acts))
    if auth is not None:
        after, me = auth
        other = w.other_user(me)
        email = db.user(other)["email"]
        look = ProposedCall("find_user_id_by_email", {"email": email}, True)
        yield m("second_user", "one_user_per_conversation", _insert(seq, after, look), after)
        peek = ProposedCall("get_user_details", {"user_id": other}, True)
        yield m("other_profile", "other_user", _insert(seq, after, peek), after)

    for i, call in enumerate(acts):
        me = w.acting_user(seq, i)
        if me is None or i in skip:
            continue
        a = call.arguments
        order_id = a.get("order_id")
        order = db.order(order_id) if order_id else None
        if call.name == "get_order_details" and order is not None:
            foreign = next(o for o in sorted(db.orders) if db.order(o)["user_id"] != me)
            yield m(
                "other_order", "order_not_owned", _with(seq, i, _args(call, order_id=foreign)), i
            )
        if call.name == "modify_user_address":
            moved = _args(call, user_id=w.other_user(me))
            yield m("other_profile_write", "other_user", _with(seq, i, moved), i)
        if call.name not in WRITES or order is None:
            continue
        status = order["status"]

        # -- another user's order with the same status
        for oid in sorted(db.orders):
            o = db.order(oid)
            if o["user_id"] != me and o["status"] == status:
                moved = w.retarget(call, oid)
                if moved is not None:
                    yield m("other_order", "order_not_owned", _with(seq, i, moved), i)
                    break
        # -- an order of the same user in a status the action does not allow
        wrong = (
            ("processed", "delivered", "cancelled")
            if call.name in PENDING_TOOLS
            else ("pending", "processed", "cancelled")
        )
        rule = "order_not_pending" if call.name in PENDING_TOOLS else "order_not_delivered"
        for oid in w.orders_by_user.get(me, []):
            if db.order(oid)["status"] in wrong:
                moved = w.retarget(call, oid)
                if moved is not None:
                    yield m("wrong_status", rule, _with(seq, i, moved), i)
                    break
        # -- an order that does not exist
        yield m(
            "no_such_order", "order_not_found", _with(seq, i, _args(call, order_id="#W0000000")), i
        )
        # -- consent
        yield m("declined", "user_declined", _with(seq, i, replace(call, confirmed=False)), i)
        yield m(
            "unconfirmed", "explicit_confirmation", _with(seq, i, replace(call, confirmed=None)), i
        )

        if call.name == "cancel_pending_order":
            bad = _args(call, reason="found it cheaper elsewhere")
            yield m("bad_reason", "cancel_reason", _with(seq, i, bad), i)

        # -- payment methods
        if "payment_method_id" in a:
            mine = w.methods(me)
            source = mine.get(a["payment_method_id"], {}).get("source")
            for uid in w.user_ids:
                if uid == me:
                    continue
                theirs = [k for k, v in w.methods(uid).items() if v["source"] == source]
                if theirs:
                    moved = _args(call, payment_method_id=theirs[0])
                    yield m("foreign_payment", "payment_method_not_owned", _with(seq, i, moved), i)
                    break
        if call.name == "return_delivered_order_items":
            original = order["payment_history"][0]["payment_method_id"]
            for mid, method in w.methods(me).items():
                if mid != original and method["source"] != "gift_card":
                    moved = _args(call, payment_method_id=mid)
                    yield m("refund_elsewhere", "refund_destination", _with(seq, i, moved), i)
                    break

        # -- pending-order payment changes (a modify_pending_order_payment in place of the action)
        if call.name in PENDING_TOOLS and status == "pending":
            history = order["payment_history"]
            if len(history) == 1:
                same = ProposedCall(
                    "modify_pending_order_payment",
                    {"order_id": order_id, "payment_method_id": history[0]["payment_method_id"]},
                    True,
                )
                yield m("same_payment", "payment_not_different", _with(seq, i, same), i)
                for mid, method in w.methods(me).items():
                    if (
                        method["source"] == "gift_card"
                        and method.get("balance", 0) < history[0]["amount"]
                        and mid != history[0]["payment_method_id"]
                    ):
                        short = ProposedCall(
                            "modify_pending_order_payment",
                            {"order_id": order_id, "payment_method_id": mid},
                            True,
                        )
                        yield m("gift_card_short", "gift_card_balance", _with(seq, i, short), i)
                        break

        # -- a second change of the same order
        if call.name == "modify_pending_order_items":
            again = ProposedCall(
                "cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"}, True
            )
            yield m("second_change", "items_already_modified", _insert(seq, i + 1, again), i + 1)
            old, new = list(a["item_ids"]), list(a["new_item_ids"])
            if all(db.variant(x) and db.variant(x)["available"] for x in old):
                back = _args(call, item_ids=new, new_item_ids=old)  # change them back
                yield m("second_change", "items_already_modified", _insert(seq, i + 1, back), i + 1)
        if call.name in DELIVERED_TOOLS:
            yield m(
                "second_change", "already_returned_or_exchanged", _insert(seq, i + 1, call), i + 1
            )

        # -- items
        if "item_ids" in a:
            items = list(a["item_ids"])
            in_order = {line["item_id"] for line in order["items"]}
            line0 = next(line for line in order["items"] if line["item_id"] == items[0])
            stranger = w.other_variant(
                line0["product_id"], in_order | set(a.get("new_item_ids", ()))
            )
            if stranger is not None:
                moved = _args(call, item_ids=[stranger, *items[1:]])
                yield m("missing_item", "item_not_in_order", _with(seq, i, moved), i)
        if call.name in SWAP_TOOLS:
            items, new = list(a["item_ids"]), list(a["new_item_ids"])
            yield m(
                "list_mismatch",
                "item_lists_mismatch",
                _with(seq, i, _args(call, new_item_ids=[*new, new[0]])),
                i,
            )
            line0 = next(line for line in order["items"] if line["item_id"] == items[0])
            product = line0["product_id"]
            new_price = db.variant(new[0])["price"]
            for pid in sorted(db.products):
                if pid == product:
                    continue
                vid = w.other_variant(pid, set(), max_price=new_price)
                if vid is not None:
                    moved = _args(call, new_item_ids=[vid, *new[1:]])
                    yield m("other_product", "new_item_not_same_product", _with(seq, i, moved), i)
                    break
            gone = w.other_variant(product, {items[0], *new}, available=False)
            if gone is not None:
                moved = _args(call, new_item_ids=[gone, *new[1:]])
                yield m("unavailable_item", "new_item_unavailable", _with(seq, i, moved), i)
            if db.variant(items[0]) and db.variant(items[0])["available"]:
                moved = _args(call, new_item_ids=[items[0], *new[1:]])
                yield m("same_item", "new_item_same_as_old", _with(seq, i, moved), i)
            # a gift card of the user that cannot pay the difference
            diff = sum(
                db.variant(n)["price"]
                - next(line["price"] for line in order["items"] if line["item_id"] == o)
                for o, n in zip(items, new, strict=True)
            )
            for mid, method in w.methods(me).items():
                if method["source"] == "gift_card" and method.get("balance", 0) < diff:
                    moved = _args(call, payment_method_id=mid)
                    yield m("gift_card_short", "gift_card_balance", _with(seq, i, moved), i)
                    break


def all_mutants(
    sequences: list[tuple[str, ActionSequence]],
    skip: dict[str, frozenset[int]] | None = None,
) -> list[Mutant]:
    world = _World()
    skip = skip or {}
    return [
        mut
        for task, seq in sequences
        for mut in mutants(task, seq, world, skip.get(task, frozenset()))
    ]


# Correct actions that the policy itself refuses (the tool refuses them too): task 105 exchanges two
# tea kettles for 101.12 and 109.58 (2 x 94.80 paid), a difference of 21.10, paid with gift card
# gift_card_7245904 holding 17.00. tau2's own tool raises "insufficient gift card balance" here, so
# the recorded action never changes the database; the pack denies it with gift_card_balance.
EXPECTED_DENIALS: dict[tuple[str, int], str] = {("105", 0): "gift_card_balance"}
