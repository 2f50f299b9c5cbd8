"""The sandbox clock: one world plus the instant ``now`` the APIs answer for.

Why: incremental connectors must be proven against data that changes between runs. The world
is generated once (with events up to its horizon); moving ``now`` forward reveals new orders and
late updates to old ones without regenerating anything. Views as of ``now`` are computed once
per clock position and cached, because every page request reads them.

How API renderers read the world (the stable interface; see ``ledger.TABLES`` for the names):

- ``state.table_as_of(name)``: one ledger table (``LEDGER.md``) as the outside world sees it at
  ``now``: rows that exist by then, event timestamps after ``now`` nulled, status columns
  recomputed as of ``now``, sorted by primary key. Cached per clock position: call it on every
  request, never cache it yourself.
- ``state.sorted_view(name, by, descending)``: the same rows sorted by other keys, cached per
  clock position and sort, so a page request only filters and slices.
- ``state.cached(key, build)``: any view a renderer derives (filtered, sorted, a
  ``pagination.SortedFrame``), built once per clock position and key.
- ``state.ledger_table(name)``: the whole ledger table up to the world's horizon, future events
  included, for a renderer that derives its view as of the clock itself and updates it as the
  clock moves (AfterShip's ``aftership_render.Tracker``). Never serve it as is.
- ``state.now`` / ``state.advance(days)``: the clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import polars as pl

from ingestion.sandbox.asof import AsOf
from ingestion.sandbox.fault_data import with_malformed_records
from ingestion.sandbox.faults import PROFILES, FaultProfile
from ingestion.sandbox.world import DEFAULT_END, World, generate_world

T = TypeVar("T")
# Derived views kept per clock position (renderers' filter and sort combinations).
_MAX_DERIVED = 32


class SandboxState:
    """A world and its clock. Thread-safe: the HTTP server reads it from worker threads while
    a test (or ``POST /_sandbox/clock/advance``) moves the clock.

    ``faults`` is the run's fault profile; this class applies its data fault
    ``late_update_share`` (see ``table_as_of``) and makes the world's ``malformed_records``
    list the records it corrupts; the HTTP faults belong to the server."""

    def __init__(
        self, world: World, now: datetime | None = None, faults: FaultProfile | None = None
    ) -> None:
        self.faults = faults if faults is not None else PROFILES["none"]
        # The ledger must list exactly what this run serves corrupted (reconcile reads it).
        world = with_malformed_records(world, self.faults)
        self.world = world
        if now is not None and now < world.end:
            # Inventory is derived forward from the ledger's snapshot at ``end``.
            raise ValueError("the clock starts at the world's end or later")
        self._now = world.end if now is None else now
        self._lock = threading.RLock()
        self._asof = AsOf(world, self.faults)
        self._derived: OrderedDict[Hashable, Any] = OrderedDict()
        self._cached_at: datetime | None = None

    @classmethod
    def generate(
        cls,
        seed: int = 42,
        n_orders: int = 2000,
        end: datetime = DEFAULT_END,
        days: int = 90,
        future_days: int = 30,
        faults: FaultProfile | None = None,
    ) -> SandboxState:
        """A fresh world (see ``generate_world``) with the clock at its ``end``."""
        return cls(generate_world(seed, n_orders, end, days, future_days), faults=faults)

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

    def table_as_of(self, name: str) -> pl.DataFrame:
        """Ledger table ``name`` as of ``now``: what an API may show at this instant.

        - Rows: those that exist at ``now`` (created, placed, shipped, ordered... at or before
          ``now``; static tables such as ``products`` whole).
        - Columns: every ledger column (``LEDGER.md``) plus the generator's extras; event
          timestamps later than ``now`` are null, and the columns that summarise events are
          recomputed from what happened by ``now``: ``orders`` (``paid_at`` ...
          ``outcome``, ``refunded_minor``, ``updated_at``, plus Shopify's
          ``financial_status``/``fulfillment_status``/``closed_at`` and ``is_*`` flags),
          ``customers.order_count``, ``shipments.status``/``delivered_at``,
          ``purchase_orders.status``/``received_at``, ``transfers.received_at``/``status``,
          ``disputes.status``/``closed_at``, ``payouts.status``, ``payout_id`` of payments,
          refunds and balance transactions (null until the payout exists), and ``inventory``
          (stock moved by shipments, receipts, transfers and restocks up to ``now``).
        - Late updates: with a fault profile whose ``late_update_share > 0``, that share of
          orders (chosen per order id and seed, deterministically) is seen with a delay of up
          to ``late_update_max_delay_s``: their rows in the order tables (``orders``,
          ``order_lines``, ``shipments``, ``shipment_lines``, ``refunds``, ``refund_lines``)
          show the state as of ``now - delay``, so a change stamped ``updated_at = t`` becomes
          visible only at ``t + delay``.
        - Sorted by primary key. Cached per clock position: treat the frame as read-only.

        Raises ``KeyError`` for a name that is not a ledger table."""
        with self._lock:
            return self._asof.table(name, self._now)

    def ledger_table(self, name: str) -> pl.DataFrame:
        """Ledger table ``name`` as generated (with this run's malformed records listed), every
        row and event up to the horizon: for renderers that apply the clock themselves and keep
        what does not depend on it across clock positions. Raises ``KeyError`` for a name that
        is not a ledger table."""
        return self.world.frames()[name]

    def view(self, name: str) -> pl.DataFrame:
        """Alias of ``table_as_of``."""
        return self.table_as_of(name)

    def sorted_view(self, name: str, by: Sequence[str], descending: bool = False) -> pl.DataFrame:
        """``table_as_of(name)`` sorted by ``by`` (all ascending or all descending), cached per
        clock position: paging handlers filter this and slice, never sort per request."""
        return self.cached(
            ("sorted_view", name, tuple(by), descending),
            lambda: self.table_as_of(name).sort(
                list(by), descending=descending, maintain_order=True
            ),
        )

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` computed once per clock position and ``key`` (the most recent 32 keys
        are kept): for views a renderer derives from ``table_as_of`` and reuses across pages.
        The result must be treated as read-only."""
        with self._lock:
            self._sync_cache()
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
            found = build()
            self._derived[key] = found
            if len(self._derived) > _MAX_DERIVED:
                self._derived.popitem(last=False)
            return found

    def orders_view(self) -> pl.DataFrame:
        """Orders of every channel as of ``now`` (``table_as_of("orders")``); filter
        ``channel_id`` for one channel."""
        return self.table_as_of("orders")

    def inventory_view(self) -> pl.DataFrame:
        """Stock levels at ``now``, sorted by (warehouse_code, sku)."""
        return self.table_as_of("inventory")

    def _sync_cache(self) -> None:
        if self._cached_at != self._now:
            self._derived.clear()
            self._cached_at = self._now
