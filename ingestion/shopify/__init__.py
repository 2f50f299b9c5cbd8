"""Shopify Admin REST 2026-07 source: orders and their line items into ``raw_shopify``.

Incremental on ``updated_at`` with a lookback window, merged on primary keys, loaded as Arrow
tables. Point it at a real store with ``SOURCES__SHOPIFY__SHOP_URL`` and
``SOURCES__SHOPIFY__ACCESS_TOKEN`` (dlt config/secrets); by default it reads the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import dlt

from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE
from ingestion.shopify import settings
from ingestion.shopify.client import iter_order_pages, make_client
from ingestion.shopify.parsers import ParsedOrders, parse_orders
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "orders_updated_at_cursor"


@dlt.source(name="shopify", max_table_nesting=0)
def shopify_source(
    shop_url: str | None = dlt.config.value,
    access_token: str | None = dlt.secrets.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Orders and line items of one Shopify store (the sandbox unless configured)."""
    shop_url = shop_url or tradelane_settings.sandbox_url()
    access_token = access_token or settings.SANDBOX_ACCESS_TOKEN
    store_id = store_id_from_url(shop_url)

    def client() -> ApiClient:
        c = make_client(
            shop_url, access_token, requests_per_second, burst, **(client_options or {})
        )
        if stats is not None:
            c.stats = stats
        return c

    @dlt.resource(name="order_pages", selected=False)
    def order_pages() -> Iterator[ParsedOrders]:
        """Pages of parsed orders; the transformers below pick their table from each page.

        The cursor lives in this resource's state and is committed by dlt together with the
        load package, so a killed run resumes from the last *loaded* cursor, never past it.
        """
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = cursor - timedelta(seconds=lookback_seconds)
        with client() as api:
            for page in iter_order_pages(api, since.isoformat(), page_size):
                parsed = parse_orders(page, store_id)
                if parsed.max_updated_at is not None and parsed.max_updated_at > cursor:
                    cursor = parsed.max_updated_at
                    state[CURSOR_STATE_KEY] = cursor.isoformat()
                yield parsed

    @dlt.transformer(
        data_from=order_pages,
        name="orders",
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns={"updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def orders(page: ParsedOrders) -> Any:
        """One row per order, the latest version wins."""
        if page.orders.num_rows:
            yield page.orders

    @dlt.transformer(
        data_from=order_pages,
        name="order_line_items",
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns={"order_updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def order_line_items(page: ParsedOrders) -> Any:
        """One row per order line, from the latest version of its order."""
        if page.line_items.num_rows:
            yield page.line_items

    @dlt.transformer(data_from=order_pages, name=QUARANTINE_TABLE, **QUARANTINE_HINTS)
    def quarantine(page: ParsedOrders) -> Any:
        """Orders refused by the parser, with the reason and the raw payload."""
        if len(page.quarantine):
            yield page.quarantine.to_arrow()

    return order_pages, orders, order_line_items, quarantine


def store_id_from_url(shop_url: str) -> str:
    """``https://acme.myshopify.com`` -> ``acme.myshopify.com``; the sandbox gets its domain."""
    host = urlparse(shop_url).hostname or shop_url
    if host in {"127.0.0.1", "localhost"}:
        return settings.SANDBOX_SHOP_DOMAIN
    return host
