"""The simulated seller's catalogue: 16 products, 40 SKUs, typical cross-border goods.

Why fixed rather than random: HS codes, weights and price points drive landed cost, duties and
routing, so they must be plausible and stable across seeds (ids and stock differ per seed, the
catalogue does not). HS codes are HS 2022 subheadings (for instance 9405.21, LED desk
luminaires, which HS 2022 split out of 9405.20). Costs are in CNY because the seller buys in
Shenzhen; prices in USD because the shop's currency is USD.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One product and its variants. ``price_minor`` is USD cents, ``unit_cost_minor`` CNY fen.
    ``personalised`` products carry an engraving as a line-item property."""

    title: str
    vendor: str
    hs_code: str
    grams: int
    price_minor: int
    unit_cost_minor: int
    variants: tuple[str, ...]
    origin_country_code: str = "CN"
    personalised: bool = False
    # Bulky or high-value goods the seller keeps in the US warehouse too.
    stocked_in_lax: bool = False


CATALOG: tuple[Product, ...] = (
    Product(
        "Magnetic Phone Case",
        "Shenzhen Brightway Electronics",
        "392690",
        45,
        2499,
        2150,
        ("iPhone 16 / Black", "iPhone 16 / Clear", "iPhone 16 Pro / Black", "Pixel 9 / Black"),
        stocked_in_lax=True,
    ),
    Product(
        "Braided USB-C Cable 2m",
        "Shenzhen Brightway Electronics",
        "854442",
        60,
        1299,
        890,
        ("Black", "White", "Red"),
    ),
    Product(
        "LED Desk Lamp",
        "Zhongshan Lumen Lighting",
        "940521",
        850,
        3999,
        7800,
        ("White", "Black"),
        stocked_in_lax=True,
    ),
    Product(
        "Wireless Earbuds Pro",
        "Shenzhen Brightway Electronics",
        "851830",
        120,
        5999,
        11500,
        ("Black", "White"),
        stocked_in_lax=True,
    ),
    Product(
        "Power Bank 10000mAh", "Dongguan VoltCell", "850760", 210, 3499, 6400, ("Black", "Blue")
    ),
    Product(
        "Silicone Watch Strap",
        "Shenzhen Brightway Electronics",
        "911390",
        25,
        1499,
        650,
        ("41mm / Black", "41mm / Sand", "45mm / Black", "45mm / Navy"),
    ),
    Product(
        "Cork Yoga Mat",
        "Xiamen Greenleaf Outdoor",
        "950691",
        1800,
        4999,
        9600,
        ("Standard", "XL"),
        stocked_in_lax=True,
    ),
    Product(
        "Travel Backpack 35L",
        "Quanzhou Trailhead Bags",
        "420292",
        1100,
        6999,
        15800,
        ("Grey", "Black", "Olive"),
        stocked_in_lax=True,
    ),
    Product(
        "Ceramic Pour-Over Set",
        "Jingdezhen Hearth Ceramics",
        "691200",
        900,
        2999,
        5200,
        ("White", "Matte Black"),
    ),
    Product(
        "Mulberry Silk Scarf",
        "Hangzhou Silkroad Textiles",
        "621410",
        80,
        4500,
        9800,
        ("Ivory", "Emerald"),
    ),
    Product(
        "Stainless Water Bottle 750ml",
        "Yongkang Steelware",
        "732393",
        380,
        2299,
        3500,
        ("Steel", "Black", "Mint"),
        stocked_in_lax=True,
    ),
    Product(
        "Organic Cotton T-Shirt",
        "Saigon Loom Apparel",
        "610910",
        180,
        1999,
        3100,
        ("S", "M", "L", "XL"),
        origin_country_code="VN",
        stocked_in_lax=True,
    ),
    Product("Merino Hiking Socks", "Ningbo Peak Knitwear", "611594", 90, 1699, 2300, ("M", "L")),
    Product(
        "Polarized Sunglasses",
        "Xiamen Clearview Optics",
        "900410",
        60,
        2999,
        2900,
        ("Tortoise", "Black"),
    ),
    Product(
        "Bamboo Cutting Board",
        "Anji Bamboo Works",
        "441919",
        1200,
        2799,
        4100,
        ("Large",),
        stocked_in_lax=True,
    ),
    Product(
        "Personalised Leather Keyring",
        "Guangzhou Saddle Leather",
        "420500",
        30,
        1899,
        1400,
        ("Brown", "Black"),
        personalised=True,
    ),
)

ENGRAVINGS: tuple[str, ...] = ("A & J", "Happy Birthday", "Love you, Mum", "2026", "Tokyo", "Ж")
