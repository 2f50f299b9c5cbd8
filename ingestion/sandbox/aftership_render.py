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

Speed matters (pages of up to 200 trackings, with a dozen checkpoints each, from a million
trackings): ``Tracker`` derives what never changes once and, when the clock moves, only the
checkpoint facts of trackings with newly reported scans; ``tracking_json`` renders trackings and
their checkpoints as JSON text column-wise, a batch at a time (``render_rows``, cached by
``render_cache``); a page is then a byte-join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property

import polars as pl
import pycountry

from ingestion.sandbox.http_common import epoch_us
from ingestion.sandbox.jsonfrag import Raw, hex_digits, obj, raw, truthy, when_raw
from ingestion.sandbox.jsonfrag import mix as mix_expr

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

    ``trackings``: one row per tracking visible at ``now`` (the static columns of
    ``shipments`` plus ``created_at``/``updated_at``, checkpoint facts, order, customer and
    origin columns; ``_v`` its version, ``_cp_at``/``_cp_n`` where its scans lie in ``scans``),
    sorted newest first by (``created_us``, ``shipment_id``). ``scans``: checkpoints sorted by
    (``tracking_number``, ``seq``) with ``cp_created``, including some not reported yet
    (``cp_created`` after ``now``): ``events`` holds the visible ones. ``now``: the clock they
    were built at, when known."""

    trackings: pl.DataFrame
    scans: pl.DataFrame
    now: datetime | None = None

    @cached_property
    def events(self) -> pl.DataFrame:
        """The checkpoints of ``trackings`` reported by ``now``, sorted by (tracking number,
        seq), with ``cp_created``."""
        ev = self.scans
        if self.now is not None:
            ev = ev.filter(pl.col("cp_created") <= pl.lit(self.now).cast(_UTC))
        return ev.join(
            self.trackings.select("tracking_number"),
            on="tracking_number",
            how="semi",
            maintain_order="left",
        )


def _created_at() -> pl.Expr:
    """When AfterShip created the tracking: a few minutes after the parcel shipped."""
    shipped_s = pl.col("shipped_at").dt.epoch("us") // 1_000_000
    return (
        pl.col("shipped_at") + pl.duration(minutes=_lag_minutes(shipped_s, 7, 2, 15))
    ).dt.truncate("1s")


def _cp_created(tracking_created: pl.Expr) -> pl.Expr:
    """When AfterShip reported a scan: when it next polled the carrier after the scan, and
    never before the tracking existed."""
    event_s = pl.col("event_at").dt.epoch("us") // 1_000_000
    return pl.max_horizontal(
        (
            pl.col("event_at") + pl.duration(minutes=_lag_minutes(event_s, pl.col("seq"), 5, 86))
        ).dt.truncate("1s"),
        tracking_created + pl.duration(seconds=2),
    )


def reported_by(
    shipments: pl.DataFrame, events: pl.DataFrame, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The trackings the aggregator has created and the checkpoints it has reported by ``now``.

    Why: a carrier scan reaches AfterShip 5 to 90 minutes after it happened, and a tracking a few
    minutes after the parcel shipped, so near the clock the world holds scans nobody could have
    loaded yet. The endpoints and reconcile both use this one rule. Returns the shipments with
    ``created_at`` and the events (sorted by tracking number and seq) with ``cp_created``."""
    t = pl.lit(now).cast(_UTC)
    tr = (
        shipments.filter(_at_or_before("shipped_at", t))
        .with_columns(created_at=_created_at())
        .filter(pl.col("created_at") <= t)
    )
    ev = (
        events.filter(_at_or_before("event_at", t))
        .join(
            tr.select("tracking_number", tr_created=pl.col("created_at")),
            on="tracking_number",
            how="inner",
        )
        .with_columns(cp_created=_cp_created(pl.col("tr_created")))
        .filter(pl.col("cp_created") <= t)
        .sort("tracking_number", "seq")
        .drop("tr_created")
    )
    return tr, ev


# Shipment columns the ledger's views recompute as of the clock. Nothing here shows them (a
# tracking's state comes from its checkpoints), so the trackings frame, built once from the
# whole ledger, leaves them out rather than carry their values at the world's horizon.
_CLOCK_COLUMNS = ("status", "delivered_at", "outcome", "outcome_at")
_ATTEMPT_TAGS = ("AttemptFail", "Delivered", "AvailableForPickup")


