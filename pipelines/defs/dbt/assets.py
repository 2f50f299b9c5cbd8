"""dbt models as assets. Models are keyed ``[<schema>, <model>]`` (``marts/fct_orders``) and
sources ``[raw_<source>, <table>]``, the keys the dlt multi-assets produce, so lineage runs from
the API all the way to the dashboard."""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from pipelines.defs.dbt.project import dbt_project
from pipelines.lib.resources import WarehouseResource


class TradelaneDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "dbt"


translator = TradelaneDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator)
def tradelane_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt build`: staging views, mart tables and every dbt test (reported as asset checks)."""
    # dbt's profiles.yml reads TRADELANE_WAREHOUSE; hand it the absolute path this run writes,
    # so dbt builds on exactly the file dlt loaded (dbt runs inside dbt_project/).
    os.environ["TRADELANE_WAREHOUSE"] = str(warehouse.resolved_path())
    yield from dbt.cli(["build"], context=context).stream()
