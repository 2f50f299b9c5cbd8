"""Client-side token bucket, one per API, so we stay inside each API's published limits instead
of discovering them through 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Refill arithmetic in floats can leave 0.9999999999999998 of a token after waiting exactly one
# token's time; counting that as a whole token keeps an injected clock from looping on
# ever-smaller waits that no longer move it.
_WHOLE = 1 - 1e-9


class TokenBucket:
    """Classic token bucket: ``capacity`` requests may burst, refilled at ``rate_per_s``.

    ``acquire`` blocks until a token is available. The clock and sleep are injectable so tests
    run without waiting.
    """

    def __init__(
        self,
        rate_per_s: float,
        capacity: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("rate_per_s must be > 0 and capacity >= 1")
        self.rate_per_s = rate_per_s
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_s)
        self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= _WHOLE:
                    self._tokens = max(0.0, self._tokens - 1)
                    return waited
                wait = (1 - self._tokens) / self.rate_per_s
            self._sleep(wait)
            waited += wait

    def set_rate(self, rate_per_s: float) -> None:
        """Refill at ``rate_per_s`` from now on. Tokens earned so far are counted at the old
        rate first, so a change never grants or takes away time already spent waiting. Used
        when the server announces the rate it actually grants (SP-API's
        ``x-amzn-RateLimit-Limit``), which can differ from the published default."""
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        with self._lock:
            self._refill()
            self.rate_per_s = rate_per_s

    def drain(self) -> None:
        """Empty the bucket: used when the server says we are over its limit, so the next
        request waits for a refill instead of hammering a server that already said no."""
        with self._lock:
            self._refill()
            self._tokens = 0.0
