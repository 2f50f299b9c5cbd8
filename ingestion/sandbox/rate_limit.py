"""Shopify's REST rate limit: a leaky bucket per access token.

Why: connectors must prove they pace themselves and honour ``Retry-After``; the sandbox answers
exactly like Shopify (bucket of 40 requests leaking 2 per second on standard plans; 400 and 20
on Plus), so a connector that works here works against a real store. The clock is injectable
so that tests can drive time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketDecision:
    """Outcome of one request: ``used`` is what ``X-Shopify-Shop-Api-Call-Limit`` reports
    (``used/size``); ``retry_after`` (seconds) is set only when the request is refused."""

    allowed: bool
    used: int
    size: int
    retry_after: float | None = None

    @property
    def header(self) -> str:
        """The value of ``X-Shopify-Shop-Api-Call-Limit``, e.g. ``"32/40"``."""
        return f"{self.used}/{self.size}"


class LeakyBucket:
    """One bucket per key (access token). Each request adds 1; the level drains continuously at
    ``leak_rate_per_s``; a request that would overflow ``size`` is refused."""

    def __init__(
        self,
        size: int = 40,
        leak_rate_per_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1 or leak_rate_per_s <= 0:
            raise ValueError("bucket size must be >= 1 and the leak rate positive")
        self.size = size
        self.leak_rate_per_s = leak_rate_per_s
        self._clock = clock
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        level, at = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - at) * self.leak_rate_per_s)

    def acquire(self, key: str) -> BucketDecision:
        """Try to spend one request for ``key``."""
        with self._lock:
            now = self._clock()
            level = self._level(key, now)
            if level + 1.0 > self.size + 1e-9:
                self._levels[key] = (level, now)
                wait = (level + 1.0 - self.size) / self.leak_rate_per_s
                # Round up to a tenth of a second so that waiting exactly this long succeeds.
                return BucketDecision(False, self.size, self.size, math.ceil(wait * 10) / 10)
            level += 1.0
            self._levels[key] = (level, now)
            return BucketDecision(True, min(self.size, math.ceil(level - 1e-9)), self.size)

    def reset(self, key: str | None = None) -> None:
        """Empty one bucket (or all of them)."""
        with self._lock:
            if key is None:
                self._levels.clear()
            else:
                self._levels.pop(key, None)
