"""The events that change an order as its channel shows it, in one long frame.

Why one definition: an order's ``updated_at`` is the latest of these events that has
happened, both in the ledger (at the horizon) and in the clock's view (at ``now``), and the
two must agree. Events: placed, paid, held, released, cancelled, each shipment shipped and
its outcome (delivered, returned to sender, declared lost), each refund, a dispute opened and
closed.
"""

from __future__ import annotations

import polars as pl


def order_events(
    orders: pl.DataFrame,
    shipments: pl.DataFrame,
    refunds: pl.DataFrame,
    disputes: pl.DataFrame,
) -> pl.DataFrame:
    """``order_id``, ``at`` for every order event (nulls dropped), sorted by (order_id, at)."""
    columns = ("created_at", "paid_at", "held_at", "released_at", "cancelled_at")
    parts = [orders.select("order_id", at=pl.col(c)) for c in columns]
    parts.append(shipments.select("order_id", at=pl.col("shipped_at")))
    parts.append(shipments.select("order_id", at=pl.col("outcome_at")))
    parts.append(refunds.select("order_id", at=pl.col("created_at")))
    parts.append(disputes.select("order_id", at=pl.col("created_at")))
    parts.append(disputes.select("order_id", at=pl.col("closed_at")))
    return pl.concat(parts).drop_nulls("at").sort("order_id", "at")


def updated_at(events: pl.DataFrame, cutoff: pl.Expr) -> pl.DataFrame:
    """``order_id``, ``updated_at``: the latest event at or before ``cutoff`` (an expression
    over ``events``' columns, so it may differ per order)."""
    return (
        events.filter(pl.col("at") <= cutoff)
        .group_by("order_id")
        .agg(updated_at=pl.col("at").max())
    )
