"""Ledger access for the payment API families (Stripe, PayPal, Shopify Payments and the
Shopify order finance endpoints): tables as of the sandbox clock, key indexes for the few rows
a page needs, and derived views built once per clock position.

Why: a page renders at most a few hundred objects, but each one joins rows of half a dozen
ledger tables (a charge needs its balance transaction, refunds, dispute, order and customer).
Filtering a million-row table per lookup would make every page cost a full scan per table;
sorted key indexes make a lookup O(log n). Derived views (a list sorted for paging, PayPal's
union of payments, refunds and transfers) are rebuilt only when the state hands out a new
table frame, i.e. when the clock moves, which is how ``SandboxState.table_as_of`` caches too.
(Named after the first family that used it; PayPal and Shopify finance share it.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import numpy as np
import polars as pl

T = TypeVar("T")
# Derived views kept at once (list orders and filter combinations of all endpoints).
_MAX_DERIVED = 64


class LedgerState(Protocol):
    """What the payment APIs need from the sandbox state."""

    @property
    def now(self) -> datetime: ...

    def table_as_of(self, name: str) -> pl.DataFrame: ...


class _Index:
    """Row positions of ``frame`` sorted by one key column (nulls left out), and the frame
    itself in one chunk per column (gathering a few rows from a many-chunk column costs more
    than the lookup)."""

    def __init__(self, frame: pl.DataFrame, column: str) -> None:
        self.frame = frame.rechunk()
        keyed = frame.select(pl.col(column), _row=pl.int_range(pl.len(), dtype=pl.Int64))
        keyed = keyed.filter(pl.col(column).is_not_null()).sort(column, "_row")
        self.rows = keyed["_row"].to_numpy()
        series = keyed[column]
        self.keys = (
            series.to_numpy()
            if series.dtype.is_numeric()
            else np.array(series.to_list(), dtype=object)
        )

    def positions(self, values: Iterable[Any]) -> np.ndarray:
        """Row positions (ascending) whose key is one of ``values``."""
        wanted = sorted({v for v in values if v is not None})
        if not wanted or len(self.keys) == 0:
            return np.empty(0, dtype=np.int64)
        probe = np.array(wanted, dtype=self.keys.dtype)
        lo = np.searchsorted(self.keys, probe, side="left")
        hi = np.searchsorted(self.keys, probe, side="right")
        lengths = hi - lo
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        # Every position of every matched range: lo[i], lo[i] + 1, ..., hi[i] - 1.
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        return np.sort(self.rows[starts + np.arange(total)])


class LedgerView:
    """The ledger as one API family sees it. Callable: ``view("payments")`` is the table as of
    the clock; ``view.rows(table, column, values)`` its rows whose ``column`` is in ``values``;
    ``view.derived(key, tables, build)`` a view computed from ``tables`` and kept until one of
    them changes. Thread-safe (handlers run in a thread pool)."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._indexes: dict[tuple[str, str], tuple[pl.DataFrame, _Index]] = {}
        self._derived: OrderedDict[Hashable, tuple[list[pl.DataFrame], Any]] = OrderedDict()

    @property
    def now(self) -> datetime:
        return self.state.now

    def __call__(self, table: str) -> pl.DataFrame:
        return self.state.table_as_of(table)

    def rows(
        self,
        table: str,
        column: str,
        values: Iterable[Any],
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Rows of ``table`` whose ``column`` is one of ``values``, in table order (only
        ``columns`` of them when given: wide tables such as ``orders`` cost per column)."""
        frame = self(table)
        wanted = [v for v in values if v is not None]
        if not wanted or frame.height == 0:
            out = frame.clear()
        else:
            with self._lock:
                cached = self._indexes.get((table, column))
                if cached is None or cached[0] is not frame:
                    cached = self._indexes[(table, column)] = (frame, _Index(frame, column))
            index = cached[1]
            source = index.frame if columns is None else index.frame.select(columns)
            return source[index.positions(wanted)]
        return out if columns is None else out.select(columns)

    def dicts(
        self,
        table: str,
        column: str,
        values: Iterable[Any],
        columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """``rows`` as dicts."""
        return self.rows(table, column, values, columns).to_dicts()

    def by(
        self,
        table: str,
        column: str,
        values: Iterable[Any],
        columns: Sequence[str] | None = None,
    ) -> dict[Any, dict[str, Any]]:
        """``rows`` keyed by ``column`` (for a unique column)."""
        return {r[column]: r for r in self.dicts(table, column, values, columns)}

    def derived(self, key: Hashable, tables: Sequence[str], build: Callable[[], T]) -> T:
        """``build()``, reused while every table in ``tables`` is the same frame as when it was
        built (the state hands out new frames when the clock moves)."""
        frames = [self(t) for t in tables]
        with self._lock:
            found = self._derived.get(key)
            if found is not None and all(a is b for a, b in zip(found[0], frames, strict=True)):
                self._derived.move_to_end(key)
                return found[1]  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            # The entry holds its source frames, so a match by identity is never a reused id.
            self._derived[key] = (frames, value)
            self._derived.move_to_end(key)
            while len(self._derived) > _MAX_DERIVED:
                self._derived.popitem(last=False)
        return value
