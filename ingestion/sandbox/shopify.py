"""Render ledger orders as Shopify Admin REST 2026-07 ``order`` objects, as of the clock.

Why this shape: connectors are written against Shopify's real payloads, so every field path and
JSON type in the official examples (``shared/fixtures/api/shopify_admin_rest_2026_07/order.*``)
is emitted here, with values derived from the ledger: money strings formatted from integer
minor units, ``*_set`` pairs in shop and presentment currency, fulfilments only once shipped,
refunds only once refunded, timestamps in the customer's local offset. Fields the world does
not model carry plausible constants or values derived from ids.

Speed matters (a page is 250 orders and benchmarks walk millions): ``OrderRenderer`` renders
batches of orders as JSON text column-wise (``jsonfrag``), each line item once and spliced into
``line_items``, ``fulfillments`` and ``refund_line_items``, and hands back each refund and
fulfillment on its own too (the per-order endpoints serve those same bytes);
``shopify_serving`` caches the renderings and serves a page as a byte-join. The per-order
Python renderer it replaced is kept as the tests' reference (``tests/sandbox``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
import polars as pl

from ingestion.sandbox.jsonfrag import (
    Raw,
    arrays,
    attach_arrays,
    hex_digits,
    local_time,
    mix,
    money,
    money_set,
    obj,
    offset_suffix,
    raw,
    scale_of,
    truthy,
    when_raw,
)
from ingestion.sandbox.money import formatter
from ingestion.sandbox.state import SandboxState

API_VERSION = "2026-07"
# Shopify's app id of the Online Store sales channel.
_ONLINE_STORE_APP_ID = 580111
# The staff member who processes returns (Shopify user ids are 64-bit like every other id).
_STAFF_USER_ID = 2**53 + 16 * 10**14 + 77
_EPOCH = datetime(1970, 1, 1)
_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15"
)
_REFERRERS = (
    "https://www.google.com/",
    "https://www.instagram.com/",
    None,
    "https://www.tiktok.com/",
    None,
)
# AfterShip's outcome of a parcel -> Shopify's fulfillment shipment_status. Only outcomes (order
# events that move ``updated_at``) show, so a rendered order changes only with its updated_at.
_SHIPMENT_STATUS = {"delivered": "delivered", "failed": "failure", "lost": "failure"}
# Ids Shopify gives objects the ledger has no id for (see ``shopify_finance_objects``): kinds
# of one-per-source ids (``source_id + kind * 10**16``), and fulfillment line ids.
_REFUND_TXN_KIND, _REFUND_SHIPPING_KIND = 4, 6
_FULFILLMENT_LINE_BASE = 2**53 + 2 * 10**18
# Street address, postal code and province of the cities the world's warehouses are in; a
# warehouse elsewhere is shown with its name and city only.
WAREHOUSE_ADDRESSES = {
    "Shenzhen": ("No. 8 Pingxin North Road, Pinghu", "518111", "GD"),
    "Los Angeles": ("2100 E 49th St", "90058", "CA"),
    "Birmingham": ("Unit 3, Hams Hall Distribution Park", "B46 1AL", None),
    "Frankfurt am Main": ("Cargo City Süd, Gebäude 560", "60549", None),
    "Narita": ("1-1 Furugome", "282-0004", "JP-12"),
}


@dataclass(frozen=True)
class ShopContext:
    """The shop the orders belong to (only the domain shows up in payloads)."""

    domain: str = "tradelane-sandbox.myshopify.com"
    shop_id: int = 54838000931
    business_entity_id: str = "MTU0ODM4MDAwOTMx"


def _offset_suffix(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


_SUFFIXES: dict[int, str] = {}


def local_time_formatter(offset_minutes: int) -> Callable[[int | None], str | None]:
    """Epoch seconds -> ISO 8601 in a fixed local offset, e.g. ``2026-07-04T10:15:00-04:00``."""
    suffix = _SUFFIXES.get(offset_minutes)
    if suffix is None:
        suffix = _SUFFIXES.setdefault(offset_minutes, _offset_suffix(offset_minutes))
    shift = offset_minutes * 60

    def fmt(epoch_s: int | None) -> str | None:
        if epoch_s is None:
            return None
        return (_EPOCH + timedelta(seconds=epoch_s + shift)).isoformat() + suffix

    return fmt


class _MoneySets:
    """Memoised ``{"shop_money": ..., "presentment_money": ...}`` pairs for one currency pair.

    Why: the same amounts recur across orders (prices, taxes, zero), and building three dicts
    and two strings per amount dominated rendering time. Rendered orders therefore share these
    sub-dicts: treat rendered orders as read-only (they are serialised straight away)."""

    __slots__ = ("fs", "fp", "shop", "pres", "_sets", "_shop_str")
    _LIMIT = 200_000

    def __init__(self, shop: str, pres: str) -> None:
        self.shop, self.pres = shop, pres
        self.fs, self.fp = formatter(shop), formatter(pres)
        self._sets: dict[int, dict[str, Any]] = {}
        self._shop_str: dict[int, str] = {}

    def set(self, shop_minor: int, pres_minor: int) -> dict[str, Any]:
        key = (shop_minor << 40) + pres_minor
        found = self._sets.get(key)
        if found is None:
            if len(self._sets) > self._LIMIT:
                self._sets.clear()
            found = self._sets[key] = {
                "shop_money": {"amount": self.fs(shop_minor), "currency_code": self.shop},
                "presentment_money": {"amount": self.fp(pres_minor), "currency_code": self.pres},
            }
        return found

    def shop_str(self, minor: int) -> str:
        found = self._shop_str.get(minor)
        if found is None:
            if len(self._shop_str) > self._LIMIT:
                self._shop_str.clear()
            found = self._shop_str[minor] = self.fs(minor)
        return found


_MONEY: dict[tuple[str, str], _MoneySets] = {}


def _money_sets(shop: str, pres: str) -> _MoneySets:
    found = _MONEY.get((shop, pres))
    if found is None:
        found = _MONEY.setdefault((shop, pres), _MoneySets(shop, pres))
    return found


def _hex(value: int, salt: int) -> str:
    """A stable 32-hex-digit token derived from an id (cart, checkout and order tokens)."""
    return hashlib.blake2b(f"{salt}:{value}".encode(), digest_size=16).hexdigest()


def _confirmation_number(order_id: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    value, chars = order_id * 2654435761, []
    for _ in range(9):
        value, r = divmod(value, len(alphabet))
        chars.append(alphabet[r])
    return "".join(chars)


# --- Vectorized rendering --------------------------------------------------------------------

_CHUNK = 50_000
_REFUND_ROWS = {"order_id": pl.Int64, "refund_id": pl.Int64, "_json": pl.Binary}
_FULFILLMENT_ROWS = {
    "order_id": pl.Int64,
    "shipment_id": pl.Int64,
    "_created_at": pl.Datetime("us", "UTC"),
    "_updated_at": pl.Datetime("us", "UTC"),
    "_json": pl.Binary,
}


@dataclass(frozen=True)
class Rendered:
    """Orders rendered as Shopify JSON (UTF-8 bytes), and every refund and fulfillment they
    embed as a record of its own: the very bytes ``refunds.json`` and ``fulfillments.json``
    serve, so that the two copies Shopify serves of each are one rendering.

    ``orders``: one per input row, in row order. ``refunds``: ``order_id``, ``refund_id``,
    ``_json``, oldest first per order. ``fulfillments``: ``order_id``, ``shipment_id``,
    ``_created_at``, ``_updated_at`` (UTC), ``_json``, oldest first per order."""

    orders: pl.Series
    refunds: pl.DataFrame
    fulfillments: pl.DataFrame


class OrderRenderer:
    """Shopify order JSON for many orders at once, as of the state's clock.

    ``render(orders)`` turns rows of ``state.orders_view()`` into one JSON text per order in
    column-wise passes: line items first (each rendered once and spliced into ``line_items``,
    ``fulfillments`` and ``refund_line_items``), then fulfilments and refunds grouped per order,
    then the order. Tokens derived from ids by a keyed hash (blake2b, which polars cannot
    compute) never change with the clock, so they are hashed once per world."""

    def __init__(self, state: SandboxState, shop: ShopContext | None = None) -> None:
        self.state = state
        self.shop = shop or ShopContext()
        self._tokens: pl.DataFrame | None = None
        self._origin_frame: pl.DataFrame | None = None

    def _order_tokens(self) -> pl.DataFrame:
        if self._tokens is None:
            orders = self.state.world.orders.filter(pl.col("channel_id") == "shopify")
            ids = orders["order_id"].to_list()
            self._tokens = pl.DataFrame(
                {
                    "order_id": orders["order_id"],
                    "_token": [_hex(i, 1) for i in ids],
                    "_cart_token": [_hex(i, 2) for i in ids],
                    "_checkout_token": [_hex(i, 3) for i in ids],
                    "_status_key": [_hex(i, 4) for i in ids],
                    "_confirmation": [_confirmation_number(i) for i in ids],
                }
            )
        return self._tokens

    def _origins(self) -> pl.DataFrame:
        if self._origin_frame is None:
            self._origin_frame = origin_addresses(self.state.world.warehouses)
        return self._origin_frame

    def render(self, orders: pl.DataFrame) -> pl.Series:
        """One JSON order (UTF-8 bytes) per row of ``orders`` (rows of ``orders_view``), in
        row order."""
        return self.render_parts(orders).orders

    def render_parts(self, orders: pl.DataFrame) -> Rendered:
        """The orders as JSON, and the refunds and fulfillments they embed, each on its own
        (see ``Rendered``).

        Rendered in chunks so that the intermediate columns (every line item three times, every
        money pair) stay bounded while a million-order world is rendered."""
        chunks = [
            self._render(orders.slice(start, _CHUNK)) for start in range(0, orders.height, _CHUNK)
        ]
        if not chunks:
            return self._render(orders)
        return Rendered(
            pl.concat([c.orders for c in chunks]),
            pl.concat([c.refunds for c in chunks]),
            pl.concat([c.fulfillments for c in chunks]),
        )

    def _render(self, orders: pl.DataFrame) -> Rendered:
        state = self.state
        if orders.height == 0:
            return Rendered(
                pl.Series("_json", [], pl.Binary),
                pl.DataFrame(schema=_REFUND_ROWS),
                pl.DataFrame(schema=_FULFILLMENT_ROWS),
            )
        currencies = set(orders["currency"].unique()) | set(orders["presentment_currency"].unique())
        ctx = orders.select(
            "order_id",
            "currency",
            "presentment_currency",
            "local_utc_offset_minutes",
            "is_cancelled",
            "discount_kind",
            "tax_title",
            "name",
            "gateway",
            "payment_transaction_id",
            "shipping_line_id",
            "shipping_title",
            "total_shipping_minor",
            "total_shipping_presentment_minor",
            _ss=scale_of(pl.col("currency"), currencies),
            _ps=scale_of(pl.col("presentment_currency"), currencies),
            _sfx=offset_suffix(pl.col("local_utc_offset_minutes")),
        )
        order_ids = orders["order_id"].implode()

        shipments = state.table_as_of("shipments").filter(pl.col("order_id").is_in(order_ids))
        ship_lines = state.table_as_of("shipment_lines").filter(
            pl.col("shipment_id").is_in(shipments["shipment_id"].implode())
        )
        refunds = state.table_as_of("refunds").filter(
            pl.col("order_id").is_in(order_ids), pl.col("kind") != "chargeback"
        )
        refund_lines = state.table_as_of("refund_lines").filter(
            pl.col("refund_id").is_in(refunds["refund_id"].implode())
        )

        lines = self._line_items(orders, ctx, ship_lines, refund_lines)
        fulfillments = _fulfillments(shipments, ship_lines, lines, ctx, self._origins())
        refund_rows, refund_totals = self._refunds(
            refunds, refund_lines, lines, shipments, ship_lines, ctx
        )
        frame = (
            orders.join(
                state.world.customers.select(pl.all().name.prefix("c_")),
                left_on="customer_id",
                right_on="c_customer_id",
                how="left",
                maintain_order="left",
            )
            .join(self._order_tokens(), on="order_id", how="left", maintain_order="left")
            .join(refund_totals, on="order_id", how="left", maintain_order="left")
            .with_columns(
                pl.col(f"_r_{c}").fill_null(0)
                for c in ("sub", "sub_p", "tax", "tax_p", "disc", "disc_p")
            )
            .with_columns(
                _ss=scale_of(pl.col("currency"), currencies),
                _ps=scale_of(pl.col("presentment_currency"), currencies),
                _sfx=offset_suffix(pl.col("local_utc_offset_minutes")),
            )
        )
        frame = attach_arrays(
            frame, arrays(lines, "order_id", "_li", "_line_items"), "order_id", "_line_items"
        )
        frame = attach_arrays(
            frame,
            arrays(fulfillments, "order_id", "_json", "_fulfillments"),
            "order_id",
            "_fulfillments",
        )
        frame = attach_arrays(
            frame, arrays(refund_rows, "order_id", "_json", "_refunds"), "order_id", "_refunds"
        )
        # Bytes, not str: a page is then one ``b",".join`` with no per-record encoding.
        binary = pl.col("_json").cast(pl.Binary)
        return Rendered(
            frame.select(_order_json(self.shop).cast(pl.Binary).alias("_json")).to_series(),
            refund_rows.with_columns(binary),
            fulfillments.with_columns(binary),
        )

    def _line_items(
        self,
        orders: pl.DataFrame,
        ctx: pl.DataFrame,
        ship_lines: pl.DataFrame,
        refund_lines: pl.DataFrame,
    ) -> pl.DataFrame:
        """The orders' lines (contiguous in ``order_lines``) with their JSON in ``_li`` (and
        ``_li_body``: its keys but ``quantity``, without braces)."""
        world = self.state.world
        starts = orders["line_start"].to_numpy()
        counts = orders["line_count"].to_numpy()
        ends = np.cumsum(counts)
        gather = np.repeat(starts - (ends - counts), counts) + np.arange(int(ends[-1]))
        refunded = refund_lines.group_by("line_id").agg(_refunded=pl.col("quantity").sum())
        lines = (
            world.order_lines[gather]
            .drop("currency", "presentment_currency")
            .join(ctx, on="order_id", how="left", maintain_order="left")
            .join(_product_fields(world.products), on="sku", how="left", maintain_order="left")
            .join(refunded, on="line_id", how="left", maintain_order="left")
            .with_columns(
                _shipped=pl.col("line_id").is_in(ship_lines["line_id"].implode()),
                # A column, not a literal: polars divides by a literal as a multiplication by
                # its reciprocal (0.0725 would come out 0.07250000000000001).
                _bp_per_unit=pl.lit(10_000, pl.Int64),
            )
        )
        current = (
            pl.when(pl.col("is_cancelled"))
            .then(0)
            .otherwise(pl.col("quantity") - pl.col("_refunded").fill_null(0))
        )
        tax_line = obj(
            [
                ("channel_liable", False),
                ("price", _fs("tax_minor")),
                ("price_set", _mset("tax_minor", "tax_presentment_minor")),
                ("rate", pl.col("tax_rate_bp") / pl.col("_bp_per_unit")),
                ("title", pl.col("tax_title")),
            ]
        )
        allocation = obj(
            [
                ("amount", _fs("discount_minor")),
                ("amount_set", _mset("discount_minor", "discount_presentment_minor")),
                ("discount_application_index", 0),
            ]
        )
        li = obj(
            [
                ("id", pl.col("line_id")),
                ("admin_graphql_api_id", _gid("LineItem", "line_id")),
                ("attributed_staffs", raw("[]")),
                ("current_quantity", current),
                (
                    "fulfillable_quantity",
                    pl.when(pl.col("_shipped") | pl.col("is_cancelled")).then(0).otherwise(current),
                ),
                ("fulfillment_service", "manual"),
                (
                    "fulfillment_status",
                    pl.when(pl.col("_shipped")).then(pl.lit("fulfilled")).otherwise(None),
                ),
                ("gift_card", False),
                ("grams", pl.col("grams")),
                (
                    "name",
                    pl.concat_str([pl.col("title"), pl.col("variant_title")], separator=" - "),
                ),
                ("price", _fs("unit_price_minor")),
                ("price_set", _mset("unit_price_minor", "unit_price_presentment_minor")),
                ("product_exists", True),
                ("product_id", pl.col("product_id")),
                (
                    "properties",
                    when_raw(
                        truthy(pl.col("engraving")),
                        pl.concat_str(
                            [
                                pl.lit("["),
                                obj([("name", "Engraving"), ("value", pl.col("engraving"))]),
                                pl.lit("]"),
                            ]
                        ),
                        "[]",
                    ),
                ),
                ("requires_shipping", True),
                ("sku", pl.col("sku")),
                ("taxable", True),
                ("title", pl.col("title")),
                ("total_discount", _fs("discount_minor")),
                ("total_discount_set", _mset("discount_minor", "discount_presentment_minor")),
                ("variant_id", pl.col("variant_id")),
                ("variant_inventory_management", "shopify"),
                ("variant_title", pl.col("variant_title")),
                ("vendor", pl.col("vendor")),
                ("tax_lines", when_raw(pl.col("tax_rate_bp") > 0, _array1(tax_line), "[]")),
                ("duties", raw("[]")),
                (
                    "discount_allocations",
                    when_raw(
                        (pl.col("discount_kind") != "none") & (pl.col("discount_minor") > 0),
                        _array1(allocation),
                        "[]",
                    ),
                ),
            ]
        )
        # ``quantity`` last and outside the body: a fulfillment lists the line with the
        # quantity it shipped, and an extra key first (see ``_fulfillments``).
        body = li.str.strip_prefix("{").str.strip_suffix("}")
        return lines.with_columns(_li_body=body).with_columns(
            _li=_with_quantity(pl.lit(""), pl.col("_li_body"), pl.col("quantity"))
        )

    def _refunds(
        self,
        refunds: pl.DataFrame,
        refund_lines: pl.DataFrame,
        lines: pl.DataFrame,
        shipments: pl.DataFrame,
        ship_lines: pl.DataFrame,
        ctx: pl.DataFrame,
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(one row per refund with its JSON in ``_refund``, oldest first per order; refunded
        subtotal/tax/discount per order).

        As Shopify records them: shipping given back is a ``refund_shipping_lines`` entry and a
        ``shipping_refund`` order adjustment; a refund without lines (goodwill) is a
        ``refund_discrepancy`` adjustment. Each refund carries its refund transaction exactly
        as ``transactions.json`` lists it (``payment_id`` numbered after the authorization and
        capture, the payment provider's refund id as ``authorization``); a refund to store
        credit goes to the ``gift_card`` gateway with the card in its receipt. Restocked units
        go back where the line shipped from, else to the home warehouse."""
        restock_type = (
            pl.when(pl.col("kind") == "cancellation")
            .then(pl.lit("cancel"))
            .when(pl.col("restock"))
            .then(pl.lit("return"))
            .otherwise(pl.lit("no_restock"))
        )
        provider_refunds = (
            self.state.table_as_of("payment_refunds")
            .filter(pl.col("refund_id").is_in(refunds["refund_id"].implode()))
            .group_by("refund_id", maintain_order=True)
            .agg(_reference=pl.col("payment_refund_id").first())
        )
        refunds = (
            refunds.drop("currency", "presentment_currency")
            .sort("order_id", "created_at", "refund_id")
            .join(ctx, on="order_id", how="left", maintain_order="left")
            .join(provider_refunds, on="refund_id", how="left", maintain_order="left")
            .with_columns(
                _restock_type=restock_type,
                # Shopify numbers an order's transactions: authorization .1, capture .2, refunds
                # from .3 in the order they were made.
                _sequence=pl.int_range(pl.len(), dtype=pl.Int64).over("order_id") + 3,
                transaction_id=pl.coalesce(
                    "transaction_id", pl.col("refund_id") + _REFUND_TXN_KIND * 10**16
                ),
            )
        )
        # Where each line shipped from (the last shipment listing it, as a dict would keep).
        location_of = (
            ship_lines.join(
                shipments.select("shipment_id", "location_id"), on="shipment_id", how="left"
            )
            .group_by("line_id", maintain_order=True)
            .agg(_location=pl.col("location_id").last())
        )
        warehouses = self.state.world.warehouses
        home = warehouses.filter(pl.col("kind") == "home")["location_id"]
        home_location = pl.lit(home[0] if home.len() else None, pl.Int64)
        rl = (
            refund_lines.drop("order_id")
            .join(
                refunds.select(
                    "refund_id",
                    "order_id",
                    "_restock_type",
                    "currency",
                    "presentment_currency",
                    "_ss",
                    "_ps",
                ),
                on="refund_id",
                how="left",
                maintain_order="left",
            )
            .join(
                lines.select("line_id", "_li", "unit_price_minor", "unit_price_presentment_minor"),
                on="line_id",
                how="left",
                maintain_order="left",
            )
            .join(location_of, on="line_id", how="left", maintain_order="left")
        )
        refund_line = obj(
            [
                ("id", pl.col("refund_line_id")),
                ("line_item_id", pl.col("line_id")),
                (
                    "location_id",
                    pl.when(pl.col("_restock_type") == "no_restock")
                    .then(None)
                    .otherwise(pl.coalesce(pl.col("_location"), home_location)),
                ),
                ("quantity", pl.col("quantity")),
                ("restock_type", pl.col("_restock_type")),
                ("subtotal", pl.col("subtotal_minor") / pl.col("_ss")),
                ("subtotal_set", _mset("subtotal_minor", "subtotal_presentment_minor")),
                ("total_tax", pl.col("tax_minor") / pl.col("_ss")),
                ("total_tax_set", _mset("tax_minor", "tax_presentment_minor")),
                ("line_item", Raw(pl.col("_li"))),
            ]
        )
        rl = rl.with_columns(_rl=refund_line)
        totals = rl.group_by("order_id").agg(
            _r_sub=pl.col("subtotal_minor").sum(),
            _r_sub_p=pl.col("subtotal_presentment_minor").sum(),
            _r_tax=pl.col("tax_minor").sum(),
            _r_tax_p=pl.col("tax_presentment_minor").sum(),
            # The discount share of the refunded units: gross price minus refunded subtotal.
            _r_disc=(
                pl.col("unit_price_minor") * pl.col("quantity") - pl.col("subtotal_minor")
            ).sum(),
            _r_disc_p=(
                pl.col("unit_price_presentment_minor") * pl.col("quantity")
                - pl.col("subtotal_presentment_minor")
            ).sum(),
        )
        refunds = attach_arrays(
            refunds, arrays(rl, "refund_id", "_rl", "_rlines"), "refund_id", "_rlines"
        )
        with_lines = pl.col("refund_id").is_in(rl["refund_id"].implode())
        shipping = with_lines | (pl.col("shipping_minor") != 0)
        amount = pl.when(shipping).then(pl.col("shipping_minor")).otherwise(pl.col("amount_minor"))
        amount_p = (
            pl.when(shipping)
            .then(pl.col("shipping_presentment_minor"))
            .otherwise(pl.col("presentment_amount_minor"))
        )
        adjustment = obj(
            [
                ("id", pl.col("adjustment_id")),
                ("amount", money(-amount, pl.col("_ss"))),
                (
                    "amount_set",
                    money_set(
                        money(-amount, pl.col("_ss")),
                        pl.col("currency"),
                        money(-amount_p, pl.col("_ps")),
                        pl.col("presentment_currency"),
                    ),
                ),
                (
                    "kind",
                    pl.when(shipping)
                    .then(pl.lit("shipping_refund"))
                    .otherwise(pl.lit("refund_discrepancy")),
                ),
                ("order_id", pl.col("order_id")),
                (
                    "reason",
                    pl.when(shipping)
                    .then(pl.lit("Shipping refund"))
                    .otherwise(pl.lit("Refund discrepancy")),
                ),
                ("refund_id", pl.col("refund_id")),
                ("tax_amount", _fs(pl.lit(0))),
                ("tax_amount_set", _zero_set()),
            ]
        )
        shipping_line = obj(
            [
                ("id", pl.col("refund_id") + _REFUND_SHIPPING_KIND * 10**16),
                ("shipping_line_id", pl.col("shipping_line_id")),
                ("subtotal_amount_set", _mset("shipping_minor", "shipping_presentment_minor")),
                ("shipping_line", Raw(_shipping_line())),
            ]
        )
        gift = pl.col("gift_card_id")
        at = _ts("created_at")
        is_return = pl.col("kind") == "return"
        reference = pl.col("_reference")
        unsettled = pl.concat_str(
            [
                pl.lit('{"presentment_money":{"amount":"0.0","currency":"'),
                pl.col("presentment_currency"),
                pl.lit('"},"shop_money":{"amount":"0.0","currency":"'),
                pl.col("currency"),
                pl.lit('"}}'),
            ]
        )
        transaction = obj(
            [
                ("id", pl.col("transaction_id")),
                ("admin_graphql_api_id", _gid("OrderTransaction", "transaction_id")),
                ("amount", _fp("presentment_amount_minor")),
                ("amount_rounding", None),
                ("authorization", pl.when(gift.is_null()).then(reference).otherwise(None)),
                ("created_at", at),
                ("currency", pl.col("presentment_currency")),
                ("currency_exchange_adjustment", None),
                ("device_id", None),
                ("error_code", None),
                (
                    "gateway",
                    pl.when(gift.is_not_null())
                    .then(pl.lit("gift_card"))
                    .otherwise(pl.col("gateway")),
                ),
                ("kind", "refund"),
                ("location_id", None),
                ("manual_payment_gateway", False),
                ("message", pl.when(is_return).then(pl.lit("Refund processed")).otherwise(None)),
                ("order_id", pl.col("order_id")),
                ("parent_id", pl.col("payment_transaction_id")),
                (
                    "payment_id",
                    pl.concat_str([pl.col("name"), pl.lit("."), pl.col("_sequence")]),
                ),
                ("processed_at", at),
                (
                    "receipt",
                    Raw(
                        pl.when(gift.is_not_null())
                        .then(
                            obj(
                                [
                                    ("gift_card_id", gift),
                                    # f"{id:x}"[-4:]: ids are 64-bit, so always four digits.
                                    ("gift_card_last_characters", hex_digits(gift, 4)),
                                ]
                            )
                        )
                        .when(reference.is_not_null())
                        .then(obj([("testcase", False), ("authorization", reference)]))
                        .otherwise(pl.lit("{}"))
                    ),
                ),
                ("source_name", "web"),
                ("status", "success"),
                ("test", False),
                ("total_unsettled_set", Raw(unsettled)),
                ("user_id", None),
            ]
        )
        refund = obj(
            [
                ("id", pl.col("refund_id")),
                ("admin_graphql_api_id", _gid("Refund", "refund_id")),
                ("created_at", at),
                ("note", pl.col("note")),
                ("order_id", pl.col("order_id")),
                ("processed_at", at),
                ("restock", pl.col("restock")),
                ("return", None),
                ("total_additional_fees_set", _zero_set()),
                ("total_duties_set", _zero_set()),
                (
                    "user_id",
                    pl.when(is_return).then(pl.lit(_STAFF_USER_ID)).otherwise(None),
                ),
                (
                    "order_adjustments",
                    when_raw(pl.col("adjustment_id").is_not_null(), _array1(adjustment), "[]"),
                ),
                (
                    "refund_shipping_lines",
                    when_raw(pl.col("shipping_minor") > 0, _array1(shipping_line), "[]"),
                ),
                ("transactions", Raw(_array1(transaction))),
                ("refund_line_items", Raw(pl.col("_rlines"))),
                ("duties", raw("[]")),
                ("additional_fees", raw("[]")),
            ]
        )
        rows = refunds.select("order_id", "refund_id", _json=refund)
        return rows, totals


