"""Shopify order JSON -> typed Arrow tables, exactly (64-bit ids, string money, offsets -> UTC).

One order becomes one ``orders`` row and one ``order_line_items`` row per line. A record that
cannot be parsed exactly goes to the quarantine with the reason; the rest of the page loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ingestion.common.parsing import (
    MONEY_TYPE,
    UTC_TIMESTAMP_TYPE,
    BadValue,
    currency_code,
    int_id,
    money,
    optional_bool,
    optional_int_id,
    optional_str,
    optional_utc_timestamp,
    required_str,
    utc_offset_minutes,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

ORDERS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("store_id", pa.string()),
        ("name", pa.string()),
        ("order_number", pa.int64()),
        ("email", pa.string()),
        ("customer_id", pa.int64()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("created_at_utc_offset_minutes", pa.int32()),
        ("updated_at", UTC_TIMESTAMP_TYPE),
        ("processed_at", UTC_TIMESTAMP_TYPE),
        ("cancelled_at", UTC_TIMESTAMP_TYPE),
        ("closed_at", UTC_TIMESTAMP_TYPE),
        ("cancel_reason", pa.string()),
        ("financial_status", pa.string()),
        ("fulfillment_status", pa.string()),
        ("source_name", pa.string()),
        ("tags", pa.string()),
        ("is_test", pa.bool_()),
        ("taxes_included", pa.bool_()),
        ("currency", pa.string()),
        ("presentment_currency", pa.string()),
        ("total_line_items_price", MONEY_TYPE),
        ("total_discounts", MONEY_TYPE),
        ("subtotal_price", MONEY_TYPE),
        ("total_shipping_price", MONEY_TYPE),
        ("total_tax", MONEY_TYPE),
        ("total_price", MONEY_TYPE),
        ("current_total_price", MONEY_TYPE),
        ("presentment_total_price", MONEY_TYPE),
        ("total_weight_grams", pa.int64()),
        ("shipping_country_code", pa.string()),
        ("shipping_province_code", pa.string()),
        ("shipping_city", pa.string()),
        ("shipping_zip", pa.string()),
        ("shipping_latitude", pa.float64()),
        ("shipping_longitude", pa.float64()),
        ("billing_country_code", pa.string()),
    ]
)

LINE_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("order_updated_at", UTC_TIMESTAMP_TYPE),
        ("sku", pa.string()),
        ("product_id", pa.int64()),
        ("variant_id", pa.int64()),
        ("title", pa.string()),
        ("variant_title", pa.string()),
        ("vendor", pa.string()),
        ("quantity", pa.int64()),
        ("current_quantity", pa.int64()),
        ("fulfillable_quantity", pa.int64()),
        ("fulfillment_status", pa.string()),
        ("requires_shipping", pa.bool_()),
        ("grams", pa.int64()),
        ("currency", pa.string()),
        ("price", MONEY_TYPE),
        ("discount_amount", MONEY_TYPE),
        ("tax_amount", MONEY_TYPE),
    ]
)


@dataclass
class ParsedOrders:
    """One page of orders, split into the tables we load."""

    orders: pa.Table
    line_items: pa.Table
    quarantine: Quarantine
    max_updated_at: datetime | None


def parse_orders(orders: list[Any], store_id: str) -> ParsedOrders:
    quarantine = Quarantine(source="shopify")
    order_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    for _, order_row, lines in parse_records(orders, store_id, quarantine):
        order_rows.append(order_row)
        line_rows.extend(lines)
    return ParsedOrders(
        orders=pa.Table.from_pylist(order_rows, schema=ORDERS_SCHEMA),
        line_items=pa.Table.from_pylist(line_rows, schema=LINE_ITEMS_SCHEMA),
        quarantine=quarantine,
        max_updated_at=max((row["updated_at"] for row in order_rows), default=None),
    )


def parse_records(
    orders: list[Any], store_id: str, quarantine: Quarantine
) -> list[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
    """(position, order row, line rows) of each order that parses; each other order goes to
    ``quarantine`` with its reason. The column-wise reader sends its uncommon orders here."""
    parsed = []
    for position, order in enumerate(orders):
        try:
            order_row, lines = parse_order(order, store_id)
        except BadValue as exc:
            quarantine.add("order", order, str(exc))
            continue
        except (KeyError, TypeError, AttributeError) as exc:
            quarantine.add("order", order, f"malformed order: {type(exc).__name__}: {exc}")
            continue
        parsed.append((position, order_row, lines))
    return parsed


def parse_order(order: Any, store_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parse one order; raises ``BadValue`` naming the first field that is not exact."""
    if not isinstance(order, dict):
        raise BadValue(f"order: expected an object, got {type(order).__name__}")
    order_id = int_id(order.get("id"), "id")
    currency = currency_code(order.get("currency"), "currency")
    updated_at = utc_timestamp(order.get("updated_at"), "updated_at")
    created_at_raw = order.get("created_at")
    shipping = order.get("shipping_address") or {}
    billing = order.get("billing_address") or {}
    customer = order.get("customer") or {}
    row = {
        "id": order_id,
        "store_id": store_id,
        "name": required_str(order.get("name"), "name"),
        "order_number": optional_int_id(order.get("order_number"), "order_number"),
        "email": optional_str(order.get("email"), "email"),
        "customer_id": optional_int_id(customer.get("id"), "customer.id"),
        "created_at": utc_timestamp(created_at_raw, "created_at"),
        "created_at_utc_offset_minutes": utc_offset_minutes(created_at_raw),
        "updated_at": updated_at,
        "processed_at": optional_utc_timestamp(order.get("processed_at"), "processed_at"),
        "cancelled_at": optional_utc_timestamp(order.get("cancelled_at"), "cancelled_at"),
        "closed_at": optional_utc_timestamp(order.get("closed_at"), "closed_at"),
        "cancel_reason": optional_str(order.get("cancel_reason"), "cancel_reason"),
        "financial_status": optional_str(order.get("financial_status"), "financial_status"),
        "fulfillment_status": optional_str(order.get("fulfillment_status"), "fulfillment_status"),
        "source_name": optional_str(order.get("source_name"), "source_name"),
        "tags": optional_str(order.get("tags"), "tags"),
        "is_test": optional_bool(order.get("test"), "test") or False,
        "taxes_included": optional_bool(order.get("taxes_included"), "taxes_included") or False,
        "currency": currency,
        "presentment_currency": currency_code(
            order.get("presentment_currency") or currency, "presentment_currency"
        ),
        "total_line_items_price": money(
            order.get("total_line_items_price"), "total_line_items_price"
        ),
        "total_discounts": money(order.get("total_discounts"), "total_discounts"),
        "subtotal_price": money(order.get("subtotal_price"), "subtotal_price"),
        "total_shipping_price": _shop_money(order, "total_shipping_price_set", currency),
        "total_tax": money(order.get("total_tax"), "total_tax"),
        "total_price": money(order.get("total_price"), "total_price"),
        "current_total_price": money(
            order.get("current_total_price", order.get("total_price")), "current_total_price"
        ),
        "presentment_total_price": _presentment_money(order, "total_price_set"),
        "total_weight_grams": optional_int_id(order.get("total_weight"), "total_weight"),
        "shipping_country_code": optional_str(
            shipping.get("country_code"), "shipping_address.country_code"
        ),
        "shipping_province_code": optional_str(
            shipping.get("province_code"), "shipping_address.province_code"
        ),
        "shipping_city": optional_str(shipping.get("city"), "shipping_address.city"),
        "shipping_zip": optional_str(shipping.get("zip"), "shipping_address.zip"),
        "shipping_latitude": _optional_float(shipping.get("latitude"), "shipping_address.latitude"),
        "shipping_longitude": _optional_float(
            shipping.get("longitude"), "shipping_address.longitude"
        ),
        "billing_country_code": optional_str(
            billing.get("country_code"), "billing_address.country_code"
        ),
    }
    lines = [
        _parse_line(line, order_id, store_id, updated_at, currency, index)
        for index, line in enumerate(order.get("line_items") or [])
    ]
    return row, lines


