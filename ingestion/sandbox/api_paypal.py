"""Sandbox API: PayPal (OAuth2 client credentials and the Transaction Search / Reporting API).

Why: the PayPal connector must cope with what PayPal really serves: a bearer token obtained
with client credentials that expires, ``GET /v1/reporting/transactions`` windows of at most 31
days (a wider one is a 400 with PayPal's error shape), page-number pagination (``page`` from 1,
``page_size`` up to 500, ``total_pages``), amounts as ``{"currency_code", "value"}`` strings,
fees as negative amounts, ``+0000``-style offsets, and data that lags: rows appear only once
PayPal's reporting has refreshed (``last_refreshed_datetime``, the top of the sandbox hour).

Rows come from the ledger as of the sandbox clock: PayPal payments (event code T0006), refunds
of them (T1107, negative, with the refunded fee as a positive fee) and payouts to the seller's
bank (T0400, negative). Their JSON is rendered lazily (``render_cache``): a page renders the
transactions it lacks with the next ``READ_AHEAD`` of its window, and keeps them in a
byte-bounded cache versioned by every fact they show (``paypal_render.facts``), so after the
clock moves only new and changed transactions are rendered again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import urlencode

import numpy as np
import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import paypal_render
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.http_common import epoch_us, json_response, page_records
from ingestion.sandbox.jsonfrag import IdHashes
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.paypal_render import EVENT_PAYMENT, EVENT_REFUND, SECTIONS
from ingestion.sandbox.render_cache import (
    ENTRY_OVERHEAD,
    READ_AHEAD,
    VERSION,
    RenderCache,
    versioned,
)
from ingestion.sandbox.stripe_ledger import LedgerView

CLIENT_ID = "tradelane_sandbox_client_id"
CLIENT_SECRET = "tradelane_sandbox_client_secret"
TOKEN_TTL_S = 32_400
MAX_WINDOW = timedelta(days=31)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
ACCOUNT_NUMBER = "TLSBXMERCH0001"
_INFO_LINK = "https://developer.paypal.com/docs/api/transaction-search/v1/#errors"
_SCOPE = (
    "https://uri.paypal.com/services/reporting/search/read "
    "https://uri.paypal.com/services/payments/refund openid"
)
# PayPal's event code of a withdrawal to a bank (payments and refunds: paypal_render).
EVENT_PAYOUT = "T0400"
_ROW_SCHEMA = {
    "transaction_id": pl.String,
    "event_code": pl.String,
    "initiated_at": pl.Datetime("us", "UTC"),
    "amount_minor": pl.Int64,
    "currency": pl.String,
    "fee_minor": pl.Int64,
    "fee_currency": pl.String,
    "order_id": pl.Int64,
    "customer_id": pl.Int64,
    "reference_id": pl.String,
    "refunded_minor": pl.Int64,
    "status": pl.String,
}


class PayPalError(Exception):
    """An error in PayPal's REST shape (``name``, ``message``, ``details``)."""

    def __init__(
        self,
        status: int,
        name: str,
        message: str,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.details = status, name, message, details or []

    def response(self) -> Response:
        debug_id = hashlib.blake2b(self.message.encode(), digest_size=7).hexdigest()[:13]
        body = {
            "name": self.name,
            "message": self.message,
            "debug_id": debug_id,
            "information_link": _INFO_LINK,
            "details": self.details,
            "links": [],
        }
        return json_response(body, self.status, {"Paypal-Debug-Id": debug_id})


def _invalid(field: str, value: str, issue: str) -> PayPalError:
    return PayPalError(
        400,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        [{"field": field, "value": value, "location": "query", "issue": issue}],
    )


def parse_paypal_date(field: str, raw: str | None) -> datetime:
    """PayPal's ISO 8601 with an offset written ``-0700`` or ``-07:00`` (or ``Z``)."""
    if raw is None or not raw.strip():
        raise _invalid(field, "", f"{field} is required.")
    text = raw.strip().replace(" ", "+")
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(
                field, raw, "Invalid date format, expected yyyy-MM-ddTHH:mm:ssZ"
            ) from None
    if parsed.tzinfo is None:
        raise _invalid(field, raw, "The date must carry a time zone offset.")
    return parsed.astimezone(UTC)


def paypal_time(value: datetime) -> str:
    """``2026-10-01T07:00:00+0000``: UTC with PayPal's colon-less offset."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def convert_minor(amount_minor: int, rate: float, from_currency: str, to_currency: str) -> int:
    """``amount_minor`` of ``from_currency`` at ``rate`` in minor units of ``to_currency``,
    rounded half-even (the ledger's rule for settlement amounts)."""
    if from_currency == to_currency:
        return amount_minor
    shift = minor_units(to_currency) - minor_units(from_currency)
    value = Decimal(amount_minor) * Decimal(str(rate)) * Decimal(10) ** shift
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


class _Rows:
    """``transaction_rows`` with their version ``_v`` and their instants as an int64 array
    for binary search."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.epoch_us = frame["initiated_at"].dt.epoch("us").to_numpy()


@dataclass(frozen=True)
class _Rendered:
    """One transaction's rendered sections (``paypal_render.RENDERED``)."""

    version: int
    sections: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.sections) + ENTRY_OVERHEAD


def transaction_rows(view: LedgerView) -> pl.DataFrame:
    """Every PayPal transaction the ledger shows now, one row each (payments, refunds,
    payouts), sorted by (initiation instant, id) as PayPal lists them."""
    payments = view("payments").filter(pl.col("provider") == "paypal")
    orders = view("orders").select("order_id", "customer_id")
    refunds = (
        view("payment_refunds")
        .select(
            "payment_refund_id",
            "payment_id",
            "created_at",
            "amount_minor",
            "currency",
            "fee_refunded_minor",
        )
        .join(
            payments.select(
                "payment_id",
                "order_id",
                pl.col("fee_currency").alias("p_fee_currency"),
            ),
            on="payment_id",
            how="inner",
        )
    )
    refunded = refunds.group_by("payment_id").agg(pl.col("amount_minor").sum().alias("refunded"))
    pay_rows = (
        payments.join(refunded, on="payment_id", how="left")
        .join(orders, on="order_id", how="left")
        .select(
            pl.col("payment_id").alias("transaction_id"),
            pl.lit(EVENT_PAYMENT).alias("event_code"),
            pl.col("created_at").alias("initiated_at"),
            "amount_minor",
            "currency",
            (-pl.col("fee_minor")).alias("fee_minor"),
            "fee_currency",
            "order_id",
            "customer_id",
            pl.lit(None, pl.String).alias("reference_id"),
            pl.col("refunded").fill_null(0).alias("refunded_minor"),
            # Success, partially refunded (F) or reversed by a full refund (V).
            pl.when(pl.col("refunded").fill_null(0) >= pl.col("amount_minor"))
            .then(pl.lit("V"))
            .when(pl.col("refunded").fill_null(0) > 0)
            .then(pl.lit("F"))
            .otherwise(pl.lit("S"))
            .alias("status"),
        )
    )
    refund_rows = refunds.join(orders, on="order_id", how="left").select(
        pl.col("payment_refund_id").alias("transaction_id"),
        pl.lit(EVENT_REFUND).alias("event_code"),
        pl.col("created_at").alias("initiated_at"),
        (-pl.col("amount_minor")).alias("amount_minor"),
        "currency",
        pl.col("fee_refunded_minor").alias("fee_minor"),
        pl.col("p_fee_currency").alias("fee_currency"),
        "order_id",
        "customer_id",
        pl.col("payment_id").alias("reference_id"),
        pl.lit(0, pl.Int64).alias("refunded_minor"),
        pl.lit("S").alias("status"),
    )
    payouts = view("payouts").filter(pl.col("provider") == "paypal")
    payout_rows = payouts.select(
        pl.col("payout_id").alias("transaction_id"),
        pl.lit(EVENT_PAYOUT).alias("event_code"),
        pl.col("created_at").alias("initiated_at"),
        (-pl.col("amount_minor")).alias("amount_minor"),
        "currency",
        pl.lit(0, pl.Int64).alias("fee_minor"),
        pl.col("currency").alias("fee_currency"),
        pl.lit(None, pl.Int64).alias("order_id"),
        pl.lit(None, pl.Int64).alias("customer_id"),
        pl.lit(None, pl.String).alias("reference_id"),
        pl.lit(0, pl.Int64).alias("refunded_minor"),
        # A withdrawal is pending until the money reaches the bank.
        pl.when(pl.col("status") == "paid")
        .then(pl.lit("S"))
        .otherwise(pl.lit("P"))
        .alias("status"),
    )
    frames = [
        f.select(list(_ROW_SCHEMA)).cast(_ROW_SCHEMA) for f in (pay_rows, refund_rows, payout_rows)
    ]
    return pl.concat(frames).sort("initiated_at", "transaction_id")


class PayPalApi:
    """OAuth tokens and the reporting endpoint of one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.view = LedgerView(ctx.state)
        self.client_id: str = getattr(ctx.config, "paypal_client_id", CLIENT_ID)
        self.client_secret: str = getattr(ctx.config, "paypal_client_secret", CLIENT_SECRET)
        self.clock = ctx.config.rate_limit_clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self.hashes = IdHashes()
        # Every transaction's rendered sections, by id, within one byte budget.
        self.rendered: RenderCache[_Rendered] = RenderCache()

    # OAuth ---------------------------------------------------------------------------------

    def _client_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (user, password) == (self.client_id, self.client_secret)

    async def token(self, request: Request) -> Response:
        """``POST /v1/oauth2/token`` with ``grant_type=client_credentials``."""
        if not self._client_ok(request):
            return json_response(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                401,
                {"WWW-Authenticate": 'Basic realm="PayPal"'},
            )
        form = await request.form()
        grant = form.get("grant_type") or request.query_params.get("grant_type")
        if grant != "client_credentials":
            description = (
                "Grant Type is NULL" if not grant else f"Grant Type {grant} is not supported"
            )
            return json_response(
                {"error": "unsupported_grant_type", "error_description": description}, 400
            )
        serial = next(self._serial)
        digest = hashlib.blake2b(f"token:{serial}".encode(), digest_size=30).digest()
        token = "A21AA" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
        with self._lock:
            self._tokens[token] = self.clock() + TOKEN_TTL_S
        return json_response(
            {
                "scope": _SCOPE,
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": TOKEN_TTL_S,
                "nonce": f"{self.ctx.state.now:%Y-%m-%dT%H:%M:%SZ}{serial:012d}",
            }
        )

    def _bearer_error(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return json_response(
                {
                    "error": "invalid_token",
                    "error_description": "No permission for the requested operation",
                },
                401,
            )
        with self._lock:
            expires = self._tokens.get(token.strip())
        if expires is None:
            return json_response(
                {
                    "error": "invalid_token",
                    "error_description": "Token signature verification failed",
                },
                401,
            )
        if self.clock() >= expires:
            return json_response(
                {"error": "invalid_token", "error_description": "Access Token not found in cache"},
                401,
            )
        return None

    # Reporting ---------------------------------------------------------------------------

    def transactions(self, request: Request) -> Response:
        """``GET /v1/reporting/transactions``."""
        refused = self._bearer_error(request)
        if refused is not None:
            return refused
        try:
            body, previous = self.search(dict(request.query_params), str(request.url))
        except PayPalError as exc:
            return exc.response()
        body["transaction_details"] = page_records(
            request,
            body["transaction_details"],
            api="paypal",
            entity="transactions",
            id_field="transaction_info.transaction_id",
            previous=previous,
        )
        return json_response(body)

    def _accounts(self, customer_ids: pl.Series) -> pl.DataFrame:
        """PayPal account ids (``_account``) of customers (``_id``), hashed once per id."""
        return self.hashes.lookup(
            "account", customer_ids, {"_account": paypal_render.account_id}, {"_account": pl.String}
        )

    def _rows(self) -> _Rows:
        """Every transaction with its version and epoch (no JSON yet), built once per clock
        position: a connector's backfill walks dozens of windows and pages over the same
        rows."""

        def build() -> _Rows:
            rows = transaction_rows(self.view)
            facts = paypal_render.facts(self.view, rows)
            return _Rows(rows.with_columns(versioned(facts)[VERSION]))

        return self.view.derived(
            ("paypal", "rows"),
            ["payments", "payment_refunds", "payouts", "orders", "customers", "order_lines"],
            build,
        )

    def details(
        self,
        rows: pl.DataFrame,
        wanted: set[str],
        ahead: Callable[[], pl.DataFrame] | None = None,
    ) -> list[bytes]:
        """The ``transaction_details`` entries of ``rows`` (rows of ``_rows().frame``) with the
        ``wanted`` sections, from the cache or rendered with the rows ``ahead()`` returns."""

        def render_missing(missing: pl.DataFrame) -> dict[str, _Rendered]:
            frame = paypal_render.sections(
                self.view, missing.drop(VERSION), self._accounts, convert_minor
            )
            return {
                transaction_id: _Rendered(version, sections)
                for transaction_id, version, sections in zip(
                    missing["transaction_id"].to_list(),
                    missing[VERSION].to_list(),
                    paypal_render.rendered_sections(frame),
                    strict=True,
                )
            }

        found = self.rendered.renderings(rows, "transaction_id", render_missing, ahead)
        return paypal_render.entries((entry.sections for entry in found), wanted)

    def last_refreshed(self) -> datetime:
        """PayPal's reporting data lags: the sandbox refreshes it at the top of each hour."""
        now = self.ctx.state.now
        return now.replace(minute=0, second=0, microsecond=0)

    def search(
        self, params: dict[str, str], url: str
    ) -> tuple[dict[str, Any], Callable[[], list[dict[str, Any]]] | None]:
        """The response body for query ``params`` (raises ``PayPalError``), and a function
        rendering the previous page's last entry (None on page 1), for duplicate injection."""
        start = parse_paypal_date("start_date", params.get("start_date"))
        end = parse_paypal_date("end_date", params.get("end_date"))
        if end < start:
            raise _invalid("end_date", params["end_date"], "end_date must be after start_date.")
        if end - start > MAX_WINDOW:
            raise _invalid("end_date", params["end_date"], "Date range is greater than 31 days")
        refreshed = self.last_refreshed()
        if start > refreshed:
            raise PayPalError(
                400, "INVALID_REQUEST", "Data for the given start date is not available."
            )
        page = _positive_int(params, "page", 1, None)
        page_size = _positive_int(params, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        fields = {f.strip() for f in params.get("fields", "transaction_info").split(",")}
        sections = set(SECTIONS) if "all" in fields else (fields & set(SECTIONS))
        sections.add("transaction_info")

        rows = self._rows()
        # Rows are sorted by instant: the window is one contiguous slice.
        low = int(np.searchsorted(rows.epoch_us, epoch_us(start), side="left"))
        high = int(np.searchsorted(rows.epoch_us, epoch_us(min(end, refreshed)), side="right"))
        matched = rows.frame.slice(low, max(0, high - low))
        conditions = []
        for param, column in (
            ("transaction_id", "transaction_id"),
            ("transaction_type", "event_code"),
            ("transaction_status", "status"),
        ):
            if params.get(param):
                conditions.append(pl.col(column) == params[param])
        if params.get("transaction_currency"):
            conditions.append(pl.col("currency") == params["transaction_currency"].upper())
        if conditions:
            matched = matched.filter(*conditions)
        total = matched.height
        total_pages = max(1, math.ceil(total / page_size))
        offset = (page - 1) * page_size
        page_rows = self.details(
            matched.slice(offset, page_size),
            sections,
            lambda: matched.slice(offset + page_size, READ_AHEAD),
        )

        def previous() -> list[bytes]:
            return self.details(matched.slice(offset - 1, 1), sections)

        base = url.split("?", 1)[0]
        query = {k: v for k, v in params.items() if k not in ("page", "page_size")}

        def link(p: int, rel: str) -> dict[str, str]:
            href = f"{base}?{urlencode({**query, 'page_size': page_size, 'page': p})}"
            return {"href": href, "rel": rel, "method": "GET"}

        links = [link(page, "self")]
        if page < total_pages:
            links += [link(page + 1, "next"), link(total_pages, "last")]
        body = {
            "transaction_details": page_rows,
            "account_number": ACCOUNT_NUMBER,
            "start_date": paypal_time(start),
            "end_date": paypal_time(end),
            "last_refreshed_datetime": paypal_time(refreshed),
            "page": page,
            "total_items": total,
            "total_pages": total_pages,
            "links": links,
        }
        return body, (previous if offset > 0 and page_rows else None)


def _positive_int(params: dict[str, str], name: str, default: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, raw, f"{name} must be an integer.") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum is not None else "at least 1"
        raise _invalid(name, raw, f"{name} must be {bound}.")
    return value


def routes(ctx: SandboxContext) -> list[Route]:
    """The OAuth token route and the Transaction Search route."""
    api = PayPalApi(ctx)
    return [
        Route("/v1/oauth2/token", api.token, methods=["POST"]),
        Route("/v1/reporting/transactions", api.transactions, methods=["GET"]),
    ]
