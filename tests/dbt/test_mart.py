"""The unified order mart built by dbt on a warehouse loaded from every source of one sandbox
world: totals per currency agree with the sandbox ledger to the cent, channels and stores unify,
FX is the previous fixing on weekends and exact, incremental builds equal full ones, the build
survives sources that are not loaded, and the docs generate offline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.currencies import iso_minor_units
from pipelines.defs.dbt.project import run_dbt_on
from tests.dbt.conftest import MartWorld, copy_warehouse, run_dbt


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def built(mart_world: MartWorld, tmp_path_factory) -> Iterator[Path]:
    """Every source loaded, then one `dbt build` (models, snapshot, seeds, every test)."""
    base = tmp_path_factory.mktemp("mart")
    warehouse = base / "warehouse.duckdb"
    mart_world.load(warehouse)
    run_dbt(warehouse, "build", work_dir=base / "dbt")
    yield warehouse


def ledger_totals(world: MartWorld, channel_prefix: str) -> dict[str, Decimal]:
    """Non-cancelled order totals per currency, from the ledger in integer minor units."""
    view = world.state.orders_view().filter(
        pl.col("channel_id").str.starts_with(channel_prefix) & ~pl.col("is_cancelled")
    )
    totals = view.group_by("currency").agg(pl.col("total_price_minor").sum())
    return {
        cur: Decimal(int(minor)).scaleb(-iso_minor_units(cur)) for cur, minor in totals.iter_rows()
    }


@pytest.mark.parametrize("channel", ["shopify", "amazon"])
def test_order_totals_per_currency_match_the_ledger_to_the_cent(built, mart_world, channel):
    mart = dict(
        query(
            built,
            "select currency_code, sum(total_amount) from marts.fct_orders "
            "where channel = ? and source_system <> 'file_import' and not is_cancelled "
            "group by currency_code",
            [channel],
        )
    )
    assert mart == ledger_totals(mart_world, channel) and len(mart) >= 1


def test_amazon_api_and_export_orders_share_one_store_per_marketplace(built):
    stores = query(
        built,
        "select source_system, list(distinct store_id order by store_id) from marts.fct_orders "
        "where channel = 'amazon' group by source_system order by source_system",
    )
    by_source = dict(stores)
    # The SP-API names regional seller accounts, the export marketplace domains: one id each.
    assert set(by_source["amazon_sp_api"]) == {
        "amazon.com",
        "amazon.de",
        "amazon.co.uk",
        "amazon.co.jp",
    }
    assert set(by_source["file_import"]) <= set(by_source["amazon_sp_api"])
    [(unmapped,)] = query(
        built, "select count(*) from intermediate.int_stores_mapped where not is_mapped"
    )
    assert unmapped == 0


def test_every_paid_shopify_order_is_paid_exactly_once_in_the_presentment_currency(built):
    rows = query(
        built,
        """
        select o.order_id, o.presentment_total_amount, sum(p.amount),
               count(distinct p.currency_code)
        from marts.fct_orders o
        join marts.fct_payments p on p.order_id = o.order_id and p.is_captured
        where o.channel = 'shopify' and o.financial_status in ('paid', 'partially_refunded')
        group by all
        """,
    )
    assert rows, "no payments matched to orders"
    assert all(total == paid and currencies == 1 for _, total, paid, currencies in rows)
    # Stripe's charge and Shopify's capture of the same money are one payment, not two.
    [(providers,)] = query(
        built,
        "select list(distinct payment_provider order by payment_provider) from marts.fct_payments",
    )
    assert "shopify" not in providers and {"paypal", "stripe"} <= set(providers)


def test_weekend_orders_convert_at_fridays_fixing_exactly(built):
    rows = query(
        built,
        """
        select o.order_date, o.fx_rate_date, o.currency_code, o.total_amount,
               o.total_reporting_amount, o.reporting_currency_code
        from marts.fct_orders o
        where isodow(o.order_date) in (6, 7) and o.currency_code <> 'USD'
          and o.total_amount is not null
        order by o.order_id limit 20
        """,
    )
    assert rows, "the world has no weekend orders in a foreign currency"
    for order_date, rate_date, currency, amount, converted, reporting in rows:
        assert reporting == "USD"
        friday = order_date - timedelta(days=order_date.isoweekday() - 5)
        [(rate_from,)] = query(
            built,
            "select rate_per_eur from raw_ecb.rates where currency = ? and rate_date = "
            "(select max(rate_date) from raw_ecb.rates where currency = ? and rate_date <= ?)",
            [currency, currency, order_date],
        )
        [(rate_usd,)] = query(
            built,
            "select rate_per_eur from raw_ecb.rates where currency = 'USD' and rate_date = ?",
            [rate_date],
        )
        assert rate_date <= friday and rate_date.isoweekday() <= 5
        rate_from = Decimal(1) if currency == "EUR" else rate_from
        expected = (amount * rate_usd / rate_from).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        assert converted == expected


def test_split_orders_count_each_parcel_and_ship_at_the_first(built):
    rows = query(
        built,
        """
        select o.first_shipped_at, min(s.shipped_at), count(*), o.parcel_count
        from marts.fct_orders o join marts.fct_shipments s using (order_id)
        where s.is_split_shipment group by o.order_id, o.first_shipped_at, o.parcel_count
        """,
    )
    assert rows
    assert all(first == earliest and n == parcels > 1 for first, earliest, n, parcels in rows)
    statuses = {
        s for (s,) in query(built, "select distinct shipment_status from marts.fct_shipments")
    }
    assert (
        {"delivered", "in_transit"}
        <= statuses
        <= {
            "info_received",
            "in_transit",
            "out_for_delivery",
            "failed_attempt",
            "exception",
            "delivered",
            "returned",
            "lost",
        }
    )


# Every incremental model whose full build can be compared with its incremental one
# (fct_inventory_snapshots keeps history a full refresh starts over: DECISIONLOG.md).
INCREMENTAL_MODELS = (
    "intermediate.int_parcel_scans_aggregated",
    "intermediate.int_order_line_margins",
    "marts.fct_tracking_events",
    "marts.fct_orders",
    "marts.fct_order_lines",
    "marts.fct_payments",
    "marts.fct_refunds",
    "marts.dim_customers",
)


def test_every_incremental_model_is_compared_between_full_and_incremental_builds(built):
    manifest = json.loads((built.parent / "dbt" / "target" / "manifest.json").read_text())
    incremental = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    }
    compared = {name.split(".")[1] for name in INCREMENTAL_MODELS}
    assert incremental - {"fct_inventory_snapshots"} == compared


@pytest.fixture(scope="module")
def late_rows() -> dict[str, str]:
    """The Shopify order ids `new_day` changed late and re-loaded unchanged (filled by it)."""
    return {}


@pytest.fixture(scope="module")
def new_day(built, mart_world, late_rows, tmp_path_factory) -> tuple[Path, Path]:
    """The built warehouse after one more sandbox day: loaded and built incrementally, and a
    copy of it rebuilt with `--full-refresh`.

    Beside the sandbox's day, one more load writes two old Shopify orders, older than any
    lookback on the sources' timestamps would re-read: one with a changed shipping city and
    its `updated_at` left as it was (a change that arrives late), one unchanged (a re-load)."""
    base = tmp_path_factory.mktemp("new-day")
    incremental = copy_warehouse(built, base / "incremental.duckdb")
    [(events_before,)] = query(incremental, "select count(*) from marts.fct_tracking_events")
    mart_world.state.advance(1)
    mart_world.load(incremental)
    with duckdb.connect(str(incremental)) as con:
        [(late, reloaded)] = con.execute(
            "select min(id), max(id) from (select id from raw_shopify.orders "
            "where shipping_city is not null order by updated_at, id limit 2)"
        ).fetchall()
        load_id = write_load(con, "raw_shopify")
        con.execute(
            "update raw_shopify.orders set shipping_city = 'Late Arrival', _dlt_load_id = ? "
            "where id = ?",
            [load_id, late],
        )
        con.execute(
            "update raw_shopify.orders set _dlt_load_id = ? where id = ?", [load_id, reloaded]
        )
    late_rows.update(late=str(late), reloaded=str(reloaded))
    run_dbt(incremental, "build", work_dir=base / "dbt-incremental")
    full = copy_warehouse(incremental, base / "full.duckdb")
    run_dbt(full, "build", "--full-refresh", work_dir=base / "dbt-full")
    [(events_after,)] = query(incremental, "select count(*) from marts.fct_tracking_events")
    assert events_after > events_before, "the new day brought no scans: nothing was tested"
    return incremental, full


def write_load(con: duckdb.DuckDBPyConnection, schema: str) -> str:
    """Record a new finished dlt load in ``schema`` (as dlt does when a load completes) and
    return its id, for rows the test then writes as that load."""
    load_id = f"{time.time():.6f}"
    con.execute(
        f"insert into {schema}._dlt_loads (load_id, schema_name, status, inserted_at, "
        "schema_version_hash) select ?, schema_name, 0, now(), schema_version_hash "
        f"from {schema}._dlt_loads order by inserted_at desc limit 1",
        [load_id],
    )
    return load_id


def test_full_and_incremental_builds_give_identical_tables(new_day):
    incremental, full = new_day
    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        for table in (*INCREMENTAL_MODELS, "marts.fct_shipments"):
            # `built_at` says which build wrote a row: it is meant to differ.
            columns = "* exclude (built_at)" if has_built_at(con, table) else "*"
            [(missing, extra)] = con.execute(
                f"select (select count(*) from (select {columns} from full_build.{table} "
                f"except all select {columns} from {table})), "
                f"(select count(*) from (select {columns} from {table} "
                f"except all select {columns} from full_build.{table}))"
            ).fetchall()
            assert (table, missing, extra) == (table, 0, 0)


def test_a_late_change_to_an_old_order_is_built_and_an_unchanged_reload_is_not(new_day, late_rows):
    """What changed is decided by load and content, not by the sources' timestamps: a change
    to an order older than the old 3-day lookback reaches the marts on the next incremental
    build, and an order re-loaded with the same content is not rewritten."""
    incremental, _ = new_day
    rows = {
        row[0]: row[1:]
        for row in query(
            incremental,
            "select external_order_id, destination_city, "
            "built_at = (select max(built_at) from marts.fct_orders), "
            "updated_at < (select max(updated_at) from marts.fct_orders) - interval 3 day "
            "from marts.fct_orders where channel = 'shopify' and external_order_id in (?, ?)",
            [late_rows["late"], late_rows["reloaded"]],
        )
    }
    late_city, late_rewritten, late_is_old = rows[late_rows["late"]]
    _, reload_rewritten, reload_is_old = rows[late_rows["reloaded"]]
    assert late_is_old and reload_is_old
    assert (late_city, late_rewritten) == ("Late Arrival", True)
    assert reload_rewritten is False


def test_status_history_records_every_change_the_new_day_made(built, new_day):
    """The snapshot compares only recently changed orders: no order's current version may
    differ from its status in fct_orders, and the day's changes are new versions."""
    incremental, _ = new_day
    current = (
        "select order_id, financial_status, fulfillment_status, is_cancelled "
        "from snapshots.order_status_history where dbt_valid_to is null"
    )
    [(stale, orders, versions)] = query(
        incremental,
        f"select (select count(*) from (select order_id, financial_status, fulfillment_status, "
        f"is_cancelled from marts.fct_orders except {current})), "
        "(select count(*) from marts.fct_orders), "
        "(select count(*) from snapshots.order_status_history)",
    )
    [(versions_before,)] = query(built, "select count(*) from snapshots.order_status_history")
    assert stale == 0
    assert versions - versions_before > 0 and versions > orders


