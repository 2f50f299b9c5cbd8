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

Memory: every cache draws from one ``BytePool``. By default that is the process-wide pool
(``shared_pool``, 1 GiB unless ``set_shared_limit`` or the server's ``--cache-mb`` says
otherwise), so Shopify's orders, AfterShip's trackings, Stripe's objects and any list added later
hold at most that many bytes together, and the least recently used rendering of any list goes
first. Before, each list had its own 1 GiB, so the total grew with every API converted to lazy
rendering. A cache given its own budget (``RenderCache(budget)``) gets a private pool of that
size, as before.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import polars as pl

# Records rendered in one pass when a page misses: the page and the records after it.
READ_AHEAD = 4_000
# The process-wide pool's size when nothing set it (read when the pool is first used).
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


class BytePool:
    """A byte budget several ``RenderCache``s draw from, with one least-recently-used order
    across all of them: once more than ``limit`` bytes are held, the entries used longest ago go
    first, whichever cache holds them (always keeping the newest entry, however large).

    Thread-safe; its lock guards only bookkeeping (never held while rendering). A cache that is
    garbage-collected gives its bytes back."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"a byte budget cannot be negative: {limit}")
        self.limit = limit
        self._held = 0
        self.lock = threading.Lock()
        # Tokens of caches collected since the last locked operation (``leave``).
        self._left: deque[int] = deque()
        # Every entry of every cache, least recently used first: (cache token, key) -> bytes.
        self._lru: OrderedDict[tuple[int, Hashable], int] = OrderedDict()
        self._tables: dict[int, dict[Hashable, Entry]] = {}
        self._held_by: dict[int, int] = {}
        self._tokens = itertools.count()

    @property
    def held(self) -> int:
        """Bytes the caches still alive hold."""
        with self.lock:
            self._forget_left()
            return self._held

    def join(self, table: dict[Hashable, Entry]) -> int:
        """Register a cache's entry table; returns the token its entries are filed under."""
        with self.lock:
            self._forget_left()
            token = next(self._tokens)
            self._tables[token] = table
            self._held_by[token] = 0
            return token

    def leave(self, token: int) -> None:
        """Forget a cache and every byte it held. Called by the cache's finalizer, which the
        garbage collector may run on a thread that holds ``lock`` (an allocation inside
        ``store``): taking the lock here would deadlock that thread, so the token is only
        queued, and the next locked operation forgets the cache."""
        self._left.append(token)

    def _forget_left(self) -> None:
        """Drop the entries of every collected cache (caller holds ``lock``)."""
        while self._left:
            token = self._left.popleft()
            table = self._tables.pop(token, {})
            for key, entry in table.items():
                del self._lru[(token, key)]
                self._held -= entry.size
            table.clear()
            self._held_by.pop(token, None)

    def held_by(self, token: int) -> int:
        return self._held_by.get(token, 0)

    def touch(self, token: int, key: Hashable) -> None:
        """Mark an entry as just used (caller holds ``lock``)."""
        self._lru.move_to_end((token, key))

    def store(self, token: int, key: Hashable, entry: Entry) -> None:
        """File ``entry`` under ``key`` in the cache ``token``, replacing any older rendering,
        then evict across caches down to ``limit`` (caller holds ``lock``)."""
        self._forget_left()
        table = self._tables[token]
        old = table.pop(key, None)
        if old is not None:
            del self._lru[(token, key)]
            self._release(token, old.size)
        table[key] = entry
        self._lru[(token, key)] = entry.size
        self._held += entry.size
        self._held_by[token] += entry.size
        while self._held > self.limit and len(self._lru) > 1:
            (owner, evicted), size = self._lru.popitem(last=False)
            del self._tables[owner][evicted]
            self._release(owner, size)

    def resize(self, limit: int) -> None:
        """Change the budget, evicting the least recently used entries if it shrank."""
        if limit < 0:
            raise ValueError(f"a byte budget cannot be negative: {limit}")
        with self.lock:
            self._forget_left()
            self.limit = limit
            while self._held > self.limit and self._lru:
                (owner, evicted), size = self._lru.popitem(last=False)
                del self._tables[owner][evicted]
                self._release(owner, size)

    def _release(self, token: int, size: int) -> None:
        self._held -= size
        self._held_by[token] -= size


_shared: BytePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> BytePool:
    """The process-wide pool every ``RenderCache()`` without a budget of its own draws from
    (``DEFAULT_CACHE_BYTES`` until ``set_shared_limit`` changes it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BytePool(DEFAULT_CACHE_BYTES)
        return _shared


def set_shared_limit(limit: int) -> BytePool:
    """Size the process-wide pool (the server's ``--cache-mb``); returns it."""
    pool = shared_pool()
    pool.resize(limit)
    return pool


class RenderCache(Generic[E]):
    """Renderings by record key, drawn from a ``BytePool``: the process-wide one by default, or
    a private pool of ``budget`` bytes. Thread-safe (the server renders from its worker
    threads); ``lock`` serialises rendering for this cache only."""

    def __init__(self, budget: int | None = None, pool: BytePool | None = None) -> None:
        if budget is not None and pool is not None:
            raise ValueError("give a RenderCache a budget or a pool, not both")
        self.pool = pool or (shared_pool() if budget is None else BytePool(budget))
        self.rendered = 0  # records rendered so far (a hit costs none)
        self._entries: dict[Hashable, E] = {}
        self._token = self.pool.join(self._entries)  # type: ignore[arg-type]
        weakref.finalize(self, self.pool.leave, self._token)
        self.lock = threading.RLock()

    @property
    def budget(self) -> int:
        """Bytes the pool this cache draws from may hold (shared with other caches or not)."""
        return self.pool.limit

    @property
    def held(self) -> int:
        """Bytes this cache holds now."""
        return self.pool.held_by(self._token)

    def get(self, key: Hashable, version: int) -> E | None:
        """The rendering of this version of the record, or None."""
        with self.pool.lock:
            found = self._entries.get(key)
            if found is None or found.version != version:
                return None
            self.pool.touch(self._token, key)
            return found

    def put(self, key: Hashable, entry: E) -> None:
        with self.pool.lock:
            self.pool.store(self._token, key, entry)

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
