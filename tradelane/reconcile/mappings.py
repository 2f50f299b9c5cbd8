"""Which ledger rows each raw table must hold, per source and entity, and in which columns.

Each ``Entity`` gives both sides of one comparison as frames with the same columns: ``key`` (the
id exactly as the API serves it, as text, which is also how ``malformed_records`` lists it) and
the compared values, normalised so that equality means exact agreement:

- money: an integer of ten-thousandths (``*_e4``) beside its ISO currency. Raw amounts are
  ``DECIMAL(18,4)``, so ``amount * 10000`` is exact; ledger minor units are scaled by the
  currency's ISO exponent. 19.99 USD is 199900 on both sides, or it is a difference.
- timestamps: UTC, truncated to the second (every API here prints whole seconds).
- ids: text, so 64-bit ids are never squeezed through a double.

``parent`` names the list a row is fetched through (a Shopify order's line items come with the
order): when the parent is served malformed and quarantined, its children are never fetched, so
reconcile expects them in neither table. A Shopify order's finance records (refunds,
fulfillments, their lines, and transactions read through a bulk operation) are loaded even when
the order is quarantined, so they have no parent. This is the ``raw`` layer; the ``mart`` layer
compares totals instead (``mart.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ingestion.common.currencies import ISO_MINOR_UNITS_NOT_2
from tradelane.reconcile.ledger import Ledger

# Ledger minor units -> ten-thousandths, per currency (two decimals unless ISO says otherwise).
_E4_FACTOR = {code: 10 ** (4 - units) for code, units in ISO_MINOR_UNITS_NOT_2.items()}


def e4(minor: str | pl.Expr, currency: str) -> pl.Expr:
    """Ledger minor units of ``currency`` as ten-thousandths of the major unit."""
    amount = pl.col(minor) if isinstance(minor, str) else minor
    factor = pl.col(currency).replace_strict(_E4_FACTOR, default=100, return_dtype=pl.Int64)
    return amount.cast(pl.Int64) * factor


def sql_e4(column: str) -> str:
    """A raw ``DECIMAL(18,4)`` amount as exact ten-thousandths."""
    return f"cast({column} * 10000 as bigint)"


def seconds(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1s")


def sql_seconds(column: str) -> str:
    return f"date_trunc('second', {column})"


@dataclass(frozen=True)
class Entity:
    """One raw table against the ledger rows it must hold."""

    source: str  # dataset raw_<source>
    table: str  # raw table
    raw_sql: str  # SELECT key, <compared columns> FROM {dataset}.<table>
    expected: Callable[[Ledger], pl.DataFrame]  # key, <compared columns>[, parent]
    served_as: tuple[str, str] | None = None  # (api, entity) in malformed_records
    quarantine_entities: tuple[str, ...] = ()  # the connector's names in its quarantine
    id_paths: tuple[str, ...] = ()  # where a quarantined payload keeps the id
    parent: tuple[str, str] | None = None  # (api, entity) the rows are fetched through
    # Keys whose malformed copy is quarantined while a clean copy of the same record, served
    # in another list, loads anyway (a refund's transaction is in the refund and in the
    # order's transactions): expected both in the quarantine and in the raw table.
    also_loaded: Callable[[Ledger], set[str]] | None = None
    money: tuple[tuple[str, str], ...] = ()  # (e4 column, currency column), for printing
    # Raw rows outside the ledger's coverage (the ECB's real history before the world).
    raw_filter: Callable[[Ledger], str] | None = None
    # Listed malformed records the connector takes from another list, clean (a Shopify refund's
    # transaction comes inside the order's refund too): expected loaded, not quarantined.
    served_elsewhere: Callable[[Ledger], set[str]] | None = None
    # The entity as the connector is configured to fetch it (Shopify's transactions come from a
    # bulk operation or from a request per order), resolved when reconcile runs.
    configure: Callable[[Entity], Entity] | None = None

    def configured(self) -> Entity:
        return self if self.configure is None else self.configure(self)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"

    def raw_query(self, ledger: Ledger) -> str:
        sql = self.raw_sql.format(dataset=f"raw_{self.source}")
        if self.raw_filter is not None:
            sql = f"select * from ({sql}) where {self.raw_filter(ledger)}"
        return sql


def _shopify_orders(ledger: Ledger) -> pl.DataFrame:
    return ledger("orders").filter(pl.col("channel_id") == "shopify")


def _amazon_orders(ledger: Ledger) -> pl.DataFrame:
    return ledger("orders").filter(pl.col("channel_id").str.starts_with("amazon"))


def _key(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).alias("key")


def _shopify_order_rows(ledger: Ledger) -> pl.DataFrame:
    return _shopify_orders(ledger).select(
        _key("order_id"),
        seconds("created_at").alias("created_at"),
        # A late update missed by the connector's lookback shows here.
        seconds("updated_at").alias("updated_at"),
        seconds("cancelled_at").alias("cancelled_at"),
        seconds("closed_at").alias("closed_at"),
        "financial_status",
        "fulfillment_status",
        "currency",
        e4("total_line_items_price_minor", "currency").alias("total_line_items_price_e4"),
        e4("total_shipping_minor", "currency").alias("total_shipping_price_e4"),
        e4("total_price_minor", "currency").alias("total_price_e4"),
        e4("subtotal_price_minor", "currency").alias("subtotal_price_e4"),
        e4("total_tax_minor", "currency").alias("total_tax_e4"),
        e4("total_discounts_minor", "currency").alias("total_discounts_e4"),
        "presentment_currency",
        e4("total_price_presentment_minor", "presentment_currency").alias(
            "presentment_total_price_e4"
        ),
    )


def _lines_of(orders: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    ids = orders.select("order_id", "external_order_id")
    return ledger("order_lines").join(ids, on="order_id", how="inner")


def _shopify_line_rows(ledger: Ledger) -> pl.DataFrame:
    return _lines_of(_shopify_orders(ledger), ledger).select(
        _key("line_id"),
        pl.col("order_id").cast(pl.String).alias("order_id"),
        "sku",
        pl.col("quantity").cast(pl.Int64),
        "currency",
        e4("unit_price_minor", "currency").alias("price_e4"),
        pl.col("order_id").cast(pl.String).alias("parent"),
    )


def _shopify_view(ledger: Ledger) -> Any:
    """The Shopify finance renderers over this ledger (their ids are derived there)."""
    from ingestion.sandbox.stripe_ledger import LedgerView

    class _State:
        now = ledger.now

        @staticmethod
        def table_as_of(name: str) -> pl.DataFrame:
            return ledger(name)

    return LedgerView(_State())


def shopify_transaction_rows(ledger: Ledger, order_ids: pl.Series | None = None) -> pl.DataFrame:
    """Shopify's transactions of its orders (or of ``order_ids``) as its API renders them."""
    from ingestion.sandbox import shopify_finance_objects as sfo

    view = _shopify_view(ledger)
    rows = []
    ids = _shopify_orders(ledger)["order_id"] if order_ids is None else order_ids
    for order_id in ids:
        bundle = sfo.load_order(view, order_id)
        for t in sfo.render_transactions(bundle) if bundle is not None else ():
            amount_e4 = int(Decimal(t["amount"]).scaleb(4))
            rows.append((str(t["id"]), str(order_id), t["kind"], t["currency"], amount_e4))
    columns = ["key", "order_id", "kind", "currency", "amount_e4"]
    frame = pl.DataFrame(rows, schema=columns, orient="row")
    return frame.with_columns(pl.col("order_id").alias("parent"))


