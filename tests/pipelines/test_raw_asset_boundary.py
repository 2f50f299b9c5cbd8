"""Through Dagster: a row that parses but breaks its table's suite (an Amazon export order
dated 1990, before any data Tradelane reads) is quarantined in the load step, the check says
which expectation failed and how often, and the rest of the file loads."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.defs.ingestion.assets import raw_files_assets
from pipelines.lib.resources import WarehouseResource
from tests.ingestion.export_samples import amazon_all_orders, write_amazon_tsv

AMAZON_FILE = "amazon_all_orders/All Orders 2026-06.txt"


def test_a_row_failing_its_suite_is_quarantined_by_the_load_step(tmp_path, monkeypatch):
    drop = tmp_path / "imports"
    rows, _ = amazon_all_orders(seed=3, n_orders=12)
    bad_order = rows[0]["amazon-order-id"]
    for row in rows:
        if row["amazon-order-id"] == bad_order:
            row["purchase-date"] = "1990-06-01T10:00:00+00:00"
    write_amazon_tsv(drop / AMAZON_FILE, rows)
    monkeypatch.setenv("TRADELANE_IMPORT_DIR", str(drop))
    warehouse = tmp_path / "w.duckdb"

    result = dg.materialize(
        [raw_files_assets], resources={"warehouse": WarehouseResource(path=str(warehouse))}
    )

    assert result.success  # one bad row never stops a run
    checks = {
        e.asset_check_key.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
    }
    orders_check = checks["raw_files/orders"]
    assert not orders_check.passed
    assert orders_check.severity == dg.AssetCheckSeverity.WARN
    assert orders_check.metadata["rows_quarantined"].value == 1
    failed = orders_check.metadata["failed_expectations"].value
    assert failed == {
        "expect_column_values_to_be_between(ordered_at)": {
            "unexpected": 1,
            "examples": ["1990-06-01 10:00:00"],
        }
    }
    assert checks["raw_files/order_lines"].passed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = {
            i for (i,) in con.execute("select external_order_id from raw_files.orders").fetchall()
        }
        [(reason, record_id)] = con.execute(
            "select reason, record_id from raw_files.quarantine where entity = 'orders'"
        ).fetchall()
        # The order's lines left the raw table with it.
        lines = con.execute(
            "select reason from raw_files.quarantine where entity = 'order_lines'"
        ).fetchall()
        orphans = con.execute(
            "select count(*) from raw_files.order_lines where external_order_id = ?", [bad_order]
        ).fetchone()
    bad_lines = sum(1 for r in rows if r["amazon-order-id"] == bad_order)
    assert bad_order not in loaded and len(loaded) == len({r["amazon-order-id"] for r in rows}) - 1
    assert reason == "failed great-expectations: expect_column_values_to_be_between(ordered_at)"
    assert record_id.endswith(f":{bad_order}")
    assert lines == [(f"parent orders {record_id} quarantined: {reason}",)] * bad_lines
    assert orphans == (0,)
    quarantine = next(
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "raw_files/quarantine"
    ).materialization.metadata
    assert quarantine["quarantined_by_expectations"].value == 1 + bad_lines
    assert quarantine["quarantine_total"].value == 1 + bad_lines
    order_lines = next(
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "raw_files/order_lines"
    ).materialization.metadata
    assert order_lines["quarantined_with_parent"].value == bad_lines
