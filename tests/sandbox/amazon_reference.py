"""The per-order SP-API ``Order`` renderer the server used before rendering went column-wise:
the reference ``test_amazon_rendering`` holds ``amazon_render.orders_json`` to (same parsed
JSON, same key order, for every order).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingestion.sandbox.amazon_render import (
    MARKETPLACES,
    Lookups,
    _address,
    _buyer_info,
    _is_business,
    _money,
    _payment_method,
    _per_mille,
    _service_level,
    page_frame,
    ship_from_address,
)
from ingestion.sandbox.money import formatter


def render_order(o: dict[str, Any], lookups: Lookups) -> dict[str, Any]:
    """One SP-API ``Order`` from a row of ``page_frame``."""
    oid = o["order_id"]
    status = o["order_status"]
    afn = o["fulfillment_channel"] == "AFN"
    sales_channel, tld, _ = MARKETPLACES.get(o["marketplace_id"], ("Non-Amazon", "com", ""))
    cur = o["currency"]
    method, method_details = _payment_method(o)
    category, level = _service_level(o)
    unshipped = o["qty_ordered"] - o["qty_shipped"]
    out: dict[str, Any] = {
        "AmazonOrderId": o["external_order_id"],
        "SellerOrderId": o["name"] or o["external_order_id"],
        "PurchaseDate": o["PurchaseDate"],
        "LastUpdateDate": o["LastUpdateDate"],
        "OrderStatus": status,
        "FulfillmentChannel": o["fulfillment_channel"],
        "SalesChannel": sales_channel,
        "ShipServiceLevel": level,
    }
    if status != "Canceled":
        out["OrderTotal"] = _money(cur, formatter(cur), o["total_price_minor"])
    out |= {
        "NumberOfItemsShipped": o["qty_shipped"],
        "NumberOfItemsUnshipped": 0 if status == "Canceled" else unshipped,
        "PaymentMethod": method,
        "PaymentMethodDetails": method_details,
        "MarketplaceId": o["marketplace_id"],
        "ShipmentServiceLevelCategory": category,
        "OrderType": "StandardOrder",
        "EarliestShipDate": o["EarliestShipDate"],
        "LatestShipDate": o["LatestShipDate"],
    }
    if not afn:
        out["EarliestDeliveryDate"] = o["EarliestDeliveryDate"]
        out["LatestDeliveryDate"] = o["LatestDeliveryDate"]
    business = _is_business(oid)
    out |= {
        "IsBusinessOrder": business,
        "IsPrime": afn and _per_mille(oid, 6) < 800,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsIBA": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if business:
        out["BuyerInvoicePreference"] = "BUSINESS"
    warehouse = lookups.warehouses.get(o["ship_from"]) if o["ship_from"] else None
    if warehouse is not None and not afn:
        out["DefaultShipFromLocationAddress"] = ship_from_address(warehouse)
        out["FulfillmentInstruction"] = {"FulfillmentSupplySourceId": str(warehouse["code"])}
    if status != "Pending" and o["c_country_code"] is not None:
        out["ShippingAddress"] = _address(o)
    out["BuyerInfo"] = _buyer_info(o, tld)
    out["AutomatedShippingSettings"] = {"HasAutomatedShippingSettings": False}
    return out


def render_orders(page: pl.DataFrame, lookups: Lookups) -> list[dict[str, Any]]:
    """Every row of ``page`` (rows of ``amazon_orders``) as SP-API ``Order`` dicts."""
    return [render_order(o, lookups) for o in page_frame(page, lookups)]