def _malformed_ids(ledger: Ledger, api: str, entity: str) -> pl.Series:
    """Ids (as int64) of one list's records the ledger lists as served malformed."""
    listed = ledger("malformed_records").filter(
        (pl.col("api") == api) & (pl.col("entity") == entity)
    )
    return listed["record_id"].cast(pl.Int64, strict=False).drop_nulls()


def _shopify_refunds(ledger: Ledger) -> pl.DataFrame:
    """The Shopify orders' refunds (a chargeback is a dispute on Shopify, never a refund)."""
    orders = _shopify_orders(ledger).select("order_id", "currency")
    return ledger("refunds").filter(pl.col("kind") != "chargeback").join(orders, on="order_id")


def _shopify_transactions_as_configured(entity: Entity) -> Entity:
    """Transactions read through a bulk operation (the default) are listed malformed under
    ``shopify_graphql`` and loaded whatever became of their order; read one request per order
    (``rest``), they are the per-order list's, and an order served without a usable id has
    none read."""
    import dataclasses

    from ingestion.shopify.settings import configured_transactions_via

    if configured_transactions_via() == "rest":
        return dataclasses.replace(entity, configure=None)
    return dataclasses.replace(
        entity,
        served_as=("shopify_graphql", "transactions"),
        parent=None,
        configure=None,
        # The connector keeps the copy a clean refund carries; that bulk copy is not used.
        also_loaded=None,
        served_elsewhere=_refund_transactions_in_clean_refunds,
    )


