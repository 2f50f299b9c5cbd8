"""Amazon getOrders pages are rendered lazily and cached per order within a byte budget: a walk
through NextTokens serves the very bytes of rendering every order at once, whatever the budget,
the cache never holds more than it, getOrder serves the same bytes as the list, and after the
clock moves only new and changed orders are rendered again. An All Orders report renders only
the orders of its window, with the rows the whole world's report holds for that window; an
order's getOrderItems pages come from its items rendered once per version of the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from ingestion.sandbox import SandboxState, api_amazon, api_amazon_reports
from ingestion.sandbox.amazon_render import (
    MARKETPLACES,
    all_orders_report,
    orders_json,
    page_frame,
    render_items,
)
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.http_common import epoch_us
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.render_cache import VERSION, RenderCache
from ingestion.sandbox.world import generate_world

TOKEN = {"x-amz-access-token": api_amazon.SANDBOX_ACCESS_TOKEN}
PAGE = 40


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=11, n_orders=1500)


def make_api(
    state: SandboxState, budget: int | None = None
) -> tuple[api_amazon._AmazonApi, TestClient]:
    api = api_amazon._AmazonApi(SandboxContext.create(state, SandboxConfig()))
    api.buckets = {op: LeakyBucket(10**6, 10**6) for op in api.plans}  # never throttled here
    if budget is not None:
        api.rendered = RenderCache(budget)
    app = Starlette(
        routes=[
            Route(api_amazon.PREFIX, api.get_orders),
            Route(f"{api_amazon.PREFIX}/{{order_id}}", api.get_order),
        ]
    )
    return api, TestClient(app)


def walk(client: TestClient) -> list[bytes]:
    """Every order updated since 2000 as a connector pages them; each page's raw ``Orders``
    array, checked against the order ids it holds."""
    params: dict[str, str | int] = {
        "MarketplaceIds": ",".join(MARKETPLACES),
        "LastUpdatedAfter": "2000-01-01T00:00:00Z",
        "MaxResultsPerPage": PAGE,
    }
    pages: list[bytes] = []
    while True:
        response = client.get(api_amazon.PREFIX, params=params, headers=TOKEN)
        assert response.status_code == 200, response.text
        pages.append(response.content)
        token = response.json()["payload"].get("NextToken")
        if token is None:
            return pages
        params = {"NextToken": token}


def at_once(api: api_amazon._AmazonApi) -> list[bytes]:
    """The same pages with every order rendered in one pass, in the list's order."""
    snap = api.snapshot()
    every = orders_json(snap.orders.drop(VERSION), snap.lookups).to_list()
    return [b",".join(every[i : i + PAGE]) for i in range(0, len(every), PAGE)]


def orders_of(pages: list[bytes]) -> list[bytes]:
    prefix = b'{"payload":{"Orders":['
    return [page[len(prefix) :] for page in pages]


def test_a_small_budget_serves_every_order_as_rendered_at_once(world):
    state = SandboxState(world)
    roomy, roomy_client = make_api(state)
    tight, tight_client = make_api(state, budget=200_000)
    served = walk(tight_client)
    expected = at_once(roomy)
    assert len(expected) > 5  # several pages
    for page, want in zip(orders_of(served), expected, strict=True):
        assert page.startswith(want + b"]"), page[:200]
    assert served == walk(roomy_client)
    assert 0 < tight.rendered.held <= tight.rendered.budget
    assert len(tight.rendered) < roomy.snapshot().orders.height == len(roomy.rendered)

    # getOrder serves the bytes the list serves.
    snap = roomy.snapshot()
    order = snap.orders.slice(7, 1)
    single = tight_client.get(f"{api_amazon.PREFIX}/{order['external_order_id'][0]}", headers=TOKEN)
    want = orders_json(order.drop(VERSION), snap.lookups)[0]
    assert want in b",".join(expected)
    assert single.content == b'{"payload":' + want + b"}"


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_after_the_clock_moves_only_new_and_changed_orders_are_rendered_again(world, profile):
    # harsh: late updates show some orders' rows as of an earlier instant.
    state = SandboxState(world, faults=PROFILES[profile])
    api, client = make_api(state)
    before = api.snapshot().orders.select("order_id", VERSION)
    walk(client)
    rendered = api.rendered.rendered
    assert rendered == before.height
    state.advance(2)
    after = api.snapshot().orders.select("order_id", VERSION)
    changed = after.join(before, on=["order_id", VERSION], how="anti").height
    assert 0 < changed < after.height // 2
    served = walk(client)
    assert api.rendered.rendered - rendered == changed
    for page, want in zip(orders_of(served), at_once(api), strict=True):
        assert page.startswith(want + b"]")


