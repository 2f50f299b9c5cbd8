"""The per-order Shopify renderer the server used before rendering went column-wise: the
reference ``test_shopify_rendering`` holds ``shopify.OrderRenderer`` to (same parsed JSON for
every order). One Python dict per order, built from rows pulled out of polars per page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ingestion.sandbox.amazon_render import mix
from ingestion.sandbox.money import minor_to_float
from ingestion.sandbox.shopify import (
    _FULFILLMENT_LINE_BASE,
    _ONLINE_STORE_APP_ID,
    _REFERRERS,
    _REFUND_SHIPPING_KIND,
    _SHIPMENT_STATUS,
    _STAFF_USER_ID,
    _USER_AGENT,
    WAREHOUSE_ADDRESSES,
    ShopContext,
    _confirmation_number,
    _hex,
    _money_sets,
    _product_fields,
    local_time_formatter,
)
from ingestion.sandbox.state import SandboxState

_TIMESTAMP_COLUMNS = (
    "created_at",
    "paid_at",
    "fulfilled_at",
    "cancelled_at",
    "closed_at",
    "updated_at",
    "c_created_at",
)


@dataclass
class OrderRecord:
    """One order's rows pulled from the ledger for rendering (timestamps as epoch seconds)."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    shipments: list[dict[str, Any]] = field(default_factory=list)
    home_location: int | None = None


