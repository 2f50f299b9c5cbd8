"""Generate the sandbox's ground-truth ledger: a seeded, vectorized simulation of one seller.

Why: every connector, model and action in Tradelane is tested against this world, so it must
be (1) deterministic per seed, (2) exact (money in integer minor units, invariants that hold to
the cent, UTC timestamps) and (3) cheap at scale: everything is drawn with numpy over whole
columns, never a Python loop per order, so millions of orders stay a matter of seconds.

The ledger holds every event up to ``horizon = end + future_days``; the clock in ``state.py``
decides what the APIs may show. Orders created in ``[end - days, end]`` number exactly
``n_orders``; the ``future_days`` after ``end`` get more orders at the same daily rate, plus the
late events (fulfilments, refunds) of older orders, so advancing the clock reveals both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from ingestion.sandbox import catalog, geo
from ingestion.sandbox.asof import inventory_as_of, inventory_events, last_event_in
from ingestion.sandbox.money import minor_units

# Every id in the sandbox is above 2**53, so that a JSON parser that reads numbers as doubles
# corrupts it visibly instead of silently working on small test ids.
ID_FLOOR = 2**53 + 1
# Each kind of id gets its own block, which keeps ids unique across kinds.
_ID_BLOCK = 10**14
_ID_KIND = {
    "order": 0,
    "line_item": 1,
    "customer": 2,
    "product": 3,
    "variant": 4,
    "location": 5,
    "fulfillment": 6,
    "shipping_line": 7,
    "transaction": 8,
    "refund": 9,
    "refund_line": 10,
    "refund_transaction": 11,
    "checkout": 12,
    "gift_card": 13,
    "address": 14,
    "order_adjustment": 15,
}

SHOP_CURRENCY = "USD"
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
# Mid-2026 USD -> X levels the daily random walk starts from.
_FX_BASE = {"USD": 1.0, "CAD": 1.37, "GBP": 0.785, "EUR": 0.92, "AUD": 1.52, "JPY": 151.0}
# Busier weekends: cross-border shoppers buy from their sofa (Mon..Sun).
_WEEKDAY_WEIGHT = np.array([0.95, 0.92, 0.95, 1.0, 1.05, 1.15, 1.2])

_GATEWAYS = ("shopify_payments", "paypal", "gift_card", "manual")
_GATEWAY_P = [0.74, 0.16, 0.07, 0.03]
# (kind, code or title, value: basis points for percentages, USD cents for fixed amounts)
_DISCOUNTS = (
    ("none", "", 0),
    ("code_percentage", "WELCOME10", 1000),
    ("code_fixed", "SAVE5", 500),
    ("automatic_percentage", "Autumn Sale", 1500),
)
_DISCOUNT_P = [0.78, 0.09, 0.06, 0.07]
# Unpaid cancellations (voids) first, then reasons for cancelling a paid order.
_CANCEL_REASONS = ("declined", "fraud", "customer", "inventory", "other")
_RETURN_NOTES = ("Damaged in transit", "Wrong size", "Changed mind", "Not as described")
_GIFT_MESSAGES = ("Happy birthday!", "Congratulations", "With love", "Thank you")
_SHIPPING_TITLES = ("Express", "Free Shipping", "Standard", "Standard International")

WAREHOUSES = (
    # code, name, city, country, lat, lon, tz
    ("SZX", "Shenzhen Home Warehouse", "Shenzhen", "CN", 22.54, 114.06, "Asia/Shanghai"),
    ("LAX", "Los Angeles 3PL", "Los Angeles", "US", 34.05, -118.24, "America/Los_Angeles"),
)


@dataclass(frozen=True)
class World:
    """The ground-truth ledger of one seeded world: polars frames plus the generation window.

    ``orders`` and ``order_lines`` are sorted by ``order_id`` (which follows ``created_at``), and
    ``order_lines`` rows of one order are contiguous: renderers slice them by offset.
    """

    seed: int
    start: datetime
    end: datetime
    horizon: datetime
    products: pl.DataFrame
    warehouses: pl.DataFrame
    customers: pl.DataFrame
    orders: pl.DataFrame
    order_lines: pl.DataFrame
    refunds: pl.DataFrame
    refund_lines: pl.DataFrame
    inventory: pl.DataFrame

    def frames(self) -> dict[str, pl.DataFrame]:
        """Every table by name, for tests and for dumping the ledger."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: v for name, v in values.items() if isinstance(v, pl.DataFrame)}


def generate_world(
    seed: int = 42,
    n_orders: int = 2000,
    end: datetime = DEFAULT_END,
    days: int = 90,
    future_days: int = 30,
) -> World:
    """Build the ledger. Same arguments, same frames (``frame.equals``)."""
    if n_orders < 1 or days < 1 or future_days < 0:
        raise ValueError("n_orders and days must be positive, future_days non-negative")
    end = end.astimezone(UTC)
    start = end - timedelta(days=days)
    horizon = end + timedelta(days=future_days)
    rng = np.random.default_rng(seed)
    ids = _IdMaker(rng)

    products = _products(ids)
    lax_class = _lax_stock_class(rng, products)
    warehouses = _warehouses(ids)
    fx = _fx_table(rng, days + future_days + 1)
    order_times, n_total = _order_times(rng, n_orders, start, days, future_days)
    customer_of_order, customers = _customers(rng, ids, order_times, start)
    orders, lines = _orders_and_lines(
        rng, ids, products, customers, customer_of_order, order_times, fx, start
    )
    orders, refunds, refund_lines = _lifecycle(
        rng, ids, orders, lines, warehouses, lax_class, horizon
    )
    inventory = _inventory(rng, products, lax_class, orders, lines, end)
    assert orders.height == n_total
    return World(
        seed=seed,
        start=start,
        end=end,
        horizon=horizon,
        products=products,
        warehouses=warehouses,
        customers=customers,
        orders=orders,
        order_lines=lines,
        refunds=refunds,
        refund_lines=refund_lines,
        inventory=inventory,
    )


