"""Shopify Admin REST: authenticated client and cursor pagination through ``Link`` headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from ingestion.common.http import ApiClient
from ingestion.common.rate_limit import TokenBucket
from ingestion.shopify import settings


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
    client: ApiClient, updated_at_min: str, page_size: int = settings.PAGE_SIZE
) -> Iterator[list[Any]]:
    """Every order updated since ``updated_at_min``, a page at a time, oldest update first.

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
        yield load_json(response.content)["orders"]
        url = response.links.get("next", {}).get("url")
        params = None


def load_json(content: bytes) -> Any:
    """orjson for speed; it refuses integers beyond 64 bits, where the standard library keeps
    them exact, so fall back rather than fail."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
