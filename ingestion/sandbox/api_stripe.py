"""Sandbox API: Stripe (balance transactions, charges, refunds, disputes, payouts, balance).

Why: the Stripe connector must be proven against what Stripe really does, so these list
endpoints behave like ``api.stripe.com``: the list envelope, newest first, ``limit`` 1-100
(default 10), ``starting_after``/``ending_before`` object-id cursors with ``has_more``,
``created[gte|gt|lte|lt]`` in unix seconds, Stripe's error bodies (401 with the key masked, 400
for unknown parameters or cursors, 429 from a token bucket of 25 requests a second as in test
mode). Objects come from the ledger as of the sandbox clock (see ``stripe_objects``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import stripe_objects
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import page_faults
from ingestion.sandbox.http_common import json_response, page_records
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.render_cache import READ_AHEAD, VERSION, RenderCache, Rendered, versioned
from ingestion.sandbox.stripe_ledger import LedgerView

SECRET_KEY = "sk_test_sandbox"
# Stripe's test-mode limit: 25 requests a second, bursts of the same size.
RATE_PER_SECOND = 25
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_CREATED_OPS: dict[str, Callable[[pl.Expr, int], pl.Expr]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_DOCS = "https://stripe.com/docs/error-codes/"
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
_RATE_LIMITED = (
    "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)

Renderer = Callable[[stripe_objects.View, list[dict[str, Any]], datetime], list[dict[str, Any]]]
# Renders a table's rows column-wise (one JSON object per row, as bytes).
JsonRenderer = Callable[
    [stripe_objects.View, pl.DataFrame, datetime, stripe_objects.IdHashes], pl.Series
]


@dataclass(frozen=True)
class _Resource:
    """One list endpoint: which ledger table it serves, which of its rows are Stripe's, and
    which exact-match filters it takes (query parameter -> column)."""

    path: str
    table: str
    id_column: str
    noun: str
    render: Renderer | JsonRenderer
    stripe_rows: pl.Expr
    filters: dict[str, str] = field(default_factory=dict)
    # Whether ``render`` is a ``JsonRenderer``: the list's objects are then rendered lazily, a
    # page and the objects after it at a time, and cached (``render_cache``).
    prerendered: bool = False


# Tables without a provider column tell Stripe's rows by their id prefix.
_PROVIDER_IS_STRIPE = pl.col("provider") == "stripe"


RESOURCES = (
    _Resource(
        "/v1/balance_transactions",
        "balance_transactions",
        "balance_transaction_id",
        "balance transaction",
        lambda view, rows, now, _hashes: stripe_objects.balance_transactions_json(view, rows, now),
        _PROVIDER_IS_STRIPE,
        {"payout": "payout_id", "type": "type", "source": "source_id", "currency": "currency"},
        prerendered=True,
    ),
    _Resource(
        "/v1/charges",
        "payments",
        "payment_id",
        "charge",
        stripe_objects.charges_json,
        _PROVIDER_IS_STRIPE,
        prerendered=True,
    ),
    _Resource(
        "/v1/refunds",
        "payment_refunds",
        "payment_refund_id",
        "refund",
        stripe_objects.refunds_json,
        pl.col("payment_refund_id").str.starts_with("re_"),
        {"charge": "payment_id"},
        prerendered=True,
    ),
    _Resource(
        "/v1/disputes",
        "disputes",
        "dispute_id",
        "dispute",
        stripe_objects.render_disputes,
        pl.col("dispute_id").str.starts_with("dp_"),
        {"charge": "payment_id"},
    ),
    _Resource(
        "/v1/payouts",
        "payouts",
        "payout_id",
        "payout",
        stripe_objects.render_payouts,
        _PROVIDER_IS_STRIPE,
        {"status": "status"},
    ),
)


class StripeError(Exception):
    """A Stripe ``invalid_request_error`` (HTTP 400 unless told otherwise)."""

    def __init__(self, message: str, param: str | None, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.param, self.code, self.status = message, param, code, status

    def response(self, headers: dict[str, str]) -> Response:
        error: dict[str, Any] = {
            "code": self.code,
            "doc_url": _DOCS + self.code.replace("_", "-"),
            "message": self.message,
            "type": "invalid_request_error",
        }
        if self.param is not None:
            error["param"] = self.param
        return json_response({"error": error}, self.status, headers)


def mask_key(key: str) -> str:
    """Stripe's rendering of a wrong key in its 401 message: the ``sk_test_`` style prefix and
    the last four characters, asterisks between."""
    parts = key.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 else ""
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def _presented_key(request: Request) -> str | None:
    """The API key of ``Authorization: Bearer KEY`` or ``Basic base64(KEY:)`` (both are what
    Stripe accepts)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            return base64.b64decode(value.strip()).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _parse_int(param: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise StripeError(f"Invalid integer: {raw}", param, "parameter_invalid_integer") from None


def _parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    limit = _parse_int("limit", raw)
    if limit < 1:
        raise StripeError(
            "This value must be greater than or equal to 1.", "limit", "parameter_invalid_integer"
        )
    if limit > MAX_LIMIT:
        raise StripeError(
            f"This value must be less than or equal to {MAX_LIMIT}.",
            "limit",
            "parameter_invalid_integer",
        )
    return limit


class StripeApi:
    """Handlers for one sandbox: key check, token bucket, list endpoints."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.view = LedgerView(ctx.state)
        self.secret_key: str = getattr(ctx.config, "stripe_secret_key", SECRET_KEY)
        self.bucket = LeakyBucket(
            RATE_PER_SECOND, float(RATE_PER_SECOND), clock=ctx.config.rate_limit_clock
        )
        self._request_ids = itertools.count(1)
        self.hashes = stripe_objects.IdHashes()
        # Rendered objects of every ``prerendered`` list, by (path, id), within one byte budget.
        self.rendered: RenderCache[Rendered] = RenderCache()

    def _gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        headers = {
            "Request-Id": f"req_{next(self._request_ids):014d}",
            "Stripe-Version": "2024-06-20",
        }
        key = _presented_key(request)
        if key is None or key != self.secret_key:
            message = _NO_KEY if key is None else f"Invalid API Key provided: {mask_key(key)}"
            headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
            body = {"error": {"message": message, "type": "invalid_request_error"}}
            return json_response(body, 401, headers), headers
        decision = self.bucket.acquire(key)
        if not decision.allowed:
            # Stripe itself sends no Retry-After; the sandbox adds one so that a client can
            # wait exactly long enough, and Stripe-Should-Retry as Stripe does.
            headers["Retry-After"] = f"{decision.retry_after:.1f}"
            headers["Stripe-Should-Retry"] = "true"
            body = {
                "error": {
                    "code": "rate_limit",
                    "message": _RATE_LIMITED,
                    "type": "rate_limit_error",
                }
            }
            return json_response(body, 429, headers), headers
        return None, headers

    def handler(self, resource: _Resource) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            refused, headers = self._gate(request)
            if refused is not None:
                return refused
            try:
                body, previous = self.list_objects(
                    resource, list(request.query_params.multi_items())
                )
            except StripeError as exc:
                return exc.response(headers)
            entity = resource.path.rsplit("/", 1)[-1]
            if resource.prerendered:
                body["data"] = page_records(
                    request,
                    body["data"],
                    api="stripe",
                    entity=entity,
                    id_field="id",
                    previous=previous,
                )
            else:
                body["data"] = page_faults(request, "stripe", entity, body["data"], "id", previous)
            return json_response(body, 200, headers)

        return handle

    def list_objects(
        self, resource: _Resource, params: list[tuple[str, str]]
    ) -> tuple[dict[str, Any], Callable[[], list[dict[str, Any]]] | None]:
        """The list envelope of one page of ``resource`` for query ``params``, and a function
        rendering the object just before the page (the ``starting_after`` one, whose repetition
        is what a duplicated record looks like), None when walking backwards or from the top."""
        allowed = {"limit", "starting_after", "ending_before", "created", *resource.filters}
        allowed |= {f"created[{op}]" for op in _CREATED_OPS}
        query: dict[str, str] = {}
        for name, value in params:
            if name.startswith("expand"):
                continue  # expansions only change nested ids into objects: served unexpanded
            if name not in allowed:
                raise StripeError(f"Received unknown parameter: {name}", name, "parameter_unknown")
            query[name] = value
        limit = _parse_limit(query.get("limit"))
        if "starting_after" in query and "ending_before" in query:
            raise StripeError(
                "You may only specify one of these parameters: ending_before, starting_after.",
                "ending_before",
                "parameter_invalid_string",
            )

        filters: list[tuple[str, Any]] = []
        if "created" in query:
            filters.append(("created", _parse_int("created", query["created"])))
        for op in _CREATED_OPS:
            name = f"created[{op}]"
            if name in query:
                filters.append((op, _parse_int(name, query[name])))
        for name in resource.filters:
            if name in query:
                value = query[name]
                if name == "payout" and self.view.rows("payouts", "payout_id", [value]).is_empty():
                    raise StripeError(f"No such payout: '{value}'", "payout", "resource_missing")
                filters.append((name, value.lower() if name == "currency" else value))
        table = self._rendered(resource) if resource.prerendered else self.view(resource.table)
        listed = self.view.derived(
            ("stripe", resource.path, tuple(filters)),
            [resource.table],
            lambda: _SortedList.build(table, resource, filters),
        )

        after_id = query.get("starting_after")
        before_id = query.get("ending_before")
        cursor: tuple[str, int] | None = None
        cursor_id = after_id if after_id is not None else before_id
        if cursor_id is not None:
            anchor = self.view.rows(resource.table, resource.id_column, [cursor_id])
            if anchor.is_empty():
                param = "starting_after" if after_id is not None else "ending_before"
                raise StripeError(
                    f"No such {resource.noun}: '{cursor_id}'", param, "resource_missing"
                )
            cursor = (cursor_id, int(anchor["created_at"].dt.epoch("s")[0]))
        if after_id is not None:
            rows, has_more = listed.page(limit, after=cursor)
        else:
            rows, has_more = listed.page(limit, before=cursor)
        previous: Callable[[], list[Any]] | None = None
        if resource.prerendered:
            ahead = None
            if after_id is not None or before_id is None:  # walking forwards: read ahead
                at = 0 if rows.is_empty() else listed.position[rows[resource.id_column][-1]] + 1
                ahead = lambda: listed.frame.slice(at, READ_AHEAD)  # noqa: E731
            data: list[Any] = self.json_of(resource, rows, ahead)
            if after_id is not None:

                def previous() -> list[Any]:
                    anchor = table.filter(pl.col(resource.id_column) == after_id)
                    return self.json_of(resource, anchor)

        else:
            render: Renderer = resource.render  # type: ignore[assignment]
            data = render(self.view, rows.to_dicts(), self.view.now)
            if after_id is not None:
                anchor_rows = self.view.dicts(resource.table, resource.id_column, [after_id])
                previous = functools.partial(render, self.view, anchor_rows, self.view.now)
        body = {"object": "list", "data": data, "has_more": has_more, "url": resource.path}
        return body, previous

    def _rendered(self, resource: _Resource) -> pl.DataFrame:
        """The resource's Stripe rows, each with its version ``_v``; no JSON yet.

        The version hashes the row together with the clock: a Stripe object shows facts of
        other tables (a charge's refunds, a balance transaction's payout) and of the clock, so
        its own row cannot tell whether it changed; an entry is reused within one clock
        position, and every object is rendered again after the clock moves."""

        def build() -> pl.DataFrame:
            rows = self.view(resource.table).filter(resource.stripe_rows)
            clock = rows.with_columns(_now=pl.lit(self.view.now))
            return rows.with_columns(versioned(clock)[VERSION])

        return self.view.derived(("stripe-rows", resource.path), [resource.table], build)

    def json_of(
        self,
        resource: _Resource,
        rows: pl.DataFrame,
        ahead: Callable[[], pl.DataFrame] | None = None,
    ) -> list[bytes]:
        """The JSON of ``rows`` (rows of ``_rendered(resource)``), from the cache or rendered
        with the rows ``ahead()`` returns in one pass."""
        render: JsonRenderer = resource.render  # type: ignore[assignment]
        # The cache is shared by the lists: an object's key is its path and id.
        key = pl.concat_str(pl.lit(resource.path), pl.col(resource.id_column)).alias("_k")

        def render_missing(missing: pl.DataFrame) -> dict[str, Rendered]:
            json = render(self.view, missing.drop(VERSION, "_k"), self.view.now, self.hashes)
            return {
                k: Rendered(version, text)
                for k, version, text in zip(
                    missing["_k"].to_list(), missing[VERSION].to_list(), json.to_list(), strict=True
                )
            }

        keyed_ahead = None if ahead is None else lambda: ahead().with_columns(key)
        found = self.rendered.renderings(rows.with_columns(key), "_k", render_missing, keyed_ahead)
        return [entry.json for entry in found]

    def balance(self, request: Request) -> Response:
        """``GET /v1/balance``: what the next payouts will pay (see ``render_balance``)."""
        refused, headers = self._gate(request)
        if refused is not None:
            return refused
        if request.query_params:
            name = next(iter(request.query_params))
            error = StripeError(f"Received unknown parameter: {name}", name, "parameter_unknown")
            return error.response(headers)
        return json_response(stripe_objects.render_balance(self.view, self.view.now), 200, headers)


@dataclass(frozen=True)
class _SortedList:
    """One list's rows in Stripe's order (newest first, ties by id), built once per clock
    position and filter combination, so that a page costs a dictionary lookup and a slice."""

    frame: pl.DataFrame
    ids: list[str]
    position: dict[str, int]
    descending_created: np.ndarray

    @classmethod
    def build(
        cls, table: pl.DataFrame, resource: _Resource, filters: list[tuple[str, Any]]
    ) -> _SortedList:
        created = pl.col("created_at").dt.epoch("s")
        conditions = [resource.stripe_rows]
        for name, value in filters:
            if name == "created":
                conditions.append(created == value)
            elif name in _CREATED_OPS:
                conditions.append(_CREATED_OPS[name](created, value))
            else:
                column = resource.filters[name]
                col = pl.col(column).str.to_lowercase() if name == "currency" else pl.col(column)
                conditions.append(col == value)
        frame = (
            table.filter(*conditions)
            .with_columns(_created_s=created)
            .sort(["_created_s", resource.id_column], descending=True)
        )
        ids = frame[resource.id_column].to_list()
        return cls(
            frame.drop("_created_s"),
            ids,
            {v: i for i, v in enumerate(ids)},
            -frame["_created_s"].to_numpy(),
        )

    def page(
        self,
        limit: int,
        after: tuple[str, int] | None = None,
        before: tuple[str, int] | None = None,
    ) -> tuple[pl.DataFrame, bool]:
        """Rows of one page and ``has_more`` (beyond the page in the direction of travel);
        ``after``/``before`` are the cursor object's (id, created)."""
        if before is not None:
            end = self._index(*before)
            start = max(0, end - limit)
            return self.frame.slice(start, end - start), start > 0
        start = 0
        if after is not None:
            found = self.position.get(after[0])
            start = found + 1 if found is not None else self._index(*after)
        return self.frame.slice(start, limit), start + limit < len(self.ids)

    def _index(self, object_id: str, created: int) -> int:
        """Where ``object_id`` is, or would be: a cursor from another filter combination still
        falls between its neighbours by (created, id)."""
        found = self.position.get(object_id)
        if found is not None:
            return found
        lo = int(np.searchsorted(self.descending_created, -created, side="left"))
        hi = int(np.searchsorted(self.descending_created, -created, side="right"))
        while lo < hi and self.ids[lo] > object_id:
            lo += 1
        return lo


def routes(ctx: SandboxContext) -> list[Route]:
    """``GET`` list routes for every Stripe resource the ledger backs, and the balance."""
    api = StripeApi(ctx)
    return [
        *(Route(r.path, api.handler(r), methods=["GET"]) for r in RESOURCES),
        Route("/v1/balance", api.balance, methods=["GET"]),
    ]
