"""Warehouse management system source: warehouses, SKU master and inventory levels into
``raw_wms``.

Warehouses and items are merged on their codes, so a warehouse or SKU the WMS stops listing
keeps its history. Inventory levels are incremental on
``updated_at`` with a lookback, merged on (warehouse_code, sku).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dlt

from ingestion.common.http import ApiClient, RequestStats, load_json
from ingestion.common.parsing import utc_timestamp
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE
from ingestion.common.rate_limit import TokenBucket
from ingestion.wms import settings
from ingestion.wms.parsers import (
    INVENTORY_LEVELS_SCHEMA,
    ITEMS_SCHEMA,
    WAREHOUSES_SCHEMA,
    ParsedPage,
    parse_inventory_level,
    parse_item,
    parse_page,
    parse_warehouse,
)
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "inventory_updated_at_cursor"
_MERGE = {"disposition": "merge", "strategy": "delete-insert"}


@dlt.source(name="wms", max_table_nesting=0)
def wms_source(
    base_url: str | None = dlt.config.value,
    api_token: str | None = dlt.secrets.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Warehouses, items and inventory levels of one WMS (the sandbox unless configured)."""
    base_url = base_url or tradelane_settings.sandbox_url()
    api_token = api_token or settings.SANDBOX_API_TOKEN

    def client() -> ApiClient:
        c = ApiClient(
            api="wms",
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_token}", "Accept": "application/json"},
            bucket=TokenBucket(rate_per_s=requests_per_second, capacity=burst),
            **(client_options or {}),
        )
        if stats is not None:
            c.stats = stats
        return c

    def pages(path: str, key: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        """Keyset pagination: follow ``next_cursor`` until the WMS returns null."""
        with client() as api:
            cursor: str | None = None
            while True:
                body = load_json(
                    api.get(
                        path, params={**params, **({"cursor": cursor} if cursor else {})}
                    ).content
                )
                yield body[key]
                cursor = body.get("next_cursor")
                if not cursor:
                    return

    @dlt.resource(name="warehouse_pages", selected=False)
    def warehouse_pages() -> Iterator[ParsedPage]:
        with client() as api:
            body = load_json(api.get("/wms/v1/warehouses").content)
        yield parse_page(
            body["warehouses"], "warehouse", parse_warehouse, WAREHOUSES_SCHEMA, ("code",)
        )

    @dlt.resource(name="item_pages", selected=False)
    def item_pages() -> Iterator[ParsedPage]:
        for records in pages("/wms/v1/items", "items", {"limit": page_size}):
            yield parse_page(records, "item", parse_item, ITEMS_SCHEMA, ("sku",))

    @dlt.resource(name="inventory_pages", selected=False)
    def inventory_pages() -> Iterator[ParsedPage]:
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(CURSOR_STATE_KEY, start_date), "cursor")
        since = (cursor - timedelta(seconds=lookback_seconds)).isoformat()
        params = {"limit": page_size, "updated_since": since}
        for records in pages("/wms/v1/inventory", "inventory_levels", params):
            parsed = parse_page(
                records,
                "inventory_level",
                parse_inventory_level,
                INVENTORY_LEVELS_SCHEMA,
                ("warehouse_code", "sku"),
            )
            if parsed.max_updated_at is not None and parsed.max_updated_at > cursor:
                cursor = parsed.max_updated_at
                state[CURSOR_STATE_KEY] = cursor.isoformat()
            yield parsed

    def rows_of(page: ParsedPage) -> Iterator[Any]:
        if page.rows.num_rows:
            yield page.rows

    warehouses = dlt.transformer(
        rows_of,
        data_from=warehouse_pages,
        name="warehouses",
        primary_key="code",
        write_disposition=_MERGE,
        schema_contract={"data_type": "freeze"},
    )
    items = dlt.transformer(
        rows_of,
        data_from=item_pages,
        name="items",
        primary_key="sku",
        write_disposition=_MERGE,
        schema_contract={"data_type": "freeze"},
    )
    inventory_levels = dlt.transformer(
        rows_of,
        data_from=inventory_pages,
        name="inventory_levels",
        primary_key=["warehouse_code", "sku"],
        write_disposition=_MERGE,
        columns={"updated_at": {"dedup_sort": "desc"}},
        schema_contract={"data_type": "freeze"},
    )

    def quarantined_of(page: ParsedPage) -> Iterator[Any]:
        if len(page.quarantine):
            yield page.quarantine.to_arrow()

    # One quarantine resource per parent, all writing the dataset's single quarantine table.
    quarantines = [
        dlt.transformer(
            quarantined_of,
            data_from=parent,
            name=f"{parent.name}_quarantine",
            table_name=QUARANTINE_TABLE,
            **QUARANTINE_HINTS,
        )
        for parent in (warehouse_pages, item_pages, inventory_pages)
    ]
    return (
        warehouse_pages,
        item_pages,
        inventory_pages,
        warehouses,
        items,
        inventory_levels,
        *quarantines,
    )