def _shopify_refund_rows(ledger: Ledger) -> pl.DataFrame:
    return _shopify_refunds(ledger).select(
        _key("refund_id"),
        pl.col("order_id").cast(pl.String),
        seconds("created_at").alias("created_at"),
        pl.col("order_id").cast(pl.String).alias("parent"),
    )


def _shopify_refund_line_rows(ledger: Ledger) -> pl.DataFrame:
    """Lines of refunds served clean in their order: a malformed refund is quarantined whole,
    its lines with it (the quarantine row of the refund is what reconcile expects)."""
    refunds = _shopify_refunds(ledger).select("refund_id", "order_id", "currency")
    refunds = refunds.filter(
        ~pl.col("refund_id").is_in(_malformed_ids(ledger, "shopify", "refunds").implode())
    )
    return (
        ledger("refund_lines")
        .join(refunds, on="refund_id", how="inner")
        .select(
            _key("refund_line_id"),
            pl.col("refund_id").cast(pl.String),
            pl.col("line_id").cast(pl.String).alias("line_item_id"),
            pl.col("quantity").cast(pl.Int64),
            "currency",
            e4("subtotal_minor", "currency").alias("subtotal_e4"),
            e4("tax_minor", "currency").alias("total_tax_e4"),
            pl.col("order_id").cast(pl.String).alias("parent"),
        )
    )


def _shopify_shipments(ledger: Ledger) -> pl.DataFrame:
    orders = _shopify_orders(ledger).select("order_id")
    return (
        ledger("shipments")
        .filter(pl.col("shipped_at").is_not_null())
        .join(orders, on="order_id", how="semi")
    )


def _shopify_fulfillment_line_rows(ledger: Ledger) -> pl.DataFrame:
    """Lines of fulfillments served clean in their order (a malformed fulfillment is
    quarantined whole, its lines with it)."""
    shipments = _shopify_shipments(ledger).filter(
        ~pl.col("shipment_id").is_in(_malformed_ids(ledger, "shopify", "fulfillments").implode())
    )
    return (
        ledger("shipment_lines")
        .join(shipments.select("shipment_id", "order_id"), on="shipment_id", how="inner")
        .select(
            pl.concat_str(
                pl.col("shipment_id").cast(pl.String),
                pl.lit(":"),
                pl.col("line_id").cast(pl.String),
            ).alias("key"),
            pl.col("quantity").cast(pl.Int64),
            pl.col("order_id").cast(pl.String).alias("parent"),
        )
    )


