"""Shopify ``GET /orders.json`` pages read column-wise, straight from the response bytes.

Why: an order is about 11 KiB of JSON, and decoding it into Python objects with orjson cost
more than parsing it (80-170 us an order against 50 for ``parse_order``). Here ``pyarrow.json``
decodes a page against an explicit schema that names only the fields the parsers read (its
reader is strict: a number where a string belongs, a float for an id, a string for an object
fail the decode instead of being coerced), and polars checks and converts whole columns.

One definition of what an order means stays in ``parsers.py`` and ``finance_parsers.py``:

- an order is *plain* when every value ``parse_order`` reads is in the canonical form Shopify
  prints (timestamps ``YYYY-MM-DDTHH:MM:SS±HH:MM`` or ``Z``, amounts with at most four
  decimals, upper-case currency codes, non-blank names, no null where an object belongs).
  Plain orders and their lines are converted here, column by column;
- every other order goes through ``parsers.parse_records`` on its own JSON (the page is decoded
  by orjson only when it holds one): it loads or is quarantined exactly as before;
- refunds and fulfillments come from the same decode, as Python objects of the fields their
  parsers read; if any is refused, the page's finance is parsed again from its own JSON, so
  the quarantine keeps the record as Shopify sent it;
- a page the schema cannot decode at all is parsed record by record as a whole.

``tests/ingestion/test_shopify_columnar.py`` proves both paths give identical tables and
quarantine rows on a harsh sandbox's pages and on Shopify's own examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.columnar import (
    MONEY_DTYPE,
    iso_time,
    money_value,
    parsed_in_runs,
    read_page,
    records_at,
    required_text,
    rows_frame,
    to_schema,
    with_parsed_rows,
)
from ingestion.common.http import load_json
from ingestion.common.quarantine import Quarantine
from ingestion.shopify.parsers import (
    LINE_ITEMS_SCHEMA,
    ORDERS_SCHEMA,
    ParsedOrders,
    parse_orders,
    parse_records,
)

_S, _I, _B, _F = pa.string(), pa.int64(), pa.bool_(), pa.float64()
_SIDE = pa.struct([("amount", _S), ("currency_code", _S)])
MONEY_SET = pa.struct([("shop_money", _SIDE), ("presentment_money", _SIDE)])
# An object a parser only checks is an object (``nested_object``): its keys are not decoded.
_ANY_OBJECT = pa.struct([])
_ADDRESS = pa.struct(
    [
        ("country_code", _S),
        ("province_code", _S),
        ("city", _S),
        ("zip", _S),
        ("latitude", _F),
        ("longitude", _F),
    ]
)
LINE_JSON = pa.struct(
    [
        ("id", _I),
        ("sku", _S),
        ("product_id", _I),
        ("variant_id", _I),
        ("title", _S),
        ("variant_title", _S),
        ("vendor", _S),
        ("quantity", _I),
        ("current_quantity", _I),
        ("fulfillable_quantity", _I),
        ("fulfillment_status", _S),
        ("requires_shipping", _B),
        ("grams", _I),
        ("price", _S),
        ("discount_allocations", pa.list_(pa.struct([("amount_set", MONEY_SET)]))),
        ("tax_lines", pa.list_(pa.struct([("price_set", MONEY_SET)]))),
    ]
)
# Every field ``finance_parsers.transaction_row`` reads.
TRANSACTION_JSON = pa.struct(
    [
        *((name, _I) for name in ("id", "order_id", "parent_id", "location_id", "user_id")),
        ("device_id", _I),
        *(
            (name, _S)
            for name in (
                "kind",
                "gateway",
                "status",
                "message",
                "error_code",
                "created_at",
                "processed_at",
                "currency",
                "amount",
                "payment_id",
                "authorization",
                "source_name",
            )
        ),
        ("test", _B),
        ("manual_payment_gateway", _B),
        ("payment_details", pa.struct([("credit_card_company", _S), ("payment_method_name", _S)])),
        ("receipt", _ANY_OBJECT),
        ("total_unsettled_set", _ANY_OBJECT),
    ]
)
# Every field ``finance_parsers.parse_refund`` reads.
REFUND_JSON = pa.struct(
    [
        ("id", _I),
        ("order_id", _I),
        ("created_at", _S),
        ("processed_at", _S),
        ("note", _S),
        ("restock", _B),
        ("user_id", _I),
        ("return", pa.struct([("id", _I)])),
        (
            "refund_line_items",
            pa.list_(
                pa.struct(
                    [
                        ("id", _I),
                        ("line_item_id", _I),
                        ("quantity", _I),
                        ("restock_type", _S),
                        ("location_id", _I),
                        ("subtotal_set", MONEY_SET),
                        ("total_tax_set", MONEY_SET),
                        ("line_item", pa.struct([("sku", _S)])),
                    ]
                )
            ),
        ),
        (
            "refund_shipping_lines",
            pa.list_(
                pa.struct([("subtotal_amount_set", MONEY_SET), ("total_tax_amount_set", MONEY_SET)])
            ),
        ),
        ("order_adjustments", pa.list_(pa.struct([("amount_set", MONEY_SET)]))),
        ("total_duties_set", MONEY_SET),
        ("total_additional_fees_set", MONEY_SET),
        ("transactions", pa.list_(TRANSACTION_JSON)),
    ]
)
# Every field ``finance_parsers.parse_fulfillment`` reads.
FULFILLMENT_JSON = pa.struct(
    [
        ("id", _I),
        ("order_id", _I),
        ("location_id", _I),
        *(
            (name, _S)
            for name in (
                "created_at",
                "updated_at",
                "name",
                "status",
                "shipment_status",
                "service",
                "tracking_company",
                "tracking_number",
                "tracking_url",
            )
        ),
        ("tracking_numbers", pa.list_(_S)),
        ("tracking_urls", pa.list_(_S)),
        (
            "line_items",
            pa.list_(
                pa.struct(
                    [
                        ("id", _I),
                        ("sku", _S),
                        ("quantity", _I),
                        ("price", _S),
                        ("price_set", MONEY_SET),
                    ]
                )
            ),
        ),
        ("origin_address", pa.struct([("country_code", _S)])),
        ("receipt", _ANY_OBJECT),
    ]
)
_ORDER_TEXT = (
    "name",
    "email",
    "created_at",
    "updated_at",
    "processed_at",
    "cancelled_at",
    "closed_at",
    "cancel_reason",
    "financial_status",
    "fulfillment_status",
    "source_name",
    "tags",
    "currency",
    "presentment_currency",
)
_ORDER_MONEY = (
    "total_line_items_price",
    "total_discounts",
    "subtotal_price",
    "total_tax",
    "total_price",
    "current_total_price",
)
# The order object as the reader decodes it; fields not named here are skipped.
ORDER_JSON = pa.struct(
    [
        ("id", _I),
        ("order_number", _I),
        ("total_weight", _I),
        *((name, _S) for name in _ORDER_TEXT),
        *((name, _S) for name in _ORDER_MONEY),
        ("test", _B),
        ("taxes_included", _B),
        ("customer", pa.struct([("id", _I)])),
        ("total_shipping_price_set", MONEY_SET),
        ("total_price_set", MONEY_SET),
        ("shipping_address", _ADDRESS),
        ("billing_address", _ADDRESS),
        ("line_items", pa.list_(LINE_JSON)),
        ("refunds", pa.list_(REFUND_JSON)),
        ("fulfillments", pa.list_(FULFILLMENT_JSON)),
    ]
)
PAGE_JSON = pa.schema([("orders", pa.list_(ORDER_JSON))])


@dataclass
class DecodedOrders:
    """One ``orders.json`` response: its orders as one struct array, or None when the schema
    could not decode the page (then ``raw_orders`` is all there is)."""

    orders: pa.StructArray | None
    content: bytes
    _raw: Any = None

    def __len__(self) -> int:
        return len(self.orders) if self.orders is not None else len(self.raw_orders())

    def raw_orders(self) -> Any:
        """The page's ``orders`` as Python objects, as ``client.iter_order_pages`` reads them
        (decoded on first use only)."""
        if self._raw is None:
            self._raw = load_json(self.content)["orders"]
        return self._raw

    def finance_orders(self) -> list[dict[str, Any]]:
        """Each order's ``id``, ``refunds`` and ``fulfillments`` as Python objects holding the
        fields the finance parsers read (from the decode, or the raw JSON if there is none).
        A null order is left out, as a non-object order is on the per-record path."""
        if self.orders is None:
            return [order for order in self.raw_orders() if isinstance(order, dict)]
        valid = self.orders.is_valid().to_numpy(zero_copy_only=False)
        columns = {
            name: pc.struct_field(self.orders, name).to_pylist()
            for name in ("id", "refunds", "fulfillments")
        }
        return [
            {name: values[row] for name, values in columns.items()}
            for row in np.flatnonzero(valid).tolist()
        ]


def decode_page(content: bytes) -> DecodedOrders:
    """Decode one ``GET /orders.json`` response body against ``PAGE_JSON``."""
    table = read_page(content, PAGE_JSON, "orders")
    if table is None:
        page = DecodedOrders(None, content)
        page.raw_orders()  # an envelope without ``orders`` fails here, as it always did
        return page
    lists = table.column("orders").combine_chunks()
    return DecodedOrders(lists.flatten(), content)


def parse_pages(pages: list[DecodedOrders], store_id: str) -> ParsedOrders:
    """The orders and lines of ``pages`` as one parsed batch, rows in page order, as
    ``parsers.parse_orders`` gives them page by page. Consecutive decoded pages are converted
    together (a polars pass costs about 11 ms whatever its size: 45 us an order for one page
    of 250, 8 for ten); an undecoded page is parsed record by record."""
    parts = parsed_in_runs(
        pages,
        lambda page: page.orders is not None,
        lambda run: parse_columns(run, store_id),
        lambda page: parse_orders(page.raw_orders(), store_id),
    )
    if len(parts) == 1:
        return parts[0]
    newest = [p.max_updated_at for p in parts if p.max_updated_at is not None]
    return ParsedOrders(
        orders=pa.concat_tables([p.orders for p in parts]),
        line_items=pa.concat_tables([p.line_items for p in parts]),
        quarantine=Quarantine.merged("shopify", (p.quarantine for p in parts)),
        max_updated_at=max(newest, default=None),
    )


def parse_columns(pages: list[DecodedOrders], store_id: str) -> ParsedOrders:
    """Plain orders converted column-wise; the others parsed from their own JSON by the
    per-record parser. Rows keep the pages' order."""
    arrays = [page.orders for page in pages]
    orders = arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)
    frame = pl.from_arrow(pa.RecordBatch.from_struct_array(orders)).with_columns(
        pl.Series("_present", orders.is_valid()),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
        pl.lit(store_id).alias("store_id"),
    )
    rows = frame.select(_order_columns())
    lines = _line_rows(pc.struct_field(orders, "line_items"), rows)
    broken = lines.filter(~pl.col("_plain")).get_column("_row").unique()
    plain = rows.filter(pl.col("_plain") & ~pl.col("_row").is_in(broken.implode()))
    good_rows = plain.select("_row", *ORDERS_SCHEMA.names)
    good_lines = lines.join(plain.select("_row"), on="_row", how="semi").select(
        "_row", "_index", *LINE_ITEMS_SCHEMA.names
    )
    quarantine = Quarantine(source="shopify")
    others = sorted(set(range(frame.height)) - set(plain.get_column("_row").to_list()))
    if others:
        # Only these orders are parsed one by one.
        records = records_at(others, [len(a) for a in arrays], lambda i: pages[i].raw_orders())
        parsed = parse_records(records, store_id, quarantine)
        good_rows = with_parsed_rows(good_rows, others, parsed, ORDERS_SCHEMA)
        fallback_lines = rows_frame(
            [others[position] for position, _, items in parsed for _ in items],
            [item for _, _, items in parsed for item in items],
            LINE_ITEMS_SCHEMA,
        ).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_row").alias("_index"))
        good_lines = pl.concat([good_lines, fallback_lines.select(good_lines.columns)]).sort(
            "_row", "_index", maintain_order=True
        )
    return ParsedOrders(
        orders=to_schema(good_rows, ORDERS_SCHEMA),
        line_items=to_schema(good_lines, LINE_ITEMS_SCHEMA),
        quarantine=quarantine,
        max_updated_at=good_rows.get_column("updated_at").max() if good_rows.height else None,
    )


