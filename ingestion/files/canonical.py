"""The canonical order tables every mapping fills, whatever the marketplace wrote.

A mapping names, for each canonical field below, where its value comes from. The field's kind
says what the value must become (exact money, a UTC instant, an ISO code...) and a value that
cannot become it exactly sends its order to the quarantine. Column names follow the order mart
(``dbt_project/models/marts/core``) so staging stays a rename.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pyarrow as pa

from ingestion.common.parsing import (
    MONEY_TYPE,
    UTC_TIMESTAMP_TYPE,
    BadValue,
    currency_code,
    money,
)


class Kind(Enum):
    """What a value is after a mapping's transforms (checked when the mapping is loaded)."""

    TEXT = "text"
    DECIMAL = "decimal"
    INT = "int"
    TIMESTAMP = "timestamp"
    BOOL = "bool"


class FieldType(Enum):
    """What a canonical column holds; each accepts some value kinds (``ACCEPTS``)."""

    TEXT = "text"
    MONEY = "money"
    INT = "int"
    TIMESTAMP = "timestamp"
    BOOL = "bool"
    CURRENCY = "currency"
    COUNTRY = "country"
    FINANCIAL_STATUS = "financial_status"
    FULFILLMENT_STATUS = "fulfillment_status"


ACCEPTS: dict[FieldType, set[Kind]] = {
    FieldType.TEXT: {Kind.TEXT, Kind.INT},
    FieldType.MONEY: {Kind.TEXT, Kind.DECIMAL, Kind.INT},
    FieldType.INT: {Kind.TEXT, Kind.INT},
    FieldType.TIMESTAMP: {Kind.TIMESTAMP},
    FieldType.BOOL: {Kind.BOOL},
    FieldType.CURRENCY: {Kind.TEXT},
    FieldType.COUNTRY: {Kind.TEXT},
    FieldType.FINANCIAL_STATUS: {Kind.TEXT},
    FieldType.FULFILLMENT_STATUS: {Kind.TEXT},
}

# Tradelane's status vocabulary: Shopify's, which the order mart and the routing rules already
# speak (fct_orders.is_awaiting_shipment). Other channels map their statuses onto it.
FINANCIAL_STATUSES = frozenset(
    {"pending", "authorized", "paid", "partially_paid", "partially_refunded", "refunded", "voided"}
)
FULFILLMENT_STATUSES = frozenset({"unfulfilled", "partial", "fulfilled"})
VOCABULARIES: dict[FieldType, frozenset[str]] = {
    FieldType.FINANCIAL_STATUS: FINANCIAL_STATUSES,
    FieldType.FULFILLMENT_STATUS: FULFILLMENT_STATUSES,
}


@dataclass(frozen=True)
class CanonicalField:
    type: FieldType
    description: str
    required: bool = False


ORDER_FIELDS: dict[str, CanonicalField] = {
    "external_order_id": CanonicalField(
        FieldType.TEXT, "The channel's order id, as text (defaults to the order key column)."
    ),
    "order_name": CanonicalField(FieldType.TEXT, "The order number customers see (#1001)."),
    "order_number": CanonicalField(FieldType.INT, "The order number as an integer."),
    "customer_id": CanonicalField(FieldType.TEXT, "The channel's customer id."),
    "customer_email_sha256": CanonicalField(
        FieldType.TEXT, "SHA-256 of the buyer's e-mail (never the address itself)."
    ),
    "ordered_at": CanonicalField(FieldType.TIMESTAMP, "When the order was placed.", True),
    "updated_at": CanonicalField(FieldType.TIMESTAMP, "Last change the channel reported."),
    "cancelled_at": CanonicalField(FieldType.TIMESTAMP, "When the order was cancelled."),
    "is_cancelled": CanonicalField(
        FieldType.BOOL, "The order was cancelled (defaults to: cancelled_at is set)."
    ),
    "channel_order_status": CanonicalField(FieldType.TEXT, "The status as the channel wrote it."),
    "financial_status": CanonicalField(
        FieldType.FINANCIAL_STATUS, "Payment state: " + ", ".join(sorted(FINANCIAL_STATUSES))
    ),
    "fulfillment_status": CanonicalField(
        FieldType.FULFILLMENT_STATUS, "Shipping state: " + ", ".join(sorted(FULFILLMENT_STATUSES))
    ),
    "currency": CanonicalField(
        FieldType.CURRENCY, "ISO 4217 code of every amount (required once any amount is set)."
    ),
    "taxes_included": CanonicalField(FieldType.BOOL, "Prices already include tax."),
    "line_items_total": CanonicalField(
        FieldType.MONEY, "Sum of line prices before discounts (defaults to the lines' sum)."
    ),
    "discounts": CanonicalField(FieldType.MONEY, "Discounts, positive (defaults to the lines')."),
    "subtotal": CanonicalField(
        FieldType.MONEY, "Line items less discounts (defaults to that difference)."
    ),
    "shipping": CanonicalField(FieldType.MONEY, "Shipping charged to the buyer."),
    "other_charges": CanonicalField(
        FieldType.MONEY, "Other charges added to the total (gift wrap, duties)."
    ),
    "tax": CanonicalField(FieldType.MONEY, "Tax charged (defaults to the lines' tax)."),
    "total": CanonicalField(
        FieldType.MONEY,
        "What the buyer paid (defaults to subtotal + shipping + other_charges + tax, "
        "tax left out when taxes_included).",
    ),
    "destination_country_code": CanonicalField(
        FieldType.COUNTRY, "ISO 3166-1 alpha-2 code of the shipping address."
    ),
    "destination_province": CanonicalField(FieldType.TEXT, "State or province, as written."),
    "destination_city": CanonicalField(FieldType.TEXT, "City of the shipping address."),
    "destination_postal_code": CanonicalField(FieldType.TEXT, "Postal code, as text."),
}

