"""The Amazon parser reads Amazon's own SP-API Orders v0 examples exactly, and refuses (into the
quarantine, with a reason) the malformed records the sandbox's fault profiles serve."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ingestion.amazon.parsers import (
    ITEM_MONEY,
    OrderRef,
    parse_order,
    parse_order_items,
    parse_orders,
    to_page,
)
from ingestion.common.quarantine import Quarantine
from tests.fixtures_path import fixtures_dir

SELLER = {"ATVPDKIKX0DER": "A3TLSANDBOXNA1"}
REF = OrderRef("902-3159896-1390916", "A3TLSANDBOXNA1", datetime(2017, 1, 20, tzinfo=UTC))


def example(name: str) -> Any:
    return json.loads((fixtures_dir("api", "amazon_sp_api") / name).read_text())["payload"]


def example_orders() -> list[tuple[str, dict[str, Any]]]:
    """Every Order object in the examples (getOrders pages and getOrder)."""
    orders = [("getOrders", o) for o in example("getOrders.example0.json")["Orders"]]
    return [*orders, ("getOrder", example("getOrder.example0.json"))]


def money_objects(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every ``{"CurrencyCode", "Amount"}`` object in a payload, with its path."""
    found = []
    if isinstance(value, dict):
        if set(value) == {"CurrencyCode", "Amount"}:
            return [(path, value)]
        for key, item in value.items():
            found += money_objects(item, f"{path}.{key}" if path else key)
    return found


def test_every_example_order_parses_with_exact_ids_and_utc_times():
    seen = 0
    for name, order in example_orders():
        row = parse_order(order, SELLER)
        seen += 1
        assert row["amazon_order_id"] == order["AmazonOrderId"], name
        # The seller account of the marketplace: SP-API orders do not name it, config does.
        assert row["store_id"] == "A3TLSANDBOXNA1", name
        for column, field in (
            ("purchase_date", "PurchaseDate"),
            ("last_update_date", "LastUpdateDate"),
            ("earliest_ship_date", "EarliestShipDate"),
            ("latest_ship_date", "LatestShipDate"),
        ):
            expected = datetime.fromisoformat(order[field].replace("Z", "+00:00"))
            assert row[column] == expected and row[column].utcoffset().total_seconds() == 0, name
        assert row["shipping_country_code"] == order["ShippingAddress"]["CountryCode"], name
        assert row["shipping_postal_code"] == order["ShippingAddress"]["PostalCode"], name
        assert row["is_business_order"] is order["IsBusinessOrder"], name
        assert row["payment_method_details"] == ",".join(order["PaymentMethodDetails"]), name
    assert seen == 2


def test_every_example_item_keeps_each_amount_exact_with_its_own_currency():
    items = example("getOrderItems.example0.json")["OrderItems"]
    quarantine = Quarantine(source="amazon")
    rows = parse_order_items(items, REF, quarantine)
    assert not quarantine.rows
    assert [r["order_item_id"] for r in rows] == [i["OrderItemId"] for i in items]
    # The 14-digit item ids stay text: no digit or leading zero can be lost.
    assert all(isinstance(r["order_item_id"], str) for r in rows)
    columns = {path: column for column, path in ITEM_MONEY.items()}
    for row, item in zip(rows, items, strict=True):
        amounts = money_objects(item)
        assert amounts, "each example item carries money"
        for path, value in amounts:
            column = columns[tuple(path.split("."))]
            assert row[column] == Decimal(value["Amount"]), path
            assert row[f"{column}_currency"] == value["CurrencyCode"], path
        assert row["quantity_ordered"] == item["QuantityOrdered"]
    # Amazon's own example wraps a JPY item in GBP gift wrap: one currency per item would lose it.
    assert (rows[0]["item_price_currency"], rows[0]["gift_wrap_price_currency"]) == ("JPY", "GBP")
    page = to_page(parse_orders([], SELLER), rows)
    assert page.order_items.column("item_price").to_pylist() == [
        Decimal("25.99"),
        Decimal("17.95"),
    ]


def test_scheduled_delivery_times_are_utc_and_string_booleans_are_booleans():
    first = example("getOrderItems.example0.json")["OrderItems"][0]
    [row] = parse_order_items([first], REF, Quarantine(source="amazon"))
    assert row["scheduled_delivery_start_date"] == datetime(2013, 9, 7, 2, tzinfo=UTC)
    # "IsBuyerRequestedCancel": "true" is a string in SP-API.
    assert row["is_buyer_requested_cancel"] is True
    assert row["buyer_cancel_reason"] == "Found cheaper somewhere else."
    assert row["serial_numbers"] == "854" and row["points_granted"] == 10


def test_money_is_refused_when_it_arrives_as_a_float():
    _, order = example_orders()[0]
    order = {**order, "OrderTotal": {"CurrencyCode": "USD", "Amount": 19.990000000000002}}
    parsed = parse_orders([order], SELLER)
    assert not parsed.rows
    [refused] = parsed.quarantine.rows
    assert "OrderTotal.Amount" in refused["reason"] and "float" in refused["reason"]
    assert refused["record_id"] == order["AmazonOrderId"]


