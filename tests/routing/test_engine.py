"""Routing decisions an operator relies on: nearest with stock, no unit promised twice, and a
reason that says what is missing when an order is held."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradelane.routing.engine import Order, OrderLine, Warehouse, route_orders
from tradelane.routing.rules import parse_rules

SZX = Warehouse("SZX", "CN", 22.54, 114.06)
LAX = Warehouse("LAX", "US", 34.05, -118.24)
NEAREST = parse_rules("rules:\n  - {name: nearest, strategy: nearest_in_stock}")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def order(order_id, lat, lon, country, lines, minutes=0):
    return Order(
        order_id=order_id,
        channel="shopify",
        store_id="s",
        order_name=order_id,
        ordered_at=T0 + timedelta(minutes=minutes),
        destination_country_code=country,
        destination_latitude=lat,
        destination_longitude=lon,
        total_amount=Decimal("10"),
        lines=tuple(OrderLine(sku, qty) for sku, qty in lines),
    )


def test_us_order_goes_to_lax_when_lax_has_everything():
    [d] = route_orders(
        [order("o1", 40.7, -74.0, "US", [("A", 1)])],
        [SZX, LAX],
        {("LAX", "A"): 5, ("SZX", "A"): 5},
        NEAREST,
    )
    assert d.warehouse_code == "LAX" and d.is_routable
    assert "nearest" in d.reason and "km" in d.reason
    assert 3000 < d.distance_km < 4500


def test_falls_back_to_the_far_warehouse_when_the_near_one_lacks_a_line():
    [d] = route_orders(
        [order("o1", 40.7, -74.0, "US", [("A", 1), ("B", 2)])],
        [SZX, LAX],
        {("LAX", "A"): 5, ("LAX", "B"): 1, ("SZX", "A"): 5, ("SZX", "B"): 9},
        NEAREST,
    )
    assert d.warehouse_code == "SZX"
    assert "Nearer but short: LAX lacks B (need 2, have 1)." in d.reason


def test_stock_is_allocated_oldest_order_first_so_the_last_unit_is_not_promised_twice():
    orders = [
        order("late", 40.7, -74.0, "US", [("A", 1)], minutes=5),
        order("early", 40.7, -74.0, "US", [("A", 1)], minutes=1),
    ]
    decisions = {
        d.order_id: d for d in route_orders(orders, [SZX, LAX], {("LAX", "A"): 1}, NEAREST)
    }
    assert decisions["early"].warehouse_code == "LAX"
    assert decisions["late"].warehouse_code is None
    assert "LAX lacks A (need 1, have 0)" in decisions["late"].reason


def test_first_matching_rule_wins_and_unmatched_orders_are_held_with_a_reason():
    rules = parse_rules(
        """
        rules:
          - {name: us-from-lax, when: {destination_countries: [US]}, strategy: first_in_stock,
             warehouses: [LAX]}
        """
    )
    stock = {("LAX", "A"): 5, ("SZX", "A"): 5}
    us, de = route_orders(
        [
            order("us", 40.7, -74.0, "US", [("A", 1)]),
            order("de", 52.5, 13.4, "DE", [("A", 1)], minutes=1),
        ],
        [SZX, LAX],
        stock,
        rules,
    )
    assert us.warehouse_code == "LAX" and us.rule_name == "us-from-lax"
    assert de.warehouse_code is None and "No routing rule matches" in de.reason


def test_without_coordinates_a_domestic_warehouse_is_preferred():
    [d] = route_orders(
        [order("o1", None, None, "US", [("A", 1)])],
        [SZX, LAX],
        {("LAX", "A"): 1, ("SZX", "A"): 1},
        NEAREST,
    )
    assert d.warehouse_code == "LAX" and "destination country" in d.reason
