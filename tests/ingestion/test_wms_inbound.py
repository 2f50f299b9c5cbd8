"""WMS inbound orders (supplier POs and transfers): every one the sandbox shows arrives with
exact quantities and costs, reloads add nothing, late receipts are picked up through the
lookback, and a bad record is quarantined with its reason while the rest of its page loads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox import wms as sandbox_wms
from ingestion.sandbox.server import running_sandbox
from ingestion.sandbox.state import SandboxState
from ingestion.wms import wms_source
from ingestion.wms.parsers import (
    INBOUND_ORDERS_SCHEMA,
    parse_inbound_order,
    parse_page,
)

PO = {
    "inbound_id": "PO-2026-000123",
    "type": "purchase_order",
    "reference": "PO-2026-000123",
    "sku": "TL-0001",
    "warehouse_code": "SZX",
    "origin": "Shenzhen Bright Plastics Co.",
    "supplier_id": 9007199254740993,
    "quantity": 1200,
    "unit_cost": "21.37",
    "currency": "CNY",
    "created_at": "2026-09-01T03:00:00Z",
    "expected_at": "2026-09-29T03:00:00Z",
    "received_at": None,
    "lead_time_days": 28,
    "status": "open",
    "updated_at": "2026-09-01T03:00:00Z",
}
TRANSFER = {
    **PO,
    "inbound_id": "TR-17",
    "type": "transfer",
    "reference": "17",
    "origin": "SZX",
    "warehouse_code": "LAX",
    "supplier_id": None,
    "unit_cost": None,
    "currency": None,
    "expected_at": None,
    "lead_time_days": None,
    "status": "in_transit",
}


def load(url: str, warehouse: Path) -> None:
    run_source(make_pipeline("wms", warehouse), wms_source(base_url=url), "wms")


def inbound(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return pl.from_arrow(
            con.execute(
                "select inbound_id, type, sku, warehouse_code, quantity, unit_cost, currency, "
                "status, received_at from raw_wms.inbound_orders order by inbound_id"
            ).arrow()
        )


def test_purchase_orders_keep_64_bit_supplier_ids_and_exact_costs():
    row = parse_inbound_order(PO)
    assert row["supplier_id"] == 9007199254740993
    assert row["unit_cost"] == Decimal("21.37") and row["currency"] == "CNY"
    assert parse_inbound_order(TRANSFER)["unit_cost"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"quantity": -5}, "quantity: -5 is not a positive number of units"),
        ({"unit_cost": 21.37}, "unit_cost: amount sent as a float (21.37) is not exact"),
        ({"unit_cost": "1500.5", "currency": "JPY"}, "has more than 0 decimals for JPY"),
        ({"currency": None}, "currency"),
        ({"status": "lost"}, "status: 'lost' is not one of open, overdue, in_transit, received"),
        ({"type": "gift"}, "type: 'gift' is not one of purchase_order, transfer"),
        ({"updated_at": "2026-08-01T00:00:00Z"}, "is before created_at"),
    ],
)
def test_a_bad_inbound_order_is_quarantined_with_its_reason_and_the_page_goes_on(change, reason):
    page = parse_page(
        [{**PO, **change}, TRANSFER],
        "inbound_order",
        parse_inbound_order,
        INBOUND_ORDERS_SCHEMA,
        ("inbound_id",),
    )
    assert page.rows.column("inbound_id").to_pylist() == ["TR-17"]
    [refused] = page.quarantine.rows
    assert refused["record_id"] == "PO-2026-000123" and refused["entity"] == "inbound_order"
    assert reason in refused["reason"]


def test_a_transfer_with_a_price_is_refused():
    page = parse_page(
        [{**TRANSFER, "unit_cost": "3.00", "currency": "USD"}],
        "inbound_order",
        parse_inbound_order,
        INBOUND_ORDERS_SCHEMA,
        ("inbound_id",),
    )
    assert page.rows.num_rows == 0
    assert "a transfer has no price" in page.quarantine.rows[0]["reason"]


def test_every_inbound_order_arrives_exactly_and_reloading_changes_nothing(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(sandbox.url, warehouse)
    first = inbound(warehouse)
    expected = sandbox_wms.inbound_frame(sandbox.state)
    assert first.height == expected.height > 0
    assert first["inbound_id"].to_list() == expected["inbound_id"].to_list()
    assert first["quantity"].sum() == expected["quantity"].sum()
    assert set(first["type"]) == {"purchase_order", "transfer"}
    # Costs to the minor unit: the ledger's integer minor units over 100 (CNY has 2 decimals).
    pos = expected.filter(pl.col("type") == "purchase_order")
    loaded_costs = first.filter(pl.col("type") == "purchase_order")["unit_cost"].to_list()
    assert loaded_costs == [Decimal(m) / 100 for m in pos["unit_cost_minor"]]
    load(sandbox.url, warehouse)
    assert inbound(warehouse).equals(first)


def test_receipts_booked_after_the_first_load_update_their_rows(tmp_path):
    state = SandboxState.generate(seed=11, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        load(url, warehouse)
        before = inbound(warehouse)
        state.advance(days=20)
        load(url, warehouse)
        after = inbound(warehouse)
    expected = sandbox_wms.inbound_frame(state)
    assert after["inbound_id"].n_unique() == after.height == expected.height
    assert after.select("inbound_id", "status").equals(expected.select("inbound_id", "status"))
    received_later = after.join(before, on="inbound_id", suffix="_before").filter(
        pl.col("received_at").is_not_null() & pl.col("received_at_before").is_null()
    )
    assert received_later.height > 0
