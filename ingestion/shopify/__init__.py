"""Shopify Admin source: orders and their line items into ``raw_shopify``, and with ``finance``
on, each order's refunds and fulfillments, the transactions of orders updated since the cursor,
and the store's Shopify Payments payouts.

Refunds (with their refund transactions) and fulfillments come complete inside each order, so
they are parsed from the order pages (REST 2026-07). Transactions are read one of two ways
(``transactions_via``):

- ``bulk`` (default): one GraphQL Admin bulk operation over every order updated since the
  cursor, whatever their number (``bulk.py``): a mutation, a few polls, one download.
- ``rest``: one ``/orders/{id}/transactions.json`` request per new or changed order, skipped
  for an order re-read in the lookback window with the ``updated_at`` its transactions were
  loaded at (a new transaction updates the order).

Both give the same rows. A transaction a refund carries is also in the transactions list; the
refund's copy is kept (it is the complete REST object: GraphQL has no ``message``).

An order the parser refuses is quarantined, but its refunds, fulfillments and transactions are
loaded when they are valid themselves: they carry the order's id, so nothing of the store's
money goes missing because of one bad order field (the mart's relationship tests warn about the
orphans).

Incremental on ``updated_at`` with a lookback window, merged on primary keys, loaded as Arrow
tables. Every REST call goes through one client and one token bucket, because Shopify counts all
of a token's calls in one bucket. Point it at a real store with ``SOURCES__SHOPIFY__SHOP_URL``
and ``SOURCES__SHOPIFY__ACCESS_TOKEN`` (dlt config/secrets); by default it reads the sandbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

import dlt

from ingestion.common.concurrency import RequestPool
from ingestion.common.http import ApiClient, ApiError, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.prefetch import prefetched
from ingestion.common.source_parts import MERGE, counted, quarantine_transformer
from ingestion.common.versions import LoadedVersions
from ingestion.shopify import settings
from ingestion.shopify.bulk import BulkRunner, BulkTransactions, parse_bulk_transactions
from ingestion.shopify.client import (
    fetch_order_transactions,
    iter_order_pages,
    iter_payout_pages,
    make_client,
)
from ingestion.shopify.columnar import DecodedOrders, decode_page, parse_pages
from ingestion.shopify.finance_parsers import (
    ParsedFinance,
    parse_order_finance,
    parse_payouts,
)
from ingestion.shopify.parsers import ParsedOrders
from tradelane import settings as tradelane_settings

log = logging.getLogger(__name__)

CURSOR_STATE_KEY = "orders_updated_at_cursor"
# {order id: updated_at} of orders inside the lookback window whose transactions are loaded.
TRANSACTIONS_STATE_KEY = "transactions_loaded_at"
PAYOUTS_CURSOR_STATE_KEY = "payouts_date_cursor"


@dlt.source(name="shopify", max_table_nesting=0)
def shopify_source(
    shop_url: str | None = dlt.config.value,
    access_token: str | None = dlt.secrets.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    finance: bool = settings.FINANCE,
    payouts_start_date: str = settings.PAYOUTS_DEFAULT_START,
    payouts_lookback_days: int = settings.PAYOUTS_LOOKBACK_DAYS,
    transaction_request_workers: int = settings.TRANSACTION_REQUEST_WORKERS,
    transactions_via: str = settings.TRANSACTIONS_VIA,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Orders and line items of one Shopify store (the sandbox unless configured), and its
    finance records when ``finance`` is on, transactions read through one bulk operation
    (``transactions_via="bulk"``) or a request per order (``"rest"``: a page's calls overlap
    on ``transaction_request_workers`` threads, all paced by the store's one token bucket)."""
    if transactions_via not in settings.TRANSACTIONS_VIA_CHOICES:
        raise ValueError(
            f"shopify: transactions_via must be one of {settings.TRANSACTIONS_VIA_CHOICES}, "
            f"not {transactions_via!r}"
        )
    by_request = transactions_via == "rest"
    shop_url = shop_url or tradelane_settings.sandbox_url()
    access_token = access_token or settings.SANDBOX_ACCESS_TOKEN
    store_id = store_id_from_url(shop_url)

    def client() -> ApiClient:
        return counted(
            make_client(
                shop_url, access_token, requests_per_second, burst, **(client_options or {})
            ),
            stats,
        )

    @dlt.resource(name="order_pages", selected=False)
    def order_pages() -> Iterator[ParsedOrders | ParsedFinance | BulkTransactions]:
        """Batches of ``settings.BATCH_PAGES`` order pages, decoded column-wise on the
        prefetch thread and parsed together (``columnar.py``), and with ``finance`` the finance
        records of each batch's orders and then the payouts; the transformers below pick their
        table from each item.

        The cursors live in this resource's state and are committed by dlt together with the
        load package, so a killed run resumes from the last *loaded* cursor, never past it.
        """
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = cursor - timedelta(seconds=lookback_seconds)
        loaded = LoadedVersions(state, TRANSACTIONS_STATE_KEY, lookback_seconds)
        # Ids of the transactions the pages' refunds carried (their copy is kept).
        from_refunds: list[int] = []
        # The next page travels (and is decoded) while this one is parsed
        # (``ingestion.common.prefetch``); the pages close
        # before the client, so no read is left in flight on a closed client.
        with (
            client() as api,
            RequestPool(transaction_request_workers) as pool,
            closing(
                prefetched(iter_order_pages(api, since.isoformat(), page_size, decode=decode_page))
            ) as pages,
        ):
            for batch in _batches(pages, settings.BATCH_PAGES):
                parsed = parse_pages(batch, store_id)
                if parsed.max_updated_at is not None and parsed.max_updated_at > cursor:
                    cursor = parsed.max_updated_at
                    state[CURSOR_STATE_KEY] = cursor.isoformat()
                yield parsed
                if finance:
                    found = _batch_finance(
                        api, pool if by_request else None, batch, parsed, store_id, loaded
                    )
                    if not by_request:
                        from_refunds += [t["id"] for t in found.rows["transactions"]]
                    yield found
                    loaded.prune(cursor)
            if finance and by_request:
                loaded.save(cursor)
            elif finance:
                # Started after the pages, over the same window: it sees every order they
                # listed, at that version or a later one.
                result = parse_bulk_transactions(BulkRunner(api).run(since.isoformat()), store_id)
                yield result.without(from_refunds)
            if finance:
                yield from _payouts(api, state)

    def _payouts(api: ApiClient, state: Any) -> Iterator[ParsedFinance]:
        """Payouts dated from (newest loaded date - lookback); a store without Shopify Payments
        answers 404, which means there is nothing to load, not that the run failed."""
        loaded = state.get(PAYOUTS_CURSOR_STATE_KEY)
        newest = None if loaded is None else date.fromisoformat(loaded)
        since = (
            date.fromisoformat(payouts_start_date)
            if newest is None
            else newest - timedelta(days=payouts_lookback_days)
        )
        try:
            for page in iter_payout_pages(api, since.isoformat(), page_size):
                parsed = parse_payouts(page, store_id)
                if parsed.max_payout_date is not None and (
                    newest is None or parsed.max_payout_date > newest
                ):
                    newest = parsed.max_payout_date
                yield parsed
        except ApiError as exc:
            if exc.status != 404:
                raise
            log.warning("shopify: no Shopify Payments payouts on this store (%s)", exc)
            return
        # Payouts are listed newest first: move the cursor only once every page was read.
        if newest is not None:
            state[PAYOUTS_CURSOR_STATE_KEY] = newest.isoformat()

    @dlt.transformer(
        data_from=order_pages,
        name="orders",
        primary_key="id",
        write_disposition=MERGE,
        columns={"updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def orders(page: ParsedOrders | ParsedFinance | BulkTransactions) -> Any:
        """One row per order, the latest version wins."""
        if isinstance(page, ParsedOrders) and page.orders.num_rows:
            yield page.orders

    @dlt.transformer(
        data_from=order_pages,
        name="order_line_items",
        primary_key="id",
        write_disposition=MERGE,
        columns={"order_updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def order_line_items(page: ParsedOrders | ParsedFinance | BulkTransactions) -> Any:
        """One row per order line, from the latest version of its order."""
        if isinstance(page, ParsedOrders) and page.line_items.num_rows:
            yield page.line_items

    def finance_table(name: str, hints: dict[str, Any]) -> Any:
        @dlt.transformer(
            data_from=order_pages,
            name=name,
            write_disposition=MERGE,
            schema_contract={"data_type": "freeze"},
            **hints,
        )
        def rows(page: ParsedOrders | ParsedFinance | BulkTransactions) -> Any:
            """Rows of one finance table (see ``finance_parsers``), merged on its key."""
            if isinstance(page, ParsedFinance) and page.rows[name]:
                yield page.table(name)
            elif isinstance(page, BulkTransactions) and name == "transactions":
                if page.table.num_rows:
                    yield page.table

        return rows

    finance_tables = (
        # Order transactions: sales, captures, refunds, voids, with gateway and amount.
        finance_table("transactions", {"primary_key": "id"}),
        finance_table("refunds", {"primary_key": "id"}),
        # A re-read refund or fulfillment replaces all its child rows (merge_key), so a line
        # or tracking number Shopify no longer lists does not linger.
        finance_table(
            "refund_line_items",
            {"primary_key": "id", "merge_key": "refund_id"},
        ),
        finance_table(
            "fulfillments",
            {"primary_key": "id", "columns": {"updated_at": {"dedup_sort": "desc"}}},
        ),
        finance_table(
            "fulfillment_tracking_numbers",
            {
                "primary_key": ["fulfillment_id", "tracking_position"],
                "merge_key": "fulfillment_id",
                "columns": {"fulfillment_updated_at": {"dedup_sort": "desc"}},
            },
        ),
        finance_table(
            "fulfillment_line_items",
            {
                "primary_key": ["fulfillment_id", "line_item_id"],
                "merge_key": "fulfillment_id",
                "columns": {"fulfillment_updated_at": {"dedup_sort": "desc"}},
            },
        ),
        finance_table("payouts", {"primary_key": "id"}),
    )

    quarantine = quarantine_transformer(order_pages)

    if not finance:
        return order_pages, orders, order_line_items, quarantine
    return order_pages, orders, order_line_items, *finance_tables, quarantine


def _batches(pages: Iterator[DecodedOrders], size: int) -> Iterator[list[DecodedOrders]]:
    """``pages`` in lists of ``size`` (the last may be shorter)."""
    batch: list[DecodedOrders] = []
    for page in pages:
        batch.append(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _batch_finance(
    api: ApiClient,
    pool: RequestPool | None,
    pages: list[DecodedOrders],
    parsed: ParsedOrders,
    store_id: str,
    loaded: LoadedVersions,
) -> ParsedFinance:
    """The finance records of a batch of order pages.

    Refunds and fulfillments are read from the column-wise decode (the fields their parsers
    read); if any is refused, the batch is parsed again from its own JSON, so the quarantine
    holds each refused record as Shopify sent it. With a ``pool`` (the REST path, which
    fetches each order's transactions once) the orders come from their JSON directly."""

    def orders(raw: bool) -> list[Any]:
        return [o for page in pages for o in (page.raw_orders() if raw else page.finance_orders())]

    if pool is not None:
        return _order_finance(api, pool, orders(raw=True), parsed, store_id, loaded)
    found = _order_finance(api, None, orders(raw=False), parsed, store_id, loaded)
    if found.quarantine.rows:
        found = _order_finance(api, None, orders(raw=True), parsed, store_id, loaded)
    return found


def _order_finance(
    api: ApiClient,
    pool: RequestPool | None,
    page: list[Any],
    parsed: ParsedOrders,
    store_id: str,
    loaded: LoadedVersions,
) -> ParsedFinance:
    """Refunds and fulfillments of the page's orders, from the orders themselves, and with a
    ``pool`` (the REST path) the transactions of those that are new or changed, fetched on it.

    An order the parser refused is in the quarantine, but its finance records are read all the
    same (its transactions too, when it still has a usable id): each is judged on its own. An
    order listed twice on the page has its transactions read once."""
    versions = dict(
        zip(
            parsed.orders.column("id").to_pylist(),
            parsed.orders.column("updated_at").to_pylist(),
            strict=True,
        )
    )
    orders = [order for order in page if isinstance(order, dict)]
    wanted = (
        []
        if pool is None
        else list(
            dict.fromkeys(
                order["id"]
                for order in orders
                if _usable_id(order.get("id"))
                and (
                    order["id"] not in versions
                    or not loaded.is_loaded(order["id"], versions[order["id"]])
                )
            )
        )
    )
    fetched = (
        {}
        if pool is None
        else dict(
            zip(
                wanted,
                pool.map(lambda oid: fetch_order_transactions(api, oid), wanted),
                strict=True,
            )
        )
    )
    finance = ParsedFinance()
    for order in orders:
        order_id = order.get("id")
        transactions: list[Any] = []
        if _usable_id(order_id) and order_id in fetched:  # its first listing on the page
            result = fetched.pop(order_id)
            if result is None:
                log.warning(
                    "shopify: order %s vanished before its transactions were read", order_id
                )
            else:
                transactions = result
                if order_id in versions:
                    loaded.mark(order_id, versions[order_id])
        parse_order_finance(
            transactions,
            order.get("refunds") or [],
            order.get("fulfillments") or [],
            store_id,
            finance,
        )
    # A refund's transaction is also in the order's transactions list: keep one row per id,
    # the refund's (parsed last), the same copy the bulk path keeps.
    finance.rows["transactions"] = list(
        {row["id"]: row for row in finance.rows["transactions"]}.values()
    )
    return finance


def _usable_id(value: Any) -> bool:
    """An order id a URL can be built from (a quarantined order may have lost it)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def store_id_from_url(shop_url: str) -> str:
    """``https://acme.myshopify.com`` -> ``acme.myshopify.com``; the sandbox gets its domain."""
    host = urlparse(shop_url).hostname or shop_url
    if host in {"127.0.0.1", "localhost"}:
        return settings.SANDBOX_SHOP_DOMAIN
    return host