class _IdMaker:
    """Strictly increasing int64 ids above 2**53 with random gaps, one block per kind."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def __call__(self, kind: str, n: int) -> np.ndarray:
        base = ID_FLOOR + _ID_KIND[kind] * _ID_BLOCK
        gaps = self._rng.integers(1, 4096, n, dtype=np.int64)
        gaps[:1] = 0
        return base + np.cumsum(gaps)


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Epoch seconds (int64) -> UTC datetime series, null where ``valid`` is False."""
    series = pl.Series(seconds.astype(np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))
    if valid is None:
        return series
    return series.zip_with(pl.Series(valid), pl.Series([None], dtype=series.dtype))


def _masked(values: np.ndarray | pl.Series, valid: np.ndarray) -> pl.Series:
    """A series of ``values`` with nulls where ``valid`` is False."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    return series.zip_with(pl.Series(valid), pl.Series([None], dtype=series.dtype))


def _take(values: Sequence[str], idx: np.ndarray) -> pl.Series:
    """``values[idx]`` as a polars string column. Strings never go through numpy: converting
    numpy unicode arrays to polars dominated generation time at a million orders."""
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def _codes(series: pl.Series, values: Sequence[str]) -> np.ndarray:
    """Position of each string of ``series`` in ``values`` (vectorized)."""
    return series.replace_strict(
        {v: i for i, v in enumerate(values)}, return_dtype=pl.Int64
    ).to_numpy()


def _epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _products(ids: _IdMaker) -> pl.DataFrame:
    rows = [(p, v) for p in catalog.CATALOG for v in p.variants]
    product_ids = ids("product", len(catalog.CATALOG))
    pid_of = {p.title: int(pid) for p, pid in zip(catalog.CATALOG, product_ids, strict=True)}
    return pl.DataFrame(
        {
            "sku": [f"TL-{i + 1:04d}" for i in range(len(rows))],
            "product_id": [pid_of[p.title] for p, _ in rows],
            "variant_id": ids("variant", len(rows)),
            "title": [p.title for p, _ in rows],
            "variant_title": [v for _, v in rows],
            "vendor": [p.vendor for p, _ in rows],
            "grams": [p.grams for p, _ in rows],
            "hs_code": [p.hs_code for p, _ in rows],
            "origin_country_code": [p.origin_country_code for p, _ in rows],
            "unit_cost_minor": [p.unit_cost_minor for p, _ in rows],
            "cost_currency": ["CNY"] * len(rows),
            "price_minor": [p.price_minor for p, _ in rows],
            "price_currency": [SHOP_CURRENCY] * len(rows),
            "personalised": [p.personalised for p, _ in rows],
            "stocked_in_lax": [p.stocked_in_lax for p, _ in rows],
        },
        schema_overrides={
            "product_id": pl.Int64,
            "grams": pl.Int64,
            "unit_cost_minor": pl.Int64,
            "price_minor": pl.Int64,
        },
    )


def _warehouses(ids: _IdMaker) -> pl.DataFrame:
    frame = pl.DataFrame(
        WAREHOUSES,
        schema=["code", "name", "city", "country_code", "latitude", "longitude", "timezone"],
        orient="row",
    )
    return frame.with_columns(location_id=pl.Series(ids("location", len(WAREHOUSES))))


def _fx_table(rng: np.random.Generator, n_days: int) -> dict[str, np.ndarray]:
    """USD -> currency rate per day since ``start``: a small random walk around the base."""
    out = {}
    for cur, base in _FX_BASE.items():
        if cur == SHOP_CURRENCY:
            out[cur] = np.ones(n_days)
            continue
        walk = np.cumsum(rng.normal(0.0, 0.003, n_days))
        out[cur] = np.round(base * np.exp(walk), 6)
    return out


def _order_times(
    rng: np.random.Generator, n_orders: int, start: datetime, days: int, future_days: int
) -> tuple[np.ndarray, int]:
    """Creation instants (epoch seconds, sorted): exactly ``n_orders`` in ``[start, end]`` and
    the same daily rate after ``end``."""
    n_future = round(n_orders * future_days / days)
    day0 = start.date().weekday()
    chunks = []
    for first, length, n in ((0, days, n_orders), (days, future_days, n_future)):
        if n == 0:
            continue
        day_idx = np.arange(first, first + length)
        weight = _WEEKDAY_WEIGHT[(day0 + day_idx) % 7] * (1.0 + 0.3 * day_idx / (days + 1))
        picked = rng.choice(day_idx, size=n, p=weight / weight.sum())
        secs = picked * 86_400 + rng.integers(0, 86_400, n)
        # Keep the history window closed at ``end`` so that exactly n_orders are visible there.
        secs = np.minimum(secs, first * 86_400 + length * 86_400 - (1 if first == 0 else 0))
        chunks.append(secs)
    return _epoch(start) + np.sort(np.concatenate(chunks)), n_orders + n_future


def _city_table() -> pl.DataFrame:
    country = {c.code: c for c in geo.COUNTRIES}
    rows = []
    for city in geo.CITIES:
        c = country[city.country_code]
        in_country = sum(x.weight for x in geo.CITIES if x.country_code == c.code)
        rows.append(
            {
                "country_code": c.code,
                "country": c.name,
                "city": city.name,
                "province_code": city.province_code,
                "province": city.province,
                "city_latitude": city.latitude,
                "city_longitude": city.longitude,
                "timezone": city.timezone,
                "postal_kind": city.postal_kind,
                "prefixes": list(city.postal_prefixes),
                "locale": city.locale,
                "currency": c.currency,
                "tax_rate_bp": c.tax_rate_bp if city.tax_rate_bp is None else city.tax_rate_bp,
                "tax_title": c.tax_title if city.tax_title is None else city.tax_title,
                "p": c.weight * city.weight / in_country,
            }
        )
    return pl.DataFrame(rows)


def _flat_pick(
    rng: np.random.Generator, table: dict[str, tuple[str, ...]], codes: pl.Series
) -> np.ndarray:
    """Per row, the index into ``_flatten(table)`` of a random entry of ``table[code]``."""
    keys = list(table)
    lengths = np.array([len(table[k]) for k in keys])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    key_idx = _codes(codes, keys)
    u = rng.random(len(codes))
    return offsets[key_idx] + (u * lengths[key_idx]).astype(np.int64)


def _flatten(table: dict[str, tuple[str, ...]]) -> list[str]:
    return [v for k in table for v in table[k]]


def _customers(
    rng: np.random.Generator, ids: _IdMaker, order_times: np.ndarray, start: datetime
) -> tuple[np.ndarray, pl.DataFrame]:
    n_orders = len(order_times)
    n = max(20, int(n_orders * 0.7))
    # Uneven loyalty: a gamma-weighted pick makes some customers order several times.
    loyalty = rng.gamma(0.6, 1.0, n)
    customer_of_order = rng.choice(n, size=n_orders, p=loyalty / loyalty.sum())

    cities = _city_table()
    city_idx = rng.choice(cities.height, size=n, p=(cities["p"] / cities["p"].sum()).to_numpy())
    c = cities[city_idx]
    codes = c["country_code"]
    countries = pl.DataFrame(
        {
            "country_code": [x.code for x in geo.COUNTRIES],
            "phone_prefix": [x.phone_prefix for x in geo.COUNTRIES],
            "phone_len": [x.phone_digits for x in geo.COUNTRIES],
            "street_first": [x.street_style == "street_first" for x in geo.COUNTRIES],
        }
    )
    per_country = c.select("country_code").join(
        countries, on="country_code", how="left", maintain_order="left"
    )
    first_i = _flat_pick(rng, geo.FIRST_NAMES, codes)
    last_i = _flat_pick(rng, geo.LAST_NAMES, codes)
    street = _take(_flatten(geo.STREETS), _flat_pick(rng, geo.STREETS, codes))
    address2_table = {x.code: x.address2_choices for x in geo.COUNTRIES}
    address2 = _take(_flatten(address2_table), _flat_pick(rng, address2_table, codes))
    # Emails are ASCII: transliterate the (small) name tables, then index them.
    ascii_first = [_ascii(v) for v in _flatten(geo.FIRST_NAMES)]
    ascii_last = [_ascii(v).replace(" ", "").replace("'", "") for v in _flatten(geo.LAST_NAMES)]
    prefix_table = {str(i): tuple(p) for i, p in enumerate(cities["prefixes"].to_list())}
    prefix = _take(
        _flatten(prefix_table), _flat_pick(rng, prefix_table, pl.Series(city_idx).cast(pl.String))
    )

    # First order per customer dates the account (checkout creates it); others predate start.
    first_order = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_order, customer_of_order, order_times)
    has_order = first_order < np.iinfo(np.int64).max
    created = np.where(
        has_order,
        first_order - rng.integers(0, 30 * 86_400, n),
        _epoch(start) - rng.integers(0, 400 * 86_400, n),
    )
    phone_len = per_country["phone_len"].to_numpy()
    # National number: phone_len digits, first digit 2-9.
    national = (
        2 * 10.0 ** (phone_len - 1) + np.floor(rng.random(n) * 8 * 10.0 ** (phone_len - 1))
    ).astype(np.int64)
    digits = rng.integers(0, 10, (n, 4))

    def letter(alphabet: str) -> pl.Series:
        return _take(alphabet, rng.integers(0, len(alphabet), n))

    frame = pl.DataFrame(
        {
            "customer_id": ids("customer", n),
            "default_address_id": ids("address", n),
            "first_name": _take(_flatten(geo.FIRST_NAMES), first_i),
            "last_name": _take(_flatten(geo.LAST_NAMES), last_i),
            "email_local": _take(ascii_first, first_i) + "." + _take(ascii_last, last_i),
            "email_n": rng.integers(1, 999, n),
            "phone_national": national,
            "has_phone": rng.random(n) < 0.7,
            "prefix": prefix,
            "d2": rng.integers(1, 100, n),  # two digits, never "00"
            "d_a": digits[:, 0],
            "d_b": digits[:, 1],
            "d_c": digits[:, 2],
            "d_d": digits[:, 3],
            "l_ca": letter(geo.CA_LETTERS),
            "g_1": letter(geo.GB_LETTERS),
            "g_2": letter(geo.GB_LETTERS),
            "nl_a": letter(geo.NL_FIRST_LETTERS),
            "nl_b": letter(geo.NL_SECOND_LETTERS),
            "house": rng.integers(1, 240, n),
            "street": street,
            "address2_pick": address2,
            "has_address2": rng.random(n) < 0.2,
            "lat_jitter": np.round(rng.normal(0, 0.03, n), 5),
            "lon_jitter": np.round(rng.normal(0, 0.03, n), 5),
            "accepts_marketing": rng.random(n) < 0.35,
            "created_at": _ts(created),
        },
    ).hstack(c.drop("p", "prefixes").hstack(per_country.drop("country_code")))

    def digit(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String)

    kind = pl.col("postal_kind")
    frame = frame.with_columns(
        zip=pl.when(kind == "digits5")
        .then(
            pl.when(pl.col("prefix").str.len_chars() == 3)
            .then(pl.col("prefix") + digit("d2").str.zfill(2))
            .otherwise(pl.col("prefix") + ((pl.col("d_a") % 9) + 1).cast(pl.String))
        )
        .when(kind == "digits4")
        .then(pl.col("prefix") + digit("d_a") + digit("d_b"))
        .when(kind == "fr_paris")
        .then(pl.col("prefix") + ((pl.col("d2") % 20) + 1).cast(pl.String).str.zfill(2))
        .when(kind == "ca")
        .then(pl.col("prefix") + " " + digit("d_a") + pl.col("l_ca") + digit("d_b"))
        .when(kind == "gb")
        .then(pl.col("prefix") + " " + digit("d_a") + pl.col("g_1") + pl.col("g_2"))
        .when(kind == "nl")
        .then(pl.col("prefix") + digit("d_a") + " " + pl.col("nl_a") + pl.col("nl_b"))
        .otherwise(  # jp
            pl.col("prefix") + "-" + digit("d_a") + digit("d_b") + digit("d_c") + digit("d_d")
        ),
        address1=pl.when(pl.col("country_code") == "JP")
        .then(
            pl.col("street")
            + " "
            + ((pl.col("d_a") % 5) + 1).cast(pl.String)
            + "-"
            + ((pl.col("d_b") % 9) + 1).cast(pl.String)
            + "-"
            + digit("house")
        )
        .when(pl.col("street_first"))
        .then(pl.col("street") + " " + digit("house"))
        .otherwise(digit("house") + " " + pl.col("street")),
        address2=pl.when(pl.col("has_address2")).then(pl.col("address2_pick")),
        email=pl.col("email_local") + digit("email_n") + "@example.com",
        phone=pl.when(pl.col("has_phone")).then(pl.col("phone_prefix") + digit("phone_national")),
        latitude=(pl.col("city_latitude") + pl.col("lat_jitter")).round(5),
        longitude=(pl.col("city_longitude") + pl.col("lon_jitter")).round(5),
    )
    customers = frame.select(
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "locale",
        "country_code",
        "country",
        "province_code",
        "province",
        "city",
        "zip",
        "address1",
        "address2",
        "latitude",
        "longitude",
        "timezone",
        "currency",
        "tax_rate_bp",
        "tax_title",
        "accepts_marketing",
        "default_address_id",
        "created_at",
    )
    return customer_of_order, customers


def _allocate(
    amount: np.ndarray,
    weights: np.ndarray,
    line_order: np.ndarray,
    line_pos: np.ndarray,
    starts: np.ndarray,
) -> np.ndarray:
    """Split each order's ``amount`` over its lines proportionally to ``weights``, in integers,
    with the remainder going to the first lines so that the parts sum exactly."""
    total = np.add.reduceat(weights, starts)
    share = weights * amount[line_order] // np.maximum(total[line_order], 1)
    remainder = amount - np.add.reduceat(share, starts)
    return share + (line_pos < remainder[line_order])


def _orders_and_lines(
    rng: np.random.Generator,
    ids: _IdMaker,
    products: pl.DataFrame,
    customers: pl.DataFrame,
    customer_of_order: np.ndarray,
    created: np.ndarray,
    fx: dict[str, np.ndarray],
    start: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = len(created)
    cust = customers[customer_of_order]
    n_lines = rng.choice([1, 2, 3, 4], size=n, p=[0.55, 0.25, 0.13, 0.07])
    starts = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    n_total_lines = int(n_lines.sum())
    line_order = np.repeat(np.arange(n), n_lines)
    line_pos = np.arange(n_total_lines) - starts[line_order]

    # Popular SKUs sell more; a per-order stride keeps the SKUs of one order distinct.
    n_sku = products.height
    popularity = 1.0 / (np.arange(n_sku) + 3.0) ** 0.8
    popularity = rng.permutation(popularity)
    base = rng.choice(n_sku, size=n, p=popularity / popularity.sum())
    strides = np.array([s for s in range(1, n_sku) if all((j * s) % n_sku for j in range(1, 4))])
    stride = rng.choice(strides, size=n)
    sku_idx = (base[line_order] + line_pos * stride[line_order]) % n_sku
    prod = products[sku_idx]
    quantity = rng.choice([1, 2, 3], size=n_total_lines, p=[0.8, 0.15, 0.05])
    price = prod["price_minor"].to_numpy()
    line_total = price * quantity

    # Discounts, allocated to lines (Shopify's discount_allocations) in both currencies.
    disc_pick = rng.choice(len(_DISCOUNTS), size=n, p=_DISCOUNT_P)
    disc_value = np.array([d[2] for d in _DISCOUNTS])[disc_pick]
    is_pct = np.isin(
        disc_pick, [i for i, d in enumerate(_DISCOUNTS) if d[0].endswith("percentage")]
    )
    is_fixed = disc_pick == [d[0] for d in _DISCOUNTS].index("code_fixed")
    items_total = np.add.reduceat(line_total, starts)
    disc_amount = np.where(
        is_pct,
        items_total * disc_value // 10_000,
        np.where(is_fixed, np.minimum(disc_value, items_total), 0),
    )
    line_disc = _allocate(disc_amount, line_total, line_order, line_pos, starts)

    # Presentment currency and its daily rate; JPY has no minor unit, so scale per currency.
    currencies = list(fx)
    cur_idx = _codes(cust["currency"], currencies)
    rates = np.stack([fx[c] for c in currencies])
    day = np.clip((created - _epoch(start)) // 86_400, 0, rates.shape[1] - 1)
    fx_rate = rates[cur_idx, day]
    exponent = np.array([minor_units(c) for c in currencies])[cur_idx]
    to_pres = fx_rate * 10.0 ** (exponent - 2)
    price_p = np.rint(price * to_pres[line_order]).astype(np.int64)
    line_total_p = price_p * quantity
    items_total_p = np.add.reduceat(line_total_p, starts)
    disc_amount_p = np.where(
        is_pct,
        items_total_p * disc_value // 10_000,
        np.where(
            is_fixed, np.minimum(np.rint(disc_value * to_pres).astype(np.int64), items_total_p), 0
        ),
    )
    line_disc_p = _allocate(disc_amount_p, line_total_p, line_order, line_pos, starts)

    # Tax: the destination's rate on the discounted line, rounded half up, per line.
    tax_bp = cust["tax_rate_bp"].to_numpy()
    line_tax = ((line_total - line_disc) * tax_bp[line_order] + 5_000) // 10_000
    line_tax_p = ((line_total_p - line_disc_p) * tax_bp[line_order] + 5_000) // 10_000

    # Shipping: free above a threshold, flat otherwise, 10% pay for express.
    domestic = (cust["country_code"] == "US").to_numpy()
    subtotal = items_total - np.add.reduceat(line_disc, starts)
    express = rng.random(n) < 0.10
    standard = np.where(
        domestic, np.where(subtotal >= 5_000, 0, 599), np.where(subtotal >= 7_500, 0, 1_299)
    )
    shipping = np.where(express, np.where(domestic, 1_999, 2_999), standard)
    shipping_p = np.rint(shipping * to_pres).astype(np.int64)
    shipping_title = _take(
        _SHIPPING_TITLES, np.select([express, shipping == 0, domestic], [0, 1, 2], 3)
    )

    order_ids = ids("order", n)
    line_ids = ids("line_item", n_total_lines)
    engrave = prod["personalised"].to_numpy()
    engraving = _take(catalog.ENGRAVINGS, rng.integers(0, len(catalog.ENGRAVINGS), n_total_lines))
    lines = pl.DataFrame(
        {
            "line_item_id": line_ids,
            "order_id": order_ids[line_order],
            "line_position": line_pos,
            "sku": prod["sku"],
            "product_id": prod["product_id"],
            "variant_id": prod["variant_id"],
            "title": prod["title"],
            "variant_title": prod["variant_title"],
            "vendor": prod["vendor"],
            "quantity": quantity,
            "price_minor": price,
            "total_discount_minor": line_disc,
            "tax_minor": line_tax,
            "tax_rate": tax_bp[line_order] / 10_000,
            "grams": prod["grams"],
            "price_presentment_minor": price_p,
            "total_discount_presentment_minor": line_disc_p,
            "tax_presentment_minor": line_tax_p,
            "engraving": _masked(engraving, engrave),
        },
        schema_overrides={
            "quantity": pl.Int64,
            "price_minor": pl.Int64,
            "total_discount_minor": pl.Int64,
            "tax_minor": pl.Int64,
        },
    )

    sums = {
        name: np.add.reduceat(values, starts)
        for name, values in (
            ("total_line_items_price_minor", line_total),
            ("total_discounts_minor", line_disc),
            ("total_tax_minor", line_tax),
            ("total_line_items_price_presentment_minor", line_total_p),
            ("total_discounts_presentment_minor", line_disc_p),
            ("total_tax_presentment_minor", line_tax_p),
            ("total_weight_grams", prod["grams"].to_numpy() * quantity),
        )
    }
    subtotal_p = (
        sums["total_line_items_price_presentment_minor"] - sums["total_discounts_presentment_minor"]
    )
    orders = pl.DataFrame(
        {
            "order_id": order_ids,
            "order_number": np.arange(1001, 1001 + n),
            "customer_id": cust["customer_id"],
            "created_at": _ts(created),
            "timezone": cust["timezone"],
            "currency": [SHOP_CURRENCY] * n,
            "presentment_currency": cust["currency"],
            "fx_rate_to_presentment": fx_rate,
            "total_line_items_price_minor": sums["total_line_items_price_minor"],
            "total_discounts_minor": sums["total_discounts_minor"],
            "subtotal_price_minor": subtotal,
            "total_shipping_minor": shipping,
            "total_tax_minor": sums["total_tax_minor"],
            "total_price_minor": subtotal + shipping + sums["total_tax_minor"],
            "total_line_items_price_presentment_minor": sums[
                "total_line_items_price_presentment_minor"
            ],
            "total_discounts_presentment_minor": sums["total_discounts_presentment_minor"],
            "subtotal_price_presentment_minor": subtotal_p,
            "total_shipping_presentment_minor": shipping_p,
            "total_tax_presentment_minor": sums["total_tax_presentment_minor"],
            "total_price_presentment_minor": subtotal_p
            + shipping_p
            + sums["total_tax_presentment_minor"],
            "total_weight_grams": sums["total_weight_grams"],
            "line_count": n_lines,
            "line_start": starts,
            "discount_kind": _take([d[0] for d in _DISCOUNTS], disc_pick),
            "discount_code": _masked(_take([d[1] for d in _DISCOUNTS], disc_pick), disc_pick != 0),
            "discount_value": disc_value,
            "shipping_title": shipping_title,
            "tax_title": cust["tax_title"],
            "tax_rate": tax_bp / 10_000,
            "gateway": _take(_GATEWAYS, rng.choice(len(_GATEWAYS), size=n, p=_GATEWAY_P)),
            "gift_message": _masked(
                _take(_GIFT_MESSAGES, rng.integers(0, len(_GIFT_MESSAGES), n)), rng.random(n) < 0.08
            ),
            "browser_ip": "203.0.113." + pl.Series(rng.integers(1, 255, n)).cast(pl.String),
            "checkout_id": ids("checkout", n),
            "shipping_line_id": ids("shipping_line", n),
            "country_code": cust["country_code"],
        },
        schema_overrides={
            "order_number": pl.Int64,
            "total_shipping_minor": pl.Int64,
            "discount_value": pl.Int64,
            "line_count": pl.Int64,
            "line_start": pl.Int64,
        },
    )
    orders = _with_local_offset(orders)
    return orders.with_columns(name="#" + pl.col("order_number").cast(pl.String)), lines


def _with_local_offset(orders: pl.DataFrame) -> pl.DataFrame:
    """The customer's UTC offset at order time (DST-aware), one vectorized pass per zone."""
    naive = pl.col("created_at").dt.replace_time_zone(None)
    parts = []
    for (tz,), part in orders.with_row_index("_row").group_by("timezone", maintain_order=True):
        local = pl.col("created_at").dt.convert_time_zone(str(tz)).dt.replace_time_zone(None)
        parts.append(
            part.with_columns(
                local_utc_offset_minutes=((local - naive).dt.total_minutes()).cast(pl.Int32)
            )
        )
    return pl.concat(parts).sort("_row").drop("_row", "timezone")


