"""Render ledger shipments and their tracking events as AfterShip trackings, as of the clock.

Why this shape: the tracking connector is written against AfterShip's real payloads, so every
field path and JSON type of the official examples (``shared/fixtures/api/aftership/``) is
emitted here, derived from the ledger: one tracking per shipment, one checkpoint per
``tracking_events`` row, ``checkpoint_time`` in the local offset of the scan (the ledger's
``local_utc_offset_minutes``), the tracking's ``tag``/``subtag`` those of its latest checkpoint
(``Pending`` before the first), the merchant's order linked through ``order_id`` (the id as the
sales channel shows it: Shopify's numeric id as text, Amazon's ``113-...``).

AfterShip's own timing is reproduced because incremental connectors depend on it: a tracking
exists from a few minutes after the parcel ships (the merchant registers it), and a carrier scan
shows up only when AfterShip next polls the carrier, 5 to 90 minutes after the scan
(checkpoint ``created_at``). ``updated_at`` is the latest of those, so a connector reading
``updated_at_min`` windows sees every scan exactly when AfterShip would have shown it.

Speed matters (pages of up to 200 trackings, with a dozen checkpoints each): per-tracking facts
are derived once per clock position in polars, checkpoint strings are formatted per page in
polars, and nothing is deep-copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pycountry

_MASK64 = (1 << 64) - 1
# An odd multiplier is invertible modulo 2**64: tracking ids can be mapped back to shipments.
_ID_MULT = 0x9E3779B97F4A7C15
_ID_INV = pow(_ID_MULT, -1, 1 << 64)
_UTC_FMT = "%Y-%m-%dT%H:%M:%S+00:00"
_LOCAL_FMT = "%Y-%m-%dT%H:%M:%S"
_UTC = pl.Datetime("us", "UTC")

TAGS = (
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
)
# AfterShip's sub-status definitions (subtag -> subtag_message).
SUBTAG_MESSAGES = {
    "Pending_001": "No information yet",
    "InfoReceived_001": "Info Received",
    "InTransit_001": "In Transit",
    "InTransit_002": "Acceptance scan",
    "InTransit_003": "Arrival scan",
    "InTransit_004": "Arrived at destination country",
    "InTransit_005": "Customs clearance completed",
    "InTransit_006": "Customs clearance started",
    "InTransit_007": "Departure Scan",
    "InTransit_008": "Problem resolved",
    "InTransit_009": "Forwarded to a different delivery address",
    "OutForDelivery_001": "Out for Delivery",
    "OutForDelivery_003": "Customer contacted",
    "OutForDelivery_004": "Delivery appointment scheduled",
    "AttemptFail_001": "Addressee not available",
    "AttemptFail_002": "Business closed",
    "AttemptFail_003": "Customer to pick up",
    "Delivered_001": "Delivered",
    "Delivered_002": "Picked up by the customer",
    "Delivered_003": "Package delivered to and signed by the customer",
    "Delivered_004": "Package delivered and cash collected on delivery",
    "AvailableForPickup_001": "Available for Pickup",
    "Exception_001": "Exception",
    "Exception_002": "Customer moved",
    "Exception_003": "Customer refused delivery",
    "Exception_004": "Delayed (Customs clearance)",
    "Exception_005": "Delayed (External factors)",
    "Exception_006": "Held for payment",
    "Exception_007": "Incorrect Address",
    "Exception_008": "Pick up missed",
    "Exception_009": "Rejected by carrier",
    "Exception_010": "Returning to sender",
    "Exception_011": "Returned to sender",
    "Exception_012": "Shipment damage",
    "Exception_013": "Shipment lost",
    "Expired_001": "Expired",
}
_RETURN_SUBTAGS = ("Exception_010", "Exception_011")
# Ledger carrier -> (AfterShip slug, tracking page with {n} for the number, typical days).
CARRIERS: dict[str, tuple[str, str, int]] = {
    "DHL": ("dhl", "https://www.dhl.com/en/express/tracking.html?AWB={n}&brand=DHL", 4),
    "FedEx": ("fedex", "https://www.fedex.com/fedextrack/?tracknumbers={n}", 4),
    "UPS": ("ups", "https://www.ups.com/track?tracknum={n}", 4),
    "USPS": ("usps", "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}", 5),
    "Yanwen": ("yanwen", "https://track.yw56.com.cn/en/querydel?nums={n}", 12),
    "Cainiao": ("cainiao", "https://global.cainiao.com/detail.htm?mailNoList={n}", 12),
    "Royal Mail": (
        "royal-mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
        3,
    ),
    "Japan Post": (
        "japan-post",
        "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={n}",
        6,
    ),
    "DPD": ("dpd", "https://tracking.dpd.de/status/en_US/parcel/{n}", 3),
}
# Consolidators hand parcels to the destination's postal service for the last mile
# (AfterShip's ``next_couriers``); AfterShip spells Deutsche Post's slug "deutsch-post".
_LAST_MILE = {"US": "usps", "GB": "royal-mail", "DE": "deutsch-post", "JP": "japan-post"}
_CONSOLIDATORS = ("yanwen", "cainiao")
_SELLER_CENTRAL = {"US": "com", "DE": "de", "GB": "co.uk", "JP": "co.jp"}


def mix(value: int, salt: int) -> int:
    """A stable 64-bit scramble of an id (splitmix64 finaliser) for per-record choices."""
    z = (value * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def tracking_id(shipment_id: int, created_epoch_s: int) -> str:
    """A 24-hex-digit id shaped like AfterShip's (a MongoDB ObjectId: creation second, then
    an invertible scramble of the shipment id)."""
    return f"{created_epoch_s & 0xFFFFFFFF:08x}{(shipment_id * _ID_MULT) & _MASK64:016x}"


def shipment_of_tracking_id(value: str) -> int | None:
    """The shipment id a ``tracking_id`` was made from, or None if it is not one."""
    if len(value) != 24:
        return None
    try:
        scrambled = int(value[8:], 16)
        int(value[:8], 16)
    except ValueError:
        return None
    return (scrambled * _ID_INV) & _MASK64


@cache
def country(code: str | None) -> tuple[str | None, str | None]:
    """(ISO 3166 alpha-3, English name) of an alpha-2 code; (None, None) when unknown."""
    if not code:
        return None, None
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return None, None
    return found.alpha_3, getattr(found, "common_name", None) or found.name


def slug_of(carrier: str) -> str:
    known = CARRIERS.get(carrier)
    return known[0] if known else carrier.lower().replace(" ", "-")


def _lag_minutes(epoch_col: pl.Expr, salt: int, lo: int, span: int) -> pl.Expr:
    """A deterministic delay of ``lo`` to ``lo + span - 1`` minutes keyed by an epoch value."""
    return lo + ((epoch_col // 60 + salt) * 2654435761 % 4294967291) % span


def _at_or_before(column: str, now: pl.Expr) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column) <= now)


@dataclass(frozen=True)
class Trackings:
    """What the endpoints read at one clock position.

    ``trackings``: one row per tracking visible at ``now`` (columns of ``shipments`` plus
    ``created_at``/``updated_at``, checkpoint facts, order, customer and origin columns),
    sorted newest first by (``created_us``, ``shipment_id``). ``events``: visible checkpoints
    sorted by (``tracking_number``, ``seq``) with ``cp_created``."""

    trackings: pl.DataFrame
    events: pl.DataFrame


def build_trackings(
    shipments: pl.DataFrame,
    events: pl.DataFrame,
    orders: pl.DataFrame,
    customers: pl.DataFrame,
    warehouses: pl.DataFrame,
    channels: pl.DataFrame,
    weights: pl.DataFrame | None,
    now: datetime,
) -> Trackings:
    """Derive ``Trackings`` from ledger tables (masked as of ``now`` or not: every event time
    is compared with ``now`` here). ``weights`` maps ``shipment_id`` to ``weight_g`` when the
    ledger can tell (else None)."""
    t = pl.lit(now).cast(_UTC)
    shipped_us = pl.col("shipped_at").dt.epoch("us")
    tr = (
        shipments.filter(_at_or_before("shipped_at", t))
        .with_columns(
            created_at=(
                pl.col("shipped_at")
                + pl.duration(minutes=_lag_minutes(shipped_us // 1_000_000, 7, 2, 15))
            ).dt.truncate("1s")
        )
        .filter(pl.col("created_at") <= t)
    )
    event_us = pl.col("event_at").dt.epoch("us")
    ev = (
        events.filter(_at_or_before("event_at", t))
        .join(
            tr.select("tracking_number", tr_created=pl.col("created_at")),
            on="tracking_number",
            how="inner",
        )
        .with_columns(
            cp_created=pl.max_horizontal(
                (
                    pl.col("event_at")
                    + pl.duration(minutes=_lag_minutes(event_us // 1_000_000, pl.col("seq"), 5, 86))
                ).dt.truncate("1s"),
                pl.col("tr_created") + pl.duration(seconds=2),
            )
        )
        .filter(pl.col("cp_created") <= t)
        .sort("tracking_number", "seq")
        .drop("tr_created")
    )
    local = (
        pl.col("event_at") + pl.duration(minutes=pl.col("local_utc_offset_minutes"))
    ).dt.strftime(_LOCAL_FMT)
    tag = pl.col("tag")
    facts = ev.group_by("tracking_number").agg(
        n_checkpoints=pl.len(),
        last_tag=tag.last(),
        last_subtag=pl.col("subtag").last(),
        last_cp_created=pl.col("cp_created").max(),
        first_event_at=pl.col("event_at").first(),
        delivered_at_seen=pl.col("event_at").filter(tag == "Delivered").first(),
        pickup_local=local.filter(tag == "InTransit").first(),
        delivery_local=local.filter(tag == "Delivered").first(),
        first_attempt_event=pl.struct("event_at", "local_utc_offset_minutes")
        .filter(tag.is_in(["AttemptFail", "Delivered", "AvailableForPickup"]))
        .first(),
        is_returned=pl.col("subtag").is_in(list(_RETURN_SUBTAGS)).any(),
        pickup_point=pl.col("city").filter(tag == "AvailableForPickup").first(),
    )
    order_cols = orders.select(
        "order_id",
        "external_order_id",
        order_name=pl.col("name"),
        order_created=pl.col("created_at"),
        order_channel=pl.col("channel_id"),
        customer_id=pl.col("customer_id"),
    )
    customer_cols = customers.select(
        "customer_id",
        c_first_name=pl.col("first_name"),
        c_last_name=pl.col("last_name"),
        c_email=pl.col("email"),
        c_phone=pl.col("phone"),
        c_country=pl.col("country_code"),
        c_city=pl.col("city"),
        c_province=pl.col("province_code"),
    )
    frame = (
        tr.join(facts, on="tracking_number", how="left")
        .join(order_cols, on="order_id", how="left")
        .join(customer_cols, on="customer_id", how="left")
        .join(
            warehouses.select(warehouse_code=pl.col("code"), origin_country=pl.col("country_code")),
            on="warehouse_code",
            how="left",
        )
        .join(
            channels.select(
                order_channel=pl.col("channel_id"),
                platform=pl.col("platform"),
                store_id=pl.col("store_id"),
                channel_country=pl.col("country_code"),
            ),
            on="order_channel",
            how="left",
        )
        .with_columns(
            pl.col("n_checkpoints").fill_null(0),
            pl.col("is_returned").fill_null(False),
            tag=pl.col("last_tag").fill_null("Pending"),
            subtag=pl.col("last_subtag").fill_null("Pending_001"),
            updated_at=pl.max_horizontal("created_at", "last_cp_created"),
        )
        .with_columns(
            created_us=pl.col("created_at").dt.epoch("us"),
            updated_us=pl.col("updated_at").dt.epoch("us"),
        )
    )
    if weights is not None:
        frame = frame.join(weights, on="shipment_id", how="left")
    else:
        frame = frame.with_columns(weight_g=pl.lit(None, dtype=pl.Int64))
    frame = frame.sort("created_us", "shipment_id", descending=True)
    return Trackings(trackings=frame, events=ev)


def _offset_suffix(off: pl.Expr | None = None) -> pl.Expr:
    """``+08:00`` / ``-04:00`` from an offset in minutes."""
    off = pl.col("local_utc_offset_minutes") if off is None else off
    sign = pl.when(off < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    hours = (off.abs() // 60).cast(pl.String).str.zfill(2)
    minutes = (off.abs() % 60).cast(pl.String).str.zfill(2)
    return pl.concat_str(sign, hours, pl.lit(":"), minutes)


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
    attempt = pl.col("first_attempt_event")
    attempt_at = attempt.struct.field("event_at")
    attempt_off = attempt.struct.field("local_utc_offset_minutes")
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
