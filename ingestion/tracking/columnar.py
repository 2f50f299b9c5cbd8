"""AfterShip ``GET /trackings`` pages read column-wise, straight from the response bytes.

Why: at 100k orders the per-record path (``orjson`` into Python dicts, then ``parse_tracking``
per tracking and checkpoint) cost 29-31 CPU s for 102k trackings and 742k checkpoints. Here
``pyarrow.json`` decodes a page against an explicit schema (its reader is strict: a number
where a string belongs, a float for a count, a string for an object all fail the decode rather
than being coerced, unlike polars' ``read_json``), and polars checks and converts whole
columns.

The division of labour keeps one definition of what a tracking means:

- a tracking is *plain* when every value the parser reads is in the canonical form AfterShip
  and the sandbox print (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` with ``Z``, ``±HH:MM`` or no
  offset; non-blank required strings; counts not negative; no ``custom_fields``). Plain
  trackings are converted here, column by column;
- every other tracking (malformed, or valid in a rarer form) goes through the per-record parser
  (``parsers.parse_tracking``) on its own JSON, decoded only for pages that have one: it loads
  or is quarantined with the same reason and payload as before;
- a page the schema cannot decode at all (a string where an object belongs, an id sent as a
  number) is parsed record by record as a whole.

``tests/ingestion/test_tracking_columnar.py`` proves the two paths give identical tables and
quarantine rows on a harsh sandbox's pages and on AfterShip's own examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.columnar import (
    iso_time,
    parsed_in_runs,
    read_page,
    records_at,
    required_text,
    rows_frame,
    to_schema,
    with_parsed_rows,
)
from ingestion.common.http import load_json
from ingestion.common.quarantine import Quarantine
from ingestion.tracking.parsers import (
    CHECKPOINTS_SCHEMA,
    SOURCE,
    TRACKINGS_SCHEMA,
    ParsedTrackings,
    parse_records,
    parse_trackings,
)

_S = pa.string()
CHECKPOINT_TEXT = (
    "slug",
    "checkpoint_time",
    "created_at",
    "tag",
    "subtag",
    "subtag_message",
    "message",
    "raw_tag",
    "location",
    "city",
    "state",
    "zip",
    "country_iso3",
    "country_name",
)
# Fields whose JSON value is copied as text, named as AfterShip names them.
TRACKING_TEXT = (
    "id",
    "tracking_number",
    "slug",
    "order_id",
    "order_number",
    "order_date",
    "title",
    "source",
    "tag",
    "subtag",
    "subtag_message",
    "created_at",
    "updated_at",
    "last_updated_at",
    "origin_country_iso3",
    "destination_country_iso3",
    "courier_destination_country_iso3",
    "shipment_type",
    "shipment_weight_unit",
    "shipment_pickup_date",
    "shipment_delivery_date",
    "signed_by",
    "expected_delivery",
    "order_promised_delivery_date",
    "first_attempted_at",
    "delivery_type",
    "pickup_location",
    "courier_tracking_link",
)
TRACKING_COUNTS = ("shipment_package_count", "delivery_time", "transit_time", "tracked_count")
# The tracking object as the reader decodes it; fields not named here are skipped.
TRACKING_JSON = pa.struct(
    [
        *((name, _S) for name in TRACKING_TEXT),
        *((name, pa.int64()) for name in TRACKING_COUNTS),
        ("shipment_weight", pa.float64()),
        ("active", pa.bool_()),
        ("return_to_sender", pa.bool_()),
        (
            "aftership_estimated_delivery_date",
            pa.struct(
                [
                    ("estimated_delivery_date", _S),
                    ("estimated_delivery_date_min", _S),
                    ("estimated_delivery_date_max", _S),
                ]
            ),
        ),
        ("latest_estimated_delivery", pa.struct([("datetime", _S)])),
        # Merchant-defined keys: only whether the object is there is decoded here (a tracking
        # that has one takes the per-record path, which keeps it whole as JSON text).
        ("custom_fields", pa.struct([])),
        ("checkpoints", pa.list_(pa.struct([(name, _S) for name in CHECKPOINT_TEXT]))),
    ]
)
PAGE_JSON = pa.schema(
    [
        ("meta", pa.struct([("code", pa.int64()), ("type", _S), ("message", _S)])),
        (
            "data",
            pa.struct(
                [
                    ("page", pa.int64()),
                    ("limit", pa.int64()),
                    ("count", pa.int64()),
                    ("created_at_min", _S),
                    ("created_at_max", _S),
                    (
                        "pagination",
                        pa.struct([("next_cursor", _S), ("has_next_page", pa.bool_())]),
                    ),
                    ("trackings", pa.list_(TRACKING_JSON)),
                ]
            ),
        ),
    ]
)


@dataclass
class DecodedPage:
    """One response: the envelope's ``meta`` and ``data`` (without the trackings) and the
    trackings as one struct array, or None when the schema could not decode the page."""

    meta: dict[str, Any]
    data: dict[str, Any]
    trackings: pa.StructArray | None
    content: bytes
    _body: Any = None

    def is_empty(self) -> bool:
        """No trackings (or none that could be read): the walk ends here, as before."""
        if self.trackings is not None:
            return len(self.trackings) == 0
        return not self.raw_trackings()

    def raw_trackings(self) -> Any:
        """The page's ``trackings`` as Python objects (decoded on first use only)."""
        if self._body is None:
            self._body = load_json(self.content)
        data = self._body.get("data") if isinstance(self._body, dict) else None
        return data.get("trackings") if isinstance(data, dict) else None


