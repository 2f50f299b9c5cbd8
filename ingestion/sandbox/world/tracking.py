"""Tracking numbers and carrier scans (``tracking_events``) in AfterShip's vocabulary.

Why templates: a parcel's scans follow its lane (domestic, or international through an export
hub, the destination's gateway and customs) and its fate (delivered, delivered after a missed
attempt or at a pickup point, returned to sender, lost). Each shipment gets the template of
its lane and fate; scan times are fractions of its transit time; each scan carries the local
UTC offset of the place it happened (Shenzhen +08:00, Leipzig +01:00/+02:00, ...), as carrier
APIs report them. A lost parcel stops scanning; AfterShip then marks it ``Expired`` after 30
days without news, which the ledger records as a final ``Expired_001`` event.

Tracking numbers follow each carrier's format (UPU S10 with its check digit for posts,
``1Z...`` for UPS, ten digits for DHL Express, ...), unique per carrier by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingestion.sandbox.world import warehouses as wh
from ingestion.sandbox.world.common import DAY, HOUR, codes, group_starts, local_offsets, take
from ingestion.sandbox.world.ids import digits, permuted, s10_tracking

# Destination gateway per country: (city, IANA zone).
_GATEWAYS = {
    "US": ("Los Angeles", "America/Los_Angeles"),
    "CA": ("Toronto", "America/Toronto"),
    "MX": ("Ciudad de México", "America/Mexico_City"),
    "BR": ("São Paulo", "America/Sao_Paulo"),
    "GB": ("East Midlands", "Europe/London"),
    "IE": ("Dublin", "Europe/Dublin"),
    "DE": ("Leipzig", "Europe/Berlin"),
    "AT": ("Wien", "Europe/Vienna"),
    "CH": ("Basel", "Europe/Zurich"),
    "FR": ("Roissy-en-France", "Europe/Paris"),
    "BE": ("Brussels", "Europe/Brussels"),
    "NL": ("Amsterdam", "Europe/Amsterdam"),
    "IT": ("Milano", "Europe/Rome"),
    "ES": ("Madrid", "Europe/Madrid"),
    "PT": ("Lisboa", "Europe/Lisbon"),
    "SE": ("Stockholm", "Europe/Stockholm"),
    "DK": ("København", "Europe/Copenhagen"),
    "NO": ("Oslo", "Europe/Oslo"),
    "PL": ("Warszawa", "Europe/Warsaw"),
    "CZ": ("Praha", "Europe/Prague"),
    "GR": ("Athens", "Europe/Athens"),
    "RU": ("Moscow", "Europe/Moscow"),
    "IL": ("Tel Aviv", "Asia/Jerusalem"),
    "AE": ("Dubai", "Asia/Dubai"),
    "IN": ("New Delhi", "Asia/Kolkata"),
    "TH": ("Bangkok", "Asia/Bangkok"),
    "SG": ("Singapore", "Asia/Singapore"),
    "CN": ("Shanghai", "Asia/Shanghai"),
    "HK": ("Hong Kong", "Asia/Hong_Kong"),
    "TW": ("Taoyuan", "Asia/Taipei"),
    "KR": ("Incheon", "Asia/Seoul"),
    "JP": ("Narita", "Asia/Tokyo"),
    "AU": ("Sydney", "Australia/Sydney"),
    "NZ": ("Auckland", "Pacific/Auckland"),
}
_DEFAULT_GATEWAY = ("Leipzig", "Europe/Berlin")
# Export hub out of Shenzhen: couriers fly from Hong Kong, posts and Cainiao from Guangzhou.
_EXPORT_HUBS = {"DHL": 0, "FedEx": 0, "UPS": 0}
_HUBS = (("Hong Kong", "HK", "Asia/Hong_Kong"), ("Guangzhou", "CN", "Asia/Shanghai"))

# Where a scan happens.
ORIGIN, EXPORT_HUB, GATEWAY, DESTINATION = 0, 1, 2, 3
# (tag, subtag, message, where, fraction of transit, extra days)
_Step = tuple[str, str, str, int, float, float]
_LABEL: _Step = (
    "InfoReceived",
    "InfoReceived_001",
    "Shipment information received",
    ORIGIN,
    0.0,
    0,
)
_PICKED: _Step = ("InTransit", "InTransit_002", "Picked up", ORIGIN, 0.03, 0)
_DEPARTED: _Step = ("InTransit", "InTransit_007", "Departed facility", EXPORT_HUB, 0.1, 0)
_ABROAD: _Step = ("InTransit", "InTransit_001", "In transit", EXPORT_HUB, 0.2, 0)
_ARRIVED_COUNTRY: _Step = (
    "InTransit",
    "InTransit_004",
    "Arrived at destination country",
    GATEWAY,
    0.55,
    0,
)
_CUSTOMS: _Step = (
    "InTransit",
    "InTransit_001",
    "International shipment release - Import",
    GATEWAY,
    0.62,
    0,
)
_LOCAL_DEPOT: _Step = (
    "InTransit",
    "InTransit_003",
    "Arrived at delivery facility",
    DESTINATION,
    0.85,
    0,
)
_OUT: _Step = ("OutForDelivery", "OutForDelivery_001", "Out for delivery", DESTINATION, 0.95, 0)
_DELIVERED: _Step = ("Delivered", "Delivered_001", "Delivered", DESTINATION, 1.0, 0)
_MISSED: _Step = (
    "AttemptFail",
    "AttemptFail_001",
    "Delivery attempted - recipient not available",
    DESTINATION,
    0.98,
    0,
)
_OUT_AGAIN: _Step = (
    "OutForDelivery",
    "OutForDelivery_001",
    "Out for delivery",
    DESTINATION,
    0.95,
    1,
)
_DELIVERED_LATE: _Step = ("Delivered", "Delivered_001", "Delivered", DESTINATION, 1.0, 1)
_PICKUP: _Step = (
    "AvailableForPickup",
    "AvailableForPickup_001",
    "Available for pickup at the local post office",
    DESTINATION,
    0.97,
    0,
)
_PICKED_UP: _Step = (
    "Delivered",
    "Delivered_002",
    "Picked up by the customer",
    DESTINATION,
    1.0,
    0.5,
)
_BAD_ADDRESS: _Step = (
    "Exception",
    "Exception_007",
    "Incorrect or incomplete address",
    DESTINATION,
    0.98,
    0,
)
_RETURNING: _Step = ("Exception", "Exception_010", "Returning to sender", DESTINATION, 1.0, 2)
_DOMESTIC_DEPARTED: _Step = ("InTransit", "InTransit_007", "Departed facility", ORIGIN, 0.15, 0)
_DOMESTIC_ARRIVED: _Step = ("InTransit", "InTransit_003", "Arrival scan", DESTINATION, 0.7, 0)
_EXPIRED: _Step = ("Expired", "Expired_001", "No further updates", GATEWAY, 0.5, 30)
_RETURNED: _Step = ("Exception", "Exception_011", "Returned to sender", ORIGIN, 1.0, 0)
_DOMESTIC = (_LABEL, _PICKED, _DOMESTIC_DEPARTED, _DOMESTIC_ARRIVED)
_INTERNATIONAL = (_LABEL, _PICKED, _DEPARTED, _ABROAD, _ARRIVED_COUNTRY, _CUSTOMS, _LOCAL_DEPOT)
_ENDINGS = {
    "delivered": (_OUT, _DELIVERED),
    "attempt": (_OUT, _MISSED, _OUT_AGAIN, _DELIVERED_LATE),
    "pickup": (_PICKUP, _PICKED_UP),
    "failed": (_OUT, _BAD_ADDRESS, _RETURNING),
}


_FATES = ("delivered", "attempt", "pickup", "failed", "lost")
_TEMPLATE_KEYS = tuple((intl, fate) for intl in (False, True) for fate in _FATES)
_NOBODY_IN = ("AttemptFail", "AttemptFail_003", "Delivery attempted - business closed")


def _steps(key: tuple[bool, str]) -> tuple[_Step, ...]:
    """The scans of one (international, fate) template."""
    international, fate = key
    head = _INTERNATIONAL if international else _DOMESTIC
    if fate == "lost":
        # Lost parcels scan until they vanish halfway, then expire.
        return tuple(s for s in head if s[4] <= 0.5) + (_EXPIRED,)
    if fate == "failed":
        return head + _ENDINGS[fate] + (_RETURNED,)
    return head + _ENDINGS[fate]


def tracking_numbers(carrier: pl.Series, seed: int) -> pl.Series:
    """A number per shipment in its carrier's format, distinct within each carrier."""
    out = pl.Series([""] * len(carrier), dtype=pl.String)
    for name in carrier.unique().sort().to_list():
        rows = np.flatnonzero((carrier == name).to_numpy())
        k = np.arange(len(rows)) + seed * 1_000
        salt = seed % 997
        if name == "USPS":
            number = "9400111" + digits(k, 9, salt) + digits(k // 10**9, 6, salt + 1)
        elif name == "UPS":
            number = "1Z999AA103" + digits(k, 8, salt)
        elif name == "FedEx":
            number = "773" + digits(k, 9, salt)
        elif name == "DHL":
            number = "1" + digits(k, 9, salt)
        elif name == "DPD":
            number = "01505" + digits(k, 9, salt)
        elif name == "Royal Mail":
            number = s10_tracking(k, "TT", "GB", salt)
        elif name == "Japan Post":
            number = "351" + digits(k, 9, salt)
        elif name == "Yanwen":
            number = s10_tracking(k, "UG", "YP", salt)
        else:  # Cainiao
            number = "LP005" + pl.Series(permuted(k, 9, salt)).cast(pl.String).str.zfill(9) + "0"
        out = out.scatter(rows, number)
    return out


def events(
    rng: np.random.Generator,
    shipments: pl.DataFrame,
    destination: pl.DataFrame,
    bad_address: np.ndarray,
    order: np.ndarray,
    horizon: int,
) -> tuple[pl.DataFrame, np.ndarray]:
    """Every scan up to ``horizon``, and each shipment's AfterShip tag at the horizon (index
    into ``TAGS``, -1 without scans).

    Scans come out grouped by shipment in the sequence ``order`` (positions in
    ``shipments``), in scan order within a shipment, so sorting ``order`` by tracking number
    makes the frame sorted by its primary key without sorting millions of rows.
    ``destination`` holds, per shipment, the customer's ``city``, ``country_code`` and
    ``timezone``; ``bad_address`` whether the customer's address is broken."""
    m = shipments.height
    shipped = shipments["shipped"].to_numpy()
    transit = shipments["transit"].to_numpy()
    wh_idx = shipments["warehouse_idx"].to_numpy()
    international = (shipments["origin_country"] != shipments["dest_country"]).to_numpy()
    international |= wh_idx == wh.HOME
    outcome = shipments["outcome_code"].to_numpy()
    fate = np.select(
        [
            (outcome == 0) & shipments["attempt"].to_numpy(),
            (outcome == 0) & shipments["pickup"].to_numpy(),
            outcome == 0,
            outcome == 1,
        ],
        [
            _FATES.index("attempt"),
            _FATES.index("pickup"),
            _FATES.index("delivered"),
            _FATES.index("failed"),
        ],
        _FATES.index("lost"),
    )
    template = international.astype(np.int64) * len(_FATES) + fate
    outcome_at = shipments["outcome_at"].to_numpy()
    last_scan = shipments["last_scan"].to_numpy()
    places = _places(shipments, destination, international)

    # Flat step table of every template (failed parcels end with "returned to sender").
    steps = [s for key in _TEMPLATE_KEYS for s in _steps(key)]
    lengths = np.array([len(_steps(key)) for key in _TEMPLATE_KEYS])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    frac = np.array([s[4] for s in steps])
    extra = np.array([s[5] for s in steps])
    where = np.array([s[3] for s in steps])
    texts = [s[:3] for s in steps] + [_NOBODY_IN]
    plain_text = len(texts) - 1
    is_bad_address_step = np.array([s[1] == "Exception_007" for s in steps])

    k = lengths[template]
    rep = np.repeat(order, k[order])
    seq = np.arange(len(rep)) - np.repeat(group_starts(k[order]), k[order])
    step = offsets[template[rep]] + seq
    last = seq == k[rep] - 1
    at = (
        shipped[rep]
        + (frac[step] * transit[rep]).astype(np.int64)
        + (extra[step] * DAY).astype(np.int64)
    )
    at = at + seq * 60 + rng.integers(0, HOUR, len(rep))
    fate_of = fate[rep]
    lost = fate_of == _FATES.index("lost")
    failed = fate_of == _FATES.index("failed")
    at = np.where(
        lost, np.where(last, last_scan[rep] + 30 * DAY, np.minimum(at, last_scan[rep])), at
    )
    at = np.where(failed & (seq == k[rep] - 2), np.minimum(at, outcome_at[rep] - HOUR), at)
    at = np.where(failed & last, outcome_at[rep], at)
    # A delivered parcel's last scan (Delivered, or picked up) is its ledger delivery time, and
    # every earlier scan comes at least a minute per step before it.
    delivered = shipments["delivered"].to_numpy()
    arrived = outcome[rep] == 0
    at = np.where(arrived, np.minimum(at, delivered[rep] - (k[rep] - 1 - seq) * 60), at)
    at = np.where(arrived & last, delivered[rep], at)
    # Keep each parcel's scans in time order after the jitter: a running maximum per group.
    group = np.repeat(np.arange(len(order), dtype=np.int64), k[order]) << 32
    at = np.maximum.accumulate(group + at) - group
    keep = at <= horizon
    rep, seq, step, at = rep[keep], seq[keep], step[keep], at[keep]
    # A failure is about the address only when the address is broken; else nobody was in.
    text = np.where(is_bad_address_step[step] & ~bad_address[rep], plain_text, step)
    loc = places.location(where[step], rep)
    out = pl.DataFrame(
        {
            "shipment_idx": rep,
            "seq": seq,
            "event_at_s": at,
            "local_utc_offset_minutes": local_offsets(at, places.zone_of[loc], places.zones),
            "tag": take([t[0] for t in texts], text),
            "subtag": take([t[1] for t in texts], text),
            "city": take(places.names, loc),
            "country_code": take(places.countries, loc),
            "message": take([t[2] for t in texts], text),
        }
    )
    tag_code = np.array([TAGS.index(t[0]) for t in texts])[text]
    last_tag = np.full(m, -1, dtype=np.int64)
    last_tag[rep] = tag_code  # rows are grouped by shipment in scan order: the last write wins
    return out, last_tag


@dataclass
class _Places:
    """Every place a scan can happen (warehouses, export hubs, gateways, customers' cities)
    and, per shipment, which of them its origin, hub, gateway and destination are."""

    names: list[str]
    countries: list[str]
    zones: list[str]
    zone_of: np.ndarray
    origin: np.ndarray
    export_hub: np.ndarray
    gateway: np.ndarray
    destination: np.ndarray

    def location(self, where: np.ndarray, shipment: np.ndarray) -> np.ndarray:
        """The place of each scan: its shipment's place of kind ``where`` (one gather)."""
        table = np.stack([self.origin, self.export_hub, self.gateway, self.destination], axis=1)
        return table.ravel()[shipment * 4 + where]


def _places(
    shipments: pl.DataFrame, destination: pl.DataFrame, international: np.ndarray
) -> _Places:
    wh_idx = shipments["warehouse_idx"].to_numpy()
    names = list(wh.CITY) + [h[0] for h in _HUBS]
    countries = list(wh.COUNTRY) + [h[1] for h in _HUBS]
    zones = list(wh.TIMEZONE) + [h[2] for h in _HUBS]
    gateway_of = {}
    for code, (city, zone) in [*_GATEWAYS.items(), ("", _DEFAULT_GATEWAY)]:
        gateway_of[code] = len(names)
        names.append(city)
        countries.append(code or "DE")
        zones.append(zone)
    key = destination.select(pl.concat_str("city", "country_code", "timezone", separator="|"))
    key = key.to_series()
    uniq = destination.select("city", "country_code", "timezone").unique(maintain_order=True)
    destination_loc = len(names) + codes(
        key, uniq.select(pl.concat_str(pl.all(), separator="|")).to_series().to_list()
    )
    names += uniq["city"].to_list()
    countries += uniq["country_code"].to_list()
    zones += uniq["timezone"].to_list()
    hub = shipments["carrier"].replace_strict(_EXPORT_HUBS, default=1, return_dtype=pl.Int64)
    zone_names = sorted(set(zones))
    return _Places(
        names=names,
        countries=countries,
        zones=zone_names,
        zone_of=np.array([zone_names.index(z) for z in zones], dtype=np.int64),
        origin=wh_idx,
        export_hub=np.where(international, len(wh.CODES) + hub.to_numpy(), wh_idx),
        gateway=shipments["dest_country"]
        .replace_strict(gateway_of, default=gateway_of[""], return_dtype=pl.Int64)
        .to_numpy(),
        destination=destination_loc,
    )


TAGS = (
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Exception",
    "Delivered",
    "AvailableForPickup",
    "Expired",
)
