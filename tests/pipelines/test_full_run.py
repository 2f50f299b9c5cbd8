"""The whole product, end to end: the Dagster definitions load; one in-process run loads the
sandbox, builds the marts, routes orders and publishes; the marts agree with the sandbox's
ledger; the dashboard and `tradelane status` show what the warehouse holds."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import streamlit as st
from rich.console import Console
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from ingestion.sandbox.server import SandboxConfig, running_sandbox
from pipelines.defs.ingestion.assets import RAW_TABLES
from pipelines.defs.ingestion.suites import RAW_SUITES
from tradelane import settings
from tradelane.reconcile import LAYERS, MART_TOTALS, Ledger, reconcile, reconcile_mart
from tradelane.runner import RunSummary, run_all

APP = settings.REPO_ROOT / "dashboards" / "app.py"


@dataclass
class FullRun:
    summary: RunSummary
    warehouse: Path
    published_dir: Path


@pytest.fixture(scope="module")
def full_run(sandbox, dbt_manifest, tmp_path_factory) -> Iterator[FullRun]:
    """The demo's configuration: every source, Shopify finance on, against a sandbox on the
    Shopify Plus plan (the session sandbox's world, served with Plus limits)."""
    base = tmp_path_factory.mktemp("full_run")
    patch = pytest.MonkeyPatch()
    patch.setenv("TRADELANE_WAREHOUSE", str(base / "warehouse.duckdb"))
    patch.setenv("TRADELANE_PUBLISHED_DIR", str(base / "published"))
    patch.setenv("SOURCES__SHOPIFY__FINANCE", "true")
    patch.setenv("SOURCES__SHOPIFY__REQUESTS_PER_SECOND", "20")
    patch.setenv("SOURCES__SHOPIFY__BURST", "400")
    with running_sandbox(state=sandbox.state, config=SandboxConfig.for_shopify_plan("plus")) as url:
        patch.setenv("TRADELANE_SANDBOX_URL", url)
        summary = run_all(Console(file=io.StringIO()))
    yield FullRun(summary, base / "warehouse.duckdb", base / "published")
    patch.undo()


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_definitions_load_with_complete_lineage(dbt_manifest):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw_shopify/orders",
        "raw_wms/inventory_levels",
        "raw_wms/inbound_orders",
        "raw_amazon/order_items",
        "raw_tracking/checkpoints",
        "raw_shopify/refund_line_items",
        "raw_shopify/payouts",
        "marts/fct_orders",
        "marts/fct_inventory_levels",
        "actions/order_routing",
        "published/warehouse_copy",
    } <= keys
    # Every dbt source is produced by a dlt asset: no dangling, unmaterializable inputs.
    for key in graph.get_all_asset_keys():
        assert graph.get(key).is_materializable, key.to_user_string()
    # Every validated raw table carries its great-expectations check.
    checks = {k.asset_key.to_user_string() for k in graph.asset_check_keys}
    assert {
        f"raw_{source}/{table}" for source, tables in RAW_SUITES.items() for table in tables
    } <= checks
    schedule = defs.resolve_schedule_def("hourly_refresh")
    assert schedule.cron_schedule == "0 * * * *"
    assert defs.resolve_job_def("refresh_all") is not None


def test_one_run_materializes_everything_and_every_check_passes(full_run):
    summary = full_run.summary
    assert summary.success, summary.error
    assert summary.checks_failed == []
    suites = sum(len(tables) for tables in RAW_SUITES.values())
    assert summary.checks_passed >= 30 + suites  # dbt tests and one suite per raw table
    raw = {f"raw_{s}/{t}" for s, tables in RAW_TABLES.items() for t in tables}
    assert raw | {"marts/fct_orders", "actions/order_routing", "published/warehouse_copy"} <= set(
        summary.materialized
    )
    # The new sources and Shopify's finance tables really loaded rows, none quarantined.
    for key in (
        "raw_amazon/orders",
        "raw_amazon/order_items",
        "raw_tracking/trackings",
        "raw_tracking/checkpoints",
        "raw_wms/inbound_orders",
        "raw_shopify/transactions",
        "raw_shopify/refunds",
        "raw_shopify/refund_line_items",
        "raw_shopify/fulfillments",
        "raw_shopify/fulfillment_tracking_numbers",
        "raw_shopify/fulfillment_line_items",
        "raw_shopify/payouts",
    ):
        assert summary.materialized[key]["rows_loaded"] > 0, key
        assert summary.materialized[key]["quarantined_by_expectations"] == 0, key
    # Each source's quarantine reports its counts in the run's metadata.
    for source in RAW_TABLES:
        quarantine = summary.materialized[f"raw_{source}/quarantine"]
        assert quarantine["quarantined_records"] == quarantine["quarantine_total"] == 0, source


