"""The sandbox clock: one world plus the instant ``now`` the APIs answer for.

Why: incremental connectors must be proven against data that changes between runs. The world
is generated once (with events up to its horizon); moving ``now`` forward reveals new orders and
late updates to old ones without regenerating anything. Views as of ``now`` are computed once
per clock position and cached, because every page request reads them.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import polars as pl

from ingestion.sandbox.asof import inventory_as_of, inventory_events, orders_as_of
from ingestion.sandbox.world import DEFAULT_END, World, generate_world


class SandboxState:
    """A world and its clock. Thread-safe: the HTTP server reads it from worker threads while
    a test (or ``POST /_sandbox/clock/advance``) moves the clock."""

    def __init__(self, world: World, now: datetime | None = None) -> None:
        self.world = world
        if now is not None and now < world.end:
            # Inventory is derived forward from the ledger's snapshot at ``end``.
            raise ValueError("the clock starts at the world's end or later")
        self._now = world.end if now is None else now
        self._lock = threading.Lock()
        self._orders_cache: tuple[datetime, pl.DataFrame] | None = None
        self._inventory_cache: tuple[datetime, pl.DataFrame] | None = None
        self._events: pl.DataFrame | None = None

    @classmethod
    def generate(
        cls,
        seed: int = 42,
        n_orders: int = 2000,
        end: datetime = DEFAULT_END,
        days: int = 90,
        future_days: int = 30,
    ) -> SandboxState:
        """A fresh world (see ``generate_world``) with the clock at its ``end``."""
        return cls(generate_world(seed, n_orders, end, days, future_days))

    @property
    def now(self) -> datetime:
        """The current sandbox instant (UTC)."""
        return self._now

    def advance(self, days: float) -> datetime:
        """Move the clock forward by ``days`` (fractions allowed, never backwards)."""
        if days < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._now = self._now + timedelta(days=days)
            return self._now

    def orders_view(self) -> pl.DataFrame:
        """Orders visible at ``now`` with their state as of ``now`` (see ``orders_as_of``)."""
        with self._lock:
            now = self._now
            if self._orders_cache is None or self._orders_cache[0] != now:
                self._orders_cache = (now, orders_as_of(self.world.orders, now))
            return self._orders_cache[1]

    def inventory_view(self) -> pl.DataFrame:
        """Stock levels at ``now``, sorted by (warehouse_code, sku)."""
        with self._lock:
            now = self._now
            if self._inventory_cache is None or self._inventory_cache[0] != now:
                if self._events is None:
                    self._events = inventory_events(self.world.orders, self.world.order_lines)
                view = inventory_as_of(self.world.inventory, self._events, self.world.end, now)
                self._inventory_cache = (now, view.sort("warehouse_code", "sku"))
            return self._inventory_cache[1]
