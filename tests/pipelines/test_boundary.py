"""The great-expectations boundary: a raw row that breaks its table's suite leaves the raw
table for the quarantine (with the expectations it broke and the row itself) before dbt can
read it, and the rows that belong to it (an order's lines, a tracking's checkpoints) follow it;
the check reports counts and examples; running it again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from ingestion.common.expectations import Child, TableSuite
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.tracking import settings as tracking_settings
from ingestion.tracking import tracking_source
from ingestion.wms import wms_source
from pipelines.defs.ingestion.assets import _check_result
from pipelines.defs.ingestion.boundary import LoadedKeys, enforce_suite
from pipelines.defs.ingestion.suites import RAW_SUITES


@pytest.fixture
def warehouse(sandbox, tmp_path) -> Path:
    path = tmp_path / "w.duckdb"
    run_source(make_pipeline("wms", path), wms_source(base_url=sandbox.url), "wms")
    return path


def connector(path: Path):
    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()

    return connect


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_clean_load_passes_every_wms_suite_and_moves_nothing(warehouse):
    pipeline = make_pipeline("wms", warehouse)
    for table, suite in RAW_SUITES["wms"].items():
        result = enforce_suite(pipeline, connector(warehouse), "wms", table, suite)
        assert result.validation is not None and result.validation.rows > 0, table
        assert result.validation.success, (table, result.validation.as_metadata())
        assert result.quarantined == 0


def test_bad_rows_are_quarantined_with_their_reason_and_leave_the_raw_table(warehouse):
    [(sku,)] = rows(warehouse, "select min(sku) from raw_wms.items")
    [(items_before,)] = rows(warehouse, "select count(*) from raw_wms.items")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw_wms.items set cost_currency = 'ABC' where sku = ?", [sku])
    pipeline = make_pipeline("wms", warehouse)
    suite = RAW_SUITES["wms"]["items"]

    result = enforce_suite(pipeline, connector(warehouse), "wms", "items", suite)

    assert result.quarantined == 1
    assert result.validation.as_metadata() == {
        "expect_column_values_to_be_in_set(cost_currency)": {"unexpected": 1, "examples": ["ABC"]}
    }
    assert rows(warehouse, "select count(*) from raw_wms.items") == [(items_before - 1,)]
    assert rows(warehouse, f"select count(*) from raw_wms.items where sku = '{sku}'") == [(0,)]
    [(entity, record_id, reason, payload)] = rows(
        warehouse, "select entity, record_id, reason, payload from raw_wms.quarantine"
    )
    assert (entity, record_id) == ("items", sku)
    assert reason == ("failed great-expectations: expect_column_values_to_be_in_set(cost_currency)")
    kept = json.loads(payload)
    assert kept["sku"] == sku and kept["cost_currency"] == "ABC"
    check = _check_result("wms", result)
    assert not check.passed
    assert check.metadata["rows_quarantined"].value == 1

    again = enforce_suite(pipeline, connector(warehouse), "wms", "items", suite)
    assert again.validation.success and again.quarantined == 0
    assert rows(warehouse, "select count(*) from raw_wms.quarantine") == [(1,)]


def test_duplicate_keys_and_out_of_range_timestamps_are_caught(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into raw_wms.inventory_levels select * from raw_wms.inventory_levels "
            "order by warehouse_code, sku limit 1"
        )
        con.execute(
            "update raw_wms.inventory_levels set updated_at = '1970-01-01 00:00:01' "
            "where (warehouse_code, sku) in (select warehouse_code, sku "
            "from raw_wms.inventory_levels order by warehouse_code desc, sku desc limit 1)"
        )
    [(before,)] = rows(warehouse, "select count(*) from raw_wms.inventory_levels")
    result = enforce_suite(
        make_pipeline("wms", warehouse),
        connector(warehouse),
        "wms",
        "inventory_levels",
        RAW_SUITES["wms"]["inventory_levels"],
    )
    failed = {f.expectation: f.unexpected for f in result.validation.failures}
    assert failed == {
        "expect_compound_columns_to_be_unique(['warehouse_code', 'sku'])": 2,
        "expect_column_values_to_be_between(updated_at)": 1,
    }
    assert result.quarantined == 3
    assert rows(warehouse, "select count(*) from raw_wms.inventory_levels") == [(before - 3,)]
    # The two copies of the duplicated row are the same record with the same reason: one entry.
    assert rows(warehouse, "select count(*) from raw_wms.quarantine") == [(2,)]


def test_status_shows_the_quarantine_count_of_every_source(warehouse, tmp_path):
    from tradelane.status import collect_status

    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_wms.items set unit_cost = -1 "
            "where sku = (select min(sku) from raw_wms.items)"
        )
    enforce_suite(
        make_pipeline("wms", warehouse),
        connector(warehouse),
        "wms",
        "items",
        RAW_SUITES["wms"]["items"],
    )
    report = collect_status(warehouse, tmp_path / "published")
    by_dataset = {s.dataset: s for s in report.sources}
    assert by_dataset["raw_wms"].quarantined == 1
    assert {"raw_amazon", "raw_tracking"} <= set(by_dataset)
    assert by_dataset["raw_amazon"].loads == 0


def test_only_the_rows_a_run_loaded_are_validated(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    pipeline = make_pipeline("wms", warehouse)
    source = wms_source(base_url=sandbox.url)
    loaded = LoadedKeys.watch(source, RAW_SUITES["wms"])
    run_source(pipeline, source, "wms")
    items = loaded.of("items")
    [(count,)] = rows(warehouse, "select count(*) from raw_wms.items")
    assert items.num_rows == count > 2 and items.column_names == ["sku"]
    assert loaded.of("inbound_orders").num_rows > 0
    first, second = items.column("sku").to_pylist()[:2]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_wms.items set cost_currency = 'ABC' where sku in (?, ?)", [first, second]
        )
    result = enforce_suite(
        pipeline,
        connector(warehouse),
        "wms",
        "items",
        RAW_SUITES["wms"]["items"],
        only=items.slice(0, 1),
    )
    assert result.validation.rows == 1 and result.quarantined == 1
    remaining = {s for (s,) in rows(warehouse, "select sku from raw_wms.items")}
    assert first not in remaining and second in remaining


# --- children follow a quarantined parent -------------------------------------------------------

SHOP = {
    "orders": TableSuite(
        keys=("id",),
        enums={"status": ("open", "closed")},
        children=(
            Child("order_line_items", {"order_id": "id"}),
            Child("refunds", {"order_id": "id"}),
        ),
    ),
    "order_line_items": TableSuite(keys=("id",)),
    "refunds": TableSuite(
        keys=("id",), children=(Child("refund_line_items", {"refund_id": "id"}),)
    ),
    "refund_line_items": TableSuite(keys=("refund_id", "line_number")),
}


@pytest.fixture
def shop(tmp_path) -> Path:
    """Orders 1 and 2, each with line items, a refund and the refund's lines; a line item
    of no order."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_shop")
        con.execute(
            "create table raw_shop.orders as select * from (values (1, 'open'), "
            "(2, 'open')) t(id, status)"
        )
        con.execute(
            "create table raw_shop.order_line_items as select * from (values "
            "(11, 1, 'A'), (12, 1, 'B'), (21, 2, 'C'), (99, null, 'D')) t(id, order_id, sku)"
        )
        con.execute(
            "create table raw_shop.refunds as select * from (values (101, 1), (201, 2)) "
            "t(id, order_id)"
        )
        con.execute(
            "create table raw_shop.refund_line_items as select * from (values "
            "(101, 1, 11), (101, 2, 12), (201, 1, 21)) t(refund_id, line_number, line_item_id)"
        )
    return path