def test_a_report_renders_only_its_window_and_serves_the_rows_the_whole_report_has(world):
    state = SandboxState(world, faults=PROFILES["harsh"])
    ctx = SandboxContext.create(state, SandboxConfig())
    reports = api_amazon_reports._ReportsApi(ctx)
    for _ in range(2):
        snap = reports.orders_api.snapshot()
        whole = all_orders_report(snap.orders, snap.lines, snap.lookups)
        now = state.now
        windows = [
            (list(MARKETPLACES), datetime(2000, 1, 1, tzinfo=UTC), now),
            (["A1VC38T7YXB528"], now - timedelta(days=20), now - timedelta(days=3)),
            (["ATVPDKIKX0DER", "A1F83G8C2ARO7P"], now - timedelta(days=2), now),
        ]
        for marketplaces, start, end in windows:
            window = reports.report_frame(marketplaces, start, end)
            expected = whole.filter(
                pl.col("_marketplace").is_in(marketplaces),
                pl.col("update_us").is_between(epoch_us(start), epoch_us(end)),
            )
            assert window.height > 0
            assert_frame_equal(window, expected)
        state.advance(3)


def items_walk(client: TestClient, amazon_id: str) -> list[bytes]:
    """Every page of one order's getOrderItems, raw."""
    path = f"{api_amazon.PREFIX}/{amazon_id}/orderItems"
    pages, params = [], {}
    while True:
        response = client.get(path, params=params, headers=TOKEN)
        assert response.status_code == 200, response.text
        pages.append(response.content)
        token = response.json()["payload"].get("NextToken")
        if token is None:
            return pages
        params = {"NextToken": token}


def items_at_once(api: api_amazon._AmazonApi, amazon_id: str, size: int) -> list[bytes]:
    """The same pages from every item of the order rendered at once, as dicts."""
    snap = api.snapshot()
    row = snap.by_id.filter(pl.col("external_order_id") == amazon_id)
    order = page_frame(row, snap.lookups)[0]
    lines = snap.lines.filter(pl.col("order_id") == order["order_id"]).to_dicts()
    shipped = {ln["line_id"]: ln["qty_shipped"] for ln in lines}
    line_tax = sum(ln["tax_minor"] for ln in lines)
    items = render_items(order, lines, shipped, snap.lookups, lines[0]["line_id"], line_tax)
    pages = []
    for start in range(0, len(items), size):
        payload = {"AmazonOrderId": amazon_id, "OrderItems": items[start : start + size]}
        if start + size < len(items):
            payload["NextToken"] = api_amazon.encode_token(
                {"o": amazon_id, "k": lines[start + size - 1]["line_id"]}
            )
        pages.append(orjson.dumps({"payload": payload}))
    return pages


def test_order_items_are_cached_per_order_and_rendered_again_when_it_changes(world, monkeypatch):
    monkeypatch.setattr(api_amazon, "ORDER_ITEMS_PAGE_SIZE", 1)  # every line a page
    state = SandboxState(world, faults=PROFILES["harsh"])
    api, client = make_api(state)
    client.app.router.routes.append(
        Route(f"{api_amazon.PREFIX}/{{order_id}}/orderItems", api.get_order_items)
    )
    sample = api.snapshot().orders.tail(60)["external_order_id"].to_list()
    for amazon_id in sample:
        assert items_walk(client, amazon_id) == items_at_once(api, amazon_id, 1)
    assert len(api.items) == api.items.rendered == len(sample)
    assert any(len(items_walk(client, a)) > 1 for a in sample)  # several pages: cache hits
    assert api.items.rendered == len(sample)

    state.advance(3)
    for amazon_id in sample:
        assert items_walk(client, amazon_id) == items_at_once(api, amazon_id, 1)
    assert len(sample) < api.items.rendered < 2 * len(sample)  # the orders that changed
