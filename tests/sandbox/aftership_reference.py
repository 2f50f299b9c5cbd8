"""The per-tracking AfterShip renderer the server used before rendering went column-wise:
the reference ``test_aftership_rendering`` holds ``aftership_render.tracking_json`` to (same
parsed JSON for every tracking). One Python dict per tracking, built per page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from ingestion.sandbox.aftership_render import (
    _CONSOLIDATORS,
    _LAST_MILE,
    _LOCAL_FMT,
    _SELLER_CENTRAL,
    _UTC,
    _UTC_FMT,
    CARRIERS,
    SUBTAG_MESSAGES,
    Trackings,
    _offset_suffix,
    country,
    mix,
    slug_of,
    tracking_id,
)


def _page_checkpoints(events: pl.DataFrame, numbers: list[str]) -> list[list[dict[str, Any]]]:
    """The visible checkpoint rows of each tracking number in ``numbers`` (in order), with
    ``checkpoint_time`` (local offset) and ``created`` (UTC) formatted."""
    if not numbers:
        return []
    keys = pl.Series(numbers, dtype=pl.String)
    column = events["tracking_number"]
    starts = column.search_sorted(keys, side="left").to_numpy().astype(np.int64)
    ends = column.search_sorted(keys, side="right").to_numpy().astype(np.int64)
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return [[] for _ in numbers]
    offsets = np.cumsum(counts) - counts
    gather = np.repeat(starts - offsets, counts) + np.arange(total)
    rows = (
        events[gather]
        .with_columns(
            checkpoint_time=pl.concat_str(
                (
                    pl.col("event_at") + pl.duration(minutes=pl.col("local_utc_offset_minutes"))
                ).dt.strftime(_LOCAL_FMT),
                _offset_suffix(),
            ),
            created=pl.col("cp_created").dt.strftime(_UTC_FMT),
        )
        .select(
            "tag",
            "subtag",
            "city",
            "country_code",
            "message",
            "checkpoint_time",
            "created",
            # Carriers report a region with some scans; the ledger may keep it.
            (pl.col("state") if "state" in events.columns else pl.lit(None, pl.String)).alias(
                "state"
            ),
        )
        .to_dicts()
    )
    out, pos = [], 0
    for n in counts.tolist():
        out.append(rows[pos : pos + n])
        pos += n
    return out


def _checkpoint(row: dict[str, Any], slug: str, home: tuple[Any, Any, Any]) -> dict[str, Any]:
    """One checkpoint; ``home`` is the buyer's (country, city, province): a scan in the buyer's
    city is reported with the buyer's region when the ledger has none for it."""
    iso3, name = country(row["country_code"])
    city = row["city"]
    subtag = row["subtag"]
    state = row["state"]
    if state is None and city is not None and (row["country_code"], city) == home[:2]:
        state = home[2]
    return {
        "slug": slug,
        "city": city,
        "created_at": row["created"],
        "location": (
            f"{city.upper()}, {state}" if state else f"{city.upper()} {row['country_code']}"
        )
        if city
        else None,
        "country_name": name,
        "message": row["message"],
        "country_iso3": iso3,
        "tag": row["tag"],
        "subtag": subtag,
        "subtag_message": SUBTAG_MESSAGES.get(subtag, row["tag"]),
        "checkpoint_time": row["checkpoint_time"],
        "coordinates": [],
        "state": state,
        "zip": None,
        "raw_tag": f"{slug[:3].upper()}_{subtag.split('_')[-1]}",
    }


def _order_id_path(t: dict[str, Any]) -> str | None:
    order_id = t["external_order_id"]
    if order_id is None:
        return None
    if t["platform"] == "shopify":
        handle = str(t["store_id"] or "").split(".")[0]
        return f"https://admin.shopify.com/store/{handle}/orders/{order_id}"
    if t["platform"] == "amazon":
        tld = _SELLER_CENTRAL.get(t["channel_country"] or "US", "com")
        return f"https://sellercentral.amazon.{tld}/orders-v3/order/{order_id}"
    return None