def test_a_quarantined_order_takes_its_lines_refunds_and_their_lines_along(shop):
    with duckdb.connect(str(shop)) as con:
        con.execute("update raw_shop.orders set status = 'lost' where id = 1")
    result = enforce_suite(
        make_pipeline("shop", shop),
        connector(shop),
        "shop",
        "orders",
        SHOP["orders"],
        suites=SHOP,
    )
    assert result.quarantined == 1
    assert result.with_parent == {"order_line_items": 2, "refunds": 1, "refund_line_items": 2}
    # Order 2 and everything of it stays; so does the line item of no order.
    assert rows(shop, "select id from raw_shop.orders") == [(2,)]
    assert sorted(rows(shop, "select id from raw_shop.order_line_items")) == [(21,), (99,)]
    assert rows(shop, "select id from raw_shop.refunds") == [(201,)]
    assert rows(shop, "select refund_id, line_number from raw_shop.refund_line_items") == [(201, 1)]
    why = "failed great-expectations: expect_column_values_to_be_in_set(status)"
    moved = rows(
        shop,
        "select entity, record_id, reason, payload from raw_shop.quarantine "
        "order by entity, record_id",
    )
    assert [(e, r, reason) for e, r, reason, _ in moved] == [
        ("order_line_items", "11", f"parent orders 1 quarantined: {why}"),
        ("order_line_items", "12", f"parent orders 1 quarantined: {why}"),
        ("orders", "1", why),
        (
            "refund_line_items",
            "101:1",
            f"parent refunds 101 quarantined: parent orders 1 quarantined: {why}",
        ),
        (
            "refund_line_items",
            "101:2",
            f"parent refunds 101 quarantined: parent orders 1 quarantined: {why}",
        ),
        ("refunds", "101", f"parent orders 1 quarantined: {why}"),
    ]
    # Each row kept whole, as it was in its raw table.
    assert json.loads(moved[0][3]) == {"id": 11, "order_id": 1, "sku": "A"}

    again = enforce_suite(
        make_pipeline("shop", shop),
        connector(shop),
        "shop",
        "orders",
        SHOP["orders"],
        suites=SHOP,
    )
    assert again.quarantined == 0 and again.with_parent == {}
    assert rows(shop, "select count(*) from raw_shop.quarantine") == [(6,)]