def _ranges(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row positions of every row of ``sorted_keys`` whose key is in ``wanted``, grouped in
    ``wanted``'s order (binary search per key: no scan of the whole table)."""
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.repeat(lo, counts) + np.arange(total) - np.repeat(starts, counts)


def _grouped(frame: pl.DataFrame, key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row[key], []).append(row)
    return out


def page_records(state: SandboxState, page: pl.DataFrame) -> list[OrderRecord]:
    """Pull the rows needed to render ``page`` (rows of ``state.orders_view()``) out of polars.

    Lines are gathered by offset (each order's lines are contiguous in ``order_lines``);
    shipments and refunds are the ones visible at the state's clock, found by binary search
    (their ids follow the order ids)."""
    if page.height == 0:
        return []
    world = state.world
    # Customers are sorted by id: find the page's by binary search, not by a join.
    customer_ids = world.customers["customer_id"].to_numpy()
    at = np.searchsorted(customer_ids, page["customer_id"].to_numpy())
    customers = world.customers[at].select(pl.all().name.prefix("c_"))
    rows = page.hstack(customers)
    rows = rows.with_columns(
        [pl.col(c).dt.epoch("s") for c in _TIMESTAMP_COLUMNS if c in rows.columns]
    )
    orders = rows.to_dicts()

    starts = page["line_start"].to_numpy()
    counts = page["line_count"].to_numpy()
    ends = np.cumsum(counts)
    gather = np.repeat(starts - (ends - counts), counts) + np.arange(int(ends[-1]))
    line_rows = (
        world.order_lines[gather]
        .join(_product_fields(world.products), on="sku", how="left", maintain_order="left")
        .to_dicts()
    )

    order_ids = page["order_id"].to_numpy()
    shipments = state.table_as_of("shipments")
    picked = shipments[_ranges(shipments["order_id"].to_numpy(), np.sort(order_ids))]
    picked = picked.with_columns(
        pl.col("shipped_at").dt.epoch("s"), pl.col("outcome_at").dt.epoch("s")
    )
    ship_lines = state.table_as_of("shipment_lines")
    sl = ship_lines[_ranges(ship_lines["shipment_id"].to_numpy(), picked["shipment_id"].to_numpy())]
    lines_by_shipment = _grouped(sl, "shipment_id")
    shipments_by_order: dict[int, list[dict[str, Any]]] = {}
    origins = {w["code"]: _origin(w) for w in world.warehouses.iter_rows(named=True)}
    for shipment in picked.sort("shipped_at", "shipment_id").iter_rows(named=True):
        shipment["lines"] = lines_by_shipment.get(shipment["shipment_id"], [])
        shipment["origin"] = origins.get(shipment["warehouse_code"])
        shipments_by_order.setdefault(shipment["order_id"], []).append(shipment)
    homes = world.warehouses.filter(pl.col("kind") == "home")["location_id"].to_list()

    refunds_by_order: dict[int, list[dict[str, Any]]] = {}
    refunds = state.table_as_of("refunds")
    mine = refunds[_ranges(refunds["order_id"].to_numpy(), np.sort(order_ids))].filter(
        pl.col("kind") != "chargeback"
    )
    if mine.height:
        provider = state.table_as_of("payment_refunds")
        references = dict(zip(provider["refund_id"], provider["payment_refund_id"], strict=True))
        mine = mine.sort("created_at", "refund_id").with_columns(pl.col("created_at").dt.epoch("s"))
        refund_lines = state.table_as_of("refund_lines")
        rl = refund_lines[
            _ranges(refund_lines["refund_id"].to_numpy(), mine["refund_id"].to_numpy())
        ]
        lines_by_refund = _grouped(rl, "refund_id")
        for refund in mine.iter_rows(named=True):
            refund["lines"] = lines_by_refund.get(refund["refund_id"], [])
            refund["reference"] = references.get(refund["refund_id"])
            refunds_by_order.setdefault(refund["order_id"], []).append(refund)

    out = []
    pos = 0
    for order, count in zip(orders, counts.tolist(), strict=True):
        oid = order["order_id"]
        out.append(
            OrderRecord(
                order,
                line_rows[pos : pos + count],
                refunds_by_order.get(oid, []),
                shipments_by_order.get(oid, []),
                homes[0] if homes else None,
            )
        )
        pos += count
    return out


def _origin(warehouse: dict[str, Any]) -> dict[str, Any]:
    known = WAREHOUSE_ADDRESSES.get(warehouse["city"] or "", (None, None, None))
    return {
        "address1": known[0] or warehouse["name"],
        "city": warehouse["city"],
        "zip": known[1],
        "province_code": known[2],
        "country_code": warehouse["country_code"],
    }


def render_orders(
    state: SandboxState, page: pl.DataFrame, shop: ShopContext | None = None
) -> list[dict[str, Any]]:
    """Render every order of ``page`` (rows of ``orders_view``) as Shopify order dicts."""
    shop = shop or ShopContext()
    return [render_order(r, shop) for r in page_records(state, page)]


def render_order(rec: OrderRecord, shop: ShopContext) -> dict[str, Any]:
    """One Shopify order dict from the rows of one order (see ``page_records``)."""
    o = rec.order
    oid = o["order_id"]
    shop_cur, pres_cur = o["currency"], o["presentment_currency"]
    money = _money_sets(shop_cur, pres_cur)
    mset, fs, fp = money.set, money.shop_str, money.fp
    ts = local_time_formatter(o["local_utc_offset_minutes"])

    zero_set = mset(0, 0)
    is_cancelled = o["is_cancelled"]
    shipped_lines = {sl["line_id"] for sh in rec.shipments for sl in sh["lines"]}
    created = ts(o["created_at"])
    number = o["order_number"]
    name = o["name"]

    # Refunded units per line, and what they take off the current totals.
    refunded_qty: dict[int, int] = {}
    for refund in rec.refunds:
        for rl in refund["lines"]:
            refunded_qty[rl["line_id"]] = refunded_qty.get(rl["line_id"], 0) + rl["quantity"]

    # Line items: built once, shared by fulfillments and refund_line_items.
    discount_index = 0 if o["discount_kind"] != "none" else None
    line_dicts: dict[int, dict[str, Any]] = {}
    line_items = []
    for ln in rec.lines:
        lid = ln["line_id"]
        qty = ln["quantity"]
        line_shipped = lid in shipped_lines
        current = 0 if is_cancelled else qty - refunded_qty.get(lid, 0)
        tax_lines = []
        if ln["tax_rate_bp"] > 0:
            tax_lines.append(
                {
                    "channel_liable": False,
                    "price": fs(ln["tax_minor"]),
                    "price_set": mset(ln["tax_minor"], ln["tax_presentment_minor"]),
                    "rate": ln["tax_rate_bp"] / 10_000,
                    "title": o["tax_title"],
                }
            )
        allocations = []
        if discount_index is not None and ln["discount_minor"] > 0:
            allocations.append(
                {
                    "amount": fs(ln["discount_minor"]),
                    "amount_set": mset(ln["discount_minor"], ln["discount_presentment_minor"]),
                    "discount_application_index": discount_index,
                }
            )
        engraving = ln["engraving"]
        d = {
            "id": lid,
            "admin_graphql_api_id": f"gid://shopify/LineItem/{lid}",
            "attributed_staffs": [],
            "current_quantity": current,
            "fulfillable_quantity": 0 if (line_shipped or is_cancelled) else current,
            "fulfillment_service": "manual",
            "fulfillment_status": "fulfilled" if line_shipped else None,
            "gift_card": False,
            "grams": ln["grams"],
            "name": f"{ln['title']} - {ln['variant_title']}",
            "price": fs(ln["unit_price_minor"]),
            "price_set": mset(ln["unit_price_minor"], ln["unit_price_presentment_minor"]),
            "product_exists": True,
            "product_id": ln["product_id"],
            "properties": [{"name": "Engraving", "value": engraving}] if engraving else [],
            "quantity": qty,
            "requires_shipping": True,
            "sku": ln["sku"],
            "taxable": True,
            "title": ln["title"],
            "total_discount": fs(ln["discount_minor"]),
            "total_discount_set": mset(ln["discount_minor"], ln["discount_presentment_minor"]),
            "variant_id": ln["variant_id"],
            "variant_inventory_management": "shopify",
            "variant_title": ln["variant_title"],
            "vendor": ln["vendor"],
            "tax_lines": tax_lines,
            "duties": [],
            "discount_allocations": allocations,
        }
        line_dicts[lid] = d
        line_items.append(d)

    refunds_out, refund_totals = _render_refunds(
        rec, o, line_dicts, mset, fs, fp, ts, zero_set, name
    )
    r_sub, r_sub_p, r_tax, r_tax_p, r_disc, r_disc_p = refund_totals

    total_price = o["total_price_minor"]
    total_price_p = o["total_price_presentment_minor"]
    if is_cancelled:
        # A cancellation removes every line: nothing is left to pay or ship.
        cur_sub = cur_sub_p = cur_tax = cur_tax_p = cur_disc = cur_disc_p = 0
        cur_total = cur_total_p = 0
    else:
        cur_sub = o["subtotal_price_minor"] - r_sub
        cur_sub_p = o["subtotal_price_presentment_minor"] - r_sub_p
        cur_tax = o["total_tax_minor"] - r_tax
        cur_tax_p = o["total_tax_presentment_minor"] - r_tax_p
        cur_disc = o["total_discounts_minor"] - r_disc
        cur_disc_p = o["total_discounts_presentment_minor"] - r_disc_p
        cur_total = total_price - o["shopify_refunded_minor"]
        cur_total_p = total_price_p - o["shopify_refunded_presentment_minor"]
    outstanding = 0 if (o["is_paid"] or is_cancelled) else total_price

    customer = _render_customer(o, ts)
    address = {
        "first_name": o["c_first_name"],
        "address1": o["c_address1"],
        "phone": o["c_phone"],
        "city": o["c_city"],
        "zip": o["c_postal_code"],
        "province": o["c_province"],
        "country": o["c_country"],
        "last_name": o["c_last_name"],
        "address2": o["c_address2"],
        "company": None,
        "latitude": o["c_latitude"],
        "longitude": o["c_longitude"],
        "name": f"{o['c_first_name']} {o['c_last_name']}",
        "country_code": o["c_country_code"],
        "province_code": o["c_province_code"],
    }

    discount_codes, discount_applications = _render_discounts(o, fs)
    fulfillments = _render_fulfillments(o, rec.shipments, line_dicts, ts, name)
    tax_lines = []
    if o["tax_rate"] > 0:
        tax_lines.append(
            {
                "price": fs(o["total_tax_minor"]),
                "rate": o["tax_rate"],
                "title": o["tax_title"],
                "price_set": mset(o["total_tax_minor"], o["total_tax_presentment_minor"]),
                "channel_liable": False,
            }
        )
    ship, ship_p = o["total_shipping_minor"], o["total_shipping_presentment_minor"]
    ship_set = mset(ship, ship_p)
    token = _hex(oid, 1)
    draft = number % 10 == 0
    referrer = _REFERRERS[number % len(_REFERRERS)]
    gateway = o["gateway"]
    phone = o["c_phone"]
    gift = o["gift_message"]

    return {
        "id": oid,
        "admin_graphql_api_id": f"gid://shopify/Order/{oid}",
        "app_id": _ONLINE_STORE_APP_ID,
        "browser_ip": o["browser_ip"],
        "buyer_accepts_marketing": o["c_accepts_marketing"],
        "cancel_reason": o["cancel_reason"] if is_cancelled else None,
        "cancelled_at": ts(o["cancelled_at"]) if is_cancelled else None,
        "cart_token": _hex(oid, 2),
        "checkout_id": o["checkout_id"],
        "checkout_token": _hex(oid, 3),
        "client_details": {
            "accept_language": o["c_language"],
            "browser_height": None,
            "browser_ip": o["browser_ip"],
            "browser_width": None,
            "session_hash": None,
            "user_agent": _USER_AGENT,
        },
        "closed_at": ts(o["closed_at"]),
        "confirmation_number": _confirmation_number(oid),
        "confirmed": True,
        "contact_email": o["c_email"],
        "created_at": created,
        "currency": shop_cur,
        "current_subtotal_price": fs(cur_sub),
        "current_subtotal_price_set": mset(cur_sub, cur_sub_p),
        "current_total_additional_fees_set": None,
        "current_total_discounts": fs(cur_disc),
        "current_total_discounts_set": mset(cur_disc, cur_disc_p),
        "current_total_duties_set": None,
        "current_total_price": fs(cur_total),
        "current_total_price_set": mset(cur_total, cur_total_p),
        "current_total_tax": fs(cur_tax),
        "current_total_tax_set": mset(cur_tax, cur_tax_p),
        "customer_locale": o["c_language"],
        "device_id": None,
        "discount_codes": discount_codes,
        "duties_included": False,
        "email": o["c_email"],
        "estimated_taxes": False,
        "financial_status": o["financial_status"],
        "fulfillment_status": o["fulfillment_status"],
        "landing_site": "/products?utm_source=newsletter" if referrer is None else "/",
        "landing_site_ref": "newsletter" if referrer is None else None,
        "location_id": None,
        "merchant_business_entity_id": shop.business_entity_id,
        "merchant_of_record_app_id": None,
        "name": name,
        "note": "Please leave the parcel with a neighbour" if number % 17 == 0 else None,
        "note_attributes": [{"name": "gift_message", "value": gift}] if gift else [],
        "number": number - 1000,
        "order_number": number,
        "order_status_url": f"https://{shop.domain}/{shop.shop_id}/orders/{token}/authenticate"
        f"?key={_hex(oid, 4)}",
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": [gateway],
        "phone": phone,
        "po_number": f"PO-{number}" if number % 50 == 0 else None,
        "presentment_currency": pres_cur,
        "processed_at": created,
        "reference": f"D{number}" if draft else None,
        "referring_site": referrer,
        "source_identifier": f"D{number}" if draft else None,
        "source_name": "shopify_draft_order" if draft else "web",
        "source_url": None,
        "subtotal_price": fs(o["subtotal_price_minor"]),
        "subtotal_price_set": mset(
            o["subtotal_price_minor"], o["subtotal_price_presentment_minor"]
        ),
        "tags": "gift" if gift else "",
        "tax_exempt": False,
        "tax_lines": tax_lines,
        "taxes_included": False,
        "test": False,
        "token": token,
        "total_cash_rounding_payment_adjustment_set": zero_set,
        "total_cash_rounding_refund_adjustment_set": zero_set,
        "total_discounts": fs(o["total_discounts_minor"]),
        "total_discounts_set": mset(
            o["total_discounts_minor"], o["total_discounts_presentment_minor"]
        ),
        "total_line_items_price": fs(o["total_line_items_price_minor"]),
        "total_line_items_price_set": mset(
            o["total_line_items_price_minor"], o["total_line_items_price_presentment_minor"]
        ),
        "total_outstanding": fs(outstanding),
        "total_price": fs(total_price),
        "total_price_set": mset(total_price, total_price_p),
        "total_shipping_price_set": ship_set,
        "total_tax": fs(o["total_tax_minor"]),
        "total_tax_set": mset(o["total_tax_minor"], o["total_tax_presentment_minor"]),
        "total_tip_received": fs(0),
        "total_weight": o["total_weight_grams"],
        "updated_at": ts(o["updated_at"]),
        "user_id": None,
        "billing_address": address,
        "customer": customer,
        "discount_applications": discount_applications,
        "fulfillments": fulfillments,
        "line_items": line_items,
        "payment_terms": None,
        "refunds": refunds_out,
        "shipping_address": address,
        "shipping_lines": [_shipping_line(o, mset, fs)],
    }


def _shipping_line(
    o: dict[str, Any], mset: Callable[[int, int], dict[str, Any]], fs: Callable[[int], str]
) -> dict[str, Any]:
    ship_set = mset(o["total_shipping_minor"], o["total_shipping_presentment_minor"])
    return {
        "id": o["shipping_line_id"],
        "carrier_identifier": None,
        "code": o["shipping_title"],
        "discounted_price": fs(o["total_shipping_minor"]),
        "discounted_price_set": ship_set,
        "is_removed": False,
        "phone": None,
        "price": fs(o["total_shipping_minor"]),
        "price_set": ship_set,
        "requested_fulfillment_service_id": None,
        "source": "shopify",
        "title": o["shipping_title"],
        "tax_lines": [],
        "discount_allocations": [],
    }


def _render_customer(o: dict[str, Any], ts: Callable[[int | None], str | None]) -> dict[str, Any]:
    cid = o["customer_id"]
    created = ts(o["c_created_at"])
    marketing = o["c_accepts_marketing"]
    phone = o["c_phone"]
    return {
        "id": cid,
        "email": o["c_email"],
        "created_at": created,
        "updated_at": ts(max(o["c_created_at"], o["created_at"])),
        "first_name": o["c_first_name"],
        "last_name": o["c_last_name"],
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": phone,
        "email_marketing_consent": {
            "state": "subscribed" if marketing else "not_subscribed",
            "opt_in_level": "single_opt_in" if marketing else None,
            "consent_updated_at": created if marketing else None,
        },
        "sms_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": created,
            "consent_collected_from": "OTHER",
        }
        if phone
        else None,
        "tags": "",
        "currency": o["presentment_currency"],
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{cid}",
        "default_address": {
            "id": o["c_default_address_id"],
            "customer_id": cid,
            "first_name": o["c_first_name"],
            "last_name": o["c_last_name"],
            "company": None,
            "address1": o["c_address1"],
            "address2": o["c_address2"],
            "city": o["c_city"],
            "province": o["c_province"],
            "country": o["c_country"],
            "zip": o["c_postal_code"],
            "phone": phone,
            "name": f"{o['c_first_name']} {o['c_last_name']}",
            "province_code": o["c_province_code"],
            "country_code": o["c_country_code"],
            "country_name": o["c_country"],
            "default": True,
        },
    }


