"""Page-level data faults still apply to pre-rendered pages: Shopify orders and AfterShip
trackings, with and without ``fields=``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxConfig, SandboxState, api_aftership, running_sandbox
from ingestion.sandbox.fault_data import malformed_records
from ingestion.sandbox.faults import FaultProfile

# Data faults only, frequent enough to meet in a small world; no HTTP faults to retry around.
PROFILE = FaultProfile(name="data-only", duplicate_share=0.5, malformed_share=0.05)
SEED = 7


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, SandboxState]]:
    state = SandboxState.generate(seed=SEED, n_orders=800, faults=PROFILE)
    config = SandboxConfig(bucket_size=100_000, faults=PROFILE)
    with pytest.MonkeyPatch.context() as patch:
        # AfterShip's 10 requests a second would only slow the walk down.
        patch.setattr(api_aftership, "RATE_LIMIT_PER_S", 1000.0)
        with running_sandbox(state=state, config=config) as url:
            yield url, state


def _shopify_pages(url: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    target: str | None = f"{url}/admin/api/2026-07/orders.json"
    query: dict[str, Any] | None = {"status": "any", "limit": 50, "order": "id asc", **params}
    with httpx.Client(timeout=30) as http:
        while target:
            response = http.get(
                target, params=query, headers={"X-Shopify-Access-Token": "shpat_sandbox"}
            )
            response.raise_for_status()
            pages.append(orjson.loads(response.content)["orders"])
            target, query = response.links.get("next", {}).get("url"), None
    return pages


def _ids(records: list[dict[str, Any]]) -> list[Any]:
    return [r["id"] for r in records if "id" in r]


@pytest.mark.parametrize("fields", [None, "id,total_price,created_at,line_items"])
def test_shopify_pages_repeat_and_corrupt_records_as_the_ledger_lists(
    server: tuple[str, SandboxState], fields: str | None
) -> None:
    url, state = server
    pages = _shopify_pages(url, **({"fields": fields} if fields else {}))
    repeated = [
        page[0]["id"]
        for before, page in zip(pages, pages[1:], strict=False)
        if page and before and page[0].get("id") == before[-1].get("id")
    ]
    assert repeated, "no page started with the previous page's last order"
    served = {i for page in pages for i in _ids(page) if isinstance(i, int)}
    visible = state.orders_view().filter(pl.col("channel_id") == "shopify")["order_id"]
    listed = malformed_records(PROFILE, SEED, "shopify", "orders", visible)
    assert listed.height > 0
    records = [r for page in pages for r in page]
    broken = set(listed["record_id"].to_list())
    clean = [r for r in records if isinstance(r.get("id"), int) and str(r["id"]) not in broken]
    money_as_float = listed.filter(pl.col("kind") == "money_as_float")["record_id"].to_list()
    floats = [r for r in records if str(r.get("id")) in money_as_float]
    assert floats and all(isinstance(r.get("total_price"), float) for r in floats), (
        "an order the ledger lists as money_as_float was served with exact money"
    )
    assert all(isinstance(r["total_price"], str) for r in clean)
    if fields:
        # Projected records keep only the fields asked for (corrupted ones may lack some).
        assert all(set(r) <= set(fields.split(",")) for r in clean)
    # Every order is served, apart from those whose id a fault removed or garbled.
    broken_ids = {
        int(i)
        for i, kind in listed.select("record_id", "kind").iter_rows()
        if kind in ("missing_id", "id_as_string_float")
    }
    assert served | broken_ids == set(visible.to_list())


def test_aftership_pages_repeat_records_across_pages(server: tuple[str, SandboxState]) -> None:
    url, _ = server
    pages, page = [], 1
    with httpx.Client(timeout=30) as http:
        while True:
            response = http.get(
                f"{url}/tracking/2024-04/trackings",
                params={"page": page, "limit": 25},
                headers={"as-api-key": "asat_sandbox"},
            )
            response.raise_for_status()
            data = orjson.loads(response.content)["data"]
            pages.append(data["trackings"])
            if page * 25 >= data["count"]:
                break
            page += 1
    repeated = [
        p[0].get("tracking_number")
        for before, p in zip(pages, pages[1:], strict=False)
        if p and before and p[0].get("tracking_number") == before[-1].get("tracking_number")
    ]
    assert repeated, "no page started with the previous page's last tracking"


def test_amazon_get_orders_pages_repeat_records_across_pages(
    server: tuple[str, SandboxState],
) -> None:
    url, _ = server
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {
        "MarketplaceIds": "ATVPDKIKX0DER,A1PA6795UKMFR9,A1F83G8C2ARO7P,A1VC38T7YXB528",
        "LastUpdatedAfter": "2000-01-01T00:00:00Z",
        "MaxResultsPerPage": 100,  # within the usage plan's burst of 20 requests
    }
    with httpx.Client(timeout=30) as http:
        while True:
            response = http.get(
                f"{url}/orders/v0/orders",
                params=params,
                headers={"x-amz-access-token": "Atza|sandbox"},
            )
            response.raise_for_status()
            payload = orjson.loads(response.content)["payload"]
            pages.append(payload["Orders"])
            if "NextToken" not in payload:
                break
            params = {"NextToken": payload["NextToken"]}
    repeated = [
        p[0].get("AmazonOrderId")
        for before, p in zip(pages, pages[1:], strict=False)
        if p and before and p[0].get("AmazonOrderId") == before[-1].get("AmazonOrderId")
    ]
    assert repeated, "no page started with the previous page's last order"


def test_stripe_charge_pages_repeat_records_across_pages(
    server: tuple[str, SandboxState],
) -> None:
    url, _ = server
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"limit": 40}
    with httpx.Client(timeout=30) as http:
        while True:
            response = http.get(
                f"{url}/v1/charges",
                params=params,
                headers={"Authorization": "Bearer sk_test_sandbox"},
            )
            response.raise_for_status()
            body = orjson.loads(response.content)
            pages.append(body["data"])
            if not body["has_more"]:
                break
            last = next(o["id"] for o in reversed(body["data"]) if isinstance(o.get("id"), str))
            params = {"limit": 40, "starting_after": last}
    repeated = [
        p[0].get("id")
        for before, p in zip(pages, pages[1:], strict=False)
        if p and before and p[0].get("id") == before[-1].get("id")
    ]
    assert repeated, "no page started with the previous page's last charge"
