"""Warehouse management system source: warehouses, SKU master, inventory levels and inbound
orders (supplier purchase orders and transfers) into ``raw_wms``.

Warehouses and items are merged on their codes, so a warehouse or SKU the WMS stops listing
keeps its history. Inventory levels are incremental on ``updated_at`` with a lookback, merged
on (warehouse_code, sku). Inbound orders are incremental on ``updated_at`` with their own
cursor and a longer lookback (a receipt is booked after the fact), merged on ``inbound_id``.
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
    INBOUND_ORDERS_SCHEMA,
    INVENTORY_LEVELS_SCHEMA,
    ITEMS_SCHEMA,
    WAREHOUSES_SCHEMA,
    ParsedPage,
    parse_inbound_order,
    parse_inventory_level,
    parse_item,
    parse_page,
    parse_warehouse,
)
from tradelane import settings as tradelane_settings

CURSOR_STATE_KEY = "inventory_updated_at_cursor"
INBOUND_CURSOR_STATE_KEY = "inbound_updated_at_cursor"
_MERGE = {"disposition": "merge", "strategy": "delete-insert"}


@dlt.source(name="wms", max_table_nesting=0)
def wms_source(
    base_url: str | None = dlt.config.value,
    api_token: str | None = dlt.secrets.value,
    start_date: str = settings.DEFAULT_START,
    lookback_seconds: int = settings.LOOKBACK_SECONDS,
    inbound_lookback_seconds: int = settings.INBOUND_LOOKBACK_SECONDS,
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    burst: float = settings.BURST,
    page_size: int = settings.PAGE_SIZE,
    stats: RequestStats | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """Warehouses, items, inventory levels and inbound orders of one WMS (the sandbox unless
    configured)."""
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

    def incremental_pages(
        path: str,
        key: str,
        state_key: str,
        lookback: int,
        entity: str,
        parse_one: Any,
        schema: Any,
        id_fields: tuple[str, ...],
    ) -> Iterator[ParsedPage]:
        """Rows changed since the cursor minus ``lookback``; the cursor (the latest
        ``updated_at`` seen) lives in the calling resource's state, committed by dlt with the
        data."""
        state = dlt.current.resource_state()
        cursor = utc_timestamp(state.get(state_key, start_date), "cursor")
        since = (cursor - timedelta(seconds=lookback)).isoformat()
        for records in pages(path, key, {"limit": page_size, "updated_since": since}):
            parsed = parse_page(records, entity, parse_one, schema, id_fields)
            if parsed.max_updated_at is not None and parsed.max_updated_at > cursor:
                cursor = parsed.max_updated_at
                state[state_key] = cursor.isoformat()
            yield parsed

    @dlt.resource(name="inventory_pages", selected=False)
    def inventory_pages() -> Iterator[ParsedPage]:
        yield from incremental_pages(
            "/wms/v1/inventory",
            "inventory_levels",
            CURSOR_STATE_KEY,
            lookback_seconds,
            "inventory_level",
            parse_inventory_level,
            INVENTORY_LEVELS_SCHEMA,
            ("warehouse_code", "sku"),
        )

    @dlt.resource(name="inbound_pages", selected=False)
    def inbound_pages() -> Iterator[ParsedPage]:
        yield from incremental_pages(
            "/wms/v1/inbound_orders",
            "inbound_orders",
            INBOUND_CURSOR_STATE_KEY,
            inbound_lookback_seconds,
            "inbound_order",
            parse_inbound_order,
            INBOUND_ORDERS_SCHEMA,
            ("inbound_id",),
        )

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
    inbound_orders = dlt.transformer(
        rows_of,
        data_from=inbound_pages,
        name="inbound_orders",
        primary_key="inbound_id",
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
        for parent in (warehouse_pages, item_pages, inventory_pages, inbound_pages)
    ]
    return (
        warehouse_pages,
        item_pages,
        inventory_pages,
        inbound_pages,
        warehouses,
        items,
        inventory_levels,
        inbound_orders,
        *quarantines,
    )
