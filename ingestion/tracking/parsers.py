"""AfterShip tracking JSON -> typed Arrow tables, exactly.

AfterShip's quirks, each handled here and tested against AfterShip's own examples:
- checkpoint times are the carrier's local time with its offset (``2018-07-23T16:58:00+08:00``;
  one parcel's scans run from -05:00 to +09:00): stored in UTC *and* with the offset in minutes,
  so "delivered on the buyer's local day" stays answerable. Some carriers give no offset at all
  (AfterShip documents ``YYYY-MM-DDTHH:mm:ss`` and date-only forms): the UTC instant is then
  unknown and left null rather than guessed, and the local wall-clock time is always kept;
- ``shipment_pickup_date``/``shipment_delivery_date`` are local times without an offset, kept as
  local timestamps;
- ``expected_delivery`` may be a date, a local time or a time with an offset: its local date is
  kept, and the UTC instant when an offset makes it known;
- ids are opaque strings (24 hex digits), and a tracking's checkpoints have no id: they are
  keyed by their position in the list (``seq``), which AfterShip keeps in time order.

A tracking that cannot be read exactly goes, with its checkpoints, to the quarantine with the
reason and its raw payload; the rest of the page loads.

The source reads pages column-wise (``columnar.py``); this per-record parser is the definition
that reader is tested against, and what reads the trackings it leaves aside (malformed ones,
values in uncommon forms, pages its schema cannot decode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pyarrow as pa

from ingestion.common.parsing import (
    UTC_TIMESTAMP_TYPE,
    BadValue,
    nested_object,
    optional_bool,
    optional_utc_timestamp,
    required_str,
    utc_timestamp,
)
from ingestion.common.quarantine import Quarantine

SOURCE = "tracking"
LOCAL_TIMESTAMP_TYPE = pa.timestamp("us")

TRACKINGS_SCHEMA = pa.schema(
    [
        pa.field("tracking_id", pa.string(), nullable=False),
        ("tracking_number", pa.string()),
        ("slug", pa.string()),
        ("order_id", pa.string()),
        ("order_number", pa.string()),
        ("order_date", pa.date32()),
        ("title", pa.string()),
        ("source", pa.string()),
        ("tag", pa.string()),
        ("subtag", pa.string()),
        ("subtag_message", pa.string()),
        ("is_active", pa.bool_()),
        ("is_return_to_sender", pa.bool_()),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("updated_at", UTC_TIMESTAMP_TYPE),
        ("last_updated_at", UTC_TIMESTAMP_TYPE),
        ("origin_country_iso3", pa.string()),
        ("destination_country_iso3", pa.string()),
        ("courier_destination_country_iso3", pa.string()),
        ("shipment_type", pa.string()),
        ("shipment_package_count", pa.int64()),
        ("shipment_weight", pa.float64()),
        ("shipment_weight_unit", pa.string()),
        ("shipment_pickup_local", LOCAL_TIMESTAMP_TYPE),
        ("shipment_delivery_local", LOCAL_TIMESTAMP_TYPE),
        ("signed_by", pa.string()),
        ("delivery_time_days", pa.int64()),
        ("transit_time_days", pa.int64()),
        ("expected_delivery_date", pa.date32()),
        ("expected_delivery_at", UTC_TIMESTAMP_TYPE),
        ("order_promised_delivery_date", pa.date32()),
        ("aftership_estimated_delivery_date", pa.date32()),
        ("aftership_estimated_delivery_date_min", pa.date32()),
        ("aftership_estimated_delivery_date_max", pa.date32()),
        ("latest_estimated_delivery_date", pa.date32()),
        ("latest_estimated_delivery_at", UTC_TIMESTAMP_TYPE),
        ("first_attempted_at", UTC_TIMESTAMP_TYPE),
        ("first_attempted_at_utc_offset_minutes", pa.int32()),
        ("delivery_type", pa.string()),
        ("pickup_location", pa.string()),
        ("courier_tracking_link", pa.string()),
        ("tracked_count", pa.int64()),
        ("checkpoint_count", pa.int64()),
        ("custom_fields", pa.string()),
    ]
)

CHECKPOINTS_SCHEMA = pa.schema(
    [
        pa.field("tracking_id", pa.string(), nullable=False),
        pa.field("seq", pa.int32(), nullable=False),
        ("tracking_number", pa.string()),
        ("tracking_updated_at", UTC_TIMESTAMP_TYPE),
        ("slug", pa.string()),
        ("checkpoint_time", UTC_TIMESTAMP_TYPE),
        ("checkpoint_utc_offset_minutes", pa.int32()),
        ("checkpoint_local_time", LOCAL_TIMESTAMP_TYPE),
        ("created_at", UTC_TIMESTAMP_TYPE),
        ("tag", pa.string()),
        ("subtag", pa.string()),
        ("subtag_message", pa.string()),
        ("message", pa.string()),
        ("raw_tag", pa.string()),
        ("location", pa.string()),
        ("city", pa.string()),
        ("state", pa.string()),
        ("zip", pa.string()),
        ("country_iso3", pa.string()),
        ("country_name", pa.string()),
    ]
)


@dataclass
class ParsedTrackings:
    """One page of trackings, split into the tables we load."""

    trackings: pa.Table
    checkpoints: pa.Table
    quarantine: Quarantine
    max_updated_at: datetime | None


def parse_trackings(trackings: Any) -> ParsedTrackings:
    """Parse a page's ``trackings``; bad ones go to the quarantine, the rest load."""
    quarantine = Quarantine(source=SOURCE)
    if not isinstance(trackings, list):
        quarantine.add("trackings_page", trackings, "trackings: expected a list", record_id=None)
        trackings = []
    parsed = parse_records(trackings, quarantine)
    rows = [row for _, row, _ in parsed]
    return ParsedTrackings(
        trackings=pa.Table.from_pylist(rows, schema=TRACKINGS_SCHEMA),
        checkpoints=pa.Table.from_pylist(
            [cp for _, _, checkpoints in parsed for cp in checkpoints], schema=CHECKPOINTS_SCHEMA
        ),
        quarantine=quarantine,
        max_updated_at=max((row["updated_at"] for row in rows), default=None),
    )