def _fulfillments(
    shipments: pl.DataFrame,
    ship_lines: pl.DataFrame,
    lines: pl.DataFrame,
    ctx: pl.DataFrame,
    origins: pl.DataFrame,
) -> pl.DataFrame:
    """One row per shipment visible at the clock, with its JSON in ``_json`` and its
    ``_created_at``/``_updated_at`` instants (UTC, for the endpoint's filters), in the order
    Shopify lists an order's fulfillments: oldest first, named ``#1001.1``, ``#1001.2``...

    Each lists its order lines with the quantity it shipped and the id of that fulfillment
    line. ``shipment_status`` and ``updated_at`` move only with the parcel's outcome, an order
    event that also moves the order's ``updated_at``, so an incremental reader never misses
    a change."""
    line_item = ship_lines.join(
        lines.select("line_id", "_li_body"), on="line_id", how="inner", maintain_order="left"
    ).with_columns(
        _fli=(
            mix(mix(pl.col("shipment_id"), 21) + pl.col("line_id").cast(pl.UInt64), 22)
            % pl.lit(10**17, pl.UInt64)
        ).cast(pl.Int64)
        + _FULFILLMENT_LINE_BASE
    )
    items = arrays(
        line_item.sort("shipment_id", "line_id").with_columns(
            _item=_with_quantity(
                pl.concat_str(
                    [
                        pl.lit('"fulfillment_line_item_id":'),
                        pl.col("_fli").cast(pl.String),
                        pl.lit(","),
                    ]
                ),
                pl.col("_li_body"),
                pl.col("quantity"),
            )
        ),
        "shipment_id",
        "_item",
        "_items",
    )
    frame = attach_arrays(
        shipments.join(ctx, on="order_id", how="left", maintain_order="left")
        .join(origins, on="warehouse_code", how="left", maintain_order="left")
        .sort("order_id", "shipped_at", "shipment_id")
        .with_columns(_n=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("order_id")),
        items,
        "shipment_id",
        "_items",
    )
    shipped = _ts("shipped_at")
    updated = pl.coalesce(pl.col("outcome_at"), pl.col("shipped_at"))
    fulfillment = obj(
        [
            ("id", pl.col("shipment_id")),
            ("admin_graphql_api_id", _gid("Fulfillment", "shipment_id")),
            ("created_at", shipped),
            ("location_id", pl.col("location_id")),
            ("name", pl.concat_str([pl.col("name"), pl.lit("."), pl.col("_n")])),
            ("order_id", pl.col("order_id")),
            ("origin_address", Raw(pl.col("_origin").fill_null("null"))),
            (
                "receipt",
                Raw(
                    obj(
                        [
                            ("testcase", False),
                            ("authorization", pl.col("shipment_id").cast(pl.String).str.slice(-6)),
                        ]
                    )
                ),
            ),
            ("service", "manual"),
            (
                "shipment_status",
                pl.col("outcome")
                .replace_strict(_SHIPMENT_STATUS, default="in_transit", return_dtype=pl.String)
                .fill_null("in_transit"),
            ),
            ("status", "success"),
            ("tracking_company", pl.col("carrier")),
            ("tracking_number", pl.col("tracking_number")),
            ("tracking_numbers", pl.concat_list([pl.col("tracking_number")])),
            ("tracking_url", pl.col("tracking_url")),
            ("tracking_urls", pl.concat_list([pl.col("tracking_url")])),
            ("updated_at", _ts(updated)),
            ("line_items", Raw(pl.col("_items"))),
        ]
    )
    return frame.select(
        "order_id",
        "shipment_id",
        _created_at=pl.col("shipped_at"),
        _updated_at=updated,
        _json=fulfillment,
    )


