"""WMS JSON -> typed Arrow tables: warehouses, the SKU master (items), inventory levels and
inbound orders (supplier purchase orders and transfers between warehouses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ingestion.common.currencies import iso_minor_units
from ingestion.common.parsing import (
    MONEY_TYPE,
    UTC_TIMESTAMP_TYPE,
    BadValue,
    currency_code,
    int_id,
    money,
    optional_int_id,
    optional_str,
    optional_utc_timestamp,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

WAREHOUSES_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        ("name", pa.string()),
        ("city", pa.string()),
        ("country_code", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("timezone", pa.string()),
    ]
)

ITEMS_SCHEMA = pa.schema(
    [
        pa.field("sku", pa.string(), nullable=False),
        ("name", pa.string()),
        ("hs_code", pa.string()),
        ("weight_g", pa.int64()),
        ("unit_cost", MONEY_TYPE),
        ("cost_currency", pa.string()),
        ("origin_country_code", pa.string()),
    ]
)

INVENTORY_LEVELS_SCHEMA = pa.schema(
    [
        pa.field("warehouse_code", pa.string(), nullable=False),
        pa.field("sku", pa.string(), nullable=False),
        ("on_hand", pa.int64()),
        ("reserved", pa.int64()),
        ("available", pa.int64()),
        ("updated_at", UTC_TIMESTAMP_TYPE),
    ]
)


INBOUND_TYPES = ("purchase_order", "transfer")
INBOUND_STATUSES = ("open", "overdue", "in_transit", "received")

INBOUND_ORDERS_SCHEMA = pa.schema(
    [
        pa.field("inbound_id", pa.string(), nullable=False),
        ("type", pa.string()),
        ("reference", pa.string()),
        ("sku", pa.string()),
        ("warehouse_code", pa.string()),
        ("origin", pa.string()),
        ("supplier_id", pa.int64()),
        ("quantity", pa.int64()),
        ("unit_cost", MONEY_TYPE),
        ("currency", pa.string()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("expected_at", UTC_TIMESTAMP_TYPE),
        ("received_at", UTC_TIMESTAMP_TYPE),
        ("lead_time_days", pa.int64()),
        ("status", pa.string()),
        ("updated_at", UTC_TIMESTAMP_TYPE),
    ]
)


@dataclass
class ParsedPage:
    rows: pa.Table
    quarantine: Quarantine
    max_updated_at: datetime | None = None


def parse_warehouse(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": required_str(record.get("code"), "code"),
        "name": record.get("name"),
        "city": record.get("city"),
        "country_code": required_str(record.get("country_code"), "country_code"),
        "latitude": _coordinate(record.get("latitude"), "latitude"),
        "longitude": _coordinate(record.get("longitude"), "longitude"),
        "timezone": record.get("timezone"),
    }


def parse_item(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": required_str(record.get("sku"), "sku"),
        "name": record.get("name"),
        "hs_code": record.get("hs_code"),
        "weight_g": int_id(record.get("weight_g"), "weight_g"),
        "unit_cost": money(record.get("unit_cost"), "unit_cost"),
        "cost_currency": currency_code(record.get("cost_currency"), "cost_currency"),
        "origin_country_code": record.get("origin_country_code"),
    }


def parse_inventory_level(record: dict[str, Any]) -> dict[str, Any]:
    on_hand = int_id(record.get("on_hand"), "on_hand")
    reserved = int_id(record.get("reserved"), "reserved")
    if reserved < 0:
        raise BadValue(f"reserved: {reserved} is negative")
    return {
        "warehouse_code": required_str(record.get("warehouse_code"), "warehouse_code"),
        "sku": required_str(record.get("sku"), "sku"),
        # on_hand may be negative: an oversell the WMS recorded is a fact to report, not drop.
        "on_hand": on_hand,
        "reserved": reserved,
        "available": int_id(record.get("available"), "available"),
        "updated_at": utc_timestamp(record.get("updated_at"), "updated_at"),
    }


def parse_inbound_order(record: dict[str, Any]) -> dict[str, Any]:
    """One purchase order or transfer. A purchase order carries its unit cost in its currency
    (exact, within the currency's minor units); a transfer moves stock at no price, so it must
    carry neither. Quantities are whole positive units."""
    kind = _one_of(record.get("type"), "type", INBOUND_TYPES)
    quantity = int_id(record.get("quantity"), "quantity")
    if quantity <= 0:
        raise BadValue(f"quantity: {quantity} is not a positive number of units")
    raw_cost, raw_currency = record.get("unit_cost"), record.get("currency")
    if kind == "purchase_order":
        unit_cost = money(raw_cost, "unit_cost")
        currency = currency_code(raw_currency, "currency")
        _within_minor_units(unit_cost, currency, "unit_cost")
    elif raw_cost is not None or raw_currency is not None:
        raise BadValue(f"unit_cost: a transfer has no price, got {raw_cost!r} {raw_currency!r}")
    else:
        unit_cost, currency = None, None
    created_at = utc_timestamp(record.get("created_at"), "created_at")
    updated_at = utc_timestamp(record.get("updated_at"), "updated_at")
    if updated_at < created_at:
        raise BadValue(f"updated_at: {updated_at.isoformat()} is before created_at")
    return {
        "inbound_id": required_str(record.get("inbound_id"), "inbound_id"),
        "type": kind,
        "reference": required_str(record.get("reference"), "reference"),
        "sku": required_str(record.get("sku"), "sku"),
        "warehouse_code": required_str(record.get("warehouse_code"), "warehouse_code"),
        "origin": optional_str(record.get("origin"), "origin"),
        "supplier_id": optional_int_id(record.get("supplier_id"), "supplier_id"),
        "quantity": quantity,
        "unit_cost": unit_cost,
        "currency": currency,
        "created_at": created_at,
        "expected_at": optional_utc_timestamp(record.get("expected_at"), "expected_at"),
        "received_at": optional_utc_timestamp(record.get("received_at"), "received_at"),
        "lead_time_days": optional_int_id(record.get("lead_time_days"), "lead_time_days"),
        "status": _one_of(record.get("status"), "status", INBOUND_STATUSES),
        "updated_at": updated_at,
    }


def _one_of(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadValue(f"{field}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _within_minor_units(amount: Decimal, currency: str, field: str) -> None:
    """An amount with more decimals than its currency has (0.5 JPY) is not a real price."""
    exponent = iso_minor_units(currency)
    if exponent is None:
        raise BadValue(f"{field}: {currency!r} is not an ISO 4217 currency")
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise BadValue(f"{field}: {amount} has more than {exponent} decimals for {currency}")


def parse_page(
    records: list[Any],
    entity: str,
    parse_one: Callable[[dict[str, Any]], dict[str, Any]],
    schema: pa.Schema,
    id_fields: tuple[str, ...],
) -> ParsedPage:
    """Parse every record; refused ones go to quarantine with their reason."""
    quarantine = Quarantine(source="wms")
    rows: list[dict[str, Any]] = []
    for record in records:
        record_id = (
            ":".join(str(record.get(f)) for f in id_fields) if isinstance(record, dict) else None
        )
        try:
            if not isinstance(record, dict):
                raise BadValue(f"{entity}: expected an object, got {type(record).__name__}")
            rows.append(parse_one(record))
        except (BadValue, TypeError, ValueError) as exc:
            quarantine.add(entity, record, str(exc), record_id=record_id)
    updated = [r["updated_at"] for r in rows if "updated_at" in r]
    return ParsedPage(
        rows=pa.Table.from_pylist(rows, schema=schema),
        quarantine=quarantine,
        max_updated_at=max(updated) if updated else None,
    )


def _coordinate(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{field}: expected a number, got {value!r}")
    return float(value)
