"""Great Expectations suites for ``raw_wms`` (see ``ingestion.common.expectations``)."""

from __future__ import annotations

from typing import Any

from ingestion.common.expectations import TableSuite
from ingestion.wms.parsers import INBOUND_STATUSES, INBOUND_TYPES


def _warehouses_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToMatchRegex(column="country_code", regex=r"^[A-Z]{2}$"),
        e.ExpectColumnValuesToBeBetween(column="latitude", min_value=-90, max_value=90),
        e.ExpectColumnValuesToBeBetween(column="longitude", min_value=-180, max_value=180),
    ]


def _items_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToBeBetween(column="unit_cost", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="weight_g", min_value=0),
    ]


def _inventory_rules(e: Any) -> list[Any]:
    # on_hand may go negative (an oversell the WMS recorded); a reservation never does.
    return [e.ExpectColumnValuesToBeBetween(column="reserved", min_value=0)]


def _inbound_rules(e: Any) -> list[Any]:
    return [
        e.ExpectColumnValuesToBeBetween(column="quantity", min_value=1),
        e.ExpectColumnValuesToBeBetween(column="unit_cost", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="updated_at", column_B="created_at", or_equal=True
        ),
    ]


SUITES = {
    "warehouses": TableSuite(keys=("code",), extra=_warehouses_rules),
    "items": TableSuite(
        keys=("sku",), money=("unit_cost",), currencies=("cost_currency",), extra=_items_rules
    ),
    "inventory_levels": TableSuite(
        keys=("warehouse_code", "sku"), timestamps=("updated_at",), extra=_inventory_rules
    ),
    "inbound_orders": TableSuite(
        keys=("inbound_id",),
        money=("unit_cost",),
        currencies=("currency",),
        timestamps=("created_at", "expected_at", "received_at", "updated_at"),
        enums={"type": INBOUND_TYPES, "status": INBOUND_STATUSES},
        extra=_inbound_rules,
    ),
}
