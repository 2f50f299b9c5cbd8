"""Sandbox API: Amazon SP-API Orders v0 (getOrders, getOrder, getOrderItems, getOrderAddress,
getOrderBuyerInfo), served from the ledger's Amazon channels as of the sandbox clock.

Why it behaves like the real service rather than a convenient one: the Amazon connector must
switch to ``sellingpartnerapi-*.amazon.com`` by configuration alone, so everything it has to
cope with there happens here too:

- Auth: ``x-amz-access-token`` must be the sandbox's LWA token (``SANDBOX_ACCESS_TOKEN``, or the
  config's ``amazon_access_token`` once it has one); otherwise 403 ``Unauthorized``.
- Usage plans: a token bucket per (access token, operation) with Amazon's published *burst*.
  The published *rates* (getOrders 0.0167/s, i.e. one request a minute) would make a sandbox run
  last hours, so buckets refill at ``UsagePlan.sandbox_rate`` instead (getOrders 20/s by
  default); tests replace ``USAGE_PLANS`` to throttle. ``x-amzn-RateLimit-Limit`` reports the
  rate applied, as Amazon does. An empty bucket answers 429 ``QuotaExceeded`` *without*
  ``Retry-After`` (SP-API sends none): the connector must back off on its own, ideally pacing
  itself from ``x-amzn-RateLimit-Limit``.
- getOrders: ``MarketplaceIds`` required; exactly one of ``CreatedAfter``/``LastUpdatedAfter``;
  ``*Before`` not later than two minutes before now (Amazon rejects later ones with
  ``InvalidInput``); when no ``*Before`` is given, the window ends two minutes before now and
  the payload echoes that bound (``CreatedBefore``/``LastUpdatedBefore``), which a connector
  should use as its next cursor. Errors are 400 ``{"errors": [{"code": "InvalidInput", ...}]}``.
- ``NextToken`` is opaque and carries the whole query (window, filters, page size): when it is
  present every other parameter is ignored, so a NextToken-only request works. Tokens use the
  standard base64 alphabet (``+``, ``/``, ``=``) like Amazon's, so a client that does not
  URL-encode them breaks here as it would there.
- Data faults of the run's profile (a record repeated from the previous page, malformed
  records) apply to getOrders and getOrderItems pages through ``fault_data.page_faults``, keyed
  by ``AmazonOrderId`` (the ledger's ``external_order_id``) and ``OrderItemId``
  (``amazon_render.order_item_id(line_id)``).
- Pages are keyset-stable: ordered by (LastUpdateDate or PurchaseDate, AmazonOrderId) and cut
  after the last key served, within a window fixed by the first request. A walk therefore
  serves no order twice and misses none, even while the clock moves: an order whose status
  changes mid-walk moves past the window's end and is served by the next window.

Orders are rendered lazily (``render_cache``): a getOrders page renders the orders it lacks
together with the next ``READ_AHEAD`` of its list, column-wise, and keeps their JSON in a
byte-bounded cache keyed by order id and versioned by a hash of the order's row and of the
customer columns its JSON shows, so after the clock moves only new and changed orders are
rendered again, and memory no longer grows with the world.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import amazon_render as render
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import row_at
from ingestion.sandbox.http_common import (
    BadRequest,
    epoch_us,
    iso_z,
    json_response,
    page_records,
    parse_instant,
)
from ingestion.sandbox.pagination import SortedFrame
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.render_cache import (
    ENTRY_OVERHEAD,
    READ_AHEAD,
    VERSION,
    RenderCache,
    Rendered,
    versioned,
)

SANDBOX_ACCESS_TOKEN = "Atza|sandbox"
PREFIX = "/orders/v0/orders"
MAX_RESULTS_PER_PAGE = 100
# Amazon does not document the page size of getOrderItems; orders rarely have more lines.
ORDER_ITEMS_PAGE_SIZE = 30
# getOrders' *Before bounds must be at least this far behind the clock.
SETTLE = timedelta(minutes=2)
_MAX_LIST = 50
_MAX_LISTED = 32
_INVALID = "Invalid Input"
# The customer's columns an Order's JSON shows (``amazon_render.orders_json``): with the order's
# own row, what its rendering's version hashes.
_SHOWN_CUSTOMER = (
    "c_first_name",
    "c_last_name",
    "c_address1",
    "c_address2",
    "c_city",
    "c_province_code",
    "c_postal_code",
    "c_country_code",
)


@dataclass(frozen=True)
class UsagePlan:
    """One operation's limits: Amazon's published rate (requests/s) and burst, and the refill
    rate the sandbox applies instead of the published one."""

    published_rate: float
    burst: int
    sandbox_rate: float


# Published plans: ordersV0.json ("Usage Plan" of each operation). Sandbox rates are chosen so
# that a connector walking thousands of orders finishes in seconds while still meeting 429s
# when it ignores the burst.
USAGE_PLANS: dict[str, UsagePlan] = {
    "getOrders": UsagePlan(published_rate=0.0167, burst=20, sandbox_rate=20.0),
    "getOrder": UsagePlan(published_rate=0.5, burst=30, sandbox_rate=100.0),
    "getOrderItems": UsagePlan(published_rate=0.5, burst=30, sandbox_rate=100.0),
    "getOrderAddress": UsagePlan(published_rate=0.5, burst=30, sandbox_rate=100.0),
    "getOrderBuyerInfo": UsagePlan(published_rate=0.5, burst=30, sandbox_rate=100.0),
}


class LedgerNotReady(RuntimeError):
    """The sandbox state does not expose the v2 ledger tables this API reads."""


def _view(ctx: SandboxContext, table: str) -> pl.DataFrame:
    """The ledger ``table`` (LEDGER.md v2) as of the sandbox clock: the one place that knows
    how the state object exposes it."""
    try:
        return ctx.state.table_as_of(table)
    except (AttributeError, KeyError) as exc:
        raise LedgerNotReady(f"the sandbox world has no ledger table {table!r} yet") from exc


def _allocations(ctx: SandboxContext) -> pl.DataFrame | None:
    """(order_id, warehouse_code) of every shipment in the ledger, whatever the clock: which
    warehouse fulfils an order is settled when it is placed (Amazon reports an FBA order as
    AFN from the start), while the clock view lists a shipment only once it has shipped."""
    world = getattr(ctx.state, "world", None)
    frames = getattr(world, "frames", None)
    if frames is None:
        return None
    shipments = frames().get("shipments")
    if shipments is None or not {"order_id", "warehouse_code"} <= set(shipments.columns):
        return None
    return shipments.select("order_id", "warehouse_code")


def _error(
    status: int, code: str, message: str, headers: dict[str, str], details: str = ""
) -> Response:
    return json_response(
        {"errors": [{"code": code, "message": message, "details": details}]}, status, headers
    )


def encode_token(payload: dict[str, Any]) -> str:
    """Opaque NextToken (standard base64, as Amazon's tokens are)."""
    return base64.b64encode(orjson.dumps(payload)).decode()


def decode_token(token: str) -> dict[str, Any]:
    """Inverse of ``encode_token``; ``BadRequest`` for anything this server did not issue."""
    try:
        payload = orjson.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("NextToken", "Invalid NextToken") from exc
    if not isinstance(payload, dict):
        raise BadRequest("NextToken", "Invalid NextToken")
    return payload


@dataclass(frozen=True)
class _Items:
    """One order's rendered getOrderItems items (JSON) and their line ids, in line order."""

    version: int
    line_ids: tuple[int, ...]
    json: tuple[bytes, ...]

    @property
    def size(self) -> int:
        # Each item also costs a tuple slot and an int (line id) beside its bytes object.
        return sum(len(j) for j in self.json) + 40 * len(self.line_ids) + ENTRY_OVERHEAD


@dataclass(frozen=True)
class _Snapshot:
    """Everything the handlers read, derived once per clock position."""

    key: tuple[datetime, int]  # (clock, identity of the state's orders view)
    # render.amazon_orders with each order's version ``_v``, sorted by (update_us,
    # external_order_id); no JSON (``_AmazonApi.orders_json`` renders it on demand)
    orders: pl.DataFrame
    by_id: pl.DataFrame  # the same rows sorted by external_order_id
    lines: pl.DataFrame  # order_lines of those orders + qty_shipped, sorted by (order_id, line_id)
    marketplaces: frozenset[str]
    lookups: render.Lookups
    # The filtered, sorted orders of each getOrders query (keyed by the query without its
    # position), so that following NextTokens costs a binary search per page, not a scan.
    listed: dict[bytes, SortedFrame] = field(default_factory=dict)

    # The sorted keys the single-order operations search, as numpy arrays: polars'
    # ``Series.search_sorted`` costs about 0.4 ms a call, most of a getOrderItems request.
    @functools.cached_property
    def order_ids(self) -> np.ndarray:
        """``by_id``'s Amazon order ids."""
        return self.by_id["external_order_id"].to_numpy().astype(str)

    @functools.cached_property
    def line_orders(self) -> np.ndarray:
        """``lines``' order ids."""
        return self.lines["order_id"].to_numpy()

    @functools.cached_property
    def line_hashes(self) -> np.ndarray:
        """A hash of each row of ``lines`` (one vectorized pass; per request it costs 0.3 ms)."""
        return self.lines.hash_rows(seed=7).to_numpy()


def _list_param(request: Request, name: str) -> list[str] | None:
    """A comma-separated (or repeated) list parameter, or None when absent."""
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    return [v.strip() for item in raw for v in item.split(",") if v.strip()]


class _AmazonApi:
    """Request handlers bound to one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.token = getattr(ctx.config, "amazon_access_token", SANDBOX_ACCESS_TOKEN)
        self.plans = dict(USAGE_PLANS)
        self.buckets = {
            op: LeakyBucket(plan.burst, plan.sandbox_rate, clock=ctx.config.rate_limit_clock)
            for op, plan in self.plans.items()
        }
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        # Every order's rendered JSON, by order id, within one byte budget; and its items.
        self.rendered: RenderCache[Rendered] = RenderCache()
        self.items: RenderCache[_Items] = RenderCache()

    # Plumbing ---------------------------------------------------------------------------

    def _gate(self, request: Request, operation: str) -> tuple[Response | None, dict[str, str]]:
        """Auth, then the operation's bucket: ``(refusal, headers)``."""
        headers = {
            "x-amzn-RequestId": str(uuid.uuid4()),
            "x-amzn-RateLimit-Limit": f"{self.plans[operation].sandbox_rate:g}",
        }
        token = request.headers.get("x-amz-access-token")
        if token != self.token:
            return _error(
                403, "Unauthorized", "Access to requested resource is denied.", headers
            ), {}
        if not self.buckets[operation].acquire(token).allowed:
            message = "You exceeded your quota for the requested resource."
            return _error(429, "QuotaExceeded", message, headers), {}
        return None, headers

    def snapshot(self) -> _Snapshot:
        """The derived tables at the current clock. The state caches its views per clock
        position; this adds the joins getOrders needs, and is rebuilt whenever the state hands
        out a new orders view (the clock moved)."""
        ctx = self.ctx
        now = ctx.state.now
        key = (now, id(_view(ctx, "orders")))
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.key == key:
                return snap
            channels = _view(ctx, "channels")
            orders = render.amazon_orders(
                _view(ctx, "orders"),
                channels,
                _view(ctx, "order_lines"),
                _view(ctx, "shipments"),
                _view(ctx, "shipment_lines"),
                _view(ctx, "warehouses"),
                now,
                _allocations(ctx),
            )
            lookups = render.make_lookups(
                _view(ctx, "customers"), _view(ctx, "products"), _view(ctx, "warehouses")
            )
            orders = _versioned(orders, lookups.customers)
            t = pl.lit(now).cast(pl.Datetime("us", "UTC"))
            shipped = (
                _view(ctx, "shipment_lines")
                .join(
                    _view(ctx, "shipments")
                    .filter(pl.col("shipped_at").is_not_null() & (pl.col("shipped_at") <= t))
                    .select("shipment_id"),
                    on="shipment_id",
                    how="semi",
                )
                .group_by("line_id")
                .agg(qty_shipped=pl.col("quantity").sum())
            )
            lines = (
                _view(ctx, "order_lines")
                .join(orders.select("order_id"), on="order_id", how="semi")
                .join(shipped, on="line_id", how="left")
                .with_columns(pl.col("qty_shipped").fill_null(0))
                .sort("order_id", "line_id")
            )
            marketplaces = frozenset(
                channels.filter(pl.col("platform") == "amazon")["marketplace_id"].to_list()
            )
            snap = _Snapshot(
                key=key,
                orders=orders,
                by_id=orders.sort("external_order_id"),
                lines=lines,
                marketplaces=marketplaces,
                lookups=lookups,
            )
            self._snapshot = snap
            return snap

    def orders_json(
        self,
        snap: _Snapshot,
        rows: pl.DataFrame,
        ahead: Callable[[], pl.DataFrame] | None = None,
    ) -> list[bytes]:
        """The Order JSON of ``rows`` (rows of ``snap.orders``), from the cache or rendered
        column-wise with the rows ``ahead()`` returns (the orders a walk asks for next)."""

        def render_missing(missing: pl.DataFrame) -> dict[int, Rendered]:
            json = render.orders_json(missing.drop(VERSION), snap.lookups)
            return {
                order_id: Rendered(version, text)
                for order_id, version, text in zip(
                    missing["order_id"].to_list(),
                    missing[VERSION].to_list(),
                    json.to_list(),
                    strict=True,
                )
            }

        found = self.rendered.renderings(rows, "order_id", render_missing, ahead)
        return [entry.json for entry in found]

    def _order_index(self, snap: _Snapshot, amazon_order_id: str) -> int | None:
        """Where the order is in ``snap.by_id``, or None."""
        ids = snap.order_ids
        idx = int(np.searchsorted(ids, amazon_order_id, side="left"))
        if idx >= len(ids) or ids[idx] != amazon_order_id:
            return None
        return idx

    def _guarded(self, request: Request, operation: str, handler: Any) -> Response:
        refused, headers = self._gate(request, operation)
        if refused is not None:
            return refused
        try:
            return handler(request, headers)
        except BadRequest as exc:
            return _error(400, "InvalidInput", _INVALID, headers, exc.message)
        except LedgerNotReady as exc:
            return _error(503, "ServiceUnavailable", str(exc), headers)

    # getOrders --------------------------------------------------------------------------

    def _query(self, request: Request, snap: _Snapshot) -> dict[str, Any]:
        """The validated query of a first getOrders request, in the shape NextToken carries."""
        params = request.query_params
        marketplaces = _list_param(request, "MarketplaceIds")
        if not marketplaces:
            raise BadRequest("MarketplaceIds", "Missing required parameter MarketplaceIds.")
        if len(marketplaces) > _MAX_LIST:
            raise BadRequest("MarketplaceIds", f"MarketplaceIds accepts at most {_MAX_LIST}.")
        unknown = sorted(set(marketplaces) - snap.marketplaces)
        if unknown:
            raise BadRequest("MarketplaceIds", f"Invalid MarketplaceIds: {','.join(unknown)}.")
        created = "CreatedAfter" in params or "CreatedBefore" in params
        updated = "LastUpdatedAfter" in params or "LastUpdatedBefore" in params
        if created and updated:
            raise BadRequest(
                "CreatedAfter",
                "CreatedAfter/CreatedBefore cannot be combined with "
                "LastUpdatedAfter/LastUpdatedBefore.",
            )
        prefix = "LastUpdated" if updated else "Created"
        if f"{prefix}After" not in params:
            raise BadRequest(
                "CreatedAfter", "Either CreatedAfter or LastUpdatedAfter must be specified."
            )
        bounds = {}
        for edge in ("After", "Before"):
            name = f"{prefix}{edge}"
            if name in params:
                try:
                    bounds[edge] = parse_instant(name, params[name])
                except BadRequest as exc:
                    field = name[0].lower() + name[1:]
                    raise BadRequest(name, f"Invalid date-time field(s) [{field}].") from exc
        # Amazon speaks whole seconds; a bound with microseconds would echo oddly.
        latest = (snap.key[0] - SETTLE).replace(microsecond=0)
        before = bounds.get("Before", latest)
        if before > latest:
            raise BadRequest(
                f"{prefix}Before",
                f"{prefix}Before must be at least two minutes before the current time.",
            )
        if bounds["After"] > latest:
            raise BadRequest(
                f"{prefix}After",
                f"{prefix}After must be at least two minutes before the current time.",
            )
        if before < bounds["After"]:
            raise BadRequest(f"{prefix}Before", f"{prefix}Before must not precede {prefix}After.")
        statuses = _list_param(request, "OrderStatuses")
        bad = sorted(set(statuses or ()) - set(render.ORDER_STATUSES))
        if bad:
            raise BadRequest("OrderStatuses", f"Invalid OrderStatuses: {','.join(bad)}.")
        channels = _list_param(request, "FulfillmentChannels")
        bad = sorted(set(channels or ()) - set(render.FULFILLMENT_CHANNELS))
        if bad:
            raise BadRequest("FulfillmentChannels", f"Invalid FulfillmentChannels: {bad[0]}.")
        order_ids = _list_param(request, "AmazonOrderIds")
        if order_ids is not None and len(order_ids) > _MAX_LIST:
            raise BadRequest("AmazonOrderIds", f"AmazonOrderIds accepts at most {_MAX_LIST}.")
        raw_size = params.get("MaxResultsPerPage", str(MAX_RESULTS_PER_PAGE))
        try:
            size = int(raw_size)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_RESULTS_PER_PAGE:
            raise BadRequest(
                "MaxResultsPerPage",
                f"MaxResultsPerPage must be between 1 and {MAX_RESULTS_PER_PAGE}: {raw_size!r}.",
            )
        return {
            "m": sorted(set(marketplaces)),
            "by": "u" if updated else "c",
            "a": epoch_us(bounds["After"]),
            "b": epoch_us(before),
            "s": statuses,
            "fc": channels,
            "ids": order_ids,
            "n": size,
            "k": None,
        }

    @staticmethod
    def _token_query(token: str) -> dict[str, Any]:
        """A NextToken's query, checked field by field (it comes back from the client)."""
        q = decode_token(token)

        def strings(value: Any) -> bool:
            return isinstance(value, list) and all(isinstance(v, str) for v in value)

        k = q.get("k")
        valid = (
            strings(q.get("m"))
            and q.get("by") in ("u", "c")
            and type(q.get("a")) is int
            and type(q.get("b")) is int
            and all(q.get(f) is None or strings(q.get(f)) for f in ("s", "fc", "ids"))
            and type(q.get("n")) is int
            and 1 <= q["n"] <= MAX_RESULTS_PER_PAGE
            and isinstance(k, list)
            and len(k) == 2
            and type(k[0]) is int
            and isinstance(k[1], str)
        )
        if not valid:
            raise BadRequest("NextToken", "Invalid NextToken")
        return q

    def get_orders(self, request: Request) -> Response:
        return self._guarded(request, "getOrders", self._get_orders)

    def _get_orders(self, request: Request, headers: dict[str, str]) -> Response:
        snap = self.snapshot()
        token = request.query_params.get("NextToken")
        q = self._token_query(token) if token is not None else self._query(request, snap)
        key = "update_us" if q["by"] == "u" else "purchase_us"
        conditions = [
            pl.col("marketplace_id").is_in(q["m"]),
            pl.col(key).is_between(q["a"], q["b"]),
        ]
        if q["s"] is not None:
            conditions.append(pl.col("order_status").is_in(q["s"]))
        if q["fc"] is not None:
            conditions.append(pl.col("fulfillment_channel").is_in(q["fc"]))
        if q["ids"] is not None:
            conditions.append(pl.col("external_order_id").is_in(q["ids"]))
        keys = [key, "external_order_id"]
        query = orjson.dumps({k: v for k, v in q.items() if k != "k"}, option=orjson.OPT_SORT_KEYS)
        with self._lock:
            listed = snap.listed.get(query)
            if listed is None:
                if len(snap.listed) >= _MAX_LISTED:
                    snap.listed.clear()
                listed = snap.listed[query] = SortedFrame(snap.orders.filter(*conditions), keys)
        frame = listed.frame
        page = listed.page(q["n"], after=q["k"])
        cursor = q["k"]
        last = page.last_key(keys) if page.rows.height else cursor
        orders = page_records(
            request,
            self.orders_json(snap, page.rows, lambda: listed.page(READ_AHEAD, after=last).rows),
            api="amazon",
            entity="orders",
            id_field="AmazonOrderId",
            previous=None
            if cursor is None
            else lambda: self.orders_json(snap, row_at(frame, keys, cursor)),
        )
        payload: dict[str, Any] = {"Orders": orders}
        if page.has_next:
            payload["NextToken"] = encode_token({**q, "k": page.last_key(keys)})
        bound = iso_z(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=q["b"]))
        payload["LastUpdatedBefore" if q["by"] == "u" else "CreatedBefore"] = bound
        return json_response({"payload": payload}, 200, headers)

    # Single-order operations ------------------------------------------------------------

    def _single(self, request: Request, operation: str, build: Any) -> Response:
        def handler(request: Request, headers: dict[str, str]) -> Response:
            snap = self.snapshot()
            order_id = request.path_params["order_id"]
            idx = self._order_index(snap, order_id)
            if idx is None:
                return _error(404, "NotFound", f"Order {order_id} was not found.", headers)
            row = snap.by_id.slice(idx, 1)
            return json_response({"payload": build(request, snap, row)}, 200, headers)

        return self._guarded(request, operation, handler)

    def get_order(self, request: Request) -> Response:
        return self._single(
            request,
            "getOrder",
            lambda _r, snap, row: orjson.Fragment(self.orders_json(snap, row)[0]),
        )

    def get_order_address(self, request: Request) -> Response:
        return self._single(
            request,
            "getOrderAddress",
            lambda _r, snap, row: render.render_address(render.page_frame(row, snap.lookups)[0]),
        )

    def get_order_buyer_info(self, request: Request) -> Response:
        return self._single(
            request,
            "getOrderBuyerInfo",
            lambda _r, snap, row: render.render_buyer_info(render.page_frame(row, snap.lookups)[0]),
        )

    def get_order_items(self, request: Request) -> Response:
        return self._single(request, "getOrderItems", self._items_payload)

    def _items_payload(
        self, request: Request, snap: _Snapshot, row: pl.DataFrame
    ) -> dict[str, Any]:
        amazon_id = row["external_order_id"][0]
        after = -1
        token = request.query_params.get("NextToken")
        if token is not None:
            cursor = decode_token(token)
            if cursor.get("o") != amazon_id or type(cursor.get("k")) is not int:
                raise BadRequest("NextToken", "Invalid NextToken")
            after = cursor["k"]
        items = self._items(snap, row)
        at = bisect.bisect_right(items.line_ids, after)
        size = ORDER_ITEMS_PAGE_SIZE
        page = items.json[at : at + size]

        def previous() -> list[bytes]:
            """The item at the cursor (the previous page's last), if it still exists."""
            found = bisect.bisect_left(items.line_ids, after)
            hit = items.line_ids[found : found + 1] == (after,)
            return list(items.json[found : found + 1]) if hit else []

        payload: dict[str, Any] = {
            "AmazonOrderId": amazon_id,
            "OrderItems": page_records(
                request,
                page,
                api="amazon",
                entity="order_items",
                id_field="OrderItemId",
                previous=None if after < 0 else previous,
            ),
        }
        if len(items.json) - at > size:
            payload["NextToken"] = encode_token(
                {"o": amazon_id, "k": items.line_ids[at + size - 1]}
            )
        return payload

    def _items(self, snap: _Snapshot, row: pl.DataFrame) -> _Items:
        """Every item of one order (``row`` of ``snap.by_id``), from the cache or rendered;
        versioned by the order's row and its lines."""
        order_id = row["order_id"][0]
        start = int(np.searchsorted(snap.line_orders, order_id, side="left"))
        end = int(np.searchsorted(snap.line_orders, order_id, side="right"))
        lines = snap.lines.slice(start, end - start)
        # The order's row and its lines (order-free sum, wrapping around).
        version = hash((row[VERSION][0], int(snap.line_hashes[start:end].sum())))

        def render_items(_missing: pl.DataFrame) -> dict[int, _Items]:
            order = render.page_frame(row, snap.lookups)[0]
            dicts = lines.to_dicts()
            shipped = {ln["line_id"]: ln["qty_shipped"] for ln in dicts}
            first_line = dicts[0]["line_id"] if dicts else -1
            line_tax = sum(ln["tax_minor"] for ln in dicts)
            items = render.render_items(order, dicts, shipped, snap.lookups, first_line, line_tax)
            return {
                order_id: _Items(
                    version,
                    tuple(ln["line_id"] for ln in dicts),
                    tuple(orjson.dumps(item) for item in items),
                )
            }

        key = pl.DataFrame({"order_id": [order_id], VERSION: [version]})
        return self.items.renderings(key, "order_id", render_items)[0]