def decode_page(content: bytes) -> DecodedPage:
    """Decode one ``GET /trackings`` response body against ``PAGE_JSON``."""
    table = read_page(content, PAGE_JSON, "data")
    if table is None:
        return _undecoded(content)
    data_scalar = table.column("data")[0]
    data = {
        name: data_scalar[name].as_py()
        for name in ("page", "limit", "count", "created_at_min", "created_at_max", "pagination")
        if data_scalar[name].is_valid
    }
    trackings = None
    if data_scalar["trackings"].is_valid:
        trackings = table.column("data").combine_chunks().field("trackings").flatten()
    return DecodedPage(table.column("meta")[0].as_py() or {}, data, trackings, content)


def _undecoded(content: bytes) -> DecodedPage:
    """A page the schema cannot decode (an error envelope, a string where an object belongs):
    its envelope from the standard decoder; its trackings go through the per-record parser."""
    body = load_json(content)
    data = body.get("data") if isinstance(body, dict) else None
    meta = body.get("meta") if isinstance(body, dict) else None
    envelope = {k: v for k, v in data.items() if k != "trackings"} if isinstance(data, dict) else {}
    return DecodedPage(meta if isinstance(meta, dict) else {}, envelope, None, content, body)


def parse_pages(pages: list[DecodedPage]) -> ParsedTrackings:
    """The trackings of ``pages`` as one parsed batch, rows in page order. Consecutive decoded
    pages are converted together (a polars pass costs about 10 ms whatever its size, so one
    per 200-tracking page would cost more than the work); an undecoded page is parsed record
    by record."""
    parts = parsed_in_runs(
        pages,
        lambda page: page.trackings is not None,
        parse_columns,
        lambda page: parse_trackings(page.raw_trackings()),
    )
    if len(parts) == 1:
        return parts[0]
    quarantine = Quarantine.merged(SOURCE, (part.quarantine for part in parts))
    newest = [p.max_updated_at for p in parts if p.max_updated_at is not None]
    return ParsedTrackings(
        trackings=pa.concat_tables([p.trackings for p in parts]),
        checkpoints=pa.concat_tables([p.checkpoints for p in parts]),
        quarantine=quarantine,
        max_updated_at=max(newest, default=None),
    )


