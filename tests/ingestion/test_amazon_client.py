"""SP-API pacing and paging: the client adopts the rate ``x-amzn-RateLimit-Limit`` announces,
backs off exponentially on 429s that carry no ``Retry-After``, follows ``NextToken`` the way
SP-API requires, and fetches items only for orders that are new or changed."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import httpx
import pytest

from ingestion.amazon import amazon_source, marketplace_list, seller_map, settings
from ingestion.amazon.client import iter_order_pages, make_client
from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.common.rate_limit import TokenBucket
from tests.fixtures_path import fixtures_dir

# --- the HTTP client extension -----------------------------------------------------------------


class FakeTime:
    """A clock that moves only when someone sleeps: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(handler, time: FakeTime, **kwargs) -> ApiClient:
    return ApiClient(
        api="test",
        base_url="http://api.test",
        headers={"x-amz-access-token": "Atza|secret"},
        bucket=TokenBucket(rate_per_s=0.5, capacity=1, clock=time.clock, sleep=time.sleep),
        transport=httpx.MockTransport(handler),
        sleep=time.sleep,
        **kwargs,
    )


def test_the_bucket_adopts_the_rate_the_server_announces():
    announced = iter(["20", "fast", "0", "-3", "nan", "inf", "0.0167"])
    client = client_for(
        lambda request: httpx.Response(200, headers={"x-amzn-RateLimit-Limit": next(announced)}),
        FakeTime(),
        rate_limit_header="x-amzn-RateLimit-Limit",
    )
    client.get("/x")
    assert client.bucket.rate_per_s == 20.0
    # A garbled or impossible announcement is ignored rather than stalling the client.
    for _ in range(5):
        client.get("/x")
        assert client.bucket.rate_per_s == 20.0
    client.get("/x")
    assert client.bucket.rate_per_s == 0.0167


def test_without_the_option_the_header_changes_nothing():
    client = client_for(
        lambda request: httpx.Response(200, headers={"x-amzn-RateLimit-Limit": "20"}), FakeTime()
    )
    client.get("/x")
    assert client.bucket.rate_per_s == 0.5


def test_bare_429s_back_off_exponentially_from_one_refill_interval():
    responses = iter(
        [httpx.Response(429, headers={"x-amzn-RateLimit-Limit": "10"})] * 5
        + [httpx.Response(200, json={"payload": {}})]
    )
    time = FakeTime()
    client = client_for(
        lambda request: next(responses),
        time,
        rate_limit_header="x-amzn-RateLimit-Limit",
        backoff_bare_429=True,
        backoff_max_s=1.0,
    )
    assert client.get("/x").status_code == 200
    # From one refill interval at the announced 10/s, doubling, capped; each wait refills the
    # bucket, so the backoff is all the client waits.
    assert time.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])
    assert client.stats.rate_limited == 5


def test_a_slow_announced_rate_is_never_undercut_by_the_backoff():
    """At getOrders' published 0.0167/s one token takes a minute: waiting less only earns
    another 429."""
    responses = iter([httpx.Response(429), httpx.Response(200)])
    time = FakeTime()
    client = client_for(lambda request: next(responses), time, backoff_bare_429=True)
    client.bucket.set_rate(1 / 60)
    client.get("/x")
    assert time.sleeps == [pytest.approx(60.0)]


def test_retry_after_still_wins_when_present():
    responses = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)])
    time = FakeTime()
    client = client_for(lambda request: next(responses), time, backoff_bare_429=True)
    client.get("/x")
    assert time.sleeps == [3.0]


