"""The WMS API: bearer auth, keyset cursors that return every row once, updated_since."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pytest

from ingestion.sandbox import SandboxState, World, running_sandbox

AUTH = {"Authorization": "Bearer wms_sandbox"}


def _walk(http: httpx.Client, url: str, key: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = http.get(url, params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body[key])
        pages += 1
        if body["next_cursor"] is None:
            return rows
        params = {"limit": params.get("limit"), "cursor": body["next_cursor"]}


@pytest.mark.parametrize(
    "path",
    ["/wms/v1/warehouses", "/wms/v1/items", "/wms/v1/inventory", "/wms/v1/inbound_orders"],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "wms_sandbox"}]
)
def test_wms_requires_the_bearer_token(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    url, _ = sandbox_server
    response = http.get(url + path, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_warehouses_match_the_ledger(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, state = sandbox_server
    body = http.get(f"{url}/wms/v1/warehouses", headers=AUTH).json()
    codes = {w["code"]: w for w in body["warehouses"]}
    assert set(codes) == set(state.world.warehouses["code"])
    assert codes["SZX"]["timezone"] == "Asia/Shanghai" and codes["SZX"]["kind"] == "home"
    assert codes["FBA-DE"]["kind"] == "fba" and codes["FBA-DE"]["channel_id"] == "amazon_de"
    assert isinstance(codes["LAX"]["latitude"], float)
    assert codes["LAX"]["shopify_location_id"] in set(state.world.warehouses["location_id"])


def test_item_cursor_returns_every_sku_once(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, state = sandbox_server
    items = _walk(http, f"{url}/wms/v1/items", "items", limit=7)
    assert [i["sku"] for i in items] == sorted(state.world.products["sku"])
    first = items[0]
    assert set(first) == {
        "sku",
        "name",
        "hs_code",
        "weight_g",
        "unit_cost",
        "cost_currency",
        "origin_country_code",
    }
    assert first["cost_currency"] == "CNY" and isinstance(first["unit_cost"], str)
    assert first["unit_cost"].count(".") == 1


def test_inventory_cursor_returns_every_level_once(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, state = sandbox_server
    levels = _walk(http, f"{url}/wms/v1/inventory", "inventory_levels", limit=10)
    view = state.inventory_view()
    assert [(r["warehouse_code"], r["sku"]) for r in levels] == list(
        zip(view["warehouse_code"], view["sku"], strict=True)
    )
    for row in levels:
        assert row["available"] == row["on_hand"] - row["reserved"]
        assert 0 <= row["reserved"] <= row["on_hand"]
        assert row["updated_at"].endswith("Z")


def test_inventory_updated_since_is_inclusive_and_carried_by_the_cursor(
    world: World, http: httpx.Client
) -> None:
    state = SandboxState(world)
    with running_sandbox(state=state) as url:
        state.advance(5)
        since = world.end
        levels = _walk(
            http,
            f"{url}/wms/v1/inventory",
            "inventory_levels",
            limit=3,
            updated_since=since.isoformat(),
        )
        expected = state.inventory_view().filter(pl.col("updated_at") >= since)
        assert 0 < len(levels) == expected.height
        assert all(datetime.fromisoformat(r["updated_at"]) >= since for r in levels)
        first = http.get(
            f"{url}/wms/v1/inventory",
            headers=AUTH,
            params={"limit": 1, "updated_since": since.isoformat()},
        ).json()
        clash = http.get(
            f"{url}/wms/v1/inventory",
            headers=AUTH,
            params={
                "cursor": first["next_cursor"],
                "updated_since": (since - timedelta(days=1)).isoformat(),
            },
        )
        assert clash.status_code == 400


@pytest.mark.parametrize(
    "params", [{"limit": 1001}, {"limit": 0}, {"cursor": "!!"}, {"updated_since": "yesterday"}]
)
def test_invalid_wms_parameters_are_400(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client, params: dict[str, Any]
) -> None:
    url, _ = sandbox_server
    response = http.get(f"{url}/wms/v1/inventory", params=params, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_a_cursor_from_another_endpoint_is_refused(
    sandbox_server: tuple[str, SandboxState], http: httpx.Client
) -> None:
    url, _ = sandbox_server
    items = http.get(f"{url}/wms/v1/items", params={"limit": 1}, headers=AUTH).json()
    response = http.get(
        f"{url}/wms/v1/inventory", params={"cursor": items["next_cursor"]}, headers=AUTH
    )
    assert response.status_code == 400


def test_inbound_orders_list_purchase_orders_and_transfers_once_each(
    world: World, http: httpx.Client
) -> None:
    state = SandboxState(world)
    with running_sandbox(state=state) as url:
        rows = _walk(http, f"{url}/wms/v1/inbound_orders", "inbound_orders", limit=400)
        ids = [r["inbound_id"] for r in rows]
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        pos = state.table_as_of("purchase_orders")
        transfers = state.table_as_of("transfers")
        assert len(rows) == pos.height + transfers.height
        by_type = {r["type"] for r in rows}
        assert by_type == {"purchase_order", "transfer"}
        po = next(r for r in rows if r["type"] == "purchase_order")
        assert po["warehouse_code"] == "SZX" and po["currency"] == "CNY"
        assert po["unit_cost"].count(".") == 1 and isinstance(po["supplier_id"], int)
        assert {r["status"] for r in rows} <= {"open", "overdue", "in_transit", "received"}
        # An incremental read after the clock moves returns what arrived or left since.
        state.advance(7)
        since = world.end.isoformat()
        changed = _walk(
            http, f"{url}/wms/v1/inbound_orders", "inbound_orders", limit=50, updated_since=since
        )
        assert changed and all(r["updated_at"] >= since.replace("+00:00", "Z") for r in changed)
        received = {r["inbound_id"] for r in changed if r["status"] == "received"}
        before = {r["inbound_id"] for r in rows if r["status"] != "received"}
        assert received & before  # something in transit at the start has arrived