def test_marts_agree_with_the_sandbox_ledger_to_the_cent(full_run, sandbox):
    visible = sandbox.state.orders_view().filter(pl.col("channel_id") == "shopify")
    [(orders, total, awaiting)] = query(
        full_run.warehouse,
        "select count(*), sum(total_amount), count(*) filter (where is_awaiting_shipment) "
        "from marts.fct_orders where channel = 'shopify'",
    )
    assert orders == visible.height
    assert total == Decimal(int(visible["total_price_minor"].sum())) / 100
    expected_awaiting = visible.filter(
        pl.col("is_paid") & ~pl.col("is_cancelled") & ~pl.col("is_fulfilled")
    ).height
    assert awaiting == expected_awaiting > 0
    [(lines,)] = query(
        full_run.warehouse, "select count(*) from marts.fct_order_lines where channel = 'shopify'"
    )
    assert lines == visible["line_count"].sum()
    # Amazon arrives through the SP-API into the same mart, under its marketplace's store id.
    amazon = sandbox.state.orders_view().filter(pl.col("channel_id").str.starts_with("amazon"))
    [(amazon_orders, stores)] = query(
        full_run.warehouse,
        "select count(*), count(distinct store_id) from marts.fct_orders where channel = 'amazon'",
    )
    assert amazon_orders == amazon.height > 0 and stores > 1


def test_the_clean_run_reconciles_with_the_ledger_in_raw_tables_and_marts(full_run, sandbox):
    """What `tradelane reconcile` checks, on the demo's configuration without faults: every raw
    row and every mart total per store and currency equals the ledger as of the clock (an
    unpaid-then-cancelled Amazon order, a scan minutes before the clock: both once disagreed)."""
    ledger = Ledger("session sandbox", sandbox.state.now, sandbox.state.table_as_of)
    raw = reconcile(full_run.warehouse, ledger, LAYERS["raw"], strict=True)
    assert [r.entity for r in raw if not r.ok] == []
    mart = reconcile_mart(full_run.warehouse, ledger, MART_TOTALS)
    assert [(r.totals, r.not_loaded, r.mismatches) for r in mart if not r.ok or r.not_loaded] == []


def test_every_awaiting_order_gets_a_decision_with_a_reason_and_no_unit_is_promised_twice(
    full_run, sandbox
):
    [(decisions, awaiting, blank_reasons)] = query(
        full_run.warehouse,
        "select (select count(*) from actions.order_routing), "
        "(select count(*) from marts.fct_orders where is_awaiting_shipment), "
        "(select count(*) from actions.order_routing where coalesce(reason, '') = '')",
    )
    assert decisions == awaiting and blank_reasons == 0
    oversold = query(
        full_run.warehouse,
        """
        select r.warehouse_code, l.sku
        from actions.order_routing r
        join marts.fct_order_lines l using (order_id)
        left join marts.fct_inventory_levels i
          on i.warehouse_code = r.warehouse_code and i.sku = l.sku
        where r.is_routable
        group by 1, 2
        having sum(coalesce(l.fulfillable_quantity, l.quantity))
             > coalesce(any_value(i.available_quantity), 0)
        """,
    )
    assert oversold == []
    warehouses = {
        w
        for (w,) in query(
            full_run.warehouse,
            "select distinct warehouse_code from actions.order_routing where is_routable",
        )
    }
    assert warehouses and warehouses <= set(sandbox.state.world.warehouses["code"].to_list())


def test_dashboard_shows_the_numbers_the_published_copy_holds(full_run, monkeypatch):
    monkeypatch.setenv("TRADELANE_PUBLISHED_DIR", str(full_run.published_dir))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    [(orders, awaiting, revenue)] = query(
        full_run.warehouse,
        "select count(*), count(*) filter (where is_awaiting_shipment), "
        "sum(total_amount) filter (where not is_cancelled and currency_code = 'USD') "
        "from marts.fct_orders",
    )
    assert metrics["Orders"] == f"{orders:,}" or metrics["Orders"] == str(orders)
    assert metrics["Awaiting shipment"] in {str(awaiting), f"{awaiting:,}"}
    assert metrics["Revenue (USD)"] == f"{revenue.quantize(Decimal('0.01')):,}"
    st.cache_data.clear()


def test_status_says_what_was_loaded_built_and_published(full_run, monkeypatch):
    from tradelane.cli import app

    monkeypatch.setenv("TRADELANE_WAREHOUSE", str(full_run.warehouse))
    monkeypatch.setenv("TRADELANE_PUBLISHED_DIR", str(full_run.published_dir))
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for dataset in ("raw_shopify", "raw_wms", "raw_amazon", "raw_tracking"):
        assert dataset in result.output
    assert "order_items=" in result.output and "checkpoints=" in result.output
    [(orders,)] = query(full_run.warehouse, "select count(*) from marts.fct_orders")
    assert "marts.fct_orders" in result.output and f"{orders:,}" in result.output
    assert "Published copy: warehouse-" in result.output
