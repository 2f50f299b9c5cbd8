"""Sandbox API: an AfterShip-shaped tracking aggregator (trackings with checkpoints), served
from the ledger's shipments and tracking events as of the sandbox clock.

Version: the official examples we conform to (``shared/fixtures/api/aftership/``) are the list
and single-tracking bodies whose envelope AfterShip kept from v4 through the 2024 versions:
``{"meta": {"code": 200}, "data": {"page", "limit", "count", ..., "trackings": [...]}}`` with
page-number pagination (the cursor pagination of later versions has no example here). They are
served under ``/tracking/2024-04`` and, for clients still on the legacy base URL, ``/v4``:

- ``GET .../trackings``: ``page`` (from 1), ``limit`` (1-200, default 100), ``created_at_min``
  (default 120 days before now, AfterShip's retention) and ``created_at_max`` (default now),
  ``updated_at_min``/``updated_at_max``, ``tag``, ``slug``, ``keyword`` (tracking number, order
  id, title or customer name), ``tracking_numbers``, ``origin``/``destination`` (ISO alpha-3).
  Newest first, ties broken by id; ``count`` is the number of matches. The resolved
  ``created_at_min``/``created_at_max`` are echoed: page numbers only walk a fixed set when
  the window is fixed, so a connector should pass them back on every page (AfterShip's offset
  pages shift when trackings are created or updated mid-walk, and so do ours).
- ``GET .../trackings/{id}`` and the legacy ``GET .../trackings/{slug}/{tracking_number}``:
  ``{"meta": {"code": 200}, "data": {"tracking": {...}}}``; 404 ``meta.code`` 4004 otherwise.
- Auth: header ``as-api-key`` (``aftership-api-key`` on the legacy base URL is accepted too);
  401 ``meta.code`` 401 otherwise.
- Data faults of the run's profile apply to list pages through ``fault_data.page_faults``,
  keyed by ``tracking_number``.
- Rate limit: a token bucket per API key, ``RATE_LIMIT_PER_S`` requests per second with an
  equal burst (AfterShip's 10/s per account), reported in ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix seconds when the bucket is full
  again); an empty bucket answers 429 ``TooManyRequests`` with those headers and no
  ``Retry-After``: clients wait until ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import polars as pl
import pycountry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import aftership_render as render
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.http_common import (
    BadRequest,
    epoch_us,
    json_response,
    page_records,
    parse_instant,
)
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.render_cache import READ_AHEAD, VERSION, RenderCache, Rendered

SANDBOX_API_KEY = "asat_sandbox"
API_VERSION = "2024-04"
PREFIXES = (f"/tracking/{API_VERSION}", "/v4")
DEFAULT_LIMIT = 100
MAX_LIMIT = 200
RETENTION = timedelta(days=120)
RATE_LIMIT_PER_S = 10.0
# List queries whose matching rows are kept per clock position (a walk, a few filters).
_MAX_QUERIES = 16
_UTC_FMT = "%Y-%m-%dT%H:%M:%S+00:00"


class LedgerNotReady(RuntimeError):
    """The sandbox state does not expose the v2 ledger tables this API reads."""


def _view(ctx: SandboxContext, table: str) -> pl.DataFrame:
    """The ledger ``table`` (LEDGER.md v2) as of the sandbox clock: one of the two places that
    know how the state object exposes it."""
    try:
        return ctx.state.table_as_of(table)
    except (AttributeError, KeyError) as exc:
        raise LedgerNotReady(f"the sandbox world has no ledger table {table!r} yet") from exc


def _whole(ctx: SandboxContext, table: str) -> pl.DataFrame:
    """The whole ledger ``table`` up to the horizon (``render.Tracker`` applies the clock)."""
    try:
        return ctx.state.ledger_table(table)
    except (AttributeError, KeyError) as exc:
        raise LedgerNotReady(f"the sandbox world has no ledger table {table!r} yet") from exc


def _meta(status: int, code: int, kind: str, message: str, headers: dict[str, str]) -> Response:
    body = {"meta": {"code": code, "message": message, "type": kind}, "data": {}}
    return json_response(body, status, headers)


def _list(params: Any, name: str) -> list[str]:
    raw = params.get(name)
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else []


class _AfterShipApi:
    """Request handlers bound to one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.key = getattr(ctx.config, "aftership_api_key", SANDBOX_API_KEY)
        self.rate = RATE_LIMIT_PER_S
        self.bucket = LeakyBucket(
            max(1, int(self.rate)), self.rate, clock=ctx.config.rate_limit_clock
        )
        self._lock = threading.Lock()
        self._tracker: render.Tracker | None = None
        self._cache: tuple[tuple[datetime, int], render.Trackings] | None = None
        # Row positions matching each recent query at the current clock (``_matching``).
        self._queries: OrderedDict[tuple[Any, ...], pl.Series] = OrderedDict()
        self._queries_of: render.Trackings | None = None
        # Rendered trackings by shipment id, shared across clock positions (``render_cache``).
        self.rendered: RenderCache[Rendered] = RenderCache()

    # Plumbing ---------------------------------------------------------------------------

    def _gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        key = request.headers.get("as-api-key") or request.headers.get("aftership-api-key")
        if key != self.key:
            return _meta(401, 401, "Unauthorized", "Invalid API key.", {}), {}
        decision = self.bucket.acquire(key)
        level = decision.used if decision.allowed else decision.size
        wait = decision.retry_after or level / self.rate
        headers = {
            "X-RateLimit-Limit": str(decision.size),
            "X-RateLimit-Remaining": str(decision.size - level),
            "X-RateLimit-Reset": str(math.ceil(time.time() + wait)),
        }
        if not decision.allowed:
            message = (
                "You have exceeded the API call rate limit. The default limit is "
                f"{self.rate:g} requests per second."
            )
            return _meta(429, 429, "TooManyRequests", message, headers), headers
        return None, headers

    def data(self) -> render.Trackings:
        """Trackings at the current clock, brought forward from the previous clock position
        (``render.Tracker``) when the state hands out new views. No JSON yet: pages render
        what they show (and what follows) on demand."""
        ctx = self.ctx
        now = ctx.state.now
        shipments = _view(ctx, "shipments")
        key = (now, id(shipments))
        with self._lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            if self._tracker is None:
                self._tracker = render.Tracker(
                    *(
                        _whole(ctx, table)
                        for table in (
                            "shipments",
                            "tracking_events",
                            "orders",
                            "customers",
                            "warehouses",
                            "channels",
                        )
                    ),
                    self._weights(),
                )
            built = self._tracker.at(now, shipments["shipment_id"])
            self._cache = (key, built)
            return built

    def _matching(
        self, data: render.Trackings, query: tuple[Any, ...], conditions: list[pl.Expr]
    ) -> pl.Series:
        """Positions in ``data.trackings`` of the rows a list query matches, found once per
        clock position and query: the pages of a walk only slice them (filtering the whole
        frame per page cost a pass over a million rows each)."""
        with self._lock:
            if self._queries_of is not data:
                self._queries.clear()
                self._queries_of = data
            found = self._queries.get(query)
            if found is not None:
                self._queries.move_to_end(query)
                return found
        found = data.trackings.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).filter(pl.all_horizontal(conditions))
        ).to_series()
        with self._lock:
            if self._queries_of is data:
                self._queries[query] = found
                while len(self._queries) > _MAX_QUERIES:
                    self._queries.popitem(last=False)
        return found

    def json_of(
        self,
        data: render.Trackings,
        rows: pl.DataFrame,
        ahead: Callable[[], pl.DataFrame] | None = None,
    ) -> list[bytes]:
        """The JSON of the trackings ``rows`` of ``data`` (at the clock it was built for),
        from the cache or rendered with the rows ``ahead()`` returns in one pass."""

        def render_missing(missing: pl.DataFrame) -> dict[int, Rendered]:
            return {
                shipment: Rendered(version, json)
                for shipment, version, json in zip(
                    missing["shipment_id"].to_list(),
                    missing[VERSION].to_list(),
                    render.render_rows(data, missing),
                    strict=True,
                )
            }

        found = self.rendered.renderings(rows, "shipment_id", render_missing, ahead)
        return [entry.json for entry in found]

    def _weights(self) -> pl.DataFrame | None:
        """Grams per shipment (shipment lines x product weights), when the ledger has them."""
        try:
            lines = _whole(self.ctx, "shipment_lines")
            skus = _whole(self.ctx, "order_lines").select("line_id", "sku")
            grams = _whole(self.ctx, "products").select("sku", "weight_g")
        except (LedgerNotReady, pl.exceptions.ColumnNotFoundError):
            return None
        return (
            lines.join(skus, on="line_id", how="inner")
            .join(grams, on="sku", how="inner")
            .group_by("shipment_id")
            .agg(weight_g=(pl.col("quantity") * pl.col("weight_g")).sum())
        )

    def _guarded(
        self, request: Request, handler: Callable[[Request, dict[str, str]], Response]
    ) -> Response:
        refused, headers = self._gate(request)
        if refused is not None:
            return refused
        try:
            return handler(request, headers)
        except BadRequest as exc:
            return _meta(400, 400, "BadRequest", exc.message, headers)
        except LedgerNotReady as exc:
            return _meta(503, 503, "ServiceUnavailable", str(exc), headers)

    # Handlers ---------------------------------------------------------------------------

    def list_trackings(self, request: Request) -> Response:
        return self._guarded(request, self._list_trackings)

    def _list_trackings(self, request: Request, headers: dict[str, str]) -> Response:
        params = request.query_params
        page_no = _int_param(params, "page", 1, 1, None)
        limit = _int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        data = self.data()
        # Whole seconds, as echoed: a client passing the echo back walks the same window.
        now = self.ctx.state.now.replace(microsecond=0)
        created_min = _instant(params, "created_at_min") or now - RETENTION
        created_max = _instant(params, "created_at_max") or now
        conditions = [pl.col("created_us").is_between(epoch_us(created_min), epoch_us(created_max))]
        query: list[Any] = [created_min, created_max]
        for name, op in (("updated_at_min", "ge"), ("updated_at_max", "le")):
            bound = _instant(params, name)
            query.append(bound)
            if bound is not None:
                column = pl.col("updated_us")
                value = epoch_us(bound)
                conditions.append(column >= value if op == "ge" else column <= value)
        tags = _list(params, "tag")
        bad = sorted(set(tags) - set(render.TAGS))
        if bad:
            raise BadRequest("tag", f"The value of `tag` is invalid: {bad[0]}.")
        if tags:
            conditions.append(pl.col("tag").is_in(tags))
        slugs = _list(params, "slug")
        if slugs:
            carriers = [c for c, spec in render.CARRIERS.items() if spec[0] in slugs]
            conditions.append(pl.col("carrier").is_in(carriers))
        numbers = _list(params, "tracking_numbers")
        if numbers:
            conditions.append(pl.col("tracking_number").is_in(numbers))
        query += [tuple(tags), tuple(slugs), tuple(numbers)]
        for name, column in (("origin", "origin_country"), ("destination", "c_country")):
            wanted = _list(params, name)
            query.append(tuple(wanted))
            if wanted:
                conditions.append(pl.col(column).is_in(_alpha2_of(name, wanted)))
        keyword = (params.get("keyword") or "").strip()
        query.append(keyword)
        if keyword:
            needle = keyword.lower()
            conditions.append(
                pl.any_horizontal(
                    pl.col(c).str.to_lowercase().str.contains(needle, literal=True)
                    for c in ("tracking_number", "external_order_id", "order_name")
                )
                | pl.concat_str("c_first_name", pl.lit(" "), "c_last_name")
                .str.to_lowercase()
                .str.contains(needle, literal=True)
            )
        matching = self._matching(data, tuple(query), conditions)
        frame = data.trackings
        offset = (page_no - 1) * limit
        rows = frame[matching.slice(offset, limit)]
        trackings = page_records(
            request,
            self.json_of(data, rows, lambda: frame[matching.slice(offset + limit, READ_AHEAD)]),
            api="aftership",
            entity="trackings",
            # Keyed by tracking number, which the ledger holds as is (``shipments``), so the
            # ledger's ``malformed_records`` can list these without rendering anything.
            id_field="tracking_number",
            previous=None
            if offset == 0 or offset > matching.len()
            else lambda: self.json_of(data, frame[matching.slice(offset - 1, 1)]),
        )
        body = {
            "meta": {"code": 200},
            "data": {
                "page": page_no,
                "limit": limit,
                "count": matching.len(),
                "keyword": keyword,
                "slug": ",".join(slugs),
                "origin": _list(params, "origin"),
                "destination": _list(params, "destination"),
                "tag": ",".join(tags),
                "fields": params.get("fields", ""),
                "created_at_min": created_min.strftime(_UTC_FMT),
                "created_at_max": created_max.strftime(_UTC_FMT),
                "last_updated_at": None,
                "return_to_sender": [],
                "courier_destination_country_iso3": [],
                "trackings": trackings,
            },
        }
        return json_response(body, 200, headers)

    def get_tracking(self, request: Request) -> Response:
        def handler(request: Request, headers: dict[str, str]) -> Response:
            data = self.data()
            shipment = render.shipment_of_tracking_id(request.path_params["tracking_id"])
            if shipment is None or shipment >= 2**63:
                return _not_found(headers)
            rows = data.trackings.filter(pl.col("shipment_id") == shipment)
            # The id also encodes the creation second: reject ids that only share the shipment.
            if rows.is_empty() or request.path_params["tracking_id"] != render.tracking_id(
                shipment, int(rows["created_us"][0]) // 1_000_000
            ):
                return _not_found(headers)
            body = {
                "meta": {"code": 200},
                "data": {"tracking": orjson.Fragment(self.json_of(data, rows)[0])},
            }
            return json_response(body, 200, headers)

        return self._guarded(request, handler)

    def get_tracking_by_number(self, request: Request) -> Response:
        def handler(request: Request, headers: dict[str, str]) -> Response:
            data = self.data()
            slug = request.path_params["slug"]
            carriers = [c for c, spec in render.CARRIERS.items() if spec[0] == slug]
            rows = data.trackings.filter(
                pl.col("tracking_number") == request.path_params["tracking_number"],
                pl.col("carrier").is_in(carriers),
            )
            if rows.is_empty():
                return _not_found(headers)
            body = {
                "meta": {"code": 200},
                "data": {"tracking": orjson.Fragment(self.json_of(data, rows)[0])},
            }
            return json_response(body, 200, headers)

        return self._guarded(request, handler)


