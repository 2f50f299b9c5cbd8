"""Render the ledger's money and shipping records of Shopify orders as Shopify Admin REST
2026-07 objects: order transactions, fulfillment events, Shopify Payments payouts, balance and
disputes. Refunds and fulfillments are rendered with the orders that embed them
(``shopify.OrderRenderer``), which ``refunds.json`` and ``fulfillments.json`` serve as is.

Why this shape: the Shopify finance connector reads these endpoints to reconcile what a store
was paid with what it sold, so every field path and JSON type of the official examples
(``shared/fixtures/api/shopify_admin_rest_2026_07/{transaction,refund,fulfillment,
fulfillment_event,payout,balance,dispute}.*``) is emitted, with values from the ledger: money
strings and ``*_set`` pairs from integer minor units (the order renderer's helpers), only
Shopify-channel orders, Shopify Payments being the Stripe-processed ones.

Ids: Shopify ids are 64-bit integers that grow with time. Objects the ledger keys by an int id
keep it (refunds, fulfillments = shipments, refund lines, line items, the world's capture and
refund transaction ids). Objects without one get an id derived from the ledger's:
``source_id + kind * 10**16`` for one-per-source objects (the world's ids sit below
``2**53 + 10**16``, so kinds never collide), authorizations just below the world's transaction
ids, and time-ordered ids for payouts, disputes and balance transactions (whose ledger ids are
Stripe strings), so that ``since_id`` walks them oldest first as on Shopify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from ingestion.sandbox.geo import COUNTRIES
from ingestion.sandbox.money import formatter, minor_units
from ingestion.sandbox.shopify import _REFUND_TXN_KIND, local_time_formatter
from ingestion.sandbox.stripe_ledger import LedgerView

View = LedgerView

ID_FLOOR = 2**53
# Kinds of derived one-per-source ids (multiplied by 10**16, added to the source id).
_CAPTURE, _VOID, _ADJUSTMENT = 2, 3, 5
# Refund transactions (4) and refund shipping lines (6) are rendered with the refunds
# (``shopify.OrderRenderer``), which owns their kinds.
_REFUND_TXN = _REFUND_TXN_KIND
# Authorizations come before their capture, and Shopify's ids grow with time, so their ids sit
# just below the world's transaction ids (block 8 of ``world.ids``): in the upper half of block
# 7, which the world's own ids (the bottom of each 10**14 block) never reach.
_AUTHORIZATION_BASE = ID_FLOOR + 75 * 10**13
_PAYOUT_BASE = ID_FLOOR + 10**17
_DISPUTE_BASE = ID_FLOOR + 2 * 10**17
_EVENT_BASE = ID_FLOOR + 3 * 10**17
_BALANCE_TXN_BASE = ID_FLOOR + 3 * 10**18
SHOP_ID = 54838000931
_STAFF_USER_ID = 2**53 + 16 * 10**14 + 77
GATEWAYS = {"stripe": "shopify_payments", "paypal": "paypal"}
# AfterShip tags (the ledger's tracking vocabulary) -> Shopify fulfillment event statuses.
SHIPMENT_STATUS = {
    "InfoReceived": "confirmed",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "attempted_delivery",
    "Exception": "failure",
    "Delivered": "delivered",
    "AvailableForPickup": "ready_for_pickup",
    "Expired": "failure",
}
_COUNTRY_NAMES = {c.code: c.name for c in COUNTRIES}


def derived_id(source_id: int, kind: int) -> int:
    """A Shopify id for the ``kind``-th object made once per ledger row ``source_id``."""
    return source_id + kind * 10**16


def _hash(value: object, salt: str) -> int:
    """A stable 64-bit hash (Python's ``hash`` is salted per process)."""
    return int.from_bytes(
        hashlib.blake2b(f"{salt}:{value}".encode(), digest_size=8).digest(), "big"
    )


def payout_ids(payout_ids_: pl.Series, created: pl.Series) -> pl.Series:
    """Shopify payout ids of ledger payouts (see ``_time_ordered``)."""
    return _time_ordered(_PAYOUT_BASE, payout_ids_, created)


def dispute_ids(dispute_ids_: pl.Series, created: pl.Series) -> pl.Series:
    """Shopify dispute ids of ledger disputes (see ``_time_ordered``)."""
    return _time_ordered(_DISPUTE_BASE, dispute_ids_, created)


def balance_transaction_ids(txn_ids: pl.Series, created: pl.Series) -> pl.Series:
    """Shopify ids of ledger balance transactions (see ``_time_ordered``)."""
    return _time_ordered(_BALANCE_TXN_BASE, txn_ids, created)


def _time_ordered(base: int, keys: pl.Series, created: pl.Series) -> pl.Series:
    """Ids that grow with ``created``: ``base + seconds * 1000 + rank``, the rank of the ledger
    key among the rows of the same second. Unique without hashing luck, and stable as the
    clock moves, because rows of one second all become visible at the same instant."""
    frame = pl.DataFrame({"key": keys, "s": created.dt.epoch("s")}).with_row_index("row")
    ranked = frame.sort("s", "key").with_columns(
        rank=pl.int_range(pl.len(), dtype=pl.Int64).over("s")
    )
    ids = ranked.sort("row").select(pl.col("s") * 1000 + pl.col("rank") + base)
    return ids.to_series().alias("shopify_id")


def ruby_decimal(minor: int, currency: str) -> str:
    """Shopify's ``total_unsettled_set`` amounts print as Ruby BigDecimals ("348.0")."""
    text = format(Decimal(minor).scaleb(-minor_units(currency)).normalize(), "f")
    return text if "." in text else text + ".0"


def _epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _convert(minor: int, rate: float | None, from_cur: str, to_cur: str) -> int:
    if from_cur == to_cur:
        return minor
    shift = minor_units(to_cur) - minor_units(from_cur)
    value = Decimal(minor) * Decimal(str(rate or 1.0)) * Decimal(10) ** shift
    return int(value.quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))


