"""Sandbox API: Shopify Admin REST 2026-07 finance and shipping endpoints.

Why: reconciling a Shopify store needs more than orders: what each order's payment did
(transactions), what was given back (refunds), what left the warehouse and where it is
(fulfillments and their events), and what Shopify Payments paid the seller (payouts, the
balance and the balance transactions each payout batches, disputes). These endpoints serve
that from the ledger as of the sandbox clock, and every one goes through the shared Shopify
gate (``ctx.shopify_gate``): the same access token check and the same leaky bucket as
``orders.json``, because Shopify counts every Admin call of a token in one bucket. Payouts,
balance transactions and disputes page through ``Link`` headers with an opaque ``page_info``
exactly like orders (keyset cursors from ``pagination``). Refunds and fulfillments are the
very records ``orders.json`` embeds (``shopify_serving.ShopOrders``): Shopify serves one
object in both places, so the sandbox renders it once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import shopify_finance_objects as sfo
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import RecordShape, page_faults, register_shape, row_at
from ingestion.sandbox.http_common import (
    BadRequest,
    base_url,
    json_response,
    page_records,
    parse_instant,
    parse_limit,
    select_fields,
)
from ingestion.sandbox.pagination import (
    CursorError,
    SortedFrame,
    decode_cursor,
    page_info_link_header,
)
from ingestion.sandbox.shopify import API_VERSION
from ingestion.sandbox.shopify_serving import OrdersAsOf
from ingestion.sandbox.stripe_ledger import LedgerView

PREFIX = f"/admin/api/{API_VERSION}"
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_NOT_FOUND = {"errors": "Not Found"}
_PAGINATION_DOC = "See https://shopify.dev/api/usage/pagination-rest for more information."
# Ledger tables each paged list is derived from (its cache lives until one of them changes).
_SOURCES = {
    "payouts": ["payouts"],
    "disputes": ["disputes", "orders"],
    "balance_transactions": ["balance_transactions", "payouts"],
}
_PAYOUT_STATUSES = {"scheduled", "in_transit", "paid", "failed", "canceled"}
_DISPUTE_STATUSES = {
    "needs_response",
    "under_review",
    "charge_refunded",
    "accepted",
    "won",
    "lost",
}

# How these records look to the fault injector (payouts, refunds and fulfillments are
# registered by ``fault_data``).
for _entity, _shape in {
    "transactions": RecordShape(
        int_id=True,
        money=("amount",),
        timestamps=("created_at", "processed_at"),
        currencies=("currency",),
        required=("amount", "currency", "kind", "status"),
        objects=("total_unsettled_set",),
    ),
    "fulfillment_events": RecordShape(
        int_id=True,
        timestamps=("happened_at", "created_at"),
        required=("status", "happened_at"),
    ),
    "disputes": RecordShape(
        int_id=True,
        money=("amount",),
        timestamps=("initiated_at", "evidence_due_by"),
        currencies=("currency",),
        required=("amount", "currency", "status", "reason"),
    ),
}.items():
    register_shape("shopify_finance", _entity, _shape)


def _fields(params: dict[str, str]) -> list[str]:
    return [f.strip() for f in params.get("fields", "").split(",") if f.strip()]


def _project(records: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
    return [select_fields(r, fields) for r in records] if fields else records


def _int_param(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except ValueError:
        raise BadRequest(name, f"{name} must be an integer") from None


def _date_param(params: dict[str, str], name: str) -> date | None:
    if name not in params:
        return None
    try:
        return date.fromisoformat(params[name][:10])
    except ValueError:
        raise BadRequest(name, f"{name} must be a date (YYYY-MM-DD)") from None


class ShopifyFinanceApi:
    """Handlers bound to one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.view = LedgerView(ctx.state)

    def _order(self, request: Request) -> sfo.OrderBundle | None:
        try:
            order_id = int(request.path_params["order_id"])
        except ValueError:
            return None
        return sfo.load_order(self.view, order_id)

    def _per_order(
        self,
        request: Request,
        key: str,
        entity: str,
        render: Callable[[sfo.OrderBundle, dict[str, str]], list[dict[str, Any]]],
    ) -> Response:
        """Shared flow of the per-order endpoints: gate, order lookup (404 if not a visible
        Shopify order), render, filters, faults."""
        refused, headers = self.ctx.shopify_gate.check(request)
        if refused is not None:
            return refused
        params = dict(request.query_params)
        bundle = self._order(request)
        if bundle is None:
            return json_response(_NOT_FOUND, 404, headers)
        try:
            records = render(bundle, params)
        except BadRequest as exc:
            return json_response({"errors": {exc.param: exc.message}}, 400, headers)
        except _NotFound:
            return json_response(_NOT_FOUND, 404, headers)
        records = page_faults(request, "shopify_finance", entity, records, "id")
        return json_response({key: _project(records, _fields(params))}, 200, headers)

    # Per order -----------------------------------------------------------------------------

    def transactions(self, request: Request) -> Response:
        def render(b: sfo.OrderBundle, params: dict[str, str]) -> list[dict[str, Any]]:
            since = _int_param(params, "since_id")
            records = sfo.render_transactions(b)
            return [t for t in records if since is None or t["id"] > since]

        return self._per_order(request, "transactions", "transactions", render)

    def refunds(self, request: Request) -> Response:
        def records(orders: OrdersAsOf, order_id: int, params: dict[str, str]) -> list[bytes]:
            limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
            return list(orders.one(order_id).refunds[:limit])

        return self._embedded(request, "refunds", records)

    def fulfillments(self, request: Request) -> Response:
        def records(orders: OrdersAsOf, order_id: int, params: dict[str, str]) -> list[bytes]:
            limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
            since = _int_param(params, "since_id")
            bounds = {
                name: parse_instant(name, params[name])
                for name in ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max")
                if name in params
            }
            out = [
                f.json
                for f in orders.one(order_id).fulfillments
                if (since is None or f.id > since)
                and _within(
                    f.created_at, bounds.get("created_at_min"), bounds.get("created_at_max")
                )
                and _within(
                    f.updated_at, bounds.get("updated_at_min"), bounds.get("updated_at_max")
                )
            ]
            return out[:limit]

        return self._embedded(request, "fulfillments", records)

    def _embedded(
        self,
        request: Request,
        key: str,
        records: Callable[[OrdersAsOf, int, dict[str, str]], list[bytes]],
    ) -> Response:
        """The per-order lists Shopify also embeds in each order (refunds, fulfillments): the
        very bytes ``orders.json`` embeds (``shopify_serving.ShopOrders``), filtered per
        request, then this list's own data faults."""
        refused, headers = self.ctx.shopify_gate.check(request)
        if refused is not None:
            return refused
        params = dict(request.query_params)
        orders = self.ctx.shopify_orders.current()
        try:
            order_id = int(request.path_params["order_id"])
        except ValueError:
            return json_response(_NOT_FOUND, 404, headers)
        if not orders.has_order(order_id):
            return json_response(_NOT_FOUND, 404, headers)
        try:
            found = records(orders, order_id, params)
        except BadRequest as exc:
            return json_response({"errors": {exc.param: exc.message}}, 400, headers)
        served = page_records(
            request,
            found,
            api="shopify_finance",
            entity=key,
            id_field="id",
            fields=_fields(params),
        )
        return json_response({key: served}, 200, headers)

    def fulfillment_events(self, request: Request) -> Response:
        def render(b: sfo.OrderBundle, params: dict[str, str]) -> list[dict[str, Any]]:
            try:
                fulfillment_id = int(request.path_params["fulfillment_id"])
            except ValueError:
                raise _NotFound from None
            shipment = next((s for s in b.shipments if s["shipment_id"] == fulfillment_id), None)
            if shipment is None:
                raise _NotFound
            rows = self.view.dicts(
                "tracking_events", "tracking_number", [shipment["tracking_number"]]
            )
            return sfo.render_fulfillment_events(b, shipment, rows)

        return self._per_order(request, "fulfillment_events", "fulfillment_events", render)

    # Shopify Payments ------------------------------------------------------------------------

    def _payouts_frame(self) -> pl.DataFrame:
        """Shopify Payments payouts (Stripe's, which pay Shopify orders) with Shopify ids."""

        def build() -> pl.DataFrame:
            payouts = self.view("payouts").filter(pl.col("provider") == "stripe")
            return payouts.with_columns(
                shopify_id=sfo.payout_ids(payouts["payout_id"], payouts["created_at"]),
                _k=pl.col("created_at").dt.epoch("us"),
            )

        return self.view.derived(("shopify", "payouts"), ["payouts"], build)

    def _disputes_frame(self) -> pl.DataFrame:
        """Stripe disputes of Shopify orders, with Shopify ids."""

        def build() -> pl.DataFrame:
            shopify_orders = sfo.shopify_orders(self.view("orders")).select("order_id")
            disputes = self.view("disputes").filter(pl.col("dispute_id").str.starts_with("dp_"))
            disputes = disputes.join(shopify_orders, on="order_id", how="semi")
            return disputes.with_columns(
                shopify_id=sfo.dispute_ids(disputes["dispute_id"], disputes["created_at"])
            )

        return self.view.derived(("shopify", "disputes"), ["disputes", "orders"], build)

    def _balance_transactions_frame(self) -> pl.DataFrame:
        """Stripe balance transactions with Shopify ids and their payout's id and status."""

        def build() -> pl.DataFrame:
            payouts = self._payouts_frame().select(
                "payout_id",
                pl.col("shopify_id").alias("shopify_payout_id"),
                pl.col("status").replace(sfo.PAYOUT_STATUS).alias("shopify_payout_status"),
            )
            bts = self.view("balance_transactions").filter(pl.col("provider") == "stripe")
            ids = sfo.balance_transaction_ids(bts["balance_transaction_id"], bts["created_at"])
            return bts.with_columns(shopify_id=ids).join(payouts, on="payout_id", how="left")

        return self.view.derived(
            ("shopify", "balance_transactions"), ["balance_transactions", "payouts"], build
        )

    def balance_transactions(self, request: Request) -> Response:
        return self._paged(
            request,
            "transactions",
            frame=self._balance_transactions_frame,
            filters=_balance_filters,
            apply=_filter_balance_transactions,
            keys=["shopify_id"],
            render=lambda rows: sfo.render_balance_transactions(self.view, rows),
            entity="balance_transactions",
        )

    def payouts(self, request: Request) -> Response:
        return self._paged(
            request,
            "payouts",
            frame=self._payouts_frame,
            filters=_payout_filters,
            apply=_filter_payouts,
            keys=["_k", "shopify_id"],
            render=lambda rows: sfo.render_payouts(self.view, rows),
        )

    def disputes(self, request: Request) -> Response:
        return self._paged(
            request,
            "disputes",
            frame=self._disputes_frame,
            filters=_dispute_filters,
            apply=_filter_disputes,
            keys=["shopify_id"],
            render=lambda rows: sfo.render_disputes(self.view, rows),
        )

    def _paged(
        self,
        request: Request,
        key: str,
        *,
        frame: Callable[[], pl.DataFrame],
        filters: Callable[[dict[str, str]], dict[str, Any]],
        apply: Callable[[pl.DataFrame, dict[str, Any]], pl.DataFrame],
        keys: list[str],
        render: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        entity: str | None = None,
    ) -> Response:
        """A newest-first list with Shopify's cursor pagination: ``page_info`` carries the
        filters and the last key seen, and may only be combined with ``limit`` and ``fields``."""
        refused, headers = self.ctx.shopify_gate.check(request)
        if refused is not None:
            return refused
        params = dict(request.query_params)
        try:
            limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
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
                    chosen = filters({k: str(v) for k, v in cursor["f"].items()})
                    position = cursor["k"]
                    if (
                        cursor.get("d") not in ("n", "p")
                        or not isinstance(position, list)
                        or len(position) != len(keys)
                        or not all(type(v) is int for v in position)
                    ):
                        raise BadRequest("page_info", "Invalid value.")
                except (CursorError, KeyError, TypeError, AttributeError, BadRequest) as exc:
                    raise BadRequest("page_info", "Invalid value.") from exc
                after, before = (position, None) if cursor["d"] == "n" else (None, position)
            else:
                chosen = filters(params)
        except BadRequest as exc:
            return json_response({"errors": {exc.param: exc.message}}, 400, headers)

        # One sorted frame per clock position and filter combination: a page is a binary
        # search and a slice.
        listed = self.view.derived(
            ("shopify", key, orjson.dumps(chosen, option=orjson.OPT_SORT_KEYS)),
            _SOURCES[entity or key],
            lambda: SortedFrame(apply(frame(), chosen), keys, descending=True),
        )
        rows_frame = listed.frame
        page = listed.page(limit, after=after, before=before)
        records = render(page.rows.to_dicts())
        records = page_faults(
            request,
            "shopify_finance",
            entity or key,
            records,
            "id",
            None if after is None else lambda: render(row_at(rows_frame, keys, after).to_dicts()),
        )
        fields = _fields(params)
        headers.update(
            page_info_link_header(
                base_url(request), page, keys, chosen, limit, params.get("fields")
            )
        )
        return json_response({key: _project(records, fields)}, 200, headers)

    def payout(self, request: Request) -> Response:
        return self._single(request, "payout", self._payouts_frame, sfo.render_payouts)

    def dispute(self, request: Request) -> Response:
        return self._single(request, "dispute", self._disputes_frame, sfo.render_disputes)

    def _single(
        self,
        request: Request,
        key: str,
        frame: Callable[[], pl.DataFrame],
        render: Callable[[sfo.View, list[dict[str, Any]]], list[dict[str, Any]]],
    ) -> Response:
        refused, headers = self.ctx.shopify_gate.check(request)
        if refused is not None:
            return refused
        try:
            wanted = int(request.path_params["id"])
        except ValueError:
            return json_response(_NOT_FOUND, 404, headers)
        rows = frame().filter(pl.col("shopify_id") == wanted).to_dicts()
        if not rows:
            return json_response(_NOT_FOUND, 404, headers)
        record = render(self.view, rows)[0]
        fields = _fields(dict(request.query_params))
        return json_response(
            {key: select_fields(record, fields) if fields else record}, 200, headers
        )

    def balance(self, request: Request) -> Response:
        refused, headers = self.ctx.shopify_gate.check(request)
        if refused is not None:
            return refused
        return json_response({"balance": sfo.render_balance(self.view)}, 200, headers)


