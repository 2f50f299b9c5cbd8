"""Orders and their lines: what was bought, where it ships from, and the money, exactly.

Why integer-exact: every total is the sum of its parts in minor units (order totals = lines +
shipping + tax - discounts, in the shop and the presentment currency), so reconciliation tests
hold to the cent. Discounts are allocated to lines with the remainder on the first lines; tax
is the destination's rate on each discounted line, rounded half up. Amazon Europe and Japan
show tax-inclusive prices: their lines store the net unit price, so the totals still add up.

Routing is planned with the lines because it decides the price of shipping: a store order
ships from the overseas warehouse of its region when that warehouse stocks its SKUs (split
across that warehouse and Shenzhen when it stocks only some), else from Shenzhen; an Amazon
order goes to FBA (free Prime shipping) when the marketplace's pool stocks every SKU, else the
seller ships it (MFN) from its local warehouse or Shenzhen.

A small share of store orders are fraudulent: mostly first orders, bigger baskets of pricier
goods; their other signals are drawn in ``lifecycle``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingestion.sandbox import catalog as reference
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.world import warehouses as wh
from ingestion.sandbox.world.channels import CHANNELS, SHOP_CURRENCY
from ingestion.sandbox.world.common import (
    codes,
    expand_ranges,
    group_starts,
    local_offsets,
    masked,
    take,
    ts,
)
from ingestion.sandbox.world.fxconv import Fx
from ingestion.sandbox.world.ids import IdMaker, amazon_order_ids

# (kind, code or title, value: basis points for percentages, minor units for fixed amounts)
_DISCOUNTS = (
    ("none", "", 0),
    ("code_percentage", "WELCOME10", 1000),
    ("code_fixed", "SAVE5", 500),
    ("automatic_percentage", "Autumn Sale", 1500),
    ("promotion_percentage", "10% coupon", 1000),
)
_STORE_DISCOUNT_P = [0.78, 0.09, 0.06, 0.07, 0.0]
_AMAZON_DISCOUNT_P = [0.94, 0.0, 0.0, 0.0, 0.06]
_GIFT_MESSAGES = ("Happy birthday!", "Congratulations", "With love", "Thank you")
_SHIPPING_TITLES = ("Express", "Free Shipping", "Standard", "Standard International", "Prime")
# Flat shipping the seller charges on marketplace orders it ships itself (channel currency).
_MFN_SHIPPING = {"amazon_us": 599, "amazon_de": 399, "amazon_uk": 299, "amazon_jp": 500}
_FRAUD_FIRST, _FRAUD_REPEAT = 0.028, 0.003


def allocate(
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


def _distinct_skus(
    rng: np.random.Generator, n_choices: int, base: np.ndarray, n_lines: np.ndarray
) -> np.ndarray:
    """Per order, ``n_lines`` distinct positions in ``[0, n_choices)`` starting at ``base``
    with a per-order stride (no stride revisits a position within four lines)."""
    strides = np.array(
        [s for s in range(1, n_choices) if all((j * s) % n_choices for j in range(1, 4))]
    )
    stride = rng.choice(strides, size=len(base))
    line_order = np.repeat(np.arange(len(base)), n_lines)
    pos = np.arange(len(line_order)) - group_starts(n_lines)[line_order]
    return (base[line_order] + pos * stride[line_order]) % n_choices


def build(
    rng: np.random.Generator,
    ids: IdMaker,
    products: pl.DataFrame,
    prices: pl.DataFrame,
    customers: pl.DataFrame,
    customer_of_order: np.ndarray,
    is_first_order: np.ndarray,
    created: np.ndarray,
    channel: np.ndarray,
    fx: Fx,
    classes: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``orders`` (before their lifecycle) and ``order_lines``."""
    n = len(created)
    cust = customers.select(
        "customer_id", "country_code", "tax_rate_bp", "tax_title", "currency", "timezone"
    )[customer_of_order]
    is_store = channel == 0
    u = rng.random(n)
    is_fraud = is_store & np.where(is_first_order, u < _FRAUD_FIRST, u < _FRAUD_REPEAT)

    # Basket size: store baskets are bigger; fraudsters add lines and units.
    n_lines = np.where(
        is_store,
        rng.choice([1, 2, 3, 4], size=n, p=[0.55, 0.25, 0.13, 0.07]),
        rng.choice([1, 2, 3, 4], size=n, p=[0.78, 0.16, 0.06, 0.0]),
    )
    n_lines = np.where(is_fraud, np.minimum(n_lines + 1, 4), n_lines)
    starts = group_starts(n_lines)
    n_total = int(n_lines.sum())
    line_order = np.repeat(np.arange(n), n_lines)
    line_pos = np.arange(n_total) - starts[line_order]

    # SKUs: a global popularity (popular products sell everywhere), restricted to the
    # channel's listings; fraud picks among the dearest quarter.
    n_sku = products.height
    sku_of = {s: i for i, s in enumerate(products["sku"].to_list())}
    popularity = rng.permutation(1.0 / (np.arange(n_sku) + 3.0) ** 0.8)
    price_matrix = np.full((len(CHANNELS), n_sku), -1, dtype=np.int64)
    for c, ch in enumerate(CHANNELS):
        listed = prices.filter(pl.col("channel_id") == ch.channel_id)
        price_matrix[c, codes(listed["sku"], list(sku_of))] = listed["price_minor"].to_numpy()
    sku_idx = np.empty(n_total, dtype=np.int64)
    for c in range(len(CHANNELS)):
        rows = np.flatnonzero(channel == c)
        if len(rows) == 0:
            continue
        listed_idx = np.flatnonzero(price_matrix[c] >= 0)
        p = popularity[listed_idx] / popularity[listed_idx].sum()
        base = rng.choice(len(listed_idx), size=len(rows), p=p)
        dear = np.argsort(price_matrix[c, listed_idx])[-max(4, len(listed_idx) // 4) :]
        fraud_rows = is_fraud[rows]
        base[fraud_rows] = rng.choice(dear, size=int(fraud_rows.sum()))
        local = _distinct_skus(rng, len(listed_idx), base, n_lines[rows])
        line_rows = expand_ranges(starts[rows], n_lines[rows])
        sku_idx[line_rows] = listed_idx[local]
    quantity = rng.choice([1, 2, 3], size=n_total, p=[0.8, 0.15, 0.05])
    quantity = quantity + np.where(is_fraud[line_order], rng.integers(1, 3, n_total), 0)
    list_price = price_matrix[channel[line_order], sku_idx]

    # Routing plan (see module docstring).
    line_wh, fulfillment_channel = _plan(
        rng, channel, cust["country_code"], classes, sku_idx, line_order, starts
    )

    # Tax rate of the destination; tax-inclusive marketplaces store net unit prices.
    tax_bp = cust["tax_rate_bp"].to_numpy()
    included = np.array([ch.taxes_included for ch in CHANNELS])[channel]
    line_bp = tax_bp[line_order]
    net_price = (2 * list_price * 10_000 + (10_000 + line_bp)) // (2 * (10_000 + line_bp))
    unit_price = np.where(included[line_order], net_price, list_price)
    line_total = unit_price * quantity
    items_total = np.add.reduceat(line_total, starts)

    # Discounts.
    disc_pick = np.where(
        is_store,
        rng.choice(len(_DISCOUNTS), size=n, p=_STORE_DISCOUNT_P),
        rng.choice(len(_DISCOUNTS), size=n, p=_AMAZON_DISCOUNT_P),
    )
    disc_value = np.array([d[2] for d in _DISCOUNTS])[disc_pick]
    is_pct = np.isin(
        disc_pick, [i for i, d in enumerate(_DISCOUNTS) if d[0].endswith("percentage")]
    )
    is_fixed = disc_pick == 2
    disc_amount = np.where(
        is_pct,
        items_total * disc_value // 10_000,
        np.where(is_fixed, np.minimum(disc_value, items_total), 0),
    )
    line_disc = allocate(disc_amount, line_total, line_order, line_pos, starts)
    line_tax = ((line_total - line_disc) * line_bp + 5_000) // 10_000
    subtotal = items_total - np.add.reduceat(line_disc, starts)

    # Shipping: the store charges by destination and speed; Prime (FBA) ships free.
    country = cust["country_code"]
    domestic = (country == "US").to_numpy()
    express = is_store & (rng.random(n) < 0.10)
    store_standard = np.where(
        domestic, np.where(subtotal >= 5_000, 0, 599), np.where(subtotal >= 7_500, 0, 1_299)
    )
    mfn = np.array([_MFN_SHIPPING.get(ch.channel_id, 0) for ch in CHANNELS])[channel]
    is_fba = fulfillment_channel == 1
    shipping = np.where(
        is_store,
        np.where(express, np.where(domestic, 1_999, 2_999), store_standard),
        np.where(is_fba, 0, mfn),
    )
    shipping_title = take(
        _SHIPPING_TITLES,
        np.select(
            [express, is_store & (shipping == 0), is_store & domestic, is_store, is_fba],
            [0, 1, 2, 3, 4],
            2,
        ),
    )

    # Presentment: the store shows each market its currency at the day's rate; marketplaces
    # sell in their own currency.
    currency_code = take([ch.currency for ch in CHANNELS], channel)
    pres_currency = pl.Series(
        np.where(is_store, cust["currency"].to_numpy(), currency_code.to_numpy())
    )
    usd = fx.index(SHOP_CURRENCY)
    pres_idx = fx.indices(pres_currency)
    rate = np.where(is_store, np.round(fx.rate(np.full(n, usd), pres_idx, created), 6), 1.0)
    exp_shop = np.array([minor_units(c.currency) for c in CHANNELS])[channel]
    to_pres = rate * 10.0 ** (fx.exponents[pres_idx] - exp_shop)
    price_p = np.where(
        is_store[line_order], np.rint(unit_price * to_pres[line_order]), unit_price
    ).astype(np.int64)
    line_total_p = price_p * quantity
    items_total_p = np.add.reduceat(line_total_p, starts)
    fixed_p = np.rint(disc_value * to_pres).astype(np.int64)
    disc_amount_p = np.where(
        is_pct,
        items_total_p * disc_value // 10_000,
        np.where(is_fixed, np.minimum(fixed_p, items_total_p), 0),
    )
    line_disc_p = allocate(disc_amount_p, line_total_p, line_order, line_pos, starts)
    line_tax_p = ((line_total_p - line_disc_p) * line_bp + 5_000) // 10_000
    shipping_p = np.where(is_store, np.rint(shipping * to_pres), shipping).astype(np.int64)
    subtotal_p = items_total_p - np.add.reduceat(line_disc_p, starts)

    order_ids = ids("order", n)
    line_ids = ids("line_item", n_total)
    prod = products.select("sku", "weight_g", "personalised")[sku_idx]
    engraving = take(reference.ENGRAVINGS, rng.integers(0, len(reference.ENGRAVINGS), n_total))
    lines = pl.DataFrame(
        {
            "line_id": line_ids,
            "order_id": order_ids[line_order],
            "sku": prod["sku"],
            "quantity": quantity.astype(np.int64),
            "unit_price_minor": unit_price,
            "discount_minor": line_disc,
            "tax_minor": line_tax,
            "tax_rate_bp": line_bp.astype(np.int64),
            "currency": currency_code.gather(line_order),
            "line_position": line_pos,
            "unit_price_presentment_minor": price_p,
            "discount_presentment_minor": line_disc_p,
            "tax_presentment_minor": line_tax_p,
            "presentment_currency": pres_currency.gather(line_order),
            "warehouse_code": take(wh.CODES, line_wh),
            "engraving": masked(engraving, prod["personalised"].to_numpy()),
        }
    )

    sums = {
        name: np.add.reduceat(values, starts)
        for name, values in (
            ("total_discounts_minor", line_disc),
            ("total_tax_minor", line_tax),
            ("total_discounts_presentment_minor", line_disc_p),
            ("total_tax_presentment_minor", line_tax_p),
            ("total_weight_grams", prod["weight_g"].to_numpy() * quantity),
        )
    }
    ext_id, number, name = _order_numbers(channel, order_ids)
    tz_names = sorted({*cust["timezone"].unique().to_list(), *(ch.timezone for ch in CHANNELS)})
    tz = np.where(
        is_store,
        codes(cust["timezone"], tz_names),
        codes(take([ch.timezone for ch in CHANNELS], channel), tz_names),
    )
    orders = pl.DataFrame(
        {
            "order_id": order_ids,
            "channel_id": take([ch.channel_id for ch in CHANNELS], channel),
            "external_order_id": ext_id,
            "order_number": number,
            "name": name,
            "customer_id": cust["customer_id"],
            "created_at": ts(created),
            "local_utc_offset_minutes": local_offsets(created, tz, tz_names),
            "currency": currency_code,
            "presentment_currency": pres_currency,
            "fx_rate_to_presentment": rate,
            "total_line_items_price_minor": items_total,
            "total_discounts_minor": sums["total_discounts_minor"],
            "subtotal_price_minor": subtotal,
            "total_shipping_minor": shipping,
            "total_tax_minor": sums["total_tax_minor"],
            "total_price_minor": subtotal + shipping + sums["total_tax_minor"],
            "total_line_items_price_presentment_minor": items_total_p,
            "total_discounts_presentment_minor": sums["total_discounts_presentment_minor"],
            "subtotal_price_presentment_minor": subtotal_p,
            "total_shipping_presentment_minor": shipping_p,
            "total_tax_presentment_minor": sums["total_tax_presentment_minor"],
            "total_price_presentment_minor": subtotal_p
            + shipping_p
            + sums["total_tax_presentment_minor"],
            "is_fraud": is_fraud,
            "is_first_order": is_first_order,
            "taxes_included": included,
            "fulfillment_channel": masked(take(("MFN", "AFN"), fulfillment_channel), ~is_store),
            "line_start": starts,
            "line_count": n_lines.astype(np.int64),
            "discount_kind": take([d[0] for d in _DISCOUNTS], disc_pick),
            "discount_code": masked(take([d[1] for d in _DISCOUNTS], disc_pick), disc_pick != 0),
            "discount_value": disc_value,
            "shipping_title": shipping_title,
            "is_express": express,
            "tax_title": cust["tax_title"],
            "tax_rate_bp": tax_bp.astype(np.int64),
            "tax_rate": tax_bp / 10_000,
            "gift_message": masked(
                take(_GIFT_MESSAGES, rng.integers(0, len(_GIFT_MESSAGES), n)),
                is_store & (rng.random(n) < 0.08),
            ),
            "browser_ip": "203.0.113." + pl.Series(rng.integers(1, 255, n)).cast(pl.String),
            "checkout_id": ids("checkout", n),
            "shipping_line_id": ids("shipping_line", n),
            "country_code": country,
            "total_weight_grams": sums["total_weight_grams"],
        },
        schema_overrides={"order_number": pl.Int64},
    )
    return orders, lines


def _plan(
    rng: np.random.Generator,
    channel: np.ndarray,
    country: pl.Series,
    classes: np.ndarray,
    sku_idx: np.ndarray,
    line_order: np.ndarray,
    starts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Warehouse index of each line and each order's fulfilment channel (0 MFN, 1 FBA)."""
    n = len(channel)
    local_of = {cc: wh.CODES.index(code) for cc, code in wh.LOCAL_WAREHOUSE.items()}
    local_idx = country.replace_strict(local_of, default=wh.HOME, return_dtype=pl.Int64).to_numpy()
    stocked_local = classes[local_idx[line_order], sku_idx] == wh.STOCKED
    all_local = np.minimum.reduceat(stocked_local.astype(np.int8), starts).astype(bool)
    any_local = np.maximum.reduceat(stocked_local.astype(np.int8), starts).astype(bool)
    fba = np.array([wh.FBA_OF_CHANNEL.get(ch.channel_id, wh.HOME) for ch in CHANNELS])[channel]
    stocked_fba = classes[fba[line_order], sku_idx] == wh.STOCKED
    all_fba = np.minimum.reduceat(stocked_fba.astype(np.int8), starts).astype(bool) & (channel > 0)

    is_store = channel == 0
    u = rng.random(n)
    # Store: local when it holds everything (a few still ship from home), split when it holds
    # part and the order is not consolidated at home.
    store_local = is_store & all_local & (u < 0.92)
    store_split = is_store & ~all_local & any_local & (local_idx != wh.HOME) & (u < 0.7)
    amazon_local_mfn = ~is_store & ~all_fba & all_local
    line_wh = np.full(len(line_order), wh.HOME, dtype=np.int64)
    whole_local = (store_local | amazon_local_mfn)[line_order]
    line_wh = np.where(whole_local, local_idx[line_order], line_wh)
    line_wh = np.where(store_split[line_order] & stocked_local, local_idx[line_order], line_wh)
    line_wh = np.where(all_fba[line_order], fba[line_order], line_wh)
    return line_wh, all_fba.astype(np.int64)


def _order_numbers(
    channel: np.ndarray, order_ids: np.ndarray
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """External id, order number and name as each channel shows them."""
    n = len(channel)
    rank = np.empty(n, dtype=np.int64)
    for c in range(len(CHANNELS)):
        rows = np.flatnonzero(channel == c)
        rank[rows] = np.arange(len(rows))
    is_store = channel == 0
    number = np.where(is_store, 1001 + rank, 0)
    ext = pl.Series(order_ids).cast(pl.String)
    name = "#" + pl.Series(number).cast(pl.String)
    for c, ch in enumerate(CHANNELS):
        if ch.order_prefix is None:
            continue
        rows = np.flatnonzero(channel == c)
        amazon = amazon_order_ids(rank[rows], ch.order_prefix, salt=c)
        ext = ext.scatter(rows, amazon)
        name = name.scatter(rows, amazon)
    return ext, masked(pl.Series(number), is_store), name
