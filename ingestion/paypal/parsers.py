"""PayPal transaction details -> typed Arrow tables, exactly.

PayPal writes amounts as ``{"currency_code", "value"}`` with the value a decimal string, fees as
negative amounts (what PayPal took), and times with colon-less offsets (``+0000``). Amounts are
kept as PayPal shows them, signs included, in ``decimal(18,4)`` beside their currency; ``net`` is
gross plus the (negative) fee when both are in one currency. Cart items become rows of
``transaction_items``. A transaction that cannot be read exactly goes to the quarantine.
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
    money,
    optional_str,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

SOURCE = "paypal"

TRANSACTIONS_SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string(), nullable=False),
        ("paypal_account_id", pa.string()),
        ("event_code", pa.string()),
        ("status", pa.string()),
        ("initiated_at", UTC_TIMESTAMP_TYPE),
        ("updated_at", UTC_TIMESTAMP_TYPE),
        ("currency", pa.string()),
        ("gross_amount", MONEY_TYPE),
        ("fee_currency", pa.string()),
        ("fee_amount", MONEY_TYPE),
        ("net_amount", MONEY_TYPE),
        ("shipping_amount", MONEY_TYPE),
        ("insurance_amount", MONEY_TYPE),
        ("shipping_discount_amount", MONEY_TYPE),
        ("sales_tax_amount", MONEY_TYPE),
        ("invoice_id", pa.string()),
        ("custom_field", pa.string()),
        ("transaction_subject", pa.string()),
        ("paypal_reference_id", pa.string()),
        ("paypal_reference_id_type", pa.string()),
        ("protection_eligibility", pa.string()),
        ("payer_account_id", pa.string()),
        ("payer_country_code", pa.string()),
        ("shipping_country_code", pa.string()),
        ("item_count", pa.int64()),
    ]
)

TRANSACTION_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        ("transaction_updated_at", UTC_TIMESTAMP_TYPE),
        ("item_code", pa.string()),
        ("item_name", pa.string()),
        ("item_description", pa.string()),
        ("invoice_number", pa.string()),
        ("quantity", MONEY_TYPE),
        ("currency", pa.string()),
        ("unit_price", MONEY_TYPE),
        ("item_amount", MONEY_TYPE),
        ("tax_amount", MONEY_TYPE),
        ("total_item_amount", MONEY_TYPE),
    ]
)


@dataclass
class ParsedTransactions:
    """One page of transaction details, split into the tables we load."""

    transactions: pa.Table
    items: pa.Table
    quarantine: Quarantine


def amount(value: Any, field: str) -> tuple[str, Decimal]:
    """``{"currency_code": "USD", "value": "-13.79"}`` -> ("USD", Decimal("-13.79"))."""
    if not isinstance(value, dict):
        raise BadValue(f"{field}: expected an amount object, got {value!r}")
    code = currency_code(value.get("currency_code"), f"{field}.currency_code")
    raw = value.get("value")
    if not isinstance(raw, str):
        # PayPal always writes the value as a string; a number went through a float somewhere.
        raise BadValue(f"{field}.value: expected a decimal string, got {raw!r}")
    return code, money(raw, f"{field}.value")


def optional_amount_in(value: Any, field: str, currency: str) -> Decimal | None:
    """An optional amount that must be in the transaction's currency to share its column."""
    if value is None:
        return None
    code, number = amount(value, field)
    if code != currency:
        raise BadValue(f"{field}: currency {code} differs from the transaction's {currency}")
    return number


def _section(detail: dict[str, Any], name: str) -> dict[str, Any]:
    value = detail.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadValue(f"{name}: expected an object, got {type(value).__name__}")
    return value


