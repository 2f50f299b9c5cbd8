"""The WMS API: Tradelane's own contract for a warehouse operator, served by the sandbox.

Why our own contract: 3PL APIs differ wildly; Tradelane's WMS connector speaks this small REST
API and an adapter maps a real provider onto it. The sandbox serves it from the ledger.

Contract (JSON over HTTPS; every request carries ``Authorization: Bearer <token>``):

``GET /wms/v1/warehouses``
    ``{"warehouses": [{"code": "SZX", "name": str, "city": str, "country_code": "CN",
    "latitude": float, "longitude": float, "timezone": "Asia/Shanghai",
    "shopify_location_id": int}]}``

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

Paging: ``limit`` defaults to 500, at most 1000; ``next_cursor`` is opaque and null on the last
page. Keyset cursors: no row is skipped or repeated while the data does not change.
Errors: ``{"error": {"code": str, "message": str}}`` with 400 (``invalid_parameter``) or 401
(``unauthorized``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingestion.sandbox.money import format_minor
from ingestion.sandbox.world import World

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def render_warehouses(world: World) -> list[dict[str, Any]]:
    """Every warehouse of the world."""
    return [
        {
            "code": w["code"],
            "name": w["name"],
            "city": w["city"],
            "country_code": w["country_code"],
            "latitude": w["latitude"],
            "longitude": w["longitude"],
            "timezone": w["timezone"],
            "shopify_location_id": w["location_id"],
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
            "weight_g": p["grams"],
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
