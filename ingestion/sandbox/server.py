"""The sandbox over HTTP: Shopify Admin REST, the WMS API and a clock, on 127.0.0.1.

Why an HTTP server rather than fakes inside connectors: connectors must switch between sandbox
and real endpoints by configuration alone, so they are tested through the same client code,
headers, pagination and rate limiting they use in production. ``running_sandbox`` starts one in
a background thread for tests; ``serve`` runs one in the foreground for demos.

Shopify behaviours reproduced: ``X-Shopify-Access-Token`` auth (401 body as Shopify), the leaky
bucket (``X-Shopify-Shop-Api-Call-Limit``; 429 with ``Retry-After``), ``limit`` at most 250,
``status`` defaulting to ``open``, cursor pagination through ``Link`` headers whose opaque
``page_info`` may be combined only with ``limit`` and ``fields``, keyset-stable pages.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import (
    api_aftership,
    api_amazon,
    api_amazon_reports,
    api_easypost,
    api_ecb,
    api_ledger,
    api_paypal,
    api_shopify_finance,
    api_shopify_graphql,
    api_stripe,
    wms,
)
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.fault_data import page_faults, row_at
from ingestion.sandbox.fault_http import FaultMiddleware, faults_endpoint
from ingestion.sandbox.faults import FaultRun, get_profile
from ingestion.sandbox.http_common import (
    BadRequest,
    base_url,
    epoch_us,
    iso_z,
    json_response,
    page_records,
    parse_instant,
    parse_limit,
)
from ingestion.sandbox.ledger import read_ledger
from ingestion.sandbox.pagination import (
    CursorError,
    SortedFrame,
    decode_cursor,
    encode_cursor,
    keyset_page,
    page_info_link_header,
)
from ingestion.sandbox.render_cache import READ_AHEAD, set_shared_limit
from ingestion.sandbox.shopify import API_VERSION
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import generate_world

log = logging.getLogger(__name__)

SHOPIFY_PREFIX = f"/admin/api/{API_VERSION}"
_PAGINATION_DOC = "See https://shopify.dev/api/usage/pagination-rest for more information."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250


# --- Shopify orders -------------------------------------------------------------------------

_ORDER_FILTERS = (
    "status",
    "ids",
    "since_id",
    "created_at_min",
    "created_at_max",
    "updated_at_min",
    "updated_at_max",
    "processed_at_min",
    "processed_at_max",
    "financial_status",
    "fulfillment_status",
    "order",
)
_TIME_FILTERS = {
    "created_at_min": ("created_at", ">="),
    "created_at_max": ("created_at", "<="),
    "updated_at_min": ("updated_at", ">="),
    "updated_at_max": ("updated_at", "<="),
    # processed_at is the creation instant for online orders.
    "processed_at_min": ("created_at", ">="),
    "processed_at_max": ("created_at", "<="),
}
_SORT_COLUMNS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "order_id",
    "processed_at": "created_at",
}
_FINANCIAL = {
    "authorized",
    "pending",
    "paid",
    "partially_paid",
    "refunded",
    "voided",
    "partially_refunded",
    "any",
    "unpaid",
}
_FULFILLMENT = {"shipped", "partial", "unshipped", "any", "unfulfilled"}


def _order_filters(params: dict[str, str]) -> dict[str, Any]:
    """Validated, JSON-serialisable filters of an orders query (what page_info carries)."""
    status = params.get("status", "open")
    if status not in ("open", "closed", "cancelled", "any"):
        raise BadRequest("status", f"status must be open, closed, cancelled or any: {status!r}")
    filters: dict[str, Any] = {"status": status}
    for name in _TIME_FILTERS:
        if name in params:
            filters[name] = epoch_us(parse_instant(name, params[name]))
    for name, allowed in (("financial_status", _FINANCIAL), ("fulfillment_status", _FULFILLMENT)):
        if name in params:
            if params[name] not in allowed:
                raise BadRequest(name, f"{name} {params[name]!r} is not supported")
            filters[name] = params[name]
    try:
        if "since_id" in params:
            filters["since_id"] = int(params["since_id"])
        if "ids" in params:
            filters["ids"] = [int(x) for x in params["ids"].split(",") if x.strip()]
    except ValueError as exc:
        raise BadRequest("ids", "ids and since_id must be integers") from exc
    order = params.get("order", "created_at desc").split()
    if (
        not order
        or order[0] not in _SORT_COLUMNS
        or len(order) > 2
        or (len(order) == 2 and order[1].lower() not in ("asc", "desc"))
    ):
        raise BadRequest("order", f"unsupported order {params.get('order')!r}")
    filters["order"] = [order[0], order[1].lower() if len(order) == 2 else "asc"]
    return filters


def _filtered_orders(view: pl.DataFrame, filters: dict[str, Any]) -> pl.DataFrame:
    conditions: list[pl.Expr] = []
    status = filters["status"]
    if status == "open":
        conditions.append(pl.col("closed_at").is_null())
    elif status == "closed":
        conditions.append(pl.col("closed_at").is_not_null())
    elif status == "cancelled":
        conditions.append(pl.col("is_cancelled"))
    for name, (column, op) in _TIME_FILTERS.items():
        if name in filters:
            bound = pl.lit(filters[name]).cast(pl.Datetime("us", "UTC"))
            conditions.append(pl.col(column) >= bound if op == ">=" else pl.col(column) <= bound)
    financial = filters.get("financial_status")
    if financial == "unpaid":
        conditions.append(pl.col("financial_status").is_in(["authorized", "pending"]))
    elif financial not in (None, "any"):
        conditions.append(pl.col("financial_status") == financial)
    fulfillment = filters.get("fulfillment_status")
    if fulfillment == "shipped":
        conditions.append(pl.col("fulfillment_status") == "fulfilled")
    elif fulfillment in ("unshipped", "unfulfilled"):
        conditions.append(pl.col("fulfillment_status").is_null())
    elif fulfillment == "partial":
        conditions.append(pl.col("fulfillment_status") == "partial")
    if "since_id" in filters:
        conditions.append(pl.col("order_id") > filters["since_id"])
    if "ids" in filters:
        conditions.append(pl.col("order_id").is_in(filters["ids"]))
    return view.filter(*conditions) if conditions else view


def _sort_key(filters: dict[str, Any]) -> tuple[pl.Expr, bool]:
    column, direction = filters["order"]
    col = _SORT_COLUMNS[column]
    key = pl.col(col) if col == "order_id" else pl.col(col).dt.epoch("us")
    return key.alias("_k"), direction == "desc"


class _Api:
    """Request handlers bound to one state and config."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.state, self.config = ctx.state, ctx.config

    # Shopify ----------------------------------------------------------------------------

    def _shopify_gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        return self.ctx.shopify_gate.check(request)

    def orders(self, request: Request) -> Response:
        refused, headers = self._shopify_gate(request)
        if refused is not None:
            return refused
        params = dict(request.query_params)
        try:
            limit = parse_limit(params.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
            fields = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
            after = before = None
            if "page_info" in params:
                extra = sorted(set(params) - {"page_info", "limit", "fields"})
                if extra:
                    raise BadRequest(
                        extra[0],
                        f"{extra[0]} cannot be passed when page_info is present. "
                        + _PAGINATION_DOC,
                    )
                try:
                    cursor = decode_cursor(params["page_info"])
                    # Re-validate what the token carries: it comes back from the client.
                    filters = _order_filters(_filters_as_params(cursor["f"]))
                    position = cursor["k"]
                    width = 1 if filters["order"][0] == "id" else 2
                    if (
                        cursor.get("d") not in ("n", "p")
                        or not isinstance(position, list)
                        or len(position) != width
                        or not all(type(v) is int for v in position)
                    ):
                        raise BadRequest("page_info", "Invalid value.")
                except (CursorError, KeyError, TypeError, ValueError, BadRequest) as exc:
                    raise BadRequest("page_info", "Invalid value.") from exc
                after, before = (position, None) if cursor["d"] == "n" else (None, position)
            else:
                filters = _order_filters(params)
        except BadRequest as exc:
            return json_response({"errors": {exc.param: exc.message}}, 400, headers)

        keys = ["order_id"] if filters["order"][0] == "id" else ["_k", "order_id"]
        sorted_orders = self._sorted_orders(filters, keys)
        frame = sorted_orders.frame
        page = sorted_orders.page(limit, after=after, before=before)
        headers.update(
            page_info_link_header(
                base_url(request), page, keys, filters, limit, params.get("fields")
            )
        )
        shop = self.ctx.shopify_orders.current()
        rows, last = page.rows, [page.rows[k][-1] for k in keys] if page.rows.height else None
        orders = page_records(
            request,
            # Orders not rendered yet are rendered with the ones the walk asks for next.
            shop.page_json(
                rows,
                None if last is None else lambda: sorted_orders.page(READ_AHEAD, after=last).rows,
            ),
            api="shopify",
            entity="orders",
            id_field="id",
            previous=None if after is None else lambda: shop.page_json(row_at(frame, keys, after)),
            fields=fields,
        )
        return json_response({"orders": orders}, 200, headers)

    def orders_count(self, request: Request) -> Response:
        refused, headers = self._shopify_gate(request)
        if refused is not None:
            return refused
        try:
            filters = _order_filters(dict(request.query_params))
        except BadRequest as exc:
            return json_response({"errors": {exc.param: exc.message}}, 400, headers)
        count = _filtered_orders(self._shopify_orders(), filters).height
        return json_response({"count": count}, 200, headers)

    def _shopify_orders(self) -> pl.DataFrame:
        """The store's orders as of the clock (the ledger holds every channel's), without JSON:
        pages ask ``shopify_serving.ShopOrders`` for it (shared with the per-order endpoints)."""
        return self.ctx.shopify_orders.current().orders

    def _sorted_orders(self, filters: dict[str, Any], keys: list[str]) -> SortedFrame:
        """The filtered, sorted orders of a query, built once per clock position and query, so
        that following its pages costs a binary search each."""
        key, descending = _sort_key(filters)

        def build() -> SortedFrame:
            frame = _filtered_orders(self._shopify_orders(), filters).with_columns(key)
            return SortedFrame(frame, keys, descending=descending)

        return self.state.cached(
            ("shopify", orjson.dumps(filters, option=orjson.OPT_SORT_KEYS)), build
        )

    # WMS --------------------------------------------------------------------------------

    def _wms_gate(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.config.wms_token}":
            return json_response(
                {"error": {"code": "unauthorized", "message": "missing or invalid bearer token"}},
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        return None

    def warehouses(self, request: Request) -> Response:
        return self._wms_gate(request) or json_response(
            {"warehouses": wms.render_warehouses(self.state.world)}
        )

    def items(self, request: Request) -> Response:
        refused = self._wms_gate(request)
        if refused is not None:
            return refused
        try:
            limit, cursor = _wms_paging(request, width=1)
        except BadRequest as exc:
            return _wms_error(exc)
        after = [cursor["k"]] if cursor else None
        page = keyset_page(wms.items_frame(self.state.world), ["sku"], limit, after=after)
        next_cursor = encode_cursor({"k": page.last_key(["sku"])[0]}) if page.has_next else None
        items = page_faults(
            request,
            "wms",
            "items",
            wms.render_items(page.rows),
            "sku",
            None
            if after is None
            else lambda: wms.render_items(
                row_at(wms.items_frame(self.state.world), ["sku"], after)
            ),
        )
        return json_response({"items": items, "next_cursor": next_cursor})

    def inventory(self, request: Request) -> Response:
        refused = self._wms_gate(request)
        if refused is not None:
            return refused
        keys = ["warehouse_code", "sku"]
        try:
            limit, cursor = _wms_paging(request, width=2)
            since_raw = request.query_params.get("updated_since")
            since = (
                None if since_raw is None else epoch_us(parse_instant("updated_since", since_raw))
            )
            if cursor is not None:
                if since is not None and since != cursor.get("u"):
                    raise BadRequest(
                        "updated_since",
                        "the cursor already carries updated_since; pass only cursor and limit",
                    )
                since = cursor.get("u")
        except BadRequest as exc:
            return _wms_error(exc)
        frame = self.state.inventory_view()
        if since is not None:
            frame = frame.filter(
                pl.col("updated_at") >= pl.lit(since).cast(pl.Datetime("us", "UTC"))
            )
        page = keyset_page(frame, keys, limit, after=cursor["k"] if cursor else None)
        next_cursor = (
            encode_cursor({"k": page.last_key(keys), "u": since}) if page.has_next else None
        )
        levels = page_faults(
            request,
            "wms",
            "inventory",
            wms.render_inventory(page.rows),
            ("warehouse_code", "sku"),
            None
            if cursor is None
            else lambda: wms.render_inventory(row_at(frame, keys, cursor["k"])),
        )
        return json_response({"inventory_levels": levels, "next_cursor": next_cursor})

    def inbound_orders(self, request: Request) -> Response:
        refused = self._wms_gate(request)
        if refused is not None:
            return refused
        try:
            limit, cursor = _wms_paging(request, width=1)
            since_raw = request.query_params.get("updated_since")
            since = (
                None if since_raw is None else epoch_us(parse_instant("updated_since", since_raw))
            )
            if cursor is not None:
                if since is not None and since != cursor.get("u"):
                    raise BadRequest(
                        "updated_since",
                        "the cursor already carries updated_since; pass only cursor and limit",
                    )
                since = cursor.get("u")
        except BadRequest as exc:
            return _wms_error(exc)
        frame = self.state.cached(("wms", "inbound"), lambda: wms.inbound_frame(self.state))
        if since is not None:
            frame = frame.filter(
                pl.col("updated_at") >= pl.lit(since).cast(pl.Datetime("us", "UTC"))
            )
        after = [cursor["k"]] if cursor else None
        page = keyset_page(frame, ["inbound_id"], limit, after=after)
        next_cursor = (
            encode_cursor({"k": page.last_key(["inbound_id"])[0], "u": since})
            if page.has_next
            else None
        )
        return json_response(
            {"inbound_orders": wms.render_inbound(page.rows), "next_cursor": next_cursor}
        )

    # Sandbox admin ----------------------------------------------------------------------

    def clock(self, request: Request) -> Response:
        return json_response({"now": iso_z(self.state.now)})

    def advance(self, request: Request) -> Response:
        raw = request.query_params.get("days")
        try:
            days = float(raw) if raw is not None else float("nan")
            if not days >= 0:
                raise ValueError
        except ValueError:
            return json_response(
                {
                    "error": {
                        "code": "invalid_parameter",
                        "message": "days must be a non-negative number",
                    }
                },
                400,
            )
        return json_response({"now": iso_z(self.state.advance(days))})


def _filters_as_params(filters: dict[str, Any]) -> dict[str, str]:
    """Rebuild query parameters from stored filters, to re-validate a decoded page_info."""
    out: dict[str, str] = {"status": filters["status"], "order": " ".join(filters["order"])}
    for name in _TIME_FILTERS:
        if name in filters:
            out[name] = (_EPOCH + timedelta(microseconds=int(filters[name]))).isoformat()
    for name in ("financial_status", "fulfillment_status"):
        if name in filters:
            out[name] = filters[name]
    if "since_id" in filters:
        out["since_id"] = str(int(filters["since_id"]))
    if "ids" in filters:
        out["ids"] = ",".join(str(int(i)) for i in filters["ids"])
    return out


def _wms_paging(request: Request, width: int) -> tuple[int, dict[str, Any] | None]:
    """``limit`` and the decoded cursor, whose key must hold ``width`` strings (a bare string
    when ``width`` is 1)."""
    limit = parse_limit(request.query_params.get("limit"), wms.DEFAULT_LIMIT, wms.MAX_LIMIT)
    raw = request.query_params.get("cursor")
    if raw is None:
        return limit, None
    try:
        cursor = decode_cursor(raw)
    except CursorError as exc:
        raise BadRequest("cursor", "invalid cursor") from exc
    key = cursor.get("k")
    valid_key = (
        isinstance(key, str)
        if width == 1
        else (isinstance(key, list) and len(key) == width and all(isinstance(k, str) for k in key))
    )
    since = cursor.get("u")
    if not valid_key or not (since is None or type(since) is int):
        raise BadRequest("cursor", "invalid cursor")
    return limit, cursor


def _wms_error(exc: BadRequest) -> Response:
    return json_response({"error": {"code": "invalid_parameter", "message": exc.message}}, 400)


def create_app(state: SandboxState, config: SandboxConfig | None = None) -> Starlette:
    """The Starlette app serving ``state`` (handlers are sync: Starlette runs them in its
    thread pool, so rendering never blocks the event loop)."""
    ctx = SandboxContext.create(state, config or SandboxConfig())
    api = _Api(ctx)
    faults = FaultRun(ctx.config.faults, seed=state.world.seed)
    routes = [
        Route(f"{SHOPIFY_PREFIX}/orders.json", api.orders, methods=["GET"]),
        Route(f"{SHOPIFY_PREFIX}/orders/count.json", api.orders_count, methods=["GET"]),
        Route("/wms/v1/warehouses", api.warehouses, methods=["GET"]),
        Route("/wms/v1/items", api.items, methods=["GET"]),
        Route("/wms/v1/inventory", api.inventory, methods=["GET"]),
        Route("/wms/v1/inbound_orders", api.inbound_orders, methods=["GET"]),
        Route("/_sandbox/clock", api.clock, methods=["GET"]),
        Route("/_sandbox/clock/advance", api.advance, methods=["POST"]),
        Route("/_sandbox/faults", faults_endpoint(faults), methods=["GET"]),
    ]
    # Each further API family lives in its own module and contributes its routes here.
    for family in (
        api_amazon,
        api_amazon_reports,
        api_aftership,
        api_stripe,
        api_paypal,
        api_shopify_finance,
        api_shopify_graphql,
        api_ecb,
        api_easypost,
    ):
        routes += family.routes(ctx)
    routes += api_ledger.routes(ctx)  # the ground truth as of the clock, for reconcile
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, run=faults)])
    app.state.sandbox = state
    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 42,
    n_orders: int = 2000,
    world_dir: str | Path | None = None,
    faults: str = "none",
    shopify_plan: str = "standard",
    cache_mb: int | None = None,
) -> None:
    """Serve a world in the foreground until interrupted: the ledger in ``world_dir`` (written
    by ``tradelane sandbox generate``), else a freshly generated one (``seed``, ``n_orders``),
    with the fault profile named ``faults`` (see ``faults.PROFILES``) and the Shopify rate
    limit of ``shopify_plan`` (``standard`` or ``plus``, see ``context.SHOPIFY_PLANS``).
    ``cache_mb``: the byte budget every lazily rendered list shares (``render_cache``; its
    default if None)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if cache_mb is not None:
        set_shared_limit(cache_mb * 2**20)
    profile = get_profile(faults)
    config = SandboxConfig.for_shopify_plan(shopify_plan, faults=profile)
    world = read_ledger(world_dir) if world_dir is not None else generate_world(seed, n_orders)
    state = SandboxState(world, faults=profile)
    visible = state.orders_view().height
    log.info(
        "Tradelane sandbox on http://%s:%s (seed %s, faults %s, Shopify %s plan, %s orders "
        "visible at %s, %s in the ledger)",
        host,
        port,
        world.seed,
        profile.name,
        shopify_plan,
        visible,
        iso_z(state.now),
        world.orders.height,
    )
    uvicorn.run(
        create_app(state, config),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


@contextmanager
def running_sandbox(
    state: SandboxState | None = None,
    config: SandboxConfig | None = None,
    seed: int = 42,
    n_orders: int = 2000,
) -> Iterator[str]:
    """Serve a sandbox on a free 127.0.0.1 port in a background thread; yield its base URL
    (``http://127.0.0.1:PORT``). The socket is bound before the server starts, so there is
    no race for the port; on exit the server stops without waiting for idle keep-alives."""
    state = state if state is not None else SandboxState.generate(seed=seed, n_orders=n_orders)
    app = create_app(state, config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
        sock.close()
