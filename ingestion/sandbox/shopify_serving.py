"""Serving a Shopify store's orders: rendered lazily, cached per order within a byte budget,
and re-rendered after the clock moves only where an order changed.

Why: rendering every order once per clock position kept pages fast, but at a million orders it
held gigabytes of JSON (Shopify's orders alone are about 11 KiB each), and each move of the clock
re-rendered the whole store before the first page (8 s at 100k orders). Here a record is
rendered when a page first needs it, together with the orders that follow it in the walk
(``READ_AHEAD``, so the column-wise renderer works on batches, not on single orders), and kept
in a least-recently-used cache bounded by bytes. Each entry carries the version of the order
row it was rendered from (a hash of the row of ``orders_view``, which summarises every event
the order's JSON shows): after the clock moves, an order whose row did not change is served
from the cache as is, and only new and changed orders are rendered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from ingestion.sandbox.shopify import OrderRenderer, ShopContext
from ingestion.sandbox.state import SandboxState

# Orders rendered in one pass when a page misses: the page and the orders after it.
READ_AHEAD = 4_000
DEFAULT_CACHE_BYTES = 1 << 30
# What an entry costs beyond its JSON (dict slot, tuple, list and bytes object headers).
_ENTRY_OVERHEAD = 400


@dataclass(frozen=True)
class Fulfillment:
    """One rendered fulfillment with the instants ``fulfillments.json`` filters on."""

    id: int
    created_at: datetime
    updated_at: datetime
    json: bytes


@dataclass(frozen=True)
class Rendering:
    """One order rendered: its JSON, and the refunds and fulfillments it embeds (the bytes
    ``refunds.json`` and ``fulfillments.json`` serve), oldest first."""

    version: int
    order: bytes
    refunds: tuple[bytes, ...]
    fulfillments: tuple[Fulfillment, ...]

    @property
    def size(self) -> int:
        return (
            len(self.order)
            + sum(len(r) for r in self.refunds)
            + sum(len(f.json) for f in self.fulfillments)
            + _ENTRY_OVERHEAD
        )


class RenderCache:
    """Renderings by order id, least recently used first out once ``budget`` bytes are held.
    Thread-safe (the server renders from its worker threads)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self.rendered = 0  # orders rendered so far (a hit costs none)
        self._entries: OrderedDict[int, Rendering] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, order_id: int, version: int) -> Rendering | None:
        """The rendering of this version of the order, or None."""
        found = self._entries.get(order_id)
        if found is None or found.version != version:
            return None
        self._entries.move_to_end(order_id)
        return found

    def put(self, order_id: int, rendering: Rendering) -> None:
        old = self._entries.pop(order_id, None)
        if old is not None:
            self.held -= old.size
        self._entries[order_id] = rendering
        self.held += rendering.size
        while self.held > self.budget and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self.held -= evicted.size

    def __len__(self) -> int:
        return len(self._entries)


class ShopOrders:
    """One store's orders as served, shared by every endpoint that serves them (``orders.json``
    and the per-order ``refunds.json`` and ``fulfillments.json``), so that each copy of a record
    is the same bytes."""

    def __init__(
        self,
        state: SandboxState,
        shop: ShopContext | None = None,
        cache_bytes: int | None = None,
    ) -> None:
        self.state = state
        self.renderer = OrderRenderer(state, shop)
        self.cache = RenderCache(DEFAULT_CACHE_BYTES if cache_bytes is None else cache_bytes)
        # This store's key among the state's per-clock views (two stores never share one).
        self._key = ("shopify", "orders", object())

    def current(self) -> OrdersAsOf:
        """The store's orders as of the clock (no JSON yet), built once per clock position."""

        def build() -> OrdersAsOf:
            view = self.state.orders_view().filter(pl.col("channel_id") == "shopify")
            return OrdersAsOf(self, view.with_columns(_v=view.hash_rows(seed=7)))

        return self.state.cached(self._key, build)


class OrdersAsOf:
    """The store's orders at one clock position: ``orders`` (rows of ``orders_view`` by order
    id, with their version ``_v``) and the renderings the pages ask for."""

    def __init__(self, store: ShopOrders, orders: pl.DataFrame) -> None:
        self.store = store
        self.orders = orders

    def has_order(self, order_id: int) -> bool:
        ids = self.orders["order_id"]
        at = ids.search_sorted(order_id, "left")
        return at < ids.len() and ids[at] == order_id

    def page_json(
        self, rows: pl.DataFrame, ahead: Callable[[], pl.DataFrame] | None = None
    ) -> list[bytes]:
        """The JSON of each order of ``rows`` (rows of ``orders`` in any order, with ``_v``).
        When some are not rendered yet, they are rendered with the rows ``ahead()`` returns
        (the orders a walk asks for next) in one pass."""
        return [r.order for r in self.renderings(rows, ahead)]

    def renderings(
        self, rows: pl.DataFrame, ahead: Callable[[], pl.DataFrame] | None = None
    ) -> list[Rendering]:
        cache = self.store.cache
        ids = rows["order_id"].to_list()
        versions = rows["_v"].to_list()
        with cache.lock:
            found = [cache.get(i, v) for i, v in zip(ids, versions, strict=True)]
            if all(f is not None for f in found):
                return found  # type: ignore[return-value]
            batch = rows if ahead is None else pl.concat([rows, ahead()], how="vertical_relaxed")
            batch = batch.unique("order_id", keep="first", maintain_order=True)
            missing = batch.filter(
                [cache.get(i, v) is None for i, v in batch.select("order_id", "_v").iter_rows()]
            )
            fresh = self._render(missing)
            return [hit or fresh[order_id] for order_id, hit in zip(ids, found, strict=True)]

    def one(self, order_id: int) -> Rendering:
        """The rendering of one visible order (see ``has_order``). Clients asking per order
        go through many, so a miss renders the orders that follow by id with it."""
        at = self.orders["order_id"].search_sorted(order_id, "left")
        ahead = lambda: self.orders.slice(at + 1, READ_AHEAD)  # noqa: E731
        return self.renderings(self.orders.slice(at, 1), ahead)[0]

    def _render(self, rows: pl.DataFrame) -> dict[int, Rendering]:
        """Render ``rows`` (orders missing from the cache) and cache them; under the lock."""
        store = self.store
        parts = store.renderer.render_parts(rows.drop("_v", "_k", strict=False))
        refunds: dict[int, list[bytes]] = {}
        for order_id, json in parts.refunds.select("order_id", "_json").iter_rows():
            refunds.setdefault(order_id, []).append(json)
        fulfillments: dict[int, list[Fulfillment]] = {}
        for order_id, *fields in parts.fulfillments.select(
            "order_id", "shipment_id", "_created_at", "_updated_at", "_json"
        ).iter_rows():
            fulfillments.setdefault(order_id, []).append(Fulfillment(*fields))
        out = {}
        for order_id, version, json in zip(
            rows["order_id"].to_list(), rows["_v"].to_list(), parts.orders.to_list(), strict=True
        ):
            rendering = Rendering(
                version,
                json,
                tuple(refunds.get(order_id, ())),
                tuple(fulfillments.get(order_id, ())),
            )
            store.cache.put(order_id, rendering)
            out[order_id] = rendering
        store.cache.rendered += len(out)
        return out
