"""Publish the marts and actions for dashboards: copy, then atomically swap the pointer."""

import dagster as dg

from pipelines.lib.resources import PublishedCopyResource, WarehouseResource
from tradelane.published import PUBLISHED_SCHEMAS, publish


@dg.asset(
    key=["published", "warehouse_copy"],
    group_name="publish",
    kinds={"duckdb"},
    deps=[
        dg.AssetKey(["actions", "order_routing"]),
        dg.AssetKey(["marts", "fct_orders"]),
        dg.AssetKey(["marts", "fct_order_lines"]),
        dg.AssetKey(["marts", "fct_inventory_levels"]),
        dg.AssetKey(["marts", "dim_products"]),
        dg.AssetKey(["marts", "dim_warehouses"]),
    ],
)
def published_warehouse(
    warehouse: WarehouseResource, published: PublishedCopyResource
) -> dg.MaterializeResult:
    """A new versioned read-only copy of the marts and action tables; dashboards read only this,
    so they never hold a lock on the warehouse the pipeline writes."""
    path = publish(warehouse.resolved_path(), published.resolved_dir())
    return dg.MaterializeResult(
        metadata={
            "published_file": dg.MetadataValue.path(str(path)),
            "schemas": ", ".join(PUBLISHED_SCHEMAS),
            "size_mb": round(path.stat().st_size / 1e6, 2),
        }
    )
