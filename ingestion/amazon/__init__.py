"""Amazon SP-API source: orders (Orders v0 getOrders) and their items into ``raw_amazon``.

Incremental on ``LastUpdateDate`` with a lookback window, merged on primary keys, loaded as
Arrow tables. Items come one of two ways (``items_via``, ``SOURCES__AMAZON__ITEMS_VIA``):

- ``reports`` (default): the All Orders report of the Reports API, one per marketplace, asked
  for when the run starts (Amazon builds it while getOrders is walked), from its own cursor
  minus the lookback (``reports``). A few requests per marketplace whatever the volume.
- ``orders_api``: getOrderItems, only for orders that are new or changed since the last run (an
  order re-read inside the lookback window with the same ``LastUpdateDate`` keeps the items
  already loaded), because these one-request-per-order calls are the slow part of such a run
  (0.5 requests/s published).

Orders always come from getOrders: the report lacks what ``orders`` holds (OrderTotal, the
marketplace id, the flags), and getOrders costs one request per hundred orders.

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

from ingestion.amazon import reports, settings
from ingestion.amazon.client import iter_order_items, iter_order_pages, make_client
from ingestion.amazon.parsers import (
    OrderRef,
    ParsedOrders,
    ParsedPage,
    parse_order_items,
    parse_orders,
    to_page,
)
from ingestion.common.concurrency import RequestPool
from ingestion.common.http import ApiClient, ApiError, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.rate_limit import TokenBucket
from ingestion.common.source_parts import MERGE, quarantine_transformer
from ingestion.common.versions import LoadedVersions
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "orders_last_update_cursor"
# {AmazonOrderId: LastUpdateDate} of orders inside the lookback window whose items are loaded.
ITEMS_STATE_KEY = "items_loaded_at"
# dataEndTime of the last All Orders reports loaded (items_via=reports).
REPORT_CURSOR_STATE_KEY = "report_items_cursor"


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
    items_via: str = settings.DEFAULT_ITEMS_VIA,
    reports_rate_per_s: float | None = None,
    report_poll_initial_s: float = settings.REPORT_POLL_INITIAL_S,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Orders and order items of one seller's marketplaces (the sandbox unless configured).

    With ``items_via="orders_api"``, a page's getOrderItems calls overlap on
    ``item_request_workers`` threads, all paced by the one getOrderItems token bucket; the items
    come back in the page's order. With ``"reports"``, ``reports_rate_per_s`` (when given)
    replaces the published rates of the three Reports operations, as the other rates do."""
    items_via = reports.check_items_via(items_via)
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

    def reports_client(operation: str, rate: float, burst: float) -> ApiClient:
        rate = reports_rate_per_s or rate
        return make_client(endpoint, access_token, operation, rate, burst, stats, **options)

    def report_pages() -> Iterator[ParsedPage]:
        """Order items from one All Orders report per marketplace, read from the report
        cursor minus the lookback; the cursor moves to the reports' end once all are read."""
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(REPORT_CURSOR_STATE_KEY, start_date), "report cursor")
        since = amazon_time(cursor - timedelta(seconds=lookback_seconds))
        with (
            reports_client(
                "createReport", settings.CREATE_REPORT_RATE, settings.CREATE_REPORT_BURST
            ) as create_api,
            reports_client(
                "getReport", settings.GET_REPORT_RATE, settings.GET_REPORT_BURST
            ) as poll_api,
            reports_client(
                "getReportDocument",
                settings.GET_REPORT_DOCUMENT_RATE,
                settings.GET_REPORT_DOCUMENT_BURST,
            ) as document_api,
            _download_client(stats, options) as download_api,
        ):
            report_ids = reports.create_reports(create_api, marketplaces, since)
            yield from orders_only_pages()
            finished = reports.wait_for_reports(
                poll_api, report_ids, poll_initial_s=report_poll_initial_s
            )
            for report in finished:
                store_id = sellers.get(report.marketplace_id)
                for items, quarantine in reports.report_items(
                    document_api, download_api, report, store_id
                ):
                    yield ParsedPage(_NO_ORDERS, items, quarantine, None)
        end = reports.report_window_end(finished)
        if end is not None and end > cursor:
            state[REPORT_CURSOR_STATE_KEY] = end.isoformat()

    def orders_only_pages() -> Iterator[ParsedPage]:
        """getOrders pages without their items (the reports bring those)."""
        with orders_client() as orders_api:
            for parsed, _ in order_walk(orders_api):
                yield to_page(parsed, [])

    def order_walk(orders_api: ApiClient) -> Iterator[tuple[ParsedOrders, datetime]]:
        """getOrders pages from the orders cursor minus the lookback, parsed, each with the
        cursor after it (already in the resource state)."""
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = cursor - timedelta(seconds=lookback_seconds)
        for page in iter_order_pages(orders_api, marketplaces, amazon_time(since), page_size):
            parsed = parse_orders(page, sellers)
            if parsed.max_last_update_date is not None and parsed.max_last_update_date > cursor:
                cursor = parsed.max_last_update_date
                state[CURSOR_STATE_KEY] = cursor.isoformat()
            yield parsed, cursor

    @dlt.resource(name="order_pages", selected=False)
    def order_pages() -> Iterator[ParsedPage]:
        """Parsed pages, each holding orders, items or both; the transformers below pick their
        table from each page. Cursors live in this resource's state and are committed by dlt
        together with the load package, so a killed run resumes from the last *loaded* cursor,
        never past it."""
        if items_via == "reports":
            yield from report_pages()
        else:
            yield from order_api_pages()

    def order_api_pages() -> Iterator[ParsedPage]:
        """getOrders pages, parsed, each with the items of its new or changed orders; the
        transformers below pick their table from each page.

        The cursor and the record of loaded items live in this resource's state and are
        committed by dlt together with the load package, so a killed run resumes from the last
        *loaded* cursor, never past it.
        """
        loaded = LoadedVersions(dlt.current.resource_state(), ITEMS_STATE_KEY, lookback_seconds)
        cursor = None
        with (
            orders_client() as orders_api,
            items_client() as items_api,
            RequestPool(item_request_workers) as pool,
        ):
            for parsed, cursor in order_walk(orders_api):
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
                loaded.prune(cursor)
                yield to_page(parsed, item_rows)
        if cursor is not None:
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
        primary_key=["amazon_order_id", "seller_sku"],
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


_NO_ORDERS = to_page(parse_orders([], {}), []).orders


def _download_client(stats: RequestStats | None, options: dict[str, Any]) -> ApiClient:
    """A client for report documents' pre-signed URLs: no access token (the URL belongs to a
    third party), no base URL, and no pacing beyond a generous bucket."""
    return ApiClient(
        api="amazon report document",
        base_url="",
        headers={},
        bucket=TokenBucket(rate_per_s=50.0, capacity=50.0),
        stats=stats or RequestStats(),
        **options,
    )


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
