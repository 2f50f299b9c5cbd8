"""The great-expectations suite of every raw table, by source and table.

Amazon, tracking, WMS and EasyPost declare theirs beside their parsers; the suites of the others
are declared here, in the same ``TableSuite`` form, because their packages are being rewritten
for speed in parallel (they can move next to their parsers once that lands). Quarantine tables
have no suite: they hold what was refused, by definition.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ingestion.amazon.expectations import SUITES as AMAZON_SUITES
from ingestion.common.currencies import ISO_CURRENCIES, WITHDRAWN_CURRENCIES
from ingestion.common.expectations import Child, TableSuite
from ingestion.easypost.expectations import SUITES as EASYPOST
from ingestion.files.canonical import LINE_KEY, LINE_MONEY_FIELDS, ORDER_KEY, ORDER_MONEY_FIELDS
from ingestion.tracking.expectations import SUITES as TRACKING
from ingestion.wms.expectations import SUITES as WMS

# Shopify Admin REST 2026-07 vocabularies.
SHOPIFY_FINANCIAL_STATUSES = (
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
)
SHOPIFY_FULFILLMENT_STATUSES = ("fulfilled", "partial", "restocked", "not_eligible")
SHOPIFY_TRANSACTION_KINDS = (
    "authorization",
    "capture",
    "sale",
    "void",
    "refund",
    "change",
    "emv_authorization",
    "suggested_refund",
)
SHOPIFY_TRANSACTION_STATUSES = ("pending", "failure", "success", "error")
SHOPIFY_FULFILLMENT_STATES = ("pending", "open", "success", "cancelled", "error", "failure")
SHOPIFY_SHIPMENT_STATUSES = (
    "label_printed",
    "label_purchased",
    "attempted_delivery",
    "ready_for_pickup",
    "picked_up",
    "confirmed",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delayed",
    "failure",
)
SHOPIFY_PAYOUT_STATUSES = ("scheduled", "in_transit", "paid", "failed", "canceled")
SHOPIFY_RESTOCK_TYPES = ("no_restock", "cancel", "return", "legacy_restock")
SHOPIFY_PAYOUT_MONEY = tuple(
    f"{part}_{kind}_amount"
    for part in ("adjustments", "charges", "refunds", "reserved_funds", "retried_payouts")
    for kind in ("fee", "gross")
)
# Stripe API vocabularies.
STRIPE_BALANCE_STATUSES = ("available", "pending")
STRIPE_CHARGE_STATUSES = ("succeeded", "pending", "failed")
STRIPE_REFUND_STATUSES = ("pending", "requires_action", "succeeded", "failed", "canceled")
STRIPE_DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
    "prevented",
)
STRIPE_PAYOUT_STATUSES = ("paid", "pending", "in_transit", "canceled", "failed")
# PayPal Transaction Search ``transaction_status``: denied, partially refunded, pending,
# success, reversed.
PAYPAL_STATUSES = ("D", "F", "P", "S", "V")
# Currencies the ECB quoted before they joined the euro or were redenominated (ISO 4217's
# withdrawn list); the ECB's history from 1999 carries them.
ECB_RETIRED_CURRENCIES = ("CYP", "EEK", "LTL", "LVL", "MTL", "ROL", "SIT", "SKK", "TRL")


def _non_negative(*columns: str) -> Any:
    def rules(e: Any) -> list[Any]:
        return [e.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]

    return rules


def _shopify_orders_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToNotBeNull(column="name"),
        e.ExpectColumnValuesToBeBetween(column="total_price", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ]


def _ecb_rules(e: Any) -> list[Any]:
    return [e.ExpectColumnValuesToBeBetween(column="rate_per_eur", min_value=0, strict_min=True)]


SHOPIFY = {
    "orders": TableSuite(
        keys=("id",),
        money=(
            "total_line_items_price",
            "total_discounts",
            "subtotal_price",
            "total_shipping_price",
            "total_tax",
            "total_price",
            "current_total_price",
            "presentment_total_price",
        ),
        currencies=("currency", "presentment_currency"),
        timestamps=("created_at", "updated_at", "processed_at", "cancelled_at", "closed_at"),
        enums={
            "financial_status": SHOPIFY_FINANCIAL_STATUSES,
            "fulfillment_status": SHOPIFY_FULFILLMENT_STATUSES,
        },
        extra=_shopify_orders_rules,
        # Everything Shopify serves inside an order or per order.
        children=tuple(
            Child(table, {"order_id": "id"})
            for table in ("order_line_items", "transactions", "refunds", "fulfillments")
        ),
    ),
    "order_line_items": TableSuite(
        keys=("id",),
        money=("price", "discount_amount", "tax_amount"),
        currencies=("currency",),
        timestamps=("order_updated_at",),
        enums={"fulfillment_status": SHOPIFY_FULFILLMENT_STATUSES},
        extra=_non_negative("quantity", "price"),
    ),
    "transactions": TableSuite(
        keys=("id",),
        money=("amount",),
        currencies=("currency",),
        timestamps=("created_at", "processed_at"),
        enums={"kind": SHOPIFY_TRANSACTION_KINDS, "status": SHOPIFY_TRANSACTION_STATUSES},
        extra=_non_negative("amount"),
    ),
    "refunds": TableSuite(
        keys=("id",),
        money=(
            "transactions_amount",
            "line_items_subtotal",
            "line_items_tax",
            "shipping_amount",
            "shipping_tax",
            "order_adjustments_amount",
            "duties_amount",
            "additional_fees_amount",
        ),
        currencies=("transactions_currency", "currency"),
        timestamps=("created_at", "processed_at"),
        children=(Child("refund_line_items", {"refund_id": "id"}),),
    ),
    "refund_line_items": TableSuite(
        keys=("id",),
        money=("subtotal", "total_tax", "presentment_subtotal", "presentment_total_tax"),
        currencies=("currency", "presentment_currency"),
        timestamps=("refund_created_at",),
        enums={"restock_type": SHOPIFY_RESTOCK_TYPES},
        extra=_non_negative("quantity"),
    ),
    "fulfillments": TableSuite(
        keys=("id",),
        timestamps=("created_at", "updated_at"),
        enums={"status": SHOPIFY_FULFILLMENT_STATES, "shipment_status": SHOPIFY_SHIPMENT_STATUSES},
        children=(
            Child("fulfillment_line_items", {"fulfillment_id": "id"}),
            Child("fulfillment_tracking_numbers", {"fulfillment_id": "id"}),
        ),
    ),
    "fulfillment_tracking_numbers": TableSuite(
        keys=("fulfillment_id", "tracking_position"), timestamps=("fulfillment_updated_at",)
    ),
    "fulfillment_line_items": TableSuite(
        keys=("fulfillment_id", "line_item_id"),
        money=("price",),
        currencies=("currency",),
        timestamps=("fulfillment_updated_at",),
        extra=_non_negative("quantity"),
    ),
    "payouts": TableSuite(
        keys=("id",),
        money=("amount", *SHOPIFY_PAYOUT_MONEY),
        currencies=("currency",),
        timestamps=("payout_date",),
        enums={"status": SHOPIFY_PAYOUT_STATUSES},
    ),
}

STRIPE = {
    "balance_transactions": TableSuite(
        keys=("id",),
        money=("amount", "fee", "net"),
        currencies=("currency",),
        timestamps=("created_at", "available_on"),
        enums={"status": STRIPE_BALANCE_STATUSES},
    ),
    "charges": TableSuite(
        keys=("id",),
        money=("amount", "amount_captured", "amount_refunded"),
        currencies=("currency",),
        timestamps=("created_at",),
        enums={"status": STRIPE_CHARGE_STATUSES},
        extra=_non_negative("amount", "amount_captured", "amount_refunded"),
    ),
    "refunds": TableSuite(
        keys=("id",),
        money=("amount",),
        currencies=("currency",),
        timestamps=("created_at",),
        enums={"status": STRIPE_REFUND_STATUSES},
        extra=_non_negative("amount"),
    ),
    "disputes": TableSuite(
        keys=("id",),
        money=("amount",),
        currencies=("currency",),
        timestamps=("created_at", "evidence_due_by"),
        enums={"status": STRIPE_DISPUTE_STATUSES},
    ),
    "payouts": TableSuite(
        keys=("id",),
        money=("amount",),
        currencies=("currency",),
        timestamps=("created_at", "arrival_date"),
        enums={"status": STRIPE_PAYOUT_STATUSES},
    ),
}

PAYPAL = {
    "transactions": TableSuite(
        keys=("transaction_id",),
        money=(
            "gross_amount",
            "fee_amount",
            "net_amount",
            "shipping_amount",
            "insurance_amount",
            "shipping_discount_amount",
            "sales_tax_amount",
        ),
        currencies=("currency", "fee_currency"),
        timestamps=("initiated_at", "updated_at"),
        enums={"status": PAYPAL_STATUSES},
        children=(Child("transaction_items", {"transaction_id": "transaction_id"}),),
    ),
    "transaction_items": TableSuite(
        keys=("transaction_id", "line_number"),
        money=("unit_price", "item_amount", "tax_amount", "total_item_amount"),
        currencies=("currency",),
        timestamps=("transaction_updated_at",),
    ),
}

ECB = {
    "rates": TableSuite(
        keys=("rate_date", "currency"),
        currencies=("currency",),
        currency_codes=tuple(
            sorted(ISO_CURRENCIES | WITHDRAWN_CURRENCIES | set(ECB_RETIRED_CURRENCIES))
        ),
        timestamps=("rate_date",),
        extra=_ecb_rules,
    ),
}

FILES = {
    "orders": TableSuite(
        keys=ORDER_KEY,
        money=ORDER_MONEY_FIELDS,
        currencies=("currency",),
        timestamps=("ordered_at", "updated_at", "cancelled_at"),
        children=(Child("order_lines", {k: k for k in ORDER_KEY}),),
    ),
    "order_lines": TableSuite(
        keys=LINE_KEY,
        money=LINE_MONEY_FIELDS,
        currencies=("currency",),
        extra=_non_negative("quantity"),
    ),
}

# An order's items are read per order (getOrderItems); the link is declared here, not beside
# Amazon's parsers, while that package is being rewritten in parallel.
AMAZON = {
    **AMAZON_SUITES,
    "orders": replace(
        AMAZON_SUITES["orders"],
        children=(Child("order_items", {"amazon_order_id": "amazon_order_id"}),),
    ),
}

RAW_SUITES: dict[str, dict[str, TableSuite]] = {
    "shopify": SHOPIFY,
    "wms": WMS,
    "ecb": ECB,
    "stripe": STRIPE,
    "paypal": PAYPAL,
    "files": FILES,
    "amazon": AMAZON,
    "tracking": TRACKING,
    "easypost": EASYPOST,
}
