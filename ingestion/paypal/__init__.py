"""PayPal source: Transaction Search (Reporting API v1) into ``raw_paypal``.

Why the reporting API: it is the one place PayPal lists every money movement of an account,
payments with their fees, refunds and withdrawals, and each payment carries the invoice and
custom ids that link it to the order. Read in windows of at most 31 days (PayPal's limit) from
``cursor - lookback`` up to PayPal's ``last_refreshed_datetime``; the cursor is the end of the
last window read completely, so late-arriving rows (PayPal's reporting lags by hours) are
picked up by the next run's lookback. Rows merge on ``transaction_id``; cart items replace
their transaction's items. Point it at the real API with ``SOURCES__PAYPAL__BASE_URL`` and
``SOURCES__PAYPAL__CLIENT_ID`` / ``SOURCES__PAYPAL__CLIENT_SECRET``; by default it reads the
sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from ingestion.common.http import RequestStats
from ingestion.common.parsing import utc_timestamp
from ingestion.common.source_parts import MERGE, quarantine_transformer
from ingestion.paypal import settings
from ingestion.paypal.client import PayPalClient, WindowDone, iter_search
from ingestion.paypal.parsers import ParsedTransactions, parse_transactions
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "loaded_until"


@dlt.source(name="paypal", max_table_nesting=0)
def paypal_source(
    client_id: str | None = dlt.secrets.value,
    client_secret: str | None = dlt.secrets.value,
    base_url: str | None = dlt.config.value,
    start_date: str | None = None,
    lookback_seconds: int = int(settings.LOOKBACK.total_seconds()),
    window_days: int = settings.MAX_WINDOW.days,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """PayPal transactions and their cart items (the sandbox unless configured).

    Without ``start_date`` the first run reads the three years PayPal keeps searchable."""
    base_url = base_url or tradelane_settings.sandbox_url()
    client_id = client_id or settings.SANDBOX_CLIENT_ID
    client_secret = client_secret or settings.SANDBOX_CLIENT_SECRET
    window = min(timedelta(days=window_days), settings.MAX_WINDOW)

    @dlt.resource(name="transaction_pages", selected=False)
    def transaction_pages() -> Iterator[ParsedTransactions]:
        """Parsed pages of transaction details; the transformers pick their table.

        The cursor (end of the last complete window) lives in this resource's state and is
        committed by dlt with the load package, so a killed run resumes from the last
        *loaded* window, never past it."""
        state = dlt.current.resource_state()
        if CURSOR_STATE_KEY in state:
            since = utc_timestamp(state[CURSOR_STATE_KEY], "cursor") - timedelta(
                seconds=lookback_seconds
            )
        elif start_date is not None:
            since = utc_timestamp(start_date, "start_date")
        else:
            since = datetime.now(UTC).replace(microsecond=0) - settings.HISTORY
        with PayPalClient(
            base_url,
            client_id,
            client_secret,
            requests_per_second,
            burst,
            stats=stats,
            **(client_options or {}),
        ) as api:
            for item in iter_search(api, since, page_size, window):
                if isinstance(item, WindowDone):
                    previous = state.get(CURSOR_STATE_KEY)
                    loaded = item.loaded_until.isoformat()
                    if previous is None or loaded > previous:
                        state[CURSOR_STATE_KEY] = loaded
                    continue
                yield parse_transactions(item.details)

    @dlt.transformer(
        data_from=transaction_pages,
        name="transactions",
        primary_key="transaction_id",
        write_disposition=MERGE,
        columns={"updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def transactions(page: ParsedTransactions) -> Any:
        """One row per PayPal transaction, the latest update wins."""
        if page.transactions.num_rows:
            yield page.transactions

    @dlt.transformer(
        data_from=transaction_pages,
        name="transaction_items",
        primary_key=["transaction_id", "line_number"],
        # A re-read transaction replaces all its items, so an item PayPal dropped goes too.
        merge_key="transaction_id",
        write_disposition=MERGE,
        columns={"transaction_updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )
    def transaction_items(page: ParsedTransactions) -> Any:
        """One row per cart item of a payment, numbered in cart order."""
        if page.items.num_rows:
            yield page.items

    quarantine = quarantine_transformer(transaction_pages)

    return transaction_pages, transactions, transaction_items, quarantine
