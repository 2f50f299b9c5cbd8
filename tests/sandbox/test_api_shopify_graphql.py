"""The sandbox's Shopify GraphQL Admin bulk operations as an app meets them: the lifecycle of an
operation (CREATED -> RUNNING -> COMPLETED), the JSONL file in Shopify's shapes with the same
transactions the per-order REST endpoint serves, GraphQL errors for what it does not serve,
query cost in ``extensions`` and ``THROTTLED`` when the bucket is empty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import orjson
import polars as pl
import pytest

from ingestion.sandbox import shopify_finance_objects as sfo
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.stripe_ledger import LedgerView
from ingestion.shopify.bulk import POLL_QUERY, RUN_MUTATION, bulk_query

TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}
GRAPHQL = "/admin/api/2026-07/graphql.json"
CURRENT = "{ currentBulkOperation { id status objectCount rootObjectCount fileSize url } }"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, SandboxState]]:
    state = SandboxState.generate(seed=3, n_orders=120)
    with running_sandbox(state, SandboxConfig(bucket_size=400, leak_rate_per_s=400.0)) as url:
        yield url, state


def call(url: str, query: str, variables: dict | None = None, headers=TOKEN) -> httpx.Response:
    return httpx.post(
        url + GRAPHQL, json={"query": query, "variables": variables or {}}, headers=headers
    )


def run_to_completion(url: str, since: str) -> tuple[list[str], dict]:
    """Statuses seen, from the mutation's to the last poll's, and the finished operation."""
    started = call(url, RUN_MUTATION, {"query": bulk_query(since)}).json()
    operation = started["data"]["bulkOperationRunQuery"]["bulkOperation"]
    statuses = [operation["status"]]
    for _ in range(200):
        operation = call(url, POLL_QUERY, {"id": operation["id"]}).json()["data"]["node"]
        statuses.append(operation["status"])
        if operation["status"] == "COMPLETED":
            return statuses, operation
    raise AssertionError(f"bulk operation never completed: {statuses[-5:]}")


def test_an_operation_goes_created_running_completed_and_serves_one_line_per_order(served):
    url, state = served
    statuses, operation = run_to_completion(url, "2000-01-01T00:00:00Z")
    assert statuses[:2] == ["CREATED", "RUNNING"] and statuses[-1] == "COMPLETED"
    body = httpx.get(operation["url"]).content  # pre-signed: no token
    lines = [orjson.loads(line) for line in body.splitlines()]
    orders = state.orders_view().filter(pl.col("channel_id") == "shopify")
    assert operation["objectCount"] == str(orders.height) == str(len(lines))
    assert operation["fileSize"] == str(len(body))
    assert [line["id"] for line in lines] == [
        f"gid://shopify/Order/{i}" for i in sorted(orders["order_id"])
    ]
    current = call(url, CURRENT).json()["data"]["currentBulkOperation"]
    assert current["id"] == operation["id"] and current["status"] == "COMPLETED"


def test_transactions_are_the_rest_endpoints_in_graphql_shapes(served):
    url, state = served
    _, operation = run_to_completion(url, "2000-01-01T00:00:00Z")
    lines = [orjson.loads(line) for line in httpx.get(operation["url"]).content.splitlines()]
    view = LedgerView(state)
    checked = 0
    for line in lines[:40]:
        order_id = int(line["id"].rsplit("/", 1)[-1])
        rest = sfo.render_transactions(sfo.load_order(view, order_id))
        assert len(line["transactions"]) == len(rest)
        for graph, t in zip(line["transactions"], rest, strict=True):
            assert graph["id"] == f"gid://shopify/OrderTransaction/{t['id']}"
            assert graph["kind"] == t["kind"].upper() and graph["status"] == t["status"].upper()
            money = graph["amountSet"]["presentmentMoney"]
            assert money["currencyCode"] == t["currency"]
            assert float(money["amount"]) == float(t["amount"])  # same value, Decimal scalar text
            assert isinstance(money["amount"], str)
            assert graph["createdAt"].endswith("Z")
            parent = graph["parentTransaction"]
            assert (parent and parent["id"]) == (
                t["parent_id"] and f"gid://shopify/OrderTransaction/{t['parent_id']}"
            )
            assert graph["paymentId"] == t["payment_id"]
            assert graph["authorizationCode"] == t["authorization"]
            checked += 1
    assert checked > 40


def test_the_filter_keeps_orders_updated_since_and_an_empty_result_has_no_file(served):
    url, state = served
    orders = state.orders_view().filter(pl.col("channel_id") == "shopify")
    middle = orders["updated_at"].sort()[orders.height // 2]
    _, operation = run_to_completion(url, middle.isoformat())
    expected = orders.filter(pl.col("updated_at") >= middle).height
    assert operation["objectCount"] == str(expected) and 0 < expected < orders.height
    later = (state.now + timedelta(days=1)).isoformat()
    _, empty = run_to_completion(url, later)
    assert (empty["objectCount"], empty["url"]) == ("0", None)


def test_what_the_sandbox_does_not_serve_is_an_error_never_a_partial_answer(served):
    url, _ = served
    unknown = call(url, "{ shop { name } }").json()
    assert unknown["errors"][0]["message"] == "Field 'shop' doesn't exist on type 'QueryRoot'"
    products = "{ products { edges { node { id } } } }"
    refused = call(url, RUN_MUTATION, {"query": products}).json()["data"]
    assert refused["bulkOperationRunQuery"]["bulkOperation"] is None
    assert "orders" in refused["bulkOperationRunQuery"]["userErrors"][0]["message"]
    bad_field = bulk_query("2000-01-01T00:00:00Z").replace("paymentId", "paymentIdentifier")
    refused = call(url, RUN_MUTATION, {"query": bad_field}).json()["data"]
    assert refused["bulkOperationRunQuery"]["userErrors"][0]["message"] == (
        "Field 'paymentIdentifier' doesn't exist on type 'OrderTransaction'"
    )
    assert call(url, CURRENT, headers={"X-Shopify-Access-Token": "wrong"}).status_code == 401


def test_calls_are_priced_and_an_empty_bucket_answers_throttled():
    clock = [0.0]
    state = SandboxState.generate(seed=3, n_orders=20)
    # A REST bucket of 1 call -> 50 points restoring 25 a second: five mutations at 10 points.
    config = SandboxConfig(bucket_size=1, leak_rate_per_s=0.5, rate_limit_clock=lambda: clock[0])
    with running_sandbox(state, config) as url:
        answers = [
            call(url, RUN_MUTATION, {"query": bulk_query("2000-01-01T00:00:00Z")}).json()
            for _ in range(6)
        ]
        clock[0] += 0.4  # 10 points back
        again = call(url, RUN_MUTATION, {"query": bulk_query("2000-01-01T00:00:00Z")}).json()
    costs = [a["extensions"]["cost"] for a in answers]
    assert [c["throttleStatus"]["currentlyAvailable"] for c in costs[:5]] == [40, 30, 20, 10, 0]
    assert costs[0]["throttleStatus"]["maximumAvailable"] == 50.0
    assert answers[5]["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in answers[5] and costs[5]["actualQueryCost"] is None
    assert again["data"]["bulkOperationRunQuery"]["bulkOperation"]["status"] == "CREATED"


def test_only_the_newest_results_are_kept_and_an_older_url_expires(served):
    url, _ = served
    finished = [run_to_completion(url, "2000-01-01T00:00:00Z")[1] for _ in range(4)]
    assert httpx.get(finished[0]["url"]).status_code == 404  # as an expired Shopify URL
    assert call(url, POLL_QUERY, {"id": finished[0]["id"]}).json()["data"]["node"] is None
    newest = httpx.get(finished[-1]["url"])
    assert newest.status_code == 200 and newest.content.count(b"\n") > 50
