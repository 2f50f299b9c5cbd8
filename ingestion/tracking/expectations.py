"""Great Expectations suites for ``raw_tracking`` (see ``ingestion.common.expectations``).

Besides the checks every raw table gets, these state what parses but should not exist in a
healthy load: a status AfterShip does not define, an update before the tracking existed, an
offset no place on Earth uses.
"""

from __future__ import annotations

from typing import Any

from ingestion.common.expectations import Child, TableSuite

# AfterShip's delivery statuses ("tag").
TAGS = (
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
)


def _trackings_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToNotBeNull(column="tracking_number"),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ]


def _checkpoints_rules(e: Any) -> list[Any]:
    # UTC-12:00 (Baker Island) to UTC+14:00 (Kiribati).
    return [
        e.ExpectColumnValuesToBeBetween(
            column="checkpoint_utc_offset_minutes", min_value=-720, max_value=840
        )
    ]


SUITES = {
    "trackings": TableSuite(
        keys=("tracking_id",),
        timestamps=("created_at", "updated_at"),
        enums={"tag": TAGS},
        extra=_trackings_rules,
        children=(Child("checkpoints", {"tracking_id": "tracking_id"}),),
    ),
    "checkpoints": TableSuite(
        keys=("tracking_id", "seq"),
        timestamps=("checkpoint_time",),
        enums={"tag": TAGS},
        extra=_checkpoints_rules,
    ),
}
