"""Products and their prices per channel.

Why prices per channel: the same SKU sells at different prices in each marketplace's currency,
and Amazon Europe and Japan show prices with VAT or consumption tax included while the Shopify
store and Amazon US add tax at checkout. Sellers reprice rarely, so marketplace prices come
from fixed planning rates (``_PLANNING``), not from the daily FX fixings, and end in .99 (or
...80 yen) as real listings do. Amazon does not list e-cigarettes or lasers, and each
marketplace lists most but not all of the catalogue.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.sandbox import catalog as reference
from ingestion.sandbox.world.channels import CHANNELS, SHOP_CURRENCY
from ingestion.sandbox.world.ids import UPPER_ALNUM, IdMaker, chars

# Planning FX (units per USD), markup over the store price, and the tax the marketplace
# includes in its shown prices.
_PLANNING = {
    "amazon_us": (1.0, 1.12, 0),
    "amazon_de": (0.93, 1.10, 1900),
    "amazon_uk": (0.80, 1.10, 2000),
    "amazon_jp": (150.0, 1.10, 1000),
}
_NOT_ON_AMAZON = ("854340", "901320")


def products_frame(ids: IdMaker) -> pl.DataFrame:
    """The ``products`` ledger table: one row per SKU of the reference catalogue."""
    rows = [(p, v) for p in reference.CATALOG for v in p.variants]
    product_ids = ids("product", len(reference.CATALOG))
    pid_of = {p.title: int(pid) for p, pid in zip(reference.CATALOG, product_ids, strict=True)}
    n = len(rows)
    frame = pl.DataFrame(
        {
            "sku": [f"TL-{i + 1:04d}" for i in range(n)],
            "product_id": [pid_of[p.title] for p, _ in rows],
            "variant_id": ids("variant", n),
            "title": [p.title for p, _ in rows],
            "variant_title": [v for _, v in rows],
            "vendor": [p.vendor for p, _ in rows],
            "hs_code": [p.hs_code for p, _ in rows],
            "origin_country_code": [p.origin_country_code for p, _ in rows],
            "weight_g": [p.grams for p, _ in rows],
            "length_mm": [p.size_mm[0] for p, _ in rows],
            "width_mm": [p.size_mm[1] for p, _ in rows],
            "height_mm": [p.size_mm[2] for p, _ in rows],
            "unit_cost_minor": [p.unit_cost_minor for p, _ in rows],
            "cost_currency": ["CNY"] * n,
            "is_battery": [p.is_battery for p, _ in rows],
            "is_liquid": [p.is_liquid for p, _ in rows],
            "is_restricted": [p.is_restricted for p, _ in rows],
            "restriction_note": [p.restriction_note for p, _ in rows],
            "price_minor": [p.price_minor for p, _ in rows],
            "price_currency": [SHOP_CURRENCY] * n,
            "personalised": [p.personalised for p, _ in rows],
        },
        schema_overrides={
            "product_id": pl.Int64,
            "weight_g": pl.Int64,
            "length_mm": pl.Int64,
            "width_mm": pl.Int64,
            "height_mm": pl.Int64,
            "unit_cost_minor": pl.Int64,
            "price_minor": pl.Int64,
            "restriction_note": pl.String,
        },
    )
    # ASINs: "B0" and eight characters, stable per SKU position.
    asin = "B0" + chars(np.arange(n), 8, salt=41, alphabet=UPPER_ALNUM)
    return frame.with_columns(asin=asin).select(
        "sku",
        "product_id",
        "variant_id",
        "asin",
        *[c for c in frame.columns if c not in ("sku", "product_id", "variant_id")],
    )


def _ends_in_99(amount: np.ndarray) -> np.ndarray:
    return np.ceil(amount / 100) * 100 - 1


def prices_frame(products: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The ``product_prices`` ledger table: the store lists every SKU in USD; each Amazon
    marketplace lists 80-95% of them (never e-cigarettes or lasers) in its currency."""
    base = products["price_minor"].to_numpy().astype(np.float64)
    banned = products["hs_code"].is_in(_NOT_ON_AMAZON).to_numpy()
    parts = [
        pl.DataFrame(
            {
                "sku": products["sku"],
                "channel_id": "shopify",
                "currency": SHOP_CURRENCY,
                "price_minor": products["price_minor"],
                "price_includes_tax": False,
            }
        )
    ]
    for ch in CHANNELS[1:]:
        rate, markup, tax_bp = _PLANNING[ch.channel_id]
        gross = base * rate * markup * (1 + tax_bp / 10_000)
        if ch.currency == "JPY":
            # Yen prices: whole yen (JPY has no minor unit), shown as ...80.
            price = np.ceil(gross / 100 / 100) * 100 - 20
        else:
            price = _ends_in_99(gross)
        listed = ~banned & (rng.random(len(base)) < rng.uniform(0.80, 0.95))
        parts.append(
            pl.DataFrame(
                {
                    "sku": products["sku"],
                    "channel_id": ch.channel_id,
                    "currency": ch.currency,
                    "price_minor": price.astype(np.int64),
                    "price_includes_tax": ch.taxes_included,
                }
            ).filter(pl.Series(listed))
        )
    return pl.concat(parts).sort("sku", "channel_id")
