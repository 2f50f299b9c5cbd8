"""What the seller pays carriers and customs: the postage of each label it buys and, for
parcels sent DDP, the duties and import taxes the carrier bills back (ledger ``shipping_labels``).

Why: margin after shipping and duties needs the seller's side of the parcel, which no sales
channel or payment source carries. A seller buys labels through a label platform (EasyPost,
served by ``api_easypost``) for every parcel it ships itself; Amazon ships FBA parcels and
charges for them in its own fees, so FBA shipments get no label.

Rules (all vectorized over shipments, deterministic per seed; money in integer minor units):

- Parcel: the lines' products (weight, dimensions) times quantity, plus packaging (50 g and
  10 % of the goods' weight; 30 % void space in the box). The box is the cube of that volume,
  stretched to length 1.3 x side and height side / 1.3.
- Billed weight: integrators and parcel carriers (DHL, FedEx, UPS, DPD) bill
  ``max(actual, volume / 5000 cm3 per kg)``; USPS applies the same divisor only to boxes over
  one cubic foot (28,317 cm3); postal lines (Royal Mail, Japan Post, Yanwen, Cainiao) bill the
  actual weight. Rounded up to the carrier's weight step (500 g, 100 g for postal lines).
- Zone: domestic US parcels get USPS/UPS zones 2-8 (distance, drawn); other domestic parcels
  zone 1; cross-border parcels a zone by origin and destination region (``_zone``).
- Postage: ``(base + per step x steps) x (100 + 12 x (zone - 1)) %`` of the service's rate card,
  rounded half to even, in USD (the label platform bills in USD). The label fee is EasyPost's:
  the first 3,000 labels bought in a calendar month are free, later ones cost USD 0.08.
- DDP: cross-border parcels from the home warehouse in China to markets where the seller
  prepays import charges (``DDP_MARKETS``: US, GB, the EU members served, JP, AU, CA). The
  customs value is the shipped lines' net price (unit price x quantity - discount share) in
  the order currency, converted to the destination currency at the ECB rate of the ship day.
  Duty = value x duty rate above the duty de minimis; import tax = (value + duty) x VAT/GST rate
  above the tax de minimis; each rounded half to even in the destination currency, which is
  the currency the carrier's duty-and-tax invoice itemises them in. Billed 2-6 days after
  shipping (import clearance). Other cross-border parcels are DDU (the buyer pays).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.sandbox.world.common import (
    DAY,
    NEVER,
    between,
    convert_minor,
    round_half_even_div,
    ts,
)
from ingestion.sandbox.world.fxconv import Fx
from ingestion.sandbox.world.ids import chars

LABEL_CURRENCY = "USD"
FREE_LABELS_PER_MONTH = 3_000
LABEL_FEE_MINOR = 8
HOME_WAREHOUSE = "SZX"

# Rate cards in USD cents: (base, per weight step, step in grams), by (carrier, service).
RATE_CARDS: dict[tuple[str, str], tuple[int, int, int]] = {
    ("USPS", "Ground Advantage"): (450, 95, 500),
    ("USPS", "Priority Mail Express"): (2650, 310, 500),
    ("UPS", "Ground"): (980, 120, 500),
    ("UPS", "Worldwide Saver"): (3900, 640, 500),
    ("DHL", "Paket"): (520, 60, 500),
    ("DHL", "Paket International"): (1450, 180, 500),
    ("DHL", "Express Worldwide"): (3600, 590, 500),
    ("FedEx", "International Priority"): (3750, 610, 500),
    ("DPD", "Classic"): (610, 70, 500),
    ("Royal Mail", "Tracked 48"): (420, 28, 100),
    ("Royal Mail", "Tracked 24"): (540, 32, 100),
    ("Japan Post", "Yu-Pack"): (690, 40, 100),
    ("Yanwen", "Special Line"): (310, 82, 100),
    ("Cainiao", "Global Standard"): (260, 74, 100),
}
DIM_CARRIERS = ("DHL", "FedEx", "UPS", "DPD")
DIM_DIVISOR_CM3_PER_KG = 5_000
USPS_DIM_THRESHOLD_CM3 = 28_317

# Destination -> (currency, duty bp, import tax bp, duty de minimis, tax de minimis), the
# minimis in major units of the currency (a value at or below it pays nothing).
# US: de minimis suspended since 2025-08-29, duties on Chinese goods well above MFN; EU:
# customs duty above EUR 150, import VAT from the first euro; GB: both above GBP 135 (VAT on
# cheaper parcels is collected at sale); JP: both above JPY 10,000; AU: above AUD 1,000; CA:
# duty above CAD 150, GST above CAD 40.
DDP_MARKETS: dict[str, tuple[str, int, int, int, int]] = {
    "US": ("USD", 2500, 0, 0, 0),
    "GB": ("GBP", 400, 2000, 135, 135),
    "JP": ("JPY", 500, 1000, 10_000, 10_000),
    "AU": ("AUD", 500, 1000, 1000, 1000),
    "CA": ("CAD", 650, 500, 150, 40),
    "DE": ("EUR", 400, 1900, 150, 0),
    "FR": ("EUR", 400, 2000, 150, 0),
    "IT": ("EUR", 400, 2200, 150, 0),
    "ES": ("EUR", 400, 2100, 150, 0),
    "NL": ("EUR", 400, 2100, 150, 0),
    "AT": ("EUR", 400, 2000, 150, 0),
    "BE": ("EUR", 400, 2100, 150, 0),
    "IE": ("EUR", 400, 2300, 150, 0),
    "PT": ("EUR", 400, 2300, 150, 0),
    "GR": ("EUR", 400, 2400, 150, 0),
    "PL": ("PLN", 400, 2300, 650, 0),
    "SE": ("SEK", 400, 2500, 1600, 0),
    "DK": ("DKK", 400, 2500, 1100, 0),
    "CZ": ("CZK", 400, 2100, 3700, 0),
}

_REGION = {
    **dict.fromkeys(("US", "CA", "MX"), "americas"),
    **dict.fromkeys(("BR",), "latam"),
    **dict.fromkeys(("CN", "HK", "TW", "JP", "KR", "SG", "TH", "IN"), "asia"),
    **dict.fromkeys(("AU", "NZ"), "oceania"),
    **dict.fromkeys(("AE", "IL"), "mideast"),
}
# Zone of a cross-border parcel: same region 4, CN to Asia 3, otherwise by destination region.
_ZONE_BY_DEST = {"europe": 7, "americas": 6, "asia": 5, "oceania": 5, "mideast": 7, "latam": 8}


def build(
    rng: np.random.Generator,
    shipments: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    order_lines: pl.DataFrame,
    products: pl.DataFrame,
    warehouses: pl.DataFrame,
    fx: Fx,
    horizon: int,
) -> pl.DataFrame:
    """The ``shipping_labels`` ledger table: one row per shipment the seller bought a label
    for (every shipment not shipped by Amazon FBA), sorted by ``shipment_id``."""
    wh = warehouses.select("code", "kind", origin_country_code="country_code")
    ship = (
        shipments.join(wh, left_on="warehouse_code", right_on="code", how="left")
        .filter(pl.col("kind") != "fba")
        .sort("shipment_id")
    )
    parcel = _parcels(ship, shipment_lines, order_lines, products)
    ship = ship.join(parcel, on="shipment_id", how="left", maintain_order="left")
    n = ship.height
    shipped = ship["shipped_at"].dt.epoch("s").to_numpy()
    purchased = shipped - between(rng, 300, 4 * 3600, n)
    volume_cm3 = ship["volume_cm3"].to_numpy()
    actual = ship["actual_weight_g"].to_numpy()
    dim = np.ceil(volume_cm3 * 1000 / DIM_DIVISOR_CM3_PER_KG).astype(np.int64)
    carrier = ship["carrier"]
    uses_dim = carrier.is_in(DIM_CARRIERS).to_numpy() | (carrier == "USPS").to_numpy() & (
        volume_cm3 > USPS_DIM_THRESHOLD_CM3
    )
    card = _rate_cards(ship)
    step = card[:, 2]
    billed = np.where(uses_dim, np.maximum(actual, dim), actual)
    billed = -(-billed // step) * step
    origin = ship["origin_country_code"]
    dest = ship["destination_country_code"]
    domestic = (origin == dest).to_numpy()
    zone = _zone(rng, origin, dest, domestic)
    raw = (card[:, 0] + card[:, 1] * (billed // step)) * (100 + 12 * (zone - 1))
    postage = round_half_even_div(raw, 100)
    month = ts(purchased).dt.strftime("%Y-%m")
    seq_in_month = (
        pl.DataFrame({"m": month, "t": purchased, "i": np.arange(n)})
        .with_columns(r=pl.col("t").rank("ordinal").over("m"))
        .sort("i")["r"]
        .to_numpy()
    )
    label_fee = np.where(seq_in_month > FREE_LABELS_PER_MONTH, LABEL_FEE_MINOR, 0)
    duties = _duties(rng, ship, domestic, shipped, fx, horizon)
    return pl.DataFrame(
        {
            "shipment_id": ship["shipment_id"],
            "label_id": "shp_" + chars(ship["shipment_id"].to_numpy(), 32, 71, "0123456789abcdef"),
            "order_id": ship["order_id"],
            "warehouse_code": ship["warehouse_code"],
            "origin_country_code": origin,
            "destination_country_code": dest,
            "carrier": ship["carrier"],
            "service": ship["service"],
            "tracking_number": ship["tracking_number"],
            "purchased_at": ts(purchased),
            "zone": pl.Series(zone, dtype=pl.Int64),
            "length_mm": ship["length_mm"],
            "width_mm": ship["width_mm"],
            "height_mm": ship["height_mm"],
            "actual_weight_g": pl.Series(actual, dtype=pl.Int64),
            "dimensional_weight_g": pl.Series(dim, dtype=pl.Int64).zip_with(
                pl.Series(uses_dim), pl.Series([None], dtype=pl.Int64)
            ),
            "billed_weight_g": pl.Series(billed, dtype=pl.Int64),
            "postage_minor": pl.Series(postage, dtype=pl.Int64),
            "label_fee_minor": pl.Series(label_fee, dtype=pl.Int64),
            "currency": pl.Series([LABEL_CURRENCY] * n, dtype=pl.String),
        }
    ).hstack(duties)


def _parcels(
    ship: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    order_lines: pl.DataFrame,
    products: pl.DataFrame,
) -> pl.DataFrame:
    """Per shipment: goods value (order currency), actual weight, box dimensions, volume."""
    dims = products.select("sku", "weight_g", "length_mm", "width_mm", "height_mm")
    lines = order_lines.select(
        "line_id", "sku", "unit_price_minor", "discount_minor", "currency", ol_qty="quantity"
    )
    per = (
        shipment_lines.join(ship.select("shipment_id"), on="shipment_id", how="semi")
        .join(lines, on="line_id", how="left")
        .join(dims, on="sku", how="left")
        .with_columns(
            # The shipped share of the line's discount, floored (customs value is declared).
            value=pl.col("unit_price_minor") * pl.col("quantity")
            - pl.col("discount_minor") * pl.col("quantity") // pl.col("ol_qty"),
            goods_g=pl.col("weight_g") * pl.col("quantity"),
            mm3=pl.col("length_mm") * pl.col("width_mm") * pl.col("height_mm") * pl.col("quantity"),
        )
        .group_by("shipment_id")
        .agg(
            goods_value_minor=pl.col("value").sum(),
            goods_currency=pl.col("currency").first(),
            goods_g=pl.col("goods_g").sum(),
            mm3=pl.col("mm3").sum(),
        )
    )
    side = (pl.col("mm3") * 1.3) ** (1 / 3)
    return per.select(
        "shipment_id",
        "goods_value_minor",
        "goods_currency",
        actual_weight_g=(pl.col("goods_g") * 11 // 10 + 50).cast(pl.Int64),
        length_mm=(side * 1.3).ceil().cast(pl.Int64),
        width_mm=side.ceil().cast(pl.Int64),
        height_mm=(side / 1.3).ceil().cast(pl.Int64),
    ).with_columns(
        volume_cm3=pl.col("length_mm") * pl.col("width_mm") * pl.col("height_mm") / 1000.0
    )


def _rate_cards(ship: pl.DataFrame) -> np.ndarray:
    """``(base, per step, step)`` of each shipment's service, as an ``n x 3`` int64 array."""
    cards = pl.DataFrame(
        [(c, s, *v) for (c, s), v in RATE_CARDS.items()],
        schema=["carrier", "service", "base", "per_step", "step"],
        orient="row",
    )
    joined = ship.select("carrier", "service").join(
        cards, on=["carrier", "service"], how="left", maintain_order="left"
    )
    if joined["base"].null_count():
        missing = joined.filter(pl.col("base").is_null()).select("carrier", "service").unique()
        raise ValueError(f"no rate card for {missing.rows()}")
    return joined.select("base", "per_step", "step").to_numpy().astype(np.int64)


