"""The per-object Stripe charge and refund renderers the server used before rendering went
column-wise: the reference ``test_stripe_rendering`` holds ``stripe_objects.charges_json`` and
``refunds_json`` to (same parsed JSON for every object).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingestion.sandbox.stripe_objects import (
    STATEMENT_DESCRIPTOR,
    View,
    _by,
    _card,
    _full_name,
    _orders_and_customers,
    _token,
    _txn_ids,
    epoch_s,
    sibling_id,
    stable_hash,
)


def _address(c: dict[str, Any] | None) -> dict[str, Any]:
    c = c or {}
    return {
        "city": c.get("city"),
        "country": c.get("country_code"),
        "line1": c.get("address1"),
        "line2": c.get("address2"),
        "postal_code": c.get("postal_code"),
        "state": c.get("province_code"),
    }


def _source(
    payment_id: str, customer: dict[str, Any] | None, card: dict[str, Any], created: int
) -> dict[str, Any]:
    """The legacy ``source`` the charge was made from (a reusable card Source)."""
    src = sibling_id(payment_id, "src_")
    owner_address = _address(customer)
    return {
        "allow_redisplay": None,
        "amount": None,
        "card": {
            "brand": card["brand"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "last4": card["last4"],
            "three_d_secure": "optional" if card["three_d_secure"] else "not_supported",
        },
        "client_secret": f"{src}_secret_{_token(payment_id, 'src_secret', 24)}",
        "created": created,
        "currency": None,
        "flow": "none",
        "id": src,
        "livemode": False,
        "metadata": {},
        "object": "source",
        "owner": {
            "address": owner_address,
            "email": (customer or {}).get("email"),
            "name": _full_name(customer),
            "phone": (customer or {}).get("phone"),
            "verified_address": owner_address,
            "verified_email": (customer or {}).get("email"),
            "verified_name": _full_name(customer),
            "verified_phone": None,
        },
        "statement_descriptor": None,
        "status": "consumed",
        "type": "card",
        "usage": "reusable",
    }


def customer_id(customer: dict[str, Any] | None) -> str | None:
    """Stripe customer id (``cus_``) of a ledger customer."""
    return None if not customer else "cus_" + _token(customer["customer_id"], "cus", 14)


def _refund_reason(refund: dict[str, Any] | None) -> str | None:
    """Stripe's refund reasons are few: everything a shopper asked for is
    ``requested_by_customer``; fraud cancellations are ``fraudulent``."""
    if refund is None:
        return None
    reason = refund.get("reason")
    if reason in ("duplicate", "fraudulent", "requested_by_customer"):
        return reason
    if reason == "fraud":
        return "fraudulent"
    return "requested_by_customer"


def render_refunds(view: View, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Stripe refund objects for ``payment_refunds`` rows."""
    if not rows:
        return []
    ids = [r["payment_refund_id"] for r in rows]
    txns = _txn_ids(view, ids, "refund")
    ledger_refunds = view.by(
        "refunds", "refund_id", [r["refund_id"] for r in rows if r["refund_id"]]
    )
    payments = view.by("payments", "payment_id", sorted({r["payment_id"] for r in rows}))
    orders, customers = _orders_and_customers(
        view, sorted({p["order_id"] for p in payments.values()})
    )
    out = []
    for r in rows:
        rid = r["payment_refund_id"]
        created = epoch_s(r["created_at"])
        payment = payments.get(r["payment_id"], {})
        order = orders.get(payment.get("order_id"), {})
        customer = customers.get(order.get("customer_id"))
        paid = epoch_s(payment.get("created_at")) or created
        # A refund made before the charge settled reverses the authorization instead.
        reversal = created - paid < 86_400
        out.append(
            {
                "amount": r["amount_minor"],
                "balance_transaction": txns.get(rid),
                "charge": r["payment_id"],
                "created": created,
                "currency": r["currency"].lower(),
                "customer": customer_id(customer),
                "customer_account": None,
                "description": None,
                "destination_details": {
                    "card": {
                        "reference": None
                        if reversal
                        else f"{stable_hash(rid, 'arn') % 10**23:023d}",
                        "reference_status": "unavailable" if reversal else "available",
                        "reference_type": "acquirer_reference_number",
                        "type": "reversal" if reversal else "refund",
                    },
                    "type": "card",
                },
                "id": rid,
                "metadata": {
                    "order_id": str(order.get("external_order_id") or order.get("order_id", ""))
                },
                "object": "refund",
                "payment_intent": sibling_id(r["payment_id"], "pi_"),
                "payment_method": sibling_id(r["payment_id"], "pm_"),
                "reason": _refund_reason(ledger_refunds.get(r["refund_id"])),
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
        )
    return out


def render_charges(view: View, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Stripe charge objects for ``payments`` rows (provider ``stripe``)."""
    if not rows:
        return []
    ids = [p["payment_id"] for p in rows]
    txns = _txn_ids(view, ids, "charge")
    refund_rows = view.dicts("payment_refunds", "payment_id", ids)
    refunds_by_charge = _by(render_refunds(view, refund_rows, now), "charge")
    disputed = {d["payment_id"] for d in view.dicts("disputes", "payment_id", ids)}
    orders, customers = _orders_and_customers(view, sorted({p["order_id"] for p in rows}))
    out = []
    for p in rows:
        pid = p["payment_id"]
        amount = p["amount_minor"]
        created = epoch_s(p["created_at"])
        order = orders.get(p["order_id"], {})
        customer = customers.get(order.get("customer_id"))
        refunds = sorted(refunds_by_charge.get(pid, []), key=lambda r: (-r["created"], r["id"]))
        refunded = sum(r["amount"] for r in refunds)
        card = _card(pid, customer, amount, created)
        risk = stable_hash(pid, "risk") % 100
        name = order.get("name")
        out.append(
            {
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": refunded,
                "application": None,
                "application_fee": None,
                "application_fee_amount": None,
                "balance_transaction": txns.get(pid),
                "billing_details": {
                    "address": _address(customer),
                    "email": (customer or {}).get("email"),
                    "name": _full_name(customer),
                    "phone": (customer or {}).get("phone"),
                    "tax_id": None,
                },
                "calculated_statement_descriptor": STATEMENT_DESCRIPTOR,
                "captured": True,
                "created": created,
                "currency": p["currency"].lower(),
                "customer": customer_id(customer),
                "description": f"Order {name}" if name else None,
                "disputed": pid in disputed,
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "fraud_details": {},
                "id": pid,
                "livemode": False,
                "metadata": {
                    "order_id": str(order.get("external_order_id") or p["order_id"]),
                    "order_name": name or "",
                },
                "object": "charge",
                "on_behalf_of": None,
                "outcome": {
                    "advice_code": None,
                    "network_advice_code": None,
                    "network_decline_code": None,
                    "network_status": "approved_by_network",
                    "reason": None,
                    "risk_level": "elevated" if risk >= 90 else "normal",
                    "risk_score": risk,
                    "seller_message": "Payment complete.",
                    "type": "authorized",
                },
                "paid": True,
                "payment_intent": sibling_id(pid, "pi_"),
                "payment_method": sibling_id(pid, "pm_"),
                "payment_method_details": {"card": card, "type": "card"},
                "receipt_email": (customer or {}).get("email"),
                "receipt_number": None,
                "receipt_url": "https://pay.stripe.com/receipts/payment/"
                + _token(pid, "receipt", 96),
                "refunded": refunded >= amount,
                "refunds": {
                    "data": refunds,
                    "has_more": False,
                    "object": "list",
                    "url": f"/v1/charges/{pid}/refunds",
                },
                "review": None,
                "shipping": {
                    "address": _address(customer),
                    "carrier": None,
                    "name": _full_name(customer),
                    "phone": (customer or {}).get("phone"),
                    "tracking_number": None,
                }
                if customer
                else None,
                "source": _source(pid, customer, card, created),
                "source_transfer": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": name.lstrip("#") if name else None,
                "status": "succeeded",
                # Tradelane's seller is not a Connect platform: no destination charges.
                "transfer_data": None,
                "transfer_group": None,
            }
        )
    return out
