"""Overview: what an operator needs to act on today.

Order and shipping counts, revenue per shop currency (currencies are never added together), where
revenue comes from, the routing decisions with unroutable orders first, and the latest orders.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.lib import queries
from dashboards.lib.formatting import format_amount, with_amount_text, with_country_name
from dashboards.lib.published_copy import current_copy
from tradelane.settings import published_dir

METRICS_PER_ROW = 4


def nothing_published_message() -> str:
    """What to do when the pipeline has not published anything yet."""
    return (
        "Nothing has been published yet, so there is nothing to show. "
        "Run `make demo` for a demo on sandbox data, or `tradelane run` to run the pipeline; "
        "this page shows the published copy as soon as it exists. "
        f"(Looked in `{published_dir()}`.)"
    )


def show_order_metrics(key: str, has_routing: bool) -> None:
    """Headline counts: orders, orders awaiting shipment, orders no warehouse can ship."""
    counts = queries.order_counts(key).row(0, named=True)
    orders, awaiting, unroutable = st.columns(3)
    orders.metric(
        "Orders",
        f"{counts['orders']:,}",
        help=f"All orders, {counts['cancelled']:,} cancelled ones included.",
        border=True,
    )
    awaiting.metric(
        "Awaiting shipment",
        f"{counts['awaiting_shipment']:,}",
        help="Paid, not cancelled and not yet fulfilled.",
        border=True,
    )
    if has_routing:
        routing = queries.routing_counts(key).row(0, named=True)
        unroutable.metric(
            "Cannot be routed",
            f"{routing['unroutable']:,}",
            help="Orders awaiting shipment that no warehouse can ship; see Routing decisions.",
            border=True,
        )


def show_revenue_metrics(key: str) -> None:
    """One revenue figure per shop currency, formatted from the exact decimal sum."""
    revenue = queries.revenue_by_currency(key)
    if revenue.is_empty():
        st.caption("No revenue yet: every order is cancelled.")
        return
    rows = list(revenue.iter_rows(named=True))
    for start in range(0, len(rows), METRICS_PER_ROW):
        chunk = rows[start : start + METRICS_PER_ROW]
        for column, row in zip(st.columns(METRICS_PER_ROW), chunk, strict=False):
            code = row["currency_code"]
            column.metric(
                f"Revenue ({code})",
                format_amount(row["revenue"], code),
                help=(
                    f"Total amount of {row['orders']:,} non-cancelled orders in {code}, the shop "
                    "currency: tax and shipping included, refunds not netted."
                ),
                border=True,
            )


def show_revenue_breakdown(title: str, frame: pl.DataFrame, label: str) -> None:
    """A revenue table (``label``, currency, orders, revenue) beside one bar chart per currency."""
    st.subheader(title)
    if frame.is_empty():
        st.caption("No revenue yet.")
        return
    frame = with_amount_text(frame, "revenue", "currency_code", "revenue_text")
    table, charts = st.columns([2, 3])
    table.dataframe(
        frame.select(
            pl.col(label),
            pl.col("currency_code").alias("Currency"),
            pl.col("orders").alias("Orders"),
            pl.col("revenue_text").alias("Revenue"),
        ),
        hide_index=True,
        column_config={"Revenue": st.column_config.TextColumn(alignment="right")},
    )
    currencies = frame["currency_code"].unique(maintain_order=True).to_list()
    for tab, code in zip(charts.tabs(currencies), currencies, strict=True):
        tab.bar_chart(
            frame.filter(pl.col("currency_code") == code).select(
                pl.col(label), pl.col("revenue").cast(pl.Float64).alias("Revenue")
            ),
            x=label,
            y="Revenue",
            y_label=f"Revenue ({code})",
            horizontal=True,
            sort="-Revenue",
        )


def show_routing_decisions(key: str) -> None:
    """Where each order awaiting shipment goes and why; the ones needing a person come first."""
    st.subheader("Routing decisions")
    decisions = queries.routing_decisions(key)
    if decisions.is_empty():
        st.success("No orders are awaiting shipment.")
        return
    st.caption(
        "Orders awaiting shipment with the warehouse chosen for each. Orders no warehouse can "
        "ship come first, oldest first."
    )
    decisions = with_country_name(decisions, "destination_country_code", "Destination")
    st.dataframe(
        decisions.select(
            pl.col("order_name").alias("Order"),
            pl.when(pl.col("is_routable"))
            .then(pl.lit("Routed"))
            .otherwise(pl.lit("Cannot route"))
            .alias("Status"),
            pl.col("warehouse_code").alias("Warehouse"),
            pl.col("rule_name").alias("Rule"),
            pl.col("reason").alias("Reason"),
            pl.col("Destination"),
            pl.col("distance_km").alias("Distance (km)"),
            pl.col("ordered_at").alias("Ordered at"),
            pl.col("channel").alias("Channel"),
            pl.col("store_id").alias("Store"),
            pl.col("rules_version").alias("Rules version"),
        ),
        hide_index=True,
        column_config={
            "Reason": st.column_config.TextColumn(width="large"),
            "Distance (km)": st.column_config.NumberColumn(format="%.0f"),
            "Ordered at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm z"),
        },
    )


def show_recent_orders(key: str) -> None:
    """The latest orders, newest first, with their amount in the shop currency."""
    st.subheader("Recent orders")
    orders = queries.recent_orders(key)
    orders = with_country_name(orders, "destination_country_code", "Destination")
    orders = with_amount_text(orders, "total_amount", "currency_code", "Total")
    st.dataframe(
        orders.select(
            pl.col("order_name").alias("Order"),
            pl.col("ordered_at").alias("Ordered at"),
            pl.col("channel").alias("Channel"),
            pl.col("store_id").alias("Store"),
            pl.col("Destination"),
            pl.col("financial_status").alias("Payment"),
            pl.col("fulfillment_status").alias("Fulfillment"),
            pl.col("is_cancelled").alias("Cancelled"),
            pl.col("item_quantity").alias("Items"),
            pl.col("Total"),
            pl.col("currency_code").alias("Currency"),
        ),
        hide_index=True,
        column_config={
            "Ordered at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm z"),
            "Total": st.column_config.TextColumn(alignment="right"),
        },
    )


def render() -> None:
    st.title("Overview")
    copy = current_copy()
    if copy is None:
        st.info(nothing_published_message(), icon=":material/info:")
        return
    key = copy.cache_key
    tables = queries.published_tables(key)
    if queries.ORDERS_TABLE not in tables:
        st.info(
            f"The published copy `{copy.path.name}` has no `{queries.ORDERS_TABLE}` yet: "
            "run `tradelane run` to build the order mart.",
            icon=":material/info:",
        )
        return
    has_routing = queries.ROUTING_TABLE in tables

    show_order_metrics(key, has_routing)
    show_revenue_metrics(key)
    by_channel = queries.revenue_by_channel(key).rename({"channel": "Channel"})
    show_revenue_breakdown("Revenue by channel", by_channel, "Channel")
    by_country = with_country_name(
        queries.revenue_by_country(key), "destination_country_code", "Country"
    )
    show_revenue_breakdown(
        "Revenue by destination country", by_country.drop("destination_country_code"), "Country"
    )
    if has_routing:
        show_routing_decisions(key)
    else:
        st.subheader("Routing decisions")
        st.info(
            f"This published copy has no `{queries.ROUTING_TABLE}` yet: the routing action has "
            "not run.",
            icon=":material/info:",
        )
    show_recent_orders(key)


render()
