"""Sales channels: the Shopify store and four Amazon marketplaces.

Why these: a cross-border seller from China typically runs its own store (USD, shipping
worldwide) next to Amazon marketplaces in its biggest markets, each with its own currency, time
zone, order number format and fulfilment network (FBA). Marketplace ids are Amazon's real ones;
seller ids differ per Amazon region (North America, Europe, Far East) as they do in Seller
Central.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Channel:
    channel_id: str
    platform: str
    store_id: str
    marketplace_id: str | None
    country_code: str
    currency: str
    timezone: str
    order_number_format: str
    # First three digits of Amazon order ids on this marketplace.
    order_prefix: str | None
    # Share of all orders, and the representative UTC offset (hours) of its shoppers.
    share: float
    utc_offset_h: int
    # Amazon shows prices with VAT/consumption tax included in Europe and Japan.
    taxes_included: bool
    fba_code: str | None


SHOP_DOMAIN = "tradelane-sandbox.myshopify.com"
SHOP_CURRENCY = "USD"

CHANNELS: tuple[Channel, ...] = (
    Channel(
        "shopify",
        "shopify",
        SHOP_DOMAIN,
        None,
        "US",
        "USD",
        "America/New_York",
        "#1001, #1002, ... (order_number from 1001; name '#' + number)",
        None,
        0.45,
        -5,
        False,
        None,
    ),
    Channel(
        "amazon_us",
        "amazon",
        "A3TLSANDBOXNA1",
        "ATVPDKIKX0DER",
        "US",
        "USD",
        "America/Los_Angeles",
        "3-7-7 digits, e.g. 113-1234567-1234567",
        "113",
        0.25,
        -6,
        False,
        "FBA-US",
    ),
    Channel(
        "amazon_de",
        "amazon",
        "A1TLSANDBOXEU7",
        "A1PA6795UKMFR9",
        "DE",
        "EUR",
        "Europe/Berlin",
        "3-7-7 digits, e.g. 302-1234567-1234567",
        "302",
        0.12,
        1,
        True,
        "FBA-DE",
    ),
    Channel(
        "amazon_uk",
        "amazon",
        "A1TLSANDBOXEU7",
        "A1F83G8C2ARO7P",
        "GB",
        "GBP",
        "Europe/London",
        "3-7-7 digits, e.g. 202-1234567-1234567",
        "202",
        0.10,
        0,
        True,
        "FBA-UK",
    ),
    Channel(
        "amazon_jp",
        "amazon",
        "A2TLSANDBOXFE3",
        "A1VC38T7YXB528",
        "JP",
        "JPY",
        "Asia/Tokyo",
        "3-7-7 digits, e.g. 250-1234567-1234567",
        "250",
        0.08,
        9,
        True,
        "FBA-JP",
    ),
)

CHANNEL_IDS: tuple[str, ...] = tuple(c.channel_id for c in CHANNELS)


def channel(channel_id: str) -> Channel:
    return CHANNELS[CHANNEL_IDS.index(channel_id)]


def channels_frame() -> pl.DataFrame:
    """The ``channels`` ledger table."""
    columns = (
        "channel_id",
        "platform",
        "store_id",
        "marketplace_id",
        "country_code",
        "currency",
        "timezone",
        "order_number_format",
    )
    return pl.DataFrame(
        {c: [getattr(ch, c) for ch in CHANNELS] for c in columns},
        schema={c: pl.String for c in columns},
    ).sort("channel_id")
