"""EasyPost REST: authenticated client and shipment list pagination (newest first,
``before_id``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ingestion.common.http import ApiClient, load_json
from ingestion.common.rate_limit import TokenBucket
from ingestion.easypost import settings
from ingestion.stripe.client import RedactedHeaders


def make_client(
    base_url: str, api_key: str, requests_per_second: float | None = None, **kwargs: Any
) -> ApiClient:
    """A client authenticating as EasyPost asks (HTTP Basic, the key as user name), whose
    token bucket keeps to ``settings.REQUESTS_PER_SECOND`` unless told otherwise."""
    import base64

    rate = requests_per_second or settings.REQUESTS_PER_SECOND
    token = base64.b64encode(f"{api_key}:".encode()).decode()
    return ApiClient(
        api="easypost",
        base_url=base_url.rstrip("/"),
        headers=RedactedHeaders({"Authorization": f"Basic {token}", "Accept": "application/json"}),
        bucket=TokenBucket(rate_per_s=rate, capacity=rate),
        **kwargs,
    )


def iter_shipment_pages(
    client: ApiClient, start: datetime, page_size: int = settings.PAGE_SIZE
) -> Iterator[list[Any]]:
    """Every shipment created at or after ``start``, a page at a time, newest first.

    The cursor is the last shipment's id (``before_id``) with the same ``start_datetime``.
    Labels bought while we page are newer than the first page, so the walk neither skips nor
    repeats; the next run's lookback picks them up. A malformed record without an id cannot be
    a cursor: the last one with an id is used, and the merge drops the repeats."""
    params: dict[str, Any] = {
        "page_size": page_size,
        "start_datetime": start.isoformat().replace("+00:00", "Z"),
        "purchased": "true",
    }
    previous: str | None = None
    while True:
        body = load_json(client.get(settings.SHIPMENTS_PATH, params=params).content)
        shipments = body.get("shipments") if isinstance(body, dict) else None
        if not isinstance(shipments, list):
            raise ValueError("easypost /v2/shipments: response has no shipments list")
        yield shipments
        if not body.get("has_more") or not shipments:
            return
        ids = [s.get("id") for s in shipments if isinstance(s, dict)]
        cursor = next((i for i in reversed(ids) if isinstance(i, str) and i), None)
        if cursor is None or cursor == previous:
            raise ValueError("easypost /v2/shipments: cannot page on, no shipment id")
        previous = cursor
        params = {**params, "before_id": cursor}