class _NotFound(Exception):
    """A sub-resource of a visible order that does not exist."""


def _within(value: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _payout_filters(params: dict[str, str]) -> dict[str, Any]:
    """Validated, JSON-serialisable payout filters (what ``page_info`` carries)."""
    out: dict[str, Any] = {}
    for name in ("since_id", "last_id"):
        value = _int_param(params, name)
        if value is not None:
            out[name] = value
    for name in ("date_min", "date_max", "date"):
        value = _date_param(params, name)
        if value is not None:
            out[name] = value.isoformat()
    if "status" in params:
        if params["status"] not in _PAYOUT_STATUSES:
            raise BadRequest("status", f"status {params['status']!r} is not supported")
        out["status"] = params["status"]
    return out


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


def _filter_payouts(frame: pl.DataFrame, f: dict[str, Any]) -> pl.DataFrame:
    conditions: list[pl.Expr] = []
    if "since_id" in f:
        conditions.append(pl.col("shopify_id") > f["since_id"])
    if "last_id" in f:
        conditions.append(pl.col("shopify_id") <= f["last_id"])
    day = pl.col("created_at").dt.date()
    if "date_min" in f:
        conditions.append(day >= date.fromisoformat(f["date_min"]))
    if "date_max" in f:
        conditions.append(day <= date.fromisoformat(f["date_max"]))
    if "date" in f:
        conditions.append(day == date.fromisoformat(f["date"]))
    if "status" in f:
        ledger = {"scheduled": ["scheduled", "pending"], "canceled": ["canceled", "cancelled"]}
        conditions.append(pl.col("status").is_in(ledger.get(f["status"], [f["status"]])))
    return frame.filter(*conditions) if conditions else frame


def _balance_filters(params: dict[str, str]) -> dict[str, Any]:
    """Validated, JSON-serialisable balance transaction filters (what ``page_info`` carries)."""
    out: dict[str, Any] = {}
    for name in ("since_id", "last_id", "payout_id"):
        value = _int_param(params, name)
        if value is not None:
            out[name] = value
    if "payout_status" in params:
        if params["payout_status"] not in _PAYOUT_STATUSES | {"pending"}:
            raise BadRequest(
                "payout_status", f"payout_status {params['payout_status']!r} is not supported"
            )
        out["payout_status"] = params["payout_status"]
    if "test" in params:
        out["test"] = params["test"]
    return out


def _filter_balance_transactions(frame: pl.DataFrame, f: dict[str, Any]) -> pl.DataFrame:
    conditions: list[pl.Expr] = []
    if "since_id" in f:
        conditions.append(pl.col("shopify_id") > f["since_id"])
    if "last_id" in f:
        conditions.append(pl.col("shopify_id") <= f["last_id"])
    if "payout_id" in f:
        conditions.append(pl.col("shopify_payout_id") == f["payout_id"])
    if "payout_status" in f:
        status = pl.col("shopify_payout_status").fill_null("pending")
        conditions.append(status == f["payout_status"])
    if f.get("test") == "true":
        conditions.append(pl.lit(False))  # the sandbox store takes no test payments
    return frame.filter(*conditions) if conditions else frame


def _dispute_filters(params: dict[str, str]) -> dict[str, Any]:
    """Validated, JSON-serialisable dispute filters (what ``page_info`` carries)."""
    out: dict[str, Any] = {}
    for name in ("since_id", "last_id"):
        value = _int_param(params, name)
        if value is not None:
            out[name] = value
    initiated = _date_param(params, "initiated_at")
    if initiated is not None:
        out["initiated_at"] = initiated.isoformat()
    if "status" in params:
        if params["status"] not in _DISPUTE_STATUSES:
            raise BadRequest("status", f"status {params['status']!r} is not supported")
        out["status"] = params["status"]
    return out


def _filter_disputes(frame: pl.DataFrame, f: dict[str, Any]) -> pl.DataFrame:
    conditions: list[pl.Expr] = []
    if "since_id" in f:
        conditions.append(pl.col("shopify_id") > f["since_id"])
    if "last_id" in f:
        conditions.append(pl.col("shopify_id") <= f["last_id"])
    if "initiated_at" in f:
        low, high = _day_bounds(f["initiated_at"])
        conditions.append((pl.col("created_at") >= low) & (pl.col("created_at") < high))
    if "status" in f:
        conditions.append(pl.col("status") == f["status"])
    return frame.filter(*conditions) if conditions else frame


def routes(ctx: SandboxContext) -> list[Route]:
    """Per-order finance and shipping routes, and the Shopify Payments routes."""
    api = ShopifyFinanceApi(ctx)
    order = f"{PREFIX}/orders/{{order_id}}"
    payments = f"{PREFIX}/shopify_payments"
    return [
        Route(f"{order}/transactions.json", api.transactions, methods=["GET"]),
        Route(f"{order}/refunds.json", api.refunds, methods=["GET"]),
        Route(f"{order}/fulfillments.json", api.fulfillments, methods=["GET"]),
        Route(
            f"{order}/fulfillments/{{fulfillment_id}}/events.json",
            api.fulfillment_events,
            methods=["GET"],
        ),
        Route(f"{payments}/payouts.json", api.payouts, methods=["GET"]),
        Route(f"{payments}/payouts/{{id}}.json", api.payout, methods=["GET"]),
        Route(f"{payments}/balance.json", api.balance, methods=["GET"]),
        Route(f"{payments}/balance/transactions.json", api.balance_transactions, methods=["GET"]),
        Route(f"{payments}/disputes.json", api.disputes, methods=["GET"]),
        Route(f"{payments}/disputes/{{id}}.json", api.dispute, methods=["GET"]),
    ]
