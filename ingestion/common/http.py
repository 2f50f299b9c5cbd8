"""HTTP client for connectors: rate limits, ``Retry-After``, retries with backoff, clear errors.

Policy, the same for every API:
- a client-side token bucket keeps us within the published limit;
- 429 waits for ``Retry-After`` (or the bucket's refill) and tries again; it never counts as a
  failure, because the server told us exactly what to do;
- 5xx, timeouts and dropped connections are retried with exponential backoff (tenacity) up to
  ``max_attempts``; 408 is treated as a timeout;
- any other 4xx raises ``ApiError`` at once: retrying a bad token or a bad parameter cannot fix it.

Two opt-in refinements for APIs that pace clients through headers instead of ``Retry-After``
(Amazon SP-API): ``rate_limit_header`` names a response header announcing the rate the server
grants, which the bucket adopts; ``backoff_bare_429`` makes consecutive 429s that carry no
``Retry-After`` wait exponentially longer instead of one refill interval each. Both default off,
so every other API keeps the behaviour above.

One client may serve several threads (a source's per-order requests overlapped by
``ingestion.common.concurrency.RequestPool``): httpx's client and the token bucket are
thread-safe, and the request counters take a lock.

Headers are never logged: they carry credentials.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ingestion.common.rate_limit import TokenBucket

log = logging.getLogger(__name__)


class ApiError(RuntimeError):
    """A response retrying cannot fix (4xx other than 408/429), or retries ran out."""

    def __init__(self, api: str, method: str, url: str, status: int | None, detail: str) -> None:
        self.status = status
        super().__init__(f"{api}: {method} {url} failed ({status or 'no response'}): {detail}")


class _Retryable(Exception):
    """Internal marker: a transient failure that the retry loop should try again."""


@dataclass
class RequestStats:
    """Counters a run reports in its metadata, so rate limiting and retries are visible.

    A source's clients share one, and requests overlapped on threads
    (``ingestion.common.concurrency``) count into it at once: ``add`` takes a lock, because
    ``+=`` on an attribute is a read and a write that two threads can interleave."""

    requests: int = 0
    rate_limited: int = 0
    retried: int = 0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self, requests: int = 0, rate_limited: int = 0, retried: int = 0, waited_s: float = 0.0
    ) -> None:
        with self._lock:
            self.requests += requests
            self.rate_limited += rate_limited
            self.retried += retried
            self.waited_s += waited_s

    def as_dict(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "retried": self.retried,
            "waited_s": round(self.waited_s, 3),
        }


@dataclass
class ApiClient:
    """A polite HTTP client for one API."""

    api: str
    base_url: str
    headers: Mapping[str, str]
    bucket: TokenBucket
    timeout_s: float = 30.0
    max_attempts: int = 6
    max_rate_limit_waits: int = 200
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # Header carrying the server's granted rate in requests per second (SP-API:
    # "x-amzn-RateLimit-Limit"); when set, the bucket adopts every valid value it announces.
    rate_limit_header: str | None = None
    # Exponential waits for 429s without Retry-After (SP-API sends none): a fixed wait of one
    # refill interval would keep hitting a server whose real budget is lower than announced.
    backoff_bare_429: bool = False
    # What of a refused response goes into ``ApiError``: the body's start by default; an API
    # whose error bodies could echo credentials passes a function that picks safe fields.
    describe_error: Callable[[httpx.Response], str] = field(default=lambda r: r.text[:500])
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    stats: RequestStats = field(default_factory=RequestStats)

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=dict(self.headers),
            timeout=self.timeout_s,
            transport=self.transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET ``url`` (absolute, or relative to ``base_url``) under the full retry policy."""
        return self._request("GET", url, params=params)

    def post(
        self,
        url: str,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST under the same policy as ``get`` (bucket, ``Retry-After``, retries of 5xx and
        timeouts). Because a retried POST is sent again, use it only for requests that are
        safe to repeat, such as an OAuth client-credentials token request. ``auth`` (basic
        credentials) and per-request ``headers`` never reach a log or an error message."""
        return self._request("POST", url, data=data, json=json, auth=auth, headers=headers)

    def _request(self, method: str, url: str, **options: Any) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential_jitter(initial=self.backoff_initial_s, max=self.backoff_max_s),
            sleep=self.sleep,
            before_sleep=lambda state: self._count_retry(method, state),
            reraise=True,
        )
        try:
            return retrying(self._send_respecting_rate_limits, method, url, options)
        except _Retryable as exc:
            raise ApiError(self.api, method, url, None, f"gave up after retries: {exc}") from exc

    def _count_retry(self, method: str, retry_state: Any) -> None:
        self.stats.add(retried=1)
        log.warning("%s: retrying %s after %s", self.api, method, retry_state.outcome.exception())

    def _send_respecting_rate_limits(
        self, method: str, url: str, options: dict[str, Any]
    ) -> httpx.Response:
        bare_429s = 0
        for _ in range(self.max_rate_limit_waits):
            self.stats.add(requests=1, waited_s=self.bucket.acquire())
            try:
                response = self._client.request(method, url, **options)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            self._adopt_announced_rate(response)
            if response.status_code == 429:
                self.stats.add(rate_limited=1)
                refill = 1.0 / self.bucket.rate_per_s
                if self.backoff_bare_429 and "Retry-After" not in response.headers:
                    # One refill interval, doubling per consecutive bare 429, capped at
                    # backoff_max_s (or at one interval, when a single token takes longer).
                    cap = max(self.backoff_max_s, refill)
                    wait = min(cap, refill * 2.0**bare_429s)
                    bare_429s += 1
                else:
                    wait = _retry_after_seconds(response, default=refill)
                self.bucket.drain()
                self.sleep(wait)
                self.stats.add(waited_s=wait)
                continue
            if response.status_code == 408 or response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise ApiError(
                    self.api,
                    method,
                    str(response.request.url.copy_with(query=None)),
                    response.status_code,
                    self.describe_error(response),
                )
            return response
        raise ApiError(self.api, method, url, 429, "still rate limited after many waits")

    def _adopt_announced_rate(self, response: httpx.Response) -> None:
        """Pace the bucket at the rate the server says it grants (429s carry it too). Values
        that are not positive finite numbers are ignored: a garbled header must not stall or
        unleash the client."""
        if self.rate_limit_header is None:
            return
        raw = response.headers.get(self.rate_limit_header)
        try:
            rate = float(raw) if raw is not None else math.nan
        except ValueError:
            return
        if math.isfinite(rate) and rate > 0 and rate != self.bucket.rate_per_s:
            log.info("%s: server grants %g requests/s; pacing to it", self.api, rate)
            self.bucket.set_rate(rate)


def _retry_after_seconds(response: httpx.Response, default: float) -> float:
    """``Retry-After`` is seconds (Shopify sends "2.0"); an HTTP-date form falls back to default."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def load_json(content: bytes) -> Any:
    """orjson for speed; it refuses integers beyond 64 bits, where the standard library keeps
    them exact, so fall back rather than fail."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
