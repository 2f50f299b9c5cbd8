"""Great Expectations suites for ``raw_amazon``, run on DataFrames at the boundary.

The parsers refuse records that cannot be read exactly; these suites check what parses but
should not exist in a healthy load (an unknown status, an item shipped more often than
ordered, an update before the purchase), so an asset check can flag the run. They validate
pandas frames (GE's SQL datasource fails every expectation on DuckDB, DESIGN.md), and
``great_expectations`` is imported only when a suite runs: importing it costs about 6 s.
"""

from __future__ import annotations

from typing import Any

ORDER_STATUSES = [
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
]
ORDER_ID_PATTERN = r"^\d{3}-\d{7}-\d{7}$"


def orders_expectations(gx: Any, currencies: list[str]) -> list[Any]:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="amazon_order_id"),
        e.ExpectColumnValuesToBeUnique(column="amazon_order_id"),
        e.ExpectColumnValuesToMatchRegex(column="amazon_order_id", regex=ORDER_ID_PATTERN),
        e.ExpectColumnValuesToBeInSet(column="order_status", value_set=ORDER_STATUSES),
        e.ExpectColumnValuesToBeInSet(column="fulfillment_channel", value_set=["AFN", "MFN"]),
        e.ExpectColumnValuesToBeInSet(column="order_total_currency", value_set=currencies),
        e.ExpectColumnValuesToBeBetween(column="order_total", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_update_date", column_B="purchase_date", or_equal=True
        ),
    ]


def order_items_expectations(gx: Any, currencies: list[str]) -> list[Any]:
    e = gx.expectations
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["amazon_order_id", "order_item_id"]),
        e.ExpectColumnValuesToNotBeNull(column="quantity_ordered"),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="quantity_ordered",
            column_B="quantity_shipped",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        e.ExpectColumnValuesToBeInSet(column="item_price_currency", value_set=currencies),
        e.ExpectColumnValuesToBeBetween(column="item_price", min_value=0),
    ]


SUITES = {"orders": orders_expectations, "order_items": order_items_expectations}


def validate(table: str, frame: Any) -> tuple[bool, dict[str, Any]]:
    """Run the suite of ``raw_amazon.<table>`` on a pandas frame: (success, per-expectation
    detail with unexpected counts and a few examples), for an asset check's metadata."""
    import great_expectations as gx
    import pycountry

    currencies = sorted(c.alpha_3 for c in pycountry.currencies)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("raw_amazon")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"raw_amazon_{table}"))
    for expectation in SUITES[table](gx, currencies):
        suite.add_expectation(expectation)
    result = batch.validate(suite)
    detail = {}
    for r in result.results:
        kwargs = r.expectation_config.kwargs
        columns = kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list")
        detail[f"{r.expectation_config.type}({columns})"] = {
            "success": r.success,
            "unexpected": r.result.get("unexpected_count", 0),
            "examples": [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
        }
    return bool(result.success), detail
