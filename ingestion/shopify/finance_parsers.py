"""Shopify finance JSON (order transactions, refunds, fulfillments, Shopify Payments payouts) ->
typed Arrow tables, exactly: 64-bit ids as int64, money from its decimal strings, offsets to UTC.

Shopify sends some amounts twice, as a float and as a ``*_set`` of strings
(``refund_line_items[].subtotal`` is ``195.66``, a JSON number); only the strings are read, in
the shop's and the presentment currency. A record that cannot be read exactly goes to the
quarantine with the reason; the rest of its page loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
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
    nested_object,
    optional_bool,
    optional_int_id,
    optional_list,
    optional_str,
    optional_utc_timestamp,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

TRANSACTIONS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("kind", pa.string()),
        ("gateway", pa.string()),
        ("status", pa.string()),
        ("message", pa.string()),
        ("error_code", pa.string()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("processed_at", UTC_TIMESTAMP_TYPE),
        ("currency", pa.string()),
        ("amount", MONEY_TYPE),
        ("parent_id", pa.int64()),
        ("payment_id", pa.string()),
        # Shopify's ``authorization`` (a reserved word in SQL, so renamed here).
        ("authorization_key", pa.string()),
        ("source_name", pa.string()),
        ("is_test", pa.bool_()),
        ("is_manual_payment_gateway", pa.bool_()),
        ("location_id", pa.int64()),
        ("user_id", pa.int64()),
        ("device_id", pa.int64()),
        ("credit_card_company", pa.string()),
        ("payment_method_name", pa.string()),
    ]
)

REFUNDS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("processed_at", UTC_TIMESTAMP_TYPE),
        ("note", pa.string()),
        ("restock", pa.bool_()),
        ("user_id", pa.int64()),
        ("return_id", pa.int64()),
        # What went back to the buyer: the refund's successful refund transactions.
        ("transactions_currency", pa.string()),
        ("transactions_amount", MONEY_TYPE),
        # What the refund covers, in the shop's currency.
        ("currency", pa.string()),
        ("line_items_subtotal", MONEY_TYPE),
        ("line_items_tax", MONEY_TYPE),
        ("shipping_amount", MONEY_TYPE),
        ("shipping_tax", MONEY_TYPE),
        ("order_adjustments_amount", MONEY_TYPE),
        ("duties_amount", MONEY_TYPE),
        ("additional_fees_amount", MONEY_TYPE),
        ("refund_line_item_count", pa.int64()),
    ]
)

REFUND_LINE_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        # The merge key that replaces a refund's lines: never null, like a primary key.
        pa.field("refund_id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("refund_created_at", UTC_TIMESTAMP_TYPE),
        ("line_item_id", pa.int64()),
        ("sku", pa.string()),
        ("quantity", pa.int64()),
        ("restock_type", pa.string()),
        ("location_id", pa.int64()),
        ("currency", pa.string()),
        ("subtotal", MONEY_TYPE),
        ("total_tax", MONEY_TYPE),
        ("presentment_currency", pa.string()),
        ("presentment_subtotal", MONEY_TYPE),
        ("presentment_total_tax", MONEY_TYPE),
    ]
)

FULFILLMENTS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("name", pa.string()),
        ("status", pa.string()),
        ("shipment_status", pa.string()),
        ("service", pa.string()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("updated_at", UTC_TIMESTAMP_TYPE),
        ("location_id", pa.int64()),
        ("origin_country_code", pa.string()),
        ("tracking_company", pa.string()),
        ("tracking_number", pa.string()),
        ("tracking_url", pa.string()),
        ("tracking_number_count", pa.int64()),
        ("line_item_count", pa.int64()),
        ("total_quantity", pa.int64()),
    ]
)

FULFILLMENT_TRACKING_SCHEMA = pa.schema(
    [
        pa.field("fulfillment_id", pa.int64(), nullable=False),
        pa.field("tracking_position", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("fulfillment_updated_at", UTC_TIMESTAMP_TYPE),
        ("tracking_company", pa.string()),
        ("tracking_number", pa.string()),
        ("tracking_url", pa.string()),
    ]
)

FULFILLMENT_LINE_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("fulfillment_id", pa.int64(), nullable=False),
        pa.field("line_item_id", pa.int64(), nullable=False),
        ("order_id", pa.int64()),
        ("store_id", pa.string()),
        ("fulfillment_updated_at", UTC_TIMESTAMP_TYPE),
        ("sku", pa.string()),
        ("quantity", pa.int64()),
        ("currency", pa.string()),
        ("price", MONEY_TYPE),
    ]
)

PAYOUT_SUMMARY_FIELDS = (
    "adjustments_fee_amount",
    "adjustments_gross_amount",
    "charges_fee_amount",
    "charges_gross_amount",
    "refunds_fee_amount",
    "refunds_gross_amount",
    "reserved_funds_fee_amount",
    "reserved_funds_gross_amount",
    "retried_payouts_fee_amount",
    "retried_payouts_gross_amount",
)

PAYOUTS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("store_id", pa.string()),
        ("status", pa.string()),
        # Shopify's ``date``: the day the payout was issued.
        ("payout_date", pa.date32()),
        ("currency", pa.string()),
        ("amount", MONEY_TYPE),
        *((name, MONEY_TYPE) for name in PAYOUT_SUMMARY_FIELDS),
    ]
)

# Every finance table of ``raw_shopify`` and its Arrow schema.
FINANCE_TABLES: dict[str, pa.Schema] = {
    "transactions": TRANSACTIONS_SCHEMA,
    "refunds": REFUNDS_SCHEMA,
    "refund_line_items": REFUND_LINE_ITEMS_SCHEMA,
    "fulfillments": FULFILLMENTS_SCHEMA,
    "fulfillment_tracking_numbers": FULFILLMENT_TRACKING_SCHEMA,
    "fulfillment_line_items": FULFILLMENT_LINE_ITEMS_SCHEMA,
    "payouts": PAYOUTS_SCHEMA,
}


@dataclass
class ParsedFinance:
    """Finance rows of one batch (the orders of one order page, or one page of payouts)."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in FINANCE_TABLES}
    )
    quarantine: Quarantine = field(default_factory=lambda: Quarantine(source="shopify"))
    max_payout_date: date | None = None

    def table(self, name: str) -> pa.Table:
        return pa.Table.from_pylist(self.rows[name], schema=FINANCE_TABLES[name])

    def add(
        self,
        entity: str,
        records: list[Any],
        parse: Callable[[dict[str, Any], str], dict[str, list[dict[str, Any]]]],
        store_id: str,
    ) -> None:
        """Parse ``records`` with ``parse`` (record -> rows per table); a refused record goes to
        the quarantine whole, so a refund never loads without its lines."""
        for record in records:
            try:
                if not isinstance(record, dict):
                    raise BadValue(f"{entity}: expected an object, got {type(record).__name__}")
                produced = parse(record, store_id)
            except BadValue as exc:
                self.quarantine.add(entity, record, str(exc))
                continue
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                self.quarantine.add(
                    entity, record, f"malformed {entity}: {type(exc).__name__}: {exc}"
                )
                continue
            for name, rows in produced.items():
                self.rows[name].extend(rows)


