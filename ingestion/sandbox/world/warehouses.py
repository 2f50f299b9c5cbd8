"""Warehouses and what each one stocks.

Why this network: a Chinese cross-border seller ships from a home warehouse in Shenzhen (every
SKU, slow and cheap lanes abroad), forward-stocks its fast and bulky SKUs in overseas 3PL
warehouses near its biggest markets (Los Angeles, Frankfurt, Birmingham, Narita), and sends
stock to Amazon's fulfilment network (one FBA pool per marketplace) for Prime orders. Overseas
warehouses list a few SKUs at zero (sold out, never routed there), which routing must see.
Hazmat SKUs (lithium batteries alone, flammable liquids, aerosols) rarely go into FBA, where
they need a separate approval.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.sandbox.world.ids import IdMaker

# code, name, kind, city, country, lat, lon, tz, channel served (FBA)
_WAREHOUSES = (
    (
        "BHX",
        "Birmingham 3PL",
        "overseas",
        "Birmingham",
        "GB",
        52.4862,
        -1.8904,
        "Europe/London",
        None,
    ),
    (
        "FBA-DE",
        "Amazon FBA Leipzig (LEJ1)",
        "fba",
        "Leipzig",
        "DE",
        51.3397,
        12.3731,
        "Europe/Berlin",
        "amazon_de",
    ),
    (
        "FBA-JP",
        "Amazon FBA Odawara (FSZ1)",
        "fba",
        "Odawara",
        "JP",
        35.2644,
        139.1522,
        "Asia/Tokyo",
        "amazon_jp",
    ),
    (
        "FBA-UK",
        "Amazon FBA Coventry (BHX4)",
        "fba",
        "Coventry",
        "GB",
        52.4068,
        -1.5197,
        "Europe/London",
        "amazon_uk",
    ),
    (
        "FBA-US",
        "Amazon FBA Moreno Valley (ONT8)",
        "fba",
        "Moreno Valley",
        "US",
        33.9425,
        -117.2297,
        "America/Los_Angeles",
        "amazon_us",
    ),
    (
        "FRA",
        "Frankfurt 3PL",
        "overseas",
        "Frankfurt am Main",
        "DE",
        50.1109,
        8.6821,
        "Europe/Berlin",
        None,
    ),
    (
        "LAX",
        "Los Angeles 3PL",
        "overseas",
        "Los Angeles",
        "US",
        34.05,
        -118.24,
        "America/Los_Angeles",
        None,
    ),
    ("NRT", "Narita 3PL", "overseas", "Narita", "JP", 35.7767, 140.3183, "Asia/Tokyo", None),
    (
        "SZX",
        "Shenzhen Home Warehouse",
        "home",
        "Shenzhen",
        "CN",
        22.54,
        114.06,
        "Asia/Shanghai",
        None,
    ),
)
CODES: tuple[str, ...] = tuple(w[0] for w in _WAREHOUSES)
HOME = CODES.index("SZX")
KIND: tuple[str, ...] = tuple(w[2] for w in _WAREHOUSES)
COUNTRY: tuple[str, ...] = tuple(w[4] for w in _WAREHOUSES)
TIMEZONE: tuple[str, ...] = tuple(w[7] for w in _WAREHOUSES)
CITY: tuple[str, ...] = tuple(w[3] for w in _WAREHOUSES)
FBA_OF_CHANNEL = {w[8]: i for i, w in enumerate(_WAREHOUSES) if w[8] is not None}
# The overseas warehouse that serves each destination country.
LOCAL_WAREHOUSE = {
    **dict.fromkeys(("US", "CA", "MX"), "LAX"),
    **dict.fromkeys(("GB", "IE"), "BHX"),
    **dict.fromkeys(
        ("DE", "AT", "CH", "FR", "BE", "NL", "IT", "ES", "PT", "SE", "DK", "NO", "PL", "CZ", "GR"),
        "FRA",
    ),
    "JP": "NRT",
}
# Classes of a (warehouse, SKU) pair.
STOCKED, OUT_OF_STOCK, NOT_CARRIED = 0, 1, 2


def warehouses_frame(ids: IdMaker) -> pl.DataFrame:
    """The ``warehouses`` ledger table (sorted by code)."""
    frame = pl.DataFrame(
        [w[:8] + (w[8],) for w in _WAREHOUSES],
        schema={
            "code": pl.String,
            "name": pl.String,
            "kind": pl.String,
            "city": pl.String,
            "country_code": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
            "timezone": pl.String,
            "channel_id": pl.String,
        },
        orient="row",
    )
    return frame.with_columns(location_id=pl.Series(ids("location", frame.height))).select(
        "code",
        "name",
        "kind",
        "city",
        "country_code",
        "latitude",
        "longitude",
        "timezone",
        "location_id",
        "channel_id",
    )


def assortment(
    rng: np.random.Generator, products: pl.DataFrame, prices: pl.DataFrame
) -> np.ndarray:
    """Class (``STOCKED``, ``OUT_OF_STOCK``, ``NOT_CARRIED``) of every (warehouse, SKU)."""
    n = products.height
    heavy = (products["weight_g"] >= 800).to_numpy()
    hazmat = products["restriction_note"].str.contains("UN3480|UN1266|UN1263|UN1950|UN1169")
    hazmat = hazmat.fill_null(False).to_numpy()
    out = np.full((len(CODES), n), NOT_CARRIED, dtype=np.int8)
    out[HOME] = STOCKED
    for w, kind in enumerate(KIND):
        if kind == "overseas":
            carried = rng.random(n) < np.where(heavy, 0.8, 0.45)
            sold_out = rng.choice(
                np.flatnonzero(carried), size=min(3, int(carried.sum())), replace=False
            )
            out[w, carried] = STOCKED
            out[w, sold_out] = OUT_OF_STOCK
        elif kind == "fba":
            channel_id = next(ch for ch, i in FBA_OF_CHANNEL.items() if i == w)
            listed = (
                products["sku"]
                .is_in(prices.filter(pl.col("channel_id") == channel_id)["sku"].implode())
                .to_numpy()
            )
            stocked = listed & (rng.random(n) < np.where(hazmat, 0.3, 0.88))
            out[w, stocked] = STOCKED
    return out