def origin_addresses(warehouses: pl.DataFrame) -> pl.DataFrame:
    """``warehouse_code`` -> the ``origin_address`` JSON of a fulfillment shipped from it."""
    rendered = []
    for w in warehouses.iter_rows(named=True):
        known = WAREHOUSE_ADDRESSES.get(w.get("city") or "", (None, None, None))
        address = {
            "address1": w.get("address1") or known[0] or w.get("name"),
            "city": w.get("city"),
            "zip": w.get("postal_code") or known[1],
            "province_code": w.get("province_code") or known[2],
            "country_code": w.get("country_code"),
        }
        rendered.append(orjson.dumps(address).decode())
    return pl.DataFrame(
        {"warehouse_code": warehouses["code"], "_origin": rendered},
        schema={"warehouse_code": pl.String, "_origin": pl.String},
    )


def _order_json(shop: ShopContext) -> pl.Expr:
    """The order object over a frame of orders joined with their customer (``c_*``), tokens,
    refunded totals (``_r_*``) and rendered arrays."""
    number = pl.col("order_number")
    cancelled = pl.col("is_cancelled")
    draft = number % 10 == 0
    referrer = (number % len(_REFERRERS)).replace_strict(
        dict(enumerate(_REFERRERS)), return_dtype=pl.String
    )
    gift = truthy(pl.col("gift_message"))
    phone = pl.col("c_phone")
    marketing = pl.col("c_accepts_marketing")
    created = _ts("created_at")
    customer_created = _ts("c_created_at")

    def current(total: str, refunded: str) -> pl.Expr:
        return pl.when(cancelled).then(0).otherwise(pl.col(total) - pl.col(refunded))

    cur_sub = current("subtotal_price_minor", "_r_sub")
    cur_sub_p = current("subtotal_price_presentment_minor", "_r_sub_p")
    cur_tax = current("total_tax_minor", "_r_tax")
    cur_tax_p = current("total_tax_presentment_minor", "_r_tax_p")
    cur_disc = current("total_discounts_minor", "_r_disc")
    cur_disc_p = current("total_discounts_presentment_minor", "_r_disc_p")
    cur_total = current("total_price_minor", "shopify_refunded_minor")
    cur_total_p = current("total_price_presentment_minor", "shopify_refunded_presentment_minor")
    outstanding = (
        pl.when(pl.col("is_paid") | cancelled).then(0).otherwise(pl.col("total_price_minor"))
    )
    full_name = pl.concat_str([pl.col("c_first_name"), pl.col("c_last_name")], separator=" ")
    address = obj(
        [
            ("first_name", pl.col("c_first_name")),
            ("address1", pl.col("c_address1")),
            ("phone", phone),
            ("city", pl.col("c_city")),
            ("zip", pl.col("c_postal_code")),
            ("province", pl.col("c_province")),
            ("country", pl.col("c_country")),
            ("last_name", pl.col("c_last_name")),
            ("address2", pl.col("c_address2")),
            ("company", None),
            ("latitude", pl.col("c_latitude")),
            ("longitude", pl.col("c_longitude")),
            ("name", full_name),
            ("country_code", pl.col("c_country_code")),
            ("province_code", pl.col("c_province_code")),
        ]
    )
    sms_consent = obj(
        [
            ("state", "not_subscribed"),
            ("opt_in_level", "single_opt_in"),
            ("consent_updated_at", customer_created),
            ("consent_collected_from", "OTHER"),
        ]
    )
    customer = obj(
        [
            ("id", pl.col("customer_id")),
            ("email", pl.col("c_email")),
            ("created_at", customer_created),
            ("updated_at", _ts(pl.max_horizontal("c_created_at", "created_at"))),
            ("first_name", pl.col("c_first_name")),
            ("last_name", pl.col("c_last_name")),
            ("state", "enabled"),
            ("note", None),
            ("verified_email", True),
            ("multipass_identifier", None),
            ("tax_exempt", False),
            ("phone", phone),
            (
                "email_marketing_consent",
                Raw(
                    obj(
                        [
                            (
                                "state",
                                pl.when(marketing)
                                .then(pl.lit("subscribed"))
                                .otherwise(pl.lit("not_subscribed")),
                            ),
                            (
                                "opt_in_level",
                                pl.when(marketing).then(pl.lit("single_opt_in")).otherwise(None),
                            ),
                            (
                                "consent_updated_at",
                                pl.when(marketing).then(customer_created).otherwise(None),
                            ),
                        ]
                    )
                ),
            ),
            ("sms_marketing_consent", when_raw(truthy(phone), sms_consent, "null")),
            ("tags", ""),
            ("currency", pl.col("presentment_currency")),
            ("tax_exemptions", raw("[]")),
            ("admin_graphql_api_id", _gid("Customer", "customer_id")),
            (
                "default_address",
                Raw(
                    obj(
                        [
                            ("id", pl.col("c_default_address_id")),
                            ("customer_id", pl.col("customer_id")),
                            ("first_name", pl.col("c_first_name")),
                            ("last_name", pl.col("c_last_name")),
                            ("company", None),
                            ("address1", pl.col("c_address1")),
                            ("address2", pl.col("c_address2")),
                            ("city", pl.col("c_city")),
                            ("province", pl.col("c_province")),
                            ("country", pl.col("c_country")),
                            ("zip", pl.col("c_postal_code")),
                            ("phone", phone),
                            ("name", full_name),
                            ("province_code", pl.col("c_province_code")),
                            ("country_code", pl.col("c_country_code")),
                            ("country_name", pl.col("c_country")),
                            ("default", True),
                        ]
                    )
                ),
            ),
        ]
    )

    # Discounts: percentages are stored in basis points, fixed amounts in shop-currency cents.
    kind = pl.col("discount_kind")
    percentage = kind.str.ends_with("percentage")
    automatic = kind.str.starts_with("automatic")
    value = pl.col("discount_value")
    percent_text = pl.concat_str(
        [(value // 100).cast(pl.String), pl.lit("."), ((value % 100) // 10).cast(pl.String)]
    )
    value_str = pl.when(percentage).then(percent_text).otherwise(_fs("discount_value"))
    value_type = pl.when(percentage).then(pl.lit("percentage")).otherwise(pl.lit("fixed_amount"))
    common = [
        ("target_type", "line_item"),
        (
            "type",
            pl.when(automatic).then(pl.lit("automatic")).otherwise(pl.lit("discount_code")),
        ),
        ("value", value_str),
        ("value_type", value_type),
        ("allocation_method", "across"),
        ("target_selection", "all"),
    ]
    automatic_app = obj(
        [
            *common,
            ("title", pl.col("discount_code")),
            (
                "description",
                pl.concat_str(
                    [pl.col("discount_code"), pl.lit(": "), value_str, pl.lit("% off everything")]
                ),
            ),
        ]
    )
    code_app = obj([*common, ("code", pl.col("discount_code"))])
    code = obj(
        [
            ("code", pl.col("discount_code")),
            ("amount", _fs("total_discounts_minor")),
            ("type", value_type),
        ]
    )
    has_discount = kind != "none"
    discount_codes = when_raw(has_discount & ~automatic, _array1(code), "[]")
    discount_applications = Raw(
        pl.when(~has_discount)
        .then(pl.lit("[]"))
        .when(automatic)
        .then(_array1(automatic_app))
        .otherwise(_array1(code_app))
    )
    tax_line = obj(
        [
            ("price", _fs("total_tax_minor")),
            ("rate", pl.col("tax_rate")),
            ("title", pl.col("tax_title")),
            ("price_set", _mset("total_tax_minor", "total_tax_presentment_minor")),
            ("channel_liable", False),
        ]
    )
    ship_set = _mset("total_shipping_minor", "total_shipping_presentment_minor")
    shipping_line = _shipping_line()
    zero_set = _zero_set()
    return obj(
        [
            ("id", pl.col("order_id")),
            ("admin_graphql_api_id", _gid("Order", "order_id")),
            ("app_id", _ONLINE_STORE_APP_ID),
            ("browser_ip", pl.col("browser_ip")),
            ("buyer_accepts_marketing", marketing),
            ("cancel_reason", pl.when(cancelled).then(pl.col("cancel_reason")).otherwise(None)),
            ("cancelled_at", pl.when(cancelled).then(_ts("cancelled_at")).otherwise(None)),
            ("cart_token", pl.col("_cart_token")),
            ("checkout_id", pl.col("checkout_id")),
            ("checkout_token", pl.col("_checkout_token")),
            (
                "client_details",
                Raw(
                    obj(
                        [
                            ("accept_language", pl.col("c_language")),
                            ("browser_height", None),
                            ("browser_ip", pl.col("browser_ip")),
                            ("browser_width", None),
                            ("session_hash", None),
                            ("user_agent", _USER_AGENT),
                        ]
                    )
                ),
            ),
            ("closed_at", _ts("closed_at")),
            ("confirmation_number", pl.col("_confirmation")),
            ("confirmed", True),
            ("contact_email", pl.col("c_email")),
            ("created_at", created),
            ("currency", pl.col("currency")),
            ("current_subtotal_price", _fs(cur_sub)),
            ("current_subtotal_price_set", _mset(cur_sub, cur_sub_p)),
            ("current_total_additional_fees_set", None),
            ("current_total_discounts", _fs(cur_disc)),
            ("current_total_discounts_set", _mset(cur_disc, cur_disc_p)),
            ("current_total_duties_set", None),
            ("current_total_price", _fs(cur_total)),
            ("current_total_price_set", _mset(cur_total, cur_total_p)),
            ("current_total_tax", _fs(cur_tax)),
            ("current_total_tax_set", _mset(cur_tax, cur_tax_p)),
            ("customer_locale", pl.col("c_language")),
            ("device_id", None),
            ("discount_codes", discount_codes),
            ("duties_included", False),
            ("email", pl.col("c_email")),
            ("estimated_taxes", False),
            ("financial_status", pl.col("financial_status")),
            ("fulfillment_status", pl.col("fulfillment_status")),
            (
                "landing_site",
                pl.when(referrer.is_null())
                .then(pl.lit("/products?utm_source=newsletter"))
                .otherwise(pl.lit("/")),
            ),
            (
                "landing_site_ref",
                pl.when(referrer.is_null()).then(pl.lit("newsletter")).otherwise(None),
            ),
            ("location_id", None),
            ("merchant_business_entity_id", shop.business_entity_id),
            ("merchant_of_record_app_id", None),
            ("name", pl.col("name")),
            (
                "note",
                pl.when(number % 17 == 0)
                .then(pl.lit("Please leave the parcel with a neighbour"))
                .otherwise(None),
            ),
            (
                "note_attributes",
                when_raw(
                    gift,
                    _array1(obj([("name", "gift_message"), ("value", pl.col("gift_message"))])),
                    "[]",
                ),
            ),
            ("number", number - 1000),
            ("order_number", number),
            (
                "order_status_url",
                pl.concat_str(
                    [
                        pl.lit(f"https://{shop.domain}/{shop.shop_id}/orders/"),
                        pl.col("_token"),
                        pl.lit("/authenticate?key="),
                        pl.col("_status_key"),
                    ]
                ),
            ),
            ("original_total_additional_fees_set", None),
            ("original_total_duties_set", None),
            ("payment_gateway_names", pl.concat_list([pl.col("gateway")])),
            ("phone", phone),
            (
                "po_number",
                pl.when(number % 50 == 0)
                .then(pl.concat_str([pl.lit("PO-"), number]))
                .otherwise(None),
            ),
            ("presentment_currency", pl.col("presentment_currency")),
            ("processed_at", created),
            (
                "reference",
                pl.when(draft).then(pl.concat_str([pl.lit("D"), number])).otherwise(None),
            ),
            ("referring_site", referrer),
            (
                "source_identifier",
                pl.when(draft).then(pl.concat_str([pl.lit("D"), number])).otherwise(None),
            ),
            (
                "source_name",
                pl.when(draft).then(pl.lit("shopify_draft_order")).otherwise(pl.lit("web")),
            ),
            ("source_url", None),
            ("subtotal_price", _fs("subtotal_price_minor")),
            (
                "subtotal_price_set",
                _mset("subtotal_price_minor", "subtotal_price_presentment_minor"),
            ),
            ("tags", pl.when(gift).then(pl.lit("gift")).otherwise(pl.lit(""))),
            ("tax_exempt", False),
            ("tax_lines", when_raw(pl.col("tax_rate") > 0, _array1(tax_line), "[]")),
            ("taxes_included", False),
            ("test", False),
            ("token", pl.col("_token")),
            ("total_cash_rounding_payment_adjustment_set", zero_set),
            ("total_cash_rounding_refund_adjustment_set", zero_set),
            ("total_discounts", _fs("total_discounts_minor")),
            (
                "total_discounts_set",
                _mset("total_discounts_minor", "total_discounts_presentment_minor"),
            ),
            ("total_line_items_price", _fs("total_line_items_price_minor")),
            (
                "total_line_items_price_set",
                _mset("total_line_items_price_minor", "total_line_items_price_presentment_minor"),
            ),
            ("total_outstanding", _fs(outstanding)),
            ("total_price", _fs("total_price_minor")),
            ("total_price_set", _mset("total_price_minor", "total_price_presentment_minor")),
            ("total_shipping_price_set", ship_set),
            ("total_tax", _fs("total_tax_minor")),
            ("total_tax_set", _mset("total_tax_minor", "total_tax_presentment_minor")),
            ("total_tip_received", _fs(pl.lit(0))),
            ("total_weight", pl.col("total_weight_grams")),
            ("updated_at", _ts("updated_at")),
            ("user_id", None),
            ("billing_address", Raw(address)),
            ("customer", Raw(customer)),
            ("discount_applications", discount_applications),
            ("fulfillments", Raw(pl.col("_fulfillments"))),
            ("line_items", Raw(pl.col("_line_items"))),
            ("payment_terms", None),
            ("refunds", Raw(pl.col("_refunds"))),
            ("shipping_address", Raw(address)),
            ("shipping_lines", Raw(_array1(shipping_line))),
        ]
    )


# Column helpers over frames carrying the order's ``currency``/``presentment_currency``, their
# scales ``_ss``/``_ps``, ``local_utc_offset_minutes`` and its suffix ``_sfx``.


def _product_fields(products: pl.DataFrame) -> pl.DataFrame:
    return products.select(
        "sku", "title", "variant_title", "vendor", "product_id", "variant_id", grams="weight_g"
    )


def _col(c: str | pl.Expr) -> pl.Expr:
    return pl.col(c) if isinstance(c, str) else c


def _fs(c: str | pl.Expr) -> pl.Expr:
    return money(_col(c), pl.col("_ss"))


def _fp(c: str | pl.Expr) -> pl.Expr:
    return money(_col(c), pl.col("_ps"))


def _mset(shop: str | pl.Expr, pres: str | pl.Expr) -> Raw:
    return money_set(_fs(shop), pl.col("currency"), _fp(pres), pl.col("presentment_currency"))


def _zero_set() -> Raw:
    return _mset(pl.lit(0), pl.lit(0))


def _ts(c: str | pl.Expr) -> pl.Expr:
    return local_time(_col(c), pl.col("local_utc_offset_minutes"), pl.col("_sfx"))


def _gid(kind: str, c: str) -> pl.Expr:
    return pl.concat_str([pl.lit(f"gid://shopify/{kind}/"), pl.col(c)])


def _shipping_line() -> pl.Expr:
    """The order's shipping line (over a frame with the order's shipping columns): in the
    order's ``shipping_lines`` and in each refund that gives shipping back."""
    ship_set = _mset("total_shipping_minor", "total_shipping_presentment_minor")
    return obj(
        [
            ("id", pl.col("shipping_line_id")),
            ("carrier_identifier", None),
            ("code", pl.col("shipping_title")),
            ("discounted_price", _fs("total_shipping_minor")),
            ("discounted_price_set", ship_set),
            ("is_removed", False),
            ("phone", None),
            ("price", _fs("total_shipping_minor")),
            ("price_set", ship_set),
            ("requested_fulfillment_service_id", None),
            ("source", "shopify"),
            ("title", pl.col("shipping_title")),
            ("tax_lines", raw("[]")),
            ("discount_allocations", raw("[]")),
        ]
    )


def _with_quantity(head: pl.Expr, body: pl.Expr, quantity: pl.Expr) -> pl.Expr:
    """A line item object: ``head`` keys (``"k":v,`` text, or empty), the body's keys, then
    ``quantity``."""
    return pl.concat_str(
        [pl.lit("{"), head, body, pl.lit(',"quantity":'), quantity.cast(pl.String), pl.lit("}")]
    )


def _array1(element: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("["), element, pl.lit("]")])