LINE_FIELDS: dict[str, CanonicalField] = {
    "external_line_id": CanonicalField(FieldType.TEXT, "The channel's line or item id."),
    "sku": CanonicalField(FieldType.TEXT, "Seller SKU."),
    "title": CanonicalField(FieldType.TEXT, "Product title."),
    "channel_line_status": CanonicalField(FieldType.TEXT, "The line status as written."),
    "quantity": CanonicalField(FieldType.INT, "Units ordered.", True),
    "unit_price": CanonicalField(
        FieldType.MONEY, "Price of one unit (defaults to line_price / quantity when exact)."
    ),
    "line_price": CanonicalField(
        FieldType.MONEY, "Unit price times quantity, before discounts (defaults to that product)."
    ),
    "discount": CanonicalField(FieldType.MONEY, "Discount on the line, positive."),
    "tax": CanonicalField(FieldType.MONEY, "Tax on the line."),
    "currency": CanonicalField(
        FieldType.CURRENCY, "Currency of the line (defaults to the order's)."
    ),
}

# Every money column of an order, in the order they are derived.
ORDER_MONEY_FIELDS = (
    "line_items_total",
    "discounts",
    "subtotal",
    "shipping",
    "other_charges",
    "tax",
    "total",
)
LINE_MONEY_FIELDS = ("unit_price", "line_price", "discount", "tax")

_KEY = [
    pa.field("channel", pa.string(), nullable=False),
    pa.field("store_id", pa.string(), nullable=False),
    pa.field("external_order_id", pa.string(), nullable=False),
]
_PROVENANCE = [("source_file", pa.string()), ("source_row", pa.int64())]

ORDERS_SCHEMA = pa.schema(
    [
        *_KEY,
        ("order_name", pa.string()),
        ("order_number", pa.int64()),
        ("customer_id", pa.string()),
        ("customer_email_sha256", pa.string()),
        ("ordered_at", UTC_TIMESTAMP_TYPE),
        ("ordered_at_utc_offset_minutes", pa.int32()),
        ("updated_at", UTC_TIMESTAMP_TYPE),
        ("cancelled_at", UTC_TIMESTAMP_TYPE),
        ("is_cancelled", pa.bool_()),
        ("channel_order_status", pa.string()),
        ("financial_status", pa.string()),
        ("fulfillment_status", pa.string()),
        ("currency", pa.string()),
        ("taxes_included", pa.bool_()),
        *[(name, MONEY_TYPE) for name in ORDER_MONEY_FIELDS],
        ("destination_country_code", pa.string()),
        ("destination_province", pa.string()),
        ("destination_city", pa.string()),
        ("destination_postal_code", pa.string()),
        ("line_count", pa.int32()),
        *_PROVENANCE,
    ]
)

ORDER_LINES_SCHEMA = pa.schema(
    [
        *_KEY,
        pa.field("line_number", pa.int64(), nullable=False),
        ("external_line_id", pa.string()),
        ("sku", pa.string()),
        ("title", pa.string()),
        ("channel_line_status", pa.string()),
        ("quantity", pa.int64()),
        ("currency", pa.string()),
        *[(name, MONEY_TYPE) for name in LINE_MONEY_FIELDS],
        *_PROVENANCE,
    ]
)

ORDER_KEY = ("channel", "store_id", "external_order_id")
LINE_KEY = (*ORDER_KEY, "line_number")

_INT_RE = re.compile(r"[+-]?\d+")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")


def coerce(field_type: FieldType, value: Any, label: str) -> Any:
    """Turn a transformed value into its column's type, exactly, or raise ``BadValue``."""
    if value is None:
        return None
    if field_type is FieldType.TEXT:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise BadValue(f"{label}: expected text, got {value!r}")
        return str(value)
    if field_type is FieldType.MONEY:
        if isinstance(value, Decimal):
            value = str(value)
        return money(value, label)
    if field_type is FieldType.INT:
        return to_int(value, label)
    if field_type is FieldType.TIMESTAMP:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise BadValue(f"{label}: {value!r} is not a timestamp with a known offset")
        return value
    if field_type is FieldType.BOOL:
        if not isinstance(value, bool):
            raise BadValue(f"{label}: expected true or false, got {value!r}")
        return value
    if field_type is FieldType.CURRENCY:
        return currency_code(value, label)
    if field_type is FieldType.COUNTRY:
        if not isinstance(value, str) or not _COUNTRY_RE.fullmatch(value):
            raise BadValue(
                f"{label}: {value!r} is not an ISO 3166-1 alpha-2 code "
                "(the country_name_to_code transform converts names)"
            )
        return value
    vocabulary = VOCABULARIES[field_type]
    if value not in vocabulary:
        raise BadValue(f"{label}: {value!r} is not one of {', '.join(sorted(vocabulary))}")
    return value


def to_int(value: Any, label: str) -> int:
    """A whole number that fits in 64 bits; text must be plain digits (no "1.0", no "1,000")."""
    prefix = f"{label}: " if label else ""
    if isinstance(value, bool):
        raise BadValue(f"{prefix}expected an integer, got {value!r}")
    if isinstance(value, str):
        if not _INT_RE.fullmatch(value.strip()):
            raise BadValue(f"{prefix}{value!r} is not an integer")
        value = int(value.strip())
    if not isinstance(value, int):
        raise BadValue(f"{prefix}expected an integer, got {value!r}")
    if not -(2**63) <= value < 2**63:
        raise BadValue(f"{prefix}{value} does not fit in 64 bits")
    return value


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def offset_minutes(value: datetime | None) -> int | None:
    """The local offset the export wrote, kept so local-day reporting stays possible."""
    if value is None:
        return None
    offset = value.utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)
