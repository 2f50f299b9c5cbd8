"""Render ledger rows as Stripe API objects: charges, refunds, disputes, payouts and balance
transactions.

Why this shape: the Stripe connector is written against Stripe's real objects, so every field
path and JSON type of the official examples (``shared/fixtures/api/stripe/*.json``, taken from
Stripe's OpenAPI fixtures) is emitted here, with values from the ledger (amounts in integer
minor units as Stripe sends them, lowercase currencies, unix-second timestamps, the ledger's own
``ch_``/``re_``/``dp_``/``po_``/``txn_`` ids). Fields the ledger does not model (card brand,
fingerprint, 3-D Secure outcome) are derived deterministically from ids, so that one seed always
serves the same bytes.

Every renderer takes ``view`` (a ``LedgerView``: ledger tables as of the sandbox clock, with key
indexes) and the rows of one page, and looks up related rows only for that page (at most 100
objects), by index, never by scanning a table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from ingestion.sandbox.stripe_ledger import LedgerView

View = LedgerView

STATEMENT_DESCRIPTOR = "TRADELANE SANDBOX"
_BRANDS = ("visa", "visa", "visa", "mastercard", "mastercard", "amex")
# Card networks of a Japanese cardholder include JCB.
_JP_BRANDS = ("visa", "mastercard", "jcb", "jcb")
# Strong customer authentication (3-D Secure) is the rule for cards issued in the EEA and UK.
_SCA_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GB GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
_WALLETS = (None, None, None, "apple_pay", "google_pay", "link")
# Visa / Mastercard reason codes of the ledger's dispute reasons.
_NETWORK_REASON = {
    "fraudulent": ("10.4", "4837"),
    "product_not_received": ("13.1", "4855"),
    "product_unacceptable": ("13.3", "4853"),
    "duplicate": ("12.6", "4834"),
    "credit_not_processed": ("13.6", "4860"),
    "subscription_canceled": ("13.2", "4841"),
}
# What the renderers read of the wide order and customer tables.
_ORDER_COLUMNS = ("order_id", "customer_id", "name", "external_order_id")
_CUSTOMER_COLUMNS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "country_code",
    "province_code",
    "city",
    "postal_code",
    "address1",
    "address2",
)
_REPORTING_CATEGORY = {
    "charge": "charge",
    "refund": "refund",
    "payout": "payout",
    "stripe_fee": "fee",
    "adjustment": "other_adjustment",
}


def stable_hash(value: object, salt: str) -> int:
    """A stable non-negative 64-bit integer from ``value`` (Python's ``hash`` is salted per
    process, so it cannot make a seeded world reproducible)."""
    digest = hashlib.blake2b(f"{salt}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _token(value: object, salt: str, length: int) -> str:
    """An alphanumeric token shaped like Stripe's id suffixes (one digest byte per character;
    the slight bias of ``byte % 62`` does not matter for made-up identifiers)."""
    out = []
    block = 0
    while len(out) < length:
        digest = hashlib.blake2b(f"{salt}:{block}:{value}".encode(), digest_size=64).digest()
        out.extend(_BASE62[b % 62] for b in digest)
        block += 1
    return "".join(out[:length])


def epoch_s(value: datetime | date | None) -> int | None:
    """Unix seconds of a ledger instant (``date`` values are midnight UTC, as Stripe dates
    its ``arrival_date`` and ``available_on``)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return int(value.timestamp())


