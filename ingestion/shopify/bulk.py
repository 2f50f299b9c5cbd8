"""Order transactions through one GraphQL Admin bulk operation instead of a request per order.

Why: the REST path costs one ``/orders/{id}/transactions.json`` call per new or changed order
(45,615 requests for 100k orders at the standard plan's two a second). A bulk operation is
what Shopify offers apps that read at volume: one mutation starts a query over every order
updated since the cursor, a few polls wait for it, and one download brings a JSONL file with one
line per order and its ``transactions`` inline.

The file is read column-wise (DuckDB's JSON reader, each transaction kept as its raw JSON
text) and mapped to exactly the rows and columns ``finance_parsers.transaction_row`` makes of
the REST objects: the gid's number as the 64-bit id, enums lower-cased as REST spells them,
the presentment amount (REST's ``amount``/``currency``) as an exact decimal, times in UTC.
A transaction the vectorized checks do not accept is not refused on their word: it is mapped to
its REST form and parsed by ``transaction_row`` itself, which loads it or gives the reason it
is quarantined with (beside its raw JSON), so the REST parser stays the one definition of a
valid transaction.

Two REST fields have no GraphQL counterpart: ``message`` (left null) and ``source_name``
(taken from the order's ``sourceName``). A refund's transaction also comes complete inside the
order's ``refunds``; that copy is the one kept (see ``shopify.__init__``).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.http import ApiClient, load_json
from ingestion.common.parsing import BadValue, nested_object
from ingestion.common.quarantine import Quarantine
from ingestion.common.rate_limit import TokenBucket
from ingestion.shopify import settings
from ingestion.shopify.finance_parsers import TRANSACTIONS_SCHEMA, transaction_row

log = logging.getLogger(__name__)

GRAPHQL_PATH = f"/admin/api/{settings.API_VERSION}/graphql.json"
TRANSACTION_GID = "gid://shopify/OrderTransaction/"
ORDER_GID = "gid://shopify/Order/"
# The fields ``transaction_row`` loads, in GraphQL's names (``receiptJson`` is not loaded).
TRANSACTION_SELECTION = """
          id kind status gateway test manualPaymentGateway errorCode createdAt processedAt
          amountSet { presentmentMoney { amount currencyCode } }
          parentTransaction { id } paymentId authorizationCode
          location { id } user { id } device { id }
          paymentDetails { ... on CardPaymentDetails { company paymentMethodName } }"""
RUN_MUTATION = """mutation runTransactionsExport($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}"""
POLL_QUERY = """query bulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount fileSize url partialDataUrl }
  }
}"""
_FINISHED = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}


class BulkOperationError(RuntimeError):
    """A bulk operation Shopify refused, or that ended without a result file."""


def bulk_query(updated_at_min: str) -> str:
    """The bulk query: every order updated since ``updated_at_min``, with its transactions."""
    return (
        "{\n  orders(query: " + orjson.dumps(f"updated_at:>='{updated_at_min}'").decode() + ") {\n"
        "    edges { node { id updatedAt sourceName\n"
        "      transactions {" + TRANSACTION_SELECTION + "\n      }\n    } }\n  }\n}"
    )


@dataclass
class BulkRunner:
    """Runs bulk queries on one store: ``api`` carries the store's token; the result file is
    fetched from its pre-signed URL by a client without it (the URL points at cloud storage,
    which must never see the store's token)."""

    api: ApiClient
    poll_initial_s: float = settings.BULK_POLL_INITIAL_SECONDS
    poll_max_s: float = settings.BULK_POLL_MAX_SECONDS
    timeout_s: float = settings.BULK_TIMEOUT_SECONDS
    max_throttled: int = 50
    sleep: Callable[[float], None] = time.sleep

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """``data`` of one GraphQL call; a ``THROTTLED`` answer waits until the cost bucket
        holds the requested points again (``extensions.cost``) and asks again."""
        for _ in range(self.max_throttled):
            body = load_json(
                self.api.post(GRAPHQL_PATH, json={"query": query, "variables": variables}).content
            )
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                wait = _throttle_wait(body.get("extensions") or {})
                log.info("shopify graphql: throttled, waiting %.2fs for query cost", wait)
                self.sleep(wait)
                continue
            if errors:
                messages = "; ".join(str(e.get("message")) for e in errors)
                raise BulkOperationError(f"shopify graphql: {messages}")
            return body["data"]
        raise BulkOperationError(f"shopify graphql: still throttled after {self.max_throttled}")

    def run(self, updated_at_min: str) -> bytes:
        """The JSONL result of a bulk query over orders updated since ``updated_at_min`` (empty
        when no order matches: Shopify then completes without a file)."""
        answer = self.graphql(RUN_MUTATION, {"query": bulk_query(updated_at_min)})
        started = answer["bulkOperationRunQuery"]
        if started.get("userErrors"):
            messages = "; ".join(e.get("message", "") for e in started["userErrors"])
            raise BulkOperationError(f"shopify bulk query refused: {messages}")
        operation_id = started["bulkOperation"]["id"]
        deadline = time.monotonic() + self.timeout_s
        wait = self.poll_initial_s
        while True:
            operation = self.graphql(POLL_QUERY, {"id": operation_id})["node"]
            if operation is None:
                raise BulkOperationError(f"shopify bulk operation {operation_id} vanished")
            if operation["status"] in _FINISHED:
                break
            if time.monotonic() > deadline:
                raise BulkOperationError(
                    f"shopify bulk operation {operation_id} still {operation['status']} "
                    f"after {self.timeout_s:.0f}s"
                )
            self.sleep(wait)
            wait = min(self.poll_max_s, wait * 2)
        if operation["status"] != "COMPLETED":
            raise BulkOperationError(
                f"shopify bulk operation {operation_id} {operation['status']}"
                f" ({operation.get('errorCode')})"
            )
        url = operation.get("url")
        if not url:
            return b""
        download = ApiClient(
            api="shopify_bulk_download",
            base_url="",
            headers={},
            bucket=TokenBucket(rate_per_s=10.0, capacity=10),
            timeout_s=300.0,
            stats=self.api.stats,
            # A transport given to the source (tests, the benchmark's recording) serves the
            # download too; it is the source's to close.
            transport=self.api.transport,
        )
        try:
            return download.get(url).content
        finally:
            if self.api.transport is None:
                download.close()


def _throttle_wait(extensions: dict[str, Any]) -> float:
    cost = extensions.get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(0.05, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0


# --- Parsing ------------------------------------------------------------------------------------

# Each transaction as raw JSON with its order's id and source, and the values the vectorized
# checks accept (null elsewhere) in the types of ``TRANSACTIONS_SCHEMA``.
_SQL = r"""
with o as (
    select id as order_gid, sourceName as source_name, unnest(transactions) as t
    from read_json(?, format = 'newline_delimited', columns = {
        id: 'VARCHAR', updatedAt: 'VARCHAR', sourceName: 'VARCHAR', transactions: 'JSON[]'
    })
), f as (
    select
        order_gid, source_name, t,
        json_type(t) = 'OBJECT' as is_object,
        t->>'$.id' as id_text, json_type(t, '$.id') as id_type,
        t->>'$.kind' as kind, json_type(t, '$.kind') as kind_type,
        t->>'$.status' as status, json_type(t, '$.status') as status_type,
        t->>'$.gateway' as gateway, json_type(t, '$.gateway') as gateway_type,
        t->>'$.errorCode' as error_code, json_type(t, '$.errorCode') as error_code_type,
        t->>'$.createdAt' as created_at, json_type(t, '$.createdAt') as created_type,
        t->>'$.processedAt' as processed_at, json_type(t, '$.processedAt') as processed_type,
        json_type(t, '$.amountSet') as set_type,
        json_type(t, '$.amountSet.presentmentMoney') as pres_type,
        t->>'$.amountSet.presentmentMoney.amount' as amount,
        json_type(t, '$.amountSet.presentmentMoney.amount') as amount_type,
        t->>'$.amountSet.presentmentMoney.currencyCode' as currency,
        json_type(t, '$.amountSet.presentmentMoney.currencyCode') as currency_type,
        t->>'$.parentTransaction.id' as parent_text,
        json_type(t, '$.parentTransaction') as parent_type,
        t->>'$.paymentId' as payment_id, json_type(t, '$.paymentId') as payment_id_type,
        t->>'$.authorizationCode' as authorization_key,
        json_type(t, '$.authorizationCode') as authorization_type,
        t->'$.test' as test_json, t->'$.manualPaymentGateway' as manual_json,
        t->>'$.location.id' as location_text, json_type(t, '$.location') as location_type,
        t->>'$.user.id' as user_text, json_type(t, '$.user') as user_type,
        t->>'$.device.id' as device_text, json_type(t, '$.device') as device_type,
        json_type(t, '$.paymentDetails') as details_type,
        t->>'$.paymentDetails.company' as company,
        json_type(t, '$.paymentDetails.company') as company_type,
        t->>'$.paymentDetails.paymentMethodName' as method,
        json_type(t, '$.paymentDetails.paymentMethodName') as method_type
    from o
), v as (
    select *,
        regexp_full_match(order_gid, 'gid://shopify/Order/[0-9]{1,18}')
            and regexp_full_match(coalesce(id_text, ''), 'gid://shopify/OrderTransaction/[0-9]{1,18}')
            and id_type = 'VARCHAR'
            and kind_type = 'VARCHAR' and trim(kind) <> ''
            and status_type = 'VARCHAR' and trim(status) <> ''
            and coalesce(gateway_type, 'NULL') in ('VARCHAR', 'NULL')
            and coalesce(error_code_type, 'NULL') in ('VARCHAR', 'NULL')
            and created_type = 'VARCHAR' and {ts_ok('created_at')}
            and (coalesce(processed_type, 'NULL') = 'NULL'
                 or (processed_type = 'VARCHAR' and {ts_ok('processed_at')}))
            and set_type = 'OBJECT' and pres_type = 'OBJECT'
            and amount_type = 'VARCHAR'
            and regexp_full_match(amount, '-?[0-9]{1,14}(\.[0-9]{1,4})?')
            and currency_type = 'VARCHAR' and regexp_full_match(currency, '[A-Z]{3}')
            and (coalesce(parent_type, 'NULL') = 'NULL' or (parent_type = 'OBJECT'
                 and regexp_full_match(coalesce(parent_text, ''),
                                       'gid://shopify/OrderTransaction/[0-9]{1,18}')))
            and coalesce(payment_id_type, 'NULL') in ('VARCHAR', 'NULL')
            and coalesce(authorization_type, 'NULL') in ('VARCHAR', 'NULL')
            and coalesce(cast(test_json as varchar), 'null') in ('true', 'false', 'null')
            and coalesce(cast(manual_json as varchar), 'null') in ('true', 'false', 'null')
            and {ref_ok('location', 'Location')}
            and {ref_ok('user', 'StaffMember')}
            and {ref_ok('device', 'PointOfSaleDevice')}
            and (coalesce(details_type, 'NULL') = 'NULL' or (details_type = 'OBJECT'
                 and coalesce(company_type, 'NULL') in ('VARCHAR', 'NULL')
                 and coalesce(method_type, 'NULL') in ('VARCHAR', 'NULL')))
            as ok
    from f
)
select
    ok, t, order_gid, source_name,
    case when ok then cast(split_part(id_text, '/', 5) as bigint) end as id,
    case when ok then cast(split_part(order_gid, '/', 5) as bigint) end as order_id,
    case when ok then lower(kind) end as kind,
    case when ok then gateway end as gateway,
    case when ok then lower(status) end as status,
    case when ok then lower(error_code) end as error_code,
    case when ok then cast(created_at as timestamptz) end as created_at,
    case when ok then cast(processed_at as timestamptz) end as processed_at,
    case when ok then currency end as currency,
    case when ok then cast(amount as decimal(18, 4)) end as amount,
    case when ok then cast(split_part(parent_text, '/', 5) as bigint) end as parent_id,
    case when ok then payment_id end as payment_id,
    case when ok then authorization_key end as authorization_key,
    case when ok then cast(test_json as boolean) end as is_test,
    case when ok then cast(manual_json as boolean) end as is_manual_payment_gateway,
    case when ok then cast(split_part(location_text, '/', 5) as bigint) end as location_id,
    case when ok then cast(split_part(user_text, '/', 5) as bigint) end as user_id,
    case when ok then cast(split_part(device_text, '/', 5) as bigint) end as device_id,
    case when ok then company end as credit_card_company,
    case when ok then method end as payment_method_name
from v
"""


def _ts_ok(column: str) -> str:
    """An ISO 8601 time with an explicit offset that DuckDB reads (a time without one is
    refused, as ``utc_timestamp`` refuses it)."""
    return (
        f"(regexp_full_match({column}, "
        rf"'[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]+)?"
        rf"(Z|[+-][0-9]{{2}}:[0-9]{{2}})')"
        f" and try_cast({column} as timestamptz) is not null)"
    )


def _ref_ok(name: str, kind: str) -> str:
    return (
        f"(coalesce({name}_type, 'NULL') = 'NULL' or ({name}_type = 'OBJECT' and "
        f"regexp_full_match(coalesce({name}_text, ''), 'gid://shopify/{kind}/[0-9]{{1,18}}')))"
    )


def _sql() -> str:
    text = _SQL
    for column in ("created_at", "processed_at"):
        text = text.replace(f"{{ts_ok('{column}')}}", _ts_ok(column))
    refs = (("location", "Location"), ("user", "StaffMember"), ("device", "PointOfSaleDevice"))
    for name, kind in refs:
        text = text.replace(f"{{ref_ok('{name}', '{kind}')}}", _ref_ok(name, kind))
    return text


SQL = _sql()
_COLUMNS = TRANSACTIONS_SCHEMA.names


@dataclass
class BulkTransactions:
    """The transactions of one bulk result: an Arrow table in ``TRANSACTIONS_SCHEMA`` and the
    quarantine of the transactions it refused."""

    table: pa.Table
    quarantine: Quarantine

    def without(self, ids: list[int]) -> BulkTransactions:
        """These transactions less ``ids``, loaded and refused alike: the transactions a
        refund carries are taken from the refund, so their bulk copy is not used at all."""
        drop = pa.array(ids, pa.int64())
        kept = self.table.filter(pc.invert(pc.is_in(self.table["id"], drop)))
        dropped = {str(i) for i in ids}
        quarantine = Quarantine(source=self.quarantine.source)
        quarantine.rows = [r for r in self.quarantine.rows if r["record_id"] not in dropped]
        return BulkTransactions(kept, quarantine)


def parse_bulk_transactions(jsonl: bytes, store_id: str) -> BulkTransactions:
    """Rows of ``raw_shopify.transactions`` from a bulk result file (see the module doc)."""
    quarantine = Quarantine(source="shopify")
    if not jsonl.strip():
        return BulkTransactions(TRANSACTIONS_SCHEMA.empty_table(), quarantine)
    with tempfile.TemporaryDirectory(prefix="shopify-bulk-") as folder:
        path = Path(folder) / "result.jsonl"
        path.write_bytes(jsonl)
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            result = con.execute(SQL, [str(path)]).arrow()
    if isinstance(result, pa.RecordBatchReader):
        result = result.read_all()
    ok = result.column("ok").to_numpy(zero_copy_only=False)
    valid = result.filter(pa.array(ok, pa.bool_()))
    rows = valid.append_column("store_id", pa.array([store_id] * valid.num_rows, pa.string()))
    rows = rows.append_column("message", pa.nulls(valid.num_rows, pa.string()))
    table = rows.select(_COLUMNS).cast(TRANSACTIONS_SCHEMA)
    refused = result.filter(pa.array(~ok, pa.bool_()))
    checked = _checked_one_by_one(refused, store_id, quarantine)
    if checked:
        table = pa.concat_tables([table, pa.Table.from_pylist(checked, schema=TRANSACTIONS_SCHEMA)])
    return BulkTransactions(table, quarantine)


def _checked_one_by_one(
    refused: pa.Table, store_id: str, quarantine: Quarantine
) -> list[dict[str, Any]]:
    """Rows of the transactions the vectorized checks did not accept, as ``transaction_row``
    judges their REST form; the ones it refuses go to ``quarantine`` with its reason."""
    rows = []
    for raw, order_gid, source_name in zip(
        refused.column("t").to_pylist(),
        refused.column("order_gid").to_pylist(),
        refused.column("source_name").to_pylist(),
        strict=True,
    ):
        record = orjson.loads(raw)
        try:
            if not isinstance(record, dict):
                raise BadValue(f"transaction: expected an object, got {type(record).__name__}")
            rows.append(transaction_row(rest_form(record, order_gid, source_name), store_id))
        except BadValue as exc:
            record_id = _gid_number(record.get("id")) if isinstance(record, dict) else None
            quarantine.add("transaction", record, str(exc), record_id)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            quarantine.add(
                "transaction", record, f"malformed transaction: {type(exc).__name__}: {exc}"
            )
    return rows


def _gid_number(value: Any, kind: str = "") -> Any:
    """The number of ``gid://shopify/<kind>/<n>``; anything else unchanged, so that the REST
    parser refuses it with the value in its reason."""
    if isinstance(value, str) and value.startswith("gid://shopify/"):
        tail = value.rsplit("/", 1)[-1]
        if tail.isdigit() and (not kind or value.startswith(f"gid://shopify/{kind}/")):
            return int(tail)
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _ref(record: dict[str, Any], name: str) -> Any:
    return _gid_number(nested_object(record.get(name), name).get("id"))


def rest_form(record: dict[str, Any], order_gid: Any, source_name: Any) -> dict[str, Any]:
    """A GraphQL OrderTransaction as the REST transaction ``transaction_row`` reads."""
    amount_set = nested_object(record.get("amountSet"), "amountSet", required=True)
    presentment = nested_object(
        amount_set.get("presentmentMoney"), "amountSet.presentmentMoney", required=True
    )
    details = record.get("paymentDetails")
    if isinstance(details, dict):
        details = {
            "credit_card_company": details.get("company"),
            "payment_method_name": details.get("paymentMethodName"),
        }
    return {
        "id": _gid_number(record.get("id"), "OrderTransaction"),
        "order_id": _gid_number(order_gid, "Order"),
        "kind": _lower(record.get("kind")),
        "gateway": record.get("gateway"),
        "status": _lower(record.get("status")),
        "message": None,
        "error_code": _lower(record.get("errorCode")),
        "created_at": record.get("createdAt"),
        "processed_at": record.get("processedAt"),
        "currency": presentment.get("currencyCode"),
        "amount": presentment.get("amount"),
        "parent_id": _ref(record, "parentTransaction"),
        "payment_id": record.get("paymentId"),
        "authorization": record.get("authorizationCode"),
        "source_name": source_name,
        "test": record.get("test"),
        "manual_payment_gateway": record.get("manualPaymentGateway"),
        "location_id": _ref(record, "location"),
        "user_id": _ref(record, "user"),
        "device_id": _ref(record, "device"),
        "payment_details": details,
    }