def _flattened(lists: pa.ListArray) -> tuple[pa.StructArray, np.ndarray, np.ndarray]:
    """The elements of ``lists``, the row of each one's list, and its position in that list."""
    if lists.offset:
        lists = pa.concat_arrays([lists])
    values = lists.flatten()
    parents = pc.list_parent_indices(lists).to_numpy()
    offsets = lists.offsets.to_numpy()
    index = np.arange(len(values), dtype=np.int64) + offsets[0] - offsets[parents]
    return values, parents, index


def _line_rows(lists: pa.ListArray, orders: pl.DataFrame) -> pl.DataFrame:
    """Line rows in ``LINE_ITEMS_SCHEMA`` form, with ``_row`` (the order's row), ``_index``
    (the line's position) and ``_plain``."""
    values, parents, index = _flattened(lists)
    lines = pl.from_arrow(pa.RecordBatch.from_struct_array(values)).with_columns(
        pl.Series("_row", parents, dtype=pl.Int64),
        pl.Series("_index", index, dtype=pl.Int64),
        pl.Series("_present", values.is_valid()),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_line"),
    )
    discounts = _set_sums(
        pc.struct_field(values, "discount_allocations"), "amount_set", "_discount"
    )
    taxes = _set_sums(pc.struct_field(values, "tax_lines"), "price_set", "_tax")
    parent = orders.select("_row", "id", "store_id", "updated_at", "currency")
    return (
        lines.join(parent, on="_row", how="left", suffix="_order")
        .join(discounts, on="_line", how="left")
        .join(taxes, on="_line", how="left")
        .select(_line_columns())
    )


