"""Render ledger rows as Stripe API objects: charges, refunds, disputes, payouts and balance
transactions.

Why this shape: the Stripe connector is written against Stripe's real objects, so every field
path and JSON type of the official examples (``shared/fixtures/api/stripe/*.json``, taken from
Stripe's OpenAPI fixtures) is emitted here, with values from the ledger (amounts in integer
minor units as Stripe sends them, lowercase currencies, unix-second timestamps, the ledger's own
``ch_``/``re_``/``dp_``/``po_``/``txn_`` ids). Fields the ledger does not model (card brand,
fingerprint, 3-D Secure outcome) are derived deterministically from ids, so that one seed always
serves the same bytes.

Charges, refunds and balance transactions, the high-volume lists, are rendered column-wise for
a whole table once per clock position (``*_json``: JSON bytes per row). Disputes and payouts,
a few hundred objects, are rendered per page: those renderers take ``view`` (a ``LedgerView``:
ledger tables as of the sandbox clock, with key indexes) and the rows of one page, and look up
related rows only for that page, by index, never by scanning a table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from ingestion.sandbox.jsonfrag import IdHashes, Raw, obj, raw, truthy, when_raw
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
# Digest byte -> its token character (``_BASE62[byte % 62]``), for ``bytes.translate``.
_BASE62_OF_BYTE = bytes(ord(_BASE62[b % 62]) for b in range(256))


def _token(value: object, salt: str, length: int) -> str:
    """An alphanumeric token shaped like Stripe's id suffixes (one digest byte per character;
    the slight bias of ``byte % 62`` does not matter for made-up identifiers)."""
    out = b""
    block = 0
    while len(out) < length:
        digest = hashlib.blake2b(f"{salt}:{block}:{value}".encode(), digest_size=64).digest()
        out += digest.translate(_BASE62_OF_BYTE)
        block += 1
    return out[:length].decode()


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


# --- Vectorized rendering --------------------------------------------------------------------
#
# The list endpoints render a whole table's objects at once, once per clock position, with
# polars expressions (``jsonfrag``). Values Stripe derives from ids by a keyed hash (blake2b,
# which polars cannot compute) never change with the clock: ``jsonfrag.IdHashes`` computes
# them once per id and keeps them.


def _lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase()


def _epoch(column: str) -> pl.Expr:
    """Unix seconds of an instant, or of midnight UTC of a date."""
    col = pl.col(column)
    return col.cast(pl.Datetime("us", "UTC")).dt.epoch("s")


def _sibling(column: str, prefix: str) -> pl.Expr:
    return pl.concat_str(
        [pl.lit(prefix), pl.col(column).str.split("_").list.slice(1).list.join("_")]
    )


def _first_txn(bts: pl.DataFrame, kind: str, alias: str) -> pl.DataFrame:
    """Balance transaction id per source object for one ``kind`` (the last, as a dict keeps)."""
    return (
        bts.filter(pl.col("type") == kind)
        .group_by("source_id", maintain_order=True)
        .agg(pl.col("balance_transaction_id").last().alias(alias))
    )


def balance_transactions_json(view: View, rows: pl.DataFrame, now: datetime) -> pl.Series:
    """Balance transaction objects (JSON bytes) for ``balance_transactions`` rows, in order;
    descriptions name the order a movement belongs to, as the Dashboard shows them."""
    payments = view("payments").select("payment_id", "order_id")
    names = view("orders").select("order_id", "name")
    refunds = view("payment_refunds").select("payment_refund_id", "payment_id")
    disputes = view("disputes").select("dispute_id", _d_payment="payment_id")
    frame = (
        rows.join(
            payments.join(names, on="order_id", how="left").select(
                "payment_id", _p_order="order_id", _p_name="name"
            ),
            left_on="source_id",
            right_on="payment_id",
            how="left",
            maintain_order="left",
        )
        .join(
            refunds.join(
                payments.join(names, on="order_id", how="left"), on="payment_id", how="left"
            ).select("payment_refund_id", _r_name="name", _r_is=pl.lit(True)),
            left_on="source_id",
            right_on="payment_refund_id",
            how="left",
            maintain_order="left",
        )
        .join(
            disputes, left_on="source_id", right_on="dispute_id", how="left", maintain_order="left"
        )
        .with_columns(
            _is_payment=pl.col("source_id").is_in(payments["payment_id"].implode()),
            _has_order=pl.col("_p_order").is_in(names["order_id"].implode()),
        )
    )
    kind = pl.col("type")
    source = pl.col("source_id").fill_null("")
    amount = pl.col("amount_minor")
    description = (
        pl.when(kind == "payout")
        .then(pl.lit("STRIPE PAYOUT"))
        .when(pl.col("_is_payment"))
        .then(
            pl.when(pl.col("_has_order"))
            .then(pl.concat_str([pl.lit("Order "), pl.col("_p_name").fill_null("None")]))
            .otherwise(pl.lit("Order"))
        )
        .when(pl.col("_r_is").fill_null(False))
        .then(
            pl.when(truthy(pl.col("_r_name")))
            .then(
                pl.concat_str([pl.lit("REFUND FOR CHARGE (Order "), pl.col("_r_name"), pl.lit(")")])
            )
            .otherwise(pl.lit("REFUND FOR CHARGE"))
        )
        .when(pl.col("_d_payment").is_not_null())
        .then(
            pl.concat_str(
                [
                    pl.lit("Chargeback "),
                    pl.when(amount > 0).then(pl.lit("reversal")).otherwise(pl.lit("withdrawal")),
                    pl.lit(" for "),
                    pl.col("_d_payment"),
                ]
            )
        )
        .when(kind == "stripe_fee")
        .then(pl.lit("Stripe fee"))
    )
    category = (
        pl.when((kind == "adjustment") & source.str.starts_with("dp_"))
        .then(pl.when(amount > 0).then(pl.lit("dispute_reversal")).otherwise(pl.lit("dispute")))
        .otherwise(
            kind.replace_strict(
                _REPORTING_CATEGORY, default="other_adjustment", return_dtype=pl.String
            )
        )
    )
    available_on = _epoch("available_on")
    fee = pl.col("fee_minor")
    fee_detail = obj(
        [
            ("amount", fee),
            ("application", None),
            ("currency", _lower("currency")),
            ("description", "Stripe processing fees"),
            ("type", "stripe_fee"),
        ]
    )
    txn = obj(
        [
            ("amount", amount),
            ("available_on", available_on),
            ("balance_type", "payments"),
            ("created", _epoch("created_at")),
            ("currency", _lower("currency")),
            ("description", description),
            ("exchange_rate", pl.col("exchange_rate")),
            ("fee", fee),
            (
                "fee_details",
                when_raw(fee != 0, pl.concat_str([pl.lit("["), fee_detail, pl.lit("]")]), "[]"),
            ),
            ("id", pl.col("balance_transaction_id")),
            ("net", pl.col("net_minor")),
            ("object", "balance_transaction"),
            ("reporting_category", category),
            ("source", pl.col("source_id")),
            (
                "status",
                pl.when(available_on <= int(now.timestamp()))
                .then(pl.lit("available"))
                .otherwise(pl.lit("pending")),
            ),
            ("type", kind),
        ]
    )
    return frame.select(txn.cast(pl.Binary).alias("_json")).to_series()


def _customers(view: View, order_ids: pl.Series, hashes: IdHashes) -> pl.DataFrame:
    """Order -> whether it exists (``_has_order``), its name and external id, its customer's
    columns (``c_*``, ``_has_customer``) and Stripe customer id (``_cus``)."""
    orders = view("orders").filter(pl.col("order_id").is_in(order_ids.implode()))
    customers = view("customers").select(_CUSTOMER_COLUMNS).with_columns(_c=pl.lit(True))
    frame = orders.select("order_id", "customer_id", "name", "external_order_id").join(
        customers, on="customer_id", how="left"
    )
    cus = hashes.lookup(
        "cus",
        frame.filter(pl.col("_c"))["customer_id"],
        {"_cus": lambda c: "cus_" + _token(c, "cus", 14)},
        {"_cus": pl.String},
    )
    return frame.join(cus, left_on="customer_id", right_on="_id", how="left").select(
        "order_id",
        _has_order=pl.lit(True),
        _o_name="name",
        _o_external="external_order_id",
        _has_customer=pl.col("_c").fill_null(False),
        _cus=pl.when(pl.col("_c")).then(pl.col("_cus")),
        **{f"c_{c}": pl.col(c) for c in _CUSTOMER_COLUMNS},
    )


def _order_ref(order_id: str) -> pl.Expr:
    """``str(order.get("external_order_id") or <order id>)``: the id the order is known by."""
    return (
        pl.when(truthy(pl.col("_o_external")))
        .then(pl.col("_o_external"))
        .otherwise(pl.col(order_id).cast(pl.String))
    )


def _refund_reason_expr(reason: pl.Expr, present: pl.Expr) -> pl.Expr:
    return (
        pl.when(~present)
        .then(None)
        .when(reason.is_in(["duplicate", "fraudulent", "requested_by_customer"]))
        .then(reason)
        .when(reason == "fraud")
        .then(pl.lit("fraudulent"))
        .otherwise(pl.lit("requested_by_customer"))
    )


def refunds_json(view: View, rows: pl.DataFrame, now: datetime, hashes: IdHashes) -> pl.Series:
    """Refund objects (JSON bytes) for ``payment_refunds`` rows, in order."""
    if rows.height == 0:
        return pl.Series("_json", [], pl.Binary)
    bts = view("balance_transactions")
    payments = view("payments").select("payment_id", _pay_order="order_id", _paid_at="created_at")
    ledger = view("refunds").select("refund_id", _reason="reason", _ledger=pl.lit(True))
    arn = hashes.lookup(
        "arn",
        rows["payment_refund_id"],
        {"_arn": lambda r: stable_hash(r, "arn")},
        {"_arn": pl.UInt64},
    )
    frame = (
        rows.join(payments, on="payment_id", how="left", maintain_order="left")
        .join(
            _first_txn(bts, "refund", "_txn"),
            left_on="payment_refund_id",
            right_on="source_id",
            how="left",
            maintain_order="left",
        )
        .join(ledger, on="refund_id", how="left", maintain_order="left")
        .join(arn, left_on="payment_refund_id", right_on="_id", how="left", maintain_order="left")
    )
    customers = _customers(view, frame["_pay_order"], hashes).select(
        "order_id", "_has_order", "_o_external", "_cus"
    )
    frame = frame.join(
        customers.rename({"order_id": "_pay_order"}),
        on="_pay_order",
        how="left",
        maintain_order="left",
    )
    created = _epoch("created_at")
    paid = pl.coalesce(_epoch("_paid_at"), created)
    # A refund made before the charge settled reverses the authorization instead.
    reversal = (created - paid) < 86_400
    refund = obj(
        [
            ("amount", pl.col("amount_minor")),
            ("balance_transaction", pl.col("_txn")),
            ("charge", pl.col("payment_id")),
            ("created", created),
            ("currency", _lower("currency")),
            ("customer", pl.col("_cus")),
            ("customer_account", None),
            ("description", None),
            (
                "destination_details",
                Raw(
                    obj(
                        [
                            (
                                "card",
                                Raw(
                                    obj(
                                        [
                                            (
                                                "reference",
                                                pl.when(~reversal).then(
                                                    # stable_hash < 2**64 < 10**23: the value.
                                                    pl.col("_arn").cast(pl.String).str.zfill(23)
                                                ),
                                            ),
                                            (
                                                "reference_status",
                                                pl.when(reversal)
                                                .then(pl.lit("unavailable"))
                                                .otherwise(pl.lit("available")),
                                            ),
                                            ("reference_type", "acquirer_reference_number"),
                                            (
                                                "type",
                                                pl.when(reversal)
                                                .then(pl.lit("reversal"))
                                                .otherwise(pl.lit("refund")),
                                            ),
                                        ]
                                    )
                                ),
                            ),
                            ("type", "card"),
                        ]
                    )
                ),
            ),
            ("id", pl.col("payment_refund_id")),
            (
                "metadata",
                Raw(
                    obj(
                        [
                            (
                                "order_id",
                                pl.when(pl.col("_has_order").fill_null(False))
                                .then(_order_ref("_pay_order"))
                                .otherwise(pl.lit("")),
                            )
                        ]
                    )
                ),
            ),
            ("object", "refund"),
            ("payment_intent", _sibling("payment_id", "pi_")),
            ("payment_method", _sibling("payment_id", "pm_")),
            ("reason", _refund_reason_expr(pl.col("_reason"), pl.col("_ledger").fill_null(False))),
            ("receipt_number", None),
            ("source_transfer_reversal", None),
            ("status", "succeeded"),
            ("transfer_reversal", None),
        ]
    )
    return frame.select(refund.cast(pl.Binary).alias("_json")).to_series()


def _full_name_expr() -> pl.Expr:
    """``_full_name``: the non-empty name parts joined, or null."""
    parts = [pl.when(truthy(pl.col(c))).then(pl.col(c)) for c in ("c_first_name", "c_last_name")]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return pl.when(pl.col("_has_customer") & (joined != "")).then(joined)


def _customer_value(column: str) -> pl.Expr:
    return pl.when(pl.col("_has_customer")).then(pl.col(column))


def _address_expr() -> pl.Expr:
    return obj(
        [
            ("city", _customer_value("c_city")),
            ("country", _customer_value("c_country_code")),
            ("line1", _customer_value("c_address1")),
            ("line2", _customer_value("c_address2")),
            ("postal_code", _customer_value("c_postal_code")),
            ("state", _customer_value("c_province_code")),
        ]
    )


def _bits(h: pl.Expr, shift: int, modulo: int) -> pl.Expr:
    """``(h >> shift) % modulo`` of a UInt64, as Int64."""
    return ((h // pl.lit(1 << shift, pl.UInt64)) % pl.lit(modulo, pl.UInt64)).cast(pl.Int64)


def _pick(index: pl.Expr, options: Sequence[str | None]) -> pl.Expr:
    return index.replace_strict(dict(enumerate(options)), return_dtype=pl.String)


def charges_json(view: View, rows: pl.DataFrame, now: datetime, hashes: IdHashes) -> pl.Series:
    """Charge objects (JSON bytes) for ``payments`` rows (provider ``stripe``), in order, each
    with its card (stable per customer: one customer keeps one card) and its refunds."""
    if rows.height == 0:
        return pl.Series("_json", [], pl.Binary)
    bts = view("balance_transactions")
    customers = _customers(view, rows["order_id"], hashes)
    frame = rows.join(customers, on="order_id", how="left", maintain_order="left").with_columns(
        pl.col("_has_customer").fill_null(False),
        pl.col("_has_order").fill_null(False),
        _key=pl.when(pl.col("_has_customer"))
        .then(pl.col("c_customer_id").cast(pl.String))
        .otherwise(pl.col("payment_id")),
    )
    # One customer keeps one card: its hash and fingerprint are keyed by the customer.
    key_hashes = hashes.lookup(
        "card",
        frame["_key"],
        {
            # Keys are text: f"card:{123}" and f"card:{'123'}" hash the same.
            "_h": lambda k: stable_hash(k, "card"),
            "_fingerprint": lambda k: _token(k, "fingerprint", 16),
        },
        {"_h": pl.UInt64, "_fingerprint": pl.String},
    )
    id_hashes = hashes.lookup(
        "charge",
        frame["payment_id"],
        {
            "_ntid": lambda p: stable_hash(p, "ntid") % 10**14,
            "_ribo": lambda p: stable_hash(p, "ribo") % 3 == 0,
            "_risk": lambda p: stable_hash(p, "risk") % 100,
            "_uuid": _uuid,
            "_receipt": lambda p: _token(p, "receipt", 96),
            "_src_secret": lambda p: _token(p, "src_secret", 24),
        },
        {
            "_ntid": pl.Int64,
            "_ribo": pl.Boolean,
            "_risk": pl.Int64,
            "_uuid": pl.String,
            "_receipt": pl.String,
            "_src_secret": pl.String,
        },
    )
    refund_rows = view("payment_refunds").filter(
        pl.col("payment_id").is_in(rows["payment_id"].implode())
    )
    refunds = (
        refund_rows.with_columns(
            refunds_json(view, refund_rows, now, hashes).alias("_refund"),
            _created=_epoch("created_at"),
        )
        .sort(["_created", "payment_refund_id"], descending=[True, False])
        .group_by("payment_id", maintain_order=True)
        .agg(
            _refunds=pl.concat_str(
                [pl.lit("["), pl.col("_refund").cast(pl.String).str.join(","), pl.lit("]")]
            ),
            _refunded=pl.col("amount_minor").sum(),
        )
    )
    disputed = view("disputes")["payment_id"].implode()
    frame = (
        frame.join(key_hashes, left_on="_key", right_on="_id", how="left", maintain_order="left")
        .join(id_hashes, left_on="payment_id", right_on="_id", how="left", maintain_order="left")
        .join(
            _first_txn(bts, "charge", "_txn"),
            left_on="payment_id",
            right_on="source_id",
            how="left",
            maintain_order="left",
        )
        .join(refunds, on="payment_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("_refunds").fill_null("[]"),
            pl.col("_refunded").fill_null(0),
            _country=pl.when(truthy(pl.col("c_country_code")) & pl.col("_has_customer"))
            .then(pl.col("c_country_code"))
            .otherwise(pl.lit("US")),
        )
    )
    pid = pl.col("payment_id")
    amount = pl.col("amount_minor")
    created = _epoch("created_at")
    h = pl.col("_h")
    country = pl.col("_country")
    japan = country == "JP"
    brand = (
        pl.when(japan)
        .then(_pick(_bits(h, 0, len(_JP_BRANDS)), _JP_BRANDS))
        .otherwise(_pick(_bits(h, 0, len(_BRANDS)), _BRANDS))
    )
    wallet = _pick(_bits(h, 8, len(_WALLETS)), _WALLETS)
    sca = country.is_in(sorted(_SCA_COUNTRIES))
    ribo = japan & pl.col("_ribo")
    exp_month = 1 + _bits(h, 24, 12)
    exp_year = 2027 + _bits(h, 28, 5)
    funding = pl.when(_bits(h, 32, 4) == 0).then(pl.lit("debit")).otherwise(pl.lit("credit"))
    last4 = _bits(h, 36, 10_000).cast(pl.String).str.zfill(4)
    email = _customer_value("c_email")
    phone = _customer_value("c_phone")
    full_name = _full_name_expr()
    address = _address_expr()
    card = obj(
        [
            ("amount_authorized", amount),
            ("authorization_code", _bits(h, 20, 1_000_000).cast(pl.String).str.zfill(6)),
            ("brand", brand),
            (
                "checks",
                Raw(
                    obj(
                        [
                            (
                                "address_line1_check",
                                pl.when(
                                    pl.col("_has_customer") & truthy(pl.col("c_address1"))
                                ).then(pl.lit("pass")),
                            ),
                            (
                                "address_postal_code_check",
                                pl.when(pl.col("_has_customer") & truthy(pl.col("c_postal_code")))
                                .then(pl.lit("pass"))
                                .otherwise(pl.lit("unavailable")),
                            ),
                            ("cvc_check", "pass"),
                        ]
                    )
                ),
            ),
            ("country", country),
            ("exp_month", exp_month),
            ("exp_year", exp_year),
            ("extended_authorization", raw('{"status":"disabled"}')),
            ("fingerprint", pl.col("_fingerprint")),
            ("funding", funding),
            ("incremental_authorization", raw('{"status":"unavailable"}')),
            (
                "installments",
                when_raw(
                    ribo, '{"plan":{"count":null,"interval":null,"type":"revolving"}}', "null"
                ),
            ),
            ("last4", last4),
            ("mandate", None),
            ("multicapture", raw('{"status":"unavailable"}')),
            ("network", brand),
            ("network_token", Raw(obj([("used", wallet.is_not_null())]))),
            ("network_transaction_id", (pl.col("_ntid") + 10**14).cast(pl.String)),
            (
                "overcapture",
                Raw(obj([("maximum_amount_capturable", amount), ("status", "unavailable")])),
            ),
            (
                "regulated_status",
                pl.when(_bits(h, 40, 3) != 0)
                .then(pl.lit("unregulated"))
                .otherwise(pl.lit("regulated")),
            ),
            (
                "three_d_secure",
                when_raw(
                    sca,
                    obj(
                        [
                            (
                                "authentication_flow",
                                pl.when(_bits(h, 44, 5) != 0)
                                .then(pl.lit("frictionless"))
                                .otherwise(pl.lit("challenge")),
                            ),
                            (
                                "electronic_commerce_indicator",
                                pl.when(brand == "visa").then(pl.lit("05")).otherwise(pl.lit("02")),
                            ),
                            ("exemption_indicator", None),
                            ("result", "authenticated"),
                            ("result_reason", None),
                            ("transaction_id", pl.col("_uuid")),
                            ("version", "2.2.0"),
                        ]
                    ),
                    "null",
                ),
            ),
            ("transaction_link_id", None),
            (
                "wallet",
                when_raw(
                    wallet.is_not_null(),
                    obj(
                        [
                            ("dynamic_last4", _bits(h, 48, 10_000).cast(pl.String).str.zfill(4)),
                            ("type", wallet),
                        ]
                    ),
                    "null",
                ),
            ),
        ]
    )
    source_id = _sibling("payment_id", "src_")
    source = obj(
        [
            ("allow_redisplay", None),
            ("amount", None),
            (
                "card",
                Raw(
                    obj(
                        [
                            ("brand", brand),
                            ("country", country),
                            ("exp_month", exp_month),
                            ("exp_year", exp_year),
                            ("fingerprint", pl.col("_fingerprint")),
                            ("funding", funding),
                            ("last4", last4),
                            (
                                "three_d_secure",
                                pl.when(sca)
                                .then(pl.lit("optional"))
                                .otherwise(pl.lit("not_supported")),
                            ),
                        ]
                    )
                ),
            ),
            (
                "client_secret",
                pl.concat_str([source_id, pl.lit("_secret_"), pl.col("_src_secret")]),
            ),
            ("created", created),
            ("currency", None),
            ("flow", "none"),
            ("id", source_id),
            ("livemode", False),
            ("metadata", raw("{}")),
            ("object", "source"),
            (
                "owner",
                Raw(
                    obj(
                        [
                            ("address", Raw(address)),
                            ("email", email),
                            ("name", full_name),
                            ("phone", phone),
                            ("verified_address", Raw(address)),
                            ("verified_email", email),
                            ("verified_name", full_name),
                            ("verified_phone", None),
                        ]
                    )
                ),
            ),
            ("statement_descriptor", None),
            ("status", "consumed"),
            ("type", "card"),
            ("usage", "reusable"),
        ]
    )
    name = pl.col("_o_name")
    named = truthy(name)
    risk = pl.col("_risk")
    charge = obj(
        [
            ("amount", amount),
            ("amount_captured", amount),
            ("amount_refunded", pl.col("_refunded")),
            ("application", None),
            ("application_fee", None),
            ("application_fee_amount", None),
            ("balance_transaction", pl.col("_txn")),
            (
                "billing_details",
                Raw(
                    obj(
                        [
                            ("address", Raw(address)),
                            ("email", email),
                            ("name", full_name),
                            ("phone", phone),
                            ("tax_id", None),
                        ]
                    )
                ),
            ),
            ("calculated_statement_descriptor", STATEMENT_DESCRIPTOR),
            ("captured", True),
            ("created", created),
            ("currency", _lower("currency")),
            ("customer", pl.col("_cus")),
            ("description", pl.when(named).then(pl.concat_str([pl.lit("Order "), name]))),
            ("disputed", pid.is_in(disputed)),
            ("failure_balance_transaction", None),
            ("failure_code", None),
            ("failure_message", None),
            ("fraud_details", raw("{}")),
            ("id", pid),
            ("livemode", False),
            (
                "metadata",
                Raw(
                    obj(
                        [
                            ("order_id", _order_ref("order_id")),
                            ("order_name", pl.when(named).then(name).otherwise(pl.lit(""))),
                        ]
                    )
                ),
            ),
            ("object", "charge"),
            ("on_behalf_of", None),
            (
                "outcome",
                Raw(
                    obj(
                        [
                            ("advice_code", None),
                            ("network_advice_code", None),
                            ("network_decline_code", None),
                            ("network_status", "approved_by_network"),
                            ("reason", None),
                            (
                                "risk_level",
                                pl.when(risk >= 90)
                                .then(pl.lit("elevated"))
                                .otherwise(pl.lit("normal")),
                            ),
                            ("risk_score", risk),
                            ("seller_message", "Payment complete."),
                            ("type", "authorized"),
                        ]
                    )
                ),
            ),
            ("paid", True),
            ("payment_intent", _sibling("payment_id", "pi_")),
            ("payment_method", _sibling("payment_id", "pm_")),
            (
                "payment_method_details",
                Raw(pl.concat_str([pl.lit('{"card":'), card, pl.lit(',"type":"card"}')])),
            ),
            ("receipt_email", email),
            ("receipt_number", None),
            (
                "receipt_url",
                pl.concat_str(
                    [pl.lit("https://pay.stripe.com/receipts/payment/"), pl.col("_receipt")]
                ),
            ),
            ("refunded", pl.col("_refunded") >= amount),
            (
                "refunds",
                Raw(
                    obj(
                        [
                            ("data", Raw(pl.col("_refunds"))),
                            ("has_more", False),
                            ("object", "list"),
                            (
                                "url",
                                pl.concat_str([pl.lit("/v1/charges/"), pid, pl.lit("/refunds")]),
                            ),
                        ]
                    )
                ),
            ),
            ("review", None),
            (
                "shipping",
                when_raw(
                    pl.col("_has_customer"),
                    obj(
                        [
                            ("address", Raw(address)),
                            ("carrier", None),
                            ("name", full_name),
                            ("phone", phone),
                            ("tracking_number", None),
                        ]
                    ),
                    "null",
                ),
            ),
            ("source", Raw(source)),
            ("source_transfer", None),
            ("statement_descriptor", None),
            (
                "statement_descriptor_suffix",
                pl.when(named).then(name.str.strip_chars_start("#")),
            ),
            ("status", "succeeded"),
            # Tradelane's seller is not a Connect platform: no destination charges.
            ("transfer_data", None),
            ("transfer_group", None),
        ]
    )
    return frame.select(charge.cast(pl.Binary).alias("_json")).to_series()
