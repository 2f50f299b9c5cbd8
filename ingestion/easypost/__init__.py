"""EasyPost source: the labels the seller bought (postage, label fees) and the duties and
import taxes carriers billed for DDP parcels, into ``raw_easypost.shipments``.

Why: margin after shipping and duties needs what the seller paid carriers and customs, which
only the label platform knows. Shipments are read newest first from
``start_datetime = cursor - lookback`` (``settings.LOOKBACK_SECONDS``: duties are billed after
the label is bought), merged on EasyPost's ``id``. The cursor (newest ``created_at`` loaded)
moves only once the whole list is read. Point it at the real API with
``SOURCES__EASYPOST__BASE_URL=https://api.easypost.com`` and ``SOURCES__EASYPOST__API_KEY``;
by default it reads the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt

from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.source_parts import MERGE, PageBatches, counted, quarantine_transformer
from ingestion.easypost import settings
from ingestion.easypost.client import iter_shipment_pages, make_client
from ingestion.easypost.parsers import ParsedPage, merge_pages, parse_page
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "created_cursor"


@dlt.source(name="easypost", max_table_nesting=0)
def easypost_source(
    api_key: str | None = dlt.secrets.value,
    base_url: str | None = dlt.config.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    requests_per_second: float | None = None,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Bought shipments of one EasyPost account (the sandbox unless configured)."""
    base_url = base_url or tradelane_settings.sandbox_url()
    api_key = api_key or settings.SANDBOX_API_KEY
    start = utc_timestamp(start_date, "start_date")

    def client() -> ApiClient:
        return counted(
            make_client(base_url, api_key, requests_per_second, **(client_options or {})), stats
        )

    @dlt.resource(name="easypost_pages", selected=False)
    def easypost_pages() -> Iterator[ParsedPage]:
        """Parsed shipment pages, ``settings.BATCH_PAGES`` at a time."""
        state = dlt.current.resource_state()
        cursor = state.get(CURSOR_STATE_KEY)
        since = start
        if cursor is not None:
            since = max(start, datetime.fromisoformat(cursor) - timedelta(seconds=lookback_seconds))
        batches = PageBatches(merge_pages, settings.BATCH_PAGES)
        with client() as api:
            pages = (parse_page(records) for records in iter_shipment_pages(api, since, page_size))
            yield from batches.of(pages)
        newest: datetime | None = batches.newest
        if newest is not None and (cursor is None or newest.isoformat() > cursor):
            state[CURSOR_STATE_KEY] = newest.isoformat()

    @dlt.transformer(
        data_from=easypost_pages,
        name="shipments",
        primary_key="id",
        write_disposition=MERGE,
        schema_contract={"data_type": "freeze"},
    )
    def shipments(page: ParsedPage) -> Any:
        """One row per bought label, merged on EasyPost's shipment id."""
        if page.rows.num_rows:
            yield page.rows

    return easypost_pages, shipments, quarantine_transformer(easypost_pages)