def sibling_id(stripe_id: str, prefix: str) -> str:
    """The id of a related object made in the same API call (``ch_X`` -> ``pi_X``)."""
    return prefix + stripe_id.split("_", 1)[-1]


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _orders_and_customers(
    view: View, order_ids: Sequence[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    orders = view.by("orders", "order_id", order_ids, _ORDER_COLUMNS)
    customer_ids = {o["customer_id"] for o in orders.values()}
    customers = view.by("customers", "customer_id", customer_ids, _CUSTOMER_COLUMNS)
    return orders, customers


def _txn_ids(view: View, source_ids: Sequence[str], kind: str) -> dict[str, str]:
    """Balance transaction id per source object, for one transaction ``kind``."""
    rows = view.rows("balance_transactions", "source_id", source_ids).filter(pl.col("type") == kind)
    return dict(
        zip(rows["source_id"].to_list(), rows["balance_transaction_id"].to_list(), strict=True)
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


def _full_name(c: dict[str, Any] | None) -> str | None:
    if not c:
        return None
    return " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p) or None


def _card(
    payment_id: str, customer: dict[str, Any] | None, amount: int, created: int
) -> dict[str, Any]:
    """``payment_method_details.card`` for the card a customer paid with (stable per
    customer: one customer keeps one card)."""
    key = customer["customer_id"] if customer else payment_id
    country = (customer or {}).get("country_code") or "US"
    brands = _JP_BRANDS if country == "JP" else _BRANDS
    h = stable_hash(key, "card")
    brand = brands[h % len(brands)]
    wallet = _WALLETS[(h >> 8) % len(_WALLETS)]
    sca = country in _SCA_COUNTRIES
    # Japanese cardholders may choose revolving credit (ribo) at checkout, which Stripe
    # reports as an installment plan without a count.
    ribo = country == "JP" and stable_hash(payment_id, "ribo") % 3 == 0
    return {
        "amount_authorized": amount,
        "authorization_code": f"{(h >> 20) % 1_000_000:06d}",
        "brand": brand,
        "checks": {
            "address_line1_check": "pass" if customer and customer.get("address1") else None,
            "address_postal_code_check": "pass"
            if customer and customer.get("postal_code")
            else "unavailable",
            "cvc_check": "pass",
        },
        "country": country,
        "exp_month": 1 + (h >> 24) % 12,
        "exp_year": 2027 + (h >> 28) % 5,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": _token(key, "fingerprint", 16),
        "funding": "debit" if (h >> 32) % 4 == 0 else "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": {"plan": {"count": None, "interval": None, "type": "revolving"}}
        if ribo
        else None,
        "last4": f"{(h >> 36) % 10_000:04d}",
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": "jcb" if brand == "jcb" else brand,
        "network_token": {"used": wallet is not None},
        "network_transaction_id": str(
            100_000_000_000_000 + stable_hash(payment_id, "ntid") % 10**14
        ),
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated" if (h >> 40) % 3 else "regulated",
        "three_d_secure": {
            "authentication_flow": "frictionless" if (h >> 44) % 5 else "challenge",
            "electronic_commerce_indicator": "05" if brand == "visa" else "02",
            "exemption_indicator": None,
            "result": "authenticated",
            "result_reason": None,
            "transaction_id": _uuid(payment_id),
            "version": "2.2.0",
        }
        if sca
        else None,
        "transaction_link_id": None,
        "wallet": {"dynamic_last4": f"{(h >> 48) % 10_000:04d}", "type": wallet}
        if wallet
        else None,
    }


def _uuid(value: object) -> str:
    hexa = hashlib.blake2b(f"uuid:{value}".encode(), digest_size=16).hexdigest()
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


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


def _balance_transaction(
    t: dict[str, Any], now: datetime, description: str | None
) -> dict[str, Any]:
    fee = t["fee_minor"]
    currency = t["currency"].lower()
    available_on = epoch_s(t["available_on"])
    rate = t["exchange_rate"]
    return {
        "amount": t["amount_minor"],
        "available_on": available_on,
        "balance_type": "payments",
        "created": epoch_s(t["created_at"]),
        "currency": currency,
        "description": description,
        "exchange_rate": None if rate is None else float(rate),
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        "id": t["balance_transaction_id"],
        "net": t["net_minor"],
        "object": "balance_transaction",
        "reporting_category": _category(t),
        "source": t["source_id"],
        "status": "available"
        if available_on is not None and available_on <= now.timestamp()
        else "pending",
        "type": t["type"],
    }


def _category(t: dict[str, Any]) -> str:
    source = t["source_id"] or ""
    if t["type"] == "adjustment" and source.startswith("dp_"):
        return "dispute_reversal" if t["amount_minor"] > 0 else "dispute"
    return _REPORTING_CATEGORY.get(t["type"], "other_adjustment")


def render_balance_transactions(
    view: View, rows: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """Stripe balance transaction objects for ``balance_transactions`` rows."""
    if not rows:
        return []
    # Descriptions name the order a movement belongs to, as the Dashboard shows them.
    sources = {t["source_id"] for t in rows if t["source_id"]}
    payments = view.by("payments", "payment_id", sorted(sources))
    refunds = view.by("payment_refunds", "payment_refund_id", sorted(sources))
    disputes = view.by("disputes", "dispute_id", sorted(sources))
    order_ids = {p["order_id"] for p in payments.values()} | {
        d["order_id"] for d in disputes.values()
    }
    refund_payment_ids = sorted({r["payment_id"] for r in refunds.values()} - set(payments))
    for p in view.dicts("payments", "payment_id", refund_payment_ids):
        payments[p["payment_id"]] = p
        order_ids.add(p["order_id"])
    orders = view.dicts("orders", "order_id", order_ids, ("order_id", "name"))
    names = {o["order_id"]: o["name"] for o in orders}

    def describe(t: dict[str, Any]) -> str | None:
        source = t["source_id"] or ""
        if t["type"] == "payout":
            return "STRIPE PAYOUT"
        if source in payments:
            return f"Order {names.get(payments[source]['order_id'], '')}".strip()
        if source in refunds:
            charge = payments.get(refunds[source]["payment_id"])
            name = names.get(charge["order_id"]) if charge else None
            return f"REFUND FOR CHARGE (Order {name})" if name else "REFUND FOR CHARGE"
        if source in disputes:
            verb = "reversal" if t["amount_minor"] > 0 else "withdrawal"
            return f"Chargeback {verb} for {disputes[source]['payment_id']}"
        if t["type"] == "stripe_fee":
            return "Stripe fee"
        return None

    return [_balance_transaction(t, now, describe(t)) for t in rows]


def render_disputes(view: View, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Stripe dispute objects for ``disputes`` rows (provider ``stripe``)."""
    if not rows:
        return []
    ids = [d["dispute_id"] for d in rows]
    txn_rows = (
        view.rows("balance_transactions", "source_id", ids)
        .sort("created_at", "balance_transaction_id")
        .to_dicts()
    )
    txns_by_dispute = _by(render_balance_transactions(view, txn_rows, now), "source")
    charges = view.by("payments", "payment_id", sorted({d["payment_id"] for d in rows}))
    refunded = _by(view.dicts("payment_refunds", "payment_id", sorted(charges)), "payment_id")
    orders, customers = _orders_and_customers(view, sorted({d["order_id"] for d in rows}))
    out = []
    for d in rows:
        did = d["dispute_id"]
        created = epoch_s(d["created_at"])
        reason = d["reason"]
        status = d["status"]
        charge = charges.get(d["payment_id"], {})
        order = orders.get(d["order_id"], {})
        customer = customers.get(order.get("customer_id"))
        card = _card(
            d["payment_id"], customer, charge.get("amount_minor", d["amount_minor"]), created
        )
        visa_code, mc_code = _NETWORK_REASON.get(reason, ("13.7", "4853"))
        is_visa = card["network"] == "visa"
        responded = status in ("under_review", "won", "lost")
        due_by = created + 8 * 86_400 - 1
        charge_refunded = sum(r["amount_minor"] for r in refunded.get(d["payment_id"], []))
        out.append(
            {
                "amount": d["amount_minor"],
                "balance_transactions": txns_by_dispute.get(did, []),
                "charge": d["payment_id"],
                "created": created,
                "currency": d["currency"].lower(),
                "enhanced_eligibility_types": ["visa_compelling_evidence_3"]
                if is_visa and reason == "fraudulent"
                else [],
                "evidence": {
                    "access_activity_log": None,
                    "billing_address": None,
                    "cancellation_policy": None,
                    "cancellation_policy_disclosure": None,
                    "cancellation_rebuttal": None,
                    "customer_communication": None,
                    "customer_email_address": (customer or {}).get("email") if responded else None,
                    "customer_name": _full_name(customer) if responded else None,
                    "customer_purchase_ip": None,
                    "customer_signature": None,
                    "duplicate_charge_documentation": None,
                    "duplicate_charge_explanation": None,
                    "duplicate_charge_id": None,
                    "enhanced_evidence": {},
                    "product_description": None,
                    "receipt": None,
                    "refund_policy": None,
                    "refund_policy_disclosure": None,
                    "refund_refusal_explanation": None,
                    "service_date": None,
                    "service_documentation": None,
                    "shipping_address": None,
                    "shipping_carrier": None,
                    "shipping_date": None,
                    "shipping_documentation": None,
                    "shipping_tracking_number": None,
                    "uncategorized_file": None,
                    "uncategorized_text": "Order shipped with tracking" if responded else None,
                },
                "evidence_details": {
                    "due_by": due_by,
                    "enhanced_eligibility": {},
                    "has_evidence": responded,
                    "past_due": not responded and now.timestamp() > due_by,
                    "submission_count": 1 if responded else 0,
                },
                "id": did,
                "is_charge_refundable": status == "needs_response"
                and charge_refunded < charge.get("amount_minor", 0),
                "livemode": False,
                "metadata": {},
                "network_reason_code": visa_code if is_visa else mc_code,
                "object": "dispute",
                "payment_intent": sibling_id(d["payment_id"], "pi_"),
                "payment_method_details": {
                    "card": {
                        "brand": card["brand"],
                        "case_type": "chargeback",
                        "network_reason_code": visa_code if is_visa else mc_code,
                        "network": card["network"],
                    },
                    "type": "card",
                },
                "reason": reason,
                "status": status,
            }
        )
    return out


def render_payouts(view: View, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Stripe payout objects for ``payouts`` rows (provider ``stripe``)."""
    if not rows:
        return []
    txns = _txn_ids(view, [p["payout_id"] for p in rows], "payout")
    out = []
    for p in rows:
        pid = p["payout_id"]
        status = p["status"]
        paid = status == "paid"
        out.append(
            {
                "amount": p["amount_minor"],
                "application_fee": None,
                "application_fee_amount": None,
                "arrival_date": epoch_s(p["arrival_date"]),
                "automatic": True,
                "balance_transaction": txns.get(pid),
                "created": epoch_s(p["created_at"]),
                "currency": p["currency"].lower(),
                "description": "STRIPE PAYOUT",
                "destination": "ba_" + _token(p["currency"], "bank_account", 24),
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "id": pid,
                "livemode": False,
                "metadata": {},
                "method": "standard",
                "object": "payout",
                "original_payout": None,
                "payout_method": None,
                "reconciliation_status": "completed" if paid else "in_progress",
                "reversed_by": None,
                "source_type": "card",
                "statement_descriptor": None,
                "status": status,
                "trace_id": {
                    "status": "supported" if paid else "pending",
                    "value": f"{stable_hash(pid, 'trace') % 10**15:015d}" if paid else None,
                },
                "type": "bank_account",
            }
        )
    return out


def render_balance(view: View, now: datetime) -> dict[str, Any]:
    """Stripe's ``balance``: what no payout has taken yet, per currency, split into funds
    already available (``available_on`` passed) and funds still pending."""
    bts = view("balance_transactions")
    unpaid = bts.filter(
        (pl.col("provider") == "stripe")
        & pl.col("payout_id").is_null()
        & (pl.col("type") != "payout")
    )
    day = now.astimezone(UTC).date()
    available_on = unpaid["available_on"]
    if available_on.dtype != pl.Date:
        available_on = available_on.dt.date()
    sums = (
        unpaid.with_columns(_ready=available_on <= day)
        .group_by("currency", "_ready")
        .agg(pl.col("net_minor").sum())
    )
    totals: dict[tuple[str, bool], int] = {
        (r["currency"].lower(), r["_ready"]): r["net_minor"] for r in sums.iter_rows(named=True)
    }
    currencies = sorted({c for c, _ in totals}) or ["usd"]

    def funds(ready: bool) -> list[dict[str, Any]]:
        out = []
        for c in currencies:
            amount = totals.get((c, ready), 0)
            out.append({"amount": amount, "currency": c, "source_types": {"card": amount}})
        return out

    return {
        "available": funds(True),
        "connect_reserved": [{"amount": 0, "currency": c} for c in currencies],
        "livemode": False,
        "object": "balance",
        "pending": funds(False),
    }