def test_set_rate_counts_tokens_earned_so_far_at_the_old_rate():
    time = FakeTime()
    bucket = TokenBucket(rate_per_s=1, capacity=10, clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        bucket.acquire()
    time.now += 2.0  # two tokens earned at 1/s
    bucket.set_rate(100)
    waits = [bucket.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, pytest.approx(0.01)]
    with pytest.raises(ValueError):
        bucket.set_rate(0)


# --- a fake SP-API over MockTransport ----------------------------------------------------------


def example(name: str) -> Any:
    return json.loads((fixtures_dir("api", "amazon_sp_api") / name).read_text())["payload"]


class FakeSellingPartner:
    """getOrders/getOrderItems with SP-API's paging contract: tokens in the standard base64
    alphabet that carry the whole query, a NextToken request must not repeat the filters, and
    every answer announces the rate."""

    def __init__(self, n_orders: int) -> None:
        template = example("getOrders.example0.json")["Orders"][0]
        self.items_template = example("getOrderItems.example0.json")["OrderItems"]
        self.orders = {}
        for i in range(n_orders):
            order = json.loads(json.dumps(template))
            order["AmazonOrderId"] = f"113-{i:07d}-{7654321 - i:07d}"
            order["LastUpdateDate"] = f"2026-10-01T{i % 24:02d}:{i % 60:02d}:00Z"
            order["OrderTotal"] = {"CurrencyCode": "USD", "Amount": f"{i}.99"}
            self.orders[order["AmazonOrderId"]] = order
        self.calls: Counter[str] = Counter()
        self.unknown_items: set[str] = set()
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["x-amz-access-token"] == "Atza|sandbox"
        query = {k: v[0] for k, v in parse_qs(urlparse(str(request.url)).query).items()}
        headers = {"x-amzn-RateLimit-Limit": "1000"}
        path = request.url.path
        if path == "/orders/v0/orders":
            self.calls["getOrders"] += 1
            return httpx.Response(200, json={"payload": self.orders_page(query)}, headers=headers)
        order_id = path.split("/")[4]
        self.calls["getOrderItems"] += 1
        self.calls[order_id] += 1
        if order_id in self.unknown_items:
            body = {"errors": [{"code": "NotFound", "message": "Not found", "details": ""}]}
            return httpx.Response(404, json=body, headers=headers)
        return httpx.Response(
            200, json={"payload": self.items_page(order_id, query)}, headers=headers
        )

    def orders_page(self, query: dict[str, str]) -> dict[str, Any]:
        if "NextToken" in query:
            assert set(query) == {"NextToken", "MarketplaceIds"}, query
            state = json.loads(base64.b64decode(query["NextToken"], validate=True))
        else:
            assert query["MarketplaceIds"].split(",")[0] == "ATVPDKIKX0DER"
            state = {
                "after": query["LastUpdatedAfter"],
                "n": int(query["MaxResultsPerPage"]),
                "k": 0,
            }
        since = state["after"].replace("Z", "+00:00")
        matching = sorted(
            (
                o
                for o in self.orders.values()
                if o["LastUpdateDate"].replace("Z", "+00:00") >= since
            ),
            key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"]),
        )
        page = matching[state["k"] : state["k"] + state["n"]]
        self.calls["orders_served"] += len(page)
        payload: dict[str, Any] = {"Orders": page}
        if state["k"] + state["n"] < len(matching):
            token = {**state, "k": state["k"] + state["n"], "pad": "??>>"}  # forces + and /
            payload["NextToken"] = base64.b64encode(json.dumps(token).encode()).decode()
        return payload

    def items_page(self, order_id: str, query: dict[str, str]) -> dict[str, Any]:
        """Two items per order, one per page."""
        index = int(query.get("NextToken", "0"))
        item = {**self.items_template[index], "OrderItemId": f"{order_id[4:11]}{index:07d}"}
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": [item]}
        if index == 0:
            payload["NextToken"] = "1"
        return payload


def load(api: FakeSellingPartner, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    source = amazon_source(
        endpoint="http://amazon.test",
        access_token="Atza|sandbox",
        page_size=4,
        stats=stats,
        client_options={"transport": httpx.MockTransport(api), "sleep": lambda s: None},
        **{"items_via": "orders_api", **options},
    )
    run_source(make_pipeline("amazon", warehouse), source, "amazon", stats)
    return stats


def test_next_token_requests_carry_only_the_token_and_the_marketplaces():
    api = FakeSellingPartner(n_orders=10)
    client = make_client(
        "http://amazon.test",
        "Atza|sandbox",
        "getOrders",
        0.0167,
        20,
        transport=httpx.MockTransport(api),
    )
    pages = list(
        iter_order_pages(client, ["ATVPDKIKX0DER", "A1PA6795UKMFR9"], "2000-01-01T00:00:00Z", 3)
    )
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    first, *following = api.requests
    assert "LastUpdatedAfter" in first.url.params and "MaxResultsPerPage" in first.url.params
    for request in following:
        assert set(request.url.params) == {"NextToken", "MarketplaceIds"}
        assert request.url.params["MarketplaceIds"] == "ATVPDKIKX0DER,A1PA6795UKMFR9"
    # The announced 1000/s replaced the published one-a-minute: four pages took no waiting.
    assert client.bucket.rate_per_s == 1000 and client.stats.waited_s < 1


def test_reloads_are_idempotent_and_fetch_items_only_for_new_or_changed_orders(tmp_path):
    api = FakeSellingPartner(n_orders=10)
    warehouse = tmp_path / "w.duckdb"
    load(api, warehouse)
    assert api.calls["getOrderItems"] == 20  # ten orders, two item pages each

    def tables():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            orders = con.execute(
                "select amazon_order_id, order_total, last_update_date from raw_amazon.orders "
                "order by 1"
            ).fetchall()
            items = con.execute(
                "select amazon_order_id, order_item_id, item_price, item_price_currency, "
                "gift_wrap_price_currency from raw_amazon.order_items order by 1, 2"
            ).fetchall()
        return orders, items

    first_orders, first_items = tables()
    assert len(first_orders) == 10 and len(first_items) == 20
    assert str(first_orders[3][1]) == "3.9900"

    # A second run re-reads the lookback window (two hours: the orders of 08:08 and 09:09) but
    # nothing changed: no item is fetched again.
    api.calls.clear()
    load(api, warehouse)
    assert api.calls["orders_served"] == 2 and api.calls["getOrderItems"] == 0
    assert tables() == (first_orders, first_items)

    # One order changes status, one is new: exactly their items are fetched.
    changed = "113-0000004-7654317"
    api.orders[changed]["LastUpdateDate"] = "2026-10-02T00:00:00Z"
    api.orders[changed]["OrderStatus"] = "Shipped"
    new = json.loads(json.dumps(api.orders[changed]))
    new["AmazonOrderId"] = "113-9999999-0000001"
    api.orders[new["AmazonOrderId"]] = new
    api.calls.clear()
    load(api, warehouse, lookback_seconds=3600)
    assert api.calls["getOrderItems"] == 4
    assert api.calls[changed] == 2 and api.calls[new["AmazonOrderId"]] == 2
    orders, items = tables()
    assert len(orders) == 11 and len(items) == 22
    with duckdb.connect(str(warehouse), read_only=True) as con:
        status = con.execute(
            "select order_status from raw_amazon.orders where amazon_order_id = ?", [changed]
        ).fetchone()[0]
    assert status == "Shipped"


def test_a_bad_token_fails_fast_without_retrying(tmp_path):
    calls = []

    def denied(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {"errors": [{"code": "Unauthorized", "message": "Access denied", "details": ""}]}
        return httpx.Response(403, json=body)

    from dlt.pipeline.exceptions import PipelineStepFailed

    with pytest.raises(PipelineStepFailed, match="403") as excinfo:
        run_source(
            make_pipeline("amazon", tmp_path / "w.duckdb"),
            amazon_source(
                endpoint="http://amazon.test",
                access_token="Atza|wrong-secret",
                client_options={"transport": httpx.MockTransport(denied)},
            ),
            "amazon",
        )
    assert len(calls) == 1
    assert "wrong-secret" not in str(excinfo.value)


@pytest.mark.parametrize(
    "configured",
    [
        "ATVPDKIKX0DER,A1VC38T7YXB528",  # an environment variable
        '["ATVPDKIKX0DER", "A1VC38T7YXB528"]',  # a TOML list, as dlt hands it over
        ["ATVPDKIKX0DER", " A1VC38T7YXB528 "],
    ],
)
def test_marketplaces_are_read_from_every_config_form(configured):
    assert marketplace_list(configured) == ["ATVPDKIKX0DER", "A1VC38T7YXB528"]


def test_unset_marketplaces_mean_the_four_sandbox_ones_and_empty_ones_are_an_error():
    assert marketplace_list(None) == list(settings.DEFAULT_MARKETPLACE_IDS)
    with pytest.raises(ValueError, match="marketplace"):
        marketplace_list(" , ")


def test_store_ids_are_one_seller_per_region_or_one_for_all():
    marketplaces = ["ATVPDKIKX0DER", "A1PA6795UKMFR9"]
    assert seller_map(None, marketplaces)["A1PA6795UKMFR9"] == "A1TLSANDBOXEU7"
    assert seller_map("A9REALSELLER", marketplaces) == dict.fromkeys(marketplaces, "A9REALSELLER")
    assert seller_map('{"ATVPDKIKX0DER": "A9NA"}', marketplaces) == {"ATVPDKIKX0DER": "A9NA"}


def test_an_order_whose_items_are_not_found_is_recorded_and_the_run_goes_on(tmp_path):
    api = FakeSellingPartner(n_orders=6)
    missing = "113-0000002-7654319"
    api.unknown_items.add(missing)
    warehouse = tmp_path / "w.duckdb"
    load(api, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders = con.execute("select count(*) from raw_amazon.orders").fetchone()[0]
        items = con.execute(
            "select count(distinct amazon_order_id) from raw_amazon.order_items"
        ).fetchone()[0]
        refused = con.execute(
            "select entity, record_id, reason from raw_amazon.quarantine"
        ).fetchall()
    assert (orders, items) == (6, 5)
    [(entity, record_id, reason)] = refused
    assert (entity, record_id) == ("order_items", missing) and "404" in reason


class SlowItemsSellingPartner(FakeSellingPartner):
    """getOrderItems answers take a moment, as over a network, and the most calls in flight at
    once is recorded."""

    def __init__(self, n_orders: int) -> None:
        super().__init__(n_orders)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if "/orderItems" not in request.url.path:
            return super().__call__(request)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            time.sleep(0.005)
            with self._lock:
                return super().__call__(request)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_overlapped_item_requests_load_what_one_at_a_time_loads(tmp_path):
    def loaded(workers: int) -> tuple[Any, ...]:
        api = SlowItemsSellingPartner(n_orders=12)
        api.unknown_items.add("113-0000005-7654316")
        warehouse = tmp_path / f"w{workers}.duckdb"
        stats = load(api, warehouse, item_request_workers=workers)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            # Row order as loaded, not sorted: the pages must come out the same either way.
            items = con.execute(
                "select amazon_order_id, order_item_id, item_price from raw_amazon.order_items"
            ).fetchall()
            refused = con.execute("select record_id from raw_amazon.quarantine").fetchall()
        return items, refused, stats.requests, api.calls["getOrderItems"], api.peak_in_flight

    one_items, one_refused, one_requests, one_calls, one_peak = loaded(1)
    items, refused, requests, calls, peak = loaded(4)
    assert one_peak == 1 and peak > 1
    assert (items, refused, requests, calls) == (one_items, one_refused, one_requests, one_calls)
    assert len(items) == 22 and refused == [("113-0000005-7654316",)]
