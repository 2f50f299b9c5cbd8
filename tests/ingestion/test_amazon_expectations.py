"""The raw_amazon Great Expectations suites pass on Amazon's own examples and flag rows that
parse but should not exist."""

from __future__ import annotations

import json

from ingestion.amazon.expectations import validate
from ingestion.amazon.parsers import parse_order_items, parse_orders, to_page
from tests.fixtures_path import fixtures_dir


def example_page():
    folder = fixtures_dir("api", "amazon_sp_api")
    orders = json.loads((folder / "getOrders.example0.json").read_text())["payload"]["Orders"]
    items = json.loads((folder / "getOrderItems.example0.json").read_text())["payload"]
    parsed = parse_orders(orders, {"ATVPDKIKX0DER": "A3TLSANDBOXNA1"})
    rows = parse_order_items(items["OrderItems"], parsed.refs[0], parsed.quarantine)
    return to_page(parsed, rows)


def test_the_examples_pass_both_suites():
    page = example_page()
    for table, frame in (("orders", page.orders), ("order_items", page.order_items)):
        success, detail = validate(table, frame.to_pandas())
        assert success, {k: v for k, v in detail.items() if not v["success"]}


def test_unknown_statuses_and_items_shipped_beyond_the_order_are_flagged():
    page = example_page()
    orders = page.orders.to_pandas()
    orders.loc[0, "order_status"] = "Teleported"
    success, detail = validate("orders", orders)
    assert not success
    failed = {k for k, v in detail.items() if not v["success"]}
    assert failed == {"expect_column_values_to_be_in_set(order_status)"}

    items = page.order_items.to_pandas()
    items.loc[0, "quantity_shipped"] = items.loc[0, "quantity_ordered"] + 1
    success, detail = validate("order_items", items)
    failed = {k: v["unexpected"] for k, v in detail.items() if not v["success"]}
    assert not success
    assert failed == {
        "expect_column_pair_values_a_to_be_greater_than_b(quantity_ordered)": 1,
    }