# --- helpers -------------------------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    """A quantity: an integer that is never negative."""
    number = int_id(value, name)
    if number < 0:
        raise BadValue(f"{name}: negative quantity {number}")
    return number


def _set_money(
    record: dict[str, Any], set_name: str, side: str = "shop_money"
) -> tuple[str, Decimal] | None:
    """``(currency, amount)`` of one side of a ``*_set`` (``shop_money``/``presentment_money``)."""
    money_set = record.get(set_name)
    if money_set is None:
        return None
    if not isinstance(money_set, dict):
        raise BadValue(f"{set_name}: expected an object, got {type(money_set).__name__}")
    side_value = money_set.get(side)
    if not isinstance(side_value, dict):
        raise BadValue(f"{set_name}.{side}: expected an object, got {side_value!r}")
    code = currency_code(side_value.get("currency_code"), f"{set_name}.{side}.currency_code")
    return code, money(side_value.get("amount"), f"{set_name}.{side}.amount")


class _Sum:
    """Adds amounts that must all be in one currency (the shop's, for a refund's parts)."""

    def __init__(self) -> None:
        self.currency: str | None = None

    def add(self, items: list[tuple[str, Decimal] | None], where: str) -> Decimal | None:
        present = [item for item in items if item is not None]
        if not present:
            return None
        for code, _ in present:
            if self.currency is None:
                self.currency = code
            elif code != self.currency:
                raise BadValue(f"{where}: currency {code} differs from {self.currency}")
        return sum((amount for _, amount in present), Decimal(0))


# --- transactions --------------------------------------------------------------------------------


