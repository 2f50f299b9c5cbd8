"""Sandbox API: Shopify GraphQL Admin 2026-07 bulk operations over orders and their transactions.

Why: at volume a Shopify app does not call ``/orders/{id}/transactions.json`` once per order
(45,615 requests for 100k orders at two a second); it runs one bulk query and downloads the
result as a JSONL file. This module serves that lifecycle as Shopify does:

- ``POST /admin/api/2026-07/graphql.json`` with the ``bulkOperationRunQuery`` mutation starts an
  operation over ``orders(query: "updated_at:>='...'")``; ``currentBulkOperation`` and
  ``node(id:)`` poll it (``CREATED`` -> ``RUNNING`` -> ``COMPLETED``, with ``objectCount``,
  ``rootObjectCount``, ``fileSize`` and ``url``). Each poll moves a new operation on by at least
  one status, so every status is seen, and ``COMPLETED`` waits for the file.
- The file has one line per order (``transactions`` is a list on ``Order``, not a connection,
  so it is inline; connections would be lines of their own with ``__parentId``). A query
  matching no order completes with ``objectCount`` "0" and no ``url``, as Shopify's does.
- Calls are priced in query cost points from a bucket per token (``extensions.cost``); a call
  the bucket cannot pay is answered ``THROTTLED`` with HTTP 200, as Shopify's GraphQL does. The
  bucket is the REST plan's times 50 (standard 2,000 points restoring 100 a second; Plus ten
  times that), so a sandbox configured with a faster REST bucket is faster here too.
- Queries are parsed with graphql-core; a query this sandbox does not serve gets a GraphQL
  error (unknown root field) or ``userErrors`` (an inner bulk query it cannot run), never a
  silent partial answer.

The transactions are the per-order endpoint's (``shopify_finance_objects.render_transactions``,
called on order bundles built for all orders at once), turned into GraphQL objects column-wise
(``jsonfrag``). Malformed transactions follow the fault profile like every list: drawn per
transaction id for ``("shopify_graphql", "transactions")`` (``fault_data.SERVED_IDS``), so the
ledger's ``malformed_records`` lists them.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import graphql
import orjson
import polars as pl
from graphql.language import ast
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import shopify_finance_objects as sfo
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import corrupt, malformed_kind, shape_of
from ingestion.sandbox.faults import FaultRun, draw
from ingestion.sandbox.http_common import iso_z, json_response, parse_instant
from ingestion.sandbox.jsonfrag import Raw, arrays, attach_arrays, obj, when_raw
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.shopify import API_VERSION
from ingestion.sandbox.stripe_ledger import LedgerView

PATH = f"/admin/api/{API_VERSION}/graphql.json"
DOWNLOAD_PATH = "/_sandbox/bulk-operations/{number}.jsonl"
FAULT_KEY = ("shopify_graphql", "transactions")
# Query cost: Shopify prices a mutation at 10 points and a query reading one object at 1.
MUTATION_COST, QUERY_COST = 10, 1
# GraphQL points per REST request of the plan's bucket (standard: 40 -> 2,000 and 2/s -> 100/s).
POINTS_PER_REST_CALL = 50
# Result files kept per token, newest first: an older operation's url answers 404, as a
# Shopify url does once it expires (after seven days), so a long-running sandbox stays bounded.
KEPT_RESULTS = 3
_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_RATE_DOC = "https://shopify.dev/api/usage/rate-limits"
_FILTER = re.compile(r"^\s*updated_at:(>=?)\s*'?([^'\s]+)'?\s*$")

# Fields of Order and OrderTransaction this sandbox serves in a bulk query.
ORDER_FIELDS = ("id", "name", "createdAt", "updatedAt", "sourceName", "transactions")
TRANSACTION_FIELDS = (
    "id",
    "kind",
    "status",
    "gateway",
    "test",
    "manualPaymentGateway",
    "errorCode",
    "createdAt",
    "processedAt",
    "amountSet",
    "parentTransaction",
    "paymentId",
    "authorizationCode",
    "receiptJson",
    "location",
    "user",
    "device",
    "paymentDetails",
)
BULK_OPERATION_FIELDS = (
    "id",
    "status",
    "errorCode",
    "createdAt",
    "completedAt",
    "objectCount",
    "rootObjectCount",
    "fileSize",
    "url",
    "partialDataUrl",
    "query",
    "type",
)


class GraphqlError(Exception):
    """A request-level GraphQL error (``{"errors": [...]}``)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": str(self)}
        if self.code:
            error["extensions"] = {"code": self.code}
        return {"errors": [error]}


