"""The per-entry PayPal renderer the server used before rendering went column-wise: the
reference ``test_paypal_rendering`` holds ``paypal_render`` to (same parsed JSON for every
entry and every choice of sections).
"""

from __future__ import annotations

from typing import Any

from ingestion.sandbox.api_paypal import convert_minor, paypal_time
from ingestion.sandbox.money import formatter
from ingestion.sandbox.paypal_render import EVENT_PAYMENT, EVENT_REFUND
from ingestion.sandbox.paypal_render import MERCHANT_ACCOUNT_ID as _MERCHANT_ACCOUNT_ID
from ingestion.sandbox.paypal_render import account_id as _account_id
from ingestion.sandbox.stripe_ledger import LedgerView


def _amount(minor: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": formatter(currency)(minor)}


def _in_currency(line: dict[str, Any], order: dict[str, Any], column: str, currency: str) -> int:
    """A line amount (``unit_price``, ``discount`` or ``tax``) in ``currency``: the ledger's
    presentment amount when the buyer paid in the presentment currency, else converted from
    the shop currency at the order's rate."""
    presentment = line.get(f"{column}_presentment_minor")
    if presentment is not None and order.get("presentment_currency") == currency:
        return int(presentment)
    return convert_minor(
        line.get(f"{column}_minor") or 0,
        order.get("fx_rate_to_presentment") or 1.0,
        line.get("currency") or order["currency"],
        currency,
    )


def _cart(
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    products: dict[str, dict[str, Any]],
    currency: str,
) -> dict[str, Any]:
    fmt = formatter(currency)
    items: list[dict[str, Any]] = []
    invoice = order.get("name") or str(order["order_id"])
    discount = 0
    for line in lines:
        product = products.get(line["sku"], {})
        qty = line["quantity"]
        unit = _in_currency(line, order, "unit_price", currency)
        tax = _in_currency(line, order, "tax", currency)
        discount += _in_currency(line, order, "discount", currency)
        items.append(
            {
                "item_code": line["sku"],
                "item_name": product.get("title") or line["sku"],
                "item_description": product.get("variant_title") or product.get("title") or "",
                "item_quantity": str(qty),
                "item_unit_price": {"currency_code": currency, "value": fmt(unit)},
                "item_amount": {"currency_code": currency, "value": fmt(unit * qty)},
                "tax_amounts": [{"tax_amount": {"currency_code": currency, "value": fmt(tax)}}],
                "total_item_amount": {"currency_code": currency, "value": fmt(unit * qty + tax)},
                "invoice_number": invoice,
            }
        )
    if discount:
        # Discounts travel as a negative line without an item code, as checkout sends them.
        items.append(
            {
                "item_name": "Discount",
                "item_quantity": "1",
                "item_unit_price": {"currency_code": currency, "value": fmt(-discount)},
                "item_amount": {"currency_code": currency, "value": fmt(-discount)},
                "total_item_amount": {"currency_code": currency, "value": fmt(-discount)},
                "invoice_number": invoice,
            }
        )
    return {"item_details": items}


def render_transactions(
    view: LedgerView, rows: list[dict[str, Any]], sections: set[str]
) -> list[dict[str, Any]]:
    """``transaction_details`` entries for rows of ``transaction_rows``, with the requested
    ``sections`` (``transaction_info`` always)."""
    order_ids = sorted({r["order_id"] for r in rows if r["order_id"] is not None})
    orders: dict[int, dict[str, Any]] = {}
    customers: dict[int, dict[str, Any]] = {}
    lines_by_order: dict[int, list[dict[str, Any]]] = {}
    products: dict[str, dict[str, Any]] = {}
    if order_ids:
        orders = view.by("orders", "order_id", order_ids)
        customers = view.by("customers", "customer_id", {o["customer_id"] for o in orders.values()})
        if "cart_info" in sections:
            for line in view.rows("order_lines", "order_id", order_ids).sort("line_id").to_dicts():
                lines_by_order.setdefault(line["order_id"], []).append(line)
            skus = {ln["sku"] for lns in lines_by_order.values() for ln in lns}
            products = view.by("products", "sku", skus)

    out = []
    for r in rows:
        currency = r["currency"]
        order = orders.get(r["order_id"]) if r["order_id"] is not None else None
        customer = customers.get(order["customer_id"]) if order else None
        initiated = paypal_time(r["initiated_at"])
        is_payment = r["event_code"] == EVENT_PAYMENT
        info: dict[str, Any] = {
            "paypal_account_id": _account_id(customer["customer_id"])
            if customer
            else _MERCHANT_ACCOUNT_ID,
            "transaction_id": r["transaction_id"],
            "transaction_event_code": r["event_code"],
            "transaction_initiation_date": initiated,
            "transaction_updated_date": initiated,
            "transaction_amount": _amount(r["amount_minor"], currency),
            "fee_amount": _amount(r["fee_minor"], r["fee_currency"] or currency),
            "transaction_status": r["status"],
            "protection_eligibility": "01" if is_payment else "02",
        }
        if r["reference_id"] is not None:
            info["paypal_reference_id"] = r["reference_id"]
            info["paypal_reference_id_type"] = "TXN"
        if order is not None:
            name = order.get("name") or str(order["order_id"])
            shipping = order.get("total_shipping_presentment_minor")
            if shipping is None or order.get("presentment_currency") != currency:
                shipping = convert_minor(
                    order.get("total_shipping_minor", 0) or 0,
                    order.get("fx_rate_to_presentment") or 1.0,
                    order.get("currency") or currency,
                    currency,
                )
            info |= {
                "insurance_amount": _amount(0, currency),
                "shipping_amount": _amount(shipping if is_payment else 0, currency),
                "shipping_discount_amount": _amount(0, currency),
                "transaction_subject": f"Tradelane order {name}",
                "transaction_note": "Refund for returned items"
                if r["event_code"] == EVENT_REFUND
                else f"Thank you for your order {name}",
                "invoice_id": name.lstrip("#"),
                "custom_field": str(order.get("external_order_id") or order["order_id"]),
            }
        else:
            info["transaction_subject"] = "Withdrawal to bank account"
        detail: dict[str, Any] = {"transaction_info": info}
        if "payer_info" in sections:
            detail["payer_info"] = _payer(customer) if customer else {}
        if "shipping_info" in sections:
            detail["shipping_info"] = _shipping(customer) if customer and is_payment else {}
        if "cart_info" in sections:
            detail["cart_info"] = (
                _cart(order, lines_by_order.get(order["order_id"], []), products, currency)
                if order is not None and is_payment
                else {}
            )
        for section in ("store_info", "auction_info", "incentive_info"):
            if section in sections:
                detail[section] = {}
        out.append(detail)
    return out


def _payer(c: dict[str, Any]) -> dict[str, Any]:
    full = " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p)
    return {
        "account_id": _account_id(c["customer_id"]),
        "email_address": c.get("email"),
        "address_status": "Y",
        "payer_status": "Y",
        "payer_name": {
            "given_name": c.get("first_name"),
            "surname": c.get("last_name"),
            "alternate_full_name": full,
        },
        "country_code": c.get("country_code"),
    }


def _shipping(c: dict[str, Any]) -> dict[str, Any]:
    address = {
        "line1": c.get("address1"),
        "line2": c.get("address2"),
        "city": c.get("city"),
        "state": c.get("province_code"),
        "country_code": c.get("country_code"),
        "postal_code": c.get("postal_code"),
    }
    return {
        "name": " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p),
        "address": {k: v for k, v in address.items() if v is not None},
    }