def transaction_row(record: dict[str, Any], store_id: str) -> dict[str, Any]:
    details = nested_object(record.get("payment_details"), "payment_details")
    # Not loaded, but a nested object served as a string means the record was double-encoded
    # somewhere on the way: the fields beside it cannot be trusted either.
    nested_object(record.get("receipt"), "receipt")
    nested_object(record.get("total_unsettled_set"), "total_unsettled_set")
    return {
        "id": int_id(record.get("id"), "id"),
        "order_id": optional_int_id(record.get("order_id"), "order_id"),
        "store_id": store_id,
        "kind": required_str(record.get("kind"), "kind"),
        "gateway": optional_str(record.get("gateway"), "gateway"),
        "status": required_str(record.get("status"), "status"),
        "message": optional_str(record.get("message"), "message"),
        "error_code": optional_str(record.get("error_code"), "error_code"),
        "created_at": utc_timestamp(record.get("created_at"), "created_at"),
        "processed_at": optional_utc_timestamp(record.get("processed_at"), "processed_at"),
        "currency": currency_code(record.get("currency"), "currency"),
        "amount": money(record.get("amount"), "amount"),
        "parent_id": optional_int_id(record.get("parent_id"), "parent_id"),
        "payment_id": optional_str(record.get("payment_id"), "payment_id"),
        "authorization_key": optional_str(record.get("authorization"), "authorization"),
        "source_name": optional_str(record.get("source_name"), "source_name"),
        "is_test": optional_bool(record.get("test"), "test"),
        "is_manual_payment_gateway": optional_bool(
            record.get("manual_payment_gateway"), "manual_payment_gateway"
        ),
        "location_id": optional_int_id(record.get("location_id"), "location_id"),
        "user_id": optional_int_id(record.get("user_id"), "user_id"),
        "device_id": optional_int_id(record.get("device_id"), "device_id"),
        "credit_card_company": optional_str(
            details.get("credit_card_company"), "payment_details.credit_card_company"
        ),
        "payment_method_name": optional_str(
            details.get("payment_method_name"), "payment_details.payment_method_name"
        ),
    }


def parse_transaction(record: dict[str, Any], store_id: str) -> dict[str, list[dict[str, Any]]]:
    return {"transactions": [transaction_row(record, store_id)]}


# --- refunds -------------------------------------------------------------------------------------


