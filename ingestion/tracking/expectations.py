"""Great Expectations suites for ``raw_tracking``, run on DataFrames at the boundary.

The parser refuses trackings that cannot be read exactly; these suites check what parses but
should not exist in a healthy load (a status AfterShip does not define, an update before the
tracking existed, an offset no place on Earth uses), so an asset check can flag the run. They
validate pandas frames (GE's SQL datasource fails every expectation on DuckDB, DESIGN.md), and
``great_expectations`` is imported only when a suite runs: importing it costs about 6 s.
"""

from __future__ import annotations

from typing import Any

# AfterShip's delivery statuses ("tag").
TAGS = [
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
]


def trackings_expectations(gx: Any) -> list[Any]:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="tracking_id"),
        e.ExpectColumnValuesToBeUnique(column="tracking_id"),
        e.ExpectColumnValuesToNotBeNull(column="tracking_number"),
        e.ExpectColumnValuesToBeInSet(column="tag", value_set=TAGS),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ]


def checkpoints_expectations(gx: Any) -> list[Any]:
    e = gx.expectations
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["tracking_id", "seq"]),
        e.ExpectColumnValuesToBeInSet(column="tag", value_set=TAGS),
        # UTC-12:00 (Baker Island) to UTC+14:00 (Kiribati).
        e.ExpectColumnValuesToBeBetween(
            column="checkpoint_utc_offset_minutes", min_value=-720, max_value=840
        ),
    ]


SUITES = {"trackings": trackings_expectations, "checkpoints": checkpoints_expectations}


def validate(table: str, frame: Any) -> tuple[bool, dict[str, Any]]:
    """Run the suite of ``raw_tracking.<table>`` on a pandas frame: (success, per-expectation
    detail with unexpected counts and a few examples), for an asset check's metadata."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("raw_tracking")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"raw_tracking_{table}"))
    for expectation in SUITES[table](gx):
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
