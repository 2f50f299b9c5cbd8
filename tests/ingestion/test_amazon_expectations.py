"""The raw_amazon Great Expectations suites pass on Amazon's own examples and flag rows that
parse but should not exist."""

from __future__ import annotations

import json

from ingestion.amazon.expectations import SUITES
from ingestion.amazon.parsers import parse_order_items, parse_orders, to_page
from ingestion.common.expectations import validate
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
        result = validate(table, SUITES[table], frame.to_pandas())
        assert result.success, result.as_metadata()


def test_unknown_statuses_and_items_shipped_beyond_the_order_are_flagged():
    page = example_page()
    orders = page.orders.to_pandas()
    orders.loc[0, "order_status"] = "Teleported"
    result = validate("orders", SUITES["orders"], orders)
    assert not result.success
    failed = {f.expectation for f in result.failures}
    assert failed == {"expect_column_values_to_be_in_set(order_status)"}

    items = page.order_items.to_pandas()
    items.loc[0, "quantity_shipped"] = items.loc[0, "quantity_ordered"] + 1
    result = validate("order_items", SUITES["order_items"], items)
    failed = {f.expectation: f.unexpected for f in result.failures}
    assert not result.success
    assert failed == {
        "expect_column_pair_values_a_to_be_greater_than_b(quantity_ordered)": 1,
    }
