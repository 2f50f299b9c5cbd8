"""Render ledger orders of the Amazon channels as SP-API Orders v0 objects, as of the clock.

Why this shape: connectors are written against Amazon's real payloads, so every field path and
JSON type of the official examples (``shared/fixtures/api/amazon_sp_api/get*.json``) is emitted
here with values derived from the ledger: money as ``{"CurrencyCode", "Amount"}`` with the
amount a string formatted from integer minor units, times in UTC with ``Z`` to the second,
``OrderStatus`` derived from the events that happened by the clock, ``FulfillmentChannel`` AFN
when an FBA warehouse ships the order.

Amazon's own quirks are reproduced on purpose, because connectors must survive them:
- ``Pending`` orders (payment not yet authorised, or held for a fraud review) carry no
  ``ShippingAddress`` and their items carry no prices, taxes or promotions (getOrderItems
  reference: "does not return information about pricing ... for the order items" while
  Pending).
- ``Canceled`` orders carry no ``OrderTotal``.
- ``ItemPrice`` is the price of the whole line (unit price times quantity), not of one unit.
- Absent values are left out rather than sent as ``null``.
- Rarer fields (gift wrap, customisation, points in Japan, cash on delivery, business orders,
  scheduled delivery, serial numbers, used-condition notes) appear on a deterministic share of
  records chosen from the ids, so the same seed serves the same payloads.

Speed matters: ``orders_json`` renders orders as JSON text column-wise, a page and the orders
after it at a time, and ``api_amazon`` caches them per order (``render_cache``), so a getOrders
page is a byte-join; the single-order operations and getOrderItems build dicts from one row
(``page_frame``), getOrderItems once per version of the order. ``all_orders_report`` renders
the report rows of the orders of one report's window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import polars as pl

from ingestion.sandbox.jsonfrag import Maybe, Raw, money, obj, scale_of, truthy
from ingestion.sandbox.jsonfrag import mix as mix_expr
from ingestion.sandbox.money import formatter

# Marketplace id -> (SalesChannel, buyer e-mail domain suffix, tax-collecting Amazon entity).
MARKETPLACES: dict[str, tuple[str, str, str]] = {
    "ATVPDKIKX0DER": ("Amazon.com", "com", "Amazon Services, Inc."),
    "A1PA6795UKMFR9": ("Amazon.de", "de", "Amazon Services Europe S.a.r.L."),
    "A1F83G8C2ARO7P": ("Amazon.co.uk", "co.uk", "Amazon Services Europe S.a.r.L."),
    "A1VC38T7YXB528": ("Amazon.co.jp", "co.jp", "Amazon Japan G.K."),
}
ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
)
FULFILLMENT_CHANNELS = ("AFN", "MFN")
_AMAZON_TIME = "%Y-%m-%dT%H:%M:%SZ"
_MASK64 = (1 << 64) - 1
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def mix(value: int, salt: int) -> int:
    """A stable 64-bit scramble of an id (splitmix64 finaliser): decides the rare fields of a
    record deterministically, without Python's salted ``hash``."""
    z = (value * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _per_mille(value: int, salt: int) -> int:
    return mix(value, salt) % 1000


def _base36(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, r = divmod(value, 36)
        chars.append(_BASE36[r])
    return "".join(chars)


def order_item_id(line_id: int) -> str:
    """Amazon's OrderItemId: a string of 14 digits (derived from the ledger's line id)."""
    return f"{line_id % 10**14:014d}"


def _at_or_before(column: str, now: pl.Expr) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column) <= now)


def is_pending(t: pl.Expr) -> pl.Expr:
    """Whether an order (ledger columns) is ``Pending`` at ``t`` unless it is cancelled by then:
    payment not yet authorised, or held for a fraud review and not released. Its items then
    carry no prices; reconcile expects exactly what this rule serves."""
    held = _at_or_before("held_at", t) & ~_at_or_before("released_at", t)
    return ~_at_or_before("paid_at", t) | held


