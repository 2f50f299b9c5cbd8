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
                # Counted like a 429: the run's metadata shows the waiting either way.
                self.api.stats.add(rate_limited=1, waited_s=wait)
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

# Where each value sits in a GraphQL transaction. ``json_extract`` with a list of paths parses a
# transaction once and returns the values as small JSON fragments, whose type and text are then
# cheap to read (a function per path would parse the whole transaction each time).
_PATHS = {
    "id": "$.id",
    "kind": "$.kind",
    "status": "$.status",
    "gateway": "$.gateway",
    "error_code": "$.errorCode",
    "created_at": "$.createdAt",
    "processed_at": "$.processedAt",
    "amount_set": "$.amountSet",
    "presentment": "$.amountSet.presentmentMoney",
    "amount": "$.amountSet.presentmentMoney.amount",
    "currency": "$.amountSet.presentmentMoney.currencyCode",
    "parent": "$.parentTransaction",
    "parent_id": "$.parentTransaction.id",
    "payment_id": "$.paymentId",
    "authorization_key": "$.authorizationCode",
    "test": "$.test",
    "manual": "$.manualPaymentGateway",
    "location": "$.location",
    "location_id": "$.location.id",
    "user": "$.user",
    "user_id": "$.user.id",
    "device": "$.device",
    "device_id": "$.device.id",
    "details": "$.paymentDetails",
    "company": "$.paymentDetails.company",
    "method": "$.paymentDetails.paymentMethodName",
}
_GID = "gid://shopify/{kind}/[0-9]{{1,18}}"
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"


def _type(name: str) -> str:
    """The JSON type of a value (``NULL`` when absent or null)."""
    return f"coalesce(json_type(v[{list(_PATHS).index(name) + 1}]), 'NULL')"


def _text(name: str) -> str:
    return f"(v[{list(_PATHS).index(name) + 1}] ->> '$')"


def _string(name: str, nullable: bool = True) -> str:
    allowed = "('VARCHAR', 'NULL')" if nullable else "('VARCHAR')"
    return f"{_type(name)} in {allowed}"


def _time(name: str, nullable: bool) -> str:
    check = (
        f"({_type(name)} = 'VARCHAR' and regexp_full_match({_text(name)}, '{_TIME}')"
        f" and try_cast({_text(name)} as timestamptz) is not null)"
    )
    return f"({_type(name)} = 'NULL' or {check})" if nullable else check


def _reference(name: str, kind: str) -> str:
    """A ``{ id }`` object holding a gid of ``kind``, or null."""
    gid = _GID.format(kind=kind)
    return (
        f"({_type(name)} = 'NULL' or ({_type(name)} = 'OBJECT' and "
        f"regexp_full_match(coalesce({_text(name + '_id')}, ''), '{gid}')))"
    )


def _gid_number(name: str) -> str:
    return f"cast(split_part({_text(name)}, '/', 5) as bigint)"


_CHECKS = [
    f"regexp_full_match(order_gid, '{_GID.format(kind='Order')}')",
    f"{_type('id')} = 'VARCHAR'",
    f"regexp_full_match(coalesce({_text('id')}, ''), '{_GID.format(kind='OrderTransaction')}')",
    f"{_string('kind', False)} and trim({_text('kind')}) <> ''",
    f"{_string('status', False)} and trim({_text('status')}) <> ''",
    _string("gateway"),
    _string("error_code"),
    _time("created_at", nullable=False),
    _time("processed_at", nullable=True),
    f"{_type('amount_set')} = 'OBJECT' and {_type('presentment')} = 'OBJECT'",
    f"{_type('amount')} = 'VARCHAR'",
    rf"regexp_full_match({_text('amount')}, '-?[0-9]{{1,14}}(\.[0-9]{{1,4}})?')",
    f"{_type('currency')} = 'VARCHAR' and regexp_full_match({_text('currency')}, '[A-Z]{{3}}')",
    _reference("parent", "OrderTransaction"),
    _string("payment_id"),
    _string("authorization_key"),
    f"{_type('test')} in ('BOOLEAN', 'NULL')",
    f"{_type('manual')} in ('BOOLEAN', 'NULL')",
    _reference("location", "Location"),
    _reference("user", "StaffMember"),
    _reference("device", "PointOfSaleDevice"),
    f"({_type('details')} = 'NULL' or ({_type('details')} = 'OBJECT' and "
    f"{_string('company')} and {_string('method')}))",
]
_VALUES = {
    "id": _gid_number("id"),
    "order_id": "cast(split_part(order_gid, '/', 5) as bigint)",
    "kind": f"lower({_text('kind')})",
    "gateway": _text("gateway"),
    "status": f"lower({_text('status')})",
    "error_code": f"lower({_text('error_code')})",
    "created_at": f"cast({_text('created_at')} as timestamptz)",
    "processed_at": f"cast({_text('processed_at')} as timestamptz)",
    "currency": _text("currency"),
    "amount": f"cast({_text('amount')} as decimal(18, 4))",
    "parent_id": _gid_number("parent_id"),
    "payment_id": _text("payment_id"),
    "authorization_key": _text("authorization_key"),
    "is_test": f"cast({_text('test')} as boolean)",
    "is_manual_payment_gateway": f"cast({_text('manual')} as boolean)",
    "location_id": _gid_number("location_id"),
    "user_id": _gid_number("user_id"),
    "device_id": _gid_number("device_id"),
    "credit_card_company": _text("company"),
    "payment_method_name": _text("method"),
}


def _sql() -> str:
    """Each transaction as raw JSON with its order's id and source, whether the vectorized
    checks accept it, and (where they do) its values in the types of ``TRANSACTIONS_SCHEMA``."""
    paths = ", ".join(f"'{p}'" for p in _PATHS.values())
    values = ",\n    ".join(
        f"case when ok then {sql} end as {name}" for name, sql in _VALUES.items()
    )
    return f"""
with o as (
    select id as order_gid, sourceName as source_name, unnest(transactions) as t
    from read_json(?, format = 'newline_delimited', columns = {{
        id: 'VARCHAR', updatedAt: 'VARCHAR', sourceName: 'VARCHAR', transactions: 'JSON[]'
    }})
), e as (
    select *, json_type(t) = 'OBJECT' as is_object, json_extract(t, [{paths}]) as v from o
), c as (
    select *, coalesce(is_object and {" and ".join(_CHECKS)}, false) as ok from e
)
select ok, t, order_gid, source_name,
    {values}
from c
"""


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
