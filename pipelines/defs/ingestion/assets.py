"""One multi-asset per dlt source, with one asset per raw table and one great-expectations
check per validated table.

We do not use ``dagster-dlt``'s ``@dlt_assets``: it makes one asset per dlt *resource*, while our
resources fan a parsed page out to several tables (orders, line items, quarantine). Declaring
each raw table here gives exact lineage to the dbt sources that read them.

The checks are evaluated inside the load step (``boundary.py`` says why): the step loads, runs
each table's suite, moves failing rows to quarantine, then reports each table's rows and each
check's failing counts and examples. A failed check is a warning, not a stop: the bad rows are
already out of the way and the run goes on.
"""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from ingestion.amazon import amazon_source
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.common.quarantine import QUARANTINE_TABLE
from ingestion.easypost import easypost_source
from ingestion.ecb import ecb_source
from ingestion.files import files_source
from ingestion.paypal import paypal_source
from ingestion.shopify import shopify_source
from ingestion.stripe import stripe_source
from ingestion.tracking import tracking_source
from ingestion.wms import wms_source
from pipelines.defs.ingestion.boundary import BoundaryResult, LoadedKeys, enforce_suite
from pipelines.defs.ingestion.suites import RAW_SUITES
from pipelines.lib.resources import WarehouseResource

SOURCE_FACTORIES: dict[str, Callable[..., Any]] = {
    # Shopify's finance tables (transactions, refunds, fulfillments, payouts) load when
    # SOURCES__SHOPIFY__FINANCE=true: they cost requests per order (README).
    "shopify": shopify_source,
    "wms": wms_source,
    "ecb": ecb_source,
    "stripe": stripe_source,
    "paypal": paypal_source,
    "amazon": amazon_source,
    "tracking": tracking_source,
    # Label postage and DDP duties the seller paid (margin after shipping and duties).
    "easypost": easypost_source,
    # File drops make no HTTP requests, so there are no request statistics to collect.
    "files": lambda stats: files_source(),
}

# Every raw table of each source: the validated ones, then the quarantine.
RAW_TABLES: dict[str, tuple[str, ...]] = {
    source: (*RAW_SUITES[source], QUARANTINE_TABLE) for source in SOURCE_FACTORIES
}
CHECK_NAME = "great_expectations"


def raw_asset_key(source: str, table: str) -> dg.AssetKey:
    """Matches dagster-dbt's key for ``source('raw_<source>', table)``."""
    return dg.AssetKey([f"raw_{source}", table])


def _check_spec(source: str, table: str) -> dg.AssetCheckSpec:
    suite = RAW_SUITES[source][table]
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=raw_asset_key(source, table),
        description=(
            f"Great Expectations on `raw_{source}.{table}`: key {', '.join(suite.keys)} not "
            "null and unique, exact money, ISO 4217 currencies, timestamps in range, known "
            "vocabularies and the table's own rules. Failing rows are quarantined."
        ),
    )


def _check_result(source: str, result: BoundaryResult) -> dg.AssetCheckResult:
    validation = result.validation
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(source, result.table),
        check_name=CHECK_NAME,
        passed=validation is None or validation.success,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows_validated": 0 if validation is None else validation.rows,
            "expectations": 0 if validation is None else len(validation.results),
            "rows_quarantined": result.quarantined,
            "failed_expectations": dg.MetadataValue.json(
                {} if validation is None else validation.as_metadata()
            ),
        },
    )


def _quarantine_total(warehouse: WarehouseResource, source: str) -> int:
    with warehouse.connect() as con:
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [f"raw_{source}", QUARANTINE_TABLE],
        ).fetchone()[0]
        if not found:
            return 0
        return con.execute(f'select count(*) from "raw_{source}"."{QUARANTINE_TABLE}"').fetchone()[
            0
        ]


def _make_raw_assets(source: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_asset_key(source, table),
            group_name="raw",
            kinds={"dlt", "duckdb"},
            description=f"`raw_{source}.{table}`, loaded by the `ingestion/{source}` dlt source.",
        )
        for table in RAW_TABLES[source]
    ]
    check_specs = [_check_spec(source, table) for table in RAW_SUITES[source]]

    @dg.multi_asset(name=f"raw_{source}", specs=specs, check_specs=check_specs, can_subset=False)
    def _load(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        stats = RequestStats()
        pipeline = make_pipeline(source, warehouse.resolved_path())
        # A package an interrupted run left is loaded first; its keys were never seen.
        resumed = pipeline.has_pending_data
        dlt_source = SOURCE_FACTORIES[source](stats=stats)
        loaded = LoadedKeys.watch(dlt_source, RAW_SUITES[source])
        summary = run_source(pipeline, dlt_source, source, stats)
        boundary = {
            table: enforce_suite(
                pipeline,
                warehouse.connect,
                source,
                table,
                suite,
                only=None if resumed else loaded.of(table),
            )
            for table, suite in RAW_SUITES[source].items()
        }
        with_parent: dict[str, int] = {}
        for result in boundary.values():
            for child, n in result.with_parent.items():
                with_parent[child] = with_parent.get(child, 0) + n
        by_expectations = sum(r.quarantined for r in boundary.values()) + sum(with_parent.values())
        total = _quarantine_total(warehouse, source)
        context.log.info(
            f"{source}: {summary.rows_by_table}; quarantined {summary.quarantined} by the "
            f"parsers and {by_expectations} by great-expectations, {sum(with_parent.values())} "
            f"of them with their parent ({total} in quarantine)"
        )
        run_metadata: dict[str, Any] = {
            "load_ids": ", ".join(summary.load_ids) or "none",
            **{f"http_{k}": v for k, v in summary.requests.items()},
        }
        for table in RAW_TABLES[source]:
            metadata: dict[str, Any] = {"rows_loaded": summary.rows_by_table.get(table, 0)}
            if table in boundary:
                # Rows of this table great-expectations moved to quarantine in this run, and
                # rows that followed a quarantined parent (an order's lines).
                metadata["quarantined_by_expectations"] = boundary[table].quarantined
                metadata["quarantined_with_parent"] = with_parent.get(table, 0)
            else:
                # The source's quarantine: this run's additions by cause, and what it holds.
                metadata["quarantined_records"] = summary.quarantined
                metadata["quarantined_by_expectations"] = by_expectations
                metadata["quarantine_total"] = total
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(source, table), metadata={**metadata, **run_metadata}
            )
        for result in boundary.values():
            yield _check_result(source, result)

    _load.__doc__ = (
        f"Load the {source} source into `raw_{source}` (dlt, merge, parquet), then hold every "
        "table to its great-expectations suite and quarantine the rows that fail it."
    )
    return _load


raw_shopify_assets = _make_raw_assets("shopify")
raw_wms_assets = _make_raw_assets("wms")
raw_ecb_assets = _make_raw_assets("ecb")
raw_stripe_assets = _make_raw_assets("stripe")
raw_paypal_assets = _make_raw_assets("paypal")
raw_amazon_assets = _make_raw_assets("amazon")
raw_tracking_assets = _make_raw_assets("tracking")
raw_files_assets = _make_raw_assets("files")
raw_easypost_assets = _make_raw_assets("easypost")
