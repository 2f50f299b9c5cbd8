"""Served Shopify orders are a superset of the official examples and agree with the ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState
from ingestion.sandbox.money import format_minor
from tests.conformance import assert_conformant


def _fixture_orders(fixtures_dir: Path) -> list[dict[str, Any]]:
    files = sorted((fixtures_dir / "api" / "shopify_admin_rest_2026_07").glob("order.test_*.json"))
    assert files, "no order fixtures found"
    orders = []
    for file in files:
        body = json.loads(file.read_text())["body"]
        orders.extend(body.get("orders", []))
        if "order" in body:
            orders.append(body["order"])
    return orders


@pytest.fixture(scope="module")
def served(
    sandbox_server: tuple[str, SandboxState], walk_orders: Callable[..., list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    url, _ = sandbox_server
    return walk_orders(url, status="any", limit=250)


def test_every_fixture_path_and_type_is_served(
    fixtures_dir: Path, served: list[dict[str, Any]]
) -> None:
    assert_conformant(_fixture_orders(fixtures_dir), served)


def test_ids_above_2_53_survive_only_an_exact_integer_parser(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, state = sandbox_server
    response = http.get(
        f"{url}/admin/api/2026-07/orders.json",
        params={"status": "any", "limit": 5, "order": "id asc"},
        headers={"X-Shopify-Access-Token": "shpat_sandbox"},
    )
    exact = orjson.loads(response.content)["orders"]
    lossy = json.loads(response.content, parse_int=float)["orders"]
    first_id = state.world.orders["order_id"][0]
    assert first_id > 2**53
    assert exact[0]["id"] == first_id and isinstance(exact[0]["id"], int)
    assert int(lossy[0]["id"]) != first_id  # what a float parser would have loaded


def test_served_values_agree_with_the_ledger(
    sandbox_server: tuple[str, SandboxState], served: list[dict[str, Any]]
) -> None:
    _, state = sandbox_server
    view = state.orders_view().filter(pl.col("channel_id") == "shopify")
    ledger = {r["order_id"]: r for r in view.iter_rows(named=True)}
    assert len(served) == len(ledger) == view.height
    seen_partial_refund = seen_fulfilled = seen_jpy = False
    for order in served:
        row = ledger[order["id"]]
        shop, pres = row["currency"], row["presentment_currency"]
        assert order["total_price"] == format_minor(row["total_price_minor"], shop)
        assert order["total_price_set"]["presentment_money"] == {
            "amount": format_minor(row["total_price_presentment_minor"], pres),
            "currency_code": pres,
        }
        assert order["subtotal_price_set"]["shop_money"]["amount"] == format_minor(
            row["subtotal_price_minor"], shop
        )
        assert order["total_tax"] == format_minor(row["total_tax_minor"], shop)
        assert order["financial_status"] == row["financial_status"]
        created = datetime.fromisoformat(order["created_at"])
        assert created == row["created_at"]
        assert created.utcoffset() == timedelta(minutes=row["local_utc_offset_minutes"])
        assert datetime.fromisoformat(order["updated_at"]) == row["updated_at"]
        assert order["fulfillment_status"] == row["fulfillment_status"]
        assert bool(order["refunds"]) == row["is_refunded"]
        line_sum = sum(
            int(li["price_set"]["shop_money"]["amount"].replace(".", "")) * li["quantity"]
            for li in order["line_items"]
        )
        assert line_sum == row["total_line_items_price_minor"]
        if order["refunds"]:
            refunded = sum(
                int(t["amount"].replace(".", ""))
                for r in order["refunds"]
                for t in r["transactions"]
            )
            assert refunded == row["shopify_refunded_presentment_minor"]
            assert order["current_total_price"] == format_minor(
                row["total_price_minor"] - row["shopify_refunded_minor"], shop
            )
            seen_partial_refund |= row["financial_status"] == "partially_refunded"
        seen_fulfilled |= row["is_fulfilled"]
        if pres == "JPY":
            seen_jpy = True
            assert "." not in order["total_price_set"]["presentment_money"]["amount"]
    assert seen_partial_refund and seen_fulfilled and seen_jpy


def test_fields_parameter_keeps_only_the_named_keys(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    response = http.get(
        f"{url}/admin/api/2026-07/orders.json",
        params={"status": "any", "limit": 3, "fields": "id,name,total_price"},
        headers={"X-Shopify-Access-Token": "shpat_sandbox"},
    )
    orders = orjson.loads(response.content)["orders"]
    assert [list(o) for o in orders] == [["id", "name", "total_price"]] * 3


def test_status_filters_follow_shopify(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, state = sandbox_server
    view = state.orders_view().filter(pl.col("channel_id") == "shopify")

    def count(**params: str) -> int:
        response = http.get(
            f"{url}/admin/api/2026-07/orders/count.json",
            params=params,
            headers={"X-Shopify-Access-Token": "shpat_sandbox"},
        )
        return orjson.loads(response.content)["count"]

    assert count() == view.filter(pl.col("closed_at").is_null()).height  # default: open
    assert count(status="any") == view.height
    assert count(status="cancelled") == view.filter(pl.col("is_cancelled")).height > 0
    assert count(status="closed") + count() == view.height
    assert (
        count(status="any", financial_status="partially_refunded")
        == view.filter(pl.col("financial_status") == "partially_refunded").height
    )
