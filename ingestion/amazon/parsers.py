"""SP-API Orders v0 JSON -> typed Arrow tables, exactly.

Amazon's quirks, each handled here and tested against Amazon's own examples:
- money is ``{"CurrencyCode": "JPY", "Amount": "25.99"}`` with the amount a string; it is read
  without passing through float, and every amount keeps its own currency column because one
  item can mix currencies (the official getOrderItems example wraps a JPY item in GBP gift wrap);
- times are ISO 8601 with ``Z``; they are stored in UTC and refused without an offset;
- ids are strings (``902-3159896-1390916``, ``68828574383266``): never numbers, so no digit or
  leading zero is lost;
- booleans sometimes arrive as the strings ``"true"``/``"false"`` (``IsBuyerRequestedCancel``,
  ``IsGift``);
- absent values are left out, not sent as null (a Pending order has no address and its items no
  prices; a Canceled order has no ``OrderTotal``), so absence is a null column, never an error.

A record that cannot be read exactly goes to the quarantine with the reason and its raw payload;
the rest of the page loads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
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
    money,
    nested_object,
    optional_str,
    optional_utc_timestamp,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

SOURCE = "amazon"
# "An AmazonOrderId is an Amazon-defined order identifier, in 3-7-7 format" (ordersV0.json).
_ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")

# Order-level money: output column -> SP-API field.
ORDER_MONEY = {"order_total": "OrderTotal"}
# Item-level money: output column -> path in the OrderItem object.
ITEM_MONEY = {
    "item_price": ("ItemPrice",),
    "item_tax": ("ItemTax",),
    "shipping_price": ("ShippingPrice",),
    "shipping_tax": ("ShippingTax",),
    "shipping_discount": ("ShippingDiscount",),
    "shipping_discount_tax": ("ShippingDiscountTax",),
    "promotion_discount": ("PromotionDiscount",),
    "promotion_discount_tax": ("PromotionDiscountTax",),
    "cod_fee": ("CODFee",),
    "cod_fee_discount": ("CODFeeDiscount",),
    "gift_wrap_price": ("BuyerInfo", "GiftWrapPrice"),
    "gift_wrap_tax": ("BuyerInfo", "GiftWrapTax"),
    "points_monetary_value": ("PointsGranted", "PointsMonetaryValue"),
}
_ORDER_DATES = (
    "earliest_ship_date",
    "latest_ship_date",
    "earliest_delivery_date",
    "latest_delivery_date",
)
_ORDER_FLAGS = {
    "is_business_order": "IsBusinessOrder",
    "is_prime": "IsPrime",
    "is_premium_order": "IsPremiumOrder",
    "is_global_express_enabled": "IsGlobalExpressEnabled",
    "is_replacement_order": "IsReplacementOrder",
    "is_sold_by_ab": "IsSoldByAB",
    "is_iba": "IsIBA",
    "is_ispu": "IsISPU",
    "is_access_point_order": "IsAccessPointOrder",
    "has_regulated_items": "HasRegulatedItems",
}


def _money_fields(names: list[str]) -> list[pa.Field]:
    fields: list[pa.Field] = []
    for name in names:
        fields += [pa.field(name, MONEY_TYPE), pa.field(f"{name}_currency", pa.string())]
    return fields


ORDERS_SCHEMA = pa.schema(
    [
        pa.field("amazon_order_id", pa.string(), nullable=False),
        ("store_id", pa.string()),
        ("marketplace_id", pa.string()),
        ("sales_channel", pa.string()),
        ("order_channel", pa.string()),
        ("seller_order_id", pa.string()),
        ("purchase_date", UTC_TIMESTAMP_TYPE),
        ("last_update_date", UTC_TIMESTAMP_TYPE),
        ("order_status", pa.string()),
        ("order_type", pa.string()),
        ("fulfillment_channel", pa.string()),
        ("ship_service_level", pa.string()),
        ("shipment_service_level_category", pa.string()),
        ("payment_method", pa.string()),
        ("payment_method_details", pa.string()),
        *_money_fields(list(ORDER_MONEY)),
        ("number_of_items_shipped", pa.int64()),
        ("number_of_items_unshipped", pa.int64()),
        *[(name, UTC_TIMESTAMP_TYPE) for name in _ORDER_DATES],
        *[(name, pa.bool_()) for name in _ORDER_FLAGS],
        ("buyer_invoice_preference", pa.string()),
        ("buyer_email_hash", pa.string()),
        ("fulfillment_supply_source_id", pa.string()),
        ("ship_from_country_code", pa.string()),
        ("shipping_country_code", pa.string()),
        ("shipping_state_or_region", pa.string()),
        ("shipping_city", pa.string()),
        ("shipping_postal_code", pa.string()),
        ("shipping_address_type", pa.string()),
    ]
)

ORDER_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("amazon_order_id", pa.string(), nullable=False),
        # An order holds one item per SKU, and the All Orders report names items only by SKU
        # (no OrderItemId), so (amazon_order_id, seller_sku) is the key both ways of loading
        # items share; order_item_id is filled where getOrderItems served it.
        pa.field("seller_sku", pa.string(), nullable=False),
        ("order_item_id", pa.string()),
        ("store_id", pa.string()),
        ("order_last_update_date", UTC_TIMESTAMP_TYPE),
        ("asin", pa.string()),
        ("title", pa.string()),
        ("quantity_ordered", pa.int64()),
        ("quantity_shipped", pa.int64()),
        ("number_of_items", pa.int64()),
        *_money_fields(list(ITEM_MONEY)),
        ("points_granted", pa.int64()),
        ("promotion_ids", pa.string()),
        ("condition_id", pa.string()),
        ("condition_subtype_id", pa.string()),
        ("price_designation", pa.string()),
        ("is_gift", pa.bool_()),
        ("gift_wrap_level", pa.string()),
        ("is_buyer_requested_cancel", pa.bool_()),
        ("buyer_cancel_reason", pa.string()),
        ("is_transparency", pa.bool_()),
        ("serial_number_required", pa.bool_()),
        ("serial_numbers", pa.string()),
        ("scheduled_delivery_start_date", UTC_TIMESTAMP_TYPE),
        ("scheduled_delivery_end_date", UTC_TIMESTAMP_TYPE),
        ("tax_collection_model", pa.string()),
        ("tax_collection_responsible_party", pa.string()),
    ]
)


@dataclass(frozen=True)
class OrderRef:
    """What getOrderItems needs to know about an order that parsed cleanly."""

    amazon_order_id: str
    store_id: str | None
    last_update_date: datetime


@dataclass
class ParsedPage:
    """One getOrders page and the items of its orders, split into the tables we load."""

    orders: pa.Table
    order_items: pa.Table
    quarantine: Quarantine
    max_last_update_date: datetime | None


@dataclass
class ParsedOrders:
    """Rows of one getOrders page before their items are fetched."""

    rows: list[dict[str, Any]]
    refs: list[OrderRef]
    quarantine: Quarantine
    max_last_update_date: datetime | None


def parse_orders(orders: Any, sellers: Mapping[str, str]) -> ParsedOrders:
    """Parse a getOrders page's ``Orders``; bad orders go to the quarantine, the rest load.
    ``sellers`` maps marketplace ids to the seller id that becomes ``store_id``."""
    quarantine = Quarantine(source=SOURCE)
    rows: list[dict[str, Any]] = []
    refs: list[OrderRef] = []
    newest: datetime | None = None
    if not isinstance(orders, list):
        quarantine.add("orders_page", orders, "Orders: expected a list", record_id=None)
        orders = []
    for order in orders:
        try:
            row = parse_order(order, sellers)
        except BadValue as exc:
            quarantine.add("order", order, str(exc), record_id=_order_id_of(order))
            continue
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            reason = f"malformed order: {type(exc).__name__}: {exc}"
            quarantine.add("order", order, reason, record_id=_order_id_of(order))
            continue
        rows.append(row)
        refs.append(OrderRef(row["amazon_order_id"], row["store_id"], row["last_update_date"]))
        if newest is None or row["last_update_date"] > newest:
            newest = row["last_update_date"]
    return ParsedOrders(rows, refs, quarantine, newest)


def parse_order(order: Any, sellers: Mapping[str, str]) -> dict[str, Any]:
    """One SP-API ``Order``; raises ``BadValue`` naming the first field that is not exact.

    ``store_id`` is the seller account (merchant token) of the order's marketplace: SP-API
    orders do not name it, the configuration does (``sellers``, marketplace id -> seller id).
    """
    order = nested_object(order, "order", required=True)
    amazon_order_id = order_id(order.get("AmazonOrderId"), "AmazonOrderId")
    marketplace_id = required_str(order.get("MarketplaceId"), "MarketplaceId")
    shipping = nested_object(order.get("ShippingAddress"), "ShippingAddress")
    ship_from = nested_object(
        order.get("DefaultShipFromLocationAddress"), "DefaultShipFromLocation"
    )
    instruction = nested_object(order.get("FulfillmentInstruction"), "FulfillmentInstruction")
    buyer = nested_object(order.get("BuyerInfo"), "BuyerInfo")
    row: dict[str, Any] = {
        "amazon_order_id": amazon_order_id,
        "store_id": sellers.get(marketplace_id),
        "marketplace_id": marketplace_id,
        "sales_channel": _text(order, "SalesChannel"),
        "order_channel": _text(order, "OrderChannel"),
        "seller_order_id": _text(order, "SellerOrderId"),
        "purchase_date": utc_timestamp(order.get("PurchaseDate"), "PurchaseDate"),
        "last_update_date": utc_timestamp(order.get("LastUpdateDate"), "LastUpdateDate"),
        "order_status": required_str(order.get("OrderStatus"), "OrderStatus"),
        "order_type": _text(order, "OrderType"),
        "fulfillment_channel": _text(order, "FulfillmentChannel"),
        "ship_service_level": _text(order, "ShipServiceLevel"),
        "shipment_service_level_category": _text(order, "ShipmentServiceLevelCategory"),
        "payment_method": _text(order, "PaymentMethod"),
        "payment_method_details": _joined(
            order.get("PaymentMethodDetails"), "PaymentMethodDetails"
        ),
        "number_of_items_shipped": _count(
            order.get("NumberOfItemsShipped"), "NumberOfItemsShipped"
        ),
        "number_of_items_unshipped": _count(
            order.get("NumberOfItemsUnshipped"), "NumberOfItemsUnshipped"
        ),
        "buyer_invoice_preference": _text(order, "BuyerInvoicePreference"),
        "buyer_email_hash": email_hash(buyer.get("BuyerEmail"), "BuyerInfo.BuyerEmail"),
        "fulfillment_supply_source_id": optional_str(
            instruction.get("FulfillmentSupplySourceId"),
            "FulfillmentInstruction.FulfillmentSupplySourceId",
        ),
        "ship_from_country_code": _text(
            ship_from, "CountryCode", "DefaultShipFromLocationAddress."
        ),
        "shipping_country_code": _text(shipping, "CountryCode", "ShippingAddress."),
        "shipping_state_or_region": _text(shipping, "StateOrRegion", "ShippingAddress."),
        "shipping_city": _text(shipping, "City", "ShippingAddress."),
        "shipping_postal_code": _text(shipping, "PostalCode", "ShippingAddress."),
        "shipping_address_type": _text(shipping, "AddressType", "ShippingAddress."),
    }
    for column in _ORDER_DATES:
        name = _camel(column)
        row[column] = optional_utc_timestamp(order.get(name), name)
    for column, name in ORDER_MONEY.items():
        row[column], row[f"{column}_currency"] = amazon_money(order.get(name), name)
    for column, name in _ORDER_FLAGS.items():
        row[column] = flag(order.get(name), name)
    return row


def parse_order_items(items: Any, order: OrderRef, quarantine: Quarantine) -> list[dict[str, Any]]:
    """Parse a getOrderItems page's ``OrderItems`` of ``order``; bad items are quarantined
    with their order id beside them (the item alone does not say which order it belongs to)."""
    rows: list[dict[str, Any]] = []
    if not isinstance(items, list):
        payload = {"AmazonOrderId": order.amazon_order_id, "OrderItems": items}
        quarantine.add("order_items_page", payload, "OrderItems: expected a list")
        return rows
    for item in items:
        try:
            rows.append(parse_order_item(item, order))
        except (BadValue, KeyError, TypeError, AttributeError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, BadValue) else f"malformed order item: {exc}"
            payload = {"AmazonOrderId": order.amazon_order_id, "OrderItem": item}
            item_id = item.get("OrderItemId") if isinstance(item, dict) else None
            quarantine.add("order_item", payload, reason, record_id=item_id)
    return rows


def parse_order_item(item: Any, order: OrderRef) -> dict[str, Any]:
    """One SP-API ``OrderItem``; raises ``BadValue`` naming the first field that is not exact."""
    item = nested_object(item, "order item", required=True)
    product = nested_object(item.get("ProductInfo"), "ProductInfo")
    points = nested_object(item.get("PointsGranted"), "PointsGranted")
    buyer = nested_object(item.get("BuyerInfo"), "BuyerInfo")
    cancel = nested_object(item.get("BuyerRequestedCancel"), "BuyerRequestedCancel")
    tax = nested_object(item.get("TaxCollection"), "TaxCollection")
    row: dict[str, Any] = {
        "amazon_order_id": order.amazon_order_id,
        "order_item_id": required_str(item.get("OrderItemId"), "OrderItemId"),
        "seller_sku": required_str(item.get("SellerSKU"), "SellerSKU"),
        "store_id": order.store_id,
        "order_last_update_date": order.last_update_date,
        "asin": _text(item, "ASIN"),
        "title": _text(item, "Title"),
        "quantity_ordered": _count(item.get("QuantityOrdered"), "QuantityOrdered", True),
        "quantity_shipped": _count(item.get("QuantityShipped"), "QuantityShipped"),
        # ProductInfo.NumberOfItems is a string of digits in SP-API ("1").
        "number_of_items": _count_text(product.get("NumberOfItems"), "ProductInfo.NumberOfItems"),
        "points_granted": _count(points.get("PointsNumber"), "PointsGranted.PointsNumber"),
        "promotion_ids": _joined(item.get("PromotionIds"), "PromotionIds"),
        "condition_id": _text(item, "ConditionId"),
        "condition_subtype_id": _text(item, "ConditionSubtypeId"),
        "price_designation": _text(item, "PriceDesignation"),
        "is_gift": flag(item.get("IsGift"), "IsGift"),
        "gift_wrap_level": _text(buyer, "GiftWrapLevel", "BuyerInfo."),
        "is_buyer_requested_cancel": flag(
            cancel.get("IsBuyerRequestedCancel"), "BuyerRequestedCancel.IsBuyerRequestedCancel"
        ),
        # Amazon sends "" when there is no reason; null says the same thing in a column.
        "buyer_cancel_reason": _text(cancel, "BuyerCancelReason", "BuyerRequestedCancel.") or None,
        "is_transparency": flag(item.get("IsTransparency"), "IsTransparency"),
        "serial_number_required": flag(item.get("SerialNumberRequired"), "SerialNumberRequired"),
        "serial_numbers": _joined(item.get("SerialNumbers"), "SerialNumbers"),
        "scheduled_delivery_start_date": optional_utc_timestamp(
            item.get("ScheduledDeliveryStartDate"), "ScheduledDeliveryStartDate"
        ),
        "scheduled_delivery_end_date": optional_utc_timestamp(
            item.get("ScheduledDeliveryEndDate"), "ScheduledDeliveryEndDate"
        ),
        "tax_collection_model": _text(tax, "Model", "TaxCollection."),
        "tax_collection_responsible_party": _text(tax, "ResponsibleParty", "TaxCollection."),
    }
    for column, path in ITEM_MONEY.items():
        node: Any = item
        for step in path[:-1]:
            node = nested_object(node.get(step), step)
        row[column], row[f"{column}_currency"] = amazon_money(node.get(path[-1]), ".".join(path))
    return row


def to_page(parsed: ParsedOrders, item_rows: list[dict[str, Any]]) -> ParsedPage:
    """Arrow tables for one getOrders page and the items fetched for it."""
    return ParsedPage(
        orders=pa.Table.from_pylist(parsed.rows, schema=ORDERS_SCHEMA),
        order_items=pa.Table.from_pylist(item_rows, schema=ORDER_ITEMS_SCHEMA),
        quarantine=parsed.quarantine,
        max_last_update_date=parsed.max_last_update_date,
    )


# --- field readers ----------------------------------------------------------------------------


def amazon_money(value: Any, field: str) -> tuple[Decimal | None, str | None]:
    """SP-API ``Money``: ``{"CurrencyCode": "USD", "Amount": "19.99"}`` -> (amount, currency).

    Absent money is (None, None): Amazon leaves prices out of Pending orders' items and the total
    out of Canceled orders. Present money must have both parts; the amount is a decimal string
    (a JSON float has already lost exactness and is refused by ``money``).
    """
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise BadValue(f"{field}: expected a Money object, got {type(value).__name__}")
    return (
        money(value.get("Amount"), f"{field}.Amount"),
        currency_code(value.get("CurrencyCode"), f"{field}.CurrencyCode"),
    )


def order_id(value: Any, field: str) -> str:
    """An AmazonOrderId in Amazon's 3-7-7 digit format, kept as text."""
    text = required_str(value, field)
    if not _ORDER_ID.fullmatch(text):
        raise BadValue(f"{field}: {value!r} is not a 3-7-7 Amazon order id")
    return text


