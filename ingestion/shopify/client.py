"""Shopify Admin REST: authenticated client and cursor pagination through ``Link`` headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ingestion.common.http import ApiClient, ApiError, load_json
from ingestion.common.rate_limit import TokenBucket
from ingestion.shopify import settings

T = TypeVar("T")


def _orders_of(content: bytes) -> Any:
    return load_json(content)["orders"]


def make_client(
    shop_url: str,
    access_token: str,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    **kwargs: Any,
) -> ApiClient:
    return ApiClient(
        api="shopify",
        base_url=shop_url.rstrip("/"),
        headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
        bucket=TokenBucket(rate_per_s=requests_per_second, capacity=burst),
        **kwargs,
    )


def iter_order_pages(
    client: ApiClient,
    updated_at_min: str,
    page_size: int = settings.PAGE_SIZE,
    decode: Callable[[bytes], T] = _orders_of,  # type: ignore[assignment]
) -> Iterator[T]:
    """Every order updated since ``updated_at_min``, a page at a time, oldest update first:
    each response body through ``decode`` (by default its ``orders`` list; the source reads
    it column-wise, ``columnar.decode_page``).

    Shopify's cursor pagination: the first request carries the filters; each following request
    carries only ``limit`` and the opaque ``page_info`` from the ``Link: <...>; rel="next"``
    header (Shopify rejects filters beside page_info).
    """
    url: str | None = f"/admin/api/{settings.API_VERSION}/orders.json"
    params: dict[str, Any] | None = {
        "status": "any",
        "limit": page_size,
        "updated_at_min": updated_at_min,
        "order": "updated_at asc",
    }
    while url:
        response = client.get(url, params=params)
        yield decode(response.content)
        url = response.links.get("next", {}).get("url")
        params = None


def iter_linked_pages(
    client: ApiClient, url: str, params: dict[str, Any] | None, key: str
) -> Iterator[list[Any]]:
    """The ``key`` list of each page, following ``Link: <...>; rel="next"`` until it ends (a
    response without a ``Link`` header is the only page)."""
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, params=params)
        body = load_json(response.content)
        page = body.get(key) if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise ValueError(f"shopify {url}: response has no {key!r} list")
        yield page
        next_url = response.links.get("next", {}).get("url")
        params = None


def fetch_order_transactions(client: ApiClient, order_id: int) -> list[Any] | None:
    """An order's transactions (one request: the endpoint takes no ``limit`` and returns them
    all); None when the order no longer exists (deleted since it was listed). Refunds and
    fulfillments need no request: the order itself carries them complete."""
    url = f"/admin/api/{settings.API_VERSION}/orders/{order_id}/transactions.json"
    try:
        return [r for page in iter_linked_pages(client, url, None, "transactions") for r in page]
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def iter_payout_pages(
    client: ApiClient, date_min: str, page_size: int = settings.PAGE_SIZE
) -> Iterator[list[Any]]:
    """Shopify Payments payouts dated ``date_min`` or later, newest first, a page at a time
    (cursor pagination through ``Link`` headers, like orders)."""
    yield from iter_linked_pages(
        client,
        f"/admin/api/{settings.API_VERSION}/shopify_payments/payouts.json",
        {"limit": page_size, "date_min": date_min},
        "payouts",
    )
