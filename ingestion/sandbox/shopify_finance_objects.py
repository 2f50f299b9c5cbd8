"""Render the ledger's money and shipping records of Shopify orders as Shopify Admin REST
2026-07 objects: order transactions, refunds, fulfillments with tracking, fulfillment events,
Shopify Payments payouts, balance and disputes.

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
from ingestion.sandbox.money import formatter, minor_to_float, minor_units
from ingestion.sandbox.shopify import _money_sets, local_time_formatter
from ingestion.sandbox.stripe_ledger import LedgerView

View = LedgerView

ID_FLOOR = 2**53
# Kinds of derived one-per-source ids (multiplied by 10**16, added to the source id).
_CAPTURE, _VOID, _REFUND_TXN, _ADJUSTMENT, _REFUND_SHIPPING, _SHIPPING_LINE = (2, 3, 4, 5, 6, 7)
# Authorizations come before their capture, and Shopify's ids grow with time, so their ids sit
# just below the world's transaction ids (block 8 of ``world.ids``): in the upper half of block
# 7, which the world's own ids (the bottom of each 10**14 block) never reach.
_AUTHORIZATION_BASE = ID_FLOOR + 75 * 10**13
_PAYOUT_BASE = ID_FLOOR + 10**17
_DISPUTE_BASE = ID_FLOOR + 2 * 10**17
_EVENT_BASE = ID_FLOOR + 3 * 10**17
_FULFILLMENT_LINE_BASE = ID_FLOOR + 2 * 10**18
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
TRACKING_URLS = {
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id=",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr=",
    "UPS": "https://www.ups.com/track?tracknum=",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
    "Yanwen": "https://track.yw56.com.cn/en/querydel?nums=",
    "Cainiao": "https://global.cainiao.com/detail.htm?mailNoList=",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/",
    "Japan Post": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/",
}
# Street address, postal code and province of the cities the world's warehouses are in; a
# warehouse elsewhere is shown with its name and city only.
WAREHOUSE_ADDRESSES = {
    "Shenzhen": ("No. 8 Pingxin North Road, Pinghu", "518111", "GD"),
    "Los Angeles": ("2100 E 49th St", "90058", "CA"),
    "Birmingham": ("Unit 3, Hams Hall Distribution Park", "B46 1AL", None),
    "Frankfurt am Main": ("Cargo City Süd, Gebäude 560", "60549", None),
    "Narita": ("1-1 Furugome", "282-0004", "JP-12"),
}
_COUNTRY_NAMES = {c.code: c.name for c in COUNTRIES}
_REFUND_NOTES = {
    "cancellation": "Order cancelled",
    "return": "Items returned",
    "partial": "Partial refund",
    "chargeback": "Chargeback",
}


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
    refunds = sorted(
        view.dicts("refunds", "order_id", [order_id]),
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


# --- line items -------------------------------------------------------------------------------


def _line_item(
    b: OrderBundle, line: dict[str, Any], *, fulfilled_qty: int, fulfilled: bool
) -> dict[str, Any]:
    """A ``line_item`` as nested in fulfillments and refund line items."""
    money = _money_sets(b.shop_currency, b.presentment_currency)
    product = b.products.get(line["sku"], {})
    lid = line["line_id"]
    qty = line["quantity"]
    price = line["unit_price_minor"]
    price_p = line.get("unit_price_presentment_minor")
    price_p = b.to_presentment(price) if price_p is None else price_p
    discount = line["discount_minor"]
    discount_p = line.get("discount_presentment_minor")
    discount_p = b.to_presentment(discount) if discount_p is None else discount_p
    tax = line.get("tax_minor") or 0
    tax_p = line.get("tax_presentment_minor")
    tax_p = b.to_presentment(tax) if tax_p is None else tax_p
    rate = line["tax_rate_bp"] / 10_000
    title = product.get("title") or line["sku"]
    variant_title = product.get("variant_title")
    engraving = line.get("engraving")
    zero = money.set(0, 0)
    return {
        "id": lid,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{lid}",
        "attributed_staffs": [],
        "current_quantity": qty,
        "discount_allocations": [
            {
                "amount": money.shop_str(discount),
                "amount_set": money.set(discount, discount_p),
                "discount_application_index": 0,
            }
        ]
        if discount
        else [],
        "duties": [],
        "fulfillable_quantity": max(0, qty - fulfilled_qty),
        "fulfillment_service": "manual",
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "gift_card": False,
        "grams": product.get("weight_g", 0),
        "name": f"{title} - {variant_title}" if variant_title else title,
        "price": money.shop_str(price),
        "price_set": money.set(price, price_p),
        "product_exists": True,
        "product_id": product.get("product_id"),
        "properties": [{"name": "Engraving", "value": engraving}] if engraving else [],
        "quantity": qty,
        "requires_shipping": True,
        "sku": line["sku"],
        "tax_lines": [
            {
                "channel_liable": False,
                "price": money.shop_str(tax),
                "price_set": money.set(tax, tax_p),
                "rate": rate,
                "title": b.order.get("tax_title") or "Tax",
            }
        ]
        if tax
        else [],
        "taxable": True,
        "title": title,
        "total_discount": money.shop_str(discount),
        "total_discount_set": money.set(discount, discount_p) if discount else zero,
        "variant_id": product.get("variant_id"),
        "variant_inventory_management": "shopify",
        "variant_title": variant_title,
        "vendor": product.get("vendor"),
    }


def _shipped_quantities(b: OrderBundle) -> dict[int, int]:
    shipped: dict[int, int] = {}
    for sl in b.shipment_lines:
        lid = sl["line_id"]
        shipped[lid] = shipped.get(lid, 0) + sl["quantity"]
    return shipped


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
    refund_id = refund["refund_id"]
    tid = refund.get("transaction_id") or derived_id(refund_id, _REFUND_TXN)
    provider_refund = next((r for r in b.payment_refunds if r.get("refund_id") == refund_id), None)
    amount_p = refund["presentment_amount_minor"]
    reference = provider_refund["payment_refund_id"] if provider_refund else None
    receipt: dict[str, Any] = {"testcase": False, "authorization": reference} if reference else {}
    transaction = _transaction(
        b,
        tid,
        "refund",
        refund["created_at"],
        amount_p,
        parent_id=_capture_id(b) if b.payments else None,
        sequence=sequence,
        unsettled_p=0,
        authorization=reference,
        receipt=receipt,
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


# --- refunds ----------------------------------------------------------------------------------


def _restock_location(b: OrderBundle) -> int | None:
    """Where refunded units go back to stock: the warehouse that shipped the order, else the
    home warehouse (the one a cancelled order would have shipped from)."""
    for s in b.shipments:
        warehouse = b.warehouses.get(s.get("warehouse_code") or "")
        if warehouse and warehouse.get("location_id") is not None:
            return warehouse["location_id"]
    if b.order.get("fulfillment_location_id") is not None:
        return b.order["fulfillment_location_id"]
    homes = [w for w in b.warehouses.values() if w.get("kind", "home") == "home"]
    return homes[0].get("location_id") if homes else None


def render_refunds(b: OrderBundle) -> list[dict[str, Any]]:
    """The order's refunds so far, oldest first, with their line items, shipping refunds,
    adjustments and transactions."""
    money = _money_sets(b.shop_currency, b.presentment_currency)
    shop = b.shop_currency
    zero = money.set(0, 0)
    lines = {ln["line_id"]: ln for ln in b.lines}
    lines_by_refund: dict[int, list[dict[str, Any]]] = {}
    for rl in b.refund_lines:
        lines_by_refund.setdefault(rl["refund_id"], []).append(rl)
    oid = b.order["order_id"]
    location = _restock_location(b)
    out = []
    for i, refund in enumerate(b.refunds):
        rid = refund["refund_id"]
        kind = refund.get("kind")
        at = b.time(_epoch(refund["created_at"]))
        restock = bool(refund.get("restock"))
        refund_line_items = []
        lines_total = lines_total_p = 0
        for rl in sorted(lines_by_refund.get(rid, []), key=lambda r: r["refund_line_id"]):
            lid = rl["line_id"]
            line = lines[lid]
            sub, tax = rl["subtotal_minor"], rl["tax_minor"]
            sub_p = rl.get("subtotal_presentment_minor")
            sub_p = b.to_presentment(sub) if sub_p is None else sub_p
            tax_p = rl.get("tax_presentment_minor")
            tax_p = b.to_presentment(tax) if tax_p is None else tax_p
            lines_total += sub + tax
            lines_total_p += sub_p + tax_p
            restock_type = (
                "cancel" if kind == "cancellation" else "return" if restock else "no_restock"
            )
            refund_line_items.append(
                {
                    "id": rl["refund_line_id"],
                    "line_item": _line_item(b, line, fulfilled_qty=0, fulfilled=False),
                    "line_item_id": lid,
                    "location_id": location if restock_type != "no_restock" else None,
                    "quantity": rl["quantity"],
                    "restock_type": restock_type,
                    "subtotal": minor_to_float(sub, shop),
                    "subtotal_set": money.set(sub, sub_p),
                    "total_tax": minor_to_float(tax, shop),
                    "total_tax_set": money.set(tax, tax_p),
                }
            )
        amount = refund["amount_minor"]
        amount_p = refund["presentment_amount_minor"]
        rest, rest_p = amount - lines_total, amount_p - lines_total_p
        refund_shipping_lines = []
        adjustments = []
        if rest > 0:
            ship_line_id = b.order.get("shipping_line_id") or derived_id(oid, _SHIPPING_LINE)
            ship, ship_p = (
                b.order.get("total_shipping_minor", 0),
                b.order.get("total_shipping_presentment_minor"),
            )
            ship_p = b.to_presentment(ship) if ship_p is None else ship_p
            ship_set = money.set(ship, ship_p)
            title = b.order.get("shipping_title") or "Standard International"
            refund_shipping_lines.append(
                {
                    "id": derived_id(rid, _REFUND_SHIPPING),
                    "shipping_line_id": ship_line_id,
                    "subtotal_amount_set": money.set(rest, rest_p),
                    "shipping_line": {
                        "id": ship_line_id,
                        "carrier_identifier": None,
                        "code": title,
                        "discounted_price": money.shop_str(ship),
                        "discounted_price_set": ship_set,
                        "discount_allocations": [],
                        "is_removed": False,
                        "phone": None,
                        "price": money.shop_str(ship),
                        "price_set": ship_set,
                        "requested_fulfillment_service_id": None,
                        "source": "shopify",
                        "tax_lines": [],
                        "title": title,
                    },
                }
            )
        if rest:
            # What the refund paid beyond (or short of) its lines: shipping, or a discrepancy.
            adjustments.append(
                {
                    "id": refund.get("adjustment_id") or derived_id(rid, _ADJUSTMENT),
                    "amount": money.shop_str(-rest),
                    "amount_set": money.set(-rest, -rest_p),
                    "kind": "shipping_refund" if rest > 0 else "refund_discrepancy",
                    "order_id": oid,
                    "reason": "Shipping refund" if rest > 0 else "Refund discrepancy",
                    "refund_id": rid,
                    "tax_amount": money.shop_str(0),
                    "tax_amount_set": zero,
                }
            )
        note = refund.get("note") or refund.get("reason") or _REFUND_NOTES.get(kind or "")
        out.append(
            {
                "id": rid,
                "additional_fees": [],
                "admin_graphql_api_id": f"gid://shopify/Refund/{rid}",
                "created_at": at,
                "duties": [],
                "note": note,
                "order_adjustments": adjustments,
                "order_id": oid,
                "processed_at": at,
                "refund_line_items": refund_line_items,
                "refund_shipping_lines": refund_shipping_lines,
                "restock": restock,
                "return": None,
                "total_additional_fees_set": zero,
                "total_duties_set": zero,
                "transactions": [_refund_transaction(b, refund, 3 + i)],
                "user_id": _STAFF_USER_ID if kind in ("return", "partial") else None,
            }
        )
    return out


# --- fulfillments -----------------------------------------------------------------------------


def _origin_address(warehouse: dict[str, Any] | None) -> dict[str, Any] | None:
    if not warehouse:
        return None
    known = WAREHOUSE_ADDRESSES.get(warehouse.get("city") or "", (None, None, None))
    return {
        "address1": warehouse.get("address1") or known[0] or warehouse.get("name"),
        "city": warehouse.get("city"),
        "zip": warehouse.get("postal_code") or known[1],
        "province_code": warehouse.get("province_code") or known[2],
        "country_code": warehouse.get("country_code"),
    }


def render_fulfillments(b: OrderBundle, now: datetime) -> list[dict[str, Any]]:
    """One fulfillment per shipment of the order so far, with its tracking and line items."""
    o = b.order
    lines = {ln["line_id"]: ln for ln in b.lines}
    shipped = _shipped_quantities(b)
    by_shipment: dict[int, list[dict[str, Any]]] = {}
    for sl in b.shipment_lines:
        by_shipment.setdefault(sl["shipment_id"], []).append(sl)
    out = []
    for n, s in enumerate(b.shipments, start=1):
        sid = s["shipment_id"]
        warehouse = b.warehouses.get(s.get("warehouse_code") or "")
        number = s.get("tracking_number")
        carrier = s.get("carrier")
        url = s.get("tracking_url") or (
            TRACKING_URLS[carrier] + number if number and carrier in TRACKING_URLS else None
        )
        items = []
        for sl in sorted(by_shipment.get(sid, []), key=lambda r: r["line_id"]):
            lid = sl["line_id"]
            line = lines[lid]
            done = shipped.get(lid, 0)
            item = _line_item(b, line, fulfilled_qty=done, fulfilled=done >= line["quantity"])
            item["quantity"] = sl["quantity"]
            item["fulfillment_line_item_id"] = _FULFILLMENT_LINE_BASE + (
                _hash(f"{sid}:{lid}", "fli") % 10**17
            )
            items.append(item)
        updated = s.get("delivered_at") or s["shipped_at"]
        status_tag = s.get("status")
        out.append(
            {
                "id": sid,
                "admin_graphql_api_id": f"gid://shopify/Fulfillment/{sid}",
                "created_at": b.time(_epoch(s["shipped_at"])),
                "line_items": items,
                "location_id": (warehouse or {}).get("location_id"),
                "name": f"{o.get('name') or o['order_id']}.{n}",
                "order_id": o["order_id"],
                "origin_address": _origin_address(warehouse),
                "receipt": {
                    "testcase": False,
                    "authorization": f"{_hash(sid, 'rcpt') % 10**6:06d}",
                },
                "service": "manual",
                "shipment_status": SHIPMENT_STATUS.get(status_tag or ""),
                "status": "success",
                "tracking_company": carrier,
                "tracking_number": number,
                "tracking_numbers": [number] if number else [],
                "tracking_url": url,
                "tracking_urls": [url] if url else [],
                "updated_at": b.time(_epoch(min(updated, now))),
            }
        )
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
