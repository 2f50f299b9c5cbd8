"""The WMS API: Tradelane's own contract for a warehouse operator, served by the sandbox.

Why our own contract: 3PL APIs differ wildly; Tradelane's WMS connector speaks this small REST
API and an adapter maps a real provider onto it. The sandbox serves it from the ledger.

Contract (JSON over HTTPS; every request carries ``Authorization: Bearer <token>``):

``GET /wms/v1/warehouses``
    ``{"warehouses": [{"code": "SZX", "name": str, "kind": "home" | "overseas" | "fba",
    "city": str, "country_code": "CN", "latitude": float, "longitude": float,
    "timezone": "Asia/Shanghai", "shopify_location_id": int, "channel_id": str | null}]}``.
    ``fba`` pools are Amazon's stock mirrored into the WMS (``channel_id`` is the marketplace
    they serve); the seller ships from ``home`` and ``overseas`` warehouses itself.

``GET /wms/v1/items?limit=&cursor=``
    The SKU master, ordered by ``sku``. ``{"items": [{"sku": "TL-0001", "name": str,
    "hs_code": "392690", "weight_g": int, "unit_cost": "21.50", "cost_currency": "CNY",
    "origin_country_code": "CN"}], "next_cursor": str | null}``. ``unit_cost`` is a decimal
    string in ``cost_currency`` (ISO 4217 minor units).

``GET /wms/v1/inventory?limit=&cursor=&updated_since=``
    Stock per warehouse and SKU, ordered by (``warehouse_code``, ``sku``).
    ``{"inventory_levels": [{"warehouse_code": "SZX", "sku": "TL-0001", "on_hand": int,
    "reserved": int, "available": int, "updated_at": "2026-10-31T23:44:59Z"}],
    "next_cursor": str | null}``. ``available = on_hand - reserved``; ``updated_at`` is UTC.
    ``updated_since`` (ISO 8601, inclusive) keeps rows changed at or after that instant; the
    cursor carries it, so follow-up requests pass only ``cursor`` (and ``limit``).

``GET /wms/v1/inbound_orders?limit=&cursor=&updated_since=``
    Stock on its way in: supplier purchase orders (into the home warehouse) and transfers
    between warehouses (sea freight to 3PLs, air to FBA), ordered by ``inbound_id``.
    ``{"inbound_orders": [{"inbound_id": "PO-2026-000123" | "TR-<transfer id>",
    "type": "purchase_order" | "transfer", "reference": str, "sku": "TL-0001",
    "warehouse_code": "SZX", "origin": str (supplier name, or the sending warehouse's code),
    "supplier_id": int | null, "quantity": int, "unit_cost": "21.50" | null,
    "currency": "CNY" | null, "created_at": "...Z", "expected_at": "...Z" | null,
    "received_at": "...Z" | null, "lead_time_days": int | null,
    "status": "open" | "overdue" | "in_transit" | "received", "updated_at": "...Z"}],
    "next_cursor": str | null}``. ``created_at`` is when the PO was placed or the transfer
    shipped; ``updated_at`` the latest change (placed, shipped, due, received) by the clock.
    ``updated_since`` works as for inventory.

Paging: ``limit`` defaults to 500, at most 1000; ``next_cursor`` is opaque and null on the last
page. Keyset cursors: no row is skipped or repeated while the data does not change.
Errors: ``{"error": {"code": str, "message": str}}`` with 400 (``invalid_parameter``) or 401
(``unauthorized``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingestion.sandbox.money import format_minor
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import World

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def render_warehouses(world: World) -> list[dict[str, Any]]:
    """Every warehouse of the world."""
    return [
        {
            "code": w["code"],
            "name": w["name"],
            "kind": w["kind"],
            "city": w["city"],
            "country_code": w["country_code"],
            "latitude": w["latitude"],
            "longitude": w["longitude"],
            "timezone": w["timezone"],
            "shopify_location_id": w["location_id"],
            "channel_id": w["channel_id"],
        }
        for w in world.warehouses.iter_rows(named=True)
    ]


def items_frame(world: World) -> pl.DataFrame:
    """The SKU master in API order (by ``sku``)."""
    return world.products.sort("sku")


def render_items(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """SKU master rows (from ``items_frame``) as API objects."""
    return [
        {
            "sku": p["sku"],
            "name": f"{p['title']} - {p['variant_title']}",
            "hs_code": p["hs_code"],
            "weight_g": p["weight_g"],
            "unit_cost": format_minor(p["unit_cost_minor"], p["cost_currency"]),
            "cost_currency": p["cost_currency"],
            "origin_country_code": p["origin_country_code"],
        }
        for p in rows.iter_rows(named=True)
    ]


def render_inventory(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """Inventory rows (from ``SandboxState.inventory_view``) as API objects."""
    rows = rows.with_columns(
        pl.col("updated_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        available=pl.col("on_hand") - pl.col("reserved"),
    )
    return rows.select(
        "warehouse_code", "sku", "on_hand", "reserved", "available", "updated_at"
    ).to_dicts()


def inbound_frame(state: SandboxState) -> pl.DataFrame:
    """Purchase orders and transfers as of the clock, in API order (by ``inbound_id``), with
    ``updated_at`` as a UTC datetime for filtering."""
    now = pl.lit(state.now)
    pos = state.table_as_of("purchase_orders")
    transfers = state.table_as_of("transfers")
    due = pl.when(pl.col("expected_at") <= now).then(pl.col("expected_at"))
    po_rows = pos.select(
        inbound_id=pl.col("po_number"),
        type=pl.lit("purchase_order"),
        reference=pl.col("po_number"),
        sku=pl.col("sku"),
        warehouse_code=pl.col("warehouse_code"),
        origin=pl.col("supplier_name"),
        supplier_id=pl.col("supplier_id"),
        quantity=pl.col("quantity"),
        unit_cost_minor=pl.col("unit_cost_minor"),
        currency=pl.col("currency"),
        created_at=pl.col("ordered_at"),
        expected_at=pl.col("expected_at"),
        received_at=pl.col("received_at"),
        lead_time_days=pl.col("lead_time_days"),
        status=pl.col("status"),
        updated_at=pl.max_horizontal("ordered_at", due, "received_at"),
    )
    transfer_rows = transfers.select(
        inbound_id=pl.lit("TR-") + pl.col("transfer_id").cast(pl.String),
        type=pl.lit("transfer"),
        reference=pl.col("transfer_id").cast(pl.String),
        sku=pl.col("sku"),
        warehouse_code=pl.col("to_warehouse"),
        origin=pl.col("from_warehouse"),
        supplier_id=pl.lit(None, pl.Int64),
        quantity=pl.col("quantity"),
        unit_cost_minor=pl.lit(None, pl.Int64),
        currency=pl.lit(None, pl.String),
        created_at=pl.col("shipped_at"),
        expected_at=pl.lit(None, pos.schema["expected_at"]),
        received_at=pl.col("received_at"),
        lead_time_days=pl.lit(None, pl.Int64),
        status=pl.col("status"),
        updated_at=pl.max_horizontal("shipped_at", "received_at"),
    )
    return pl.concat([po_rows, transfer_rows]).sort("inbound_id")


def render_inbound(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """Inbound rows (from ``inbound_frame``) as API objects."""
    out = []
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    rows = rows.with_columns(
        [
            pl.col(c).dt.strftime(stamp)
            for c in ("created_at", "expected_at", "received_at", "updated_at")
        ]
    )
    for r in rows.iter_rows(named=True):
        cost = r.pop("unit_cost_minor")
        r["unit_cost"] = None if cost is None else format_minor(cost, r["currency"])
        out.append(r)
    return out