def _not_found(headers: dict[str, str]) -> Response:
    return _meta(404, 4004, "NotFound", "Tracking does not exist.", headers)


def _int_param(params: Any, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise BadRequest(name, f"The value of `{name}` is invalid: it must be {bounds}.")
    return value


def _instant(params: Any, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_instant(name, raw)
    except BadRequest as exc:
        raise BadRequest(name, f"The value of `{name}` is invalid: {raw!r}.") from exc


def _alpha2_of(param: str, alpha3: list[str]) -> list[str]:
    out = []
    for code in alpha3:
        found = pycountry.countries.get(alpha_3=code.upper())
        if found is None:
            raise BadRequest(param, f"The value of `{param}` is invalid: {code!r}.")
        out.append(found.alpha_2)
    return out


def routes(ctx: SandboxContext) -> list[Route]:
    """Tracking routes over ``ctx``, under the versioned and the legacy base path."""
    api = _AfterShipApi(ctx)
    out = []
    for prefix in PREFIXES:
        out += [
            Route(f"{prefix}/trackings", api.list_trackings, methods=["GET"]),
            Route(f"{prefix}/trackings/{{tracking_id}}", api.get_tracking, methods=["GET"]),
            Route(
                f"{prefix}/trackings/{{slug}}/{{tracking_number}}",
                api.get_tracking_by_number,
                methods=["GET"],
            ),
        ]
    return out