def parse_records(
    trackings: list[Any], quarantine: Quarantine
) -> list[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
    """(position, row, checkpoint rows) of each tracking that parses; the others go to
    ``quarantine`` with the reason and their payload."""
    parsed = []
    for position, tracking in enumerate(trackings):
        try:
            row, checkpoints = parse_tracking(tracking)
        # OverflowError: a UTC timestamp at the edge of datetime's range (year 1 or 9999).
        except (BadValue, KeyError, TypeError, AttributeError, ValueError, OverflowError) as exc:
            reason = str(exc) if isinstance(exc, BadValue) else f"malformed tracking: {exc!r}"
            # Recorded under its tracking number: what the merchant, the carrier and the
            # sandbox ledger's malformed_records know it by (AfterShip ids are per account).
            number = tracking.get("tracking_number") if isinstance(tracking, dict) else None
            quarantine.add("tracking", tracking, reason, record_id=number)
            continue
        parsed.append((position, row, checkpoints))
    return parsed


def parse_tracking(tracking: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One AfterShip tracking and its checkpoints; raises ``BadValue`` naming the first field
    that is not exact."""
    t = nested_object(tracking, "tracking", required=True)
    tracking_id = required_str(t.get("id"), "id")
    updated_at = utc_timestamp(t.get("updated_at"), "updated_at")
    checkpoints = t.get("checkpoints")
    if not isinstance(checkpoints, list):
        raise BadValue(f"checkpoints: expected a list, got {type(checkpoints).__name__}")
    edd = nested_object(
        t.get("aftership_estimated_delivery_date"), "aftership_estimated_delivery_date"
    )
    expected = t.get("expected_delivery")
    expected_local = local_time(expected, "expected_delivery")
    first_attempt = local_time(t.get("first_attempted_at"), "first_attempted_at")
    latest = nested_object(t.get("latest_estimated_delivery"), "latest_estimated_delivery")
    latest_edd = local_time(latest.get("datetime"), "latest_estimated_delivery.datetime")
    row: dict[str, Any] = {
        "tracking_id": tracking_id,
        "tracking_number": required_str(t.get("tracking_number"), "tracking_number"),
        "slug": required_str(t.get("slug"), "slug"),
        "order_id": _text(t, "order_id"),
        "order_number": _text(t, "order_number"),
        # AfterShip relays whatever the merchant sent: a date, a local or a UTC time.
        "order_date": local_date(t.get("order_date"), "order_date"),
        "title": _text(t, "title"),
        "source": _text(t, "source"),
        "tag": required_str(t.get("tag"), "tag"),
        "subtag": _text(t, "subtag"),
        "subtag_message": _text(t, "subtag_message"),
        "is_active": optional_bool(t.get("active"), "active"),
        "is_return_to_sender": optional_bool(t.get("return_to_sender"), "return_to_sender"),
        "created_at": utc_timestamp(t.get("created_at"), "created_at"),
        "updated_at": updated_at,
        "last_updated_at": optional_utc_timestamp(t.get("last_updated_at"), "last_updated_at"),
        "origin_country_iso3": _text(t, "origin_country_iso3"),
        "destination_country_iso3": _text(t, "destination_country_iso3"),
        "courier_destination_country_iso3": _text(t, "courier_destination_country_iso3"),
        "shipment_type": _text(t, "shipment_type"),
        "shipment_package_count": _count(t.get("shipment_package_count"), "package_count"),
        "shipment_weight": _number(t.get("shipment_weight"), "shipment_weight"),
        "shipment_weight_unit": _text(t, "shipment_weight_unit"),
        "shipment_pickup_local": _wall_clock(t, "shipment_pickup_date"),
        "shipment_delivery_local": _wall_clock(t, "shipment_delivery_date"),
        "signed_by": _text(t, "signed_by"),
        "delivery_time_days": _count(t.get("delivery_time"), "delivery_time"),
        "transit_time_days": _count(t.get("transit_time"), "transit_time"),
        "expected_delivery_date": None if expected_local is None else expected_local[2].date(),
        "expected_delivery_at": None if expected_local is None else expected_local[0],
        "order_promised_delivery_date": local_date(
            t.get("order_promised_delivery_date"), "order_promised_delivery_date"
        ),
        "aftership_estimated_delivery_date": local_date(
            edd.get("estimated_delivery_date"), "aftership_estimated_delivery_date"
        ),
        "aftership_estimated_delivery_date_min": local_date(
            edd.get("estimated_delivery_date_min"), "aftership_estimated_delivery_date.min"
        ),
        "aftership_estimated_delivery_date_max": local_date(
            edd.get("estimated_delivery_date_max"), "aftership_estimated_delivery_date.max"
        ),
        "latest_estimated_delivery_date": None if latest_edd is None else latest_edd[2].date(),
        "latest_estimated_delivery_at": None if latest_edd is None else latest_edd[0],
        "first_attempted_at": None if first_attempt is None else first_attempt[0],
        "first_attempted_at_utc_offset_minutes": None
        if first_attempt is None
        else first_attempt[1],
        "delivery_type": _text(t, "delivery_type"),
        "pickup_location": _text(t, "pickup_location"),
        "courier_tracking_link": _text(t, "courier_tracking_link"),
        "tracked_count": _count(t.get("tracked_count"), "tracked_count"),
        "checkpoint_count": len(checkpoints),
        # Merchant-defined keys and values: kept whole, as JSON text.
        "custom_fields": None
        if t.get("custom_fields") is None
        else orjson.dumps(t["custom_fields"]).decode(),
    }
    rows = [parse_checkpoint(cp, seq, row) for seq, cp in enumerate(checkpoints)]
    return row, rows


def parse_checkpoint(checkpoint: Any, seq: int, tracking: dict[str, Any]) -> dict[str, Any]:
    """One checkpoint of ``tracking`` (a parsed tracking row) at position ``seq``."""
    where = f"checkpoints[{seq}]"
    cp = nested_object(checkpoint, where, required=True)
    when = local_time(cp.get("checkpoint_time"), f"{where}.checkpoint_time")
    if when is None:
        raise BadValue(f"{where}.checkpoint_time: missing")
    return {
        "tracking_id": tracking["tracking_id"],
        "seq": seq,
        "tracking_number": tracking["tracking_number"],
        "tracking_updated_at": tracking["updated_at"],
        "slug": _text(cp, "slug", where) or tracking["slug"],
        "checkpoint_time": when[0],
        "checkpoint_utc_offset_minutes": when[1],
        "checkpoint_local_time": when[2],
        "created_at": optional_utc_timestamp(cp.get("created_at"), f"{where}.created_at"),
        "tag": required_str(cp.get("tag"), f"{where}.tag"),
        "subtag": _text(cp, "subtag", where),
        "subtag_message": _text(cp, "subtag_message", where),
        "message": _text(cp, "message", where),
        "raw_tag": _text(cp, "raw_tag", where),
        "location": _text(cp, "location", where),
        "city": _text(cp, "city", where),
        "state": _text(cp, "state", where),
        "zip": _text(cp, "zip", where),
        "country_iso3": _text(cp, "country_iso3", where),
        "country_name": _text(cp, "country_name", where),
    }


# --- field readers ----------------------------------------------------------------------------


def local_time(value: Any, field: str) -> tuple[datetime | None, int | None, datetime] | None:
    """A carrier time as AfterShip relays it -> (UTC instant, offset minutes, local wall clock).

    ``2018-07-23T16:58:00+08:00`` -> (08:58 UTC, 480, 16:58). Without an offset
    (``2018-07-23T16:58:00`` or ``2018-07-23``) the instant and offset are None: the zone is
    the carrier's, and guessing it would move scans across days. None for an absent value.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadValue(f"{field}: expected a timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadValue(f"{field}: {value!r} is not an ISO 8601 timestamp") from exc
    offset = parsed.utcoffset()
    wall_clock = parsed.replace(tzinfo=None)
    if offset is None:
        return None, None, wall_clock
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before datetime's year 1
        raise BadValue(f"{field}: {value!r} is out of range") from exc
    return instant, int(offset.total_seconds() // 60), wall_clock


def local_date(value: Any, field: str) -> date | None:
    """A date AfterShip prints as ``YYYY-MM-DD`` (or the date part of a local timestamp)."""
    parsed = local_time(value, field)
    return None if parsed is None else parsed[2].date()


def _wall_clock(record: dict[str, Any], name: str) -> datetime | None:
    parsed = local_time(record.get(name), name)
    return None if parsed is None else parsed[2]


def _text(record: dict[str, Any], name: str, where: str = "") -> str | None:
    value = record.get(name)
    if value is None or isinstance(value, str):
        return value
    raise BadValue(f"{where + '.' if where else ''}{name}: expected a string, got {value!r}")


def _count(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadValue(f"{field}: expected a non-negative whole number, got {value!r}")
    return value


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{field}: expected a number, got {value!r}")
    return float(value)
