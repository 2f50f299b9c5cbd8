"""Shopify transactions through a GraphQL bulk operation: the same raw rows as one REST request
per order on the same world, in a handful of requests; malformed transactions quarantined with
their reason and raw JSON while the rest load; a throttled GraphQL call waits for its points;
and the JSONL read exactly (64-bit ids, decimal money, UTC), the REST parser judging every
transaction the vectorized checks do not accept."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pytest

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from ingestion.shopify import shopify_source
from ingestion.shopify.bulk import RUN_MUTATION, BulkRunner, bulk_query, parse_bulk_transactions
from ingestion.shopify.client import make_client

FAST = SandboxConfig(bucket_size=400, leak_rate_per_s=400.0)
FAST_CLIENT = {"requests_per_second": 400.0, "burst": 400}
STORE = "tradelane-sandbox.myshopify.com"
NOW = "2000-01-01T00:00:00Z"
# Data faults only (HTTP faults change when a page arrives, never what it holds), and more of
# them than harsh has, so that this small world has malformed transactions of several kinds.
HARSH_DATA = dataclasses.replace(
    PROFILES["harsh"],
    malformed_share=0.08,
    rate_limit_share=0.0,
    server_error_share=0.0,
    slow_share=0.0,
    timeout_share=0.0,
)


def load(url: str, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    source = shopify_source(shop_url=url, finance=True, stats=stats, **FAST_CLIENT, **options)
    run_source(make_pipeline("shopify", warehouse), source, "shopify", stats)
    return stats


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


# `_dlt_load_id` names the load, which differs between the two warehouses by design.
TRANSACTIONS = "select * exclude (_dlt_load_id) from raw_shopify.transactions order by id"


@pytest.fixture(scope="module")
def world() -> SandboxState:
    return SandboxState.generate(seed=7, n_orders=250)


def test_bulk_and_rest_load_identical_transactions_in_a_handful_of_requests(world, tmp_path):
    with running_sandbox(world, FAST) as url:
        rest = load(url, tmp_path / "rest.duckdb", transactions_via="rest")
        bulk = load(url, tmp_path / "bulk.duckdb", transactions_via="bulk")
    by_rest = rows(tmp_path / "rest.duckdb", TRANSACTIONS)
    assert len(by_rest) > 200
    assert rows(tmp_path / "bulk.duckdb", TRANSACTIONS) == by_rest
    orders = rows(tmp_path / "bulk.duckdb", "select count(*) from raw_shopify.orders")[0][0]
    # REST: a page of orders, then a request per order; bulk: the pages, a mutation, the
    # polls and one download.
    assert rest.requests > orders
    assert bulk.requests < 20


def test_a_second_run_reads_only_the_lookback_window_and_changes_nothing(world, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(world, FAST) as url:
        load(url, warehouse)
        first = rows(warehouse, TRANSACTIONS)
        load(url, warehouse)
    assert rows(warehouse, TRANSACTIONS) == first


def test_malformed_transactions_are_quarantined_with_reason_and_the_rest_load(world, tmp_path):
    clean_warehouse, faulty_warehouse = tmp_path / "clean.duckdb", tmp_path / "faulty.duckdb"
    with running_sandbox(world, FAST) as url:
        load(url, clean_warehouse)
    faulty = SandboxState(world.world, now=world.now, faults=HARSH_DATA)
    with running_sandbox(faulty, dataclasses.replace(FAST, faults=HARSH_DATA)) as url:
        load(url, faulty_warehouse)
    listed = faulty.table_as_of("malformed_records").filter(
        api="shopify_graphql", entity="transactions"
    )
    quarantined = rows(
        faulty_warehouse,
        "select record_id, reason, payload from raw_shopify.quarantine "
        "where entity = 'transaction'",
    )
    clean_ids = {i for (i,) in rows(clean_warehouse, "select id from raw_shopify.transactions")}
    loaded_ids = {i for (i,) in rows(faulty_warehouse, "select id from raw_shopify.transactions")}
    # The ledger lists every transaction the world will ever hold; these are served now.
    malformed = {int(r) for r in listed["record_id"]} & clean_ids
    # A refund's transaction loads from the refund inside the order (the copy the connector
    # keeps), whatever its bulk copy looked like; every other malformed one is quarantined.
    refunds = faulty.table_as_of("refunds").filter(kind="return")
    carried = set(refunds["transaction_id"].drop_nulls())
    assert malformed & carried <= loaded_ids
    missing = clean_ids - loaded_ids
    assert missing == malformed - carried and len(missing) >= 5
    for record_id, reason, payload in quarantined:
        assert reason and orjson.loads(payload)  # why, and the transaction as served
        if record_id is not None:
            assert payload.find(f"gid://shopify/OrderTransaction/{record_id}") >= 0
    assert len(quarantined) == len(missing)


def test_a_throttled_graphql_call_waits_for_its_points_and_loses_nothing(world):
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    # 50 points restoring 25 a second, drained to 10 by four mutations: the connector's
    # mutation takes the last 10 and its polls meet THROTTLED.
    config = SandboxConfig(bucket_size=1, leak_rate_per_s=0.5, rate_limit_clock=lambda: clock[0])
    with running_sandbox(world, config) as url:
        with make_client(url, "shpat_sandbox", 1000.0, 1000) as api:
            for _ in range(4):
                api.post(
                    "/admin/api/2026-07/graphql.json",
                    json={"query": RUN_MUTATION, "variables": {"query": bulk_query(NOW)}},
                )
            runner = BulkRunner(api, poll_initial_s=0.0, poll_max_s=0.0, sleep=sleep)
            throttled = runner.run("2000-01-01T00:00:00Z")
            clock[0] += 100.0
            unthrottled = BulkRunner(api, poll_initial_s=0.0, poll_max_s=0.0).run(
                "2000-01-01T00:00:00Z"
            )
    waits = [s for s in sleeps if s > 0]
    assert waits, "the connector never waited for the cost bucket"
    assert all(s <= 0.4 + 1e-9 for s in waits)  # at most 10 missing points at 25 a second
    assert throttled == unthrottled and throttled.count(b"\n") == len(throttled.splitlines())


def _line(transactions: list[dict], order: int = 9007199254740993) -> bytes:
    return orjson.dumps(
        {"id": f"gid://shopify/Order/{order}", "sourceName": "web", "transactions": transactions}
    )


def _transaction(tid: str = "gid://shopify/OrderTransaction/9223372036854775807", **extra):
    record = {
        "id": tid,
        "kind": "SALE",
        "status": "SUCCESS",
        "gateway": "shopify_payments",
        "test": False,
        "manualPaymentGateway": False,
        "errorCode": None,
        "createdAt": "2026-07-04T10:15:00-04:00",
        "processedAt": None,
        "amountSet": {"presentmentMoney": {"amount": "19.99", "currencyCode": "EUR"}},
        "parentTransaction": {"id": "gid://shopify/OrderTransaction/123456789012345678"},
        "paymentId": "#1001.1",
        "authorizationCode": None,
        "location": None,
        "user": None,
        "device": None,
        "paymentDetails": {"company": "Visa", "paymentMethodName": "visa"},
    }
    record.update(extra)
    return record


def test_the_bulk_file_is_read_exactly_and_judged_by_the_rest_parser():
    good = _transaction("gid://shopify/OrderTransaction/123456789012345678", kind="CAPTURE")
    # 19 digits: past the vectorized checks, loaded exactly by the REST parser.
    widest = _transaction()
    whole = _transaction(
        "gid://shopify/OrderTransaction/5",
        amountSet={"presentmentMoney": {"amount": 12, "currencyCode": "JPY"}},
    )
    as_float = _transaction(
        "gid://shopify/OrderTransaction/6",
        amountSet={"presentmentMoney": {"amount": 19.990000000000002, "currencyCode": "EUR"}},
    )
    no_offset = _transaction("gid://shopify/OrderTransaction/7", createdAt="2026-07-04T10:15:00")
    stringified = _transaction("gid://shopify/OrderTransaction/8", amountSet='{"x": 1}')
    jsonl = b"\n".join(
        [_line([good, widest]), _line([whole, as_float, no_offset, stringified], order=42)]
    )
    parsed = parse_bulk_transactions(jsonl + b"\n", STORE)
    table = {r["id"]: r for r in parsed.table.to_pylist()}
    assert set(table) == {123456789012345678, 2**63 - 1, 5}
    row = table[123456789012345678]
    assert row["kind"] == "capture" and row["status"] == "success"
    assert row["amount"] == Decimal("19.99") and row["currency"] == "EUR"
    assert row["created_at"].isoformat() == "2026-07-04T14:15:00+00:00"
    assert row["parent_id"] == 123456789012345678 and row["order_id"] == 9007199254740993
    assert row["credit_card_company"] == "Visa" and row["source_name"] == "web"
    assert row["message"] is None and row["store_id"] == STORE
    assert table[5]["amount"] == Decimal(12) and table[5]["order_id"] == 42
    reasons = {q["record_id"]: q["reason"] for q in parsed.quarantine.rows}
    assert set(reasons) == {"6", "7", "8"}
    assert "float" in reasons["6"] and "offset" in reasons["7"] and "amountSet" in reasons["8"]
    assert orjson.loads(parsed.quarantine.rows[0]["payload"])["id"].startswith("gid://")


def test_an_empty_result_loads_nothing():
    parsed = parse_bulk_transactions(b"", STORE)
    assert parsed.table.num_rows == 0 and len(parsed.quarantine) == 0
