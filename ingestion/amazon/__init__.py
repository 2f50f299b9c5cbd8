"""Amazon SP-API Orders v0 source: orders and their items into ``raw_amazon``.

Incremental on ``LastUpdateDate`` with a lookback window, merged on primary keys, loaded as
Arrow tables. Items are fetched (getOrderItems) only for orders that are new or changed since
the last run: an order re-read inside the lookback window with the same ``LastUpdateDate`` keeps
the items already loaded, because SP-API's one-request-per-order item calls are the slow part of
a run (0.5 requests/s published).

Point it at a real seller account with ``SOURCES__AMAZON__ENDPOINT``,
``SOURCES__AMAZON__ACCESS_TOKEN``, ``SOURCES__AMAZON__MARKETPLACE_IDS`` and
``SOURCES__AMAZON__SELLER_ID`` (dlt config/secrets); by default it reads the sandbox. The LWA
token exchange is not done here (see ``settings``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
import orjson

from ingestion.amazon import settings
from ingestion.amazon.client import iter_order_items, iter_order_pages, make_client
from ingestion.amazon.parsers import (
    OrderRef,
    ParsedPage,
    parse_order_items,
    parse_orders,
    to_page,
)
from ingestion.common.concurrency import RequestPool
from ingestion.common.http import ApiClient, ApiError, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.source_parts import MERGE, quarantine_transformer
from ingestion.common.versions import LoadedVersions
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "orders_last_update_cursor"
# {AmazonOrderId: LastUpdateDate} of orders inside the lookback window whose items are loaded.
ITEMS_STATE_KEY = "items_loaded_at"


@dlt.source(name="amazon", max_table_nesting=0)
def amazon_source(
    endpoint: str | None = dlt.config.value,
    access_token: str | None = dlt.secrets.value,
    marketplace_ids: str | None = dlt.config.value,
    seller_id: str | None = dlt.config.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    page_size: int = settings.PAGE_SIZE,
    orders_rate_per_s: float = settings.GET_ORDERS_RATE,
    orders_burst: float = settings.GET_ORDERS_BURST,
    items_rate_per_s: float = settings.GET_ORDER_ITEMS_RATE,
    items_burst: float = settings.GET_ORDER_ITEMS_BURST,
    item_request_workers: int = settings.ITEM_REQUEST_WORKERS,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Orders and order items of one seller's marketplaces (the sandbox unless configured).

    A page's getOrderItems calls overlap on ``item_request_workers`` threads, all paced by the
    one getOrderItems token bucket; the items come back in the page's order."""
    endpoint = endpoint or tradelane_settings.sandbox_url()
    access_token = access_token or settings.SANDBOX_ACCESS_TOKEN
    marketplaces = marketplace_list(marketplace_ids)
    sellers = seller_map(seller_id, marketplaces)
    options = client_options or {}

    def orders_client() -> ApiClient:
        return make_client(
            endpoint, access_token, "getOrders", orders_rate_per_s, orders_burst, stats, **options
        )

    def items_client() -> ApiClient:
        return make_client(
            endpoint, access_token, "getOrderItems", items_rate_per_s, items_burst, stats, **options
        )

    @dlt.resource(name="order_pages", selected=False)
    def order_pages() -> Iterator[ParsedPage]:
        """getOrders pages, parsed, each with the items of its new or changed orders; the
        transformers below pick their table from each page.

        The cursor and the record of loaded items live in this resource's state and are
        committed by dlt together with the load package, so a killed run resumes from the last
        *loaded* cursor, never past it.
        """
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = cursor - timedelta(seconds=lookback_seconds)
        loaded = LoadedVersions(state, ITEMS_STATE_KEY, lookback_seconds)
        with (
            orders_client() as orders_api,
            items_client() as items_api,
            RequestPool(item_request_workers) as pool,
        ):
            for page in iter_order_pages(orders_api, marketplaces, amazon_time(since), page_size):
                parsed = parse_orders(page, sellers)
                # Unchanged since its items were loaded (a lookback re-read), or served twice in
                # this walk (a page boundary repeated): its items are already here.
                wanted = [
                    order
                    for order in unique_versions(parsed.refs)
                    if not loaded.is_loaded(order.amazon_order_id, order.last_update_date)
                ]
                fetched = pool.map(lambda order: fetch_order_items(items_api, order), wanted)
                item_rows: list[dict[str, Any]] = []
                for order, pages in zip(wanted, fetched, strict=True):
                    if isinstance(pages, ApiError):
                        # Listed by getOrders, unknown to getOrderItems: one order's problem,
                        # not the run's. Recorded, and asked again while in the window.
                        payload = {"AmazonOrderId": order.amazon_order_id}
                        parsed.quarantine.add(
                            "order_items", payload, str(pages), payload["AmazonOrderId"]
                        )
                        continue
                    for items in pages:
                        item_rows += parse_order_items(items, order, parsed.quarantine)
                    loaded.mark(order.amazon_order_id, order.last_update_date)
                if parsed.max_last_update_date is not None and parsed.max_last_update_date > cursor:
                    cursor = parsed.max_last_update_date
                    state[CURSOR_STATE_KEY] = cursor.isoformat()
                loaded.prune(cursor)
                yield to_page(parsed, item_rows)
        loaded.save(cursor)

    @dlt.transformer(
        data_from=order_pages,
        name="orders",
        primary_key="amazon_order_id",
        write_disposition=MERGE,
        columns={"last_update_date": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def orders(page: ParsedPage) -> Any:
        """One row per Amazon order, the latest version wins."""
        if page.orders.num_rows:
            yield page.orders

    @dlt.transformer(
        data_from=order_pages,
        name="order_items",
        primary_key=["amazon_order_id", "order_item_id"],
        write_disposition=MERGE,
        columns={"order_last_update_date": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def order_items(page: ParsedPage) -> Any:
        """One row per order item, from the latest version of its order."""
        if page.order_items.num_rows:
            yield page.order_items

    quarantine = quarantine_transformer(order_pages)

    return order_pages, orders, order_items, quarantine


def unique_versions(refs: Sequence[OrderRef]) -> list[OrderRef]:
    """The page's orders, each version once: a page can list an order twice (a repeated page
    boundary), and its items are fetched once."""
    seen: set[tuple[str, datetime]] = set()
    out = []
    for ref in refs:
        key = (ref.amazon_order_id, ref.last_update_date)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def fetch_order_items(client: ApiClient, order: OrderRef) -> list[Any] | ApiError:
    """Every ``OrderItems`` page of one order, or the 404 that says getOrderItems does not know
    it (returned, not raised, so the caller records it and goes on); any other error is raised
    and fails the run."""
    try:
        return list(iter_order_items(client, order.amazon_order_id))
    except ApiError as exc:
        if exc.status != 404:
            raise
        return exc


def marketplace_list(value: Any) -> list[str]:
    """Marketplace ids from config: a TOML list (which dlt hands over as JSON text), a JSON
    list or a comma-separated string in an environment variable, or a Python list; the four
    sandbox marketplaces when unset."""
    if isinstance(value, str) and value.strip().startswith("["):
        value = orjson.loads(value)
    if value is None or value == "" or value == []:
        return list(settings.DEFAULT_MARKETPLACE_IDS)
    items: Sequence[Any] = value.split(",") if isinstance(value, str) else value
    ids = [str(v).strip() for v in items if str(v).strip()]
    if not ids:
        raise ValueError("sources.amazon.marketplace_ids holds no marketplace id")
    return ids


def seller_map(value: Any, marketplaces: Sequence[str]) -> dict[str, str]:
    """Marketplace id -> seller id (``store_id``) from config: one id for every marketplace
    (a real endpoint serves one region, one seller), or a mapping (a TOML table, which dlt hands
    over as JSON text, or a JSON object); the sandbox's sellers when unset."""
    if value is None or value == "":
        return dict(settings.SANDBOX_SELLER_IDS)
    if isinstance(value, str) and value.strip().startswith("{"):
        value = orjson.loads(value)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return dict.fromkeys(marketplaces, str(value).strip())


def amazon_time(instant: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, to the second, as SP-API prints its own times."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