def amazon_orders(
    orders: pl.DataFrame,
    channels: pl.DataFrame,
    order_lines: pl.DataFrame,
    shipments: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    warehouses: pl.DataFrame,
    now: datetime,
    allocations: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Orders of the Amazon channels created by ``now``, with what SP-API derives as of
    ``now``: ``order_status``, ``fulfillment_channel``, ``last_update`` (the latest status
    change), item counts, the shipping warehouse, and the integer sort keys ``purchase_us`` /
    ``update_us`` (epoch microseconds). Sorted by (``update_us``, ``external_order_id``).

    Event columns are compared with ``now`` here, so the result is right whether the tables
    passed in are masked as of ``now`` or hold every event up to the world's horizon.
    ``allocations`` (``order_id``, ``warehouse_code`` of every shipment the ledger will ever
    make) tells AFN from MFN before an order ships, as Amazon knows it at purchase; without it
    only shipped orders can be AFN."""
    t = pl.lit(now).cast(pl.Datetime("us", "UTC"))
    amazon = channels.filter(pl.col("platform") == "amazon").select(
        "channel_id", "marketplace_id", pl.col("country_code").alias("marketplace_country")
    )
    base = orders.filter(pl.col("created_at") <= t).join(amazon, on="channel_id", how="inner")
    ids = base.select("order_id")
    ordered = (
        order_lines.join(ids, on="order_id", how="semi")
        .group_by("order_id")
        .agg(qty_ordered=pl.col("quantity").sum())
    )
    ships = shipments.join(ids, on="order_id", how="semi").join(
        warehouses.select(pl.col("code").alias("warehouse_code"), "kind"),
        on="warehouse_code",
        how="left",
    )
    per_order = ships.group_by("order_id").agg(
        is_afn=(pl.col("kind") == "fba").any(),
        ship_from=pl.col("warehouse_code").sort_by("shipped_at").first(),
        last_shipped_at=pl.col("shipped_at").filter(_at_or_before("shipped_at", t)).max(),
    )
    if allocations is not None:
        # The warehouse is decided when the order is allocated; AFN holds from the start.
        planned = (
            allocations.join(ids, on="order_id", how="semi")
            .join(
                warehouses.select(pl.col("code").alias("warehouse_code"), "kind"),
                on="warehouse_code",
                how="left",
            )
            .group_by("order_id")
            .agg(
                planned_afn=(pl.col("kind") == "fba").any(),
                planned_from=pl.col("warehouse_code").min(),
            )
        )
        per_order = (
            planned.join(per_order, on="order_id", how="full", coalesce=True)
            .with_columns(
                is_afn=pl.col("planned_afn"),
                ship_from=pl.coalesce("planned_from", "ship_from"),
            )
            .drop("planned_afn", "planned_from")
        )
    shipped = (
        shipment_lines.join(
            ships.filter(_at_or_before("shipped_at", t)).select("shipment_id", "order_id"),
            on="shipment_id",
            how="inner",
        )
        .group_by("order_id")
        .agg(qty_shipped=pl.col("quantity").sum())
    )
    frame = (
        base.join(ordered, on="order_id", how="left")
        .join(per_order, on="order_id", how="left")
        .join(shipped, on="order_id", how="left")
    )
    frame = (
        frame.with_columns(
            pl.col("qty_ordered").fill_null(0),
            pl.col("qty_shipped").fill_null(0),
            pl.col("is_afn").fill_null(False),
        )
        .with_columns(
            order_status=pl.when(_at_or_before("cancelled_at", t))
            .then(pl.lit("Canceled"))
            .when(is_pending(t))
            .then(pl.lit("Pending"))
            .when(pl.col("qty_shipped") >= pl.col("qty_ordered"))
            .then(pl.lit("Shipped"))
            .when(pl.col("qty_shipped") > 0)
            .then(pl.lit("PartiallyShipped"))
            .otherwise(pl.lit("Unshipped")),
            fulfillment_channel=pl.coalesce(
                # The ledger's own word when it has one (v2 keeps it on the order).
                pl.col("fulfillment_channel")
                if "fulfillment_channel" in base.columns
                else pl.lit(None, pl.String),
                pl.when(pl.col("is_afn")).then(pl.lit("AFN")).otherwise(pl.lit("MFN")),
            ),
            # SP-API: "An update is defined as any change in order status, including the
            # creation of a new order."
            last_update=pl.max_horizontal(
                pl.col("created_at"),
                *[
                    pl.when(_at_or_before(c, t)).then(pl.col(c))
                    for c in ("paid_at", "cancelled_at", "held_at", "released_at")
                ],
                pl.col("last_shipped_at"),
            ),
        )
        .with_columns(
            purchase_us=pl.col("created_at").dt.epoch("us"),
            update_us=pl.col("last_update").dt.epoch("us"),
        )
    )
    return frame.sort("update_us", "external_order_id")


@dataclass(frozen=True)
class Lookups:
    """Small tables the renderers read row by row (built once per clock position)."""

    customers: pl.DataFrame
    products: dict[str, dict[str, Any]]
    warehouses: dict[str, dict[str, Any]]


def make_lookups(
    customers: pl.DataFrame, products: pl.DataFrame, warehouses: pl.DataFrame
) -> Lookups:
    return Lookups(
        customers=customers.select(pl.all().name.prefix("c_")),
        products={r["sku"]: r for r in products.iter_rows(named=True)},
        warehouses={r["code"]: r for r in warehouses.iter_rows(named=True)},
    )


def _money(cur: str, fmt: Callable[[int], str], minor: int) -> dict[str, str]:
    return {"CurrencyCode": cur, "Amount": fmt(minor)}


def _address(o: dict[str, Any]) -> dict[str, Any]:
    """The buyer's address as SP-API shows it (absent parts left out)."""
    out: dict[str, Any] = {"Name": f"{o['c_first_name']} {o['c_last_name']}"}
    if o["c_address1"]:
        out["AddressLine1"] = o["c_address1"]
    if o["c_address2"]:
        out["AddressLine2"] = o["c_address2"]
    if o["c_city"]:
        out["City"] = o["c_city"]
    if o["c_province_code"]:
        out["StateOrRegion"] = o["c_province_code"]
    if o["c_postal_code"]:
        out["PostalCode"] = o["c_postal_code"]
    out["CountryCode"] = o["c_country_code"]
    out["AddressType"] = "Residential"
    return out


# Postal code shape, region and phone prefix per warehouse country, for the parts of a ship-from
# address the ledger's ``warehouses`` table does not hold.
_WAREHOUSE_ADDRESS = {
    "US": ("{:05d}", "CA", "+1 909-555-{:04d}"),
    "CN": ("518{:03d}", "GD", "+86 755-5555-{:04d}"),
    "DE": ("04{:03d}", "SN", "+49 341 555{:04d}"),
    "GB": ("CV{:d} 2AB", "West Midlands", "+44 24 5555 {:04d}"),
    "JP": ("{:03d}-0001", "Chiba", "+81 43-555-{:04d}"),
}


def ship_from_address(warehouse: dict[str, Any]) -> dict[str, Any]:
    """``DefaultShipFromLocationAddress`` of an MFN warehouse: the ledger's columns where it
    has them (``address1``, ``postal_code``, ``province_code``, ``phone`` if a generator adds
    them), stable made-up values otherwise."""
    code = str(warehouse["code"])
    n = mix(text_hash(code), 15)
    postal, region, phone = _WAREHOUSE_ADDRESS.get(
        warehouse["country_code"], ("{:05d}", None, "+1 555-555-{:04d}")
    )
    out: dict[str, Any] = {
        "Name": warehouse["name"],
        "AddressLine1": warehouse.get("address1") or f"{n % 900 + 100} Logistics Park Road",
        "City": warehouse["city"],
        "StateOrRegion": warehouse.get("province_code") or region,
        "PostalCode": warehouse.get("postal_code") or postal.format(n % 1000),
        "CountryCode": warehouse["country_code"],
        "Phone": warehouse.get("phone") or phone.format(n % 10000),
        "AddressType": "Commercial",
    }
    return {k: v for k, v in out.items() if v is not None}


def _is_business(order_id: int) -> bool:
    return _per_mille(order_id, 1) < 60


def _buyer_info(o: dict[str, Any], tld: str) -> dict[str, Any]:
    cid = o["customer_id"]
    info: dict[str, Any] = {
        # Amazon never reveals the buyer's address: it relays through an anonymised one.
        "BuyerEmail": f"{_base36(mix(cid, 2), 15)}@marketplace.amazon.{tld}",
        "BuyerName": f"{o['c_first_name']} {o['c_last_name']}",
    }
    if _is_business(o["order_id"]):
        info["BuyerTaxInfo"] = {"CompanyLegalName": f"{o['c_last_name']} Trading Ltd"}
        info["PurchaseOrderNumber"] = f"{mix(o['order_id'], 3) % 10**13:013d}"
    return info


def _payment_method(o: dict[str, Any]) -> tuple[str, list[str]]:
    """Cash on delivery and convenience-store payment exist in Japan; elsewhere ``Other``."""
    roll = _per_mille(o["order_id"], 4)
    if o["marketplace_id"] == "A1VC38T7YXB528" and roll < 80:
        return ("COD", ["COD"]) if roll < 50 else ("CVS", ["CVS"])
    if roll < 30:
        return "Other", ["CreditCard", "GiftCertificate"]
    return "Other", ["Standard"]


def _service_level(o: dict[str, Any]) -> tuple[str, str]:
    """(ShipmentServiceLevelCategory, ShipServiceLevel): the ledger's ``is_express`` when set,
    else a stable share of expedited and (Japan, MFN) scheduled orders."""
    roll = _per_mille(o["order_id"], 5)
    cc = o["marketplace_country"]
    if o.get("is_express"):
        return "Expedited", f"Exp {cc} Dom"
    if o["marketplace_id"] == "A1VC38T7YXB528" and o["fulfillment_channel"] == "MFN" and roll < 100:
        return "Scheduled", f"Sched {cc} Dom"
    if roll < 150:
        return "Expedited", f"Exp {cc} Dom"
    return "Standard", f"Std {cc} Dom"


def page_frame(page: pl.DataFrame, lookups: Lookups) -> list[dict[str, Any]]:
    """Rows of ``amazon_orders`` joined with their customer, timestamps formatted, as dicts."""
    if page.height == 0:
        return []
    rows = page.join(
        lookups.customers,
        left_on="customer_id",
        right_on="c_customer_id",
        how="left",
        maintain_order="left",
    )
    created = pl.col("created_at")
    fmt = _AMAZON_TIME
    rows = rows.with_columns(
        PurchaseDate=created.dt.strftime(fmt),
        LastUpdateDate=pl.col("last_update").dt.strftime(fmt),
        EarliestShipDate=created.dt.strftime(fmt),
        LatestShipDate=(created + pl.duration(days=2)).dt.strftime(fmt),
        EarliestDeliveryDate=(created + pl.duration(days=3)).dt.strftime(fmt),
        LatestDeliveryDate=(created + pl.duration(days=9)).dt.strftime(fmt),
    )
    return rows.to_dicts()


def render_address(order: dict[str, Any]) -> dict[str, Any]:
    """getOrderAddress's payload for one row of ``page_frame`` (a Pending order has no
    address yet, as on Amazon)."""
    out: dict[str, Any] = {"AmazonOrderId": order["external_order_id"]}
    if order["order_status"] == "Pending" or order["c_country_code"] is None:
        return out
    address = _address(order)
    extended: dict[str, Any] = {}
    line1 = order["c_address1"] or ""
    head, _, tail = line1.partition(" ")
    if head[:1].isdigit() and tail:
        extended["StreetName"], extended["StreetNumber"] = tail, head
    else:
        name, _, number = line1.rpartition(" ")
        if number[:1].isdigit() and name:
            extended["StreetName"], extended["StreetNumber"] = name, number
    if order["c_latitude"] is not None and order["c_longitude"] is not None:
        extended["GeoCoordinates"] = {
            "Latitude": float(order["c_latitude"]),
            "Longitude": float(order["c_longitude"]),
        }
    if extended:
        address["ExtendedFields"] = extended
    out["ShippingAddress"] = address
    return out


def render_buyer_info(order: dict[str, Any]) -> dict[str, Any]:
    """getOrderBuyerInfo's payload for one row of ``page_frame``."""
    tld = MARKETPLACES.get(order["marketplace_id"], ("", "com", ""))[1]
    return {"AmazonOrderId": order["external_order_id"], **_buyer_info(order, tld)}


def render_items(
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    shipped_by_line: dict[int, int],
    lookups: Lookups,
    first_line_id: int,
    line_tax_total: int,
) -> list[dict[str, Any]]:
    """SP-API ``OrderItem`` dicts for some ``lines`` (order_lines rows) of one order.

    ``shipped_by_line`` holds the units shipped by the clock; ``first_line_id`` is the order's
    first line, which carries the order's shipping charge and its tax (Amazon charges shipping
    per item, the ledger per order: putting it on one line keeps the sums exact);
    ``line_tax_total`` is the tax of all the order's lines (the rest of the order's tax is the
    shipping's)."""
    oid = order["order_id"]
    cur = order["currency"]
    fmt = formatter(cur)
    status = order["order_status"]
    priced = status != "Pending"
    marketplace = order["marketplace_id"]
    japan = marketplace == "A1VC38T7YXB528"
    business = _is_business(oid)
    gift_message = order.get("gift_message")
    gift = bool(gift_message) or _per_mille(oid, 7) < 30
    method, _ = _payment_method(order)
    _, _, tax_party = MARKETPLACES.get(marketplace, ("", "", "Amazon Services, Inc."))
    cancelled = status == "Canceled"
    cancel_reason = order.get("cancel_reason")
    buyer_cancel = cancelled and cancel_reason is not None and "customer" in str(cancel_reason)
    category, _ = _service_level(order)
    out = []
    for ln in lines:
        lid = ln["line_id"]
        product = lookups.products.get(ln["sku"], {})
        qty = ln["quantity"]
        shipped = shipped_by_line.get(lid, 0)
        title = product.get("title") or ln["sku"]
        if product.get("variant_title"):
            title = f"{title} - {product['variant_title']}"
        item: dict[str, Any] = {
            "ASIN": product.get("asin") or f"B0{_base36(mix(text_hash(ln['sku']), 8), 8).upper()}",
            "SellerSKU": ln["sku"],
            "OrderItemId": order_item_id(lid),
            "Title": title,
            "QuantityOrdered": qty,
            "QuantityShipped": shipped,
            "ProductInfo": {"NumberOfItems": "1"},
        }
        if priced:
            first = lid == first_line_id
            ship = order["total_shipping_minor"] if first else 0
            ship_tax = max(0, order["total_tax_minor"] - line_tax_total) if first else 0
            item |= {
                "ItemPrice": _money(cur, fmt, ln["unit_price_minor"] * qty),
                "ShippingPrice": _money(cur, fmt, ship),
                "ItemTax": _money(cur, fmt, ln["tax_minor"]),
                "ShippingTax": _money(cur, fmt, ship_tax),
                "ShippingDiscount": _money(cur, fmt, 0),
                "ShippingDiscountTax": _money(cur, fmt, 0),
                "PromotionDiscount": _money(cur, fmt, ln["discount_minor"]),
                "PromotionDiscountTax": _money(cur, fmt, 0),
            }
            if ln["discount_minor"] > 0:
                item["PromotionIds"] = [f"PLM_{_base36(mix(oid, 9), 10).upper()}"]
            if japan:
                points = ln["unit_price_minor"] * qty // 100
                item["PointsGranted"] = {
                    "PointsNumber": points,
                    "PointsMonetaryValue": _money(cur, fmt, points),
                }
                if method == "COD" and first:
                    item["CODFee"] = _money(cur, fmt, 330)
                    item["CODFeeDiscount"] = _money(cur, fmt, 0)
            item["TaxCollection"] = {
                "Model": "MarketplaceFacilitator",
                "ResponsibleParty": tax_party,
            }
            item["IsGift"] = "true" if gift else "false"
        used = _per_mille(text_hash(ln["sku"]), 10) < 30
        item["ConditionId"] = "Used" if used else "New"
        item["ConditionSubtypeId"] = "Mint" if used else "New"
        if used:
            item["ConditionNote"] = "Open box, never used; all accessories included."
        if category == "Scheduled":
            day = order["EarliestDeliveryDate"]
            item["ScheduledDeliveryStartDate"] = f"{day[:10]}T00:00:00Z"
            item["ScheduledDeliveryEndDate"] = f"{day[:10]}T03:00:00Z"
        if business:
            item["PriceDesignation"] = "BusinessPrice"
        item["IsTransparency"] = False
        item["SerialNumberRequired"] = bool(product.get("is_battery"))
        item_buyer: dict[str, Any] = {}
        if ln.get("engraving") or product.get("personalised") or _per_mille(lid, 11) < 20:
            item_buyer["BuyerCustomizedInfo"] = {
                "CustomizedURL": "https://zme-caps.amazon.com/t/"
                f"{_base36(mix(lid, 12), 12)}/{_base36(mix(lid, 13), 43)}/1"
            }
        if gift and priced:
            item_buyer["GiftMessageText"] = gift_message or "Enjoy!"
            item_buyer["GiftWrapPrice"] = _money(cur, fmt, 0)
            item_buyer["GiftWrapLevel"] = "Classic"
        if item_buyer:
            item["BuyerInfo"] = item_buyer
        item["BuyerRequestedCancel"] = (
            {
                "IsBuyerRequestedCancel": "true",
                "BuyerCancelReason": "Found cheaper somewhere else.",
            }
            if buyer_cancel
            else {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""}
        )
        if product.get("is_battery") and shipped:
            item["SerialNumbers"] = [
                f"{mix(lid, 14 + k) % 10**10:010d}" for k in range(min(shipped, 10))
            ]
        out.append(item)
    return out


def text_hash(text: str) -> int:
    """A stable integer from a string id (SKU, warehouse code) for per-record choices; Python's
    ``hash`` of a string changes from one process to the next."""
    value = 0
    for ch in text.encode():
        value = (value * 131 + ch) & _MASK64
    return value


# --- Vectorized rendering --------------------------------------------------------------------


def _base36_expr(value: pl.Expr, width: int) -> pl.Expr:
    """``_base36(value, width)`` of a UInt64: least significant digit first. Digits past
    36**12 are 0 for any 64-bit value (36**13 > 2**64)."""
    digits = dict(enumerate(_BASE36))
    v = value.cast(pl.UInt64)
    return pl.concat_str(
        [
            ((v // pl.lit(36**k, pl.UInt64)) % pl.lit(36, pl.UInt64)).replace_strict(
                digits, return_dtype=pl.String
            )
            if 36**k <= _MASK64
            else pl.lit("0")
            for k in range(width)
        ]
    )


def _per_mille_expr(value: pl.Expr, salt: int) -> pl.Expr:
    return (mix_expr(value, salt) % 1000).cast(pl.Int64)


def _shipment_category(frame: pl.DataFrame, oid: pl.Expr, japan: pl.Expr) -> pl.Expr:
    """SP-API ShipmentServiceLevelCategory of each order, one rule for getOrders and the All
    Orders report: express orders are Expedited; Amazon.co.jp's seller-fulfilled orders are
    sometimes Scheduled; a few others Expedited by a stable per-order draw."""
    express = (
        pl.col("is_express").fill_null(False) if "is_express" in frame.columns else pl.lit(False)
    )
    service_roll = _per_mille_expr(oid, 5)
    return (
        pl.when(express)
        .then(pl.lit("Expedited"))
        .when(japan & (pl.col("fulfillment_channel") == "MFN") & (service_roll < 100))
        .then(pl.lit("Scheduled"))
        .when(service_roll < 150)
        .then(pl.lit("Expedited"))
        .otherwise(pl.lit("Standard"))
    )


def orders_json(orders: pl.DataFrame, lookups: Lookups) -> pl.Series:
    """Every row of ``orders`` (rows of ``amazon_orders``) as SP-API ``Order`` JSON (UTF-8
    bytes), in row order: what getOrders and getOrder serve, rendered column-wise. Each row's
    JSON depends on that row alone, so rendering a page's rows equals rendering them all."""
    if orders.height == 0:
        return pl.Series("_json", [], pl.Binary)
    frame = orders.join(
        lookups.customers,
        left_on="customer_id",
        right_on="c_customer_id",
        how="left",
        maintain_order="left",
    )
    scale = scale_of(pl.col("currency"), frame["currency"].unique().to_list())
    oid = pl.col("order_id")
    status = pl.col("order_status")
    afn = pl.col("fulfillment_channel") == "AFN"
    marketplace = pl.col("marketplace_id")
    japan = marketplace == "A1VC38T7YXB528"
    created = pl.col("created_at")
    fmt = _AMAZON_TIME
    business = _per_mille_expr(oid, 1) < 60

    payment_roll = _per_mille_expr(oid, 4)
    payment = (
        pl.when(japan & (payment_roll < 50))
        .then(pl.lit("COD"))
        .when(japan & (payment_roll < 80))
        .then(pl.lit("CVS"))
        .otherwise(pl.lit("Other"))
    )
    payment_details = (
        pl.when(payment != "Other")
        .then(pl.concat_list([payment]))
        .when(payment_roll < 30)
        .then(pl.lit(["CreditCard", "GiftCertificate"]))
        .otherwise(pl.lit(["Standard"]))
    )
    category = _shipment_category(frame, oid, japan)
    level_prefix = category.replace_strict(
        {"Expedited": "Exp", "Scheduled": "Sched", "Standard": "Std"}, return_dtype=pl.String
    )
    level = pl.concat_str(
        [level_prefix, pl.col("marketplace_country"), pl.lit("Dom")], separator=" "
    )
    sales_channel = marketplace.replace_strict(
        {m: spec[0] for m, spec in MARKETPLACES.items()},
        default="Non-Amazon",
        return_dtype=pl.String,
    )
    tld = marketplace.replace_strict(
        {m: spec[1] for m, spec in MARKETPLACES.items()}, default="com", return_dtype=pl.String
    )
    warehouses = {code: w for code, w in lookups.warehouses.items()}
    ship_from = pl.col("ship_from")
    has_warehouse = ship_from.is_in(list(warehouses)) & ~afn
    ship_from_json = ship_from.replace_strict(
        {code: orjson.dumps(ship_from_address(w)).decode() for code, w in warehouses.items()},
        default=None,
        return_dtype=pl.String,
    )
    # What an f-string shows, ``None`` included.
    full_name = pl.concat_str(
        [pl.col("c_first_name").fill_null("None"), pl.col("c_last_name").fill_null("None")],
        separator=" ",
    )

    def present(column: str) -> pl.Expr:
        return truthy(pl.col(column).cast(pl.String))

    address = obj(
        [
            ("Name", full_name),
            ("AddressLine1", Maybe(present("c_address1"), pl.col("c_address1"))),
            ("AddressLine2", Maybe(present("c_address2"), pl.col("c_address2"))),
            ("City", Maybe(present("c_city"), pl.col("c_city"))),
            ("StateOrRegion", Maybe(present("c_province_code"), pl.col("c_province_code"))),
            ("PostalCode", Maybe(present("c_postal_code"), pl.col("c_postal_code"))),
            ("CountryCode", pl.col("c_country_code")),
            ("AddressType", "Residential"),
        ]
    )
    buyer_info = obj(
        [
            # Amazon never reveals the buyer's address: it relays through an anonymised one.
            (
                "BuyerEmail",
                pl.concat_str(
                    [
                        _base36_expr(mix_expr(pl.col("customer_id"), 2), 15),
                        pl.lit("@marketplace.amazon."),
                        tld,
                    ]
                ),
            ),
            ("BuyerName", full_name),
            (
                "BuyerTaxInfo",
                Maybe(
                    business,
                    Raw(
                        obj(
                            [
                                (
                                    "CompanyLegalName",
                                    pl.concat_str(
                                        [
                                            pl.col("c_last_name").fill_null("None"),
                                            pl.lit(" Trading Ltd"),
                                        ]
                                    ),
                                )
                            ]
                        )
                    ),
                ),
            ),
            (
                "PurchaseOrderNumber",
                Maybe(business, (mix_expr(oid, 3) % 10**13).cast(pl.String).str.zfill(13)),
            ),
        ]
    )
    cancelled = status == "Canceled"
    order = obj(
        [
            ("AmazonOrderId", pl.col("external_order_id")),
            (
                "SellerOrderId",
                pl.when(truthy(pl.col("name")))
                .then(pl.col("name"))
                .otherwise(pl.col("external_order_id")),
            ),
            ("PurchaseDate", created.dt.strftime(fmt)),
            ("LastUpdateDate", pl.col("last_update").dt.strftime(fmt)),
            ("OrderStatus", status),
            ("FulfillmentChannel", pl.col("fulfillment_channel")),
            ("SalesChannel", sales_channel),
            ("ShipServiceLevel", level),
            (
                "OrderTotal",
                Maybe(
                    ~cancelled,
                    Raw(
                        obj(
                            [
                                ("CurrencyCode", pl.col("currency")),
                                ("Amount", money(pl.col("total_price_minor"), scale)),
                            ]
                        )
                    ),
                ),
            ),
            ("NumberOfItemsShipped", pl.col("qty_shipped")),
            (
                "NumberOfItemsUnshipped",
                pl.when(cancelled).then(0).otherwise(pl.col("qty_ordered") - pl.col("qty_shipped")),
            ),
            ("PaymentMethod", payment),
            ("PaymentMethodDetails", payment_details),
            ("MarketplaceId", marketplace),
            ("ShipmentServiceLevelCategory", category),
            ("OrderType", "StandardOrder"),
            ("EarliestShipDate", created.dt.strftime(fmt)),
            ("LatestShipDate", (created + pl.duration(days=2)).dt.strftime(fmt)),
            (
                "EarliestDeliveryDate",
                Maybe(~afn, (created + pl.duration(days=3)).dt.strftime(fmt)),
            ),
            ("LatestDeliveryDate", Maybe(~afn, (created + pl.duration(days=9)).dt.strftime(fmt))),
            ("IsBusinessOrder", business),
            ("IsPrime", afn & (_per_mille_expr(oid, 6) < 800)),
            ("IsPremiumOrder", False),
            ("IsGlobalExpressEnabled", False),
            ("IsReplacementOrder", False),
            ("IsSoldByAB", False),
            ("IsIBA", False),
            ("IsISPU", False),
            ("IsAccessPointOrder", False),
            ("HasRegulatedItems", False),
            ("BuyerInvoicePreference", Maybe(business, "BUSINESS")),
            ("DefaultShipFromLocationAddress", Maybe(has_warehouse, Raw(ship_from_json))),
            (
                "FulfillmentInstruction",
                Maybe(has_warehouse, Raw(obj([("FulfillmentSupplySourceId", ship_from)]))),
            ),
            (
                "ShippingAddress",
                Maybe((status != "Pending") & pl.col("c_country_code").is_not_null(), Raw(address)),
            ),
            ("BuyerInfo", Raw(buyer_info)),
            ("AutomatedShippingSettings", Raw(pl.lit('{"HasAutomatedShippingSettings":false}'))),
        ]
    )
    return frame.select(order.cast(pl.Binary).alias("_json")).to_series()


# --- Reports API: the All Orders flat file ---------------------------------------------------

# GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL, columns in Amazon's order (SP-API "Order
# Tracking reports attributes"; the same header ``ingestion/files/mappings/amazon_all_orders.yml``
# reads from a Seller Central download).
REPORT_COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)
# The report prints times with a numeric offset, not getOrders' ``Z``.
_REPORT_TIME = "%Y-%m-%dT%H:%M:%S+00:00"
# getOrders' OrderStatus -> the report's order-status (the report spells Cancelled British).
_REPORT_ORDER_STATUS = {"Canceled": "Cancelled"}


def _product_frame(lines: pl.DataFrame, lookups: Lookups) -> pl.DataFrame:
    """(sku, title, asin) of every SKU on ``lines``, as ``render_items`` names them: a few
    hundred SKUs, so built row by row and joined."""
    rows = []
    for sku in lines["sku"].unique().to_list():
        product = lookups.products.get(sku, {})
        title = product.get("title") or sku
        if product.get("variant_title"):
            title = f"{title} - {product['variant_title']}"
        asin = product.get("asin") or f"B0{_base36(mix(text_hash(sku), 8), 8).upper()}"
        rows.append((sku, title, asin))
    return pl.DataFrame(
        rows, schema={"sku": pl.String, "_title": pl.String, "_asin": pl.String}, orient="row"
    )


def _flat_text(column: pl.Expr) -> pl.Expr:
    """A flat file cell: Amazon's TSV has no quoting, so tabs and line breaks become spaces."""
    return column.str.replace_all(r"[\t\r\n]", " ")


def all_orders_report(orders: pl.DataFrame, lines: pl.DataFrame, lookups: Lookups) -> pl.DataFrame:
    """Every order item of ``orders`` (rows of ``amazon_orders``) as the All Orders report row,
    with the same values getOrders and getOrderItems serve at the same clock: one String column
    per ``REPORT_COLUMNS`` entry (null where the report leaves the cell empty), plus the
    marketplace (``_marketplace``) and the order's ``update_us`` to cut a report's window, and
    ``_order_item_id`` (the item's getOrderItems id, never printed). ``lines`` are the orders'
    ``order_lines`` with ``qty_shipped`` (units shipped by the clock).

    Amazon's rules kept: a Pending order's items carry no currency, prices or address;
    item-price is the whole line's price; the order's shipping and its tax sit on its first
    line; promotion discounts are negative amounts; a cancelled order's items are Cancelled."""
    if orders.height == 0 or lines.height == 0:
        return pl.DataFrame(
            schema={
                **dict.fromkeys(REPORT_COLUMNS, pl.String),
                "_marketplace": pl.String,
                "update_us": pl.Int64,
                "_order_item_id": pl.String,
            }
        )
    keep = [
        "order_id",
        "external_order_id",
        "name",
        "created_at",
        "last_update",
        "update_us",
        "order_status",
        "fulfillment_channel",
        "marketplace_id",
        "marketplace_country",
        "currency",
        "total_shipping_minor",
        "total_tax_minor",
        "customer_id",
        *[c for c in ("gift_message", "is_express") if c in orders.columns],
    ]
    frame = (
        lines.select(
            "order_id",
            "line_id",
            "sku",
            "quantity",
            "unit_price_minor",
            "tax_minor",
            "discount_minor",
            "qty_shipped",
        )
        .join(orders.select(keep), on="order_id", how="inner")
        .join(
            lookups.customers.select(
                "c_customer_id", "c_city", "c_province_code", "c_postal_code", "c_country_code"
            ),
            left_on="customer_id",
            right_on="c_customer_id",
            how="left",
        )
        .join(_product_frame(lines, lookups), on="sku", how="left")
        .with_columns(
            _first=pl.col("line_id") == pl.col("line_id").min().over("order_id"),
            _line_tax=pl.col("tax_minor").sum().over("order_id"),
        )
    )
    scale = scale_of(pl.col("currency"), frame["currency"].unique().to_list())
    oid = pl.col("order_id")
    status = pl.col("order_status")
    priced = status != "Pending"
    japan = pl.col("marketplace_id") == "A1VC38T7YXB528"
    business = _per_mille_expr(oid, 1) < 60
    gift_message = (
        truthy(pl.col("gift_message").cast(pl.String))
        if "gift_message" in frame.columns
        else pl.lit(False)
    )
    gift = gift_message | (_per_mille_expr(oid, 7) < 30)
    category = _shipment_category(frame, oid, japan)
    ship = pl.when(pl.col("_first")).then(pl.col("total_shipping_minor")).otherwise(0)
    ship_tax = (
        pl.when(pl.col("_first"))
        .then(pl.max_horizontal(pl.lit(0), pl.col("total_tax_minor") - pl.col("_line_tax")))
        .otherwise(0)
    )

    def amount(minor: pl.Expr) -> pl.Expr:
        return pl.when(priced).then(money(minor, scale))

    def address(column: str) -> pl.Expr:
        return pl.when(priced).then(_flat_text(pl.col(column).cast(pl.String)))

    cancelled = status == "Canceled"
    fmt = _REPORT_TIME
    report = frame.sort("update_us", "external_order_id", "line_id").select(
        pl.col("external_order_id").alias("amazon-order-id"),
        pl.when(truthy(pl.col("name")))
        .then(pl.col("name"))
        .otherwise(pl.col("external_order_id"))
        .alias("merchant-order-id"),
        pl.col("created_at").dt.strftime(fmt).alias("purchase-date"),
        pl.col("last_update").dt.strftime(fmt).alias("last-updated-date"),
        status.replace(_REPORT_ORDER_STATUS).alias("order-status"),
        pl.when(pl.col("fulfillment_channel") == "AFN")
        .then(pl.lit("Amazon"))
        .otherwise(pl.lit("Merchant"))
        .alias("fulfillment-channel"),
        pl.col("marketplace_id")
        .replace_strict(
            {m: spec[0] for m, spec in MARKETPLACES.items()},
            default="Non-Amazon",
            return_dtype=pl.String,
        )
        .alias("sales-channel"),
        pl.lit(None, pl.String).alias("order-channel"),
        category.alias("ship-service-level"),
        _flat_text(pl.col("_title")).alias("product-name"),
        pl.col("sku"),
        pl.col("_asin").alias("asin"),
        pl.when(cancelled)
        .then(pl.lit("Cancelled"))
        .when(pl.col("qty_shipped") >= pl.col("quantity"))
        .then(pl.lit("Shipped"))
        .otherwise(pl.lit("Unshipped"))
        .alias("item-status"),
        pl.col("quantity").cast(pl.String),
        pl.when(priced).then(pl.col("currency")).alias("currency"),
        amount(pl.col("unit_price_minor") * pl.col("quantity")).alias("item-price"),
        amount(pl.col("tax_minor")).alias("item-tax"),
        amount(ship).alias("shipping-price"),
        amount(ship_tax).alias("shipping-tax"),
        pl.when(gift).then(amount(pl.lit(0))).alias("gift-wrap-price"),
        pl.when(gift).then(amount(pl.lit(0))).alias("gift-wrap-tax"),
        amount(-pl.col("discount_minor")).alias("item-promotion-discount"),
        amount(pl.lit(0)).alias("ship-promotion-discount"),
        address("c_city").alias("ship-city"),
        address("c_province_code").alias("ship-state"),
        address("c_postal_code").alias("ship-postal-code"),
        address("c_country_code").alias("ship-country"),
        pl.when(priced & (pl.col("discount_minor") > 0))
        .then(
            pl.concat_str([pl.lit("PLM_"), _base36_expr(mix_expr(oid, 9), 10).str.to_uppercase()])
        )
        .alias("promotion-ids"),
        pl.when(business)
        .then(pl.lit("true"))
        .otherwise(pl.lit("false"))
        .alias("is-business-order"),
        pl.when(business)
        .then((mix_expr(oid, 3) % 10**13).cast(pl.String).str.zfill(13))
        .alias("purchase-order-number"),
        pl.when(business).then(pl.lit("BusinessPrice")).alias("price-designation"),
        pl.col("marketplace_id").alias("_marketplace"),
        pl.col("update_us"),
        (pl.col("line_id") % 10**14).cast(pl.String).str.zfill(14).alias("_order_item_id"),
    )
    return report