def flag(value: Any, field: str) -> bool | None:
    """A boolean that SP-API sends either as JSON true/false or as the strings "true"/"false"."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadValue(f"{field}: expected a boolean, got {value!r}")


def email_hash(value: Any, field: str) -> str | None:
    """SHA-256 of the trimmed, lower-cased buyer e-mail: joinable for repeat-buyer analysis
    without keeping the address (Amazon's relay addresses are still personal data)."""
    if value is None or value == "":
        return None
    text = required_str(value, field)
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()


def _text(record: dict[str, Any], name: str, where: str = "") -> str | None:
    """Optional string field ``name`` of ``record`` (``where`` prefixes it in reasons)."""
    return optional_str(record.get(name), f"{where}{name}")


def _count(value: Any, field: str, required: bool = False) -> int | None:
    """A quantity: a non-negative JSON integer (never a float, never negative)."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: expected a whole number, got {value!r}")
    if value < 0:
        raise BadValue(f"{field}: {value} is negative")
    return value


def _count_text(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return _count(value, field)


def _joined(value: Any, field: str) -> str | None:
    """A list of strings as one comma-separated text (Amazon's codes never contain commas)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadValue(f"{field}: expected a list of strings, got {value!r}")
    return ",".join(value)


def _camel(column: str) -> str:
    return "".join(part.capitalize() for part in column.split("_"))


def _order_id_of(order: Any) -> Any:
    return order.get("AmazonOrderId") if isinstance(order, dict) else None
