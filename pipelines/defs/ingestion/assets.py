"""One multi-asset per dlt source, with one asset per raw table.

We do not use ``dagster-dlt``'s ``@dlt_assets``: it makes one asset per dlt *resource*, while our
resources fan a parsed page out to several tables (orders, line items, quarantine). Declaring
each raw table here gives exact lineage to the dbt sources that read them.
"""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from ingestion.amazon import amazon_source
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.ecb import ecb_source
from ingestion.files import files_source
from ingestion.paypal import paypal_source
from ingestion.shopify import shopify_source
from ingestion.stripe import stripe_source
from ingestion.tracking import tracking_source
from ingestion.wms import wms_source
from pipelines.lib.resources import WarehouseResource

RAW_TABLES: dict[str, tuple[str, ...]] = {
    # The finance tables load only with SOURCES__SHOPIFY__FINANCE=true; until then the dbt
    # staging models read an empty stand-in (macro `source_or_empty`).
    "shopify": (
        "orders",
        "order_line_items",
        "transactions",
        "refunds",
        "refund_line_items",
        "fulfillments",
        "fulfillment_tracking_numbers",
        "fulfillment_line_items",
        "payouts",
        "quarantine",
    ),
    "wms": ("warehouses", "items", "inventory_levels", "quarantine"),
    "ecb": ("rates", "quarantine"),
    "stripe": ("balance_transactions", "charges", "refunds", "disputes", "payouts", "quarantine"),
    "paypal": ("transactions", "transaction_items", "quarantine"),
    "files": ("orders", "order_lines", "quarantine"),
    "amazon": ("orders", "order_items", "quarantine"),
    "tracking": ("trackings", "checkpoints", "quarantine"),
}

SOURCE_FACTORIES: dict[str, Callable[..., Any]] = {
    "shopify": shopify_source,
    "wms": wms_source,
    "ecb": ecb_source,
    "stripe": stripe_source,
    "paypal": paypal_source,
    # File drops make no HTTP requests, so there are no request statistics to collect.
    "files": lambda stats: files_source(),
    "amazon": amazon_source,
    "tracking": tracking_source,
}


def raw_asset_key(source: str, table: str) -> dg.AssetKey:
    """Matches dagster-dbt's key for ``source('raw_<source>', table)``."""
    return dg.AssetKey([f"raw_{source}", table])


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

    @dg.multi_asset(name=f"raw_{source}", specs=specs, can_subset=False)
    def _load(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        stats = RequestStats()
        pipeline = make_pipeline(source, warehouse.resolved_path())
        summary = run_source(pipeline, SOURCE_FACTORIES[source](stats=stats), source, stats)
        context.log.info(f"{source}: {summary.rows_by_table} ({summary.quarantined} quarantined)")
        for table in RAW_TABLES[source]:
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(source, table),
                metadata={
                    "rows_loaded": summary.rows_by_table.get(table, 0),
                    "quarantined_records": summary.quarantined,
                    "load_ids": ", ".join(summary.load_ids) or "none",
                    **{f"http_{k}": v for k, v in summary.requests.items()},
                },
            )

    _load.__doc__ = f"Load the {source} source into `raw_{source}` (dlt, merge, parquet)."
    return _load


raw_shopify_assets = _make_raw_assets("shopify")
raw_wms_assets = _make_raw_assets("wms")
raw_ecb_assets = _make_raw_assets("ecb")
raw_stripe_assets = _make_raw_assets("stripe")
raw_paypal_assets = _make_raw_assets("paypal")
raw_files_assets = _make_raw_assets("files")
raw_amazon_assets = _make_raw_assets("amazon")
raw_tracking_assets = _make_raw_assets("tracking")