def _shopify_fulfillment_rows(ledger: Ledger) -> pl.DataFrame:
    return _shopify_shipments(ledger).select(
        _key("shipment_id"),
        pl.col("order_id").cast(pl.String),
        "tracking_number",
        pl.col("order_id").cast(pl.String).alias("parent"),
    )


def _refund_transactions_in_clean_refunds(ledger: Ledger) -> set[str]:
    """Refund transactions the connector also reads from their refund in the order: when the
    transactions list serves one malformed, the copy in a refund served clean still loads."""
    from ingestion.sandbox.shopify import _REFUND_TXN_KIND

    refunds = _shopify_refunds(ledger).filter(
        ~pl.col("refund_id").is_in(_malformed_ids(ledger, "shopify", "refunds").implode())
    )
    ids = refunds.select(
        pl.coalesce("transaction_id", pl.col("refund_id") + _REFUND_TXN_KIND * 10**16)
    )
    return set(ids.to_series().cast(pl.String))


def _shopify_payout_rows(ledger: Ledger) -> pl.DataFrame:
    from ingestion.sandbox import shopify_finance_objects as sfo

    payouts = ledger("payouts").filter(pl.col("provider") == "stripe")
    return payouts.select(
        sfo.payout_ids(payouts["payout_id"], payouts["created_at"]).cast(pl.String).alias("key"),
        "currency",
        e4("amount_minor", "currency").alias("amount_e4"),
    )


def _amazon_order_rows(ledger: Ledger) -> pl.DataFrame:
    # Amazon shows no OrderTotal on a cancelled order.
    cancelled = pl.col("cancelled_at").is_not_null()
    return _amazon_orders(ledger).select(
        _key("external_order_id"),
        seconds("created_at").alias("purchase_date"),
        pl.when(cancelled).then(None).otherwise(pl.col("currency")).alias("order_total_currency"),
        pl.when(cancelled)
        .then(None)
        .otherwise(e4("total_price_minor", "currency"))
        .alias("order_total_e4"),
    )


def _amazon_item_rows(ledger: Ledger) -> pl.DataFrame:
    """Every Amazon order line, keyed by its OrderItemId (``amazon_render.order_item_id``) as
    getOrderItems serves it."""
    from ingestion.sandbox.amazon_render import is_pending

    now = pl.lit(ledger.now).cast(pl.Datetime("us", "UTC"))
    cancelled = pl.col("cancelled_at").is_not_null() & (pl.col("cancelled_at") <= now)
    orders = _amazon_orders(ledger).select(
        "order_id",
        "external_order_id",
        # ItemPrice is the whole line's price; a Pending order's items carry no prices (a
        # cancelled order is Canceled, not Pending, and its items keep theirs).
        priced=cancelled | ~is_pending(now),
    )
    lines = ledger("order_lines").join(orders, on="order_id", how="inner")
    priced = pl.col("priced")
    line_price = pl.col("unit_price_minor") * pl.col("quantity")
    return lines.select(
        (pl.col("line_id") % 10**14).cast(pl.String).str.zfill(14).alias("key"),
        pl.col("external_order_id").alias("amazon_order_id"),
        pl.col("sku").alias("seller_sku"),
        pl.col("quantity").cast(pl.Int64).alias("quantity_ordered"),
        pl.when(priced).then(pl.col("currency")).alias("item_price_currency"),
        pl.when(priced).then(e4(line_price, "currency")).alias("item_price_e4"),
        pl.when(priced).then(e4("tax_minor", "currency")).alias("item_tax_e4"),
        pl.col("external_order_id").alias("parent"),
    )


def _amazon_report_item_rows(ledger: Ledger) -> pl.DataFrame:
    """The same lines keyed as the All Orders report names them, ``<AmazonOrderId>:<sku>``. No
    parent: the report is read whole, so an order refused by getOrders keeps its items."""
    return (
        _amazon_item_rows(ledger)
        .with_columns(pl.concat_str("amazon_order_id", pl.lit(":"), "seller_sku").alias("key"))
        .drop("parent")
    )