class BulkQueryError(Exception):
    """An inner bulk query the sandbox cannot run: reported in ``userErrors``."""


# --- Cost ------------------------------------------------------------------------------------


class CostBucket:
    """Shopify's GraphQL rate limit: points restoring continuously up to a maximum, per token."""

    def __init__(self, maximum: float, restore_rate: float, clock: Callable[[], float]) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._available: dict[str, tuple[float, float]] = {}

    def spend(self, key: str, cost: int) -> tuple[bool, float]:
        """``(paid, available after)``: a call is paid in full or not at all."""
        with self._lock:
            now = self._clock()
            level, at = self._available.get(key, (self.maximum, now))
            level = min(self.maximum, level + (now - at) * self.restore_rate)
            paid = level >= cost
            if paid:
                level -= cost
            self._available[key] = (level, now)
            return paid, level

    def extensions(self, requested: int, actual: int | None, available: float) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(self.maximum),
                    "currentlyAvailable": int(available),
                    "restoreRate": float(self.restore_rate),
                },
            }
        }


# --- Queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkQuery:
    """What an accepted bulk query asks for."""

    text: str
    since: datetime | None
    inclusive: bool
    order_fields: tuple[str, ...]
    transaction_fields: tuple[str, ...]


def _fields(selection_set: ast.SelectionSetNode | None, on_type: str) -> list[ast.FieldNode]:
    """The fields selected, inline fragments on ``on_type`` flattened into them."""
    out: list[ast.FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, ast.FieldNode):
            out.append(selection)
        elif isinstance(selection, ast.InlineFragmentNode):
            if selection.type_condition is None or selection.type_condition.name.value == on_type:
                out.extend(_fields(selection.selection_set, on_type))
        else:
            raise BulkQueryError("fragment spreads are not supported by this sandbox")
    return out


def _names(
    fields: list[ast.FieldNode], allowed: tuple[str, ...], type_name: str
) -> tuple[str, ...]:
    names = []
    for f in fields:
        name = f.name.value
        if name == "__typename":
            continue
        if name not in allowed:
            raise BulkQueryError(f"Field '{name}' doesn't exist on type '{type_name}'")
        names.append(name)
    return tuple(dict.fromkeys(names))


