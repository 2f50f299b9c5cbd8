"""Read the marts, route with the user's rules, write ``actions.order_routing``."""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import pyarrow as pa

from pipelines.lib.resources import RoutingRulesResource, WarehouseResource
from tradelane.routing.engine import Order, OrderLine, RoutingDecision, Warehouse, route_orders
from tradelane.routing.rules import load_rules

ROUTING_TABLE = "actions.order_routing"

ROUTING_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("channel", pa.string()),
        ("store_id", pa.string()),
        ("order_name", pa.string()),
        ("destination_country_code", pa.string()),
        ("warehouse_code", pa.string()),
        ("is_routable", pa.bool_()),
        ("rule_name", pa.string()),
        ("reason", pa.string()),
        ("distance_km", pa.float64()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("rules_version", pa.string()),
    ]
)


def decisions_to_arrow(
    decisions: list[RoutingDecision], decided_at: datetime, rules_version: str
) -> pa.Table:
    rows = [
        {**d.__dict__, "decided_at": decided_at, "rules_version": rules_version} for d in decisions
    ]
    return pa.Table.from_pylist(rows, schema=ROUTING_SCHEMA)


@dg.asset(
    key=["actions", "order_routing"],
    group_name="actions",
    kinds={"python", "duckdb"},
    deps=[
        dg.AssetKey(["marts", "fct_orders"]),
        dg.AssetKey(["marts", "fct_order_lines"]),
        dg.AssetKey(["marts", "fct_inventory_levels"]),
        dg.AssetKey(["marts", "dim_warehouses"]),
    ],
)
def order_routing(
    warehouse: WarehouseResource, routing_rules: RoutingRulesResource
) -> dg.MaterializeResult:
    """A shipping warehouse for each order awaiting shipment, chosen by the editable rules in
    `config/routing_rules.yml` (default: the nearest warehouse with every line in stock), with
    the reason for each choice. Orders no warehouse can ship are held, with what is missing."""
    rules = load_rules(routing_rules.resolved_path())
    with warehouse.connect() as con:
        orders_rows = con.execute(
            """
            select order_id, channel, store_id, order_name, ordered_at,
                   destination_country_code, destination_latitude, destination_longitude,
                   total_amount
            from marts.fct_orders
            where is_awaiting_shipment
            """
        ).fetchall()
        line_rows = con.execute(
            """
            select lines.order_id, lines.sku,
                   coalesce(lines.fulfillable_quantity, lines.quantity) as quantity
            from marts.fct_order_lines as lines
            join marts.fct_orders as orders on lines.order_id = orders.order_id
            where orders.is_awaiting_shipment
              and lines.is_shipping_required is not false
              and coalesce(lines.fulfillable_quantity, lines.quantity) > 0
            """
        ).fetchall()
        warehouses = [
            Warehouse(code, country, lat, lon)
            for code, country, lat, lon in con.execute(
                "select warehouse_code, country_code, latitude, longitude from marts.dim_warehouses"
            ).fetchall()
        ]
        available = {
            (code, sku): int(qty)
            for code, sku, qty in con.execute(
                "select warehouse_code, sku, available_quantity from marts.fct_inventory_levels"
            ).fetchall()
        }

        lines_by_order: dict[str, list[OrderLine]] = defaultdict(list)
        for order_id, sku, quantity in line_rows:
            lines_by_order[order_id].append(
                OrderLine(sku=sku or "(no sku)", quantity=int(quantity))
            )
        orders = [
            Order(
                order_id=r[0],
                channel=r[1],
                store_id=r[2],
                order_name=r[3],
                ordered_at=r[4],
                destination_country_code=r[5],
                destination_latitude=r[6],
                destination_longitude=r[7],
                total_amount=Decimal(r[8]),
                lines=tuple(lines_by_order.get(r[0], ())),
            )
            for r in orders_rows
        ]
        decisions = route_orders(orders, warehouses, available, rules)
        table = decisions_to_arrow(decisions, datetime.now(UTC), rules.version)
        con.execute("create schema if not exists actions")
        con.register("routing_decisions", table)
        con.execute(f"create or replace table {ROUTING_TABLE} as select * from routing_decisions")
        con.unregister("routing_decisions")

    routed = sum(1 for d in decisions if d.is_routable)
    by_warehouse: dict[str, int] = defaultdict(int)
    for d in decisions:
        by_warehouse[d.warehouse_code or "held"] += 1
    return dg.MaterializeResult(
        metadata={
            "orders_considered": len(decisions),
            "routed": routed,
            "held": len(decisions) - routed,
            "by_warehouse": dg.MetadataValue.json(dict(by_warehouse)),
            "rules_version": rules.version,
        }
    )