def parse_refund(record: dict[str, Any], store_id: str) -> dict[str, list[dict[str, Any]]]:
    """A refund, its line items, and the refund transactions it carries (also served by the
    transactions endpoint; the merge on id makes them one row)."""
    refund_id = int_id(record.get("id"), "id")
    order_id = optional_int_id(record.get("order_id"), "order_id")
    created_at = utc_timestamp(record.get("created_at"), "created_at")
    shop = _Sum()
    lines = []
    for index, line in enumerate(
        optional_list(record.get("refund_line_items"), "refund_line_items")
    ):
        where = f"refund_line_items[{index}]"
        if not isinstance(line, dict):
            raise BadValue(f"{where}: expected an object")
        subtotal = _set_money(line, "subtotal_set")
        tax = _set_money(line, "total_tax_set")
        if subtotal is None:
            raise BadValue(f"{where}.subtotal_set: missing (the float subtotal is not exact)")
        shop.add([subtotal, tax], where)
        p_subtotal = _set_money(line, "subtotal_set", "presentment_money")
        p_tax = _set_money(line, "total_tax_set", "presentment_money")
        item = nested_object(line.get("line_item"), "line_item")
        lines.append(
            {
                "id": int_id(line.get("id"), f"{where}.id"),
                "refund_id": refund_id,
                "order_id": order_id,
                "store_id": store_id,
                "refund_created_at": created_at,
                "line_item_id": optional_int_id(line.get("line_item_id"), f"{where}.line_item_id"),
                "sku": optional_str(item.get("sku"), f"{where}.line_item.sku"),
                "quantity": _count(line.get("quantity"), f"{where}.quantity"),
                "restock_type": optional_str(line.get("restock_type"), f"{where}.restock_type"),
                "location_id": optional_int_id(line.get("location_id"), f"{where}.location_id"),
                "currency": subtotal[0],
                "subtotal": subtotal[1],
                "total_tax": None if tax is None else tax[1],
                "presentment_currency": None if p_subtotal is None else p_subtotal[0],
                "presentment_subtotal": None if p_subtotal is None else p_subtotal[1],
                "presentment_total_tax": None if p_tax is None else p_tax[1],
            }
        )
    line_subtotal = sum((line["subtotal"] for line in lines), Decimal(0)) if lines else None
    line_tax = (
        sum((line["total_tax"] or Decimal(0) for line in lines), Decimal(0)) if lines else None
    )
    shipping_lines = optional_list(record.get("refund_shipping_lines"), "refund_shipping_lines")
    shipping = shop.add(
        [_set_money(s, "subtotal_amount_set") for s in shipping_lines], "refund_shipping_lines"
    )
    shipping_tax = shop.add(
        [_set_money(s, "total_tax_amount_set") for s in shipping_lines], "refund_shipping_lines"
    )
    adjustments = shop.add(
        [
            _set_money(a, "amount_set")
            for a in optional_list(record.get("order_adjustments"), "order_adjustments")
        ],
        "order_adjustments",
    )
    duties = shop.add([_set_money(record, "total_duties_set")], "total_duties_set")
    fees = shop.add([_set_money(record, "total_additional_fees_set")], "total_additional_fees_set")

    transactions = []
    for index, transaction in enumerate(optional_list(record.get("transactions"), "transactions")):
        if not isinstance(transaction, dict):
            raise BadValue(f"transactions[{index}]: expected an object")
        transactions.append(transaction_row(transaction, store_id))
    refunded = [t for t in transactions if t["kind"] == "refund" and t["status"] == "success"]
    refunded_currencies = {t["currency"] for t in refunded}
    if len(refunded_currencies) > 1:
        raise BadValue(f"transactions: refunds in several currencies {sorted(refunded_currencies)}")
    return_obj = nested_object(record.get("return"), "return")
    refund = {
        "id": refund_id,
        "order_id": order_id,
        "store_id": store_id,
        "created_at": created_at,
        "processed_at": optional_utc_timestamp(record.get("processed_at"), "processed_at"),
        "note": optional_str(record.get("note"), "note"),
        "restock": optional_bool(record.get("restock"), "restock"),
        "user_id": optional_int_id(record.get("user_id"), "user_id"),
        "return_id": optional_int_id(return_obj.get("id"), "return.id"),
        "transactions_currency": next(iter(refunded_currencies), None),
        "transactions_amount": sum((t["amount"] for t in refunded), Decimal(0))
        if refunded
        else None,
        "currency": shop.currency,
        "line_items_subtotal": line_subtotal,
        "line_items_tax": line_tax,
        "shipping_amount": shipping,
        "shipping_tax": shipping_tax,
        "order_adjustments_amount": adjustments,
        "duties_amount": duties,
        "additional_fees_amount": fees,
        "refund_line_item_count": len(lines),
    }
    return {"refunds": [refund], "refund_line_items": lines, "transactions": transactions}


# --- fulfillments --------------------------------------------------------------------------------