def test_absent_money_is_null_not_an_error():
    """Pending orders' items carry no prices and Canceled orders no OrderTotal (SP-API leaves
    absent values out rather than sending null)."""
    _, order = example_orders()[0]
    row = parse_order({**order, "OrderStatus": "Canceled"}, SELLER)
    assert (row["order_total"], row["order_total_currency"]) == (None, None)
    pending_item = {
        "ASIN": "B0X",
        "SellerSKU": "SKU-1",
        "OrderItemId": "00000000000001",
        "QuantityOrdered": 2,
    }
    [item] = parse_order_items([pending_item], REF, Quarantine(source="amazon"))
    assert item["item_price"] is None and item["quantity_shipped"] is None


def test_an_item_without_its_seller_sku_is_quarantined():
    """(AmazonOrderId, SellerSKU) keys an item whichever way items are read."""
    quarantine = Quarantine(source="amazon")
    item = {"ASIN": "B0X", "OrderItemId": "00000000000001", "QuantityOrdered": 2}
    assert parse_order_items([item], REF, quarantine) == []
    assert "SellerSKU" in quarantine.rows[0]["reason"]


def test_order_total_is_read_exactly():
    _, order = example_orders()[0]
    order = {**order, "OrderTotal": {"CurrencyCode": "JPY", "Amount": "1999"}}
    row = parse_order(order, SELLER)
    assert (row["order_total"], row["order_total_currency"]) == (Decimal("1999"), "JPY")


def test_buyer_email_is_kept_only_as_a_hash():
    _, order = example_orders()[0]
    row = parse_order(order, SELLER)
    assert "user@example.com" not in json.dumps(row, default=str)
    shouted = copy.deepcopy(order)
    shouted["BuyerInfo"]["BuyerEmail"] = " USER@example.com "
    assert parse_order(shouted, SELLER)["buyer_email_hash"] == row["buyer_email_hash"]


def _corrupt_order(kind: str) -> dict[str, Any]:
    """The malformed forms the sandbox serves (``docs/sandbox-faults.md``), on a real order."""
    _, order = example_orders()[0]
    order = copy.deepcopy(order)
    order["OrderTotal"] = {"CurrencyCode": "USD", "Amount": "10.00"}
    if kind == "missing_id":
        del order["AmazonOrderId"]
    elif kind == "bad_timestamp":
        order["PurchaseDate"] = "2026-02-30T24:00:00Z"
    elif kind == "negative_quantity":
        order["NumberOfItemsShipped"] = -2
    elif kind == "unknown_currency":
        order["OrderTotal"]["CurrencyCode"] = "XXX1"
    elif kind == "truncated_object":
        for field in ("PurchaseDate", "OrderStatus", "OrderTotal", "MarketplaceId"):
            del order[field]
    elif kind == "wrong_type":
        order["ShippingAddress"] = json.dumps(order["ShippingAddress"])
    elif kind == "not_3_7_7":
        order["AmazonOrderId"] = "9.02315989613909e15"
    return order


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing_id", "AmazonOrderId"),
        ("bad_timestamp", "PurchaseDate"),
        ("negative_quantity", "NumberOfItemsShipped"),
        ("unknown_currency", "OrderTotal.CurrencyCode"),
        ("truncated_object", "MarketplaceId"),
        ("wrong_type", "ShippingAddress"),
        ("not_3_7_7", "3-7-7"),
    ],
)
def test_a_malformed_order_is_quarantined_and_the_page_still_loads(kind, reason):
    _, good = example_orders()[0]
    bad = _corrupt_order(kind)
    parsed = parse_orders([bad, good], SELLER)
    assert [r["amazon_order_id"] for r in parsed.rows] == [good["AmazonOrderId"]]
    [refused] = parsed.quarantine.rows
    assert reason in refused["reason"], refused["reason"]
    assert refused["source"] == "amazon" and refused["entity"] == "order"
    assert json.loads(refused["payload"]) == bad


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"QuantityOrdered": None}, "QuantityOrdered"),
        ({"QuantityShipped": -1}, "QuantityShipped"),
        ({"ItemPrice": {"CurrencyCode": "JPY", "Amount": 0.30000000000000004}}, "ItemPrice"),
        ({"ItemPrice": '{"CurrencyCode": "JPY", "Amount": "25.99"}'}, "ItemPrice"),
        ({"IsGift": "maybe"}, "IsGift"),
    ],
)
def test_a_malformed_item_is_quarantined_with_its_order_id(change, reason):
    items = example("getOrderItems.example0.json")["OrderItems"]
    bad = {**items[0], **change}
    quarantine = Quarantine(source="amazon")
    rows = parse_order_items([bad, items[1]], REF, quarantine)
    assert [r["order_item_id"] for r in rows] == [items[1]["OrderItemId"]]
    [refused] = quarantine.rows
    assert reason in refused["reason"] and refused["record_id"] == items[0]["OrderItemId"]
    assert json.loads(refused["payload"]) == {
        "AmazonOrderId": REF.amazon_order_id,
        "OrderItem": bad,
    }