def _facts(scans: pl.DataFrame) -> pl.DataFrame:
    """Per tracking (``_row``), what its reported checkpoints ``scans`` (sorted by tracking
    number and seq, with ``_h``, a hash of each) say: count, latest tag, first pickup and
    delivery... and ``_cp_h``, a digest of them for the tracking's version."""
    local = (
        pl.col("event_at") + pl.duration(minutes=pl.col("local_utc_offset_minutes"))
    ).dt.strftime(_LOCAL_FMT)
    tag = pl.col("tag")
    attempt = tag.is_in(list(_ATTEMPT_TAGS))
    return scans.group_by("_row").agg(
        n_checkpoints=pl.len(),
        last_tag=tag.last(),
        last_subtag=pl.col("subtag").last(),
        last_cp_created=pl.col("cp_created").max(),
        first_event_at=pl.col("event_at").first(),
        delivered_at_seen=pl.col("event_at").filter(tag == "Delivered").first(),
        pickup_local=local.filter(tag == "InTransit").first(),
        delivery_local=local.filter(tag == "Delivered").first(),
        first_attempt_at=pl.col("event_at").filter(attempt).first(),
        first_attempt_offset=pl.col("local_utc_offset_minutes").filter(attempt).first(),
        is_returned=pl.col("subtag").is_in(list(_RETURN_SUBTAGS)).any(),
        pickup_point=pl.col("city").filter(tag == "AvailableForPickup").first(),
        # ``// 256``: a tracking has far fewer than 256 checkpoints, so the sum cannot wrap.
        _cp_h=(pl.col("_h") // 256).sum(),
    )


def delivery_days(now: datetime) -> pl.Expr:
    """Days in transit as AfterShip shows them: from the first scan to delivery, or to ``now``
    while the parcel travels (the one fact of a tracking that moves with the clock alone)."""
    delivered = pl.col("tag") == "Delivered"
    end = pl.when(delivered).then(pl.col("delivered_at_seen")).otherwise(pl.lit(now).cast(_UTC))
    return (
        pl.when(pl.col("first_event_at").is_null())
        .then(0)
        .otherwise((end - pl.col("first_event_at")).dt.total_days())
        .clip(lower_bound=0)
    )


class Tracker:
    """AfterShip's trackings as of a clock that moves forward, updated where scans arrived.

    Why: deriving every tracking from the ledger per clock position (filter, join and group
    eleven million scans by tracking number) took most of a minute at a million orders before
    the first page after each ``advance``, and held a copy of the visible scans per clock.
    Everything that does not depend on the clock is derived once from the whole ledger: each
    tracking's row (shipment, order, customer, origin, weight) and ``created_at``, and each
    scan's ``cp_created`` (when AfterShip reports it: a fixed instant per scan). As of a clock,
    a tracking is visible once created (and its shipment in the ledger's view), and its
    checkpoint facts are those of its scans reported by then; after the clock moves from
    ``t0`` to ``t1``, only trackings with a scan reported in (``t0``, ``t1``] get their facts
    derived again. Thread-unsafe: callers serialise ``at``."""

    def __init__(
        self,
        shipments: pl.DataFrame,
        events: pl.DataFrame,
        orders: pl.DataFrame,
        customers: pl.DataFrame,
        warehouses: pl.DataFrame,
        channels: pl.DataFrame,
        weights: pl.DataFrame | None,
    ) -> None:
        rows = _static_rows(
            shipments.drop(_CLOCK_COLUMNS, strict=False).filter(pl.col("shipped_at").is_not_null()),
            orders,
            customers,
            warehouses,
            channels,
            weights,
        )
        if not _sorted_by_number_and_seq(events):
            events = events.sort("tracking_number", "seq")
        placed = events.select("tracking_number", "seq", "event_at").join(
            rows.select("tracking_number", "_row", tr_created=pl.col("created_at")),
            on="tracking_number",
            how="left",
            maintain_order="left",
            validate="m:1",  # one shipment per tracking number, or scans would be doubled
        )
        # Scans of shipments the ledger does not show (none in a consistent ledger) never show.
        cp_created = placed.select(
            pl.when(pl.col("_row").is_not_null()).then(_cp_created(pl.col("tr_created")))
        ).to_series()
        scans = events.with_columns(cp_created=cp_created.alias("cp_created"), _row=placed["_row"])
        self.scans = scans.with_columns(_h=scans.hash_rows(seed=7))
        runs = (
            self.scans.select("_row")
            .with_row_index("_i")
            .drop_nulls("_row")
            .group_by("_row")
            .agg(_cp_at=pl.col("_i").min(), _cp_n=pl.len())
        )
        rows = rows.join(runs, on="_row", how="left", maintain_order="left").with_columns(
            pl.col("_cp_at").fill_null(0), pl.col("_cp_n").fill_null(0)
        )
        self.rows = rows.with_columns(_static_h=rows.hash_rows(seed=7))
        self._facts = _facts(self.scans.head(0)).drop("_row")
        self._at: datetime | None = None

    def at(self, now: datetime, shown: pl.Series | None = None) -> Trackings:
        """The trackings visible at ``now``; ``shown``: the shipment ids the ledger's view
        shows at ``now`` (late updates hide some), else every shipment shipped by then."""
        self._update(now)
        now_us = epoch_us(now)
        # Rows are newest first: those created by ``now`` are a tail.
        first = int(self.rows["created_us"].search_sorted(now_us, "left", descending=True))
        frame = pl.concat([self.rows, self._facts], how="horizontal").slice(first)
        if shown is not None:
            keep = frame["shipment_id"].is_in(shown)
            if not keep.all():
                frame = frame.filter(keep)
        frame = frame.with_columns(
            pl.col("n_checkpoints").fill_null(0),
            pl.col("is_returned").fill_null(False),
            tag=pl.col("last_tag").fill_null("Pending"),
            subtag=pl.col("last_subtag").fill_null("Pending_001"),
            updated_at=pl.max_horizontal("created_at", "last_cp_created"),
        ).with_columns(updated_us=pl.col("updated_at").dt.epoch("us"))
        version = frame.select(
            "_static_h", *self._facts.columns, delivery_days(now).alias("_days")
        ).hash_rows(seed=7)
        return Trackings(trackings=frame.with_columns(_v=version), scans=self.scans, now=now)

    def _update(self, now: datetime) -> None:
        """Bring the checkpoint facts to ``now``: from the last clock if it was not later
        (only trackings with a scan reported since), else from scratch."""
        if self._at == now:
            return
        t = pl.lit(now).cast(_UTC)
        reported = pl.col("cp_created") <= t
        if self._at is None or self._at > now:
            fresh = _facts(self.scans.filter(reported))
            self._facts = (
                self.rows.select("_row")
                .join(fresh, on="_row", how="left", maintain_order="left")
                .drop("_row")
            )
        else:
            moved = pl.col("cp_created") > pl.lit(self._at).cast(_UTC)
            changed = self.scans.filter(moved & reported)["_row"].unique()
            runs = self.rows.select("_cp_at", "_cp_n")[changed]
            fresh = _facts(_gather_runs(self.scans, runs).filter(reported))
            self._facts = pl.DataFrame(
                [
                    self._facts[c].clone().scatter(fresh["_row"], fresh[c])
                    for c in self._facts.columns
                ]
            )
        self._at = now


def _static_rows(
    shipments: pl.DataFrame,
    orders: pl.DataFrame,
    customers: pl.DataFrame,
    warehouses: pl.DataFrame,
    channels: pl.DataFrame,
    weights: pl.DataFrame | None,
) -> pl.DataFrame:
    """Every shipment's tracking columns that never change, newest first, numbered ``_row``."""
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
        shipments.with_columns(created_at=_created_at())
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
        .with_columns(created_us=pl.col("created_at").dt.epoch("us"))
    )
    if weights is not None:
        frame = frame.join(weights, on="shipment_id", how="left")
    else:
        frame = frame.with_columns(weight_g=pl.lit(None, dtype=pl.Int64))
    return frame.sort("created_us", "shipment_id", descending=True).with_row_index("_row")