def _versioned(orders: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """``orders`` with each one's version ``_v``: a hash of its row (every fact of the order
    as of the clock) and of the customer columns its JSON shows."""
    shown = orders.join(
        customers.select("c_customer_id", *_SHOWN_CUSTOMER),
        left_on="customer_id",
        right_on="c_customer_id",
        how="left",
        maintain_order="left",
    )
    return orders.with_columns(versioned(shown)[VERSION])


_APIS: dict[int, _AmazonApi] = {}


def amazon_api(ctx: SandboxContext) -> _AmazonApi:
    """The one Orders API of ``ctx``: the Reports API (``api_amazon_reports``) reads the same
    per-clock snapshot, so a clock position is derived once for both."""
    api = _APIS.get(id(ctx))
    if api is None or api.ctx is not ctx:
        api = _APIS[id(ctx)] = _AmazonApi(ctx)
        weakref.finalize(ctx, _APIS.pop, id(ctx), None)
    return api


def routes(ctx: SandboxContext) -> list[Route]:
    """SP-API Orders v0 routes over ``ctx`` (operation names as in ordersV0.json)."""
    api = amazon_api(ctx)
    return [
        Route(PREFIX, api.get_orders, methods=["GET"]),
        Route(f"{PREFIX}/{{order_id}}", api.get_order, methods=["GET"]),
        Route(f"{PREFIX}/{{order_id}}/orderItems", api.get_order_items, methods=["GET"]),
        Route(f"{PREFIX}/{{order_id}}/address", api.get_order_address, methods=["GET"]),
        Route(f"{PREFIX}/{{order_id}}/buyerInfo", api.get_order_buyer_info, methods=["GET"]),
    ]
