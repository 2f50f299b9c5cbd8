"""Every list's render cache draws from one byte budget: together they never hold more than it,
the least recently used rendering of any list goes first, a cache that is dropped gives its bytes
back, and a record evicted by another list's walk is rendered again to the very same bytes."""

from __future__ import annotations

import gc
import threading

import pytest

from ingestion.sandbox import SandboxState, render_cache
from ingestion.sandbox.render_cache import ENTRY_OVERHEAD, BytePool, RenderCache, Rendered
from ingestion.sandbox.shopify_serving import ShopOrders
from tests.sandbox.test_aftership_serving import api_over, fresh
from tests.sandbox.test_aftership_serving import walk as walk_trackings
from tests.sandbox.test_shopify_serving import walk as walk_orders


def entry(n_bytes: int, version: int = 1) -> Rendered:
    return Rendered(version, b"x" * (n_bytes - ENTRY_OVERHEAD))


def test_caches_sharing_a_pool_never_hold_more_than_it_together():
    pool = BytePool(10_000)
    orders, trackings = RenderCache(pool=pool), RenderCache(pool=pool)
    for i in range(200):
        (orders if i % 3 else trackings).put(i, entry(500 + 37 * (i % 11)))
        assert pool.held <= pool.limit
        assert pool.held == orders.held + trackings.held
    assert orders.held > 0 and trackings.held > 0
    assert orders.budget == trackings.budget == 10_000


def test_the_least_recently_used_rendering_of_any_list_goes_first():
    pool = BytePool(3_000)
    orders, trackings = RenderCache(pool=pool), RenderCache(pool=pool)
    orders.put("a", entry(1_000))
    orders.put("b", entry(1_000))
    trackings.put("t", entry(1_000))
    assert orders.get("a", 1) is not None  # "b" is now the oldest
    trackings.put("u", entry(1_000))
    assert orders.get("b", 1) is None
    assert orders.get("a", 1) is not None and trackings.get("t", 1) is not None
    assert (len(orders), len(trackings), pool.held) == (1, 2, 3_000)
    # A new version replaces the old rendering's bytes instead of adding to them.
    trackings.put("t", entry(600, version=2))
    assert trackings.get("t", 1) is None and trackings.get("t", 2) is not None
    assert pool.held == 2_600


def test_a_dropped_cache_gives_its_bytes_back_and_shrinking_evicts():
    pool = BytePool(1 << 20)
    kept, dropped = RenderCache(pool=pool), RenderCache(pool=pool)
    for i in range(10):
        kept.put(i, entry(1_000))
        dropped.put(i, entry(2_000))
    del dropped
    gc.collect()
    assert pool.held == kept.held == 10_000
    pool.resize(4_500)
    assert pool.held == 4_000
    assert [kept.get(i, 1) is not None for i in range(10)] == [False] * 6 + [True] * 4


def test_caches_without_a_budget_share_the_process_pool(monkeypatch):
    monkeypatch.setattr(render_cache, "_shared", None)
    monkeypatch.setattr(render_cache, "DEFAULT_CACHE_BYTES", 5_000)
    a, b = RenderCache(), RenderCache()
    assert a.pool is b.pool is render_cache.shared_pool() and a.budget == 5_000
    assert RenderCache(300).pool is not a.pool  # an explicit budget stays private
    assert render_cache.set_shared_limit(2_000) is a.pool and a.budget == 2_000
    with pytest.raises(ValueError):
        RenderCache(100, pool=a.pool)


def test_a_record_another_list_evicted_is_rendered_again_to_the_same_bytes():
    state = SandboxState.generate(seed=11, n_orders=1200)
    pool = BytePool(1_500_000)
    trackings = api_over(state)
    trackings.rendered = RenderCache(pool=pool)
    store = ShopOrders(state)
    store.cache = RenderCache(pool=pool)
    first = walk_trackings(trackings)
    rendered = trackings.rendered.rendered
    walk_orders(store)  # Shopify's orders push most trackings out of the shared budget
    assert pool.held <= pool.limit
    assert store.cache.held > trackings.rendered.held
    again = walk_trackings(trackings)
    assert trackings.rendered.rendered > rendered  # really rendered again, not served from cache
    assert again == first == fresh(trackings)
    assert pool.held <= pool.limit


def test_a_cache_collected_while_its_pool_is_locked_does_not_hang_the_server():
    """The collector can run a dropped cache's finalizer on a thread inside ``store`` (an
    allocation under the pool's lock); a finalizer that took the lock hung that thread, and
    with it the sandbox server and the test run."""
    pool = BytePool(1 << 20)
    kept, dropped = RenderCache(pool=pool), RenderCache(pool=pool)
    kept.put("k", entry(1_000))
    dropped.put("d", entry(2_000))
    dropped.cycle = dropped  # only the cyclic collector frees it, at a moment of its choosing
    del dropped
    done = threading.Event()

    def collect_under_the_lock() -> None:
        with pool.lock:
            gc.collect()
        done.set()

    threading.Thread(target=collect_under_the_lock, daemon=True).start()
    assert done.wait(10), "a collected cache's finalizer blocked on the lock its thread holds"
    assert pool.held == kept.held == 1_000