def test_a_child_row_that_fails_its_own_suite_first_is_quarantined_once(shop):
    """Lines validated before their order: the bad line leaves under its own reason, and the
    order's quarantine later takes only the lines still there."""
    suites = {**SHOP, "order_line_items": TableSuite(keys=("id",), enums={"sku": ("B", "C", "D")})}
    with duckdb.connect(str(shop)) as con:
        con.execute("update raw_shop.orders set status = 'lost' where id = 1")
    pipeline = make_pipeline("shop", shop)
    lines = enforce_suite(
        pipeline,
        connector(shop),
        "shop",
        "order_line_items",
        suites["order_line_items"],
        suites=suites,
    )
    orders = enforce_suite(
        pipeline, connector(shop), "shop", "orders", suites["orders"], suites=suites
    )
    assert lines.quarantined == 1 and orders.with_parent["order_line_items"] == 1
    reasons = dict(
        rows(
            shop,
            "select record_id, reason from raw_shop.quarantine where entity = 'order_line_items'",
        )
    )
    assert reasons["11"].startswith("failed great-expectations")
    assert reasons["12"].startswith("parent orders 1 quarantined")


def test_a_tracking_quarantined_by_its_suite_takes_its_checkpoints_along(sandbox, tmp_path):
    """The links declared with the real suites, on a real load."""
    warehouse = tmp_path / "w.duckdb"
    run_source(
        make_pipeline("tracking", warehouse),
        tracking_source(endpoint=sandbox.url + tracking_settings.API_PATH),
        "tracking",
    )
    [(tracking_id, scans)] = rows(
        warehouse,
        "select tracking_id, count(*) from raw_tracking.checkpoints group by tracking_id "
        "order by count(*) desc, tracking_id limit 1",
    )
    [(before,)] = rows(warehouse, "select count(*) from raw_tracking.checkpoints")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_tracking.trackings set tag = 'Teleported' where tracking_id = ?",
            [tracking_id],
        )
    result = enforce_suite(
        make_pipeline("tracking", warehouse),
        connector(warehouse),
        "tracking",
        "trackings",
        RAW_SUITES["tracking"]["trackings"],
    )
    assert result.quarantined == 1 and result.with_parent == {"checkpoints": scans} and scans > 1
    assert rows(warehouse, "select count(*) from raw_tracking.checkpoints") == [(before - scans,)]
    assert rows(
        warehouse,
        f"select count(*) from raw_tracking.checkpoints where tracking_id = '{tracking_id}'",
    ) == [(0,)]
    quarantined = rows(
        warehouse,
        "select record_id, reason from raw_tracking.quarantine where entity = 'checkpoints' "
        "order by record_id",
    )
    assert [r for r, _ in quarantined] == sorted(f"{tracking_id}:{seq}" for seq in range(scans))
    assert {reason for _, reason in quarantined} == {
        f"parent trackings {tracking_id} quarantined: failed great-expectations: "
        "expect_column_values_to_be_in_set(tag)"
    }


