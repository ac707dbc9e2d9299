"""The retail tools validate on their own (a tool never trusts that the check ran) and every run's
database is private."""

import pytest

from nesyflow.replay import ToolError


def run(domain, db, name, **arguments):
    return domain.tools[name].run(db, arguments)


@pytest.fixture()
def db(domain):
    return domain.new_state(None)


def test_reads(domain, db):
    assert run(domain, db, "find_user_id_by_email", email="Mia.Garcia2723@example.com")
    assert (
        run(
            domain,
            db,
            "find_user_id_by_name_zip",
            first_name="yusuf",
            last_name="ROSSI",
            zip="19122",
        )
        == "yusuf_rossi_9620"
    )
    assert (
        run(domain, db, "get_order_details", order_id="#W2378156")["user_id"] == "yusuf_rossi_9620"
    )
    item = run(domain, db, "get_item_details", item_id="7706410293")
    assert item["product_id"] == "1656367028"
    assert len(__import__("json").loads(run(domain, db, "list_all_product_types"))) == 50
    with pytest.raises(ToolError, match="not found"):
        run(domain, db, "get_order_details", order_id="#W0000000")


def test_calculate_is_arithmetic_only(domain, db):
    assert run(domain, db, "calculate", expression="3131.1 + 4777.75 + 367.38") == "8276.23"
    assert run(domain, db, "calculate", expression="-(2 - 5) * 2 / 4") == "1.5"
    for bad in ("__import__('os')", "2 ** 9999", "1/0", "x + 1"):
        with pytest.raises(ToolError):
            run(domain, db, "calculate", expression=bad)


def test_cancel_refuses_bad_reason_and_non_pending(domain, db):
    with pytest.raises(ToolError, match="reason"):
        run(domain, db, "cancel_pending_order", order_id="#W5199551", reason="changed my mind")
    order = run(domain, db, "cancel_pending_order", order_id="#W5199551", reason="no longer needed")
    assert order["status"] == "cancelled"
    refunds = [p for p in order["payment_history"] if p["transaction_type"] == "refund"]
    assert refunds
    with pytest.raises(ToolError, match="only a pending order"):
        run(domain, db, "cancel_pending_order", order_id="#W5199551", reason="no longer needed")


def test_items_modified_once_and_payment_checks(domain, db):
    args = dict(
        order_id="#W4776164",
        item_ids=["8349118980"],
        new_item_ids=["9647292434"],
        payment_method_id="credit_card_9513926",
    )
    with pytest.raises(ToolError, match="not one of"):
        run(
            domain,
            db,
            "modify_pending_order_items",
            **{**args, "payment_method_id": "paypal_5727330"},
        )
    with pytest.raises(ToolError, match="not a variant"):
        run(domain, db, "modify_pending_order_items", **{**args, "new_item_ids": ["7706410293"]})
    with pytest.raises(ToolError, match="is the item it replaces"):
        run(domain, db, "modify_pending_order_items", **{**args, "new_item_ids": ["8349118980"]})
    with pytest.raises(ToolError, match="same length"):
        run(
            domain,
            db,
            "modify_pending_order_items",
            **{**args, "new_item_ids": ["9647292434", "9647292434"]},
        )
    with pytest.raises(ToolError, match="not in order"):
        run(domain, db, "modify_pending_order_items", **{**args, "item_ids": ["9647292434"]})
    order = run(domain, db, "modify_pending_order_items", **args)
    assert order["status"] == "pending (item modified)"
    assert "9647292434" in [i["item_id"] for i in order["items"]]
    with pytest.raises(ToolError, match="only a pending order"):
        run(domain, db, "modify_pending_order_items", **args)


def test_gift_card_balance_and_refund_destination(domain, db):
    with pytest.raises(ToolError, match="gift card"):
        run(
            domain,
            db,
            "exchange_delivered_order_items",
            order_id="#W4316152",
            item_ids=["7292993796", "7292993796"],
            new_item_ids=["3761330360", "9647374798"],
            payment_method_id="gift_card_7245904",
        )
    order = db.order("#W2378156")
    assert order["status"] == "delivered"
    # this user has only the card the order was paid with: give them a PayPal account (in this
    # run's copy) and ask for the refund there
    user = db.user_for_write("yusuf_rossi_9620")
    user["payment_methods"]["paypal_1"] = {"source": "paypal", "id": "paypal_1"}
    with pytest.raises(ToolError, match="original payment method"):
        run(
            domain,
            db,
            "return_delivered_order_items",
            order_id="#W2378156",
            item_ids=["4602305039"],
            payment_method_id="paypal_1",
        )


def test_each_run_has_its_own_database(domain):
    first, second = domain.new_state(None), domain.new_state(None)
    run(domain, first, "cancel_pending_order", order_id="#W5199551", reason="no longer needed")
    assert first.order("#W5199551")["status"] == "cancelled"
    assert second.order("#W5199551")["status"] == "pending"
    assert domain.new_state(None).order("#W5199551")["status"] == "pending"