def _sorted_by_number_and_seq(events: pl.DataFrame) -> bool:
    """Whether ``events`` are in ledger order already (one pass, no sort of a whole ledger)."""
    number, seq = events["tracking_number"], events["seq"]
    if events.height < 2:
        return True
    a, b = number.slice(0, events.height - 1), number.slice(1)
    ahead = (b > a) | ((b == a) & (seq.slice(1) > seq.slice(0, events.height - 1)))
    return bool(ahead.all())


def _gather_runs(scans: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """The scans of the trackings whose runs of ``scans`` are ``runs`` (``_cp_at``,
    ``_cp_n``), in that order."""
    index = runs.select(
        pl.int_ranges("_cp_at", pl.col("_cp_at") + pl.col("_cp_n"), dtype=pl.UInt32)
        .explode()
        .drop_nulls()
    ).to_series()
    return scans[index]


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
    ledger can tell (else None). One clock position: a ``Tracker`` follows a moving clock."""
    return Tracker(shipments, events, orders, customers, warehouses, channels, weights).at(now)


def _offset_suffix(off: pl.Expr | None = None) -> pl.Expr:
    """``+08:00`` / ``-04:00`` from an offset in minutes."""
    off = pl.col("local_utc_offset_minutes") if off is None else off
    sign = pl.when(off < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    hours = (off.abs() // 60).cast(pl.String).str.zfill(2)
    minutes = (off.abs() % 60).cast(pl.String).str.zfill(2)
    return pl.concat_str(sign, hours, pl.lit(":"), minutes)


# --- Vectorized rendering --------------------------------------------------------------------


def _template(carrier: pl.Expr, number: pl.Expr) -> pl.Expr:
    """The carrier's tracking page for ``number`` (null for a carrier we do not know)."""
    pre = {c: spec[1].split("{n}")[0] for c, spec in CARRIERS.items()}
    post = {c: spec[1].split("{n}")[1] for c, spec in CARRIERS.items()}
    return pl.concat_str(
        [
            carrier.replace_strict(pre, default=None, return_dtype=pl.String),
            number,
            carrier.replace_strict(post, default=None, return_dtype=pl.String),
        ]
    )


def _countries(codes: pl.Series) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(alpha-2 -> alpha-3, alpha-2 -> name) for the codes that occur (few: a lookup each)."""
    known = [c for c in codes.unique().to_list() if c]
    return {c: country(c)[0] for c in known}, {c: country(c)[1] for c in known}


def _slug(carrier: pl.Expr) -> pl.Expr:
    return carrier.replace_strict(
        {c: spec[0] for c, spec in CARRIERS.items()},
        default=carrier.str.to_lowercase().str.replace_all(" ", "-", literal=True),
        return_dtype=pl.String,
    )


def _or_none(text: pl.Expr) -> pl.Expr:
    """What an f-string shows for an optional value: the text, or ``None``."""
    return text.cast(pl.String).fill_null("None")


def _checkpoints(data: Trackings) -> pl.DataFrame:
    """``checkpoints`` arrays (JSON text) and the last checkpoint's local time per tracking
    number, for every visible checkpoint."""
    ev = data.events.join(
        data.trackings.select("tracking_number", "carrier", "c_country", "c_city", "c_province"),
        on="tracking_number",
        how="left",
        maintain_order="left",
    )
    iso3, names = _countries(ev["country_code"])
    code = pl.col("country_code")
    city = pl.col("city")
    raw_state = pl.col("state") if "state" in ev.columns else pl.lit(None, pl.String)
    # A scan in the buyer's city is reported with the buyer's region when the ledger has none.
    home = city.is_not_null() & (code == pl.col("c_country")) & (city == pl.col("c_city"))
    state = (
        pl.when(raw_state.is_null() & home.fill_null(False))
        .then(pl.col("c_province"))
        .otherwise(raw_state)
    )
    slug = _slug(pl.col("carrier"))
    checkpoint_time = pl.concat_str(
        (pl.col("event_at") + pl.duration(minutes=pl.col("local_utc_offset_minutes"))).dt.strftime(
            _LOCAL_FMT
        ),
        _offset_suffix(),
    )
    location = (
        pl.when(city.is_null() | (city == ""))
        .then(None)
        .when(state.is_not_null() & (state != ""))
        .then(pl.concat_str([city.str.to_uppercase(), pl.lit(", "), state]))
        .otherwise(pl.concat_str([city.str.to_uppercase(), pl.lit(" "), _or_none(code)]))
    )
    checkpoint = obj(
        [
            ("slug", slug),
            ("city", city),
            ("created_at", pl.col("cp_created").dt.strftime(_UTC_FMT)),
            ("location", location),
            ("country_name", code.replace_strict(names, default=None, return_dtype=pl.String)),
            ("message", pl.col("message")),
            ("country_iso3", code.replace_strict(iso3, default=None, return_dtype=pl.String)),
            ("tag", pl.col("tag")),
            ("subtag", pl.col("subtag")),
            ("subtag_message", _subtag_message()),
            ("checkpoint_time", pl.col("_time")),
            ("coordinates", raw("[]")),
            ("state", state),
            ("zip", None),
            (
                "raw_tag",
                pl.concat_str(
                    [
                        slug.str.slice(0, 3).str.to_uppercase(),
                        pl.lit("_"),
                        pl.col("subtag").str.split("_").list.last(),
                    ]
                ),
            ),
        ]
    )
    rendered = ev.with_columns(_time=checkpoint_time).with_columns(_cp=checkpoint)
    return rendered.group_by("tracking_number", maintain_order=True).agg(
        pl.concat_str([pl.lit("["), pl.col("_cp").str.join(","), pl.lit("]")]).alias("_cps"),
        _last_time=pl.col("_time").last(),
    )


def _subtag_message() -> pl.Expr:
    return pl.col("subtag").replace_strict(
        SUBTAG_MESSAGES, default=pl.col("tag"), return_dtype=pl.String
    )


def tracking_json(data: Trackings, now: datetime) -> pl.Series:
    """Every tracking of ``data.trackings`` as AfterShip tracking JSON (UTF-8 bytes), in row
    order: what the list and single-tracking endpoints serve, rendered column-wise once per
    clock position."""
    frame = data.trackings.join(
        _checkpoints(data), on="tracking_number", how="left", maintain_order="left"
    ).with_columns(_page_columns(now))
    iso3, names = _countries(pl.concat([frame["c_country"], frame["origin_country"]]))
    sid = pl.col("shipment_id")
    tag = pl.col("tag")
    delivered = tag == "Delivered"
    finished = delivered | (tag == "Expired")
    has_checkpoints = pl.col("_cps").is_not_null()
    slug = _slug(pl.col("carrier"))
    link = _template(pl.col("carrier"), pl.col("tracking_number"))
    last_mile = (
        pl.col("c_country")
        .fill_null("")
        .replace_strict(_LAST_MILE, default=None, return_dtype=pl.String)
    )
    has_next_courier = slug.is_in(list(_CONSOLIDATORS)) & last_mile.is_not_null()
    next_courier = obj(
        [
            ("slug", last_mile),
            # mix() < 2**64 < 10**20: the value itself, zero-padded to 20 digits.
            (
                "tracking_number",
                pl.concat_str([pl.lit("92"), mix_expr(sid, 21).cast(pl.String).str.zfill(20)]),
            ),
            ("source", "system"),
        ]
    )
    email, phone = pl.col("c_email"), pl.col("c_phone")
    emails = when_raw(
        truthy(email), pl.concat_str([pl.lit("["), _string(email), pl.lit("]")]), "[]"
    )
    has_sms = phone.is_not_null() & (mix_expr(sid, 22) % 3 == 0)
    smses = when_raw(has_sms, pl.concat_str([pl.lit("["), _string(phone), pl.lit("]")]), "[]")
    order_number = pl.when(truthy(pl.col("order_name"))).then(pl.col("order_name"))
    platform = pl.col("platform")
    order_id = pl.col("external_order_id")
    order_id_path = (
        pl.when(order_id.is_null())
        .then(None)
        .when(platform == "shopify")
        .then(
            pl.concat_str(
                [
                    pl.lit("https://admin.shopify.com/store/"),
                    pl.col("store_id").cast(pl.String).fill_null("").str.split(".").list.first(),
                    pl.lit("/orders/"),
                    order_id,
                ]
            )
        )
        .when(platform == "amazon")
        .then(
            pl.concat_str(
                [
                    pl.lit("https://sellercentral.amazon."),
                    pl.col("channel_country")
                    .fill_null("US")
                    .replace_strict(_SELLER_CENTRAL, default="com", return_dtype=pl.String),
                    pl.lit("/orders-v3/order/"),
                    order_id,
                ]
            )
        )
        .otherwise(None)
    )
    edd_local = pl.col("edd_local_s")
    last_name = pl.col("c_last_name").fill_null("").str.to_uppercase()
    weight = pl.col("weight_g")
    dest_name = pl.col("c_country").replace_strict(names, default=None, return_dtype=pl.String)
    tracking = obj(
        [
            (
                "id",
                pl.concat_str(
                    [
                        hex_digits(pl.col("created_epoch") % 2**32, 8),
                        hex_digits(sid.cast(pl.UInt64) * pl.lit(_ID_MULT, pl.UInt64), 16),
                    ]
                ),
            ),
            ("created_at", pl.col("created_s")),
            ("updated_at", pl.col("updated_s")),
            ("last_updated_at", pl.col("updated_s")),
            ("tracking_number", pl.col("tracking_number")),
            ("slug", slug),
            ("active", ~finished),
            ("android", raw("[]")),
            ("custom_fields", None),
            (
                "customer_name",
                pl.when(pl.col("c_first_name").is_not_null()).then(
                    pl.concat_str(
                        [pl.col("c_first_name"), _or_none(pl.col("c_last_name"))], separator=" "
                    )
                ),
            ),
            ("delivery_time", pl.col("delivery_days")),
            (
                "destination_country_iso3",
                pl.col("c_country").replace_strict(iso3, default=None, return_dtype=pl.String),
            ),
            (
                "courier_destination_country_iso3",
                pl.col("c_country").replace_strict(iso3, default=None, return_dtype=pl.String),
            ),
            ("emails", emails),
            ("expected_delivery", pl.when(~finished).then(pl.col("edd_date"))),
            ("ios", raw("[]")),
            ("note", None),
            ("order_id", order_id),
            ("order_id_path", order_id_path),
            ("order_date", pl.col("order_date_s")),
            ("order_number", order_number.otherwise(order_id)),
            (
                "origin_country_iso3",
                pl.col("origin_country").replace_strict(iso3, default=None, return_dtype=pl.String),
            ),
            ("shipment_package_count", 1),
            ("shipment_pickup_date", pl.col("pickup_local")),
            ("shipment_delivery_date", pl.col("delivery_local")),
            ("shipment_type", pl.col("service")),
            # Carriers bill whole kilograms; AfterShip relays the integer they report.
            ("shipment_weight", ((weight + 999) // 1000).clip(lower_bound=1)),
            ("shipment_weight_unit", "kg"),
            ("signed_by", pl.when(delivered & (last_name != "")).then(last_name)),
            ("smses", smses),
            ("source", "api"),
            ("tag", tag),
            ("subtag", pl.col("subtag")),
            ("subtag_message", _subtag_message()),
            ("title", order_number.otherwise(pl.col("tracking_number"))),
            ("tracked_count", pl.col("n_checkpoints") + 1),
            ("last_mile_tracking_supported", pl.when(has_next_courier).then(True)),
            ("language", None),
            ("unique_token", "deprecated"),
            ("checkpoints", Raw(pl.col("_cps").fill_null("[]"))),
            ("subscribed_smses", smses),
            ("subscribed_emails", emails),
            ("return_to_sender", pl.col("is_returned")),
            ("tracking_account_number", None),
            ("tracking_origin_country", None),
            ("tracking_destination_country", None),
            ("tracking_key", None),
            ("tracking_postal_code", None),
            ("tracking_ship_date", None),
            ("tracking_state", None),
            ("order_promised_delivery_date", pl.col("promised_date")),
            (
                "delivery_type",
                pl.when(truthy(pl.col("pickup_point")))
                .then(pl.lit("pickup_at_courier_location"))
                .otherwise(pl.lit("door_to_door")),
            ),
            ("pickup_location", pl.col("pickup_point")),
            ("pickup_note", None),
            ("courier_tracking_link", link),
            ("courier_redirect_link", link),
            ("first_attempted_at", pl.col("first_attempt_s")),
            (
                "aftership_estimated_delivery_date",
                when_raw(
                    ~finished & has_checkpoints,
                    obj(
                        [
                            ("estimated_delivery_date", pl.col("edd_date")),
                            ("confidence_score", 0.8),
                            ("estimated_delivery_date_min", pl.col("edd_min")),
                            ("estimated_delivery_date_max", pl.col("edd_max")),
                        ]
                    ),
                    "null",
                ),
            ),
            ("order_tags", None),
            (
                "destination_raw_location",
                pl.when(truthy(pl.col("c_city"))).then(
                    pl.concat_str([pl.col("c_city"), pl.lit(", "), _or_none(dest_name)])
                ),
            ),
            (
                "shipment_tags",
                when_raw(pl.col("is_returned"), '["Returned"]', "[]"),
            ),
            (
                "next_couriers",
                when_raw(
                    has_next_courier, pl.concat_str([pl.lit("["), next_courier, pl.lit("]")]), "[]"
                ),
            ),
            (
                "courier_connection_id",
                pl.when(mix_expr(sid, 26) % 4 == 0).then(
                    pl.concat_str(
                        [hex_digits(mix_expr(sid, 24), 16), hex_digits(mix_expr(sid, 25), 16)]
                    )
                ),
            ),
            (
                "custom_estimated_delivery_date",
                when_raw(
                    mix_expr(sid, 23) % 5 == 0,
                    obj(
                        [
                            ("type", "specific"),
                            ("datetime", pl.col("promised_date")),
                            ("datetime_min", None),
                            ("datetime_max", None),
                        ]
                    ),
                    "null",
                ),
            ),
            (
                "first_estimated_delivery",
                Raw(
                    obj(
                        [
                            ("type", "specific"),
                            ("source", "Carrier EDD"),
                            ("datetime", edd_local),
                            ("datetime_min", None),
                            ("datetime_max", None),
                        ]
                    )
                ),
            ),
            (
                "latest_estimated_delivery",
                Raw(
                    obj(
                        [
                            ("type", "specific"),
                            ("source", "AfterShip EDD"),
                            (
                                "datetime",
                                pl.when(delivered & truthy(pl.col("_last_time")))
                                .then(pl.col("_last_time"))
                                .otherwise(edd_local),
                            ),
                            ("datetime_min", None),
                            ("datetime_max", None),
                        ]
                    )
                ),
            ),
            ("transit_time", pl.when(delivered).then(pl.col("delivery_days"))),
        ]
    )
    return frame.select(tracking.cast(pl.Binary).alias("_json")).to_series()


def _string(text: pl.Expr) -> pl.Expr:
    """A JSON string literal of ``text`` (escaped by polars' encoder)."""
    return pl.struct(text.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")


def _page_columns(now: datetime) -> list[pl.Expr]:
    """Every timestamp and date the payload shows, formatted by polars."""
    transit = pl.col("carrier").replace_strict(
        {c: spec[2] for c, spec in CARRIERS.items()}, default=7, return_dtype=pl.Int64
    )
    edd = pl.col("shipped_at") + pl.duration(days=transit)
    promised = pl.coalesce("order_created", "shipped_at") + pl.duration(days=transit + 3)
    attempt_at = pl.col("first_attempt_at")
    attempt_off = pl.col("first_attempt_offset")
    edd_off = attempt_off.fill_null(0)
    day = "%Y-%m-%d"
    return [
        pl.col("created_at").dt.epoch("s").alias("created_epoch"),
        pl.col("created_at").dt.strftime(_UTC_FMT).alias("created_s"),
        pl.col("updated_at").dt.strftime(_UTC_FMT).alias("updated_s"),
        pl.col("order_created").dt.strftime(_UTC_FMT).alias("order_date_s"),
        pl.concat_str(
            (attempt_at + pl.duration(minutes=attempt_off)).dt.strftime(_LOCAL_FMT),
            _offset_suffix(attempt_off),
        ).alias("first_attempt_s"),
        pl.concat_str(
            (edd + pl.duration(minutes=edd_off)).dt.strftime(_LOCAL_FMT), _offset_suffix(edd_off)
        ).alias("edd_local_s"),
        edd.dt.strftime(day).alias("edd_date"),
        (edd - pl.duration(days=1)).dt.strftime(day).alias("edd_min"),
        (edd + pl.duration(days=3)).dt.strftime(day).alias("edd_max"),
        promised.dt.strftime(day).alias("promised_date"),
        delivery_days(now).alias("delivery_days"),
    ]


# --- Lazy serving ----------------------------------------------------------------------------


def render_rows(data: Trackings, rows: pl.DataFrame) -> list[bytes]:
    """The JSON of the trackings ``rows`` (rows of ``data.trackings``), rendered with only
    their own checkpoints: the same bytes ``tracking_json`` gives them over every tracking."""
    subset = Trackings(trackings=rows, scans=_gather_runs(data.scans, rows), now=_built_at(data))
    return tracking_json(subset, _built_at(data)).to_list()


def _built_at(data: Trackings) -> datetime:
    if data.now is None:
        raise ValueError("these trackings do not say which clock they were built at")
    return data.now
