"""Generate the sandbox's ground-truth ledger: a seeded, vectorized simulation of one
cross-border seller (see ``ingestion/sandbox/LEDGER.md`` for the tables).

Why: every connector, model and action in Tradelane is tested against this world, so it must
be (1) deterministic per seed, (2) exact (money in integer minor units, invariants that hold to
the cent, UTC timestamps) and (3) cheap at scale: everything is drawn with numpy over whole
columns, never a Python loop per order, so a million orders take well under three minutes.

The ledger holds every event up to ``horizon = end + future_days``; the clock in ``state.py``
decides what the APIs may show. Orders created in ``[end - days, end]`` number exactly
``n_orders``; the ``future_days`` after ``end`` get more orders at the same intensity, plus the
late events (shipments, deliveries, refunds, disputes, payouts) of older ones.

One module per domain: ``catalog`` (products, prices per channel), ``warehouses`` (network and
assortment), ``customers``, ``demand`` (when orders arrive), ``orders`` (lines, money, routing
plan), ``lifecycle`` (payment, holds, cancellation, shipments), ``tracking`` (carrier scans),
``aftersales`` (refunds, disputes), ``payments`` (fees, FX, payouts, balance transactions),
``inventory`` (purchase orders, transfers, stock). Decisions worth knowing when reading the
ledger:

- Store card payments run through Shopify Payments, whose processor is Stripe: they are
  ``provider = "stripe"`` (``ch_...``) and pay out through Stripe's balance. Amazon orders get
  ``provider = "amazon"`` payments (id ``AMZ-<order id>``) settled every 14 days in the
  marketplace currency (``payout_id`` = settlement id); fraud and disputes are store-only
  (Amazon screens and handles claims itself).
- A lost dispute is also a ``refunds`` row of kind ``chargeback`` (whole order, no lines,
  ``refund_method = "chargeback"``, no ``payment_refunds`` row: the money left through the
  dispute). Store customers sometimes take a gift card for a return (``refund_method =
  "gift_card"``, no ``payment_refunds`` row either).
- ``orders.outcome`` is null for cancelled and open orders; ``outcome_at`` (extra) says when
  it was reached, and ``returned_at``/``failed_at``/``lost_at`` let the clock recompute it.
- ``tracking_events`` of a lost parcel end with ``Expired_001`` 30 days after the last scan,
  the status AfterShip gives it.
- ``inventory`` is the snapshot at ``end``; ``order_lines.warehouse_code`` (extra) is where
  each line is reserved and ships from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from ingestion.sandbox.world import (
    aftersales,
    catalog,
    costs,
    customers,
    demand,
    inventory,
    lifecycle,
    orders,
    payments,
    tracking,
    warehouses,
)
from ingestion.sandbox.world.channels import CHANNELS, SHOP_CURRENCY, channels_frame
from ingestion.sandbox.world.common import NEVER, epoch, masked, stream, take, ts
from ingestion.sandbox.world.fxconv import Fx
from ingestion.sandbox.world.ids import ID_FLOOR, IdMaker
from ingestion.sandbox.world.timeline import order_events, updated_at

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)

# Ledger tables in LEDGER.md order, with their primary keys.
TABLES: dict[str, tuple[str, ...]] = {
    "channels": ("channel_id",),
    "products": ("sku",),
    "product_prices": ("sku", "channel_id"),
    "warehouses": ("code",),
    "inventory": ("warehouse_code", "sku"),
    "purchase_orders": ("po_id",),
    "transfers": ("transfer_id",),
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "order_lines": ("line_id",),
    "shipments": ("shipment_id",),
    "shipment_lines": ("shipment_id", "line_id"),
    "tracking_events": ("tracking_number", "seq"),
    "shipping_labels": ("shipment_id",),
    "refunds": ("refund_id",),
    "refund_lines": ("refund_line_id",),
    "payments": ("payment_id",),
    "payment_refunds": ("payment_refund_id",),
    "disputes": ("dispute_id",),
    "payouts": ("payout_id",),
    "balance_transactions": ("balance_transaction_id",),
    "fx_rates": ("rate_date", "currency"),
    "malformed_records": ("api", "entity", "record_id"),
}

__all__ = ["DEFAULT_END", "ID_FLOOR", "SHOP_CURRENCY", "TABLES", "World", "generate_world"]


@dataclass(frozen=True)
class World:
    """The ground-truth ledger of one seeded world: one polars frame per ledger table, plus
    the generation window and parameters.

    Every table is sorted by its primary key. ``orders`` and ``order_lines`` follow
    ``created_at`` (order ids increase with it) and one order's lines are contiguous
    (``orders.line_start``/``line_count``); ``shipments`` and ``refunds`` are grouped by order
    too (their ids follow the order), so renderers slice them per page.
    """

    seed: int
    start: datetime
    end: datetime
    horizon: datetime
    channels: pl.DataFrame
    products: pl.DataFrame
    product_prices: pl.DataFrame
    warehouses: pl.DataFrame
    inventory: pl.DataFrame
    purchase_orders: pl.DataFrame
    transfers: pl.DataFrame
    customers: pl.DataFrame
    orders: pl.DataFrame
    order_lines: pl.DataFrame
    shipments: pl.DataFrame
    shipment_lines: pl.DataFrame
    tracking_events: pl.DataFrame
    shipping_labels: pl.DataFrame
    refunds: pl.DataFrame
    refund_lines: pl.DataFrame
    payments: pl.DataFrame
    payment_refunds: pl.DataFrame
    disputes: pl.DataFrame
    payouts: pl.DataFrame
    balance_transactions: pl.DataFrame
    fx_rates: pl.DataFrame
    malformed_records: pl.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict, compare=False)

    def frames(self) -> dict[str, pl.DataFrame]:
        """Every ledger table by name, in ``TABLES`` order."""
        return {name: getattr(self, name) for name in TABLES}

    @classmethod
    def from_frames(
        cls,
        frames: dict[str, pl.DataFrame],
        seed: int,
        start: datetime,
        end: datetime,
        horizon: datetime,
        parameters: dict[str, Any] | None = None,
    ) -> World:
        """A world from its tables (``ledger.read_ledger``)."""
        names = {f.name for f in fields(cls)} & set(TABLES)
        return cls(
            seed=seed,
            start=start,
            end=end,
            horizon=horizon,
            parameters=parameters or {},
            **{name: frames[name] for name in names},
        )


def generate_world(
    seed: int = 42,
    n_orders: int = 2000,
    end: datetime = DEFAULT_END,
    days: int = 90,
    future_days: int = 30,
) -> World:
    """Build the ledger. Same arguments, same frames (``frame.equals``)."""
    if n_orders < 1 or days < 1 or future_days < 0:
        raise ValueError("n_orders and days must be positive, future_days non-negative")
    end = end.astimezone(UTC)
    start = end - timedelta(days=days)
    horizon = end + timedelta(days=future_days)
    t_start, t_end, t_hz = epoch(start), epoch(end), epoch(horizon)
    ids = IdMaker(stream(seed, "ids"))

    products = catalog.products_frame(ids)
    prices = catalog.prices_frame(products, stream(seed, "catalog"))
    warehouse_frame = warehouses.warehouses_frame(ids)
    classes = warehouses.assortment(stream(seed, "inventory"), products, prices)
    currencies = sorted({*(c.currency for c in CHANNELS), *customers.city_table()["currency"]})
    fx = Fx(start.date() - timedelta(days=120), horizon.date(), seed, currencies)

    created, channel = demand.order_times(stream(seed, "demand"), n_orders, start, end, horizon)
    customer_frame, customer_of_order, is_first = customers.build(
        stream(seed, "customers"), ids, channel, created, t_start
    )
    order_frame, lines = orders.build(
        stream(seed, "orders"),
        ids,
        products,
        prices,
        customer_frame,
        customer_of_order,
        is_first,
        created,
        channel,
        fx,
        classes,
    )
    issue = customer_frame["address_issue"].gather(customer_of_order)
    life = lifecycle.simulate(stream(seed, "lifecycle"), order_frame, lines, issue, t_hz)

    # Shipments: ids follow (order, sequence); tracking numbers per carrier format.
    ship = (
        life.shipments.sort("order_idx", "seq")
        .with_row_index("shipment_idx")
        .with_columns(pl.col("shipment_idx").cast(pl.Int64))
    )
    n_ship = ship.height
    shipment_ids = ids("fulfillment", n_ship)
    ship = ship.with_columns(
        shipment_id=pl.Series(shipment_ids),
        order_id=order_frame["order_id"].gather(ship["order_idx"]),
        tracking_number=tracking.tracking_numbers(ship["carrier"], seed),
    )
    dest = customer_frame.select("city", "country_code", "timezone").gather(
        customer_of_order[ship["order_idx"].to_numpy()]
    )
    bad = issue.gather(ship["order_idx"]).is_not_null().to_numpy()
    # Scans come out in primary-key order: shipments by tracking number, then sequence.
    by_number = ship["tracking_number"].arg_sort().to_numpy()
    events, last_tag = tracking.events(stream(seed, "tracking"), ship, dest, bad, by_number, t_hz)
    after = aftersales.build(
        stream(seed, "aftersales"),
        ids,
        order_frame,
        lines,
        ship,
        life.shipment_lines,
        life.paid,
        life.cancelled,
        life.cancel_reason,
        life.provider,
        t_hz,
    )
    shipments_frame, shipment_lines, tracking_frame = _shipment_tables(
        ship, life.shipment_lines, events, last_tag, warehouse_frame, t_hz
    )
    order_frame = _order_lifecycle(order_frame, life, ship, after, t_hz)
    card_country = life.billing_country
    money = payments.build(
        stream(seed, "payments"),
        order_frame,
        lines,
        products,
        life.provider,
        life.paid,
        card_country,
        after.refunds.drop("order_idx").with_columns(order_idx=after.refunds["order_idx"]),
        after.disputes,
        fx,
        t_hz,
    )
    refunds_frame = after.refunds.drop("order_idx")
    ledger = {
        "orders": order_frame,
        "order_lines": lines,
        "shipments": shipments_frame,
        "shipment_lines": shipment_lines,
        "refunds": refunds_frame,
        "refund_lines": after.refund_lines,
    }
    stock = inventory.build(
        stream(seed, "inventory"), ids, products, classes, ledger, t_start, t_end, t_hz
    )
    timeline = order_events(order_frame, shipments_frame, refunds_frame, money.disputes)
    touched = updated_at(timeline, pl.lit(horizon))
    order_frame = order_frame.join(touched, on="order_id", how="left", maintain_order="left")
    customer_out = customer_frame.select(
        *[c for c in customer_frame.columns if c not in ("created_at", "order_count")],
        "created_at",
        "order_count",
    )
    return World(
        seed=seed,
        start=start,
        end=end,
        horizon=horizon,
        channels=channels_frame(),
        products=products,
        product_prices=prices,
        warehouses=warehouse_frame,
        inventory=stock.inventory,
        purchase_orders=stock.purchase_orders.sort("po_id"),
        transfers=stock.transfers.sort("transfer_id"),
        customers=customer_out.sort("customer_id"),
        orders=order_frame,
        order_lines=lines,
        shipments=shipments_frame,
        shipment_lines=shipment_lines,
        tracking_events=tracking_frame,
        shipping_labels=costs.build(
            stream(seed, "costs"),
            shipments_frame,
            shipment_lines,
            lines,
            products,
            warehouse_frame,
            fx,
            t_hz,
        ),
        refunds=refunds_frame,
        refund_lines=after.refund_lines,
        payments=money.payments,
        payment_refunds=money.payment_refunds,
        disputes=money.disputes,
        payouts=money.payouts,
        balance_transactions=money.balance_transactions,
        fx_rates=fx.table.filter(pl.col("rate_date") >= start.date() - timedelta(days=10)),
        malformed_records=pl.DataFrame(
            schema={
                "api": pl.String,
                "entity": pl.String,
                "record_id": pl.String,
                "kind": pl.String,
            }
        ),
        parameters={
            "seed": seed,
            "n_orders": n_orders,
            "end": end.isoformat(),
            "days": days,
            "future_days": future_days,
        },
    )


def _shipment_tables(
    ship: pl.DataFrame,
    life_lines: pl.DataFrame,
    events: pl.DataFrame,
    last_tag: np.ndarray,
    warehouse_frame: pl.DataFrame,
    horizon: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    location = dict(zip(warehouse_frame["code"], warehouse_frame["location_id"], strict=True))
    delivered = ship["delivered"].to_numpy()
    outcome_at = ship["outcome_at"].to_numpy()
    decided = outcome_at <= horizon
    shipments = ship.select(
        "shipment_id",
        "order_id",
        "warehouse_code",
        "carrier",
        "service",
        "tracking_number",
        shipped_at=ts(ship["shipped"].to_numpy()),
        delivered_at=ts(delivered, horizon),
        status=masked(take(tracking.TAGS, np.maximum(last_tag, 0)), last_tag >= 0),
        is_split=pl.col("is_split"),
        seq=pl.col("seq"),
        location_id=pl.col("warehouse_code").replace_strict(location, return_dtype=pl.Int64),
        tracking_url=pl.col("carrier").replace_strict(_TRACKING_URLS) + pl.col("tracking_number"),
        outcome=masked(ship["outcome"], decided),
        outcome_at=ts(outcome_at, horizon),
        destination_country_code=pl.col("dest_country"),
    )
    idx_to_id = ship.select("life_idx", "shipment_id")
    shipment_lines = (
        life_lines.join(idx_to_id, on="life_idx", how="inner")
        .select("shipment_id", "line_id", "quantity")
        .sort("shipment_id", "line_id")
    )
    s_idx = events["shipment_idx"]
    tracking_frame = events.select(
        tracking_number=ship["tracking_number"].gather(s_idx),
        seq=pl.col("seq"),
        event_at=ts(events["event_at_s"].to_numpy()),
        local_utc_offset_minutes=pl.col("local_utc_offset_minutes"),
        tag=pl.col("tag"),
        subtag=pl.col("subtag"),
        city=pl.col("city"),
        country_code=pl.col("country_code"),
        message=pl.col("message"),
        shipment_id=ship["shipment_id"].gather(s_idx),
    )
    return shipments, shipment_lines, tracking_frame


_TRACKING_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
    "UPS": "https://www.ups.com/track?tracknum=",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr=",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id=",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/",
    "Japan Post": "https://trackings.post.japanpost.jp/services/srv/search/?requestNo1=",
    "Yanwen": "https://track.yw56.com.cn/en/querydel?nums=",
    "Cainiao": "https://global.cainiao.com/newDetail.htm?mailNoList=",
}


def _order_lifecycle(
    order_frame: pl.DataFrame,
    life: lifecycle.Lifecycle,
    ship: pl.DataFrame,
    after: aftersales.Aftersales,
    horizon: int,
) -> pl.DataFrame:
    """Order columns derived from the lifecycle, shipments and refunds, as of the horizon."""
    n = order_frame.height
    order_idx = ship["order_idx"].to_numpy()
    shipped = ship["shipped"].to_numpy()
    outcome = ship["outcome"].to_numpy()
    outcome_at = ship["outcome_at"].to_numpy()
    first_ship = np.full(n, NEVER)
    np.minimum.at(first_ship, order_idx, shipped)
    n_ship = np.bincount(order_idx, minlength=n)
    delivered_all = np.zeros(n, dtype=np.int64)
    delivered = ship["delivered"].to_numpy()
    np.maximum.at(delivered_all, order_idx, delivered)
    delivered_all = np.where(n_ship > 0, delivered_all, NEVER)
    failed_at = np.full(n, NEVER)
    np.minimum.at(failed_at, order_idx, np.where(outcome == "failed", outcome_at, NEVER))
    lost_at = np.full(n, NEVER)
    np.minimum.at(lost_at, order_idx, np.where(outcome == "lost", outcome_at, NEVER))
    returned_at = after.returned_at
    out_code = np.select(
        [
            returned_at <= horizon,
            failed_at <= horizon,
            lost_at <= horizon,
            delivered_all <= horizon,
        ],
        [3, 1, 2, 0],
        -1,
    )
    out_at = np.select(
        [out_code == 3, out_code == 1, out_code == 2, out_code == 0],
        [returned_at, failed_at, lost_at, delivered_all],
        NEVER,
    )
    refunds = after.refunds
    sums = refunds.group_by("order_idx").agg(
        r=pl.col("amount_minor").sum(),
        rp=pl.col("presentment_amount_minor").sum(),
        first=pl.col("created_at").min().dt.epoch("s"),
    )
    refunded = np.zeros(n, dtype=np.int64)
    refunded_p = np.zeros(n, dtype=np.int64)
    first_refund = np.full(n, NEVER)
    at = sums["order_idx"].to_numpy()
    refunded[at] = sums["r"].to_numpy()
    refunded_p[at] = sums["rp"].to_numpy()
    first_refund[at] = sums["first"].to_numpy()
    rng_ids = np.random.default_rng([int(order_frame["order_id"][0]) % 2**32, 99])
    return order_frame.with_columns(
        payment_provider=take(lifecycle.PROVIDERS, life.provider),
        gateway=take(lifecycle.GATEWAYS, life.provider),
        paid_at=ts(life.paid, horizon),
        risk_score=pl.Series(life.risk_score),
        billing_country_code=life.billing_country,
        held_at=ts(life.held, horizon),
        hold_reason=masked(
            take(lifecycle.HOLD_REASONS, np.maximum(life.hold_reason, 0)),
            (life.hold_reason >= 0) & (life.held <= horizon),
        ),
        released_at=ts(life.released, horizon),
        cancelled_at=ts(life.cancelled, horizon),
        cancel_reason=masked(
            take(lifecycle.CANCEL_REASONS, np.maximum(life.cancel_reason, 0)),
            (life.cancel_reason >= 0) & (life.cancelled <= horizon),
        ),
        fulfilled_at=ts(first_ship, horizon),
        delivered_at=ts(delivered_all, horizon),
        returned_at=ts(returned_at, horizon),
        failed_at=ts(failed_at, horizon),
        lost_at=ts(lost_at, horizon),
        outcome=masked(
            take(("delivered", "failed", "lost", "returned"), np.maximum(out_code, 0)),
            out_code >= 0,
        ),
        outcome_at=ts(out_at, horizon),
        refunded_minor=pl.Series(refunded),
        refunded_presentment_minor=pl.Series(refunded_p),
        refunded_at=ts(first_refund, horizon),
        disputed_at=ts(after.disputed_at, horizon),
        payment_transaction_id=pl.Series(
            np.sort(rng_ids.choice(10**12, n, replace=False)) + 2**53 + 8 * 10**14
        ),
    )