def _set_sums(lists: pa.ListArray, set_name: str, prefix: str) -> pl.DataFrame:
    """Per line (``_line``): the sum of each element's ``<set_name>.shop_money.amount``, its
    currencies (at most one is plain), and whether every element is plain."""
    values, parents, _ = _flattened(lists)
    if not len(values):
        return pl.DataFrame(
            schema={
                "_line": pl.Int64,
                f"{prefix}_sum": pl.Decimal(38, 4),
                f"{prefix}_codes": pl.List(pl.String),
                f"{prefix}_plain": pl.Boolean,
            }
        )
    shop = pc.struct_field(values, [set_name, "shop_money"])
    amount, amount_plain = money_value(pl.col("amount"))
    frame = pl.DataFrame(
        {
            "_line": pl.Series(parents, dtype=pl.Int64),
            "amount": pl.Series(pc.struct_field(shop, "amount")),
            "code": pl.Series(pc.struct_field(shop, "currency_code")),
            "_present": pl.Series(values.is_valid()),
        }
    )
    return frame.group_by("_line").agg(
        amount.sum().alias(f"{prefix}_sum"),
        pl.col("code").drop_nulls().unique().alias(f"{prefix}_codes"),
        (pl.col("_present") & amount_plain).all().alias(f"{prefix}_plain"),
    )