def test_reconcile_accounts_for_rows_the_boundary_moved(sandbox, tmp_path):
    """A tracking moved by its suite, with its checkpoints, is neither missing from raw nor a
    mismatch for ``tradelane reconcile``: it reads them back from the quarantine."""
    from tradelane.reconcile.compare import reconcile
    from tradelane.reconcile.ledger import Ledger
    from tradelane.reconcile.mappings import RAW_ENTITIES

    warehouse = tmp_path / "w.duckdb"
    run_source(
        make_pipeline("tracking", warehouse),
        tracking_source(endpoint=sandbox.url + tracking_settings.API_PATH),
        "tracking",
    )
    entities = tuple(e for e in RAW_ENTITIES if e.source == "tracking")
    ledger = Ledger.from_sandbox(sandbox.url)
    assert all(r.ok for r in reconcile(warehouse, ledger, entities))
    [(tracking_id, scans)] = rows(
        warehouse,
        "select tracking_id, count(*) from raw_tracking.checkpoints group by tracking_id "
        "order by count(*) desc, tracking_id limit 1",
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_tracking.trackings set tag = 'Teleported' where tracking_id = ?",
            [tracking_id],
        )
    enforce_suite(
        make_pipeline("tracking", warehouse),
        connector(warehouse),
        "tracking",
        "trackings",
        RAW_SUITES["tracking"]["trackings"],
    )
    results = {r.entity.table: r for r in reconcile(warehouse, ledger, entities)}
    assert all(r.ok for r in results.values()), {t: r.missing for t, r in results.items()}
    assert (results["trackings"].moved, results["checkpoints"].moved) == (1, scans)


def test_every_declared_child_is_a_table_of_the_same_source_with_a_suite():
    links = [
        (source, table, child)
        for source, suites in RAW_SUITES.items()
        for table, suite in suites.items()
        for child in suite.children
    ]
    assert {(s, t, c.table) for s, t, c in links} >= {
        ("shopify", "orders", "order_line_items"),
        ("shopify", "refunds", "refund_line_items"),
        ("shopify", "fulfillments", "fulfillment_line_items"),
        ("shopify", "fulfillments", "fulfillment_tracking_numbers"),
        ("amazon", "orders", "order_items"),
        ("paypal", "transactions", "transaction_items"),
        ("tracking", "trackings", "checkpoints"),
    }
    for source, table, child in links:
        assert child.table in RAW_SUITES[source], (source, table, child)
        assert set(child.on.values()) <= set(RAW_SUITES[source][table].keys), child
