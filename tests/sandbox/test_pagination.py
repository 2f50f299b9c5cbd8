"""Shopify cursor pagination: stable keyset pages through ``Link`` headers, Shopify's errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import httpx
import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState
from ingestion.sandbox.pagination import SortedFrame, keyset_page

ORDERS = "/admin/api/2026-07/orders.json"
AUTH = {"X-Shopify-Access-Token": "shpat_sandbox"}


def _store(state: SandboxState) -> pl.DataFrame:
    """The Shopify store's orders as of the clock (the ledger holds every channel's)."""
    return state.orders_view().filter(pl.col("channel_id") == "shopify")


def _links(response: httpx.Response) -> dict[str, str]:
    out = {}
    for part in response.headers.get("link", "").split(","):
        if part.strip():
            url, rel = part.split(";")
            out[rel.strip().removeprefix('rel="').rstrip('"')] = url.strip().strip("<>")
    return out


@pytest.mark.parametrize(
    "order", [None, "updated_at asc", "created_at asc", "id asc", "updated_at desc"]
)
def test_walking_next_links_returns_every_visible_order_exactly_once(
    sandbox_server: tuple[str, SandboxState],
    walk_orders: Callable[..., list[dict[str, Any]]],
    order: str | None,
) -> None:
    url, state = sandbox_server
    params: dict[str, Any] = {"status": "any", "limit": 50}
    if order:
        params["order"] = order
    orders = walk_orders(url, **params)
    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids)) == _store(state).height
    assert set(ids) == set(_store(state)["order_id"])
    field, direction = (order or "created_at desc").split()
    column = "order_id" if field == "id" else field
    view = _store(state).sort([column, "order_id"], descending=direction == "desc")
    assert ids == view["order_id"].to_list()


def test_previous_link_returns_the_page_before(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    first = http.get(
        url + ORDERS, params={"status": "any", "limit": 20, "order": "updated_at asc"}, headers=AUTH
    )
    assert "previous" not in _links(first)
    second = http.get(_links(first)["next"], headers=AUTH)
    back = http.get(_links(second)["previous"], headers=AUTH)
    assert orjson.loads(back.content) == orjson.loads(first.content)
    assert "limit=20" in _links(second)["next"]


def test_updated_at_min_returns_only_orders_updated_since(
    sandbox_server: tuple[str, SandboxState],
    walk_orders: Callable[..., list[dict[str, Any]]],
) -> None:
    url, state = sandbox_server
    since = state.now - timedelta(days=3)
    # Shopify accepts local offsets: the same instant written in UTC-4.
    local = since.astimezone(timezone(timedelta(hours=-4))).isoformat()
    orders = walk_orders(url, status="any", limit=50, updated_at_min=local)
    expected = _store(state).filter(pl.col("updated_at") >= since)
    assert 0 < len(orders) < _store(state).height
    assert {o["id"] for o in orders} == set(expected["order_id"])


def test_created_at_window_filters(
    sandbox_server: tuple[str, SandboxState], walk_orders: Callable[..., list[dict[str, Any]]]
) -> None:
    url, state = sandbox_server
    lo, hi = state.world.end - timedelta(days=20), state.world.end - timedelta(days=10)
    orders = walk_orders(
        url, status="any", limit=250, created_at_min=lo.isoformat(), created_at_max=hi.isoformat()
    )
    expected = _store(state).filter(pl.col("created_at").is_between(lo, hi))
    assert {o["id"] for o in orders} == set(expected["order_id"]) and orders


def test_page_info_with_another_filter_is_refused(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    first = http.get(url + ORDERS, params={"status": "any", "limit": 5}, headers=AUTH)
    next_url = _links(first)["next"]
    refused = http.get(next_url + "&status=any", headers=AUTH)
    assert refused.status_code == 400
    assert "status cannot be passed when page_info is present" in refused.json()["errors"]["status"]
    assert http.get(next_url + "&fields=id", headers=AUTH).status_code == 200
    garbage = http.get(url + ORDERS, params={"page_info": "not-a-cursor"}, headers=AUTH)
    assert garbage.status_code == 400


def test_limit_above_250_is_refused(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    assert http.get(url + ORDERS, params={"limit": 251}, headers=AUTH).status_code == 400
    ok = http.get(url + ORDERS, params={"limit": 250, "status": "any"}, headers=AUTH)
    assert ok.status_code == 200 and len(ok.json()["orders"]) == 250


@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Access-Token": "shpat_wrong"}])
def test_missing_or_wrong_token_is_401(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client, headers: dict[str, str]
) -> None:
    url, _ = sandbox_server
    for path in (ORDERS, "/admin/api/2026-07/orders/count.json"):
        response = http.get(url + path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        }


def test_every_shopify_response_reports_the_call_limit(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    for params in ({"limit": 1}, {"limit": 999}):
        response = http.get(url + ORDERS, params=params, headers=AUTH)
        used, size = response.headers["X-Shopify-Shop-Api-Call-Limit"].split("/")
        assert int(used) >= 1 and int(size) == 100_000


@pytest.mark.parametrize(
    "payload",
    [
        {"f": {"status": "any", "order": ["id", "asc"]}, "d": "n", "k": [1, 2]},
        {"f": {"status": "any", "order": ["updated_at", "asc"]}, "d": "n", "k": ["x", 1]},
        {"f": {"status": "bogus", "order": ["id", "asc"]}, "d": "n", "k": [1]},
        {"f": {"status": "any", "order": ["id", "asc"]}, "d": "sideways", "k": [1]},
        ["not", "an", "object"],
    ],
)
def test_tampered_page_info_is_400_not_500(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client, payload: Any
) -> None:
    url, _ = sandbox_server
    token = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
    response = http.get(url + ORDERS, params={"page_info": token}, headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"errors": {"page_info": "Invalid value."}}


def test_sorted_frame_pages_over_a_timestamp_and_string_id_match_keyset_pages() -> None:
    # Amazon's getOrders pages on (update instant, AmazonOrderId): ties on the instant are
    # broken by the string id, and every row comes exactly once.
    frame = pl.DataFrame(
        {
            "t": [5, 1, 5, 3, 5, 1, 9],
            "id": ["114-9", "114-2", "114-10", "114-1", "114-3", "114-0", "114-5"],
        }
    )
    keys = ["t", "id"]
    listed = SortedFrame(frame, keys)
    walked, after = [], None
    while True:
        page = listed.page(2, after=after)
        expected = keyset_page(frame, keys, 2, after=after)
        assert page.rows.rows() == expected.rows.rows()
        assert page.has_next == expected.has_next
        walked += page.rows["id"].to_list()
        if not page.has_next:
            break
        after = page.last_key(keys)
    assert walked == ["114-0", "114-2", "114-1", "114-10", "114-3", "114-9", "114-5"]
