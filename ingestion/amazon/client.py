"""SP-API Orders v0 over HTTP: one client (and token bucket) per operation, because Amazon
meters each operation separately (getOrders 0.0167/s burst 20, getOrderItems 0.5/s burst 30),
and ``NextToken`` pagination."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ingestion.amazon import settings
from ingestion.common.http import ApiClient, RequestStats, load_json
from ingestion.common.rate_limit import TokenBucket
from ingestion.common.source_parts import counted


def make_client(
    endpoint: str,
    access_token: str,
    operation: str,
    rate_per_s: float,
    burst: float,
    stats: RequestStats | None = None,
    **kwargs: Any,
) -> ApiClient:
    """A client for one SP-API operation. It starts at the published rate and adopts the rate
    ``x-amzn-RateLimit-Limit`` announces; 429s (which carry no ``Retry-After`` on SP-API) back
    off exponentially from one refill interval."""
    client = ApiClient(
        api=f"amazon {operation}",
        base_url=endpoint.rstrip("/"),
        headers={"x-amz-access-token": access_token, "Accept": "application/json"},
        bucket=TokenBucket(rate_per_s=rate_per_s, capacity=burst),
        rate_limit_header=settings.RATE_LIMIT_HEADER,
        backoff_bare_429=True,
        **kwargs,
    )
    return counted(client, stats)


def iter_order_pages(
    client: ApiClient,
    marketplace_ids: Sequence[str],
    last_updated_after: str,
    page_size: int = settings.PAGE_SIZE,
) -> Iterator[list[Any]]:
    """Every order of ``marketplace_ids`` updated since ``last_updated_after``, a page at a time.

    The first request carries the filters; each following one only ``NextToken`` and
    ``MarketplaceIds``: the token carries the whole query (window and filters), and
    ``MarketplaceIds`` is the one parameter the API model marks required on every call. No
    ``LastUpdatedBefore`` is sent, so the window ends where Amazon's index has settled (two
    minutes before now).
    """
    marketplaces = ",".join(marketplace_ids)
    params: dict[str, Any] = {
        "MarketplaceIds": marketplaces,
        "LastUpdatedAfter": last_updated_after,
        "MaxResultsPerPage": page_size,
    }
    while True:
        payload = load_json(client.get(settings.ORDERS_PATH, params=params).content)["payload"]
        yield payload.get("Orders")
        token = payload.get("NextToken")
        if not token:
            return
        params = {"NextToken": token, "MarketplaceIds": marketplaces}


def iter_order_items(client: ApiClient, amazon_order_id: str) -> Iterator[Any]:
    """Every page of ``OrderItems`` of one order (getOrderItems pages with ``NextToken`` too)."""
    path = settings.ORDER_ITEMS_PATH.format(order_id=amazon_order_id)
    params: dict[str, Any] | None = None
    while True:
        payload = load_json(client.get(path, params=params).content)["payload"]
        yield payload.get("OrderItems")
        token = payload.get("NextToken")
        if not token:
            return
        params = {"NextToken": token}