# Columns of ``Trackings.trackings`` the renderer reads (the rest stays in polars).
_PAGE_COLUMNS = (
    "shipment_id",
    "tracking_number",
    "carrier",
    "service",
    "tag",
    "subtag",
    "n_checkpoints",
    "is_returned",
    "pickup_point",
    "pickup_local",
    "delivery_local",
    "external_order_id",
    "order_name",
    "platform",
    "store_id",
    "channel_country",
    "origin_country",
    "c_first_name",
    "c_last_name",
    "c_email",
    "c_phone",
    "c_country",
    "c_city",
    "c_province",
    "weight_g",
)


def _page_rows(page: pl.DataFrame, now: datetime) -> list[dict[str, Any]]:
    """The page's rows with every timestamp and date the payload shows formatted by polars
    (one vectorized pass instead of a dozen ``strftime`` calls per tracking)."""
    transit = pl.col("carrier").replace_strict(
        {c: spec[2] for c, spec in CARRIERS.items()}, default=7, return_dtype=pl.Int64
    )
    edd = pl.col("shipped_at") + pl.duration(days=transit)
    promised = pl.coalesce("order_created", "shipped_at") + pl.duration(days=transit + 3)
    attempt_at = pl.col("first_attempt_at")
    attempt_off = pl.col("first_attempt_offset")
    edd_off = attempt_off.fill_null(0)
    day = "%Y-%m-%d"
    delivered = pl.col("tag") == "Delivered"
    end = pl.when(delivered).then(pl.col("delivered_at_seen")).otherwise(pl.lit(now).cast(_UTC))
    return page.select(
        *_PAGE_COLUMNS,
        created_epoch=pl.col("created_at").dt.epoch("s"),
        created_s=pl.col("created_at").dt.strftime(_UTC_FMT),
        updated_s=pl.col("updated_at").dt.strftime(_UTC_FMT),
        order_date_s=pl.col("order_created").dt.strftime(_UTC_FMT),
        first_attempt_s=pl.concat_str(
            (attempt_at + pl.duration(minutes=attempt_off)).dt.strftime(_LOCAL_FMT),
            _offset_suffix(attempt_off),
        ),
        edd_local_s=pl.concat_str(
            (edd + pl.duration(minutes=edd_off)).dt.strftime(_LOCAL_FMT), _offset_suffix(edd_off)
        ),
        edd_date=edd.dt.strftime(day),
        edd_min=(edd - pl.duration(days=1)).dt.strftime(day),
        edd_max=(edd + pl.duration(days=3)).dt.strftime(day),
        promised_date=promised.dt.strftime(day),
        delivery_days=pl.when(pl.col("first_event_at").is_null())
        .then(0)
        .otherwise((end - pl.col("first_event_at")).dt.total_days())
        .clip(lower_bound=0),
    ).to_dicts()


def render_page(data: Trackings, page: pl.DataFrame, now: datetime) -> list[dict[str, Any]]:
    """AfterShip tracking dicts for ``page`` (rows of ``Trackings.trackings``)."""
    if page.height == 0:
        return []
    rows = _page_rows(page, now)
    checkpoints = _page_checkpoints(data.events, [r["tracking_number"] for r in rows])
    return [render_tracking(r, cps) for r, cps in zip(rows, checkpoints, strict=True)]