def _lifecycle(
    rng: np.random.Generator,
    ids: _IdMaker,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    warehouses: pl.DataFrame,
    lax_class: pl.DataFrame,
    horizon: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Payment, routing, fulfilment, cancellation and refund events, clipped at ``horizon``."""
    n = orders.height
    created = orders["created_at"].dt.epoch("s").to_numpy()
    hz = _epoch(horizon)

    # Payment: cards capture within minutes; manual (bank transfer) takes hours to days.
    manual = (orders["gateway"] == "manual").to_numpy()
    pay_delay = np.where(manual, rng.integers(6 * 3600, 72 * 3600, n), rng.integers(20, 900, n))
    paid = created + pay_delay

    # Routing: the LAX 3PL ships US/CA orders whose SKUs are all stocked there.
    starts = orders["line_start"].to_numpy()
    lax_ok_line = (
        lines.join(lax_class, on="sku", how="left", maintain_order="left")["lax_class"].to_numpy()
        == "stocked"
    )
    lax_ok = np.minimum.reduceat(lax_ok_line.astype(np.int8), starts).astype(bool)
    north_america = orders["country_code"].is_in(["US", "CA"]).to_numpy()
    to_lax = lax_ok & north_america & (rng.random(n) < 0.85)
    warehouse = _take(("SZX", "LAX"), to_lax.astype(np.int64))
    ship_delay = np.where(
        to_lax, rng.integers(12 * 3600, 48 * 3600, n), rng.integers(24 * 3600, 5 * 86_400, n)
    )

    # About 3% are cancelled before shipping; a third of those before payment (voided).
    cancelled = rng.random(n) < 0.03
    before_pay = cancelled & (rng.random(n) < 0.33)
    cancel_at = np.where(
        before_pay,
        created + (pay_delay * rng.uniform(0.2, 0.9, n)).astype(np.int64),
        paid + (ship_delay * rng.uniform(0.1, 0.8, n)).astype(np.int64),
    )
    cancel_reason = _take(
        _CANCEL_REASONS,
        np.where(before_pay, rng.integers(0, 2, n), rng.integers(2, len(_CANCEL_REASONS), n)),
    )
    has_paid = ~before_pay & (paid <= hz)
    has_cancel = cancelled & (cancel_at <= hz)
    fulfilled = paid + ship_delay
    has_fulfilled = ~cancelled & has_paid & (fulfilled <= hz)

    # About 5% of shipped orders get a partial refund (one unit returned) 5-25 days later.
    returned = has_fulfilled & (rng.random(n) < 0.05)
    return_at = fulfilled + rng.integers(5 * 86_400, 25 * 86_400, n)
    has_return = returned & (return_at <= hz)
    refund_on_cancel = has_cancel & ~before_pay
    has_refund = has_return | refund_on_cancel
    refunded_at = np.where(refund_on_cancel, cancel_at, return_at)

    carrier, tracking, url = _tracking(
        rng, to_lax, orders["country_code"], orders["shipping_title"]
    )
    location_of = dict(zip(warehouses["code"], warehouses["location_id"], strict=True))
    fulfillment_ids = ids("fulfillment", n)
    payment_tx = ids("transaction", n)
    gift_cards = ids("gift_card", n)

    orders = orders.with_columns(
        paid_at=_ts(paid, has_paid),
        fulfilled_at=_ts(fulfilled, has_fulfilled),
        cancelled_at=_ts(cancel_at, has_cancel),
        cancel_reason=_masked(cancel_reason, has_cancel),
        refunded_at=_ts(refunded_at, has_refund),
        assigned_warehouse=pl.Series(warehouse),
        fulfilled_from_warehouse=_masked(warehouse, has_fulfilled),
        fulfillment_id=pl.Series(np.where(has_fulfilled, fulfillment_ids, 0)),
        fulfillment_location_id=pl.Series(np.where(to_lax, location_of["LAX"], location_of["SZX"])),
        tracking_company=_masked(carrier, has_fulfilled),
        tracking_number=_masked(tracking, has_fulfilled),
        tracking_url=_masked(url, has_fulfilled),
        payment_transaction_id=pl.Series(payment_tx),
        gift_card_id=pl.Series(
            np.where((orders["gateway"] == "gift_card").to_numpy(), gift_cards, 0)
        ),
    ).with_columns(
        pl.col("fulfillment_id").replace(0, None),
        pl.col("gift_card_id").replace(0, None),
    )

    refunds, refund_lines = _refunds(
        rng, ids, orders, lines, refund_on_cancel, has_return, refunded_at
    )
    totals = refunds.group_by("order_id").agg(
        refund_minor=pl.col("amount_minor").sum(),
        refund_presentment_minor=pl.col("amount_presentment_minor").sum(),
    )
    orders = orders.join(totals, on="order_id", how="left", maintain_order="left").with_columns(
        pl.col("refund_minor", "refund_presentment_minor").fill_null(0)
    )
    return orders, refunds, refund_lines


def _lax_stock_class(rng: np.random.Generator, products: pl.DataFrame) -> pl.DataFrame:
    """Which SKUs the LAX 3PL holds: bulky ones always, some others at random, and three of
    those listed at zero stock ("out_of_stock", never routed there)."""
    carried = products["stocked_in_lax"].to_numpy() | (rng.random(products.height) < 0.35)
    out = np.zeros(products.height, dtype=bool)
    out[rng.choice(np.flatnonzero(carried), size=min(3, int(carried.sum())), replace=False)] = True
    cls = np.where(out, "out_of_stock", np.where(carried, "stocked", "not_carried"))
    return pl.DataFrame({"sku": products["sku"], "lax_class": cls})


_CARRIERS = ("USPS", "UPS", "DHL Express", "YunExpress")
# Tracking number prefix and tracking page per carrier (numbers follow each carrier's format:
# USPS 22 digits from 9400, UPS 1Z + 16, DHL Express 10 digits, YunExpress YT + 16).
_TRACKING_PREFIX = ("9400", "1Z999AA1", "", "YT")
_TRACKING_URL = (
    "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
    "https://www.ups.com/track?tracknum=",
    "https://www.dhl.com/en/express/tracking.html?AWB=",
    "https://www.yuntrack.com/parcelTracking?id=",
)


def _tracking(
    rng: np.random.Generator, to_lax: np.ndarray, country: pl.Series, shipping_title: pl.Series
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Carrier, tracking number and URL: LAX ships with USPS (US) or UPS (CA); Shenzhen with
    DHL Express (express, Japan) or YunExpress."""
    n = len(to_lax)
    express = (shipping_title == "Express").to_numpy()
    us = (country == "US").to_numpy()
    jp = (country == "JP").to_numpy()
    code = np.select([to_lax & us, to_lax, express | jp], [0, 1, 2], 3)
    digits = np.select(
        [code == 0, code == 2],
        [rng.integers(10**17, 10**18 - 1, n), rng.integers(10**9, 10**10 - 1, n)],
        rng.integers(10**15, 10**16 - 1, n),
    )
    number = _take(_TRACKING_PREFIX, code) + pl.Series(digits).cast(pl.String)
    return _take(_CARRIERS, code), number, _take(_TRACKING_URL, code) + number


def _refunds(
    rng: np.random.Generator,
    ids: _IdMaker,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    on_cancel: np.ndarray,
    on_return: np.ndarray,
    refunded_at: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One refund per refunded order: everything (with shipping) on a paid cancellation, one
    unit of the first line on a return. Line parts are integer-exact shares of the line."""
    n = orders.height
    line_order_idx = np.repeat(np.arange(n), orders["line_count"].to_numpy())
    pos = lines["line_position"].to_numpy()
    take = on_cancel[line_order_idx] | (on_return[line_order_idx] & (pos == 0))
    qty = lines["quantity"].to_numpy()
    refund_qty = np.where(on_cancel[line_order_idx], qty, 1)

    def part(column: str) -> np.ndarray:
        return lines[column].to_numpy() * refund_qty // qty

    rl = pl.DataFrame(
        {
            "order_idx": line_order_idx,
            "order_id": lines["order_id"],
            "line_item_id": lines["line_item_id"],
            "quantity": refund_qty,
            "subtotal_minor": lines["price_minor"].to_numpy() * refund_qty
            - part("total_discount_minor"),
            "tax_minor": part("tax_minor"),
            "subtotal_presentment_minor": lines["price_presentment_minor"].to_numpy() * refund_qty
            - part("total_discount_presentment_minor"),
            "tax_presentment_minor": part("tax_presentment_minor"),
        }
    ).filter(pl.Series(take))

    refunded = np.flatnonzero(on_cancel | on_return)
    k = len(refunded)
    refund_ids = ids("refund", k)
    is_cancel = on_cancel[refunded]
    ship = np.where(on_cancel, orders["total_shipping_minor"].to_numpy(), 0)[refunded]
    ship_p = np.where(on_cancel, orders["total_shipping_presentment_minor"].to_numpy(), 0)[refunded]
    head = pl.DataFrame(
        {
            "refund_id": refund_ids,
            "order_idx": refunded,
            "order_id": orders["order_id"].to_numpy()[refunded],
            "created_at": _ts(refunded_at[refunded]),
            "kind": _take(("return", "cancellation"), is_cancel.astype(np.int64)),
            "note": _take(
                ("Order cancelled", *_RETURN_NOTES),
                np.where(is_cancel, 0, rng.integers(1, len(_RETURN_NOTES) + 1, k)),
            ),
            "restock": is_cancel,
            "transaction_id": ids("refund_transaction", k),
            # Shipping given back on a cancellation is an order adjustment in Shopify's model.
            "adjustment_id": _masked(ids("order_adjustment", k), ship > 0),
            "shipping_minor": ship,
            "shipping_presentment_minor": ship_p,
        },
        schema_overrides={
            "order_idx": pl.Int64,
            "shipping_minor": pl.Int64,
            "shipping_presentment_minor": pl.Int64,
        },
    )
    rl = rl.join(
        head.select("order_idx", "refund_id"), on="order_idx", how="inner", maintain_order="left"
    )
    rl = rl.with_columns(refund_line_id=pl.Series(ids("refund_line", rl.height)))
    amounts = rl.group_by("refund_id").agg(
        lines_minor=(pl.col("subtotal_minor") + pl.col("tax_minor")).sum(),
        lines_presentment_minor=(
            pl.col("subtotal_presentment_minor") + pl.col("tax_presentment_minor")
        ).sum(),
    )
    refunds = head.join(amounts, on="refund_id", how="left", maintain_order="left").select(
        "refund_id",
        "order_id",
        "created_at",
        "kind",
        "note",
        "restock",
        "transaction_id",
        "adjustment_id",
        "shipping_minor",
        "shipping_presentment_minor",
        amount_minor=pl.col("lines_minor") + pl.col("shipping_minor"),
        amount_presentment_minor=pl.col("lines_presentment_minor")
        + pl.col("shipping_presentment_minor"),
    )
    refund_lines = rl.select(
        "refund_line_id",
        "refund_id",
        "order_id",
        "line_item_id",
        "quantity",
        "subtotal_minor",
        "tax_minor",
        "subtotal_presentment_minor",
        "tax_presentment_minor",
    )
    return refunds, refund_lines


def _inventory(
    rng: np.random.Generator,
    products: pl.DataFrame,
    lax_class: pl.DataFrame,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    end: datetime,
) -> pl.DataFrame:
    """Stock per warehouse and SKU as of ``end`` (``updated_at`` is the last change <= end).

    ``on_hand`` at ``end`` is a random spare plus every unit still committed then (reserved, or
    paid later and not yet shipped), so stock never goes negative as the clock advances (see
    ``asof.inventory_as_of``). SZX holds every SKU; LAX only its assortment, three at zero."""
    events = inventory_events(orders, lines)
    t_end = pl.lit(end)
    committed = (
        events.filter(
            pl.col("paid_at").is_not_null()
            & (pl.col("fulfilled_at").is_null() | (pl.col("fulfilled_at") > t_end))
            & (pl.col("cancelled_at").is_null() | (pl.col("cancelled_at") > t_end))
        )
        .group_by("warehouse_code", "sku")
        .agg(committed=pl.col("quantity").sum())
    )

    lax = lax_class.filter(pl.col("lax_class") != "not_carried")
    grid = pl.concat(
        [
            products.select("sku", warehouse_code=pl.lit("SZX"), zero=pl.lit(False)),
            lax.select(
                "sku", warehouse_code=pl.lit("LAX"), zero=pl.col("lax_class") == "out_of_stock"
            ),
        ]
    )
    n = grid.height
    spare = np.where(
        grid["warehouse_code"].to_numpy() == "SZX", rng.integers(20, 400, n), rng.integers(0, 60, n)
    )
    base_updated = _epoch(end) - rng.integers(3600, 3 * 86_400, n)
    inv = grid.with_columns(
        spare=pl.when(pl.col("zero")).then(0).otherwise(pl.Series(spare)),
        updated_at=_ts(base_updated),
    ).join(committed, on=["warehouse_code", "sku"], how="left", maintain_order="left")
    last = last_event_in(events, None, end)
    base = inv.join(last, on=["warehouse_code", "sku"], how="left", maintain_order="left").select(
        "warehouse_code",
        "sku",
        on_hand=(pl.col("spare") + pl.col("committed").fill_null(0)).cast(pl.Int64),
        updated_at=pl.max_horizontal("updated_at", "last_event_at"),
    )
    # Same function the clock uses, with an empty window: only ``reserved`` is derived here.
    return inventory_as_of(base, events, snapshot_at=end, now=end)
