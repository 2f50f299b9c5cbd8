"""Great Expectations suite for ``raw_easypost`` (see ``ingestion.common.expectations``).

Besides the checks every raw table gets, these state what parses but should not exist in a
healthy load: negative postage, a DDP parcel's duties without a currency, a change stamped
before the label was bought.
"""

from __future__ import annotations

from typing import Any

from ingestion.common.expectations import TableSuite


def _shipments_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToBeBetween(column="postage_amount", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="label_fee_amount", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="duty_amount", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="import_tax_amount", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ]


SUITES = {
    "shipments": TableSuite(
        keys=("id",),
        timestamps=("created_at", "updated_at"),
        currencies=("fee_currency",),
        extra=_shipments_rules,
    ),
}