@cache
def _order_columns() -> list[pl.Expr]:
    """The expressions of the order rows, built once (building them per page cost more than
    evaluating them), ending with ``_plain``: whether the row needs no per-record parser."""
    created, created_offset, _, created_plain = iso_time("created_at")
    updated, updated_offset, _, updated_plain = iso_time("updated_at")
    optional_times = {
        name: iso_time(name) for name in ("processed_at", "cancelled_at", "closed_at")
    }
    currency = pl.col("currency")
    presentment = (
        pl.when(pl.col("presentment_currency").fill_null("") == "")
        .then(currency)
        .otherwise(pl.col("presentment_currency"))
    )
    amounts = {name: money_value(pl.col(name)) for name in _ORDER_MONEY}
    shop_shipping = pl.col("total_shipping_price_set").struct.field("shop_money")
    shipping, shipping_plain = money_value(shop_shipping.struct.field("amount"))
    shipping_code = shop_shipping.struct.field("currency_code")
    presentment_total, presentment_total_plain = money_value(
        pl.col("total_price_set").struct.field("presentment_money").struct.field("amount")
    )
    code = r"^[A-Z]{3}$"
    plain = (
        pl.col("_present")
        & pl.col("id").is_not_null()
        & required_text(pl.col("name"))
        & currency.str.contains(code).fill_null(False)
        & presentment.str.contains(code).fill_null(False)
        & created_offset.is_not_null()
        & created_plain
        & updated_offset.is_not_null()
        & updated_plain
        & pl.all_horizontal(
            t[3] & (pl.col(name).is_null() | t[1].is_not_null())
            for name, t in optional_times.items()
        )
        & pl.all_horizontal(p for _, p in amounts.values())
        & shipping_plain
        & (shipping_code.is_null() | (shipping_code == currency))
        & presentment_total_plain
    )
    address = pl.col("shipping_address")
    return [
        pl.col("_row"),
        "id",
        "store_id",
        "name",
        "order_number",
        "email",
        pl.col("customer").struct.field("id").alias("customer_id"),
        created.alias("created_at"),
        created_offset.alias("created_at_utc_offset_minutes"),
        updated.alias("updated_at"),
        *(t[0].alias(name) for name, t in optional_times.items()),
        "cancel_reason",
        "financial_status",
        "fulfillment_status",
        "source_name",
        "tags",
        pl.col("test").fill_null(False).alias("is_test"),
        pl.col("taxes_included").fill_null(False),
        currency,
        presentment.alias("presentment_currency"),
        *(amounts[name][0].alias(name) for name in _ORDER_MONEY[:3]),
        shipping.alias("total_shipping_price"),
        *(amounts[name][0].alias(name) for name in _ORDER_MONEY[3:]),
        presentment_total.alias("presentment_total_price"),
        pl.col("total_weight").alias("total_weight_grams"),
        *(
            address.struct.field(name).alias(f"shipping_{name}")
            for name in ("country_code", "province_code", "city", "zip", "latitude", "longitude")
        ),
        pl.col("billing_address").struct.field("country_code").alias("billing_country_code"),
        plain.fill_null(False).alias("_plain"),
    ]