def test_an_incremental_build_tests_the_rows_it_wrote_and_a_full_refresh_every_row(
    new_day, tmp_path
):
    """Generic tests of incremental models read the rows of the latest build (`built_at`): a bad row
    the build wrote fails them, a row an earlier build wrote and tested is not read again, and
    a full refresh writes, so tests, every row."""
    incremental, full = new_day
    warehouse = copy_warehouse(incremental, tmp_path / "tested.duckdb")
    select_orders = ("--select", "fct_orders,test_type:generic")

    def corrupt(which: str) -> None:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                "update marts.fct_orders set channel = 'nowhere' where order_id = ("
                "select min(order_id) from marts.fct_orders where built_at "
                f"{which} (select max(built_at) from marts.fct_orders))"
            )

    corrupt("<")
    run_dbt(warehouse, "test", *select_orders, work_dir=tmp_path / "dbt-old-row")
    corrupt("=")
    failed = run_dbt_on(warehouse, "test", *select_orders, work_dir=tmp_path / "dbt-new-row")
    assert failed.returncode == 1 and "relationships_fct_orders_channel" in failed.stdout
    # A full refresh writes every row in one build, so its tests read them all.
    [(builds,)] = query(full, "select count(distinct built_at) from marts.fct_orders")
    assert builds == 1


