"""Route orders to warehouses: pure logic over plain records, no database, no Dagster.

Orders are taken oldest first and stock is decremented as it is allocated, so a routing run
never promises the same unit twice (oversell prevention). Every decision carries a sentence
saying why, because an operator has to be able to trust, or overrule, it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradelane.routing.rules import Rule, RuleSet

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Warehouse:
    code: str
    country_code: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Order:
    order_id: str
    channel: str
    store_id: str
    order_name: str
    ordered_at: datetime
    destination_country_code: str | None
    destination_latitude: float | None
    destination_longitude: float | None
    total_amount: Decimal
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class RoutingDecision:
    order_id: str
    channel: str
    store_id: str
    order_name: str
    destination_country_code: str | None
    warehouse_code: str | None
    is_routable: bool
    rule_name: str | None
    reason: str
    distance_km: float | None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; good enough to rank warehouses (carriers price by zone later)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def route_orders(
    orders: Iterable[Order],
    warehouses: Iterable[Warehouse],
    available: Mapping[tuple[str, str], int],
    rules: RuleSet,
) -> list[RoutingDecision]:
    """Decide a warehouse for each order; ``available`` is units by (warehouse, sku)."""
    by_code = {w.code: w for w in warehouses}
    stock: dict[tuple[str, str], int] = defaultdict(int, available)
    decisions = []
    for order in sorted(orders, key=lambda o: (o.ordered_at, o.order_id)):
        decision = _route_one(order, by_code, stock, rules)
        if decision.warehouse_code is not None:
            for sku, quantity in _needed(order).items():
                stock[(decision.warehouse_code, sku)] -= quantity
        decisions.append(decision)
    return decisions


def _needed(order: Order) -> dict[str, int]:
    needed: dict[str, int] = defaultdict(int)
    for line in order.lines:
        needed[line.sku] += line.quantity
    return dict(needed)


def _route_one(
    order: Order,
    warehouses: Mapping[str, Warehouse],
    stock: Mapping[tuple[str, str], int],
    rules: RuleSet,
) -> RoutingDecision:
    needed = _needed(order)
    tried: list[str] = []
    if not needed:
        return _held(order, None, "The order has no lines to ship.")
    for rule in rules.rules:
        if not rule.when.matches(order.destination_country_code, order.channel, order.total_amount):
            continue
        candidates = [
            warehouses[c] for c in (rule.warehouses or sorted(warehouses)) if c in warehouses
        ]
        in_stock = [w for w in candidates if _has_all(w.code, needed, stock)]
        if not in_stock:
            tried.append(f"rule {rule.name!r}: {_shortage_text(candidates, needed, stock)}")
            continue
        chosen, distance, why = _choose(rule, in_stock, order)
        passed_over = _nearer_without_stock(candidates, in_stock, distance, order, needed, stock)
        return RoutingDecision(
            order_id=order.order_id,
            channel=order.channel,
            store_id=order.store_id,
            order_name=order.order_name,
            destination_country_code=order.destination_country_code,
            warehouse_code=chosen.code,
            is_routable=True,
            rule_name=rule.name,
            reason=f"{chosen.code} {why}, with all {len(needed)} SKU(s) in stock "
            f"(rule {rule.name!r}).{passed_over}",
            distance_km=None if distance is None else round(distance, 1),
        )
    if not tried:
        return _held(
            order,
            None,
            "No routing rule matches this order; add a rule for "
            f"destination {order.destination_country_code or 'unknown'}.",
        )
    return _held(order, None, "Held: no warehouse can ship every line. " + " ".join(tried))


def _choose(
    rule: Rule, in_stock: list[Warehouse], order: Order
) -> tuple[Warehouse, float | None, str]:
    if rule.strategy == "first_in_stock":
        return in_stock[0], _distance(in_stock[0], order), "is the first listed warehouse"
    distances = [(_distance(w, order), w) for w in in_stock]
    known = [(d, w) for d, w in distances if d is not None]
    if known:
        distance, warehouse = min(known, key=lambda dw: (dw[0], dw[1].code))
        others = len(in_stock) - 1
        alt = f" of {others + 1} warehouses with stock" if others else ""
        return warehouse, distance, f"is the nearest{alt} ({distance:,.0f} km)"
    # No coordinates for the destination: prefer a warehouse in the same country.
    domestic = [w for w in in_stock if w.country_code == order.destination_country_code]
    if domestic:
        return domestic[0], None, "is in the destination country (address not geocoded)"
    return in_stock[0], None, "has the stock (address not geocoded; distance unknown)"


def _nearer_without_stock(
    candidates: list[Warehouse],
    in_stock: list[Warehouse],
    chosen_distance: float | None,
    order: Order,
    needed: Mapping[str, int],
    stock: Mapping[tuple[str, str], int],
) -> str:
    """Say which nearer warehouses were passed over and what they lack: an operator seeing a
    US order ship from China needs to know it is a stock problem at LAX, not a routing bug."""
    if chosen_distance is None:
        return ""
    nearer = [
        w
        for w in candidates
        if w not in in_stock and (d := _distance(w, order)) is not None and d < chosen_distance
    ]
    if not nearer:
        return ""
    return " Nearer but short: " + _shortage_text(nearer, needed, stock)


def _distance(warehouse: Warehouse, order: Order) -> float | None:
    coords = (
        warehouse.latitude,
        warehouse.longitude,
        order.destination_latitude,
        order.destination_longitude,
    )
    if any(c is None for c in coords):
        return None
    return haversine_km(*coords)  # type: ignore[arg-type]


def _has_all(code: str, needed: Mapping[str, int], stock: Mapping[tuple[str, str], int]) -> bool:
    return all(stock.get((code, sku), 0) >= qty for sku, qty in needed.items())


def _shortage_text(
    candidates: list[Warehouse], needed: Mapping[str, int], stock: Mapping[tuple[str, str], int]
) -> str:
    if not candidates:
        return "none of its warehouses exist."
    parts = []
    for w in candidates:
        short = [
            f"{sku} (need {qty}, have {max(stock.get((w.code, sku), 0), 0)})"
            for sku, qty in sorted(needed.items())
            if stock.get((w.code, sku), 0) < qty
        ]
        parts.append(f"{w.code} lacks {', '.join(short)}")
    return "; ".join(parts) + "."


def _held(order: Order, rule: Rule | None, reason: str) -> RoutingDecision:
    return RoutingDecision(
        order_id=order.order_id,
        channel=order.channel,
        store_id=order.store_id,
        order_name=order.order_name,
        destination_country_code=order.destination_country_code,
        warehouse_code=None,
        is_routable=False,
        rule_name=rule.name if rule else None,
        reason=reason,
        distance_km=None,
    )