def render_tracking(t: dict[str, Any], cps: list[dict[str, Any]]) -> dict[str, Any]:
    """One AfterShip tracking from a row of ``_page_rows`` and its checkpoint rows."""
    sid = t["shipment_id"]
    number = t["tracking_number"]
    carrier = CARRIERS.get(t["carrier"])
    slug = slug_of(t["carrier"])
    link = carrier[1].format(n=number) if carrier else None
    tag, subtag = t["tag"], t["subtag"]
    dest_iso3, dest_name = country(t["c_country"])
    origin_iso3, _ = country(t["origin_country"])
    delivered = tag == "Delivered"
    finished = delivered or tag == "Expired"
    delivery_days = t["delivery_days"]
    dest_offset = cps[-1]["checkpoint_time"] if cps else None
    edd_local = t["edd_local_s"]
    weight = t["weight_g"]
    pickup = t["pickup_point"]
    next_couriers = []
    last_mile = _LAST_MILE.get(t["c_country"] or "")
    if slug in _CONSOLIDATORS and last_mile is not None:
        next_couriers.append(
            {
                "slug": last_mile,
                "tracking_number": f"92{mix(sid, 21) % 10**20:020d}",
                "source": "system",
            }
        )
    customer = f"{t['c_first_name']} {t['c_last_name']}" if t["c_first_name"] is not None else None
    email, phone = t["c_email"], t["c_phone"]
    has_sms = phone is not None and mix(sid, 22) % 3 == 0
    custom_edd = mix(sid, 23) % 5 == 0
    home = (t["c_country"], t["c_city"], t["c_province"])
    return {
        "id": tracking_id(sid, t["created_epoch"]),
        "created_at": t["created_s"],
        "updated_at": t["updated_s"],
        "last_updated_at": t["updated_s"],
        "tracking_number": number,
        "slug": slug,
        "active": not finished,
        "android": [],
        "custom_fields": None,
        "customer_name": customer,
        "delivery_time": delivery_days,
        "destination_country_iso3": dest_iso3,
        "courier_destination_country_iso3": dest_iso3,
        "emails": [email] if email else [],
        "expected_delivery": None if finished else t["edd_date"],
        "ios": [],
        "note": None,
        "order_id": t["external_order_id"],
        "order_id_path": _order_id_path(t),
        "order_date": t["order_date_s"],
        "order_number": t["order_name"] or t["external_order_id"],
        "origin_country_iso3": origin_iso3,
        "shipment_package_count": 1,
        "shipment_pickup_date": t["pickup_local"],
        "shipment_delivery_date": t["delivery_local"],
        "shipment_type": t["service"],
        # Carriers bill whole kilograms; AfterShip relays the integer they report.
        "shipment_weight": None if weight is None else max(1, -(-int(weight) // 1000)),
        "shipment_weight_unit": "kg",
        "signed_by": ((t["c_last_name"] or "").upper() or None) if delivered else None,
        "smses": [phone] if has_sms else [],
        "source": "api",
        "tag": tag,
        "subtag": subtag,
        "subtag_message": SUBTAG_MESSAGES.get(subtag, tag),
        "title": t["order_name"] or number,
        "tracked_count": t["n_checkpoints"] + 1,
        "last_mile_tracking_supported": True if next_couriers else None,
        "language": None,
        "unique_token": "deprecated",
        "checkpoints": [_checkpoint(cp, slug, home) for cp in cps],
        "subscribed_smses": [phone] if has_sms else [],
        "subscribed_emails": [email] if email else [],
        "return_to_sender": t["is_returned"],
        "tracking_account_number": None,
        "tracking_origin_country": None,
        "tracking_destination_country": None,
        "tracking_key": None,
        "tracking_postal_code": None,
        "tracking_ship_date": None,
        "tracking_state": None,
        "order_promised_delivery_date": t["promised_date"],
        "delivery_type": "pickup_at_courier_location" if pickup else "door_to_door",
        "pickup_location": pickup,
        "pickup_note": None,
        "courier_tracking_link": link,
        "courier_redirect_link": link,
        "first_attempted_at": t["first_attempt_s"],
        "aftership_estimated_delivery_date": None
        if finished or not cps
        else {
            "estimated_delivery_date": t["edd_date"],
            "confidence_score": 0.8,
            "estimated_delivery_date_min": t["edd_min"],
            "estimated_delivery_date_max": t["edd_max"],
        },
        "order_tags": None,
        "destination_raw_location": f"{t['c_city']}, {dest_name}" if t["c_city"] else None,
        "shipment_tags": ["Returned"] if t["is_returned"] else [],
        "next_couriers": next_couriers,
        "courier_connection_id": f"{mix(sid, 24):016x}{mix(sid, 25):016x}"
        if mix(sid, 26) % 4 == 0
        else None,
        "custom_estimated_delivery_date": {
            "type": "specific",
            "datetime": t["promised_date"],
            "datetime_min": None,
            "datetime_max": None,
        }
        if custom_edd
        else None,
        "first_estimated_delivery": {
            "type": "specific",
            "source": "Carrier EDD",
            "datetime": edd_local,
            "datetime_min": None,
            "datetime_max": None,
        },
        "latest_estimated_delivery": {
            "type": "specific",
            "source": "AfterShip EDD",
            "datetime": dest_offset if delivered and dest_offset else edd_local,
            "datetime_min": None,
            "datetime_max": None,
        },
        "transit_time": delivery_days if delivered else None,
    }