def _zone(
    rng: np.random.Generator, origin: pl.Series, dest: pl.Series, domestic: np.ndarray
) -> np.ndarray:
    o = origin.replace_strict(_REGION, default="europe")
    d = dest.replace_strict(_REGION, default="europe")
    cross = d.replace_strict(_ZONE_BY_DEST, return_dtype=pl.Int64).to_numpy()
    cross = np.where((o == d).to_numpy(), 4, cross)
    cross = np.where(((origin == "CN") & (d == "asia")).to_numpy(), 3, cross)
    us = (origin == "US").to_numpy()
    drawn = rng.integers(2, 9, len(domestic), dtype=np.int64)
    return np.where(domestic, np.where(us, drawn, 1), cross)


def _duties(
    rng: np.random.Generator,
    ship: pl.DataFrame,
    domestic: np.ndarray,
    shipped: np.ndarray,
    fx: Fx,
    horizon: int,
) -> pl.DataFrame:
    """Incoterm, customs value and the duties and import taxes billed for DDP parcels."""
    n = ship.height
    dest = ship["destination_country_code"]
    market = dest.replace_strict(
        {k: i for i, k in enumerate(DDP_MARKETS)}, default=-1, return_dtype=pl.Int64
    ).to_numpy()
    table = np.array([v[1:] for v in DDP_MARKETS.values()], dtype=np.int64)
    ddp = (ship["warehouse_code"] == HOME_WAREHOUSE).to_numpy() & ~domestic & (market >= 0)
    m = np.maximum(market, 0)
    duty_cur = pl.Series([v[0] for v in DDP_MARKETS.values()], dtype=pl.String).gather(m)
    src = fx.indices(ship["goods_currency"])
    dst = fx.indices(duty_cur)
    value = convert_minor(
        ship["goods_value_minor"].to_numpy(),
        fx.rate_micro(src, dst, shipped),
        fx.exponents[src],
        fx.exponents[dst],
    )
    unit = 10 ** fx.exponents[dst]
    duty = np.where(value > table[m, 2] * unit, round_half_even_div(value * table[m, 0], 10_000), 0)
    tax = np.where(
        value > table[m, 3] * unit, round_half_even_div((value + duty) * table[m, 1], 10_000), 0
    )
    billed = shipped + between(rng, 2 * DAY, 6 * DAY, n)
    incoterm = np.where(domestic, None, np.where(ddp, "DDP", "DDU"))
    none_i = pl.Series([None], dtype=pl.Int64)
    # Amounts exist once billed: a DDP parcel still in transit at the horizon has none yet.
    mask = pl.Series(ddp & (billed <= horizon))
    return pl.DataFrame(
        {
            "incoterm": pl.Series(incoterm.tolist(), dtype=pl.String),
            "duty_currency": duty_cur.zip_with(pl.Series(ddp), pl.Series([None], dtype=pl.String)),
            "customs_value_minor": pl.Series(value).zip_with(mask, none_i),
            "duty_minor": pl.Series(duty).zip_with(mask, none_i),
            "import_tax_minor": pl.Series(tax).zip_with(mask, none_i),
            "duties_billed_at": ts(np.where(ddp, billed, NEVER), horizon),
        }
    )
