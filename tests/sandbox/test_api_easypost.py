"""The sandbox's EasyPost shipments: fixture conformance, ledger agreement to the cent, page
walks with before_id/after_id, date filters, auth and the ledger's label and duty rules."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from ingestion.sandbox import SandboxState, World
from ingestion.sandbox.api_easypost import API_KEY
from ingestion.sandbox.world import costs
from tests.conformance import assert_conformant

AUTH = (API_KEY, "")
# Fixture paths the sandbox leaves out, with why: the fixture's unbought shipment has rates of
# three services and no label; address verification and carrier facility are request echoes.
EXEMPT = frozenset(
    {
        "from_address.carrier_facility",
        "from_address.federal_tax_id",
        "from_address.state_tax_id",
        "from_address.verifications",
        "to_address.carrier_facility",
        "to_address.federal_tax_id",
        "to_address.state_tax_id",
        "to_address.verifications",
        "return_address.carrier_facility",
        "return_address.federal_tax_id",
        "return_address.state_tax_id",
        "return_address.verifications",
        "buyer_address.carrier_facility",
        "buyer_address.federal_tax_id",
        "buyer_address.state_tax_id",
        "buyer_address.verifications",
        "customs_info.customs_items[].created_at",
        "customs_info.customs_items[].updated_at",
        "customs_info.customs_items[].manufacturer",
        "customs_info.customs_items[].eccn",
        "customs_info.customs_items[].printed_commodity_identifier",
        "customs_info.customs_items[].code",
        "customs_info.customs_items[].currency",
    }
)


def _get(url: str, **params: Any) -> dict[str, Any]:
    """One page, waiting out the API's own 10 requests/s bucket."""
    while True:
        response = httpx.get(f"{url}/v2/shipments", params=params, auth=AUTH)
        if response.status_code != 429:
            return response.json()
        time.sleep(0.2)


def _walk(url: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    query = {"page_size": 100, **params}
    with httpx.Client(timeout=30) as client:
        while True:
            response = client.get(f"{url}/v2/shipments", params=query, auth=AUTH)
            if response.status_code == 429:  # the API's own bucket: wait and ask again
                time.sleep(0.2)
                continue
            body = response.json()
            out += body["shipments"]
            if not body["has_more"]:
                return out
            query["before_id"] = body["shipments"][-1]["id"]


@pytest.fixture(scope="module")
def served(sandbox_server: tuple[str, SandboxState]) -> list[dict[str, Any]]:
    return _walk(sandbox_server[0])


def test_shipments_are_a_superset_of_easypost_bought_shipments(
    fixtures_dir: Path, served: list[dict[str, Any]]
) -> None:
    examples = [
        json.loads(p.read_text())["body"]
        for p in sorted((fixtures_dir / "api" / "easypost").glob("test_shipment_buy.*.json"))
    ]
    bought = [e for e in examples if e.get("selected_rate")]
    assert bought, "no bought shipment among the fixtures"
    assert_conformant(bought, served, EXEMPT)


def test_walk_serves_every_label_once_with_ledger_money(
    sandbox_server: tuple[str, SandboxState], served: list[dict[str, Any]]
) -> None:
    labels = sandbox_server[1].table_as_of("shipping_labels")
    ids = [s["id"] for s in served]
    assert len(ids) == len(set(ids)) == labels.height
    by_id = {r["label_id"]: r for r in labels.to_dicts()}
    for s in served:
        row = by_id[s["id"]]
        assert Decimal(s["selected_rate"]["rate"]) * 100 == row["postage_minor"]
        fees = {f["type"]: Decimal(f["amount"]) * 100 for f in s["fees"]}
        assert fees == {"PostageFee": row["postage_minor"], "LabelFee": row["label_fee_minor"]}
        assert s["options"].get("incoterm") == row["incoterm"]
        duties = s["duties_and_taxes"]
        if row["duties_billed_at"] is None:
            assert duties is None
        else:
            scale = 10 ** (0 if row["duty_currency"] == "JPY" else 2)
            assert duties["currency"] == row["duty_currency"]
            assert Decimal(duties["duty_total"]) * scale == row["duty_minor"]
            assert Decimal(duties["tax_total"]) * scale == row["import_tax_minor"]
            assert s["options"]["duty_payment"] == {"type": "SENDER"}


def test_newest_first_and_after_id_pages_back(sandbox_server: tuple[str, SandboxState]) -> None:
    url = sandbox_server[0]
    first = _get(url, page_size=5)
    created = [s["created_at"] for s in first["shipments"]]
    assert created == sorted(created, reverse=True) and first["has_more"]
    second = _get(url, page_size=5, before_id=first["shipments"][-1]["id"])
    back = _get(url, page_size=5, after_id=second["shipments"][0]["id"])
    assert [s["id"] for s in back["shipments"]] == [s["id"] for s in first["shipments"]]
    assert back["has_more"] is False


def test_start_datetime_filters_on_created_at(
    sandbox_server: tuple[str, SandboxState], served: list[dict[str, Any]]
) -> None:
    cut = sorted(s["created_at"] for s in served)[len(served) // 2]
    recent = _walk(sandbox_server[0], start_datetime=cut)
    assert {s["id"] for s in recent} == {s["id"] for s in served if s["created_at"] >= cut}


def test_wrong_key_and_bad_page_size_get_easypost_errors(
    sandbox_server: tuple[str, SandboxState],
) -> None:
    url = sandbox_server[0]
    denied = httpx.get(f"{url}/v2/shipments", auth=("nope", ""))
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "APIKEY.INACTIVE"
    bad = _get(url, page_size=500)
    assert "page_size" in bad["error"]["message"]


def test_labels_only_for_self_shipped_parcels_and_ddp_from_china(world: World) -> None:
    labels = world.shipping_labels
    fba = world.warehouses.filter(pl.col("kind") == "fba")["code"]
    own = world.shipments.filter(~pl.col("warehouse_code").is_in(fba.implode()))
    assert labels["shipment_id"].sort().equals(own["shipment_id"].sort())
    ddp = labels.filter(pl.col("incoterm") == "DDP")
    assert ddp.height > 0
    assert set(ddp["warehouse_code"]) == {costs.HOME_WAREHOUSE}
    assert set(ddp["destination_country_code"]) <= set(costs.DDP_MARKETS)
    # Billed weight covers the actual weight, and the dimensional one where the carrier bills it.
    assert (labels["billed_weight_g"] >= labels["actual_weight_g"]).all()
    dim = labels.filter(pl.col("dimensional_weight_g").is_not_null())
    assert (dim["billed_weight_g"] >= dim["dimensional_weight_g"]).all()
    # Parcels under the duty de minimis pay no duty (GB: GBP 135).
    gb = ddp.filter(pl.col("destination_country_code") == "GB", pl.col("duty_minor").is_not_null())
    assert (gb.filter(pl.col("customs_value_minor") <= 13_500)["duty_minor"] == 0).all()