def parse_bulk_query(text: str) -> BulkQuery:
    """Check the inner query of ``bulkOperationRunQuery``: one ``orders`` connection (through
    ``edges { node }`` or ``nodes``) filtered by ``updated_at:>=`` (or ``>``), selecting Order
    fields and ``transactions``."""
    try:
        document = graphql.parse(text)
    except graphql.GraphQLError as exc:
        raise BulkQueryError(f"Invalid bulk query: {exc.message}") from None
    operations = [d for d in document.definitions if isinstance(d, ast.OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != ast.OperationType.QUERY:
        raise BulkQueryError("Invalid bulk query: expected exactly one query operation")
    roots = _fields(operations[0].selection_set, "QueryRoot")
    if len(roots) != 1 or roots[0].name.value != "orders":
        raise BulkQueryError("Bulk queries in this sandbox must select the orders connection")
    orders = roots[0]
    since, inclusive = None, True
    for argument in orders.arguments:
        if argument.name.value != "query" or not isinstance(argument.value, ast.StringValueNode):
            raise BulkQueryError(f"Unsupported argument '{argument.name.value}' on orders")
        match = _FILTER.match(argument.value.value)
        if match is None:
            raise BulkQueryError(
                f"Unsupported search query {argument.value.value!r}: "
                "this sandbox filters orders by updated_at:>='<ISO 8601 time>' only"
            )
        inclusive = match.group(1) == ">="
        try:
            since = parse_instant("query", match.group(2))
        except Exception:
            raise BulkQueryError(f"Invalid updated_at value {match.group(2)!r}") from None
    node = _connection_node(orders)
    order_fields = _names(node, ORDER_FIELDS, "Order")
    transaction_fields: tuple[str, ...] = ()
    for f in node:
        if f.name.value == "transactions":
            transaction_fields = _names(
                _fields(f.selection_set, "OrderTransaction"), TRANSACTION_FIELDS, "OrderTransaction"
            )
            if not transaction_fields:
                raise BulkQueryError("Field 'transactions' must have selections")
    return BulkQuery(text, since, inclusive, order_fields, transaction_fields)


def _connection_node(connection: ast.FieldNode) -> list[ast.FieldNode]:
    for f in _fields(connection.selection_set, "OrderConnection"):
        if f.name.value == "nodes":
            return _fields(f.selection_set, "Order")
        if f.name.value == "edges":
            for inner in _fields(f.selection_set, "OrderEdge"):
                if inner.name.value == "node":
                    return _fields(inner.selection_set, "Order")
    raise BulkQueryError("The orders connection must select edges { node { ... } } or nodes")


# --- Rendering -------------------------------------------------------------------------------


def _bundles(view: LedgerView, order_ids: pl.Series) -> list[sfo.OrderBundle]:
    """Order bundles for every order at once (what ``sfo.load_order`` builds one at a time),
    holding what ``render_transactions`` reads: the order, its payments oldest first, their
    provider refunds and its refunds by (created_at, refund_id)."""
    ids = order_ids.implode()
    orders = view("orders").filter(pl.col("order_id").is_in(ids)).sort("order_id").to_dicts()
    payments = view("payments").filter(pl.col("order_id").is_in(ids))
    by_payment = dict(zip(payments["payment_id"], payments["order_id"], strict=True))
    payment_refunds = view("payment_refunds").filter(
        pl.col("payment_id").is_in(payments["payment_id"].implode())
    )
    refunds = view("refunds").filter(pl.col("order_id").is_in(ids))
    grouped: dict[str, dict[int, list[dict[str, Any]]]] = {
        "payments": defaultdict(list),
        "payment_refunds": defaultdict(list),
        "refunds": defaultdict(list),
    }
    for row in payments.to_dicts():
        grouped["payments"][row["order_id"]].append(row)
    for row in payment_refunds.to_dicts():
        grouped["payment_refunds"][by_payment[row["payment_id"]]].append(row)
    for row in refunds.to_dicts():
        grouped["refunds"][row["order_id"]].append(row)
    bundles = []
    for order in orders:
        oid = order["order_id"]
        bundles.append(
            sfo.OrderBundle(
                order=order,
                lines=[],
                products={},
                payments=sorted(grouped["payments"].get(oid, []), key=lambda p: p["created_at"]),
                payment_refunds=grouped["payment_refunds"].get(oid, []),
                refunds=sorted(
                    grouped["refunds"].get(oid, []),
                    key=lambda r: (r["created_at"], r["refund_id"]),
                ),
                refund_lines=[],
            )
        )
    return bundles


_TRANSACTION_SCHEMA = {
    "id": pl.Int64,
    "order_id": pl.Int64,
    "kind": pl.String,
    "status": pl.String,
    "gateway": pl.String,
    "test": pl.Boolean,
    "manual": pl.Boolean,
    "error_code": pl.String,
    "created_at": pl.String,
    "processed_at": pl.String,
    "pres_amount": pl.String,
    "pres_currency": pl.String,
    "shop_amount": pl.String,
    "shop_currency": pl.String,
    "parent_id": pl.Int64,
    "payment_id": pl.String,
    "authorization": pl.String,
    "receipt": pl.String,
    "location_id": pl.Int64,
    "user_id": pl.Int64,
    "device_id": pl.Int64,
    "company": pl.String,
    "method": pl.String,
}


def transaction_rows(view: LedgerView, order_ids: pl.Series, with_receipt: bool) -> pl.DataFrame:
    """The orders' transactions exactly as the per-order endpoint renders them, one row each,
    with the shop-currency amount GraphQL's ``amountSet`` adds (converted as Shopify's
    ``total_unsettled_set`` is) and amounts printed as Shopify's Decimal scalar does."""
    rows = []
    for b in _bundles(view, order_ids):
        rate = b.order.get("fx_rate_to_presentment") or 1.0
        shop, pres = b.shop_currency, b.presentment_currency
        for t in sfo.render_transactions(b):
            currency = t["currency"]
            minor = int(Decimal(t["amount"]).scaleb(minor_units(currency)))
            shop_minor = sfo._convert(minor, 1 / rate, pres, shop) if currency == pres else minor
            details = t.get("payment_details") or {}
            rows.append(
                (
                    t["id"],
                    t["order_id"],
                    t["kind"],
                    t["status"],
                    t["gateway"],
                    t["test"],
                    t["manual_payment_gateway"],
                    t["error_code"],
                    t["created_at"],
                    t["processed_at"],
                    sfo.ruby_decimal(minor, currency),
                    currency,
                    sfo.ruby_decimal(shop_minor, shop if currency == pres else currency),
                    shop if currency == pres else currency,
                    t["parent_id"],
                    t["payment_id"],
                    t["authorization"],
                    orjson.dumps(t["receipt"]).decode() if with_receipt else None,
                    t["location_id"],
                    t["user_id"],
                    t["device_id"],
                    details.get("credit_card_company"),
                    details.get("payment_method_name"),
                )
            )
    return pl.DataFrame(rows, schema=_TRANSACTION_SCHEMA, orient="row")


def _gid(kind: str, column: str) -> pl.Expr:
    return pl.concat_str([pl.lit(f"gid://shopify/{kind}/"), pl.col(column).cast(pl.String)])


def _utc(column: str) -> pl.Expr:
    """The REST local time (``...-04:00``) as GraphQL's DateTime (UTC, ``Z``)."""
    return (
        pl.col(column)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _maybe_object(column: str, value: pl.Expr) -> Raw:
    return when_raw(pl.col(column).is_not_null(), value, "null")


def _money(amount: str, currency: str) -> pl.Expr:
    return obj([("amount", pl.col(amount)), ("currencyCode", pl.col(currency))])


def _transaction_values() -> dict[str, Any]:
    """GraphQL value of each OrderTransaction field, per row of ``transaction_rows``."""
    return {
        "id": _gid("OrderTransaction", "id"),
        "kind": pl.col("kind").str.to_uppercase(),
        "status": pl.col("status").str.to_uppercase(),
        "gateway": pl.col("gateway"),
        "test": pl.col("test"),
        "manualPaymentGateway": pl.col("manual"),
        "errorCode": pl.col("error_code").str.to_uppercase(),
        "createdAt": _utc("created_at"),
        "processedAt": _utc("processed_at"),
        "amountSet": Raw(
            obj(
                [
                    ("presentmentMoney", Raw(_money("pres_amount", "pres_currency"))),
                    ("shopMoney", Raw(_money("shop_amount", "shop_currency"))),
                ]
            )
        ),
        "parentTransaction": _maybe_object(
            "parent_id", obj([("id", _gid("OrderTransaction", "parent_id"))])
        ),
        "paymentId": pl.col("payment_id"),
        "authorizationCode": pl.col("authorization"),
        "receiptJson": pl.col("receipt"),
        "location": _maybe_object("location_id", obj([("id", _gid("Location", "location_id"))])),
        "user": _maybe_object("user_id", obj([("id", _gid("StaffMember", "user_id"))])),
        "device": _maybe_object("device_id", obj([("id", _gid("PointOfSaleDevice", "device_id"))])),
        "paymentDetails": _maybe_object(
            "company",
            obj([("company", pl.col("company")), ("paymentMethodName", pl.col("method"))]),
        ),
    }


def render_bulk_file(
    state: Any, view: LedgerView, query: BulkQuery, faults: FaultRun | None
) -> tuple[bytes, int]:
    """``(JSONL, objects)``: one line per Shopify order the query matches, oldest id first."""
    orders = state.orders_view().filter(pl.col("channel_id") == "shopify")
    if query.since is not None:
        bound = pl.lit(query.since).cast(pl.Datetime("us", "UTC"))
        orders = orders.filter(
            pl.col("updated_at") >= bound if query.inclusive else pl.col("updated_at") > bound
        )
    orders = orders.select("order_id", "name", "created_at", "updated_at").sort("order_id")
    if orders.height == 0:
        return b"", 0
    frame = orders
    if query.transaction_fields:
        txns = transaction_rows(view, orders["order_id"], "receiptJson" in query.transaction_fields)
        values = _transaction_values()
        txns = txns.with_columns(
            _t=obj([(name, values[name]) for name in query.transaction_fields])
        )
        txns = _with_malformed(txns, faults)
        frame = attach_arrays(frame, arrays(txns, "order_id", "_t", "_txns"), "order_id", "_txns")
    order_values: dict[str, Any] = {
        "id": _gid("Order", "order_id"),
        "name": pl.col("name"),
        "createdAt": pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": pl.col("updated_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Shopify's sandbox orders are all online-store orders (the REST ``source_name``).
        "sourceName": pl.lit("web"),
        "transactions": Raw(pl.col("_txns")) if query.transaction_fields else None,
    }
    lines = frame.select(obj([(name, order_values[name]) for name in query.order_fields]))
    body = "\n".join(lines.to_series().to_list()) + "\n"
    return body.encode(), orders.height


def _with_malformed(txns: pl.DataFrame, faults: FaultRun | None) -> pl.DataFrame:
    """Transactions whose id the fault profile draws as malformed, corrupted (``fault_data.
    corrupt``, keyed by the numeric id the ledger lists); the rest untouched."""
    if faults is None or faults.profile.malformed_share <= 0:
        return txns
    profile, seed = faults.profile, faults.seed
    api, entity = FAULT_KEY
    kinds = [malformed_kind(profile, seed, api, entity, tid) for tid in txns["id"].to_list()]
    if not any(kinds):
        return txns
    shape = shape_of(api, entity)
    texts = txns["_t"].to_list()
    for i, (tid, kind) in enumerate(zip(txns["id"].to_list(), kinds, strict=True)):
        if kind is not None:
            variant = draw(seed, "malformed-variant", api, entity, str(tid))
            texts[i] = orjson.dumps(corrupt(orjson.loads(texts[i]), kind, shape, ("id",), variant))
            texts[i] = texts[i].decode()
    faults.count("malformed", sum(k is not None for k in kinds))
    return txns.with_columns(_t=pl.Series(texts, dtype=pl.String))


# --- Operations ------------------------------------------------------------------------------


@dataclass
class BulkOperation:
    number: int
    query: BulkQuery
    created_at: datetime
    job: Future[tuple[bytes, int]]
    status: str = "CREATED"
    completed_at: datetime | None = None
    result: bytes | None = None
    objects: int = 0
    error: str | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"

    def advance(self) -> None:
        """One poll's worth of progress: CREATED -> RUNNING, then COMPLETED (or FAILED) once
        the file is written."""
        if self.status == "CREATED":
            self.status = "RUNNING"
        elif self.status == "RUNNING" and self.job.done():
            try:
                self.result, self.objects = self.job.result()
                self.status = "COMPLETED"
            except Exception as exc:  # the operation fails; the server goes on
                self.error = f"{type(exc).__name__}: {exc}"
                self.status = "FAILED"
            self.completed_at = datetime.now(UTC)

    def fields(self, names: tuple[str, ...], base: str) -> dict[str, Any]:
        done = self.status == "COMPLETED"
        values = {
            "id": self.gid,
            "status": self.status,
            "errorCode": "INTERNAL_SERVER_ERROR" if self.status == "FAILED" else None,
            "createdAt": iso_z(self.created_at),
            "completedAt": iso_z(self.completed_at) if self.completed_at else None,
            # UnsignedInt64 is a string in GraphQL responses.
            "objectCount": str(self.objects if done else 0),
            "rootObjectCount": str(self.objects if done else 0),
            "fileSize": str(len(self.result)) if done and self.result else None,
            "url": f"{base}{DOWNLOAD_PATH.format(number=self.number)}"
            if done and self.result
            else None,
            "partialDataUrl": None,
            "query": self.query.text,
            "type": "QUERY",
        }
        return {name: values[name] for name in names}


class ShopifyGraphqlApi:
    """Handlers bound to one sandbox: the GraphQL endpoint and the bulk result downloads."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.view = LedgerView(ctx.state)
        config = ctx.config
        self.bucket = CostBucket(
            config.bucket_size * POINTS_PER_REST_CALL,
            config.leak_rate_per_s * POINTS_PER_REST_CALL,
            config.rate_limit_clock,
        )
        self._numbers = itertools.count(8_837_000_001)
        self._lock = threading.Lock()
        self._operations: dict[int, BulkOperation] = {}
        self._current: dict[str, int] = {}
        self._tokens: dict[int, str] = {}
        # One worker: bulk files are rendered one at a time, beside the request handlers.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="sandbox-bulk")

    async def graphql(self, request: Request) -> Response:
        """Read the body on the event loop, answer in the thread pool (rendering is CPU)."""
        token = request.headers.get("x-shopify-access-token")
        if token != self.ctx.config.shopify_access_token:
            return json_response({"errors": _INVALID_TOKEN}, 401)
        raw = await request.body()
        return await run_in_threadpool(self._answer, request, token, raw)

    def _answer(self, request: Request, token: str, raw: bytes) -> Response:
        headers = {"X-Shopify-API-Version": API_VERSION}
        try:
            body = orjson.loads(raw)
            document = graphql.parse(body["query"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return json_response(
                {"errors": {"query": "Required parameter missing or invalid"}}, 400
            )
        except graphql.GraphQLError as exc:
            return json_response(GraphqlError(exc.message, "PARSE_ERROR").body(), 200, headers)
        variables = body.get("variables") or {}
        operations = [d for d in document.definitions if isinstance(d, ast.OperationDefinitionNode)]
        if len(operations) != 1:
            error = GraphqlError("This sandbox serves documents with exactly one operation")
            return json_response(error.body(), 200, headers)
        operation = operations[0]
        cost = MUTATION_COST if operation.operation == ast.OperationType.MUTATION else QUERY_COST
        paid, available = self.bucket.spend(token, cost)
        if not paid:
            throttled = GraphqlError("Throttled", "THROTTLED").body()
            throttled["errors"][0]["extensions"]["documentation"] = _RATE_DOC
            throttled["extensions"] = self.bucket.extensions(cost, None, available)
            return json_response(throttled, 200, headers)
        try:
            data = self._execute(request, token, operation, variables)
        except GraphqlError as exc:
            return json_response(exc.body(), 200, headers)
        answer = {"data": data, "extensions": self.bucket.extensions(cost, cost, available)}
        return json_response(answer, 200, headers)

    def _execute(
        self,
        request: Request,
        token: str,
        operation: ast.OperationDefinitionNode,
        variables: dict[str, Any],
    ) -> dict[str, Any]:
        base = f"{request.url.scheme}://{request.url.netloc}"
        root_type = "Mutation" if operation.operation == ast.OperationType.MUTATION else "QueryRoot"
        data: dict[str, Any] = {}
        for root in _fields(operation.selection_set, root_type):
            name = root.name.value
            key = root.alias.value if root.alias else name
            if root_type == "Mutation" and name == "bulkOperationRunQuery":
                data[key] = self._run_query(request, token, root, variables, base)
            elif root_type == "QueryRoot" and name == "currentBulkOperation":
                with self._lock:
                    number = self._current.get(token)
                data[key] = self._poll(number, root, base)
            elif root_type == "QueryRoot" and name == "node":
                data[key] = self._poll(_node_number(root, variables), root, base)
            else:
                raise GraphqlError(
                    f"Field '{name}' doesn't exist on type '{root_type}'", "undefinedField"
                )
        return data

    def _run_query(
        self,
        request: Request,
        token: str,
        root: ast.FieldNode,
        variables: dict[str, Any],
        base: str,
    ) -> dict[str, Any]:
        text = _argument(root, "query", variables)
        wanted = _selected(root, "bulkOperation", "BulkOperation")
        errors_wanted = _selected(root, "userErrors", "UserError")
        try:
            if not isinstance(text, str):
                raise BulkQueryError("Argument 'query' must be a string")
            query = parse_bulk_query(text)
        except BulkQueryError as exc:
            error = {"field": ["query"], "message": str(exc), "code": "INVALID"}
            return {
                "bulkOperation": None,
                "userErrors": [{k: v for k, v in error.items() if k in errors_wanted}],
            }
        faults = FaultRun.from_scope(request.scope)
        state, view = self.ctx.state, self.view
        job = self._worker.submit(render_bulk_file, state, view, query, faults)
        with self._lock:
            number = next(self._numbers)
            operation = BulkOperation(number, query, datetime.now(UTC), job)
            self._operations[number] = operation
            self._current[token] = number
            self._tokens[number] = token
            self._expire(token)
        return {"bulkOperation": operation.fields(wanted, base), "userErrors": []}

    def _expire(self, token: str) -> None:
        """Forget all but the newest ``KEPT_RESULTS`` operations of ``token`` (lock held)."""
        mine = sorted((n for n, t in self._tokens.items() if t == token), reverse=True)
        for number in mine[KEPT_RESULTS:]:
            self._operations.pop(number).job.cancel()  # a file no one will fetch: not rendered
            del self._tokens[number]

    def _poll(self, number: int | None, root: ast.FieldNode, base: str) -> dict[str, Any] | None:
        with self._lock:
            operation = self._operations.get(number) if number is not None else None
            if operation is None:
                return None
            operation.advance()
            names = _names(
                _fields(root.selection_set, "BulkOperation"), BULK_OPERATION_FIELDS, "BulkOperation"
            )
            return operation.fields(names, base)

    def download(self, request: Request) -> Response:
        """The JSONL result of a completed operation (a pre-signed URL: no token needed)."""
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return Response(status_code=404)
        with self._lock:
            operation = self._operations.get(number)
        if operation is None or operation.result is None:
            return Response(status_code=404)
        return Response(operation.result, media_type="application/jsonl")


def _argument(root: ast.FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for argument in root.arguments:
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, ast.VariableNode):
                return variables.get(value.name.value)
            if isinstance(value, ast.StringValueNode):
                return value.value
            raise GraphqlError(
                f"Argument '{name}' has an invalid value", "argumentLiteralsIncompatible"
            )
    raise GraphqlError(f"Field '{root.name.value}' is missing required argument '{name}'")


def _selected(root: ast.FieldNode, child: str, type_name: str) -> tuple[str, ...]:
    for f in _fields(root.selection_set, type_name):
        if f.name.value == child:
            names = [g.name.value for g in _fields(f.selection_set, type_name)]
            return tuple(n for n in names if n != "__typename")
    return ()


def _node_number(root: ast.FieldNode, variables: dict[str, Any]) -> int | None:
    gid = _argument(root, "id", variables)
    prefix = "gid://shopify/BulkOperation/"
    if not isinstance(gid, str) or not gid.startswith(prefix) or not gid[len(prefix) :].isdigit():
        return None
    return int(gid[len(prefix) :])


def routes(ctx: SandboxContext) -> list[Route]:
    """The GraphQL Admin endpoint and where bulk results are downloaded from."""
    api = ShopifyGraphqlApi(ctx)
    return [
        Route(PATH, api.graphql, methods=["POST"]),
        Route(DOWNLOAD_PATH, api.download, methods=["GET"]),
    ]
