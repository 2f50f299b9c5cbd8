"""Serving a Shopify store's orders: rendered lazily, cached per order within a byte budget,
and re-rendered after the clock moves only where an order changed (``render_cache``).

Each entry carries the version of the order row it was rendered from (a hash of the row of
``orders_view``, which summarises every event the order's JSON shows), and holds the order's
refunds and fulfillments too, so that ``refunds.json`` and ``fulfillments.json`` serve the very
bytes ``orders.json`` embeds (Shopify's orders alone are about 11 KiB each at a million orders).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from ingestion.sandbox.render_cache import ENTRY_OVERHEAD, READ_AHEAD, RenderCache, versioned
from ingestion.sandbox.shopify import OrderRenderer, ShopContext
from ingestion.sandbox.state import SandboxState


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
            + ENTRY_OVERHEAD
        )


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
        self.cache: RenderCache[Rendering] = RenderCache(cache_bytes)
        # This store's key among the state's per-clock views (two stores never share one).
        self._key = ("shopify", "orders", object())

    def current(self) -> OrdersAsOf:
        """The store's orders as of the clock (no JSON yet), built once per clock position."""

        def build() -> OrdersAsOf:
            view = self.state.orders_view().filter(pl.col("channel_id") == "shopify")
            return OrdersAsOf(self, versioned(view))

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
        return self.store.cache.renderings(rows, "order_id", self._render, ahead)

    def one(self, order_id: int) -> Rendering:
        """The rendering of one visible order (see ``has_order``). Clients asking per order
        go through many, so a miss renders the orders that follow by id with it."""
        at = self.orders["order_id"].search_sorted(order_id, "left")
        ahead = lambda: self.orders.slice(at + 1, READ_AHEAD)  # noqa: E731
        return self.renderings(self.orders.slice(at, 1), ahead)[0]

    def _render(self, rows: pl.DataFrame) -> dict[int, Rendering]:
        """Render ``rows`` (orders missing from the cache), under the cache's lock."""
        parts = self.store.renderer.render_parts(rows.drop("_v", "_k", strict=False))
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
            out[order_id] = Rendering(
                version,
                json,
                tuple(refunds.get(order_id, ())),
                tuple(fulfillments.get(order_id, ())),
            )
        return out
