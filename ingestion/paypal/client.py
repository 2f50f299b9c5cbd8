"""PayPal REST: an OAuth2 client-credentials token cached until it expires, and Transaction
Search read in windows of at most 31 days, page by page.

Every request, the token POST included, goes through the shared ``ApiClient`` (token bucket,
``Retry-After``, retries of 5xx and timeouts; any other 4xx, such as a wrong client id or secret,
fails at once). Neither the secret nor the token is ever put in an error or a log line: a refused
token request reports only OAuth's ``error`` and ``error_description``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ingestion.common.http import ApiClient, ApiError, RequestStats, load_json
from ingestion.common.parsing import BadValue, utc_timestamp
from ingestion.common.rate_limit import TokenBucket
from ingestion.paypal import settings

log = logging.getLogger(__name__)


class RedactedHeaders(dict[str, str]):
    """Headers whose ``repr`` hides their values (the bearer token), wherever a client is
    printed."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: '***'" for k in self) + "}"


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # on the client's clock


# Tokens by (base URL, client id, digest of the secret): a process that loads several times
# (a scheduler, a test session) asks PayPal for a token once per lifetime, as PayPal advises.
_TOKENS: dict[tuple[str, str, str], _Token] = {}
_TOKENS_LOCK = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests; a rotated secret gets a new key anyway)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()


class PayPalClient:
    """GETs with a valid bearer token, renewed before expiry and once more on a 401."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        requests_per_second: float = settings.REQUESTS_PER_SECOND,
        burst: float = settings.BURST,
        stats: RequestStats | None = None,
        clock: Callable[[], float] = time.monotonic,
        **api_options: Any,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._cache_key = (
            self.base_url,
            client_id,
            hashlib.sha256(client_secret.encode()).hexdigest(),
        )
        self.bucket = TokenBucket(rate_per_s=requests_per_second, capacity=burst)
        self.stats = stats if stats is not None else RequestStats()
        self._clock = clock
        self._api_options = api_options
        self._api: ApiClient | None = None
        self._api_token: str | None = None

    def __enter__(self) -> PayPalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET under the shared policy; a 401 (token revoked or expired early) renews the
        token once and tries again, a second 401 is a real authorisation failure."""
        try:
            return self._authorised().get(path, params=params)
        except ApiError as exc:
            if exc.status != 401:
                raise
            log.info("paypal: access token refused, requesting a new one")
            self._forget_token()
            return self._authorised().get(path, params=params)

    # -- tokens ------------------------------------------------------------------------------

    def _authorised(self) -> ApiClient:
        token = self._token()
        if self._api is None or self._api_token != token:
            self.close()
            self._api = ApiClient(
                api="paypal",
                base_url=self.base_url,
                headers=RedactedHeaders(
                    {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                ),
                bucket=self.bucket,
                stats=self.stats,
                **self._api_options,
            )
            self._api_token = token
        return self._api

    def _token(self) -> str:
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache_key)
        if cached is not None and self._clock() < cached.expires_at:
            return cached.value
        token = self._request_token()
        with _TOKENS_LOCK:
            _TOKENS[self._cache_key] = token
        return token.value

    def _forget_token(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    def _request_token(self) -> _Token:
        """Client credentials for an access token (a POST that is safe to repeat, so the shared
        retry policy applies as it does to every GET)."""
        with ApiClient(
            api="paypal",
            base_url=self.base_url,
            headers={"Accept": "application/json"},
            bucket=self.bucket,
            stats=self.stats,
            describe_error=_oauth_error,
            **self._api_options,
        ) as api:
            response = api.post(
                settings.TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
            )
        body = load_json(response.content)
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not isinstance(expires_in, int | float):
            raise ApiError("paypal", "POST", settings.TOKEN_PATH, 200, "no access token")
        lifetime = max(0.0, float(expires_in) - settings.TOKEN_EXPIRY_MARGIN_S)
        return _Token(token, self._clock() + lifetime)


def _oauth_error(response: httpx.Response) -> str:
    """OAuth's ``error`` and ``error_description`` only: never echo what we sent."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    return ": ".join(str(body[k]) for k in ("error", "error_description") if k in body)


# -- Transaction Search ---------------------------------------------------------------------


def paypal_time(value: datetime) -> str:
    """PayPal's request format: UTC with seconds and an offset (``2026-10-01T07:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SearchPage:
    """One page of one window: the transaction details as served."""

    details: list[Any]
    window_start: datetime
    window_end: datetime


@dataclass
class WindowDone:
    """Every page of a window has been read: data up to ``loaded_until`` is complete."""

    loaded_until: datetime


def iter_search(
    client: PayPalClient,
    since: datetime,
    page_size: int = settings.PAGE_SIZE,
    window: timedelta = settings.MAX_WINDOW,
) -> Iterator[SearchPage | WindowDone]:
    """Transactions from ``since`` up to PayPal's ``last_refreshed_datetime``, window by window.

    Windows are at most 31 days (PayPal rejects longer ones). Within a window, pages are
    numbered from 1 to ``total_pages`` (read again on every page, since the window may grow
    while we read it). The end of the data is PayPal's own ``last_refreshed_datetime``: later
    transactions are not in its reporting store yet, whatever the clock says, so a window is
    complete only up to that instant. Consecutive windows share their boundary second; the
    merge on ``transaction_id`` absorbs the overlap.
    """
    window = min(window, settings.MAX_WINDOW)
    # Only if PayPal does not say how fresh its data is does the wall clock bound the walk.
    now = datetime.now(UTC)
    start = since
    refreshed: datetime | None = None
    while refreshed is None or start < refreshed:
        end = start + window
        page = 1
        while True:
            response = client.get(
                settings.TRANSACTIONS_PATH,
                params={
                    "start_date": paypal_time(start),
                    "end_date": paypal_time(end),
                    "fields": "all",
                    "page_size": page_size,
                    "page": page,
                },
            )
            body = load_json(response.content)
            if not isinstance(body, dict):
                raise ValueError("paypal: transaction search did not return an object")
            refreshed = _last_refreshed(body, default=min(end, now))
            details = body.get("transaction_details") or []
            if not isinstance(details, list):
                raise ValueError("paypal: transaction_details is not a list")
            yield SearchPage(details, start, end)
            total_pages = body.get("total_pages")
            if not isinstance(total_pages, int) or page >= total_pages:
                break
            page += 1
        yield WindowDone(min(end, refreshed))
        start = end


def _last_refreshed(body: dict[str, Any], default: datetime) -> datetime:
    value = body.get("last_refreshed_datetime")
    if value is None:
        return default
    try:
        return utc_timestamp(value, "last_refreshed_datetime")
    except BadValue:
        log.warning("paypal: unreadable last_refreshed_datetime %r", value)
        return default