def test_an_incremental_build_tests_the_staged_rows_of_new_loads_and_a_full_refresh_every_row(
    new_day, tmp_path
):
    """Staging tests read the rows loaded since the mart was last built: a bad row an earlier
    load wrote (and an earlier build tested) is not read again, a bad row in a new load fails
    the build, and a full refresh reads every row."""
    incremental, _ = new_day
    # Same file name, so the views dbt does not rebuild here still find their catalog.
    warehouse = copy_warehouse(incremental, tmp_path / incremental.name)
    select_orders = ("--select", "stg_shopify__orders")

    def blank_currency(order: str, load_id: str | None) -> None:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                "update raw_shopify.orders set currency = null, "
                "_dlt_load_id = coalesce(?, _dlt_load_id) where id = ("
                f"select {order}(id) from raw_shopify.orders)",
                [load_id],
            )

    blank_currency("min", None)
    run_dbt(warehouse, "build", *select_orders, work_dir=tmp_path / "dbt-old-row")
    with duckdb.connect(str(warehouse)) as con:
        load_id = write_load(con, "raw_shopify")
    blank_currency("max", load_id)
    failed = run_dbt_on(warehouse, "build", *select_orders, work_dir=tmp_path / "dbt-new-row")
    assert failed.returncode == 1 and "not_null_stg_shopify__orders_currency_code" in failed.stdout
    [(bad,)] = query(warehouse, "select count(*) from raw_shopify.orders where currency is null")
    assert bad == 2
    full = run_dbt_on(
        warehouse, "build", "--full-refresh", *select_orders, work_dir=tmp_path / "dbt-full"
    )
    assert full.returncode == 1 and "Got 2 results" in full.stdout