def parse_columns(pages: list[DecodedPage]) -> ParsedTrackings:
    """Plain trackings converted column-wise; the others parsed from their own JSON by the
    per-record parser. Rows keep the pages' order."""
    arrays = [page.trackings for page in pages]
    trackings = arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)
    frame = pl.from_arrow(pa.RecordBatch.from_struct_array(trackings))
    frame = frame.with_columns(
        pl.Series("_present", trackings.is_valid()), pl.int_range(pl.len()).alias("_row")
    )
    rows = _tracking_rows(frame)
    scans = _checkpoint_rows(_checkpoint_frame(trackings), rows)
    broken_scans = scans.filter(~pl.col("_plain")).get_column("_row").unique()
    plain = rows.filter(pl.col("_plain") & ~pl.col("_row").is_in(broken_scans.implode()))
    good_rows = plain.select("_row", *TRACKINGS_SCHEMA.names)
    good_scans = scans.join(plain.select("_row"), on="_row", how="semi").select(
        "_row", *CHECKPOINTS_SCHEMA.names
    )
    quarantine = Quarantine(source=SOURCE)
    others = sorted(set(range(frame.height)) - set(plain.get_column("_row").to_list()))
    if others:
        # Only these records are parsed one by one.
        records = records_at(others, [len(a) for a in arrays], lambda i: pages[i].raw_trackings())
        parsed = parse_records(records, quarantine)
        good_rows = with_parsed_rows(good_rows, others, parsed, TRACKINGS_SCHEMA)
        good_scans = pl.concat(
            [
                good_scans,
                rows_frame(
                    [others[position] for position, _, cps in parsed for _ in cps],
                    [cp for _, _, cps in parsed for cp in cps],
                    CHECKPOINTS_SCHEMA,
                ),
            ]
        ).sort("_row", "seq", maintain_order=True)
    return ParsedTrackings(
        trackings=to_schema(good_rows, TRACKINGS_SCHEMA),
        checkpoints=to_schema(good_scans, CHECKPOINTS_SCHEMA),
        quarantine=quarantine,
        max_updated_at=good_rows.get_column("updated_at").max() if good_rows.height else None,
    )


def _checkpoint_frame(trackings: pa.StructArray) -> pl.DataFrame:
    """Every checkpoint with the page row of its tracking and its position (``seq``)."""
    lists = trackings.field("checkpoints")
    if trackings.offset or lists.offset:
        lists = pa.concat_arrays([lists])
    values = lists.flatten()
    parents = pc.list_parent_indices(lists).to_numpy()
    offsets = lists.offsets.to_numpy()
    seq = np.arange(len(values), dtype=np.int32) + offsets[0] - offsets[parents]
    return pl.from_arrow(pa.RecordBatch.from_struct_array(values)).with_columns(
        pl.Series("_row", parents, dtype=pl.Int64),
        pl.Series("_present", values.is_valid()),
        pl.Series("seq", seq, dtype=pl.Int32),
    )