@cache
def _line_columns() -> list[pl.Expr]:
    """The expressions of the line rows, built once, ending with ``_plain``."""
    price, price_plain = money_value(pl.col("price"))

    def total(prefix: str) -> tuple[pl.Expr, pl.Expr]:
        codes = pl.col(f"{prefix}_codes")
        currency_plain = codes.is_null() | codes.list.set_difference(
            pl.concat_list(pl.col("currency"))
        ).list.len().eq(0)
        amount = pl.col(f"{prefix}_sum").fill_null(0).cast(MONEY_DTYPE)
        return amount, pl.col(f"{prefix}_plain").fill_null(True) & currency_plain

    discount, discount_plain = total("_discount")
    tax, tax_plain = total("_tax")
    plain = (
        pl.col("_present")
        & pl.col("id").is_not_null()
        & pl.col("quantity").is_not_null()
        & price_plain
        & discount_plain
        & tax_plain
    )
    return [
        pl.col("_row"),
        pl.col("_index"),
        "id",
        pl.col("id_order").alias("order_id"),
        "store_id",
        pl.col("updated_at").alias("order_updated_at"),
        "sku",
        "product_id",
        "variant_id",
        "title",
        "variant_title",
        "vendor",
        "quantity",
        "current_quantity",
        "fulfillable_quantity",
        "fulfillment_status",
        "requires_shipping",
        "grams",
        "currency",
        price.alias("price"),
        discount.alias("discount_amount"),
        tax.alias("tax_amount"),
        plain.fill_null(False).alias("_plain"),
    ]
