"""One cached function per query the dashboards run against the published copy.

Every function takes the published file's path (``PublishedCopy.cache_key``) as its first
argument, and ``st.cache_data`` keys its results on it: each publish writes a new versioned file,
so a new publish is a new key and is picked up without restarting Streamlit. Results are cached,
never connections (DESIGN.md): each query opens the file read-only, runs, and closes it.

The file is opened by the exact path the page resolved rather than through
``tradelane.published.connect_published``, which re-reads the pointer: that way every query of one
page render reads the same copy even if a publish lands mid-render, and a cached result is always
the data of the file it is keyed on.

SQL stays lowercase and portable (no ``filter``, no DuckDB-only functions) so it can move to a
server warehouse with the marts. Amounts stay ``Decimal`` (polars ``Decimal``); nothing here
adds amounts of different currencies.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl
import streamlit as st

ORDERS_TABLE = "marts.fct_orders"
ROUTING_TABLE = "actions.order_routing"
RECENT_ORDERS_LIMIT = 50

# A few copies may be alive at once (KEEP_VERSIONS in tradelane.published); older keys age out.
_MAX_ENTRIES = 8


def _fetch(published_file: str, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
    """Run one query on a short-lived read-only connection; timestamps come back in UTC."""
    with duckdb.connect(published_file, read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, list(params)).pl()


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def published_tables(published_file: str) -> frozenset[str]:
    """``schema.table`` names in the copy, so a page can explain a missing table instead of
    failing (a copy published before the actions ran has no ``actions`` schema)."""
    frame = _fetch(
        published_file,
        """
        select table_schema || '.' || table_name as qualified_name
        from information_schema.tables
        """,
    )
    return frozenset(frame["qualified_name"].to_list())


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def order_counts(published_file: str) -> pl.DataFrame:
    """One row: ``orders``, ``awaiting_shipment`` and ``cancelled`` order counts."""
    return _fetch(
        published_file,
        """
        select
            count(*) as orders,
            coalesce(sum(case when is_awaiting_shipment then 1 else 0 end), 0)
                as awaiting_shipment,
            coalesce(sum(case when is_cancelled then 1 else 0 end), 0) as cancelled
        from marts.fct_orders
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def revenue_by_currency(published_file: str) -> pl.DataFrame:
    """``currency_code``, ``orders``, ``revenue``: sum of ``total_amount`` of non-cancelled
    orders, one row per shop currency."""
    return _fetch(
        published_file,
        """
        select
            currency_code,
            count(*) as orders,
            sum(total_amount) as revenue
        from marts.fct_orders
        where not coalesce(is_cancelled, false)
        group by currency_code
        order by currency_code
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def revenue_by_channel(published_file: str) -> pl.DataFrame:
    """``channel``, ``currency_code``, ``orders``, ``revenue`` of non-cancelled orders."""
    return _fetch(
        published_file,
        """
        select
            channel,
            currency_code,
            count(*) as orders,
            sum(total_amount) as revenue
        from marts.fct_orders
        where not coalesce(is_cancelled, false)
        group by channel, currency_code
        order by currency_code, revenue desc, channel
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def revenue_by_country(published_file: str) -> pl.DataFrame:
    """``destination_country_code``, ``currency_code``, ``orders``, ``revenue`` of non-cancelled
    orders."""
    return _fetch(
        published_file,
        """
        select
            destination_country_code,
            currency_code,
            count(*) as orders,
            sum(total_amount) as revenue
        from marts.fct_orders
        where not coalesce(is_cancelled, false)
        group by destination_country_code, currency_code
        order by currency_code, revenue desc, destination_country_code
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def routing_counts(published_file: str) -> pl.DataFrame:
    """One row: ``orders`` awaiting shipment with a routing decision, and how many of them are
    ``unroutable`` (no warehouse can ship them; a null ``is_routable`` counts as unroutable)."""
    return _fetch(
        published_file,
        """
        select
            count(*) as orders,
            coalesce(sum(case when is_routable then 0 else 1 end), 0) as unroutable
        from actions.order_routing
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def routing_decisions(published_file: str) -> pl.DataFrame:
    """Every routing decision, unroutable orders first, then oldest order first: the order an
    operator should work through them."""
    return _fetch(
        published_file,
        """
        with routing as (
            select * from actions.order_routing
        ),

        orders as (
            select order_id, ordered_at from marts.fct_orders
        ),

        final as (
            select
                routing.order_id,
                routing.order_name,
                routing.channel,
                routing.store_id,
                routing.destination_country_code,
                coalesce(routing.is_routable, false) as is_routable,
                routing.warehouse_code,
                routing.rule_name,
                routing.reason,
                routing.distance_km,
                orders.ordered_at,
                routing.decided_at,
                routing.rules_version
            from routing
            left join orders on orders.order_id = routing.order_id
        )

        select * from final
        order by
            case when is_routable then 1 else 0 end,
            ordered_at,
            order_id
        """,
    )


@st.cache_data(max_entries=_MAX_ENTRIES, show_spinner=False)
def recent_orders(published_file: str, limit: int = RECENT_ORDERS_LIMIT) -> pl.DataFrame:
    """The ``limit`` most recently placed orders, newest first."""
    return _fetch(
        published_file,
        """
        select
            order_id,
            order_name,
            channel,
            store_id,
            ordered_at,
            destination_country_code,
            financial_status,
            coalesce(fulfillment_status, 'unfulfilled') as fulfillment_status,
            is_cancelled,
            item_quantity,
            total_amount,
            currency_code
        from marts.fct_orders
        order by ordered_at desc, order_id desc
        limit ?
        """,
        [limit],
    )