def _tracking_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Tracking rows in ``TRACKINGS_SCHEMA`` form, with ``_plain``: whether this row can be
    trusted without the per-record parser."""
    edd, latest = _nested()
    return frame.with_columns(edd, latest).select(_tracking_columns())


@cache
def _nested() -> tuple[pl.Expr, pl.Expr]:
    """The nested estimated-delivery values, as top-level columns."""
    return (
        pl.col("aftership_estimated_delivery_date").struct.field(
            "estimated_delivery_date", "estimated_delivery_date_min", "estimated_delivery_date_max"
        ),
        pl.col("latest_estimated_delivery").struct.field("datetime").alias("_latest"),
    )


@cache
def _tracking_columns() -> list[pl.Expr]:
    """The expressions of ``_tracking_rows``, built once (building them per page cost more
    than evaluating them)."""
    created, created_offset, _, created_plain = iso_time("created_at")
    updated, updated_offset, _, updated_plain = iso_time("updated_at")
    last, last_offset, _, last_plain = iso_time("last_updated_at")
    order_date = iso_time("order_date")
    pickup = iso_time("shipment_pickup_date")
    delivery = iso_time("shipment_delivery_date")
    expected = iso_time("expected_delivery")
    promised = iso_time("order_promised_delivery_date")
    attempted = iso_time("first_attempted_at")
    edd = iso_time("estimated_delivery_date")
    edd_min = iso_time("estimated_delivery_date_min")
    edd_max = iso_time("estimated_delivery_date_max")
    latest = iso_time("_latest")
    counts_plain = pl.all_horizontal(
        [pl.col(c).is_null() | (pl.col(c) >= 0) for c in TRACKING_COUNTS]
    )
    plain = (
        pl.col("_present")
        & pl.col("checkpoints").is_not_null()
        & pl.col("custom_fields").is_null()
        & pl.all_horizontal(
            required_text(pl.col(c)) for c in ("id", "tracking_number", "slug", "tag")
        )
        # created_at and updated_at must carry an offset; last_updated_at too when present.
        & created_offset.is_not_null()
        & updated_offset.is_not_null()
        & (pl.col("last_updated_at").is_null() | last_offset.is_not_null())
        & pl.all_horizontal(
            created_plain,
            updated_plain,
            last_plain,
            *(
                t[3]
                for t in (
                    order_date,
                    pickup,
                    delivery,
                    expected,
                    promised,
                    attempted,
                    edd,
                    edd_min,
                    edd_max,
                    latest,
                )
            ),
        )
        & counts_plain
    )
    return [
        pl.col("_row"),
        pl.col("id").alias("tracking_id"),
        "tracking_number",
        "slug",
        "order_id",
        "order_number",
        order_date[2].dt.date().alias("order_date"),
        "title",
        "source",
        "tag",
        "subtag",
        "subtag_message",
        pl.col("active").alias("is_active"),
        pl.col("return_to_sender").alias("is_return_to_sender"),
        created.alias("created_at"),
        updated.alias("updated_at"),
        last.alias("last_updated_at"),
        "origin_country_iso3",
        "destination_country_iso3",
        "courier_destination_country_iso3",
        "shipment_type",
        "shipment_package_count",
        "shipment_weight",
        "shipment_weight_unit",
        pickup[2].alias("shipment_pickup_local"),
        delivery[2].alias("shipment_delivery_local"),
        "signed_by",
        pl.col("delivery_time").alias("delivery_time_days"),
        pl.col("transit_time").alias("transit_time_days"),
        expected[2].dt.date().alias("expected_delivery_date"),
        expected[0].alias("expected_delivery_at"),
        promised[2].dt.date().alias("order_promised_delivery_date"),
        edd[2].dt.date().alias("aftership_estimated_delivery_date"),
        edd_min[2].dt.date().alias("aftership_estimated_delivery_date_min"),
        edd_max[2].dt.date().alias("aftership_estimated_delivery_date_max"),
        latest[2].dt.date().alias("latest_estimated_delivery_date"),
        latest[0].alias("latest_estimated_delivery_at"),
        attempted[0].alias("first_attempted_at"),
        attempted[1].alias("first_attempted_at_utc_offset_minutes"),
        "delivery_type",
        "pickup_location",
        "courier_tracking_link",
        "tracked_count",
        pl.col("checkpoints").list.len().cast(pl.Int64).alias("checkpoint_count"),
        pl.lit(None, pl.String).alias("custom_fields"),
        plain.fill_null(False).alias("_plain"),
    ]


def _checkpoint_rows(checkpoints: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Checkpoint rows in ``CHECKPOINTS_SCHEMA`` form, with ``_plain`` per checkpoint."""
    parent = rows.select(
        "_row",
        "tracking_id",
        "tracking_number",
        pl.col("updated_at").alias("tracking_updated_at"),
        pl.col("slug").alias("_tracking_slug"),
    )
    return checkpoints.join(parent, on="_row", how="left").select(_checkpoint_columns())


@cache
def _checkpoint_columns() -> list[pl.Expr]:
    """The expressions of ``_checkpoint_rows``, built once."""
    when, offset, wall, when_plain = iso_time("checkpoint_time")
    created, created_offset, _, created_plain = iso_time("created_at")
    plain = (
        pl.col("_present")
        & pl.col("checkpoint_time").is_not_null()
        & when_plain
        & (pl.col("created_at").is_null() | (created_plain & created_offset.is_not_null()))
        & required_text(pl.col("tag"))
    )
    return [
        *map(pl.col, ("_row", "tracking_id", "seq", "tracking_number", "tracking_updated_at")),
        # An empty slug falls back to the tracking's, as ``_text(...) or slug`` does.
        pl.when(pl.col("slug").fill_null("") == "")
        .then(pl.col("_tracking_slug"))
        .otherwise(pl.col("slug"))
        .alias("slug"),
        when.alias("checkpoint_time"),
        offset.alias("checkpoint_utc_offset_minutes"),
        wall.alias("checkpoint_local_time"),
        created.alias("created_at"),
        *map(pl.col, CHECKPOINT_TEXT[3:]),
        plain.fill_null(False).alias("_plain"),
    ]
