"""The Tradelane code location: assembles the asset domains in ``pipelines/defs``.

Everything runs in-process: DuckDB has one writer, so steps must not run in parallel processes
(DESIGN.md), and an in-process run avoids re-parsing dbt in every step.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.assets import tradelane_dbt_assets
from pipelines.defs.dbt.project import DBT_EXECUTABLE, dbt_project
from pipelines.defs.ingestion.assets import (
    raw_amazon_assets,
    raw_easypost_assets,
    raw_ecb_assets,
    raw_files_assets,
    raw_paypal_assets,
    raw_shopify_assets,
    raw_stripe_assets,
    raw_tracking_assets,
    raw_wms_assets,
)
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.routing.assets import order_routing
from pipelines.lib.resources import (
    PublishedCopyResource,
    RoutingRulesResource,
    WarehouseResource,
)

refresh_all = dg.define_asset_job(
    name="refresh_all",
    selection=dg.AssetSelection.all(),
    description="Load every source, build the marts, route orders and publish for dashboards.",
    executor_def=dg.in_process_executor,
)

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=refresh_all,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[
        raw_shopify_assets,
        raw_wms_assets,
        raw_ecb_assets,
        raw_stripe_assets,
        raw_paypal_assets,
        raw_amazon_assets,
        raw_tracking_assets,
        raw_files_assets,
        raw_easypost_assets,
        tradelane_dbt_assets,
        order_routing,
        published_warehouse,
    ],
    jobs=[refresh_all],
    schedules=[hourly_refresh],
    resources={
        "warehouse": WarehouseResource(),
        "published": PublishedCopyResource(),
        "routing_rules": RoutingRulesResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
    executor=dg.in_process_executor,
)