def has_built_at(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    [(found,)] = con.execute(
        "select count(*) from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? and column_name = 'built_at'",
        [schema, name],
    ).fetchall()
    return found == 1


def test_build_succeeds_when_optional_sources_were_never_loaded(built, tmp_path):
    partial = copy_warehouse(built, tmp_path / "partial.duckdb")
    with duckdb.connect(str(partial)) as con:
        for schema in ("raw_amazon", "raw_tracking", "raw_files", "raw_stripe", "raw_paypal"):
            con.execute(f"drop schema {schema} cascade")
        # Shopify without SOURCES__SHOPIFY__FINANCE: none of its finance tables exist.
        for table in (
            "transactions",
            "refunds",
            "refund_line_items",
            "fulfillments",
            "fulfillment_tracking_numbers",
            "fulfillment_line_items",
            "payouts",
        ):
            con.execute(f"drop table raw_shopify.{table}")
        for schema in ("marts", "intermediate", "staging", "snapshots"):
            con.execute(f"drop schema if exists {schema} cascade")
    run_dbt(partial, "build", work_dir=tmp_path / "dbt")
    [(orders, channels, payments, shipments)] = query(
        partial,
        "select (select count(*) from marts.fct_orders), "
        "(select count(distinct channel) from marts.fct_orders), "
        "(select count(*) from marts.fct_payments), (select count(*) from marts.fct_shipments)",
    )
    assert orders > 0 and channels == 1 and payments == 0 and shipments == 0


def test_docs_generate_offline_and_describe_every_mart(built, tmp_path):
    run_dbt(built, "docs", "generate", work_dir=tmp_path / "dbt")
    catalog = json.loads((tmp_path / "dbt" / "target" / "catalog.json").read_text())
    manifest = json.loads((tmp_path / "dbt" / "target" / "manifest.json").read_text())
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    assert len(marts) >= 15
    assert all(n["description"] for n in marts), [n["name"] for n in marts if not n["description"]]
    assert "model.tradelane.fct_orders" in catalog["nodes"]
