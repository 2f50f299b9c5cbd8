"""Great Expectations suites for ``raw_amazon`` (see ``ingestion.common.expectations``).

Besides the checks every raw table gets, these state what parses but should not exist in a
healthy load: an order id not in Amazon's 3-7-7 form, an unknown status, an item shipped more
often than ordered, an update before the purchase.
"""

from __future__ import annotations

from typing import Any

from ingestion.common.expectations import TableSuite

ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
)
ORDER_ID_PATTERN = r"^\d{3}-\d{7}-\d{7}$"
ITEM_MONEY = (
    "item_price",
    "item_tax",
    "shipping_price",
    "shipping_tax",
    "shipping_discount",
    "shipping_discount_tax",
    "promotion_discount",
    "promotion_discount_tax",
    "cod_fee",
    "cod_fee_discount",
    "gift_wrap_price",
    "gift_wrap_tax",
    "points_monetary_value",
)


def _orders_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToMatchRegex(column="amazon_order_id", regex=ORDER_ID_PATTERN),
        e.ExpectColumnValuesToBeBetween(column="order_total", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_update_date", column_B="purchase_date", or_equal=True
        ),
    ]


def _order_items_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToNotBeNull(column="quantity_ordered"),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="quantity_ordered",
            column_B="quantity_shipped",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        e.ExpectColumnValuesToBeBetween(column="item_price", min_value=0),
    ]


SUITES = {
    "orders": TableSuite(
        keys=("amazon_order_id",),
        money=("order_total",),
        currencies=("order_total_currency",),
        timestamps=("purchase_date", "last_update_date", "earliest_ship_date", "latest_ship_date"),
        enums={"order_status": ORDER_STATUSES, "fulfillment_channel": ("AFN", "MFN")},
        extra=_orders_rules,
    ),
    "order_items": TableSuite(
        keys=("amazon_order_id", "seller_sku"),
        money=ITEM_MONEY,
        currencies=tuple(f"{m}_currency" for m in ITEM_MONEY),
        timestamps=("order_last_update_date",),
        extra=_order_items_rules,
    ),
}
