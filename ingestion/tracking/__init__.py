"""Tracking aggregator source (AfterShip-shaped): trackings and their checkpoints into
``raw_tracking``.

Incremental on ``updated_at`` with a lookback window, merged on primary keys, loaded as Arrow
tables. A tracking's checkpoints are replaced as a set whenever the tracking is re-read (merge
key ``tracking_id``): AfterShip resends the whole list, and a carrier that corrects a scan
shifts positions, so keying on position alone could leave a stale row behind.

Point it at a real AfterShip account with ``SOURCES__TRACKING__ENDPOINT`` and
``SOURCES__TRACKING__API_KEY`` (dlt config/secrets); by default it reads the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dlt

from ingestion.common.http import RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.source_parts import MERGE, quarantine_transformer
from ingestion.tracking import settings
from ingestion.tracking.client import iter_tracking_pages, make_client
from ingestion.tracking.columnar import DecodedPage, parse_pages
from ingestion.tracking.parsers import ParsedTrackings
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "trackings_updated_at_cursor"


def local_time_hint() -> dict[str, Any]:
    """Wall-clock times as the carrier printed them: a timestamp *without* time zone in the
    warehouse (dlt would otherwise store them as UTC instants, which they are not). A fresh
    dict per column: dlt writes the column name into the hint it is given."""
    return {"data_type": "timestamp", "timezone": False}


@dlt.source(name="tracking", max_table_nesting=0)
def tracking_source(
    endpoint: str | None = dlt.config.value,
    api_key: str | None = dlt.secrets.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Trackings and checkpoints of one AfterShip account (the sandbox unless configured)."""
    endpoint = endpoint or tradelane_settings.sandbox_url() + settings.API_PATH
    api_key = api_key or settings.SANDBOX_API_KEY

    @dlt.resource(name="tracking_pages", selected=False)
    def tracking_pages() -> Iterator[ParsedTrackings]:
        """Pages of parsed trackings, ``settings.BATCH_PAGES`` at a time (one column-wise pass
        per batch); the transformers below pick their table from each.

        The cursor lives in this resource's state and is committed by dlt together with the
        load package, so a killed run resumes from the last *loaded* cursor. Pages come newest
        *created* first, not in update order, so the cursor is only moved once the walk is
        complete, and never past the walk's start: anything changed while we walked is re-read
        next time.
        """
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = cursor - timedelta(seconds=lookback_seconds)
        newest, walk_start = None, None
        client = make_client(
            endpoint, api_key, requests_per_second, burst, stats, **(client_options or {})
        )
        batch: list[DecodedPage] = []

        def parsed_batch() -> ParsedTrackings:
            nonlocal newest
            parsed = parse_pages(batch)
            batch.clear()
            if parsed.max_updated_at is not None and (
                newest is None or parsed.max_updated_at > newest
            ):
                newest = parsed.max_updated_at
            return parsed

        with client:
            for page, started in iter_tracking_pages(client, since.isoformat(), page_size):
                walk_start = started
                batch.append(page)
                if len(batch) >= settings.BATCH_PAGES:
                    yield parsed_batch()
            if batch:
                yield parsed_batch()
        if newest is not None:
            if walk_start is not None:
                newest = min(newest, utc_timestamp(walk_start, "created_at_max"))
            if newest > cursor:
                state[CURSOR_STATE_KEY] = newest.isoformat()

    @dlt.transformer(
        data_from=tracking_pages,
        name="trackings",
        primary_key="tracking_id",
        write_disposition=MERGE,
        columns={
            "updated_at": {"dedup_sort": "desc"},
            "shipment_pickup_local": local_time_hint(),
            "shipment_delivery_local": local_time_hint(),
        },
        schema_contract={"data_type": "freeze"},
    )
    def trackings(page: ParsedTrackings) -> Any:
        """One row per tracking (shipment), the latest version wins."""
        if page.trackings.num_rows:
            yield page.trackings

    @dlt.transformer(
        data_from=tracking_pages,
        name="checkpoints",
        primary_key=["tracking_id", "seq"],
        merge_key="tracking_id",
        write_disposition=MERGE,
        columns={
            "tracking_updated_at": {"dedup_sort": "desc"},
            "checkpoint_local_time": local_time_hint(),
        },
        schema_contract={"data_type": "freeze"},
    )
    def checkpoints(page: ParsedTrackings) -> Any:
        """One row per carrier scan, from the latest version of its tracking."""
        if page.checkpoints.num_rows:
            yield page.checkpoints

    quarantine = quarantine_transformer(tracking_pages)

    return tracking_pages, trackings, checkpoints, quarantine
