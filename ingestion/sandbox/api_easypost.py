"""Sandbox API: EasyPost shipments (``GET /v2/shipments``), the labels the seller bought, from
the ledger's ``shipping_labels`` as of the sandbox clock.

Why: what a seller pays carriers is on its label platform, not on any sales channel. The list
behaves as EasyPost's: ``page_size`` (1-100, default 20), newest first, ``before_id`` (the
page older than that shipment) and ``after_id`` (the page newer than it), ``start_datetime``/
``end_datetime`` on ``created_at`` (ISO 8601), ``purchased`` (only bought labels exist here),
``{"shipments": [...], "has_more": bool}``; HTTP Basic auth with the API key as user name (or
``Bearer``); EasyPost's error body ``{"error": {"code", "message", "errors"}}``; 429
``RATE_LIMITED`` from a token bucket (``RATE_PER_SECOND``, with ``Retry-After``).

Each shipment is a superset of the bought shipment in ``shared/fixtures/api/easypost/``:
``selected_rate`` (carrier, service, ``rate`` in USD), ``fees`` (``LabelFee`` and
``PostageFee``, amounts with five decimals as EasyPost prints them), ``parcel`` (inches and
ounces), ``customs_info`` with one ``customs_item`` per shipped line for cross-border parcels,
``tracker`` and ``postage_label``. ``reference`` is the sales channel's order id (what label
apps put there), so costs join the order.

Duties: EasyPost's Shipment has no field for what a carrier bills the shipper after import
clearance (its ``Fee`` types are label, postage, insurance and tracker fees, always USD). The
request side is EasyPost's own: ``options.incoterm`` (``DDP``/``DDU``) and, for DDP,
``options.duty_payment = {"type": "SENDER"}``. The billed amounts are served in a
``duties_and_taxes`` object named after EasyPost's Duties & Taxes API totals (``duty_total``,
``tax_total``, ``total``) plus ``currency`` (the destination currency the carrier's duty
invoice itemises) and ``billed_at``; null until the carrier bills, and ``updated_at`` moves to
``billed_at`` then, so an incremental reader with a lookback sees it.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import RecordShape, page_faults, register_shape
from ingestion.sandbox.http_common import BadRequest, iso_z, json_response, parse_instant
from ingestion.sandbox.money import format_minor
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.world.ids import chars

API_KEY = "EZTK_sandbox"
RATE_PER_SECOND = 10
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_HEX = "0123456789abcdef"
_EASYPOST_STATUS = {
    "InfoReceived": "pre_transit",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "failure",
    "Exception": "failure",
    "AvailableForPickup": "available_for_pickup",
    "Delivered": "delivered",
    "Expired": "unknown",
}
# Street addresses of the seller's own warehouses (the ledger keeps city and country only).
_WAREHOUSE_STREET = {
    "SZX": ("8 Pingshan 1st Rd", "Building B, Floor 3", "518055", "GD"),
    "LAX": ("2300 E Carson St", "Dock 14", "90810", "CA"),
    "FRA": ("Cargo City Sued 560", "Tor 7", "60549", "HE"),
    "BHX": ("Hams Hall Distribution Park", "Unit 4", "B46 1AL", "WAR"),
    "NRT": ("1-1 Furugome", "Cargo Bldg 5", "282-0004", "12"),
}
_WAREHOUSE_PHONE = "+86 755 8600 1234"
_WAREHOUSE_EMAIL = "shipping@tradelane.example"
# Typical transit days a rate quotes, by service.
_DELIVERY_DAYS = {
    "Ground Advantage": 4,
    "Priority Mail Express": 2,
    "Ground": 4,
    "Worldwide Saver": 4,
    "Paket": 2,
    "Paket International": 6,
    "Express Worldwide": 3,
    "International Priority": 3,
    "Classic": 3,
    "Tracked 48": 2,
    "Tracked 24": 1,
    "Yu-Pack": 2,
    "Special Line": 12,
    "Global Standard": 15,
}
_MM_PER_IN = 25.4
_G_PER_OZ = 28.349523125

register_shape(
    "easypost",
    "shipments",
    RecordShape(
        money=("selected_rate.rate", "fees.1.amount"),
        timestamps=("created_at", "updated_at"),
        currencies=("selected_rate.currency",),
        required=("selected_rate", "fees", "created_at", "reference"),
        objects=("selected_rate", "parcel"),
    ),
)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(
        {"error": {"code": code, "message": message, "errors": []}}, status, headers
    )


def _key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _hex_id(prefix: str, values: pl.Series, salt: int) -> pl.Series:
    return prefix + chars(values.to_numpy(), 32, salt, _HEX)


class EasyPostApi:
    """Request handlers bound to one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.key = getattr(ctx.config, "easypost_api_key", API_KEY)
        self.bucket = LeakyBucket(
            RATE_PER_SECOND, RATE_PER_SECOND, clock=ctx.config.rate_limit_clock
        )

    def shipments(self, request: Request) -> Response:
        key = _key(request)
        if key != self.key:
            return _error(401, "APIKEY.INACTIVE", "This api key is no longer active.")
        decision = self.bucket.acquire(key)
        if not decision.allowed:
            wait = str(max(1, math.ceil(decision.retry_after or 1)))
            return _error(
                429, "RATE_LIMITED", "Your request has been rate limited.", {"Retry-After": wait}
            )
        try:
            page, has_more = self._page(request.query_params)
        except BadRequest as exc:
            return _error(422, "PARAMETER.INVALID", exc.message)
        records = page_faults(request, "easypost", "shipments", self._render(page), "id")
        return json_response({"shipments": records, "has_more": has_more})

    def _ordered(self) -> pl.DataFrame:
        """Labels as of the clock, newest first (ties by id), with their served ``updated_at``
        and what a shipment shows of its order, recipient, warehouse and tracking status.
        Joined once per clock position: a page then only slices and renders its rows."""
        return self.ctx.state.cached(("easypost_shipments",), self._build_ordered)

    def _build_ordered(self) -> pl.DataFrame:
        state = self.ctx.state
        orders = state.table_as_of("orders").select(
            "order_id", "external_order_id", "name", "customer_id"
        )
        customers = state.table_as_of("customers").select(
            "customer_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address1",
            "address2",
            "city",
            "postal_code",
            "province_code",
            "country_code",
        )
        warehouses = state.table_as_of("warehouses").select(
            "code", wh_name="name", wh_city="city", wh_country="country_code"
        )
        status = state.table_as_of("shipments").select("shipment_id", "status")
        return (
            state.table_as_of("shipping_labels")
            .with_columns(updated_at=pl.max_horizontal("purchased_at", "duties_billed_at"))
            .join(orders, on="order_id", how="left", maintain_order="left")
            .join(customers, on="customer_id", how="left", maintain_order="left")
            .join(warehouses, left_on="warehouse_code", right_on="code", how="left")
            .join(status, on="shipment_id", how="left", maintain_order="left")
            .sort(["purchased_at", "label_id"], descending=True)
        )

    def _customs_lines(self) -> pl.DataFrame:
        """The shipped lines of every cross-border label as of the clock, sorted by shipment,
        with what a customs item declares (built once per clock position)."""
        state = self.ctx.state

        def build() -> pl.DataFrame:
            cross = state.table_as_of("shipping_labels").filter(pl.col("incoterm").is_not_null())
            return (
                state.table_as_of("shipment_lines")
                .join(cross.select("shipment_id"), on="shipment_id", how="semi")
                .join(
                    state.table_as_of("order_lines").select(
                        "line_id", "sku", "unit_price_minor", "currency"
                    ),
                    on="line_id",
                    how="left",
                )
                .join(
                    state.table_as_of("products").select(
                        "sku", "title", "hs_code", "origin_country_code", "weight_g"
                    ),
                    on="sku",
                    how="left",
                )
                .sort("shipment_id", "line_id")
            )

        return state.cached(("easypost_customs_lines",), build)

    def _page(self, params: Any) -> tuple[pl.DataFrame, bool]:
        size = _page_size(params.get("page_size"))
        frame = self._ordered()
        if params.get("start_datetime"):
            start = parse_instant("start_datetime", params["start_datetime"])
            frame = frame.filter(pl.col("purchased_at") >= start)
        if params.get("end_datetime"):
            end = parse_instant("end_datetime", params["end_datetime"])
            frame = frame.filter(pl.col("purchased_at") <= end)
        if params.get("purchased", "true").lower() == "false":
            frame = frame.clear()
        before, after = params.get("before_id"), params.get("after_id")
        if before and after:
            raise BadRequest("before_id", "before_id and after_id cannot be used together")
        cursor = before or after
        if cursor:
            at = frame.with_row_index("_i").filter(pl.col("label_id") == cursor)["_i"]
            if at.len() == 0:
                raise BadRequest("before_id" if before else "after_id", f"unknown id {cursor}")
            i = int(at[0])
            if before:
                rest = frame.slice(i + 1)
                return rest.head(size), rest.height > size
            start_i = max(0, i - size)
            return frame.slice(start_i, i - start_i), start_i > 0
        return frame.head(size), frame.height > size

    def _render(self, labels: pl.DataFrame) -> list[dict[str, Any]]:
        if labels.height == 0:
            return []
        rows = labels.with_columns(
            rate_id=_hex_id("rate_", labels["shipment_id"], 72),
            parcel_id=_hex_id("prcl_", labels["shipment_id"], 73),
            tracker_id=_hex_id("trk_", labels["shipment_id"], 74),
            label_file_id=_hex_id("pl_", labels["shipment_id"], 75),
            customs_id=_hex_id("cstinfo_", labels["shipment_id"], 76),
        )
        items = self._customs_items(labels)
        return [_shipment(row, items.get(row["shipment_id"], [])) for row in rows.to_dicts()]

    def _customs_items(self, labels: pl.DataFrame) -> dict[int, list[dict[str, Any]]]:
        cross = labels.filter(pl.col("incoterm").is_not_null())["shipment_id"]
        if cross.len() == 0:
            return {}
        lines = self._customs_lines().filter(pl.col("shipment_id").is_in(cross.implode()))
        lines = lines.with_columns(item_id=_hex_id("cstitem_", lines["line_id"], 77))
        out: dict[int, list[dict[str, Any]]] = {}
        for r in lines.to_dicts():
            out.setdefault(r["shipment_id"], []).append(
                {
                    "id": r["item_id"],
                    "object": "CustomsItem",
                    "description": r["title"],
                    "hs_tariff_number": r["hs_code"],
                    "origin_country": r["origin_country_code"],
                    "quantity": r["quantity"],
                    "value": format_minor(r["unit_price_minor"] * r["quantity"], r["currency"]),
                    "weight": round(r["weight_g"] * r["quantity"] / _G_PER_OZ, 1),
                    "code": r["sku"],
                    "currency": r["currency"],
                    "mode": "test",
                }
            )
        return out


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise BadRequest("page_size", f"page_size must be an integer, got {raw!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest("page_size", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return size


def _fee(kind: str, minor: int) -> dict[str, Any]:
    # EasyPost prints fee amounts in USD with five decimals ("6.07000").
    return {
        "object": "Fee",
        "type": kind,
        "amount": f"{minor // 100}.{minor % 100:02d}000",
        "charged": True,
        "refunded": False,
    }


def _address(prefix: str, at: str, fields: dict[str, Any], residential: bool) -> dict[str, Any]:
    return {
        "id": prefix,
        "object": "Address",
        "created_at": at,
        "updated_at": at,
        **fields,
        "company": None,
        "mode": "test",
        "residential": residential,
    }


def _shipment(r: dict[str, Any], customs_items: list[dict[str, Any]]) -> dict[str, Any]:
    created = iso_z(r["purchased_at"])
    updated = iso_z(r["updated_at"])
    shp = r["label_id"]
    rate = format_minor(r["postage_minor"], r["currency"])
    options: dict[str, Any] = {
        "label_format": "PNG",
        "invoice_number": r["name"],
        "currency": r["currency"],
        "payment": {"type": "SENDER"},
        "date_advance": 0,
    }
    if r["incoterm"] is not None:
        options["incoterm"] = r["incoterm"]
    if r["incoterm"] == "DDP":
        options["duty_payment"] = {"type": "SENDER"}
    status = _EASYPOST_STATUS.get(r["status"] or "", "unknown")
    street1, street2, zip_, state = _WAREHOUSE_STREET.get(r["warehouse_code"], (None,) * 4)
    from_address = _address(
        "adr_" + shp[4:],
        created,
        {
            "name": r["wh_name"],
            "street1": street1,
            "street2": street2,
            "city": r["wh_city"],
            "state": state,
            "zip": zip_,
            "country": r["wh_country"],
            "phone": _WAREHOUSE_PHONE,
            "email": _WAREHOUSE_EMAIL,
        },
        False,
    )
    to_address = _address(
        "adr_" + shp[-16:] + shp[4:20],
        created,
        {
            "name": f"{r['first_name']} {r['last_name']}",
            "street1": r["address1"],
            "street2": r["address2"],
            "city": r["city"],
            "state": r["province_code"],
            "zip": r["postal_code"],
            "country": r["country_code"],
            "phone": r["phone"],
            "email": r["email"],
        },
        True,
    )
    days = _DELIVERY_DAYS.get(r["service"])
    selected_rate = {
        "id": r["rate_id"],
        "object": "Rate",
        "created_at": created,
        "updated_at": created,
        "mode": "test",
        "service": r["service"],
        "carrier": r["carrier"],
        "rate": rate,
        "currency": r["currency"],
        # The carrier's counter price: what the seller would pay without the platform's discount.
        "retail_rate": format_minor(r["postage_minor"] * 5 // 4, r["currency"]),
        "retail_currency": r["currency"],
        "list_rate": rate,
        "list_currency": r["currency"],
        "billing_type": "easypost",
        "delivery_days": days,
        "delivery_date": None,
        "delivery_date_guaranteed": False,
        "est_delivery_days": days,
        "shipment_id": shp,
        "carrier_account_id": "ca_" + r["carrier"].lower().replace(" ", "_"),
    }
    duties = None
    if r["duties_billed_at"] is not None:
        cur = r["duty_currency"]
        duties = {
            "object": "DutiesAndTaxes",
            "billed_to": "SENDER",
            "carrier": r["carrier"],
            "currency": cur,
            "customs_value": format_minor(r["customs_value_minor"], cur),
            "duty_total": format_minor(r["duty_minor"], cur),
            "tax_total": format_minor(r["import_tax_minor"], cur),
            "total": format_minor(r["duty_minor"] + r["import_tax_minor"], cur),
            "billed_at": iso_z(r["duties_billed_at"]),
        }
    customs_info = None
    if r["incoterm"] is not None:
        customs_info = {
            "id": r["customs_id"],
            "object": "CustomsInfo",
            "created_at": created,
            "updated_at": created,
            "contents_explanation": "",
            "contents_type": "merchandise",
            "customs_certify": True,
            "customs_signer": r["wh_name"],
            "eel_pfc": "NOEEI 30.37(a)",
            "non_delivery_option": "return",
            "restriction_comments": None,
            "restriction_type": "none",
            "mode": "test",
            "declaration": None,
            "customs_items": customs_items,
        }
    return {
        "id": shp,
        "object": "Shipment",
        "created_at": created,
        "updated_at": updated,
        "is_return": False,
        "messages": [],
        "mode": "test",
        "options": options,
        "reference": r["external_order_id"],
        "status": status,
        "tracking_code": r["tracking_number"],
        "batch_id": None,
        "batch_status": None,
        "batch_message": None,
        "customs_info": customs_info,
        "from_address": from_address,
        "insurance": None,
        "order_id": None,
        "parcel": {
            "id": r["parcel_id"],
            "object": "Parcel",
            "created_at": created,
            "updated_at": created,
            "length": round(r["length_mm"] / _MM_PER_IN, 1),
            "width": round(r["width_mm"] / _MM_PER_IN, 1),
            "height": round(r["height_mm"] / _MM_PER_IN, 1),
            "predefined_package": None,
            "weight": round(r["actual_weight_g"] / _G_PER_OZ, 1),
            "mode": "test",
        },
        "postage_label": {
            "object": "PostageLabel",
            "id": r["label_file_id"],
            "created_at": created,
            "updated_at": created,
            "date_advance": 0,
            "integrated_form": "none",
            "label_date": created,
            "label_resolution": 300,
            "label_size": "4x6",
            "label_type": "default",
            "label_file_type": "image/png",
            "label_url": f"https://easypost-files.example/postage_label/{shp}.png",
            "label_pdf_url": None,
            "label_zpl_url": None,
            "label_epl2_url": None,
            "label_file": None,
        },
        "rates": [selected_rate],
        "refund_status": None,
        "scan_form": None,
        "selected_rate": selected_rate,
        "tracker": {
            "id": r["tracker_id"],
            "object": "Tracker",
            "mode": "test",
            "tracking_code": r["tracking_number"],
            "status": status,
            "status_detail": "unknown",
            "created_at": created,
            "updated_at": updated,
            "signed_by": None,
            "weight": None,
            "est_delivery_date": None,
            "shipment_id": shp,
            "carrier": r["carrier"],
            "tracking_details": [],
            "fees": [],
            "carrier_detail": None,
            "public_url": f"https://track.easypost.com/{r['tracker_id']}",
        },
        "to_address": to_address,
        "usps_zone": r["zone"] if r["carrier"] == "USPS" else None,
        "return_address": from_address,
        "buyer_address": to_address,
        "forms": [],
        "fees": [_fee("LabelFee", r["label_fee_minor"]), _fee("PostageFee", r["postage_minor"])],
        "duties_and_taxes": duties,
    }


def routes(ctx: SandboxContext) -> list[Route]:
    """``GET /v2/shipments``."""
    api = EasyPostApi(ctx)
    return [Route("/v2/shipments", api.shipments, methods=["GET"])]
