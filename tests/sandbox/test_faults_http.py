"""Fault injection over HTTP: each fault at share 1.0 is exactly that fault, admin routes are
never faulted, counters report what was injected, and data faults reach the list endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxConfig, SandboxState, World, generate_world, running_sandbox
from ingestion.sandbox.fault_data import malformed_records
from ingestion.sandbox.faults import PROFILES, FaultProfile

SHOPIFY = {"X-Shopify-Access-Token": "shpat_sandbox"}
WMS = {"Authorization": "Bearer wms_sandbox"}
ORDERS = "/admin/api/2026-07/orders.json"


@pytest.fixture(scope="module")
def small_world() -> World:
    return generate_world(seed=11, n_orders=80)


def _serve(world: World, profile: FaultProfile) -> Any:
    config = SandboxConfig(bucket_size=100_000, faults=profile)
    return running_sandbox(state=SandboxState(world), config=config)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _injected(client: httpx.Client, url: str) -> dict[str, int]:
    response = client.get(f"{url}/_sandbox/faults")
    assert response.status_code == 200
    return response.json()["injected"]


def _walk(client: httpx.Client, url: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Pages of a Shopify orders walk, following rel=next."""
    response = client.get(url + ORDERS, params=params, headers=SHOPIFY)
    pages = []
    while True:
        assert response.status_code == 200, response.text
        pages.append(orjson.loads(response.content)["orders"])
        links = [p for p in response.headers.get("link", "").split(",") if 'rel="next"' in p]
        if not links:
            return pages
        response = client.get(links[0].split(";")[0].strip(" <>"), headers=SHOPIFY)


def test_profile_none_injects_nothing(small_world: World, client: httpx.Client) -> None:
    with _serve(small_world, PROFILES["none"]) as url:
        pages = _walk(client, url, status="any", limit=10)
        ids = [o["id"] for page in pages for o in page]
        shopify = SandboxState(small_world).orders_view().filter(pl.col("channel_id") == "shopify")
        assert len(ids) == len(set(ids)) == shopify.height
        report = client.get(f"{url}/_sandbox/faults").json()
    assert report["profile"] == "none"
    assert set(report["injected"].values()) == {0}


@pytest.mark.parametrize(
    ("path", "headers", "family_check"),
    [
        (ORDERS, SHOPIFY, lambda b: b["errors"].startswith("Exceeded 2 calls per second")),
        ("/orders/v0/orders", {}, lambda b: b["errors"][0]["code"] == "QuotaExceeded"),
        ("/v1/charges", {}, lambda b: b["error"]["type"] == "rate_limit_error"),
        ("/v1/reporting/transactions", {}, lambda b: b["name"] == "RATE_LIMIT_REACHED"),
        ("/wms/v1/items", WMS, lambda b: b["error"]["code"] == "rate_limited"),
    ],
)
def test_rate_limit_at_share_one_answers_429_with_retry_after(
    small_world: World, client: httpx.Client, path: str, headers: dict[str, str], family_check: Any
) -> None:
    profile = FaultProfile(name="throttled", rate_limit_share=1.0, retry_after_seconds=2)
    with _serve(small_world, profile) as url:
        response = client.get(url + path, headers=headers)
        assert response.status_code == 429
        assert float(response.headers["retry-after"]) == 2
        assert family_check(response.json())
        assert _injected(client, url)["rate_limited"] == 1


def test_server_errors_at_share_one_are_500_502_503(
    small_world: World, client: httpx.Client
) -> None:
    profile = FaultProfile(name="broken", server_error_share=1.0)
    with _serve(small_world, profile) as url:
        statuses = {
            client.get(f"{url}/wms/v1/items", params={"limit": i}, headers=WMS).status_code
            for i in range(1, 41)
        }
        assert statuses == {500, 502, 503}
        assert _injected(client, url)["server_error"] == 40


def test_slow_at_share_one_answers_normally_after_slow_seconds(
    small_world: World, client: httpx.Client
) -> None:
    profile = FaultProfile(name="slow", slow_share=1.0, slow_seconds=0.3)
    with _serve(small_world, profile) as url:
        started = time.monotonic()
        response = client.get(f"{url}/wms/v1/warehouses", headers=WMS)
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 200 and response.json()["warehouses"]
        assert _injected(client, url)["slow"] == 1