_AMAZON_ITEM_COLUMNS = (
    f"amazon_order_id, seller_sku, quantity_ordered, item_price_currency, "
    f"{sql_e4('item_price')} as item_price_e4, {sql_e4('item_tax')} as item_tax_e4 "
    f"from {{dataset}}.order_items"
)
_AMAZON_ITEM_MONEY = (
    ("item_price_e4", "item_price_currency"),
    ("item_tax_e4", "item_price_currency"),
)
# raw_amazon.order_items per way of reading items (``sources.amazon.items_via``): the key and the
# list a malformed item was served in differ, the rows compared do not.
AMAZON_ITEMS: dict[str, Entity] = {
    "orders_api": Entity(
        "amazon",
        "order_items",
        f"select order_item_id as key, {_AMAZON_ITEM_COLUMNS}",
        _amazon_item_rows,
        ("amazon", "order_items"),
        ("order_item",),
        ("OrderItemId",),
        parent=("amazon", "orders"),
        money=_AMAZON_ITEM_MONEY,
    ),
    "reports": Entity(
        "amazon",
        "order_items",
        f"select amazon_order_id || ':' || seller_sku as key, {_AMAZON_ITEM_COLUMNS}",
        _amazon_report_item_rows,
        ("amazon", "order_report"),
        ("order_report_row",),
        ("amazon-order-id", "sku"),
        money=_AMAZON_ITEM_MONEY,
    ),
}


class _AmazonItems:
    """``AMAZON_ITEMS`` of the way the Amazon connector is configured to read items, looked up
    when reconcile reads it (configuration is read at run time, never at import)."""

    def __getattr__(self, name: str) -> Any:
        from ingestion.amazon.settings import configured_items_via

        return getattr(AMAZON_ITEMS[configured_items_via()], name)


def _stripe(table: str, id_column: str, condition: pl.Expr, *money: str) -> Callable:
    def expected(ledger: Ledger) -> pl.DataFrame:
        return (
            ledger(table)
            .filter(condition)
            .select(
                _key(id_column),
                seconds("created_at").alias("created_at"),
                "currency",
                *[e4(f"{m}_minor", "currency").alias(f"{m}_e4") for m in money],
            )
        )

    return expected


def _stripe_sql(table: str, *money: str) -> str:
    amounts = "".join(f", {sql_e4(m)} as {m}_e4" for m in money)
    return (
        f"select id as key, {sql_seconds('created_at')} as created_at, upper(currency) as "
        f"currency{amounts} from {{dataset}}.{table}"
    )


def _paypal_rows(ledger: Ledger) -> pl.DataFrame:
    from ingestion.sandbox.api_paypal import transaction_rows

    rows = transaction_rows(ledger)
    return rows.select(
        _key("transaction_id"),
        seconds("initiated_at").alias("initiated_at"),
        "currency",
        e4("amount_minor", "currency").alias("gross_e4"),
    )


def _tracking_rows(ledger: Ledger) -> pl.DataFrame:
    trackings, _ = reported_trackings(ledger)
    return trackings.select(_key("tracking_number"))


def _checkpoint_rows(ledger: Ledger) -> pl.DataFrame:
    _, events = reported_trackings(ledger)
    return events.select(
        pl.concat_str("tracking_number", pl.lit(":"), pl.col("seq").cast(pl.String)).alias("key"),
        seconds("event_at").alias("checkpoint_time"),
        "tag",
        pl.col("tracking_number").alias("parent"),
    )


