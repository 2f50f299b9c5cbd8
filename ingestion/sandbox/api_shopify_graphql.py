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

What the file holds (the per-order endpoint's transactions in GraphQL shapes, malformed ones
as the fault profile draws them) is ``shopify_bulk_render``'s.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import graphql
import orjson
from graphql.language import ast
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.faults import FaultRun
from ingestion.sandbox.http_common import iso_z, json_response, parse_instant
from ingestion.sandbox.shopify import API_VERSION
from ingestion.sandbox.shopify_bulk_render import BulkQuery, render_bulk_file
from ingestion.sandbox.stripe_ledger import LedgerView

PATH = f"/admin/api/{API_VERSION}/graphql.json"
DOWNLOAD_PATH = "/_sandbox/bulk-operations/{number}.jsonl"
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