def test_timeout_at_share_one_drops_the_connection(
    small_world: World, client: httpx.Client
) -> None:
    profile = FaultProfile(name="hangs", timeout_share=1.0, timeout_seconds=0.5)
    with _serve(small_world, profile) as url:
        # A patient client waits timeout_seconds, then loses the connection.
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{url}/wms/v1/warehouses", headers=WMS)
        assert time.monotonic() - started >= 0.5
        # An impatient one times out reading.
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{url}/wms/v1/warehouses", headers=WMS, timeout=0.2)
        assert _injected(client, url)["timeout"] == 2


def test_admin_routes_are_never_faulted(small_world: World, client: httpx.Client) -> None:
    profile = FaultProfile(name="throttled", rate_limit_share=1.0)
    with _serve(small_world, profile) as url:
        assert client.get(f"{url}/_sandbox/clock").status_code == 200
        assert client.post(f"{url}/_sandbox/clock/advance", params={"days": 0}).status_code == 200
        assert set(_injected(client, url).values()) == {0}


def test_same_seed_and_request_sequence_meet_the_same_faults(
    small_world: World, client: httpx.Client
) -> None:
    profile = FaultProfile(name="flaky", rate_limit_share=0.3, server_error_share=0.3)
    requests = [f"/wms/v1/items?limit={1 + i % 7}" for i in range(40)]

    def statuses() -> list[int]:
        with _serve(small_world, profile) as url:
            return [client.get(url + r, headers=WMS).status_code for r in requests]

    first = statuses()
    assert first == statuses()
    # Retries of one URL (limit repeats every 7 requests) meet fresh decisions: some succeed.
    assert 200 in first and 429 in first


def test_duplicates_repeat_the_previous_page_last_order(
    small_world: World, client: httpx.Client
) -> None:
    with _serve(small_world, PROFILES["none"]) as url:
        clean = _walk(client, url, status="any", limit=10)
    with _serve(small_world, FaultProfile(name="dupes", duplicate_share=1.0)) as url:
        served = _walk(client, url, status="any", limit=10)
        injected = _injected(client, url)
    assert len(served) == len(clean) > 2
    assert served[0] == clean[0]
    for before, page, expected in zip(clean, served[1:], clean[1:], strict=False):
        assert page == [before[-1], *expected]
    assert injected["duplicated"] == len(clean) - 1


def test_wms_inventory_duplicates_by_composite_key(
    small_world: World, client: httpx.Client
) -> None:
    with _serve(small_world, FaultProfile(name="dupes", duplicate_share=1.0)) as url:
        first = client.get(f"{url}/wms/v1/inventory", params={"limit": 5}, headers=WMS).json()
        params = {"limit": 5, "cursor": first["next_cursor"]}
        second = client.get(f"{url}/wms/v1/inventory", params=params, headers=WMS).json()
    assert second["inventory_levels"][0] == first["inventory_levels"][-1]
    assert len(second["inventory_levels"]) == 6


def test_malformed_orders_are_exactly_the_ledger_ones(
    small_world: World, client: httpx.Client
) -> None:
    profile = FaultProfile(name="broken", malformed_share=0.25)
    with _serve(small_world, PROFILES["none"]) as url:
        clean = [o for page in _walk(client, url, status="any", limit=25) for o in page]
    with _serve(small_world, profile) as url:
        served = [o for page in _walk(client, url, status="any", limit=25) for o in page]
        again = [o for page in _walk(client, url, status="any", limit=25) for o in page]
        injected = _injected(client, url)
    assert served == again  # stable across walks
    # The refunds and fulfillments an order embeds are faulted as lists of their own.
    embedded = ("refunds", "fulfillments")

    def own(order: dict) -> dict:
        return {k: v for k, v in order.items() if k not in embedded}

    broken = sorted(str(c["id"]) for c, s in zip(clean, served, strict=True) if own(c) != own(s))
    broken_inside = sum(
        a != b
        for c, s in zip(clean, served, strict=True)
        for field in embedded
        for a, b in zip(c[field], s[field], strict=True)
    )
    ledger = malformed_records(
        profile, small_world.seed, "shopify", "orders", [o["id"] for o in clean]
    )
    assert broken and ledger["record_id"].to_list() == broken
    assert broken_inside
    assert injected["malformed"] == 2 * (len(broken) + broken_inside)
