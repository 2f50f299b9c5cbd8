"""Stripe REST: authenticated client and list pagination (newest first, ``starting_after``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ingestion.common.http import ApiClient, load_json
from ingestion.common.rate_limit import TokenBucket
from ingestion.stripe import settings


class RedactedHeaders(dict[str, str]):
    """Request headers whose ``repr`` hides their values: the client is a dataclass, and its
    repr (in a traceback, a debugger, a log line) must never print the secret key."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: '***'" for k in self) + "}"


def make_client(
    base_url: str,
    api_key: str,
    requests_per_second: float | None = None,
    burst: float | None = None,
    **kwargs: Any,
) -> ApiClient:
    """A client whose token bucket keeps to the key's published limit unless told otherwise.

    The burst equals one second of the limit: Stripe counts requests per second, so a full
    bucket spent at once is exactly what it allows."""
    rate = requests_per_second or settings.requests_per_second_for(api_key)
    return ApiClient(
        api="stripe",
        base_url=base_url.rstrip("/"),
        headers=RedactedHeaders(
            {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        ),
        bucket=TokenBucket(rate_per_s=rate, capacity=burst or rate),
        **kwargs,
    )


def iter_list_pages(
    client: ApiClient,
    path: str,
    created_gte: int | None,
    page_size: int = settings.PAGE_SIZE,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[list[Any]]:
    """Every object of a list endpoint created at or after ``created_gte`` (unix seconds), a
    page at a time, newest first.

    Stripe's cursor is the id of the last object seen (``starting_after``), repeated with the
    same filters while ``has_more``. Objects created while we page appear before the cursor,
    so the walk neither skips nor repeats; they are picked up by the next run's lookback.
    A record served without an id (malformed) cannot be a cursor, so the last object that has
    one is used: the page after it repeats a few objects, which the merge deduplicates.
    """
    params: dict[str, Any] = {"limit": page_size, **(extra or {})}
    if created_gte is not None:
        params["created[gte]"] = created_gte
    previous_cursor: str | None = None
    while True:
        body = load_json(client.get(path, params=params).content)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ValueError(f"stripe {path}: response is not a list envelope")
        yield data
        if not body.get("has_more") or not data:
            return
        ids = [o.get("id") for o in data if isinstance(o, dict)]
        cursor = next((i for i in reversed(ids) if isinstance(i, str) and i), None)
        if cursor is None or cursor == previous_cursor:
            raise ValueError(f"stripe {path}: cannot page on, no object id to start after")
        previous_cursor = cursor
        params = {**params, "starting_after": cursor}
