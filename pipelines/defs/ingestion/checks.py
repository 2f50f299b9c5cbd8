"""Great Expectations at the boundary: validate raw orders as a DataFrame (the pandas path;
GE's SQL datasource on DuckDB fails every expectation, DESIGN.md). ``great_expectations`` is
imported inside the check because importing it costs about 6 s."""

from typing import Any

import dagster as dg

from pipelines.defs.ingestion.assets import raw_asset_key
from pipelines.lib.resources import WarehouseResource

KNOWN_FINANCIAL_STATUSES = [
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
]


def validate_raw_orders(frame: Any) -> tuple[bool, dict[str, Any]]:
    """Run the raw-orders suite on a pandas frame; returns success and per-expectation detail."""
    import great_expectations as gx
    import pycountry

    currencies = sorted(c.alpha_3 for c in pycountry.currencies)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("raw_shopify")
        .add_dataframe_asset("orders")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(name="raw_shopify_orders"))
    for expectation in (
        gx.expectations.ExpectColumnValuesToNotBeNull(column="id"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="name"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="currency", value_set=currencies),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="presentment_currency", value_set=currencies
        ),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="financial_status", value_set=KNOWN_FINANCIAL_STATUSES
        ),
        gx.expectations.ExpectColumnValuesToBeBetween(column="total_price", min_value=0),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ):
        suite.add_expectation(expectation)
    result = batch.validate(suite)
    detail = {}
    for r in result.results:
        kwargs = r.expectation_config.kwargs
        column = kwargs.get("column") or kwargs.get("column_A")
        detail[f"{r.expectation_config.type}({column})"] = {
            "success": r.success,
            "unexpected": r.result.get("unexpected_count", 0),
            "examples": [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
        }
    return bool(result.success), detail


@dg.asset_check(
    asset=raw_asset_key("shopify", "orders"),
    description="Great Expectations suite on raw Shopify orders: keys, ISO currencies, known "
    "statuses, non-negative totals, updated_at not before created_at.",
)
def raw_shopify_orders_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        frame = con.execute(
            "select id, name, currency, presentment_currency, financial_status, total_price, "
            "created_at, updated_at from raw_shopify.orders"
        ).df()
    success, detail = validate_raw_orders(frame)
    failed = {k: v for k, v in detail.items() if not v["success"]}
    return dg.AssetCheckResult(
        passed=success,
        metadata={
            "rows_validated": len(frame),
            "expectations": len(detail),
            "failed_expectations": dg.MetadataValue.json(failed),
        },
    )
