"""Rendering records lazily, cached per record within a byte budget, and rendered again after
the clock moves only where a record changed: the one mechanism every large list endpoint uses.

Why: rendering every record of a list once per clock position kept pages fast, but at a million
orders it held gigabytes of JSON per API (a 1M run's server grew to 16.6 GB on its first
AfterShip request and was killed), and each move of the clock re-rendered the whole list before
the first page. Here a record is rendered when a page first needs it, together with the records
that follow it in the walk (``READ_AHEAD``, so the column-wise renderers work on batches, not
single records), and kept in a least-recently-used cache bounded by bytes. Each entry carries
the version of the row it was rendered from (``versioned``: a hash of the row, which must hold
every fact the JSON shows): after the clock moves, a record whose row did not change is served
from the cache as is, and only new and changed records are rendered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import polars as pl

# Records rendered in one pass when a page misses: the page and the records after it.
READ_AHEAD = 4_000
DEFAULT_CACHE_BYTES = 1 << 30
# What an entry costs beyond its JSON (dict slot, tuple, list and bytes object headers).
ENTRY_OVERHEAD = 400
VERSION = "_v"


class Entry(Protocol):
    """A cached rendering: the version of the row it came from and the bytes it holds."""

    @property
    def version(self) -> int: ...

    @property
    def size(self) -> int: ...


E = TypeVar("E", bound=Entry)


@dataclass(frozen=True)
class Rendered:
    """One record rendered as a single JSON document."""

    version: int
    json: bytes

    @property
    def size(self) -> int:
        return len(self.json) + ENTRY_OVERHEAD


def versioned(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with their version ``_v``: a hash of each whole row (equal rows, equal JSON)."""
    return rows.with_columns(rows.hash_rows(seed=7).alias(VERSION))


class RenderCache(Generic[E]):
    """Renderings by record key, least recently used first out once ``budget`` bytes are held.
    Thread-safe (the server renders from its worker threads)."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = DEFAULT_CACHE_BYTES if budget is None else budget
        self.held = 0
        self.rendered = 0  # records rendered so far (a hit costs none)
        self._entries: OrderedDict[Hashable, E] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, key: Hashable, version: int) -> E | None:
        """The rendering of this version of the record, or None."""
        found = self._entries.get(key)
        if found is None or found.version != version:
            return None
        self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, entry: E) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.held -= old.size
        self._entries[key] = entry
        self.held += entry.size
        while self.held > self.budget and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self.held -= evicted.size

    def renderings(
        self,
        rows: pl.DataFrame,
        key: str,
        render: Callable[[pl.DataFrame], Mapping[Hashable, E]],
        ahead: Callable[[], pl.DataFrame] | None = None,
    ) -> list[E]:
        """The rendering of each row of ``rows`` (keyed by column ``key``, versioned by
        ``_v``), in row order. When some are missing, ``render`` is called once on the missing
        rows among ``rows`` and ``ahead()`` (the records a walk asks for next) and must return
        a rendering per key of the frame it is given."""
        keys = rows[key].to_list()
        versions = rows[VERSION].to_list()
        with self.lock:
            found = [self.get(k, v) for k, v in zip(keys, versions, strict=True)]
            if all(f is not None for f in found):
                return found  # type: ignore[return-value]
            batch = rows if ahead is None else pl.concat([rows, ahead()], how="vertical_relaxed")
            batch = batch.unique(key, keep="first", maintain_order=True)
            missing = batch.filter(
                [self.get(k, v) is None for k, v in batch.select(key, VERSION).iter_rows()]
            )
            fresh = render(missing)
            for k, entry in fresh.items():
                self.put(k, entry)
            self.rendered += len(fresh)
            return [hit or fresh[k] for k, hit in zip(keys, found, strict=True)]

    def __len__(self) -> int:
        return len(self._entries)
