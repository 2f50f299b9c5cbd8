"""Stripe source: balance transactions, charges, refunds, disputes and payouts into ``raw_stripe``.

Why these five: together they tie an order's payment to the money that reached the bank
(charge -> balance transaction with Stripe's fee -> payout), and refunds and disputes take it
back. Each list is read newest first from ``created[gte] = cursor - lookback``, so objects that
changed after creation (a payout paid, a dispute won) are re-read for a while; rows are merged
on Stripe's ``id``. One token bucket per run keeps to Stripe's published limit for the key's
mode. Point it at the real API with ``SOURCES__STRIPE__BASE_URL=https://api.stripe.com`` and
``SOURCES__STRIPE__API_KEY`` (dlt config/secrets); by default it reads the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt

from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.source_parts import MERGE, PageBatches, counted, quarantine_transformer
from ingestion.stripe import settings
from ingestion.stripe.client import iter_list_pages, make_client
from ingestion.stripe.parsers import ParsedPage, merge_pages, parse_page
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "created_cursors"


@dlt.source(name="stripe", max_table_nesting=0)
def stripe_source(
    api_key: str | None = dlt.secrets.value,
    base_url: str | None = dlt.config.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int | None = None,
    requests_per_second: float | None = None,
    burst: float | None = None,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Stripe's money movements of one account (the sandbox unless configured).

    ``lookback_seconds`` overrides every list's lookback (``settings.LOOKBACK_SECONDS``);
    ``requests_per_second`` overrides the published limit of the key's mode."""
    base_url = base_url or tradelane_settings.sandbox_url()
    api_key = api_key or settings.SANDBOX_API_KEY
    start = int(utc_timestamp(start_date, "start_date").timestamp())

    def client() -> ApiClient:
        return counted(
            make_client(base_url, api_key, requests_per_second, burst, **(client_options or {})),
            stats,
        )

    @dlt.resource(name="stripe_pages", selected=False)
    def stripe_pages() -> Iterator[ParsedPage]:
        """Parsed pages of every list, ``settings.BATCH_PAGES`` pages of one list at a time;
        the transformers below pick their table from each.

        One cursor per list (the newest ``created`` loaded), kept in this resource's state and
        committed by dlt with the load package. A list's cursor moves only once the whole list
        has been read: Stripe pages newest first, so a run stopped half-way must not skip the
        older half next time.
        """
        cursors: dict[str, int] = dlt.current.resource_state().setdefault(CURSOR_STATE_KEY, {})
        with client() as api:
            for table in settings.OBJECTS:
                cursor = cursors.get(table)
                lookback = (
                    lookback_seconds
                    if lookback_seconds is not None
                    else settings.LOOKBACK_SECONDS[table]
                )
                since = start if cursor is None else max(start, cursor - lookback)
                batches = PageBatches(merge_pages, settings.BATCH_PAGES, newest=cursor)
                pages = iter_list_pages(api, f"/v1/{table}", since, page_size)
                yield from batches.of(parse_page(table, objects) for objects in pages)
                if batches.newest is not None:
                    cursors[table] = batches.newest

    def table_resource(table: str) -> Any:
        @dlt.transformer(
            data_from=stripe_pages,
            name=table,
            primary_key="id",
            write_disposition=MERGE,
            schema_contract={"data_type": "freeze"},
        )
        def rows(page: ParsedPage) -> Any:
            """One row per Stripe object of this list, merged on its id."""
            if page.table == table and page.rows.num_rows:
                yield page.rows

        return rows

    quarantine = quarantine_transformer(stripe_pages)

    return (stripe_pages, *(table_resource(t) for t in settings.OBJECTS), quarantine)