@dataclass
class OrderBundle:
    """Everything the ledger shows now about one Shopify order."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    products: dict[str, dict[str, Any]]
    payments: list[dict[str, Any]]
    payment_refunds: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    refund_lines: list[dict[str, Any]]
    shipments: list[dict[str, Any]] = field(default_factory=list)
    shipment_lines: list[dict[str, Any]] = field(default_factory=list)
    warehouses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def shop_currency(self) -> str:
        return self.order["currency"]

    @property
    def presentment_currency(self) -> str:
        return self.order.get("presentment_currency") or self.shop_currency

    def to_presentment(self, minor: int) -> int:
        return _convert(
            minor,
            self.order.get("fx_rate_to_presentment"),
            self.shop_currency,
            self.presentment_currency,
        )

    @property
    def gateway(self) -> str:
        provider = self.payments[0]["provider"] if self.payments else None
        provider = provider or self.order.get("payment_provider") or "stripe"
        return GATEWAYS.get(provider, provider)

    @property
    def time(self) -> Callable[[int | None], str | None]:
        return local_time_formatter(self.order.get("local_utc_offset_minutes") or 0)


def shopify_orders(orders: pl.DataFrame) -> pl.DataFrame:
    """Orders of the Shopify channel."""
    return orders.filter(pl.col("channel_id") == "shopify")


def load_order(view: View, order_id: int) -> OrderBundle | None:
    """The bundle of a visible Shopify order, or None (unknown, not yet created, or another
    channel's). Every lookup goes through the view's key indexes: one order costs no scan."""
    found = view.dicts("orders", "order_id", [order_id])
    if not found or found[0]["channel_id"] != "shopify":
        return None
    order = found[0]
    lines = sorted(view.dicts("order_lines", "order_id", [order_id]), key=lambda ln: ln["line_id"])
    products = view.by("products", "sku", {ln["sku"] for ln in lines})
    payments = sorted(view.dicts("payments", "order_id", [order_id]), key=lambda p: p["created_at"])
    payment_refunds = view.dicts(
        "payment_refunds", "payment_id", [p["payment_id"] for p in payments]
    )
    # A chargeback is a dispute on Shopify, never one of the order's refunds.
    refunds = sorted(
        (r for r in view.dicts("refunds", "order_id", [order_id]) if r["kind"] != "chargeback"),
        key=lambda r: (r["created_at"], r["refund_id"]),
    )
    refund_lines = view.dicts("refund_lines", "refund_id", [r["refund_id"] for r in refunds])
    bundle = OrderBundle(order, lines, products, payments, payment_refunds, refunds, refund_lines)
    bundle.shipments = sorted(
        view.dicts("shipments", "order_id", [order_id]),
        key=lambda s: (s["shipped_at"], s["shipment_id"]),
    )
    bundle.shipment_lines = view.dicts(
        "shipment_lines", "shipment_id", [s["shipment_id"] for s in bundle.shipments]
    )
    bundle.warehouses = {w["code"]: w for w in view("warehouses").to_dicts()}
    return bundle


# --- transactions -----------------------------------------------------------------------------


def _card_details(b: OrderBundle, payment_id: str | None) -> dict[str, Any]:
    h = _hash(payment_id or b.order["order_id"], "shopify-card")
    brand = ("Visa", "Mastercard", "American Express", "Visa")[h % 4]
    return {
        "avs_result_code": "Y",
        "buyer_action_info": None,
        "credit_card_bin": f"{400000 + h % 100000}",
        "credit_card_company": brand,
        "credit_card_expiration_month": 1 + (h >> 8) % 12,
        "credit_card_expiration_year": 2027 + (h >> 12) % 5,
        "credit_card_name": None,
        "credit_card_number": f"•••• •••• •••• {(h >> 16) % 10_000:04d}",
        "credit_card_wallet": None,
        "cvv_result_code": "M",
        "payment_method_name": brand.lower().replace(" ", "_"),
    }


def _transaction(
    b: OrderBundle,
    tid: int,
    kind: str,
    at: datetime,
    amount_p: int,
    *,
    parent_id: int | None,
    sequence: int,
    unsettled_p: int,
    authorization: str | None,
    receipt: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pres = b.presentment_currency
    shop = b.shop_currency
    unsettled_shop = _convert(
        unsettled_p, 1 / (b.order.get("fx_rate_to_presentment") or 1.0), pres, shop
    )
    when = b.time(_epoch(at))
    out: dict[str, Any] = {
        "id": tid,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}",
        "amount": formatter(pres)(amount_p),
        "amount_rounding": None,
        "authorization": authorization,
        "created_at": when,
        "currency": pres,
        "currency_exchange_adjustment": None,
        "device_id": None,
        "error_code": None,
        "gateway": b.gateway,
        "kind": kind,
        "location_id": None,
        "manual_payment_gateway": False,
        "message": None,
        "order_id": b.order["order_id"],
        "parent_id": parent_id,
        "payment_id": f"{b.order.get('name') or b.order['order_id']}.{sequence}",
        "processed_at": when,
        "receipt": receipt,
        "source_name": "web",
        "status": "success",
        "test": False,
        "total_unsettled_set": {
            "presentment_money": {"amount": ruby_decimal(unsettled_p, pres), "currency": pres},
            "shop_money": {"amount": ruby_decimal(unsettled_shop, shop), "currency": shop},
        },
        "user_id": None,
    }
    if extra:
        out.update(extra)
    return out


def _capture_id(b: OrderBundle) -> int:
    tid = b.order.get("payment_transaction_id")
    return tid if tid is not None else derived_id(b.order["order_id"], _CAPTURE)


def _refund_transaction(b: OrderBundle, refund: dict[str, Any], sequence: int) -> dict[str, Any]:
    """The refund's transaction, as the refund itself embeds it (``shopify.OrderRenderer``
    renders that copy column-wise; tests/sandbox/test_shopify_copies holds the two equal): the
    payment provider's refund id as ``authorization``, or the ``gift_card`` gateway and the
    card in the receipt for a refund to store credit."""
    refund_id = refund["refund_id"]
    tid = refund.get("transaction_id") or derived_id(refund_id, _REFUND_TXN)
    gift = refund.get("gift_card_id")
    provider_refund = next((r for r in b.payment_refunds if r.get("refund_id") == refund_id), None)
    reference = provider_refund["payment_refund_id"] if provider_refund and not gift else None
    receipt: dict[str, Any] = {"testcase": False, "authorization": reference} if reference else {}
    if gift:
        receipt = {"gift_card_id": gift, "gift_card_last_characters": f"{gift:x}"[-4:]}
    transaction = _transaction(
        b,
        tid,
        "refund",
        refund["created_at"],
        refund["presentment_amount_minor"],
        parent_id=_capture_id(b) if b.payments else None,
        sequence=sequence,
        unsettled_p=0,
        authorization=reference,
        receipt=receipt,
        extra={"gateway": "gift_card"} if gift else None,
    )
    if refund.get("kind") == "return":
        transaction["message"] = "Refund processed"
    return transaction


def render_transactions(b: OrderBundle) -> list[dict[str, Any]]:
    """Every transaction of the order so far, oldest first: the authorization at checkout, its
    capture when the payment went through (or a void when the order was cancelled unpaid), and
    one refund per ledger refund."""
    o = b.order
    oid = o["order_id"]
    total_p = o["total_price_presentment_minor"]
    payment = b.payments[0] if b.payments else None
    amount_p = total_p
    if payment is not None and payment["currency"] == b.presentment_currency:
        amount_p = payment["amount_minor"]
    reference = payment["payment_id"] if payment else None
    card = b.gateway == "shopify_payments"
    details = {"payment_details": _card_details(b, reference)} if card else {}
    auth_id = _AUTHORIZATION_BASE + (oid - ID_FLOOR)
    auth_code = f"{_hash(oid, 'auth') % 1_000_000:06d}"
    out = [
        _transaction(
            b,
            auth_id,
            "authorization",
            o["created_at"],
            amount_p,
            parent_id=None,
            sequence=1,
            unsettled_p=0 if payment is not None else amount_p,
            authorization=reference or auth_code,
            receipt={"testcase": False, "authorization": auth_code},
            extra={
                **details,
                "authorization_expires_at": b.time(_epoch(o["created_at"] + timedelta(days=7))),
                "extended_authorization_attributes": {},
            },
        )
    ]
    if payment is not None:
        capture = _transaction(
            b,
            _capture_id(b),
            "capture",
            payment["created_at"],
            amount_p,
            parent_id=auth_id,
            sequence=2,
            unsettled_p=0,
            authorization=reference,
            receipt={"testcase": False, "authorization": auth_code, "charge_id": reference},
            extra=details,
        )
        settlement = payment.get("settlement_currency")
        if settlement and settlement != payment["currency"]:
            # Shopify records the conversion of a foreign-currency capture into the payout
            # currency on the transaction itself.
            capture["currency_exchange_adjustment"] = {
                "id": derived_id(oid, _ADJUSTMENT),
                "adjustment": "0.00",
                "original_amount": formatter(payment["currency"])(payment["amount_minor"]),
                "final_amount": formatter(settlement)(payment["settlement_amount_minor"]),
                "currency": settlement,
            }
        out.append(capture)
    elif o.get("cancelled_at") is not None:
        out.append(
            _transaction(
                b,
                derived_id(oid, _VOID),
                "void",
                o["cancelled_at"],
                0,
                parent_id=auth_id,
                sequence=2,
                unsettled_p=0,
                authorization=auth_code,
                receipt={},
            )
        )
    for i, refund in enumerate(b.refunds):
        out.append(_refund_transaction(b, refund, 3 + i))
    return out


def event_id(shipment_id: int, seq: int) -> int:
    """Shopify id of the ``seq``-th tracking event of a shipment."""
    return _EVENT_BASE + (shipment_id - ID_FLOOR) * 100 + seq


def render_fulfillment_events(
    b: OrderBundle, shipment: dict[str, Any], events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fulfillment events of one shipment (its tracking events so far), oldest first, each
    in the local time of the place it happened."""
    out = []
    sid = shipment["shipment_id"]
    delivered = shipment.get("delivered_at")
    for e in sorted(events, key=lambda e: e["seq"]):
        at = local_time_formatter(e.get("local_utc_offset_minutes") or 0)(_epoch(e["event_at"]))
        eid = event_id(sid, e["seq"])
        country = e.get("country_code")
        out.append(
            {
                "id": eid,
                "address1": None,
                "admin_graphql_api_id": f"gid://shopify/FulfillmentEvent/{eid}",
                "city": e.get("city"),
                "country": _COUNTRY_NAMES.get(country or "", country),
                "created_at": at,
                "estimated_delivery_at": b.time(_epoch(delivered))
                if delivered is not None and e.get("tag") != "Delivered"
                else None,
                "fulfillment_id": sid,
                "happened_at": at,
                "latitude": None,
                "longitude": None,
                "message": e.get("message"),
                "order_id": b.order["order_id"],
                "province": None,
                "shop_id": SHOP_ID,
                "status": SHIPMENT_STATUS.get(e.get("tag") or "", "in_transit"),
                "updated_at": at,
                "zip": None,
            }
        )
    return out


