"""What the world looks like at one instant: every ledger table filtered and re-derived as of
``now`` (``SandboxState.table_as_of`` is the public door; this module does the work).

Why a separate step: the ledger records every event up to the horizon, but an API may only
show what has happened by the sandbox clock. So rows appear when they are created, event
timestamps after ``now`` are nulled, and the columns that summarise events (statuses,
``updated_at``, refunded amounts, order counts, stock, payout links) are recomputed from the
events at or before ``now``, in vectorized polars passes, never stored. Advancing the clock then
reveals new orders and moves the ``updated_at`` of old ones (late shipments, deliveries,
refunds), which is what incremental connectors must cope with.

Late updates (fault profile ``late_update_share``): a deterministic share of orders is seen
through a delayed clock ``now - delay`` in the order tables, so their changes surface up to
``late_update_max_delay_s`` after their ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import polars as pl

from ingestion.sandbox.faults import FaultProfile
from ingestion.sandbox.world import TABLES, World
from ingestion.sandbox.world.common import unit_interval
from ingestion.sandbox.world.inventory import stock_events
from ingestion.sandbox.world.timeline import order_events

_STATIC = ("channels", "products", "product_prices", "warehouses", "malformed_records")
# Order columns that are events: null until they happen.
_ORDER_EVENTS = (
    "paid_at",
    "held_at",
    "released_at",
    "cancelled_at",
    "fulfilled_at",
    "delivered_at",
    "returned_at",
    "failed_at",
    "lost_at",
    "refunded_at",
    "disputed_at",
)
_CUT = "_asof_cut"


def late_delays(order_ids: pl.Series, seed: int, profile: FaultProfile) -> pl.DataFrame:
    """``order_id``, ``delay_s`` of the orders the profile delays (deterministic per order id
    and seed; empty without late updates)."""
    if profile.late_update_share <= 0 or profile.late_update_max_delay_s <= 0:
        return pl.DataFrame(schema={"order_id": pl.Int64, "delay_s": pl.Int64})
    ids = order_ids.to_numpy()
    chosen = unit_interval(ids, seed * 7 + 1) < profile.late_update_share
    delay = np.ceil(unit_interval(ids, seed * 7 + 2) * profile.late_update_max_delay_s)
    return pl.DataFrame(
        {"order_id": ids[chosen], "delay_s": np.maximum(delay[chosen], 1).astype(np.int64)}
    )


class AsOf:
    """Builds ledger tables as of an instant for one world and fault profile. Precomputed
    helpers (event timelines, stock movements after ``end``) are built on first use."""

    def __init__(self, world: World, faults: FaultProfile) -> None:
        self.world = world
        self.delays = late_delays(world.orders["order_id"], world.seed, faults)
        self._timeline: pl.DataFrame | None = None
        self._stock: pl.DataFrame | None = None
        self._shipment_lines: pl.DataFrame | None = None
        self._scans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]] | None = None
        self._builders: dict[str, Callable[[datetime], pl.DataFrame]] = {
            "inventory": self.inventory,
            "purchase_orders": self.purchase_orders,
            "transfers": self.transfers,
            "customers": self.customers,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "shipments": self.shipments,
            "shipment_lines": self.shipment_lines,
            "tracking_events": self.tracking_events,
            "shipping_labels": self.shipping_labels,
            "refunds": self.refunds,
            "refund_lines": self.refund_lines,
            "payments": self.payments,
            "payment_refunds": self.payment_refunds,
            "disputes": self.disputes,
            "payouts": self.payouts,
            "balance_transactions": self.balance_transactions,
            "fx_rates": self.fx_rates,
        }
        # Tables of one clock position (the latest asked): views reuse each other.
        self._cache: dict[str, pl.DataFrame] = {}
        self._cached_at: datetime | None = None

    def table(self, name: str, now: datetime) -> pl.DataFrame:
        """Ledger table ``name`` as of ``now`` (see ``SandboxState.table_as_of``)."""
        if name not in TABLES:
            raise KeyError(f"unknown ledger table {name!r}; choose one of {list(TABLES)}")
        if name in _STATIC:
            return self.world.frames()[name]
        if self._cached_at != now:
            self._cache.clear()
            self._cached_at = now
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = self._builders[name](now)
        return found

    # Helpers ------------------------------------------------------------------------------

    def _with_cut(self, frame: pl.DataFrame, now: datetime) -> pl.DataFrame:
        """``frame`` (with ``order_id``) plus the per-row clock ``_asof_cut``: ``now``, or
        ``now - delay`` for late-updated orders."""
        t = pl.lit(now)
        if self.delays.height == 0:
            return frame.with_columns(t.alias(_CUT))
        joined = frame.join(self.delays, on="order_id", how="left", maintain_order="left")
        cut = t - pl.duration(seconds=pl.col("delay_s").fill_null(0))
        return joined.with_columns(cut.alias(_CUT)).drop("delay_s")

    @staticmethod
    def _happened(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & (pl.col(column) <= pl.col(_CUT))

    def timeline(self) -> pl.DataFrame:
        """Every order event (``timeline.order_events``) with its order's delay."""
        if self._timeline is None:
            w = self.world
            events = order_events(w.orders, w.shipments, w.refunds, w.disputes)
            if self.delays.height:
                self._timeline = events.join(self.delays, on="order_id", how="left").with_columns(
                    pl.col("delay_s").fill_null(0)
                )
            else:
                self._timeline = events.with_columns(delay_s=pl.lit(0, pl.Int64))
        return self._timeline

    # Orders -------------------------------------------------------------------------------

    def orders(self, now: datetime) -> pl.DataFrame:
        """Orders as of ``now`` with their lifecycle columns recomputed, plus Shopify's view
        of them: ``financial_status``, ``fulfillment_status``, ``closed_at``, ``is_paid``,
        ``is_cancelled``, ``is_fulfilled``, ``is_refunded``, and refunded amounts without
        chargebacks (``shopify_refunded_minor``/``_presentment_minor``), which Shopify does not
        record as refunds."""
        w = self.world
        o = self._with_cut(w.orders, now).filter(pl.col("created_at") <= pl.col(_CUT))
        o = o.with_columns(
            [pl.when(self._happened(c)).then(pl.col(c)).alias(c) for c in _ORDER_EVENTS]
        )
        refunds = self._with_cut(
            w.refunds.select(
                "order_id", "created_at", "amount_minor", "presentment_amount_minor", "kind"
            ),
            now,
        ).filter(pl.col("created_at") <= pl.col(_CUT))
        store = pl.col("kind") != "chargeback"
        sums = refunds.group_by("order_id").agg(
            refunded_minor=pl.col("amount_minor").sum(),
            refunded_presentment_minor=pl.col("presentment_amount_minor").sum(),
            shopify_refunded_minor=pl.col("amount_minor").filter(store).sum(),
            shopify_refunded_presentment_minor=pl.col("presentment_amount_minor")
            .filter(store)
            .sum(),
            shopify_refunded_at=pl.col("created_at").filter(store).min(),
        )
        events = self.timeline().filter(
            pl.col("at") <= pl.lit(now) - pl.duration(seconds=pl.col("delay_s"))
        )
        touched = events.group_by("order_id").agg(updated_at=pl.col("at").max())
        shipped = self._shipment_progress(now)
        money = (
            "refunded_minor",
            "refunded_presentment_minor",
            "shopify_refunded_minor",
            "shopify_refunded_presentment_minor",
        )
        o = (
            o.drop("refunded_minor", "refunded_presentment_minor", "updated_at")
            .join(sums, on="order_id", how="left", maintain_order="left")
            .join(touched, on="order_id", how="left", maintain_order="left")
            .join(shipped, on="order_id", how="left", maintain_order="left")
            .with_columns([pl.col(c).fill_null(0) for c in money])
            .with_columns(pl.col("lines_shipped").fill_null(0))
        )
        paid = pl.col("paid_at").is_not_null()
        cancelled = pl.col("cancelled_at").is_not_null()
        fulfilled = pl.col("lines_shipped") >= pl.col("line_count")
        partial = (pl.col("lines_shipped") > 0) & ~fulfilled
        refunded = pl.col("shopify_refunded_at").is_not_null()
        o = o.with_columns(
            hold_reason=pl.when(pl.col("held_at").is_not_null()).then(pl.col("hold_reason")),
            cancel_reason=pl.when(cancelled).then(pl.col("cancel_reason")),
            outcome=pl.when(pl.col("returned_at").is_not_null())
            .then(pl.lit("returned"))
            .when(pl.col("failed_at").is_not_null())
            .then(pl.lit("failed"))
            .when(pl.col("lost_at").is_not_null())
            .then(pl.lit("lost"))
            .when(pl.col("delivered_at").is_not_null())
            .then(pl.lit("delivered")),
            outcome_at=pl.coalesce("returned_at", "failed_at", "lost_at", "delivered_at"),
            is_paid=paid,
            is_cancelled=cancelled,
            is_fulfilled=fulfilled,
            is_refunded=refunded,
            fulfillment_status=pl.when(fulfilled)
            .then(pl.lit("fulfilled"))
            .when(partial)
            .then(pl.lit("partial")),
            closed_at=pl.when(fulfilled)
            .then(pl.col("last_shipped_at"))
            .when(cancelled)
            .then(pl.col("cancelled_at")),
            financial_status=pl.when(refunded)
            .then(
                pl.when(
                    pl.col("shopify_refunded_presentment_minor")
                    >= pl.col("total_price_presentment_minor")
                )
                .then(pl.lit("refunded"))
                .otherwise(pl.lit("partially_refunded"))
            )
            .when(cancelled & ~paid)
            .then(pl.lit("voided"))
            .when(paid)
            .then(pl.lit("paid"))
            # Cards are authorized at checkout and captured seconds later; PayPal is pending.
            .when(pl.col("payment_provider") == "paypal")
            .then(pl.lit("pending"))
            .otherwise(pl.lit("authorized")),
        )
        return o.drop(_CUT)

    def _shipment_progress(self, now: datetime) -> pl.DataFrame:
        """Per order: lines in shipments shipped by its clock, and the last such shipment."""
        if self._shipment_lines is None:
            counts = self.world.shipment_lines.group_by("shipment_id").agg(n=pl.len())
            self._shipment_lines = self.world.shipments.select(
                "shipment_id", "order_id", "shipped_at"
            ).join(counts, on="shipment_id", how="left")
        s = self._with_cut(self._shipment_lines, now).filter(pl.col("shipped_at") <= pl.col(_CUT))
        return s.group_by("order_id").agg(
            lines_shipped=pl.col("n").sum(), last_shipped_at=pl.col("shipped_at").max()
        )

    def order_lines(self, now: datetime) -> pl.DataFrame:
        visible = self.table("orders", now).select("order_id")
        return self.world.order_lines.join(
            visible, on="order_id", how="semi", maintain_order="left"
        )

    def shipments(self, now: datetime) -> pl.DataFrame:
        """Shipments shipped by ``now``; ``status`` is the AfterShip tag of the last scan by
        ``now`` (null before the first), ``delivered_at``/``outcome`` once they happen."""
        w = self.world
        with_status = w.shipments.with_columns(status=self._scan_status(now))
        s = self._with_cut(with_status, now).filter(pl.col("shipped_at") <= pl.col(_CUT))
        decided = self._happened("outcome_at")
        return s.with_columns(
            delivered_at=pl.when(self._happened("delivered_at")).then(pl.col("delivered_at")),
            outcome=pl.when(decided).then(pl.col("outcome")),
            outcome_at=pl.when(decided).then(pl.col("outcome_at")),
        ).select(w.shipments.columns)

    def _scan_status(self, now: datetime) -> pl.Series:
        """The tag of each shipment's last scan at or before ``now`` (null before the first).

        Scans are grouped by tracking number and time-ordered within a group, so the scans
        by ``now`` are a prefix of each group: one comparison per scan and a cumulative sum
        find them, without grouping eleven million rows per clock position."""
        if self._scans is None:
            ev = self.world.tracking_events
            number = ev["tracking_number"]
            first = np.ones(ev.height, dtype=bool)
            if ev.height:
                first[1:] = (number.slice(1) != number.slice(0, ev.height - 1)).to_numpy()
            starts = np.flatnonzero(first)
            counts = np.diff(np.r_[starts, ev.height])
            groups = pl.DataFrame(
                {"tracking_number": number.gather(starts), "start": starts, "count": counts}
            )
            per_shipment = self.world.shipments.select("tracking_number").join(
                groups, on="tracking_number", how="left", maintain_order="left"
            )
            tags = sorted(set(ev["tag"].unique().to_list()))
            self._scans = (
                ev["event_at"].dt.epoch("us").to_numpy(),
                ev["tag"]
                .replace_strict({t: i for i, t in enumerate(tags)}, return_dtype=pl.Int64)
                .to_numpy(),
                per_shipment["start"].fill_null(0).to_numpy(),
                per_shipment["count"].fill_null(0).to_numpy(),
                tags,
            )
        at, tag, start, count, tags = self._scans
        now_us = int(now.timestamp()) * 1_000_000 + now.microsecond
        seen = np.concatenate([[0], np.cumsum(at <= now_us)])
        visible = seen[start + count] - seen[start]
        last = tag[np.clip(start + visible - 1, 0, max(len(tag) - 1, 0))] if len(tag) else visible
        names = pl.Series(tags, dtype=pl.String).gather(np.where(visible > 0, last, 0))
        return names.zip_with(pl.Series(visible > 0), pl.Series([None], dtype=pl.String))

    def shipment_lines(self, now: datetime) -> pl.DataFrame:
        visible = self.table("shipments", now).select("shipment_id")
        return self.world.shipment_lines.join(
            visible, on="shipment_id", how="semi", maintain_order="left"
        )

    def tracking_events(self, now: datetime) -> pl.DataFrame:
        return self.world.tracking_events.filter(pl.col("event_at") <= pl.lit(now))

    def shipping_labels(self, now: datetime) -> pl.DataFrame:
        """Labels bought by ``now``; duties and import taxes once the carrier has billed them."""
        t = pl.lit(now)
        billed = pl.col("duties_billed_at") <= t
        return self.world.shipping_labels.filter(pl.col("purchased_at") <= t).with_columns(
            duties_billed_at=pl.when(billed).then(pl.col("duties_billed_at")),
            customs_value_minor=pl.when(billed).then(pl.col("customs_value_minor")),
            duty_minor=pl.when(billed).then(pl.col("duty_minor")),
            import_tax_minor=pl.when(billed).then(pl.col("import_tax_minor")),
        )

    def refunds(self, now: datetime) -> pl.DataFrame:
        r = self._with_cut(self.world.refunds, now)
        return r.filter(pl.col("created_at") <= pl.col(_CUT)).drop(_CUT)

    def refund_lines(self, now: datetime) -> pl.DataFrame:
        visible = self.table("refunds", now).select("refund_id")
        return self.world.refund_lines.join(
            visible, on="refund_id", how="semi", maintain_order="left"
        )

    def customers(self, now: datetime) -> pl.DataFrame:
        counts = self.table("orders", now).group_by("customer_id").agg(n=pl.len())
        c = self.world.customers.filter(pl.col("created_at") <= pl.lit(now))
        return (
            c.join(counts, on="customer_id", how="left", maintain_order="left")
            .with_columns(order_count=pl.col("n").fill_null(0).cast(pl.Int64))
            .drop("n")
        )

    # Money --------------------------------------------------------------------------------

    def _paid_out(self, now: datetime) -> pl.DataFrame:
        return self.world.payouts.filter(pl.col("created_at") <= pl.lit(now)).select("payout_id")

    def _unlink_future_payouts(
        self, frame: pl.DataFrame, now: datetime, *columns: str
    ) -> pl.DataFrame:
        done = self._paid_out(now)["payout_id"].implode()
        return frame.with_columns(
            [pl.when(pl.col(c).is_in(done)).then(pl.col(c)).alias(c) for c in columns]
        )

    def payments(self, now: datetime) -> pl.DataFrame:
        p = self.world.payments.filter(pl.col("created_at") <= pl.lit(now))
        return self._unlink_future_payouts(p, now, "payout_id")

    def payment_refunds(self, now: datetime) -> pl.DataFrame:
        r = self.world.payment_refunds.filter(pl.col("created_at") <= pl.lit(now))
        return self._unlink_future_payouts(r, now, "payout_id")

    def disputes(self, now: datetime) -> pl.DataFrame:
        """Disputes opened by ``now``: ``needs_response`` until evidence is due, then
        ``under_review`` until they close ``won`` or ``lost``."""
        t = pl.lit(now)
        d = self.world.disputes.filter(pl.col("created_at") <= t)
        closed = pl.col("closes_at") <= t
        d = d.with_columns(
            status=pl.when(closed)
            .then(pl.col("resolution"))
            .when(pl.col("evidence_due_by") <= t)
            .then(pl.lit("under_review"))
            .otherwise(pl.lit("needs_response")),
            closed_at=pl.when(closed).then(pl.col("closes_at")),
            resolution=pl.when(closed).then(pl.col("resolution")),
            reversal_amount_minor=pl.when(closed)
            .then(pl.col("reversal_amount_minor"))
            .otherwise(0),
        )
        return self._unlink_future_payouts(d, now, "payout_id", "reversal_payout_id").drop(
            "closes_at"
        )

    def payouts(self, now: datetime) -> pl.DataFrame:
        p = self.world.payouts.filter(pl.col("created_at") <= pl.lit(now))
        return p.with_columns(
            status=pl.when(pl.col("arrival_date") <= pl.lit(now.date()))
            .then(pl.lit("paid"))
            .otherwise(pl.lit("in_transit"))
        )

    def balance_transactions(self, now: datetime) -> pl.DataFrame:
        b = self.world.balance_transactions.filter(pl.col("created_at") <= pl.lit(now))
        return self._unlink_future_payouts(b, now, "payout_id")

    def fx_rates(self, now: datetime) -> pl.DataFrame:
        return self.world.fx_rates.filter(pl.col("rate_date") <= pl.lit(now.date()))

    # Stock --------------------------------------------------------------------------------

    def purchase_orders(self, now: datetime) -> pl.DataFrame:
        t = pl.lit(now)
        p = self.world.purchase_orders.filter(pl.col("ordered_at") <= t)
        received = pl.col("received_at") <= t
        return p.with_columns(
            received_at=pl.when(received).then(pl.col("received_at")),
            status=pl.when(received)
            .then(pl.lit("received"))
            .when(pl.col("expected_at") <= t)
            .then(pl.lit("overdue"))
            .otherwise(pl.lit("open")),
        )

    def transfers(self, now: datetime) -> pl.DataFrame:
        t = pl.lit(now)
        f = self.world.transfers.filter(pl.col("shipped_at") <= t)
        received = pl.col("received_at") <= t
        return f.with_columns(
            received_at=pl.when(received).then(pl.col("received_at")),
            status=pl.when(received).then(pl.lit("received")).otherwise(pl.lit("in_transit")),
        )

    def stock_after_end(self) -> pl.DataFrame:
        """Stock movements after the snapshot at ``end``, sorted by time."""
        if self._stock is None:
            w = self.world
            events = stock_events(
                w.orders, w.order_lines, w.shipments, w.shipment_lines, w.refunds,
                w.refund_lines, w.purchase_orders, w.transfers,
            )  # fmt: skip
            self._stock = events.filter(pl.col("at") > pl.lit(w.end)).sort("at")
        return self._stock

    def inventory(self, now: datetime) -> pl.DataFrame:
        """Stock at ``now`` (at or after ``end``): the snapshot moved by every event in
        ``(end, now]``; ``reserved = on_hand - available``; ``updated_at`` the latest change."""
        if now < self.world.end:
            raise ValueError("inventory is derived forward from the snapshot at the world's end")
        keys = ["warehouse_code", "sku"]
        moves = (
            self.stock_after_end()
            .filter(pl.col("at") <= pl.lit(now))
            .group_by(keys)
            .agg(
                d_on_hand=pl.col("on_hand_delta").sum(),
                d_available=pl.col("available_delta").sum(),
                last=pl.col("at").max(),
            )
        )
        snap = self.world.inventory.join(moves, on=keys, how="left", maintain_order="left")
        on_hand = pl.col("on_hand") + pl.col("d_on_hand").fill_null(0)
        available = pl.col("on_hand") - pl.col("reserved") + pl.col("d_available").fill_null(0)
        return snap.select(
            *keys,
            on_hand=on_hand,
            reserved=on_hand - available,
            updated_at=pl.max_horizontal("updated_at", "last"),
        )