def _parse_line(
    line: dict[str, Any],
    order_id: int,
    store_id: str,
    order_updated_at: datetime,
    currency: str,
    index: int,
) -> dict[str, Any]:
    where = f"line_items[{index}]"
    return {
        "id": int_id(line.get("id"), f"{where}.id"),
        "order_id": order_id,
        "store_id": store_id,
        "order_updated_at": order_updated_at,
        "sku": optional_str(line.get("sku"), f"{where}.sku"),
        "product_id": optional_int_id(line.get("product_id"), f"{where}.product_id"),
        "variant_id": optional_int_id(line.get("variant_id"), f"{where}.variant_id"),
        "title": optional_str(line.get("title"), f"{where}.title"),
        "variant_title": optional_str(line.get("variant_title"), f"{where}.variant_title"),
        "vendor": optional_str(line.get("vendor"), f"{where}.vendor"),
        "quantity": int_id(line.get("quantity"), f"{where}.quantity"),
        "current_quantity": optional_int_id(
            line.get("current_quantity"), f"{where}.current_quantity"
        ),
        "fulfillable_quantity": optional_int_id(
            line.get("fulfillable_quantity"), f"{where}.fulfillable_quantity"
        ),
        "fulfillment_status": optional_str(
            line.get("fulfillment_status"), f"{where}.fulfillment_status"
        ),
        "requires_shipping": optional_bool(
            line.get("requires_shipping"), f"{where}.requires_shipping"
        ),
        "grams": optional_int_id(line.get("grams"), f"{where}.grams"),
        "currency": currency,
        "price": money(line.get("price"), f"{where}.price"),
        # Shopify's per-line ``total_discount`` is deprecated; discount allocations are the truth.
        "discount_amount": _sum_shop_money(
            line.get("discount_allocations"),
            "amount_set",
            currency,
            f"{where}.discount_allocations",
        ),
        "tax_amount": _sum_shop_money(
            line.get("tax_lines"), "price_set", currency, f"{where}.tax_lines"
        ),
    }


def _shop_money(record: dict[str, Any], set_name: str, currency: str) -> Decimal:
    shop_money = ((record.get(set_name) or {}).get("shop_money")) or {}
    code = shop_money.get("currency_code")
    if code is not None and code != currency:
        raise BadValue(f"{set_name}.shop_money: currency {code!r} differs from order {currency!r}")
    return money(shop_money.get("amount"), f"{set_name}.shop_money.amount")


def _presentment_money(record: dict[str, Any], set_name: str) -> Decimal:
    presentment = ((record.get(set_name) or {}).get("presentment_money")) or {}
    return money(presentment.get("amount"), f"{set_name}.presentment_money.amount")


def _sum_shop_money(items: Any, set_name: str, currency: str, where: str) -> Decimal:
    total = Decimal(0)
    for index, item in enumerate(items or []):
        try:
            total += _shop_money(item, set_name, currency)
        except BadValue as exc:
            raise BadValue(f"{where}[{index}].{exc}") from exc
    return total


def _optional_float(value: Any, field: str) -> float | None:
    """Coordinates are genuinely approximate, so float is right for them (never for money);
    text or a boolean there is refused, not converted."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{field}: expected a number, got {value!r}")
    return float(value)