# --- Shopify Payments ---------------------------------------------------------------------------


def _date_str(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


PAYOUT_STATUS = {"pending": "scheduled", "canceled": "canceled", "cancelled": "canceled"}


def render_payouts(view: View, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shopify Payments payouts for ledger payout rows (carrying ``shopify_id``), with the
    summary of the balance transactions each one pays out."""
    if not rows:
        return []
    ids = [p["payout_id"] for p in rows]
    bts = view.rows("balance_transactions", "payout_id", ids)
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    if bts.height:
        grouped = (
            bts.filter(pl.col("type") != "payout")
            .with_columns(
                group=pl.when(pl.col("type") == "charge")
                .then(pl.lit("charges"))
                .when(pl.col("type") == "refund")
                .then(pl.lit("refunds"))
                .otherwise(pl.lit("adjustments"))
            )
            .group_by("payout_id", "group")
            .agg(pl.col("amount_minor").sum(), pl.col("fee_minor").sum())
        )
        for r in grouped.iter_rows(named=True):
            sums[(r["payout_id"], r["group"])] = (r["amount_minor"], r["fee_minor"])
    out = []
    for p in rows:
        currency = p["currency"]
        fmt = formatter(currency)
        summary: dict[str, str] = {}
        for group in ("adjustments", "charges", "refunds", "reserved_funds", "retried_payouts"):
            gross, fee = sums.get((p["payout_id"], group), (0, 0))
            summary[f"{group}_fee_amount"] = fmt(fee)
            summary[f"{group}_gross_amount"] = fmt(gross)
        out.append(
            {
                "id": p["shopify_id"],
                "status": payout_status(p["status"]),
                "date": _date_str(p["created_at"]),
                "currency": currency,
                "amount": fmt(p["amount_minor"]),
                "summary": summary,
            }
        )
    return out


def render_balance(view: View) -> list[dict[str, str]]:
    """Shopify Payments balance: what the Stripe balance holds and no payout has taken yet,
    per currency."""
    bts = view("balance_transactions")
    if bts.height == 0:
        return []
    pending = (
        bts.filter(
            (pl.col("provider") == "stripe")
            & pl.col("payout_id").is_null()
            & (pl.col("type") != "payout")
        )
        .group_by("currency")
        .agg(pl.col("net_minor").sum())
        .sort("currency")
    )
    return [
        {"amount": formatter(r["currency"])(r["net_minor"]), "currency": r["currency"]}
        for r in pending.iter_rows(named=True)
    ]


def payout_status(ledger_status: str) -> str:
    """Shopify's word for a payout's ledger status."""
    return PAYOUT_STATUS.get(ledger_status, ledger_status)


def render_balance_transactions(view: View, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shopify Payments balance transactions for ledger rows carrying ``shopify_id``,
    ``shopify_payout_id`` and ``shopify_payout_status``: what each charge, refund, dispute and
    payout did to the balance, linked to the order and order transaction it came from."""
    if not rows:
        return []
    sources = sorted({r["source_id"] for r in rows if r["source_id"]})
    payments = view.by("payments", "payment_id", sources)
    refunds = view.by("payment_refunds", "payment_refund_id", sources)
    disputes = view.rows("disputes", "dispute_id", sources)
    dispute_ids_ = dict(
        zip(
            disputes["dispute_id"].to_list(),
            dispute_ids(disputes["dispute_id"], disputes["created_at"]).to_list(),
            strict=True,
        )
    )
    order_of = {d["dispute_id"]: d["order_id"] for d in disputes.to_dicts()}
    missing = sorted({r["payment_id"] for r in refunds.values()} - set(payments))
    payments |= view.by("payments", "payment_id", missing)
    order_ids = sorted({p["order_id"] for p in payments.values()} | set(order_of.values()))
    orders = view.by("orders", "order_id", order_ids)
    ledger_refunds = view.by("refunds", "refund_id", {r["refund_id"] for r in refunds.values()})
    out = []
    for t in rows:
        source = t["source_id"] or ""
        order_id = order_txn = source_id = None
        source_type = "adjustment"
        if source in payments and t["type"] == "charge":
            source_type = "charge"
            order_id = payments[source]["order_id"]
            order = orders.get(order_id, {})
            order_txn = order.get("payment_transaction_id") or derived_id(order_id, _CAPTURE)
            source_id = order_txn
        elif source in refunds:
            source_type = "refund"
            refund = refunds[source]
            order_id = payments[refund["payment_id"]]["order_id"]
            ledger = ledger_refunds.get(refund.get("refund_id"), {})
            order_txn = ledger.get("transaction_id") or (
                derived_id(refund["refund_id"], _REFUND_TXN) if refund.get("refund_id") else None
            )
            source_id = order_txn
        elif source in dispute_ids_:
            source_type = "dispute"
            order_id = order_of[source]
            source_id = dispute_ids_[source]
        elif t["type"] == "payout":
            source_type = "payout"
            source_id = t["shopify_payout_id"]
        currency = t["currency"]
        fmt = formatter(currency)
        out.append(
            {
                "id": t["shopify_id"],
                "type": source_type,
                "test": False,
                "payout_id": t["shopify_payout_id"],
                "payout_status": t["shopify_payout_status"] or "pending",
                "currency": currency,
                "amount": fmt(t["amount_minor"]),
                "fee": fmt(t["fee_minor"]),
                "net": fmt(t["net_minor"]),
                "source_id": source_id if source_id is not None else t["shopify_id"],
                "source_type": source_type,
                "source_order_id": order_id,
                "source_order_transaction_id": order_txn,
                "processed_at": local_time_formatter(0)(_epoch(t["created_at"])),
            }
        )
    return out


_NETWORK_REASON = {
    "fraudulent": "4837",
    "product_not_received": "4855",
    "product_unacceptable": "4853",
    "duplicate": "4834",
    "credit_not_processed": "4860",
}


def render_disputes(view: View, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shopify Payments disputes for ledger dispute rows (carrying ``shopify_id``), in the
    local time of the order they are about."""
    if not rows:
        return []
    orders = view.by("orders", "order_id", {d["order_id"] for d in rows})
    out = []
    for d in rows:
        order = orders.get(d["order_id"], {})
        ts = local_time_formatter(order.get("local_utc_offset_minutes") or 0)
        created = d["created_at"]
        status = d["status"]
        responded = status in ("under_review", "won", "lost")
        closed = d.get("closed_at")
        out.append(
            {
                "id": d["shopify_id"],
                "order_id": d["order_id"],
                "type": "chargeback",
                "amount": formatter(d["currency"])(d["amount_minor"]),
                "currency": d["currency"],
                "reason": d["reason"],
                "network_reason_code": _NETWORK_REASON.get(d["reason"], "4853"),
                "status": status,
                "evidence_due_by": ts(_epoch(created + timedelta(days=7))),
                "evidence_sent_on": ts(_epoch(created + timedelta(days=3))) if responded else None,
                "finalized_on": _date_str(closed) if closed is not None else None,
                "initiated_at": ts(_epoch(created)),
            }
        )
    return out
