"""The Shopify parser reads Shopify's own example orders exactly."""

import json
from decimal import Decimal

from ingestion.shopify.parsers import parse_order, parse_orders
from tests.fixtures_path import fixtures_dir


def complete_fixture_orders():
    """Every order in the examples that was fetched with all fields (not ``fields=...``)."""
    folder = fixtures_dir("api", "shopify_admin_rest_2026_07")
    for path in sorted(folder.glob("order.test_*.json")):
        document = json.loads(path.read_text())
        if "fields=" in document["_source"]["url"]:
            continue
        body = document["body"]
        for order in body.get("orders", [body["order"]] if "order" in body else []):
            yield path.name, order


def test_every_example_order_parses_with_exact_ids_money_and_times():
    seen = 0
    for name, order in complete_fixture_orders():
        row, lines = parse_order(order, "test-shop.myshopify.io")
        seen += 1
        assert row["id"] == order["id"], name
        assert row["total_price"] == Decimal(order["total_price"]), name
        assert row["subtotal_price"] == Decimal(order["subtotal_price"]), name
        assert row["total_tax"] == Decimal(order["total_tax"]), name
        assert row["presentment_total_price"] == Decimal(
            order["total_price_set"]["presentment_money"]["amount"]
        ), name
        assert row["created_at"].utcoffset().total_seconds() == 0, name
        assert [line["id"] for line in lines] == [li["id"] for li in order["line_items"]], name
        for line, raw in zip(lines, order["line_items"], strict=True):
            assert line["price"] == Decimal(raw["price"]), name
    assert seen >= 20


def test_a_partial_order_is_quarantined_not_dropped_and_the_page_still_loads():
    _, good = next(complete_fixture_orders())
    parsed = parse_orders([good, {"id": 1, "name": "#2"}], "shop")
    assert parsed.orders.num_rows == 1
    [refused] = parsed.quarantine.rows
    assert refused["record_id"] == "1" and "currency" in refused["reason"]
    assert json.loads(refused["payload"]) == {"id": 1, "name": "#2"}
