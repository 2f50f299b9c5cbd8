"""Realistic marketplace exports, generated (no downloads), with the totals they must load to.

- Amazon Seller Central "All Orders" report: tab-separated, one row per order item, the real
  column names, ``purchase-date`` in the marketplace's local offset, promotions as negative
  amounts, VAT-inclusive prices in Europe and Japan, cancelled items with no prices, product
  titles with bare quotes.
- Shopify orders export: comma-separated, one row per line item, order fields on the first row
  of each order only, "Lineitem ..." columns, zips with Shopify's leading apostrophe, notes
  with commas, quotes and newlines, 64-bit order ids beyond float precision.
- The same Shopify export saved as an XLSX workbook (amounts as number cells).

Expected amounts are computed here in integer cents, independently of the importer's decimal
arithmetic, so a test compares two derivations rather than one with itself.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from ingestion.sandbox.amazon_render import REPORT_COLUMNS

# Seller Central prints the report with the same header the Reports API serves.
AMAZON_HEADER = list(REPORT_COLUMNS)

SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
]
SHOPIFY_LINE_COLUMNS = {
    "Name",
    "Email",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Vendor",
    "Lineitem discount",
}

PRODUCTS = [
    ("SKL-12", 'Cast iron skillet 12" pre-seasoned', 3499),
    ("MUG-4", "Stoneware mug set, 4 pieces", 2800),
    ("TEA-100", "Matcha essence 100 g", 1995),
    ("NAP-6", "Linen napkins (set of 6)", 1800),
    ("KNF-8", "Chef's knife 8\u2033 \u2013 VG10", 8900),
]


@dataclass(frozen=True)
class Marketplace:
    sales_channel: str
    currency: str
    offset_hours: int
    taxes_included: bool
    tax_rate: Decimal
    prefix: str
    country: str
    cities: tuple[tuple[str, str, str], ...]  # city, state, postal code
    price_factor: int = 1


AMAZON_MARKETPLACES = [
    Marketplace(
        "Amazon.com",
        "USD",
        -7,
        False,
        Decimal("0.0825"),
        "112",
        "US",
        (("Cambridge", "MA", "02139"), ("Austin", "TX", "78701"), ("Boise", "ID", "83702")),
    ),
    Marketplace(
        "Amazon.de",
        "EUR",
        2,
        True,
        Decimal("0.19"),
        "302",
        "DE",
        (("Berlin", "", "10115"), ("Hamburg", "", "20095")),
    ),
    Marketplace(
        "Amazon.co.uk",
        "GBP",
        1,
        True,
        Decimal("0.20"),
        "203",
        "GB",
        (("Leeds", "West Yorkshire", "LS1 4DY"), ("Bristol", "", "BS1 5TR")),
    ),
    Marketplace(
        "Amazon.co.jp",
        "JPY",
        9,
        True,
        Decimal("0.10"),
        "249",
        "JP",
        (("Adachi-ku", "Tokyo", "120-0026"),),
        price_factor=100,
    ),
]


@dataclass
class ExpectedOrder:
    channel: str
    store_id: str
    external_order_id: str
    currency: str | None
    total_cents: int | None
    line_count: int
    ordered_at: datetime
    source_rows: list[int] = field(default_factory=list)


@dataclass
class Expected:
    """What an export must load to: its orders by key and the rows of each."""

    orders: dict[tuple[str, str, str], ExpectedOrder] = field(default_factory=dict)

    def totals_by_currency(self) -> dict[str, Decimal]:
        totals: dict[str, int] = {}
        for order in self.orders.values():
            if order.total_cents is not None:
                totals[order.currency] = totals.get(order.currency, 0) + order.total_cents
        return {c: Decimal(cents).scaleb(-2) for c, cents in totals.items()}

    def line_count(self) -> int:
        return sum(order.line_count for order in self.orders.values())


def cents(amount: int) -> str:
    """Minor units as the marketplaces print them: 1234 -> "12.34", -200 -> "-2.00"."""
    return str(Decimal(amount).scaleb(-2).quantize(Decimal("0.01")))


def _tax(amount: int, rate: Decimal, included: bool) -> int:
    if included:
        return int((Decimal(amount) * rate / (1 + rate)).quantize(Decimal(1)))
    return int((Decimal(amount) * rate).quantize(Decimal(1)))


def amazon_all_orders(seed: int = 1, n_orders: int = 40) -> tuple[list[dict[str, str]], Expected]:
    """Rows of an All Orders report (header order as Amazon writes it) and what they load to."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    expected = Expected()
    start = datetime(2026, 6, 1, tzinfo=UTC)
    for index in range(n_orders):
        market = AMAZON_MARKETPLACES[index % len(AMAZON_MARKETPLACES)]
        local = timezone(timedelta(hours=market.offset_hours))
        ordered = start + timedelta(hours=7 * index, minutes=rng.randrange(60))
        order_id = f"{market.prefix}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
        status = rng.choice(["Shipped"] * 6 + ["Unshipped", "Pending", "Cancelled", "Shipping"])
        city, state, postal = rng.choice(market.cities)
        n_items = rng.choice([1, 1, 2, 3])
        # One shipped order in four has a cancelled item first: no currency, no prices on it.
        cancelled_first = status == "Shipped" and n_items > 1 and index % 4 == 0
        total = 0
        for item in range(n_items):
            sku, title, unit = PRODUCTS[(index + item) % len(PRODUCTS)]
            unit *= market.price_factor
            quantity = rng.choice([1, 1, 2, 3])
            no_money = status == "Cancelled" or (cancelled_first and item == 0)
            row = {column: "" for column in AMAZON_HEADER}
            row.update(
                {
                    "amazon-order-id": order_id,
                    "merchant-order-id": f"M-{10000 + index}" if index % 3 else "",
                    "purchase-date": ordered.astimezone(local).isoformat(),
                    "last-updated-date": (ordered + timedelta(days=1))
                    .astimezone(local)
                    .isoformat(),
                    "order-status": status,
                    "fulfillment-channel": "Amazon" if index % 2 else "Merchant",
                    "sales-channel": market.sales_channel,
                    "ship-service-level": rng.choice(["Standard", "Expedited"]),
                    "product-name": title,
                    "sku": sku,
                    "asin": f"B0{rng.randrange(10**8):08d}",
                    "item-status": "Cancelled" if no_money else status,
                    "quantity": str(quantity),
                    "ship-city": city,
                    "ship-state": state,
                    "ship-postal-code": postal,
                    "ship-country": market.country,
                    "is-business-order": "false",
                }
            )
            if not no_money:
                price = unit * quantity
                shipping = rng.choice([0, 399, 599]) * market.price_factor
                gift = 299 * market.price_factor if rng.random() < 0.15 else 0
                promo = -rng.choice([0, 0, 200]) * market.price_factor
                ship_promo = -shipping if shipping and rng.random() < 0.3 else 0
                item_tax = _tax(price + promo, market.tax_rate, market.taxes_included)
                ship_tax = _tax(shipping + ship_promo, market.tax_rate, market.taxes_included)
                gift_tax = _tax(gift, market.tax_rate, market.taxes_included)
                row.update(
                    {
                        "currency": market.currency,
                        "item-price": cents(price),
                        "item-tax": cents(item_tax),
                        "shipping-price": cents(shipping),
                        "shipping-tax": cents(ship_tax),
                        "gift-wrap-price": cents(gift),
                        "gift-wrap-tax": cents(gift_tax),
                        "item-promotion-discount": cents(promo),
                        "ship-promotion-discount": cents(ship_promo),
                        "promotion-ids": "Free Shipping 2026" if ship_promo else "",
                    }
                )
                taxes = 0 if market.taxes_included else item_tax + ship_tax + gift_tax
                total += price + shipping + gift + promo + ship_promo + taxes
            rows.append(row)
        store = market.sales_channel.lower()
        expected.orders[("amazon", store, order_id)] = ExpectedOrder(
            "amazon",
            store,
            order_id,
            None if status == "Cancelled" else market.currency,
            None if status == "Cancelled" else total,
            n_items,
            ordered,
            list(range(len(rows) - n_items + 2, len(rows) + 2)),  # the header is row 1
        )
    return rows, expected


