"""Every record a running sandbox serves, list by list, fetched the way the connectors fetch
them (their own clients and page walkers), keyed by the (api, entity) names of
``fault_data.SHAPES``. Used to check the ledger's ``malformed_records`` against what is really
served."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ingestion.amazon import client as amazon
from ingestion.amazon import settings as amazon_settings
from ingestion.common.http import ApiClient, load_json
from ingestion.common.rate_limit import TokenBucket
from ingestion.easypost import client as easypost
from ingestion.easypost import settings as easypost_settings
from ingestion.paypal import settings as paypal_settings
from ingestion.paypal.client import PayPalClient, SearchPage, iter_search
from ingestion.shopify import client as shopify
from ingestion.shopify import settings as shopify_settings
from ingestion.shopify.bulk import BulkRunner
from ingestion.stripe import client as stripe
from ingestion.stripe import settings as stripe_settings
from ingestion.tracking import client as tracking
from ingestion.tracking import settings as tracking_settings
from ingestion.wms import settings as wms_settings

Records = dict[tuple[str, str], list[dict[str, Any]]]
FAST = {"requests_per_second": 500.0, "burst": 500.0}
# (api, entity) -> where its primary key sits in a served record (as ``page_faults`` is told).
ID_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("shopify", "orders"): ("id",),
    # Each order's refunds and fulfillments as orders.json embeds them (a list of their own).
    ("shopify", "refunds"): ("id",),
    ("shopify", "fulfillments"): ("id",),
    # The bulk result's transactions, their gid read as the number the ledger lists.
    ("shopify_graphql", "transactions"): ("id",),
    ("amazon", "orders"): ("AmazonOrderId",),
    ("amazon", "order_items"): ("OrderItemId",),
    ("amazon", "order_report"): ("amazon-order-id", "sku"),
    **{("stripe", entity): ("id",) for entity in stripe_settings.OBJECTS},
    ("paypal", "transactions"): ("transaction_info.transaction_id",),
    ("aftership", "trackings"): ("tracking_number",),
    ("easypost", "shipments"): ("id",),
    ("wms", "items"): ("sku",),
    ("wms", "inventory"): ("warehouse_code", "sku"),
    **{
        ("shopify_finance", entity): ("id",)
        for entity in (
            "transactions",
            "refunds",
            "fulfillments",
            "fulfillment_events",
            "payouts",
            "disputes",
            "balance_transactions",
        )
    },
}


def record_id(record: Any, fields: tuple[str, ...]) -> str | None:
    """The record's id as the ledger writes it (composite keys joined by ``:``), or None when
    the record does not carry a usable one."""
    values = []
    for path in fields:
        node = record
        for step in path.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        if node is None or isinstance(node, dict | list | float):
            return None
        values.append(str(node))
    return ":".join(values)


def fetch_everything(url: str, since: datetime, parents: Records | None = None) -> Records:
    """Every record of every faulted list, in the order served (duplicates included).

    Per-order lists (Shopify finance, Amazon order items) are asked for the orders in
    ``parents`` (another walk's result: a malformed order may have lost its id on this
    server's pages), else for the orders this walk saw."""
    out: Records = {key: [] for key in ID_FIELDS}
    _shopify(url, out, (parents or out))
    _amazon(url, out, (parents or out))
    with stripe.make_client(url, stripe_settings.SANDBOX_API_KEY, 500.0, 500.0) as api:
        for entity in stripe_settings.OBJECTS:
            out[("stripe", entity)] = _flat(stripe.iter_list_pages(api, f"/v1/{entity}", None))
    with PayPalClient(
        url, paypal_settings.SANDBOX_CLIENT_ID, paypal_settings.SANDBOX_CLIENT_SECRET, **FAST
    ) as api:
        pages = (p.details for p in iter_search(api, since) if isinstance(p, SearchPage))
        out[("paypal", "transactions")] = _flat(pages)
    with tracking.make_client(
        url + tracking_settings.API_PATH, tracking_settings.SANDBOX_API_KEY, **FAST
    ) as api:
        walk = tracking.iter_tracking_pages(api, "2000-01-01T00:00:00Z")
        out[("aftership", "trackings")] = _flat(page.raw_trackings() for page, _ in walk)
    with easypost.make_client(url, easypost_settings.SANDBOX_API_KEY, 500.0) as api:
        walk = easypost.iter_shipment_pages(api, since - timedelta(days=400))
        out[("easypost", "shipments")] = _flat(walk)
    _wms(url, out)
    return out


def _flat(pages: Iterable[list[Any] | None]) -> list[dict[str, Any]]:
    return [record for page in pages for record in (page or [])]


def _shopify(url: str, out: Records, parents: Records) -> None:
    prefix = f"/admin/api/{shopify_settings.API_VERSION}"
    with shopify.make_client(url, shopify_settings.SANDBOX_ACCESS_TOKEN, **FAST) as api:
        orders = _flat(shopify.iter_order_pages(api, "2000-01-01T00:00:00Z", 250))
        # The embedded lists are faulted (and listed) apart from their order: compare each
        # on its own, and the orders without them.
        for entity in ("refunds", "fulfillments"):
            out[("shopify", entity)] = [
                record
                for order in orders
                if isinstance(order, dict)
                for record in (order.get(entity) or [])
            ]
        out[("shopify", "orders")] = [
            {k: v for k, v in order.items() if k not in ("refunds", "fulfillments")}
            if isinstance(order, dict)
            else order
            for order in orders
        ]
        served = parents[("shopify", "orders")]
        for order_id in sorted({o["id"] for o in served if isinstance(o.get("id"), int)}):
            # The per-order endpoints, as served (the connector reads refunds and
            # fulfillments from the order page instead, but these lists are what is served).
            for entity in ("transactions", "refunds", "fulfillments"):
                path = f"{prefix}/orders/{order_id}/{entity}.json"
                out[("shopify_finance", entity)] += _flat(
                    shopify.iter_linked_pages(api, path, None, entity)
                )
        for order_id, fulfillment_id in sorted(
            {
                (f["order_id"], f["id"])
                for f in parents[("shopify_finance", "fulfillments")]
                if isinstance(f.get("id"), int) and isinstance(f.get("order_id"), int)
            }
        ):
            path = f"{prefix}/orders/{order_id}/fulfillments/{fulfillment_id}/events.json"
            out[("shopify_finance", "fulfillment_events")] += _flat(
                shopify.iter_linked_pages(api, path, None, "fulfillment_events")
            )
        out[("shopify_graphql", "transactions")] = _bulk_transactions(api)
        lists = {
            "payouts": ("payouts.json", "payouts", {"date_min": "2000-01-01"}),
            "disputes": ("disputes.json", "disputes", {}),
            "balance_transactions": ("balance/transactions.json", "transactions", {}),
        }
        for entity, (path, key, params) in lists.items():
            out[("shopify_finance", entity)] = _flat(
                shopify.iter_linked_pages(
                    api, f"{prefix}/shopify_payments/{path}", {"limit": 250, **params}, key
                )
            )


def _bulk_transactions(api: ApiClient) -> list[dict[str, Any]]:
    """Every transaction of one bulk operation over all orders, ``id`` as its gid's number."""
    lines = BulkRunner(api).run("2000-01-01T00:00:00Z").splitlines()
    out = []
    for order in (load_json(line) for line in lines):
        for t in order["transactions"]:
            gid = t.get("id") if isinstance(t, dict) else None
            if isinstance(gid, str) and gid.rsplit("/", 1)[-1].isdigit():
                t = {**t, "id": int(gid.rsplit("/", 1)[-1])}
            out.append(t)
    return out


def _amazon(url: str, out: Records, parents: Records) -> None:
    token = amazon_settings.SANDBOX_ACCESS_TOKEN
    with amazon.make_client(url, token, "getOrders", 500.0, 500.0) as api:
        orders = _flat(
            amazon.iter_order_pages(
                api, amazon_settings.DEFAULT_MARKETPLACE_IDS, "2000-01-01T00:00:00Z"
            )
        )
    out[("amazon", "orders")] = orders
    with amazon.make_client(url, token, "getOrderItems", 500.0, 500.0) as api:
        served = parents[("amazon", "orders")]
        for order_id in sorted({o.get("AmazonOrderId") for o in served} - {None}):
            out[("amazon", "order_items")] += _flat(amazon.iter_order_items(api, order_id))
    out[("amazon", "order_report")] = _amazon_report_rows(url, token)


def _amazon_report_rows(url: str, token: str) -> list[dict[str, Any]]:
    """Every row of the All Orders report of every marketplace, as text cells."""
    from ingestion.amazon import reports

    with (
        amazon.make_client(url, token, "reports", 500.0, 500.0) as api,
        ApiClient("download", "", {}, TokenBucket(rate_per_s=500.0, capacity=500.0)) as download,
    ):
        ids = reports.create_reports(
            api, amazon_settings.DEFAULT_MARKETPLACE_IDS, "2000-01-01T00:00:00Z"
        )
        rows: list[dict[str, Any]] = []
        for report in reports.wait_for_reports(api, ids, poll_initial_s=0.0):
            if report.document_id is not None:
                content = reports.download_document(api, download, report.document_id)
                rows += reports.read_report(content).to_dicts()
        return rows


def _wms(url: str, out: Records) -> None:
    api = ApiClient(
        api="wms",
        base_url=url,
        headers={"Authorization": f"Bearer {wms_settings.SANDBOX_API_TOKEN}"},
        bucket=TokenBucket(rate_per_s=500.0, capacity=500.0),
    )
    with api:
        for entity, path, key in (
            ("items", "/wms/v1/items", "items"),
            ("inventory", "/wms/v1/inventory", "inventory_levels"),
        ):
            cursor = None
            while True:
                params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                body = load_json(api.get(path, params=params).content)
                out[("wms", entity)] += body[key]
                cursor = body.get("next_cursor")
                if not cursor:
                    break