def reported_trackings(ledger: Ledger) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Trackings and checkpoints AfterShip has by the ledger's clock: a scan reaches it minutes
    after it happens, so one made just before the clock cannot have been loaded yet."""
    from ingestion.sandbox.aftership_render import reported_by

    return reported_by(ledger("shipments"), ledger("tracking_events"), ledger.now)


def _ecb_rows(ledger: Ledger) -> pl.DataFrame:
    return ledger("fx_rates").select(
        pl.concat_str(pl.col("rate_date").cast(pl.String), pl.lit(":"), "currency").alias("key"),
        pl.col("rate_per_eur").alias("rate_text"),
    )


def _ecb_range(ledger: Ledger) -> str:
    dates = ledger("fx_rates")["rate_date"]
    return f"key >= '{dates.min()}' and key < '{dates.max()}:~'"


_SHOPIFY_ORDER_SQL = f"""
select cast(id as varchar) as key, {sql_seconds("created_at")} as created_at,
       {sql_seconds("updated_at")} as updated_at, {sql_seconds("cancelled_at")} as cancelled_at,
       {sql_seconds("closed_at")} as closed_at, financial_status, fulfillment_status, currency,
       {sql_e4("total_line_items_price")} as total_line_items_price_e4,
       {sql_e4("total_shipping_price")} as total_shipping_price_e4,
       {sql_e4("total_price")} as total_price_e4, {sql_e4("subtotal_price")} as subtotal_price_e4,
       {sql_e4("total_tax")} as total_tax_e4, {sql_e4("total_discounts")} as total_discounts_e4,
       presentment_currency, {sql_e4("presentment_total_price")} as presentment_total_price_e4