def write_amazon_tsv(path: Path, rows: list[dict[str, str]]) -> Path:
    """Amazon's flat file: tabs, no quoting, CRLF line ends."""
    lines = ["\t".join(AMAZON_HEADER)]
    lines += ["\t".join(row[column] for column in AMAZON_HEADER) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


@dataclass(frozen=True)
class ShopifyShop:
    store_id: str
    currency: str
    taxes_included: bool
    tax_rate: Decimal
    tax_name: str
    offset_hours: int
    first_number: int
    addresses: tuple[tuple[str, str, str, str], ...]  # city, province, zip, country code


SHOP_EU = ShopifyShop(
    "atelier-eu.myshopify.com",
    "EUR",
    True,
    Decimal("0.20"),
    "FR TVA 20%",
    2,
    1001,
    (("Lyon", "", "69002", "FR"), ("Gent", "VOV", "9000", "BE"), ("Milano", "MI", "20121", "IT")),
)
SHOP_US = ShopifyShop(
    "atelier-us.myshopify.com",
    "USD",
    False,
    Decimal("0.08875"),
    "NY State Tax 8.875%",
    -4,
    5001,
    (
        ("Brooklyn", "NY", "11201", "US"),
        ("Boston", "MA", "02116", "US"),
        ("Toronto", "ON", "M5V 2T6", "CA"),
    ),
)


def shopify_orders_export(
    shop: ShopifyShop, seed: int = 2, n_orders: int = 30
) -> tuple[list[dict[str, str]], Expected]:
    """Rows of a Shopify orders export and what they load to (store from the user's mapping)."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    expected = Expected()
    local = timezone(timedelta(hours=shop.offset_hours))
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    for index in range(n_orders):
        name = f"#{shop.first_number + index}"
        order_id = str(6_100_000_000_000_000_001 + index * 7_919)  # > 2**53: floats lose it
        created = start + timedelta(hours=5 * index, seconds=rng.randrange(3600))
        stamp = created.astimezone(local).strftime("%Y-%m-%d %H:%M:%S %z")
        cancelled = index % 9 == 4
        financial = "voided" if cancelled else rng.choice(["paid"] * 5 + ["pending", "refunded"])
        fulfillment = "unfulfilled" if cancelled else rng.choice(["fulfilled", "unfulfilled"])
        city, province, zip_code, country = rng.choice(shop.addresses)
        n_lines = rng.choice([1, 2, 2, 3])
        lines = []
        for item in range(n_lines):
            sku, title, unit = PRODUCTS[(index * 2 + item) % len(PRODUCTS)]
            quantity = rng.choice([1, 1, 2])
            discount = rng.choice([0, 0, 150]) if quantity else 0
            lines.append((sku, title, unit, quantity, discount))
        line_total = sum(unit * quantity for _, _, unit, quantity, _ in lines)
        discounts = sum(discount for *_, discount in lines)
        subtotal = line_total - discounts
        shipping = rng.choice([0, 590, 990])
        taxes = _tax(subtotal + shipping, shop.tax_rate, shop.taxes_included)
        total = subtotal + shipping + (0 if shop.taxes_included else taxes)
        for position, (sku, title, unit, quantity, discount) in enumerate(lines):
            row = {column: "" for column in SHOPIFY_HEADER}
            row.update(
                {
                    "Name": name,
                    "Email": f"Buyer{index}@Example.com " if index % 5 else "",
                    "Lineitem quantity": str(quantity),
                    "Lineitem name": title,
                    "Lineitem price": cents(unit),
                    "Lineitem compare at price": "",
                    "Lineitem sku": sku,
                    "Lineitem requires shipping": "true",
                    "Lineitem taxable": "true",
                    "Lineitem fulfillment status": "pending"
                    if fulfillment == "unfulfilled"
                    else "fulfilled",
                    "Vendor": "Atelier",
                    "Lineitem discount": cents(discount),
                }
            )
            if position == 0:
                row.update(
                    {
                        "Financial Status": financial,
                        "Paid at": stamp if financial == "paid" else "",
                        "Fulfillment Status": fulfillment,
                        "Accepts Marketing": "no",
                        "Currency": shop.currency,
                        "Subtotal": cents(subtotal),
                        "Shipping": cents(shipping),
                        "Taxes": cents(taxes),
                        "Total": cents(total),
                        "Discount Code": "WELCOME" if discounts else "",
                        "Discount Amount": cents(discounts),
                        "Shipping Method": "Standard",
                        "Created at": stamp,
                        "Billing Name": f"Buyer {index}",
                        "Shipping Name": f"Buyer {index}",
                        "Shipping Address1": f'{index} Rue "Neuve", bât. B',
                        "Shipping City": city,
                        "Shipping Zip": f"'{zip_code}",
                        "Shipping Province": province,
                        "Shipping Country": country,
                        "Notes": 'Leave at door, "back" gate\nthanks' if index % 4 == 1 else "",
                        "Cancelled at": stamp if cancelled else "",
                        "Payment Method": "Shopify Payments",
                        "Refunded Amount": cents(total) if financial == "refunded" else "0.00",
                        "Outstanding Balance": "0.00",
                        "Id": order_id,
                        "Tags": "vip, repeat" if index % 6 == 0 else "",
                        "Risk Level": "Low",
                        "Source": "web",
                        "Tax 1 Name": shop.tax_name,
                        "Tax 1 Value": cents(taxes),
                    }
                )
            rows.append(row)
        expected.orders[("shopify", shop.store_id, order_id)] = ExpectedOrder(
            "shopify",
            shop.store_id,
            order_id,
            shop.currency,
            total,
            n_lines,
            created,
        )
    return rows, expected


def write_shopify_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SHOPIFY_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


_NUMBER_COLUMNS = {
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Amount",
    "Lineitem quantity",
    "Lineitem price",
    "Lineitem discount",
    "Refunded Amount",
    "Outstanding Balance",
    "Tax 1 Value",
}


def write_shopify_xlsx(
    path: Path, rows: list[dict[str, str]], sheet: str = "orders_export"
) -> Path:
    """The export as a seller saves it from a spreadsheet: amounts become number cells; the
    order id stays a text cell (as a number it would already have lost digits)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    worksheet.write_row(0, 0, SHOPIFY_HEADER)
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(SHOPIFY_HEADER):
            value = row[column]
            if not value:
                continue
            if column in _NUMBER_COLUMNS:
                worksheet.write_number(r, c, float(value))
            else:
                worksheet.write_string(r, c, value)
    workbook.close()
    return path


ETSY_HEADER = [
    "Sale Date",
    "Item Name",
    "Buyer",
    "Quantity",
    "Price",
    "Coupon Code",
    "Coupon Details",
    "Discount Amount",
    "Shipping Discount",
    "Order Shipping",
    "Order Sales Tax",
    "Item Total",
    "Currency",
    "Transaction ID",
    "Listing ID",
    "Date Paid",
    "Date Shipped",
    "Ship Name",
    "Ship Address1",
    "Ship Address2",
    "Ship City",
    "Ship State",
    "Ship Zipcode",
    "Ship Country",
    "Order ID",
    "Variations",
    "Order Type",
    "Listings Type",
    "Payment Type",
    "InPerson Discount",
    "InPerson Location",
    "VAT Paid by Buyer",
    "SKU",
]
ETSY_COUNTRIES = [
    ("United States", "US", "Portland", "OR", "97205"),
    ("Germany", "DE", "Köln", "", "50667"),
    ("United Kingdom", "GB", "York", "", "YO1 7HH"),
    ("Canada", "CA", "Halifax", "NS", "B3H 1A1"),
]


def etsy_sold_order_items(
    seed: int = 3, n_orders: int = 12
) -> tuple[list[dict[str, str]], Expected]:
    """An Etsy "Sold Order Items" CSV: one row per item, dates as MM/DD/YY in the shop's time
    zone (New York here), country names, the order's shipping and tax repeated on its rows."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    expected = Expected()
    new_york = timezone(timedelta(hours=-4))  # June: daylight time
    for index in range(n_orders):
        order_id = str(3_100_000_000 + index * 37)
        sale_day = datetime(2026, 6, 1 + index, tzinfo=new_york)
        country, _, city, state, zip_code = ETSY_COUNTRIES[index % len(ETSY_COUNTRIES)]
        n_items = rng.choice([1, 2])
        shipping = rng.choice([450, 1200])
        items = []
        for item in range(n_items):
            sku, title, unit = PRODUCTS[(index + item) % len(PRODUCTS)]
            items.append((sku, title, unit, rng.choice([1, 2]), rng.choice([0, 0, 100])))
        items_total = sum(unit * quantity for _, _, unit, quantity, _ in items)
        discounts = sum(discount for *_, discount in items)
        tax = (
            _tax(items_total - discounts + shipping, Decimal("0.07"), False)
            if index % 4 == 0
            else 0
        )
        for item, (sku, title, unit, quantity, discount) in enumerate(items):
            row = {column: "" for column in ETSY_HEADER}
            row.update(
                {
                    "Sale Date": sale_day.strftime("%m/%d/%y"),
                    "Item Name": title,
                    "Buyer": f"buyer{index}",
                    "Quantity": str(quantity),
                    "Price": cents(unit),
                    "Discount Amount": cents(discount),
                    "Shipping Discount": "0.00",
                    "Order Shipping": cents(shipping),
                    "Order Sales Tax": cents(tax),
                    "Item Total": cents(unit * quantity),
                    "Currency": "USD",
                    "Transaction ID": str(4_200_000_000 + index * 10 + item),
                    "Listing ID": str(1_500_000_000 + item),
                    "Date Paid": sale_day.strftime("%m/%d/%y"),
                    "Ship Name": f"Buyer {index}",
                    "Ship City": city,
                    "Ship State": state,
                    "Ship Zipcode": zip_code,
                    "Ship Country": country,
                    "Order ID": order_id,
                    "Order Type": "online",
                    "Listings Type": "listing",
                    "Payment Type": "online_cc",
                    "SKU": sku,
                }
            )
            rows.append(row)
        total = items_total - discounts + shipping + tax
        expected.orders[("etsy", "my-etsy-shop", order_id)] = ExpectedOrder(
            "etsy", "my-etsy-shop", order_id, "USD", total, n_items, sale_day.astimezone(UTC)
        )
    return rows, expected


def write_etsy_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ETSY_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path