def parse_transaction(detail: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ``transaction_details`` entry -> (transaction row, item rows); raises ``BadValue``
    naming the first field that cannot be read exactly."""
    if not isinstance(detail, dict):
        raise BadValue(f"transaction: expected an object, got {type(detail).__name__}")
    info = _section(detail, "transaction_info")
    transaction_id = required_str(info.get("transaction_id"), "transaction_info.transaction_id")
    initiated_at = utc_timestamp(
        info.get("transaction_initiation_date"), "transaction_info.transaction_initiation_date"
    )
    updated_raw = info.get("transaction_updated_date")
    updated_at = (
        initiated_at
        if updated_raw is None
        else utc_timestamp(updated_raw, "transaction_info.transaction_updated_date")
    )
    currency, gross = amount(info.get("transaction_amount"), "transaction_info.transaction_amount")
    fee_currency: str | None = None
    fee: Decimal | None = None
    if info.get("fee_amount") is not None:
        fee_currency, fee = amount(info["fee_amount"], "transaction_info.fee_amount")
    payer = _section(detail, "payer_info")
    shipping = _section(detail, "shipping_info")
    address = shipping.get("address") or {}
    if not isinstance(address, dict):
        raise BadValue("shipping_info.address: expected an object")
    items = _items(_section(detail, "cart_info"), transaction_id, updated_at)
    row = {
        "transaction_id": transaction_id,
        "paypal_account_id": optional_str(
            info.get("paypal_account_id"), "transaction_info.paypal_account_id"
        ),
        "event_code": required_str(
            info.get("transaction_event_code"), "transaction_info.transaction_event_code"
        ),
        "status": required_str(
            info.get("transaction_status"), "transaction_info.transaction_status"
        ),
        "initiated_at": initiated_at,
        "updated_at": updated_at,
        "currency": currency,
        "gross_amount": gross,
        "fee_currency": fee_currency,
        "fee_amount": fee,
        # Fees are negative, so net = gross + fee; across currencies there is no such sum.
        "net_amount": gross + (fee or 0) if fee_currency in (None, currency) else None,
        "shipping_amount": optional_amount_in(
            info.get("shipping_amount"), "transaction_info.shipping_amount", currency
        ),
        "insurance_amount": optional_amount_in(
            info.get("insurance_amount"), "transaction_info.insurance_amount", currency
        ),
        "shipping_discount_amount": optional_amount_in(
            info.get("shipping_discount_amount"),
            "transaction_info.shipping_discount_amount",
            currency,
        ),
        "sales_tax_amount": optional_amount_in(
            info.get("sales_tax_amount"), "transaction_info.sales_tax_amount", currency
        ),
        "invoice_id": optional_str(info.get("invoice_id"), "transaction_info.invoice_id"),
        "custom_field": optional_str(info.get("custom_field"), "transaction_info.custom_field"),
        "transaction_subject": optional_str(
            info.get("transaction_subject"), "transaction_info.transaction_subject"
        ),
        "paypal_reference_id": optional_str(
            info.get("paypal_reference_id"), "transaction_info.paypal_reference_id"
        ),
        "paypal_reference_id_type": optional_str(
            info.get("paypal_reference_id_type"), "transaction_info.paypal_reference_id_type"
        ),
        "protection_eligibility": optional_str(
            info.get("protection_eligibility"), "transaction_info.protection_eligibility"
        ),
        "payer_account_id": optional_str(payer.get("account_id"), "payer_info.account_id"),
        "payer_country_code": optional_str(payer.get("country_code"), "payer_info.country_code"),
        "shipping_country_code": optional_str(
            address.get("country_code"), "shipping_info.address.country_code"
        ),
        "item_count": len(items),
    }
    return row, items


def _items(cart: dict[str, Any], transaction_id: str, updated_at: datetime) -> list[dict[str, Any]]:
    details = cart.get("item_details") or []
    if not isinstance(details, list):
        raise BadValue("cart_info.item_details: expected a list")
    rows = []
    for index, item in enumerate(details):
        where = f"cart_info.item_details[{index}]"
        if not isinstance(item, dict):
            raise BadValue(f"{where}: expected an object")
        currencies: set[str] = set()
        taxes = item.get("tax_amounts") or []
        if not isinstance(taxes, list):
            raise BadValue(f"{where}.tax_amounts: expected a list")
        tax_values = [
            _collect((t or {}).get("tax_amount"), f"{where}.tax_amounts[{i}]", currencies)
            for i, t in enumerate(taxes)
        ]
        row = {
            "transaction_id": transaction_id,
            # Items carry no id of their own; their position in the cart is stable.
            "line_number": index + 1,
            "transaction_updated_at": updated_at,
            "item_code": optional_str(item.get("item_code"), f"{where}.item_code"),
            "item_name": optional_str(item.get("item_name"), f"{where}.item_name"),
            "item_description": optional_str(
                item.get("item_description"), f"{where}.item_description"
            ),
            "invoice_number": optional_str(item.get("invoice_number"), f"{where}.invoice_number"),
            "quantity": None
            if item.get("item_quantity") is None
            else money(item["item_quantity"], f"{where}.item_quantity"),
            "unit_price": _collect(
                item.get("item_unit_price"), f"{where}.item_unit_price", currencies
            ),
            "item_amount": _collect(item.get("item_amount"), f"{where}.item_amount", currencies),
            "tax_amount": sum((t for t in tax_values if t is not None), Decimal(0))
            if any(t is not None for t in tax_values)
            else None,
            "total_item_amount": _collect(
                item.get("total_item_amount"), f"{where}.total_item_amount", currencies
            ),
        }
        if len(currencies) > 1:
            raise BadValue(f"{where}: amounts in several currencies {sorted(currencies)}")
        row["currency"] = next(iter(currencies), None)
        rows.append(row)
    return rows


def _collect(value: Any, field: str, currencies: set[str]) -> Decimal | None:
    """An optional item amount, noting its currency (one item has one currency)."""
    if value is None:
        return None
    code, number = amount(value, field)
    currencies.add(code)
    return number


def parse_transactions(details: list[Any]) -> ParsedTransactions:
    """Parse one page; a refused transaction goes to the quarantine, the rest load."""
    quarantine = Quarantine(source=SOURCE)
    rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    for detail in details:
        info = detail.get("transaction_info") if isinstance(detail, dict) else None
        record_id = info.get("transaction_id") if isinstance(info, dict) else None
        try:
            row, items = parse_transaction(detail)
        except BadValue as exc:
            quarantine.add("transaction", detail, str(exc), record_id)
            continue
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            quarantine.add(
                "transaction",
                detail,
                f"malformed transaction: {type(exc).__name__}: {exc}",
                record_id,
            )
            continue
        rows.append(row)
        item_rows.extend(items)
    return ParsedTransactions(
        transactions=pa.Table.from_pylist(rows, schema=TRANSACTIONS_SCHEMA),
        items=pa.Table.from_pylist(item_rows, schema=TRANSACTION_ITEMS_SCHEMA),
        quarantine=quarantine,
    )
