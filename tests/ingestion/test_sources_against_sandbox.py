"""Each connector against the sandbox over real HTTP: idempotent reloads, incremental cursors
that see late updates, and a 429 storm that costs time but no data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from ingestion.shopify import shopify_source
from ingestion.wms import wms_source


def load_shopify(url: str, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    run_source(
        make_pipeline("shopify", warehouse),
        shopify_source(shop_url=url, stats=stats, **options),
        "shopify",
        stats,
    )
    return stats


def table_fingerprint(warehouse: Path, table: str, key: str) -> tuple[int, int, str]:
    """Row count, distinct keys and a content hash (dlt bookkeeping columns excluded)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema || '.' || "
                "table_name = ? and column_name not like '\\_dlt%' escape '\\' order by 1",
                [table],
            ).fetchall()
        ]
        return con.execute(
            f"select count(*), count(distinct {key}), "
            f"coalesce(sum(hash({', '.join(columns)})), 0)::varchar from {table}"
        ).fetchone()


def test_shopify_loads_every_visible_order_and_reloading_changes_nothing(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load_shopify(sandbox.url, warehouse)
    first = table_fingerprint(warehouse, "raw_shopify.orders", "id")
    first_lines = table_fingerprint(warehouse, "raw_shopify.order_line_items", "id")
    load_shopify(sandbox.url, warehouse)
    assert table_fingerprint(warehouse, "raw_shopify.orders", "id") == first
    assert table_fingerprint(warehouse, "raw_shopify.order_line_items", "id") == first_lines

    visible = sandbox.state.orders_view().filter(pl.col("channel_id") == "shopify")
    assert first[0] == first[1] == visible.height
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded_ids = {i for (i,) in con.execute("select id from raw_shopify.orders").fetchall()}
        total_minor = con.execute(
            "select sum(total_price * 100)::bigint from raw_shopify.orders"
        ).fetchone()[0]
    assert loaded_ids == set(visible["order_id"].to_list())  # 64-bit ids, exact
    assert total_minor == visible["total_price_minor"].sum()


def test_incremental_run_picks_up_new_orders_and_late_updates(tmp_path):
    state = SandboxState.generate(seed=11, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        load_shopify(url, warehouse, page_size=50)
        before = (
            state.orders_view()
            .filter(pl.col("channel_id") == "shopify")
            .select("order_id", pl.col("updated_at").alias("was"))
        )
        state.advance(days=4)
        after = state.orders_view().filter(pl.col("channel_id") == "shopify")
        stats = load_shopify(url, warehouse, page_size=50)

    updated_late = after.join(before, on="order_id").filter(pl.col("updated_at") > pl.col("was"))
    new_orders = after.join(before, on="order_id", how="anti")
    assert updated_late.height > 0, "the sandbox should update some old orders in 4 days"
    assert new_orders.height > 0, "the sandbox should take new orders in 4 days"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = dict(
            con.execute(
                "select id, financial_status || '/' || coalesce(fulfillment_status, '-') "
                "from raw_shopify.orders"
            ).fetchall()
        )
    assert len(rows) == after.height
    for row in updated_late.iter_rows(named=True):
        assert (
            rows[row["order_id"]] == f"{row['financial_status']}/{row['fulfillment_status'] or '-'}"
        )
    # The second run asked only for what changed since the cursor (minus the lookback), not
    # for the whole history again.
    changed = updated_late.height + new_orders.height
    assert stats.requests <= changed // 50 + 2 < after.height // 50


def test_shopify_survives_a_429_storm_without_losing_a_record(tmp_path):
    state = SandboxState.generate(seed=5, n_orders=200)
    # A server bucket of 2 leaking 5/s against a client that thinks it may burst 50: most
    # requests hit 429 and must wait for Retry-After.
    config = SandboxConfig(bucket_size=2, leak_rate_per_s=5.0)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=config) as url:
        stats = load_shopify(url, warehouse, page_size=10, requests_per_second=100, burst=50)
    assert stats.rate_limited > 0
    count, distinct, _ = table_fingerprint(warehouse, "raw_shopify.orders", "id")
    assert count == distinct == state.orders_view().filter(pl.col("channel_id") == "shopify").height


def test_wms_loads_levels_and_reloads_idempotently(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    for _ in range(2):
        run_source(make_pipeline("wms", warehouse), wms_source(base_url=sandbox.url), "wms")
    levels = sandbox.state.inventory_view()
    count, distinct, _ = table_fingerprint(
        warehouse, "raw_wms.inventory_levels", "warehouse_code || sku"
    )
    assert count == distinct == levels.height
    with duckdb.connect(str(warehouse), read_only=True) as con:
        on_hand = con.execute("select sum(on_hand) from raw_wms.inventory_levels").fetchone()[0]
        warehouses = {c for (c,) in con.execute("select code from raw_wms.warehouses").fetchall()}
        items = con.execute("select count(*) from raw_wms.items").fetchone()[0]
    assert on_hand == levels["on_hand"].sum()
    assert warehouses == set(sandbox.state.world.warehouses["code"].to_list())
    assert items == sandbox.state.world.products.height


@pytest.mark.parametrize("bad_token", ["wrong"])
def test_a_bad_token_fails_fast_with_a_clear_error(sandbox, tmp_path, bad_token):
    from dlt.pipeline.exceptions import PipelineStepFailed

    with pytest.raises(PipelineStepFailed, match="401"):
        run_source(
            make_pipeline("shopify", tmp_path / "w.duckdb"),
            shopify_source(shop_url=sandbox.url, access_token=bad_token),
            "shopify",
        )
