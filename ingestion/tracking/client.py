"""AfterShip Tracking API over HTTP: ``as-api-key`` auth, its rate limit, and both of its
pagination styles for ``GET /trackings``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingestion.common.http import ApiClient, ApiError, RequestStats
from ingestion.common.rate_limit import TokenBucket
from ingestion.common.source_parts import counted
from ingestion.tracking import settings
from ingestion.tracking.columnar import DecodedPage, decode_page


def make_client(
    endpoint: str,
    api_key: str,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    stats: RequestStats | None = None,
    **kwargs: Any,
) -> ApiClient:
    """A client for one AfterShip account. It adopts the rate ``X-RateLimit-Limit`` announces
    (10/s up to 2024-04, 6/s for GET /trackings later); AfterShip's 429 carries no
    ``Retry-After`` (only ``X-RateLimit-Reset``), so 429s back off exponentially from one
    refill interval."""
    client = ApiClient(
        api="aftership",
        base_url=endpoint.rstrip("/"),
        headers={"as-api-key": api_key, "Accept": "application/json"},
        bucket=TokenBucket(rate_per_s=requests_per_second, capacity=burst),
        rate_limit_header=settings.RATE_LIMIT_HEADER,
        backoff_bare_429=True,
        **kwargs,
    )
    return counted(client, stats)


def iter_tracking_pages(
    client: ApiClient, updated_at_min: str, page_size: int = settings.PAGE_SIZE
) -> Iterator[tuple[DecodedPage, str | None]]:
    """Every tracking updated since ``updated_at_min``: (decoded page, walk start) per page;
    ``columnar.parse_pages`` turns pages into tables.

    Two pagination styles, told apart by the response:
    - 2024-04 and v4 (``page``, ``limit``, ``count``): offset pages over trackings sorted newest
      created first. The first page's resolved ``created_at_min``/``created_at_max`` are sent
      back on every later page, so the walk covers one fixed set; only ``updated_at_min`` is
      sent besides, never a maximum, so a tracking updated mid-walk can enter the set (and be
      served twice, which the merge absorbs) but never leave it (and be skipped).
    - 2024-07 onwards (``pagination.next_cursor``): follow the cursor with the same filters.
    The walk start (``created_at_max`` of the first page, the server's "now") is yielded so the
    caller can keep its cursor at or before it.
    """
    base: dict[str, Any] = {"updated_at_min": updated_at_min, "limit": page_size}
    decoded = _page(client.get(settings.TRACKINGS_PATH, params=base))
    data = decoded.data
    walk_start = data.get("created_at_max")
    if "pagination" in data:
        while True:
            yield decoded, walk_start
            pagination = data.get("pagination") or {}
            cursor = pagination.get("next_cursor")
            if not cursor or pagination.get("has_next_page") is False:
                return
            params = {**base, "cursor": cursor}
            decoded = _page(client.get(settings.TRACKINGS_PATH, params=params))
            data = decoded.data
    window = {k: data[k] for k in ("created_at_min", "created_at_max") if data.get(k)}
    page = int(data.get("page") or 1)
    while True:
        yield decoded, walk_start
        limit = int(data.get("limit") or page_size)
        if page * limit >= int(data.get("count") or 0) or decoded.is_empty():
            return
        page += 1
        params = {**base, **window, "page": page}
        decoded = _page(client.get(settings.TRACKINGS_PATH, params=params))
        data = decoded.data


def _page(response: Any) -> DecodedPage:
    """AfterShip's ``{"meta": {"code": 200}, "data": {...}}`` envelope, decoded."""
    decoded = decode_page(response.content)
    code = decoded.meta.get("code")
    if code != 200:
        url = str(response.request.url.copy_with(query=None))
        raise ApiError("aftership", "GET", url, code, str(decoded.meta))
    return decoded