def _render_discounts(
    o: dict[str, Any], fs: Callable[[int], str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    kind = o["discount_kind"]
    if kind == "none":
        return [], []
    percentage = kind.endswith("percentage")
    value = o["discount_value"]
    # Percentages are stored in basis points, fixed amounts in shop-currency cents.
    value_str = f"{value / 100:.1f}" if percentage else fs(value)
    value_type = "percentage" if percentage else "fixed_amount"
    application: dict[str, Any] = {
        "target_type": "line_item",
        "type": "automatic" if kind.startswith("automatic") else "discount_code",
        "value": value_str,
        "value_type": value_type,
        "allocation_method": "across",
        "target_selection": "all",
    }
    if kind.startswith("automatic"):
        application["title"] = o["discount_code"]
        application["description"] = f"{o['discount_code']}: {value_str}% off everything"
        return [], [application]
    application["code"] = o["discount_code"]
    codes = [
        {"code": o["discount_code"], "amount": fs(o["total_discounts_minor"]), "type": value_type}
    ]
    return codes, [application]


def _render_fulfillments(
    o: dict[str, Any],
    shipments: list[dict[str, Any]],
    line_dicts: dict[int, dict[str, Any]],
    ts: Callable[[int | None], str | None],
    name: str,
) -> list[dict[str, Any]]:
    """One fulfillment per shipment visible at the clock (split orders have two)."""
    out = []
    for n, sh in enumerate(shipments, start=1):
        fid = sh["shipment_id"]
        shipped = ts(sh["shipped_at"])
        number, url = sh["tracking_number"], sh["tracking_url"]
        outcome_at = sh["outcome_at"]
        out.append(
            {
                "id": fid,
                "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fid}",
                "created_at": shipped,
                "location_id": sh["location_id"],
                "name": f"{name}.{n}",
                "order_id": o["order_id"],
                "origin_address": sh["origin"],
                "receipt": {"testcase": False, "authorization": str(fid)[-6:]},
                "service": "manual",
                "shipment_status": _SHIPMENT_STATUS.get(sh["outcome"], "in_transit"),
                "status": "success",
                "tracking_company": sh["carrier"],
                "tracking_number": number,
                "tracking_numbers": [number],
                "tracking_url": url,
                "tracking_urls": [url],
                "updated_at": ts(outcome_at) if outcome_at is not None else shipped,
                "line_items": [
                    {
                        "fulfillment_line_item_id": _FULFILLMENT_LINE_BASE
                        + mix((mix(fid, 21) + sl["line_id"]) & (2**64 - 1), 22) % 10**17,
                        **line_dicts[sl["line_id"]],
                        "quantity": sl["quantity"],
                    }
                    for sl in sorted(sh["lines"], key=lambda sl: sl["line_id"])
                ],
            }
        )
    return out


def _render_refunds(
    rec: OrderRecord,
    o: dict[str, Any],
    line_dicts: dict[int, dict[str, Any]],
    mset: Callable[[int, int], dict[str, Any]],
    fs: Callable[[int], str],
    fp: Callable[[int], str],
    ts: Callable[[int | None], str | None],
    zero_set: dict[str, Any],
    name: str,
) -> tuple[list[dict[str, Any]], tuple[int, int, int, int, int, int]]:
    """Refund objects plus the refunded (subtotal, tax, discount) in both currencies.

    Shipping given back is a ``shipping_refund`` order adjustment; a refund without lines
    (goodwill) is a ``refund_discrepancy``, as Shopify records them. A refund to store credit
    goes to the ``gift_card`` gateway with the card in its receipt."""
    out = []
    r_sub = r_sub_p = r_tax = r_tax_p = r_disc = r_disc_p = 0
    shop_cur, pres_cur = o["currency"], o["presentment_currency"]
    oid = o["order_id"]
    lines_by_id = {ln["line_id"]: ln for ln in rec.lines}
    location_of = {sl["line_id"]: sh["location_id"] for sh in rec.shipments for sl in sh["lines"]}
    for sequence, refund in enumerate(rec.refunds, start=3):
        rid = refund["refund_id"]
        at = ts(refund["created_at"])
        kind = refund["kind"]
        is_return = kind == "return"
        restock_type = (
            "cancel" if kind == "cancellation" else "return" if refund["restock"] else "no_restock"
        )
        refund_lines = []
        for rl in refund["lines"]:
            lid = rl["line_id"]
            q = rl["quantity"]
            sub, sub_p = rl["subtotal_minor"], rl["subtotal_presentment_minor"]
            tax, tax_p = rl["tax_minor"], rl["tax_presentment_minor"]
            r_sub += sub
            r_sub_p += sub_p
            r_tax += tax
            r_tax_p += tax_p
            # The discount share of the refunded units: gross price minus refunded subtotal.
            unit = lines_by_id[lid]
            r_disc += unit["unit_price_minor"] * q - sub
            r_disc_p += unit["unit_price_presentment_minor"] * q - sub_p
            refund_lines.append(
                {
                    "id": rl["refund_line_id"],
                    "line_item_id": lid,
                    "location_id": None
                    if restock_type == "no_restock"
                    else location_of.get(lid, rec.home_location),
                    "quantity": q,
                    "restock_type": restock_type,
                    "subtotal": minor_to_float(sub, shop_cur),
                    "subtotal_set": mset(sub, sub_p),
                    "total_tax": minor_to_float(tax, shop_cur),
                    "total_tax_set": mset(tax, tax_p),
                    "line_item": line_dicts[lid],
                }
            )
        adjustments = []
        if refund["adjustment_id"] is not None:
            if refund["lines"] or refund["shipping_minor"]:
                amount, amount_p = refund["shipping_minor"], refund["shipping_presentment_minor"]
                adj_kind, reason = "shipping_refund", "Shipping refund"
            else:
                amount, amount_p = refund["amount_minor"], refund["presentment_amount_minor"]
                adj_kind, reason = "refund_discrepancy", "Refund discrepancy"
            adjustments.append(
                {
                    "id": refund["adjustment_id"],
                    "amount": fs(-amount),
                    "amount_set": mset(-amount, -amount_p),
                    "kind": adj_kind,
                    "order_id": oid,
                    "reason": reason,
                    "refund_id": rid,
                    "tax_amount": fs(0),
                    "tax_amount_set": zero_set,
                }
            )
        shipping_lines = []
        if refund["shipping_minor"] > 0:
            shipping_lines.append(
                {
                    "id": rid + _REFUND_SHIPPING_KIND * 10**16,
                    "shipping_line_id": o["shipping_line_id"],
                    "subtotal_amount_set": mset(
                        refund["shipping_minor"], refund["shipping_presentment_minor"]
                    ),
                    "shipping_line": _shipping_line(o, mset, fs),
                }
            )
        gift_card = refund["gift_card_id"]
        reference = None if gift_card is not None else refund["reference"]
        receipt: dict[str, Any] = (
            {} if reference is None else {"testcase": False, "authorization": reference}
        )
        if gift_card is not None:
            receipt = {
                "gift_card_id": gift_card,
                "gift_card_last_characters": f"{gift_card:x}"[-4:],
            }
        tid = refund["transaction_id"]
        out.append(
            {
                "id": rid,
                "admin_graphql_api_id": f"gid://shopify/Refund/{rid}",
                "created_at": at,
                "note": refund["note"],
                "order_id": oid,
                "processed_at": at,
                "restock": refund["restock"],
                "return": None,
                "total_additional_fees_set": zero_set,
                "total_duties_set": zero_set,
                "user_id": _STAFF_USER_ID if is_return else None,
                "order_adjustments": adjustments,
                "refund_shipping_lines": shipping_lines,
                "transactions": [
                    {
                        "id": tid,
                        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}",
                        "amount": fp(refund["presentment_amount_minor"]),
                        "amount_rounding": None,
                        "authorization": reference,
                        "created_at": at,
                        "currency": pres_cur,
                        "currency_exchange_adjustment": None,
                        "device_id": None,
                        "error_code": None,
                        "gateway": "gift_card" if gift_card is not None else o["gateway"],
                        "kind": "refund",
                        "location_id": None,
                        "manual_payment_gateway": False,
                        "message": "Refund processed" if is_return else None,
                        "order_id": oid,
                        "parent_id": o["payment_transaction_id"],
                        "payment_id": f"{name}.{sequence}",
                        "processed_at": at,
                        "receipt": receipt,
                        "source_name": "web",
                        "status": "success",
                        "test": False,
                        "total_unsettled_set": {
                            "presentment_money": {"amount": "0.0", "currency": pres_cur},
                            "shop_money": {"amount": "0.0", "currency": shop_cur},
                        },
                        "user_id": None,
                    }
                ],
                "refund_line_items": refund_lines,
                "duties": [],
                "additional_fees": [],
            }
        )
    return out, (r_sub, r_sub_p, r_tax, r_tax_p, r_disc, r_disc_p)
