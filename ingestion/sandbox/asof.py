"""What the world looks like at one instant: the ledger filtered and re-derived as of ``now``.

Why a separate step: the ledger records every event up to the horizon, but an API may only
show what has happened by the sandbox clock. Statuses (financial, fulfilment), ``closed_at``
and ``updated_at`` are therefore computed from event times here, in one vectorized polars pass,
never stored. Advancing the clock then reveals new orders and moves the ``updated_at`` of old
ones (late fulfilments and refunds), which is what incremental connectors must cope with.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl


def _at_or_before(column: str, now: pl.Expr) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column) <= now)


def orders_as_of(orders: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Orders created by ``now`` with their state as of ``now``.

    Adds ``financial_status`` and ``fulfillment_status`` (Shopify's vocabulary), ``closed_at``
    (Shopify archives an order once fulfilled, or when cancelled), ``updated_at`` (the latest
    event at or before ``now``), the ``is_*`` flags the renderers use, and
    ``refunded_minor``/``refunded_presentment_minor`` (0 until the refund happens)."""
    t = pl.lit(now)
    paid = _at_or_before("paid_at", t)
    cancelled = _at_or_before("cancelled_at", t)
    fulfilled = _at_or_before("fulfilled_at", t)
    refunded = _at_or_before("refunded_at", t)
    events = ["created_at", "paid_at", "fulfilled_at", "cancelled_at", "refunded_at"]
    return (
        orders.filter(pl.col("created_at") <= t)
        .with_columns(
            is_paid=paid, is_cancelled=cancelled, is_fulfilled=fulfilled, is_refunded=refunded
        )
        .with_columns(
            financial_status=pl.when(pl.col("is_refunded"))
            .then(
                pl.when(pl.col("refund_minor") >= pl.col("total_price_minor"))
                .then(pl.lit("refunded"))
                .otherwise(pl.lit("partially_refunded"))
            )
            .when(pl.col("is_cancelled") & ~pl.col("is_paid"))
            .then(pl.lit("voided"))
            .when(pl.col("is_paid"))
            .then(pl.lit("paid"))
            # Card payments are authorized at checkout and captured minutes later; bank
            # transfers stay pending until the money arrives.
            .when(pl.col("gateway") == "manual")
            .then(pl.lit("pending"))
            .otherwise(pl.lit("authorized")),
            fulfillment_status=pl.when(pl.col("is_fulfilled")).then(pl.lit("fulfilled")),
            closed_at=pl.when(pl.col("is_fulfilled"))
            .then(pl.col("fulfilled_at"))
            .when(pl.col("is_cancelled"))
            .then(pl.col("cancelled_at")),
            updated_at=pl.max_horizontal(
                [pl.when(_at_or_before(c, t)).then(pl.col(c)) for c in events]
            ),
            refunded_minor=pl.when(pl.col("is_refunded")).then(pl.col("refund_minor")).otherwise(0),
            refunded_presentment_minor=pl.when(pl.col("is_refunded"))
            .then(pl.col("refund_presentment_minor"))
            .otherwise(0),
        )
    )


def inventory_events(orders: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """One row per order line with the events that move its warehouse's stock: payment
    reserves, fulfilment ships (on hand and reserved go down), a cancellation after payment
    releases the reservation."""
    return lines.select("order_id", "sku", "quantity").join(
        orders.select(
            "order_id",
            "paid_at",
            "fulfilled_at",
            "cancelled_at",
            warehouse_code="assigned_warehouse",
        ),
        on="order_id",
        how="inner",
    )


def last_event_in(events: pl.DataFrame, after: datetime | None, until: datetime) -> pl.DataFrame:
    """Latest stock-moving event per (warehouse_code, sku) in ``(after, until]``."""
    hi = pl.lit(until)

    def in_window(column: pl.Expr) -> pl.Expr:
        inside = column.is_not_null() & (column <= hi)
        if after is not None:
            inside = inside & (column > pl.lit(after))
        return pl.when(inside).then(column)

    released = pl.when(pl.col("paid_at").is_not_null()).then(pl.col("cancelled_at"))
    return (
        events.group_by("warehouse_code", "sku")
        .agg(
            in_window(pl.col("paid_at")).max().alias("paid"),
            in_window(pl.col("fulfilled_at")).max().alias("shipped"),
            in_window(released).max().alias("released"),
        )
        .select(
            "warehouse_code", "sku", last_event_at=pl.max_horizontal("paid", "shipped", "released")
        )
        .filter(pl.col("last_event_at").is_not_null())
    )


def inventory_as_of(
    snapshot: pl.DataFrame, events: pl.DataFrame, snapshot_at: datetime, now: datetime
) -> pl.DataFrame:
    """Stock levels at ``now`` from the ledger's snapshot taken at ``snapshot_at <= now``.

    ``on_hand`` drops by what shipped in ``(snapshot_at, now]``; ``reserved`` counts paid,
    not yet shipped, not cancelled units at ``now`` (capped at ``on_hand``, never above it);
    ``updated_at`` is the later of the snapshot's and the last event in that window."""
    t, s = pl.lit(now), pl.lit(snapshot_at)
    shipped = (
        events.filter(
            pl.col("fulfilled_at").is_not_null()
            & (pl.col("fulfilled_at") > s)
            & (pl.col("fulfilled_at") <= t)
        )
        .group_by("warehouse_code", "sku")
        .agg(shipped=pl.col("quantity").sum())
    )
    reserved = (
        events.filter(
            _at_or_before("paid_at", t)
            & ~_at_or_before("fulfilled_at", t)
            & ~_at_or_before("cancelled_at", t)
        )
        .group_by("warehouse_code", "sku")
        .agg(reserved_now=pl.col("quantity").sum())
    )
    keys = ["warehouse_code", "sku"]
    out = (
        snapshot.select(*keys, "on_hand", "updated_at")
        .join(shipped, on=keys, how="left", maintain_order="left")
        .join(reserved, on=keys, how="left", maintain_order="left")
        .join(last_event_in(events, snapshot_at, now), on=keys, how="left", maintain_order="left")
    )
    on_hand = (pl.col("on_hand") - pl.col("shipped").fill_null(0)).clip(lower_bound=0)
    return out.select(
        *keys,
        on_hand=on_hand.cast(pl.Int64),
        reserved=pl.min_horizontal(pl.col("reserved_now").fill_null(0), on_hand).cast(pl.Int64),
        updated_at=pl.max_horizontal("updated_at", "last_event_at"),
    )