from {{dataset}}.orders
"""


def _easypost_rows(ledger: Ledger) -> pl.DataFrame:
    """Every label bought by the clock, with its order's channel id as ``reference``, the
    postage and label fee in USD, and the duties and import taxes once billed."""
    orders = ledger("orders").select("order_id", "external_order_id")
    return (
        ledger("shipping_labels")
        .join(orders, on="order_id", how="left")
        .select(
            _key("label_id"),
            pl.col("external_order_id").alias("reference"),
            "carrier",
            seconds("purchased_at").alias("created_at"),
            pl.col("currency").alias("fee_currency"),
            e4("postage_minor", "currency").alias("postage_e4"),
            e4("label_fee_minor", "currency").alias("label_fee_e4"),
            "incoterm",
            # The raw table has a duties currency only once duties are billed.
            pl.when(pl.col("duty_minor").is_not_null())
            .then(pl.col("duty_currency"))
            .alias("duties_currency"),
            e4("duty_minor", "duty_currency").alias("duty_e4"),
            e4("import_tax_minor", "duty_currency").alias("import_tax_e4"),
        )
    )


_EASYPOST_SQL = (
    f"select id as key, reference, carrier, {sql_seconds('created_at')} as created_at, "
    f"fee_currency, {sql_e4('postage_amount')} as postage_e4, "
    f"{sql_e4('label_fee_amount')} as label_fee_e4, incoterm, duties_currency, "
    f"{sql_e4('duty_amount')} as duty_e4, {sql_e4('import_tax_amount')} as import_tax_e4 "
    "from {dataset}.shipments"
)


RAW_ENTITIES: tuple[Entity, ...] = (
    Entity(
        "shopify",
        "orders",
        _SHOPIFY_ORDER_SQL,
        _shopify_order_rows,
        ("shopify", "orders"),
        ("order",),
        ("id",),
        money=(
            ("total_line_items_price_e4", "currency"),
            ("total_shipping_price_e4", "currency"),
            ("total_price_e4", "currency"),
            ("subtotal_price_e4", "currency"),
            ("total_tax_e4", "currency"),
            ("total_discounts_e4", "currency"),
            ("presentment_total_price_e4", "presentment_currency"),
        ),
    ),
    Entity(
        "shopify",
        "order_line_items",
        f"select cast(id as varchar) as key, cast(order_id as varchar) as order_id, sku, "
        f"quantity, currency, {sql_e4('price')} as price_e4 from {{dataset}}.order_line_items",
        _shopify_line_rows,
        parent=("shopify", "orders"),
        money=(("price_e4", "currency"),),
    ),
    Entity(
        "shopify",
        "transactions",
        f"select cast(id as varchar) as key, cast(order_id as varchar) as order_id, kind, "
        f"currency, {sql_e4('amount')} as amount_e4 from {{dataset}}.transactions",
        shopify_transaction_rows,
        ("shopify_finance", "transactions"),
        ("transaction",),
        ("id",),
        parent=("shopify", "orders"),
        money=(("amount_e4", "currency"),),
        also_loaded=_refund_transactions_in_clean_refunds,
        configure=lambda entity: _shopify_transactions_as_configured(entity),
    ),
    Entity(
        "shopify",
        "refunds",
        f"select cast(id as varchar) as key, cast(order_id as varchar) as order_id, "
        f"{sql_seconds('created_at')} as created_at from {{dataset}}.refunds",
        _shopify_refund_rows,
        # Read from each order of orders.json, where Shopify embeds them.
        ("shopify", "refunds"),
        ("refund",),
        ("id",),
    ),
    Entity(
        "shopify",
        "refund_line_items",
        f"select cast(id as varchar) as key, cast(refund_id as varchar) as refund_id, "
        f"cast(line_item_id as varchar) as line_item_id, quantity, currency, "
        f"{sql_e4('subtotal')} as subtotal_e4, {sql_e4('total_tax')} as total_tax_e4 "
        f"from {{dataset}}.refund_line_items",
        _shopify_refund_line_rows,
        money=(("subtotal_e4", "currency"), ("total_tax_e4", "currency")),
    ),
    Entity(
        "shopify",
        "fulfillment_line_items",
        "select fulfillment_id || ':' || line_item_id as key, quantity "
        "from {dataset}.fulfillment_line_items",
        _shopify_fulfillment_line_rows,
    ),
    Entity(
        "shopify",
        "fulfillments",
        "select cast(id as varchar) as key, cast(order_id as varchar) as order_id, "
        "tracking_number from {dataset}.fulfillments",
        _shopify_fulfillment_rows,
        ("shopify", "fulfillments"),
        ("fulfillment",),
        ("id",),
    ),
    Entity(
        "shopify",
        "payouts",
        f"select cast(id as varchar) as key, currency, {sql_e4('amount')} as amount_e4 "
        f"from {{dataset}}.payouts",
        _shopify_payout_rows,
        ("shopify_finance", "payouts"),
        ("payout",),
        ("id",),
        money=(("amount_e4", "currency"),),
    ),
    Entity(
        "amazon",
        "orders",
        f"select amazon_order_id as key, {sql_seconds('purchase_date')} as purchase_date, "
        f"order_total_currency, {sql_e4('order_total')} as order_total_e4 "
        f"from {{dataset}}.orders",
        _amazon_order_rows,
        ("amazon", "orders"),
        ("order",),
        ("AmazonOrderId",),
        money=(("order_total_e4", "order_total_currency"),),
    ),
    _AmazonItems(),  # type: ignore[list-item]  # an Entity by delegation
    Entity(
        "stripe",
        "charges",
        _stripe_sql("charges", "amount"),
        _stripe("payments", "payment_id", pl.col("provider") == "stripe", "amount"),
        ("stripe", "charges"),
        ("charge",),
        ("id",),
        money=(("amount_e4", "currency"),),
    ),
    Entity(
        "stripe",
        "refunds",
        _stripe_sql("refunds", "amount"),
        _stripe(
            "payment_refunds",
            "payment_refund_id",
            pl.col("payment_refund_id").str.starts_with("re_"),
            "amount",
        ),
        ("stripe", "refunds"),
        ("refund",),
        ("id",),
        money=(("amount_e4", "currency"),),
    ),
    Entity(
        "stripe",
        "disputes",
        _stripe_sql("disputes", "amount"),
        _stripe("disputes", "dispute_id", pl.col("dispute_id").str.starts_with("dp_"), "amount"),
        ("stripe", "disputes"),
        ("dispute",),
        ("id",),
        money=(("amount_e4", "currency"),),
    ),
    Entity(
        "stripe",
        "payouts",
        _stripe_sql("payouts", "amount"),
        _stripe("payouts", "payout_id", pl.col("provider") == "stripe", "amount"),
        ("stripe", "payouts"),
        ("payout",),
        ("id",),
        money=(("amount_e4", "currency"),),
    ),
    Entity(
        "stripe",
        "balance_transactions",
        _stripe_sql("balance_transactions", "amount", "fee", "net"),
        _stripe(
            "balance_transactions",
            "balance_transaction_id",
            pl.col("provider") == "stripe",
            "amount",
            "fee",
            "net",
        ),
        ("stripe", "balance_transactions"),
        ("balance_transaction",),
        ("id",),
        money=(("amount_e4", "currency"), ("fee_e4", "currency"), ("net_e4", "currency")),
    ),
    Entity(
        "paypal",
        "transactions",
        f"select transaction_id as key, {sql_seconds('initiated_at')} as initiated_at, "
        f"currency, {sql_e4('gross_amount')} as gross_e4 from {{dataset}}.transactions",
        _paypal_rows,
        ("paypal", "transactions"),
        ("transaction",),
        ("transaction_info.transaction_id",),
        money=(("gross_e4", "currency"),),
    ),
    Entity(
        "tracking",
        "trackings",
        "select tracking_number as key from {dataset}.trackings",
        _tracking_rows,
        ("aftership", "trackings"),
        ("tracking",),
        ("tracking_number",),
    ),
    Entity(
        "tracking",
        "checkpoints",
        f"select tracking_number || ':' || seq as key, "
        f"{sql_seconds('checkpoint_time')} as checkpoint_time, tag from {{dataset}}.checkpoints",
        _checkpoint_rows,
        parent=("aftership", "trackings"),
    ),
    Entity(
        "wms",
        "warehouses",
        "select code as key, country_code from {dataset}.warehouses",
        lambda ledger: ledger("warehouses").select(_key("code"), "country_code"),
    ),
    Entity(
        "wms",
        "items",
        f"select sku as key, hs_code, cost_currency, {sql_e4('unit_cost')} as unit_cost_e4 "
        f"from {{dataset}}.items",
        lambda ledger: ledger("products").select(
            _key("sku"),
            "hs_code",
            pl.col("cost_currency"),
            e4("unit_cost_minor", "cost_currency").alias("unit_cost_e4"),
        ),
        ("wms", "items"),
        ("item",),
        ("sku",),
        money=(("unit_cost_e4", "cost_currency"),),
    ),
    Entity(
        "wms",
        "inventory_levels",
        "select warehouse_code || ':' || sku as key, on_hand, reserved "
        "from {dataset}.inventory_levels",
        lambda ledger: ledger("inventory").select(
            pl.concat_str("warehouse_code", pl.lit(":"), "sku").alias("key"),
            pl.col("on_hand").cast(pl.Int64),
            pl.col("reserved").cast(pl.Int64),
        ),
        ("wms", "inventory"),
        ("inventory_level",),
        ("warehouse_code", "sku"),
    ),
    Entity(
        "ecb",
        "rates",
        "select cast(rate_date as varchar) || ':' || currency as key, rate_text "
        "from {dataset}.rates",
        _ecb_rows,
        raw_filter=_ecb_range,
    ),
    Entity(
        "easypost",
        "shipments",
        _EASYPOST_SQL,
        _easypost_rows,
        ("easypost", "shipments"),
        ("shipments",),
        ("id",),
        money=(
            ("postage_e4", "fee_currency"),
            ("label_fee_e4", "fee_currency"),
            ("duty_e4", "duties_currency"),
            ("import_tax_e4", "duties_currency"),
        ),
    ),
)

LAYERS: dict[str, tuple[Entity, ...]] = {"raw": RAW_ENTITIES}