def parse_fulfillment(record: dict[str, Any], store_id: str) -> dict[str, list[dict[str, Any]]]:
    """A fulfillment, its tracking numbers and the quantities it shipped per order line.

    Shopify's ``tracking_numbers`` and ``tracking_urls`` are parallel lists that need not have
    the same length (Shopify's own example has one number and two URLs), so each position gets
    a row with whichever it has, and nothing is dropped."""
    fulfillment_id = int_id(record.get("id"), "id")
    order_id = optional_int_id(record.get("order_id"), "order_id")
    updated_at = utc_timestamp(record.get("updated_at") or record.get("created_at"), "updated_at")
    company = optional_str(record.get("tracking_company"), "tracking_company")
    numbers = [
        optional_str(n, "tracking_numbers[]")
        for n in optional_list(record.get("tracking_numbers"), "tracking_numbers")
    ]
    urls = [
        optional_str(u, "tracking_urls[]")
        for u in optional_list(record.get("tracking_urls"), "tracking_urls")
    ]
    if not numbers and record.get("tracking_number") is not None:
        numbers = [optional_str(record.get("tracking_number"), "tracking_number")]
    if not urls and record.get("tracking_url") is not None:
        urls = [optional_str(record.get("tracking_url"), "tracking_url")]
    tracking = [
        {
            "fulfillment_id": fulfillment_id,
            "tracking_position": position,
            "order_id": order_id,
            "store_id": store_id,
            "fulfillment_updated_at": updated_at,
            "tracking_company": company,
            "tracking_number": numbers[position] if position < len(numbers) else None,
            "tracking_url": urls[position] if position < len(urls) else None,
        }
        for position in range(max(len(numbers), len(urls)))
    ]
    lines = []
    for index, line in enumerate(optional_list(record.get("line_items"), "line_items")):
        where = f"line_items[{index}]"
        if not isinstance(line, dict):
            raise BadValue(f"{where}: expected an object")
        currency, price = _line_price(line, where)
        lines.append(
            {
                "fulfillment_id": fulfillment_id,
                "line_item_id": int_id(line.get("id"), f"{where}.id"),
                "order_id": order_id,
                "store_id": store_id,
                "fulfillment_updated_at": updated_at,
                "sku": optional_str(line.get("sku"), f"{where}.sku"),
                "quantity": _count(line.get("quantity"), f"{where}.quantity"),
                # The unit price in the shop's currency (what customs and insurance declare).
                "currency": currency,
                "price": price,
            }
        )
    origin = nested_object(record.get("origin_address"), "origin_address")
    nested_object(
        record.get("receipt"), "receipt"
    )  # not loaded; a string here means a double-encoded record
    fulfillment = {
        "id": fulfillment_id,
        "order_id": order_id,
        "store_id": store_id,
        "name": optional_str(record.get("name"), "name"),
        "status": required_str(record.get("status"), "status"),
        "shipment_status": optional_str(record.get("shipment_status"), "shipment_status"),
        "service": optional_str(record.get("service"), "service"),
        "created_at": utc_timestamp(record.get("created_at"), "created_at"),
        "updated_at": updated_at,
        "location_id": optional_int_id(record.get("location_id"), "location_id"),
        "origin_country_code": optional_str(
            origin.get("country_code"), "origin_address.country_code"
        ),
        "tracking_company": company,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_url": urls[0] if urls else None,
        "tracking_number_count": len(numbers),
        "line_item_count": len(lines),
        "total_quantity": sum(line["quantity"] for line in lines),
    }
    return {
        "fulfillments": [fulfillment],
        "fulfillment_tracking_numbers": tracking,
        "fulfillment_line_items": lines,
    }


def _line_price(line: dict[str, Any], where: str) -> tuple[str | None, Decimal | None]:
    """A line's unit price in the shop's currency. Shopify serves it twice, as ``price`` and
    as ``price_set.shop_money``; they must agree, or one of them was corrupted on the way."""
    plain = None if line.get("price") is None else money(line["price"], f"{where}.price")
    in_set = _set_money(line, "price_set")
    if in_set is None:
        return None, plain
    if plain is not None and plain != in_set[1]:
        raise BadValue(f"{where}.price: {line['price']!r} differs from price_set")
    return in_set


# --- payouts -------------------------------------------------------------------------------------


def payout_date(value: Any, name: str = "date") -> date:
    if not isinstance(value, str):
        raise BadValue(f"{name}: expected a YYYY-MM-DD date, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(f"{name}: {value!r} is not a YYYY-MM-DD date") from exc


def parse_payout(record: dict[str, Any], store_id: str) -> dict[str, list[dict[str, Any]]]:
    summary = nested_object(record.get("summary"), "summary")
    row: dict[str, Any] = {
        "id": int_id(record.get("id"), "id"),
        "store_id": store_id,
        "status": required_str(record.get("status"), "status"),
        "payout_date": payout_date(record.get("date")),
        "currency": currency_code(record.get("currency"), "currency"),
        "amount": money(record.get("amount"), "amount"),
    }
    for name in PAYOUT_SUMMARY_FIELDS:
        value = summary.get(name)
        row[name] = None if value is None else money(value, f"summary.{name}")
    return {"payouts": [row]}


def parse_order_finance(
    transactions: list[Any],
    refunds: list[Any],
    fulfillments: list[Any],
    store_id: str,
    into: ParsedFinance | None = None,
) -> ParsedFinance:
    """The finance records of one order (or several), added to ``into``."""
    parsed = into if into is not None else ParsedFinance()
    parsed.add("transaction", transactions, parse_transaction, store_id)
    parsed.add("refund", refunds, parse_refund, store_id)
    parsed.add("fulfillment", fulfillments, parse_fulfillment, store_id)
    return parsed


def parse_payouts(payouts: list[Any], store_id: str) -> ParsedFinance:
    parsed = ParsedFinance()
    parsed.add("payout", payouts, parse_payout, store_id)
    dates = [row["payout_date"] for row in parsed.rows["payouts"]]
    parsed.max_payout_date = max(dates) if dates else None
    return parsed
