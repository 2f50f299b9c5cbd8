"""Shopify orders are rendered lazily and cached per order within a byte budget: pages are the
same bytes whatever the budget, the cache never holds more than it, and after the clock moves
only the orders whose row changed are rendered again while every order served equals a fresh
rendering at the new clock."""

from __future__ import annotations

import polars as pl
import pytest

from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.shopify import OrderRenderer
from ingestion.sandbox.shopify_serving import ShopOrders
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=11, n_orders=1500)


def walk(store: ShopOrders, page: int = 250) -> list[bytes]:
    """Every order by ``updated_at`` in pages, as the orders endpoint asks for them."""
    orders = store.current().orders.sort("updated_at", "order_id")
    out: list[bytes] = []
    for start in range(0, orders.height, page):
        rows = orders.slice(start, page)
        out += store.current().page_json(rows, lambda s=start: orders.slice(s + page, 1000))
    return out


def fresh(state: SandboxState) -> list[bytes]:
    view = state.orders_view().filter(pl.col("channel_id") == "shopify")
    rendered = OrderRenderer(state).render(view.sort("updated_at", "order_id"))
    return rendered.to_list()


def test_a_small_budget_serves_the_same_bytes_and_holds_no_more(world):
    state = SandboxState(world)
    roomy = ShopOrders(state)
    tight = ShopOrders(state, cache_bytes=2_000_000)
    served = walk(tight)
    assert served == walk(roomy) == fresh(state)
    assert 0 < tight.cache.held <= tight.cache.budget
    assert len(tight.cache) < len(served) == len(roomy.cache)


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_after_the_clock_moves_only_changed_orders_are_rendered_again(world, profile):
    # harsh: late updates show some orders' rows as of an earlier instant.
    state = SandboxState(world, faults=PROFILES[profile])
    store = ShopOrders(state)
    before = store.current().orders.select("order_id", "_v")
    walk(store)
    rendered = store.cache.rendered
    state.advance(2)
    after = store.current().orders.select("order_id", "_v")
    changed = after.join(before, on=["order_id", "_v"], how="anti").height
    assert 0 < changed < after.height // 2
    served = walk(store)
    assert store.cache.rendered - rendered == changed
    assert served == fresh(state)
