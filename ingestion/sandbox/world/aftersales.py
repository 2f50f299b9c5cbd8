"""After the sale: refunds (with their lines), returns and disputes.

Why these rules: refunds come from a handful of real causes, each with its own shape:
- a paid order cancelled before shipping gives everything back, shipping included;
- a parcel returned to sender (undeliverable) or lost in transit is refunded for that
  shipment's lines (and shipping when it was the whole order);
- a customer return refunds the returned units of one line some days after delivery; goods
  shipped from an overseas warehouse or FBA go back on the shelf, those from Shenzhen do not
  (shipping them back costs more than they are worth); store customers sometimes take store
  credit (a gift card) instead of money;
- a goodwill refund gives back 10-30% of the goods, with no lines (Shopify records it as a
  refund discrepancy).
Disputes hit store payments: most shipped fraud orders come back as ``fraudulent``
chargebacks, and a few legitimate customers claim non-receipt or a bad product. A lost
dispute is recorded as a ``chargeback`` refund of the whole order when it closes. An order
with another refund is never disputed, so refunds never exceed what was paid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingestion.sandbox.world import warehouses as wh
from ingestion.sandbox.world.common import DAY, NEVER, between, expand_ranges, masked, take, ts
from ingestion.sandbox.world.ids import IdMaker

KINDS = ("cancellation", "return", "partial", "chargeback")
_CANCEL_REFUND_REASON = {
    1: "fraud",
    2: "customer_request",
    3: "out_of_stock",
    4: "undeliverable_address",
}
_RETURN_REASONS = ("damaged", "wrong_size", "changed_mind", "not_as_described")
_NOTES = {
    "fraud": "Order cancelled: failed fraud review",
    "customer_request": "Order cancelled at the customer's request",
    "out_of_stock": "Order cancelled: out of stock",
    "undeliverable_address": "Order cancelled: address could not be confirmed",
    "returned_to_sender": "Parcel returned to sender",
    "lost_in_transit": "Parcel lost in transit",
    "damaged": "Damaged in transit",
    "wrong_size": "Wrong size",
    "changed_mind": "Changed mind",
    "not_as_described": "Not as described",
    "goodwill": "Goodwill gesture for a late delivery",
    "damaged_item": "Partial refund for a damaged item",
    "chargeback_lost": "Chargeback lost",
}
DISPUTE_REASONS = ("fraudulent", "product_not_received", "product_unacceptable")


@dataclass
class Aftersales:
    refunds: pl.DataFrame
    refund_lines: pl.DataFrame
    disputes: pl.DataFrame
    returned_at: np.ndarray
    disputed_at: np.ndarray


def build(
    rng: np.random.Generator,
    ids: IdMaker,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    shipments: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    life_paid: np.ndarray,
    life_cancelled: np.ndarray,
    cancel_reason: np.ndarray,
    provider: np.ndarray,
    horizon: int,
) -> Aftersales:
    n = orders.height
    is_store = (orders["channel_id"] == "shopify").to_numpy()
    starts = orders["line_start"].to_numpy()
    counts = orders["line_count"].to_numpy()
    line_order = np.repeat(np.arange(n), counts)
    n_lines = len(line_order)

    s_order = shipments["order_idx"].to_numpy()
    s_outcome = shipments["outcome"].to_numpy()
    s_outcome_at = shipments["outcome_at"].to_numpy()
    s_delivered = shipments["delivered"].to_numpy()
    s_split = shipments["is_split"].to_numpy()
    n_ship = np.bincount(s_order, minlength=n)
    all_delivered_at = np.zeros(n, dtype=np.int64)
    np.maximum.at(all_delivered_at, s_order, s_delivered)
    delivered_count = np.bincount(s_order, weights=(s_outcome == "delivered"), minlength=n)
    fully_delivered = (n_ship > 0) & (delivered_count == n_ship)
    # Which shipment carries each line (and from which warehouse).
    line_row = np.searchsorted(lines["line_id"].to_numpy(), shipment_lines["line_id"].to_numpy())
    line_shipment = np.full(n_lines, -1, dtype=np.int64)
    line_shipment[line_row] = shipment_lines["life_idx"].to_numpy()
    ship_pos = np.searchsorted(shipments["life_idx"].to_numpy(), line_shipment)
    ship_pos = np.where(line_shipment >= 0, ship_pos, -1)

    req_order: list[np.ndarray] = []
    req_at: list[np.ndarray] = []
    req_kind: list[np.ndarray] = []
    req_reason: list[pl.Series] = []
    req_restock: list[np.ndarray] = []
    req_ship: list[np.ndarray] = []
    # Lines per request: (request number, line index, quantity).
    rl_req: list[np.ndarray] = []
    rl_line: list[np.ndarray] = []
    rl_qty: list[np.ndarray] = []
    goodwill_pct: list[np.ndarray] = []
    count = 0

    def add(order_idx, at, kind, reason, restock, shipping, pct=None):  # type: ignore[no-untyped-def]
        nonlocal count
        k = len(order_idx)
        req_order.append(order_idx)
        req_at.append(at)
        req_kind.append(np.full(k, KINDS.index(kind)))
        req_reason.append(reason)
        req_restock.append(restock)
        req_ship.append(shipping)
        goodwill_pct.append(np.zeros(k, dtype=np.int64) if pct is None else pct)
        first = count
        count += k
        return np.arange(first, first + k)

    qty = lines["quantity"].to_numpy()

    # A. Paid orders cancelled before shipping: everything back.
    cancelled = np.flatnonzero((life_paid < NEVER) & (life_cancelled < NEVER))
    reasons = take(
        [_CANCEL_REFUND_REASON.get(i, "customer_request") for i in range(5)],
        np.maximum(cancel_reason[cancelled], 0),
    )
    req = add(
        cancelled,
        life_cancelled[cancelled],
        "cancellation",
        reasons,
        np.ones(len(cancelled), bool),
        np.ones(len(cancelled), bool),
    )
    lines_of = expand_ranges(starts[cancelled], counts[cancelled])
    rl_req.append(np.repeat(req, counts[cancelled]))
    rl_line.append(lines_of)
    rl_qty.append(qty[lines_of])

    # B. Parcels returned to sender or lost: that shipment's lines.
    for outcome, kind, reason, delay in (
        ("failed", "return", "returned_to_sender", (1 * DAY, 3 * DAY)),
        ("lost", "partial", "lost_in_transit", (0, 2 * DAY)),
    ):
        bad = np.flatnonzero(s_outcome == outcome)
        at = s_outcome_at[bad] + between(rng, *delay, len(bad))
        req = add(
            s_order[bad],
            at,
            kind,
            take([reason], np.zeros(len(bad), np.int64)),
            np.zeros(len(bad), bool),
            ~s_split[bad],
        )
        line_idx = np.flatnonzero(np.isin(ship_pos, bad))
        which = np.searchsorted(bad, ship_pos[line_idx])
        rl_req.append(req[which])
        rl_line.append(line_idx)
        rl_qty.append(qty[line_idx])

    # C. Customer returns of one line; D. goodwill refunds.
    u = rng.random(n)
    returning = np.flatnonzero(fully_delivered & (u < np.where(is_store, 0.05, 0.08)))
    at = all_delivered_at[returning] + between(rng, 5 * DAY, 25 * DAY, len(returning))
    pick = starts[returning] + (rng.random(len(returning)) * counts[returning]).astype(np.int64)
    back = np.where(
        rng.random(len(returning)) < 0.7,
        qty[pick],
        1 + (rng.random(len(returning)) * qty[pick]).astype(np.int64),
    )
    back = np.minimum(back, qty[pick])
    restock = ship_pos[pick] >= 0
    restock &= (
        np.array(wh.CODES)[shipments["warehouse_idx"].to_numpy()[np.maximum(ship_pos[pick], 0)]]
        != "SZX"
    )
    req = add(
        returning,
        at,
        "return",
        take(_RETURN_REASONS, rng.integers(0, len(_RETURN_REASONS), len(returning))),
        restock,
        np.zeros(len(returning), bool),
    )
    rl_req.append(req)
    rl_line.append(pick)
    rl_qty.append(back)

    goodwill = np.flatnonzero(fully_delivered & (u >= 0.08) & (u < 0.10))
    at = all_delivered_at[goodwill] + between(rng, 2 * DAY, 20 * DAY, len(goodwill))
    pct = rng.choice([10, 15, 20, 25, 30], size=len(goodwill))
    add(
        goodwill,
        at,
        "partial",
        take(("goodwill", "damaged_item"), rng.integers(0, 2, len(goodwill))),
        np.zeros(len(goodwill), bool),
        np.zeros(len(goodwill), bool),
        pct,
    )

    # E. Disputes on store payments of orders without another refund.
    refunded_any = np.zeros(n, dtype=bool)
    refunded_any[np.concatenate(req_order)] = True
    paid = life_paid < NEVER
    shipped = n_ship > 0
    fraud = orders["is_fraud"].to_numpy()
    v = rng.random(n)
    disputable = is_store & paid & shipped & (life_cancelled == NEVER) & ~refunded_any
    fraud_dispute = disputable & fraud & (v < 0.7)
    claim = disputable & ~fraud & fully_delivered & (v < 0.004)
    disputed = np.flatnonzero(fraud_dispute | claim)
    d_reason = np.where(fraud_dispute[disputed], 0, np.where(rng.random(len(disputed)) < 0.4, 1, 2))
    d_created = np.where(
        fraud_dispute[disputed],
        life_paid[disputed] + between(rng, 20 * DAY, 75 * DAY, len(disputed)),
        all_delivered_at[disputed] + between(rng, 5 * DAY, 40 * DAY, len(disputed)),
    )
    d_closed = d_created + between(rng, 30 * DAY, 75 * DAY, len(disputed))
    lost = rng.random(len(disputed)) < np.where(d_reason == 0, 0.85, 0.5)
    keep = d_created <= horizon
    disputed, d_reason, d_created, d_closed, lost = (
        x[keep] for x in (disputed, d_reason, d_created, d_closed, lost)
    )
    chargeback = lost & (d_closed <= horizon)
    add(
        disputed[chargeback],
        d_closed[chargeback],
        "chargeback",
        take(["chargeback_lost"], np.zeros(int(chargeback.sum()), np.int64)),
        np.zeros(int(chargeback.sum()), bool),
        np.ones(int(chargeback.sum()), bool),
    )

    refunds, refund_lines = _frames(
        rng,
        ids,
        orders,
        lines,
        req_order,
        req_at,
        req_kind,
        req_reason,
        req_restock,
        req_ship,
        goodwill_pct,
        rl_req,
        rl_line,
        rl_qty,
        is_store,
        horizon,
    )
    returned_at = np.full(n, NEVER)
    ret = refunds.filter((pl.col("kind") == "return") & (pl.col("reason") != "returned_to_sender"))
    np.minimum.at(
        returned_at, ret["order_idx"].to_numpy(), ret["created_at"].dt.epoch("s").to_numpy()
    )
    disputed_at = np.full(n, NEVER)
    disputed_at[disputed] = d_created
    status = np.where(
        d_closed <= horizon,
        np.where(lost, "lost", "won"),
        np.where(d_created + 7 * DAY <= horizon, "under_review", "needs_response"),
    )
    disputes = pl.DataFrame(
        {
            "order_idx": disputed,
            "order_id": orders["order_id"].gather(disputed),
            "provider_idx": provider[disputed],
            "created_at": ts(d_created),
            "reason": take(DISPUTE_REASONS, d_reason),
            "evidence_due_by": ts(d_created + 7 * DAY),
            "closed_at": ts(d_closed, horizon),
            "status": pl.Series(status, dtype=pl.String),
            "resolution": take(("won", "lost"), lost.astype(np.int64)),
            "closes_at": ts(d_closed),
            "amount_minor": orders["total_price_presentment_minor"].gather(disputed),
            "currency": orders["presentment_currency"].gather(disputed),
        }
    ).sort("order_idx")
    return Aftersales(refunds, refund_lines, disputes, returned_at, disputed_at)


def _frames(
    rng,
    ids,
    orders,
    lines,
    req_order,
    req_at,
    req_kind,
    req_reason,
    req_restock,
    req_ship,
    goodwill_pct,
    rl_req,
    rl_line,
    rl_qty,
    is_store,
    horizon,
):  # type: ignore[no-untyped-def]
    """Refund and refund-line frames, with exact amounts in both currencies, sorted by
    (order, time) so that refund ids follow orders (renderers slice them per order)."""
    order_idx = np.concatenate(req_order)
    at = np.concatenate(req_at)
    kind = np.concatenate(req_kind)
    reason = pl.concat(req_reason)
    restock = np.concatenate(req_restock)
    with_shipping = np.concatenate(req_ship)
    pct = np.concatenate(goodwill_pct)
    k = len(order_idx)
    rl = pl.DataFrame(
        {
            "req": np.concatenate(rl_req).astype(np.int64),
            "line_idx": np.concatenate(rl_line).astype(np.int64),
            "quantity": np.concatenate(rl_qty).astype(np.int64),
        }
    )
    li = rl["line_idx"].to_numpy()
    q = rl["quantity"].to_numpy()
    full_q = lines["quantity"].to_numpy()[li]

    def share(column: str) -> np.ndarray:
        return lines[column].to_numpy()[li] * q // full_q

    unit = lines["unit_price_minor"].to_numpy()[li]
    unit_p = lines["unit_price_presentment_minor"].to_numpy()[li]
    rl = rl.with_columns(
        subtotal_minor=pl.Series(unit * q - share("discount_minor")),
        tax_minor=pl.Series(share("tax_minor")),
        subtotal_presentment_minor=pl.Series(unit_p * q - share("discount_presentment_minor")),
        tax_presentment_minor=pl.Series(share("tax_presentment_minor")),
    )
    sums = rl.group_by("req").agg(
        lines_minor=(pl.col("subtotal_minor") + pl.col("tax_minor")).sum(),
        lines_p=(pl.col("subtotal_presentment_minor") + pl.col("tax_presentment_minor")).sum(),
    )
    lines_minor = np.zeros(k, dtype=np.int64)
    lines_p = np.zeros(k, dtype=np.int64)
    lines_minor[sums["req"].to_numpy()] = sums["lines_minor"].to_numpy()
    lines_p[sums["req"].to_numpy()] = sums["lines_p"].to_numpy()

    o = orders
    ship = np.where(with_shipping, o["total_shipping_minor"].to_numpy()[order_idx], 0)
    ship_p = np.where(with_shipping, o["total_shipping_presentment_minor"].to_numpy()[order_idx], 0)
    chargeback = kind == KINDS.index("chargeback")
    total = o["total_price_minor"].to_numpy()[order_idx]
    total_p = o["total_price_presentment_minor"].to_numpy()[order_idx]
    good = o["subtotal_price_minor"].to_numpy()[order_idx] * pct // 100
    good_p = o["subtotal_price_presentment_minor"].to_numpy()[order_idx] * pct // 100
    amount = np.select([chargeback, pct > 0], [total, good], lines_minor + ship)
    amount_p = np.select([chargeback, pct > 0], [total_p, good_p], lines_p + ship_p)
    ship = np.where(chargeback, 0, ship)
    ship_p = np.where(chargeback, 0, ship_p)

    # Store credit: some store customers take a gift card for a return.
    store = is_store[order_idx]
    gift = store & (kind == KINDS.index("return")) & (rng.random(k) < 0.15)
    method = np.select([chargeback, gift, store], [3, 1, 0], 2)

    order = np.lexsort((kind, at, order_idx))
    keep = order[at[order] <= horizon]
    refund_ids = ids("refund", len(keep))
    reason_s = reason.gather(keep)
    head = pl.DataFrame(
        {
            "refund_id": refund_ids,
            "order_idx": order_idx[keep],
            "order_id": o["order_id"].gather(order_idx[keep]),
            "created_at": ts(at[keep]),
            "amount_minor": amount[keep],
            "currency": o["currency"].gather(order_idx[keep]),
            "presentment_amount_minor": amount_p[keep],
            "presentment_currency": o["presentment_currency"].gather(order_idx[keep]),
            "reason": reason_s,
            "restock": restock[keep],
            "kind": take(KINDS, kind[keep]),
            "refund_method": take(
                ("original_payment", "gift_card", "marketplace", "chargeback"), method[keep]
            ),
            "note": reason_s.replace_strict(_NOTES),
            "shipping_minor": ship[keep],
            "shipping_presentment_minor": ship_p[keep],
            "transaction_id": ids("refund_transaction", len(keep)),
        }
    )
    needs_adjustment = (ship[keep] > 0) | (pct[keep] > 0)
    head = head.with_columns(
        adjustment_id=masked(ids("order_adjustment", len(keep)), needs_adjustment),
        gift_card_id=masked(ids("gift_card", len(keep)), method[keep] == 1),
        req=pl.Series(keep),
    )
    refund_lines = rl.join(head.select("req", "refund_id", "order_id"), on="req", how="inner").sort(
        "refund_id", "line_idx"
    )
    refund_lines = refund_lines.with_columns(
        refund_line_id=pl.Series(ids("refund_line", refund_lines.height)),
        line_id=lines["line_id"].gather(refund_lines["line_idx"]),
    ).select(
        "refund_line_id",
        "refund_id",
        "line_id",
        "quantity",
        "subtotal_minor",
        "tax_minor",
        "order_id",
        "subtotal_presentment_minor",
        "tax_presentment_minor",
    )
    return head.drop("req"), refund_lines
