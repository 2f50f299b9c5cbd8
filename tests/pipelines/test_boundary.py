"""The great-expectations boundary: a raw row that breaks its table's suite leaves the raw
table for the quarantine (with the expectations it broke and the row itself) before dbt can
read it; the check reports counts and examples; running it again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from ingestion.common.pipeline import make_pipeline, run_source
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
