"""Which totals the mart must hold, per channel, store and currency, computed twice: by SQL over
the marts, and from the sandbox ledger under exactly the definitions the dbt models apply
(``dbt_project/DECISIONLOG.md``; ``docs/reconcile.md`` states each one).

Why the ledger side re-derives what the connectors and models see rather than summing the
ledger plainly: the mart is what the APIs *served*, as of the clock, less what was quarantined.
A record the sandbox served malformed (``malformed_records``) is in no mart table, and neither is
what is fetched through it (a quarantined order's lines, refunds and fulfilments), while a
payment or parcel whose processor record was quarantined can still reach the mart through the
channel's own copy (the models' fallbacks). Each definition below follows those rules, so a
difference is a real disagreement, not a modelling convention.

Both sides give the columns ``channel``, ``store_id``, ``currency`` and the measures: ``*_count``
integers and ``*_e4`` money as integer ten-thousandths (exact on both sides, as in the raw
layer). Rows of a payment, refund or parcel that matches no order in the mart are grouped under
channel ``(no order)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from tradelane.reconcile.ledger import Ledger
from tradelane.reconcile.mappings import e4, reported_trackings, shopify_transaction_rows

NO_ORDER = "(no order)"
GROUP = ("channel", "store_id", "currency")


@dataclass(frozen=True)
class MartTotals:
    """One mart fact's totals against the ledger's."""

    name: str  # as printed: mart.<name>
    mart_sql: str  # SELECT channel, store_id, currency, <measures> ... GROUP BY ALL
    expected: Callable[[LedgerSide], pl.DataFrame]  # channel, store_id, currency, <measures>
    measures: tuple[str, ...]
    requires: tuple[str, ...]  # raw tables the definition assumes loaded (schema.table)


class LedgerSide:
    """The ledger as the mart should reflect it: orders with their unified store, and the ids of
    every record served malformed. Built once per reconcile."""

    def __init__(self, ledger: Ledger, con: duckdb.DuckDBPyConnection) -> None:
        self.ledger = ledger
        self._malformed: dict[tuple[str, str], set[str]] = {}
        for api, entity, record_id in (
            ledger("malformed_records").select("api", "entity", "record_id").iter_rows()
        ):
            self._malformed.setdefault((api, entity), set()).add(record_id)
        self.orders = self._orders(con)

    def listed(self, api: str, entity: str) -> list[str]:
        """Ids of one served list the ledger says were served malformed (so quarantined)."""
        return sorted(self._malformed.get((api, entity), ()))

    def _orders(self, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
        """Every ledger order visible at the clock with the mart's channel and store id (the
        seed ``stores`` that the models unify stores by) and whether it was quarantined."""
        stores = con.sql(
            "select source_system, source_store_id, coalesce(marketplace_id, '') as "
            "marketplace_id, store_id as unified_store_id from reference.stores "
            "where source_system in ('shopify_api', 'amazon_sp_api')"
        ).pl()
        channels = _ledger_channels(self.ledger("channels")).join(
            stores, on=["source_system", "source_store_id", "marketplace_id"], how="left"
        )
        channels = channels.select(
            "channel_id",
            pl.col("platform").alias("channel"),
            # A store the seed does not know keeps its source's id, as in int_stores_mapped.
            pl.coalesce("unified_store_id", "source_store_id").alias("store_id"),
        )
        quarantined = self.listed("shopify", "orders") + self.listed("amazon", "orders")
        return (
            self.ledger("orders")
            .join(channels, on="channel_id", how="left")
            .with_columns(
                pl.col("external_order_id").is_in(quarantined).alias("is_quarantined"),
                pl.col("cancelled_at").is_not_null().alias("is_cancelled"),
            )
        )

    def in_mart(self) -> pl.DataFrame:
        return self.orders.filter(~pl.col("is_quarantined"))

    def by_order(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` (with ``order_id``) with the channel and store of their order in the mart,
        ``(no order)`` when the order is not there (quarantined, or not a ledger order)."""
        orders = self.in_mart().select("order_id", "channel", "store_id")
        return rows.join(orders, on="order_id", how="left").with_columns(
            pl.col("channel").fill_null(NO_ORDER), pl.col("store_id").fill_null("")
        )


def _ledger_channels(channels: pl.DataFrame) -> pl.DataFrame:
    """Ledger channels in the seed's terms: the source system and the id it names the store by
    (Shopify's shop domain; Amazon's seller account plus marketplace)."""
    return channels.select(
        "channel_id",
        "platform",
        pl.when(pl.col("platform") == "shopify")
        .then(pl.lit("shopify_api"))
        .otherwise(pl.lit("amazon_sp_api"))
        .alias("source_system"),
        pl.col("store_id").alias("source_store_id"),
        pl.col("marketplace_id").fill_null("").alias("marketplace_id"),
    )


def _totals(rows: pl.DataFrame, measures: dict[str, pl.Expr]) -> pl.DataFrame:
    """Sum ``measures`` per channel, store and currency; an empty frame keeps its columns."""
    grouped = rows.group_by(*GROUP).agg(**measures)
    return grouped.with_columns(pl.col(m).cast(pl.Int64) for m in measures)


def _mart_sql(table: str, where: str, group_currency: str, measures: dict[str, str]) -> str:
    columns = ", ".join(f"{expr} as {name}" for name, expr in measures.items())
    return (
        f"select coalesce(channel, '{NO_ORDER}') as channel, coalesce(store_id, '') as store_id, "
        f"{group_currency} as currency, {columns} from marts.{table} where {where} group by all"
    )


def _sum_e4(column: str) -> str:
    return f"cast(coalesce(sum({column}), 0) * 10000 as bigint)"


# --- orders -------------------------------------------------------------------------------------

_ORDER_MONEY = ("line_items", "discount", "subtotal", "shipping", "tax", "total")


def _order_rows(side: LedgerSide) -> pl.DataFrame:
    """Per order in the mart the six amounts as the mart holds them: Shopify's from the order,
    Amazon's from its items."""
    orders = side.in_mart()
    shopify = orders.filter(pl.col("channel") == "shopify").select(
        "order_id",
        *[
            e4(column, "currency").alias(name)
            for name, column in zip(
                _ORDER_MONEY,
                (
                    "total_line_items_price_minor",
                    "total_discounts_minor",
                    "subtotal_price_minor",
                    "total_shipping_minor",
                    "total_tax_minor",
                    "total_price_minor",
                ),
                strict=True,
            )
        ],
    )
    return pl.concat([shopify, _amazon_amounts(side, orders)], how="vertical_relaxed")


def _amazon_amounts(side: LedgerSide, orders: pl.DataFrame) -> pl.DataFrame:
    """Amazon's amounts add up from getOrderItems: ItemPrice (the whole line), PromotionDiscount,
    ItemTax, and the order's shipping with its tax on the first line. A Pending order's items
    (unpaid, or held for review) carry no prices; a quarantined item is not summed (named by
    its OrderItemId in getOrderItems, by ``<AmazonOrderId>:<sku>`` in the All Orders report,
    whichever way the connector reads items). The total is OrderTotal."""
    from ingestion.amazon.settings import configured_items_via

    amazon = orders.filter(pl.col("channel") == "amazon")
    held = pl.col("held_at").is_not_null() & pl.col("released_at").is_null()
    priced = pl.col("paid_at").is_not_null() & ~held
    lines = side.ledger("order_lines").join(
        amazon.select(
            "order_id",
            "external_order_id",
            priced.alias("is_priced"),
            "total_shipping_minor",
            "total_tax_minor",
        ),
        on="order_id",
        how="inner",
    )
    first = pl.col("line_id") == pl.col("line_id").min().over("order_id")
    ship_tax = pl.max_horizontal(
        pl.lit(0), pl.col("total_tax_minor") - pl.col("tax_minor").sum().over("order_id")
    )
    if configured_items_via() == "reports":
        item_id = pl.concat_str("external_order_id", pl.lit(":"), "sku")
        served_as = "order_report"
    else:
        item_id = (pl.col("line_id") % 10**14).cast(pl.String).str.zfill(14)
        served_as = "order_items"
    items = lines.with_columns(
        gross=pl.col("unit_price_minor") * pl.col("quantity"),
        discount=pl.col("discount_minor"),
        shipping=pl.when(first).then(pl.col("total_shipping_minor")).otherwise(0),
        tax=pl.col("tax_minor") + pl.when(first).then(ship_tax).otherwise(0),
    ).filter(pl.col("is_priced") & ~item_id.is_in(side.listed("amazon", served_as)))
    sums = items.group_by("order_id").agg(
        pl.col("gross").sum(),
        pl.col("discount").sum(),
        pl.col("shipping").sum(),
        pl.col("tax").sum(),
    )
    return (
        amazon.select("order_id", "currency", "total_price_minor")
        .join(sums, on="order_id", how="left")
        .with_columns(pl.col("gross", "discount", "shipping", "tax").fill_null(0))
        .select(
            "order_id",
            e4("gross", "currency").alias("line_items"),
            e4("discount", "currency").alias("discount"),
            e4(pl.col("gross") - pl.col("discount"), "currency").alias("subtotal"),
            e4("shipping", "currency").alias("shipping"),
            e4("tax", "currency").alias("tax"),
            e4("total_price_minor", "currency").alias("total"),
        )
    )


def _expected_orders(side: LedgerSide) -> pl.DataFrame:
    orders = side.in_mart().join(_order_rows(side), on="order_id", how="left")
    live = ~pl.col("is_cancelled")
    return _totals(
        orders,
        {
            "order_count": pl.len(),
            "cancelled_count": pl.col("is_cancelled").sum(),
            **{f"{m}_e4": pl.col(m).filter(live).sum() for m in _ORDER_MONEY},
        },
    )


_LIVE = "case when is_cancelled then 0 else {} end"
ORDERS = MartTotals(
    "orders",
    _mart_sql(
        "fct_orders",
        "source_system <> 'file_import'",
        "currency_code",
        {
            "order_count": "count(*)",
            "cancelled_count": "count(*) filter (where is_cancelled)",
            **{
                f"{m}_e4": _sum_e4(_LIVE.format(f"{m}_amount"))
                for m in ("line_items", "discount", "subtotal", "shipping", "tax", "total")
            },
        },
    ),
    _expected_orders,
    ("order_count", "cancelled_count", *[f"{m}_e4" for m in _ORDER_MONEY]),
    ("raw_shopify.orders", "raw_amazon.orders", "raw_amazon.order_items"),
)


# --- payments -----------------------------------------------------------------------------------


def _processor_payments(side: LedgerSide) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stripe and PayPal payments as loaded (``loaded``) and those whose processor record was
    quarantined (``lost``): for a Shopify order the channel's capture then stands in."""
    payments = side.ledger("payments").filter(pl.col("provider").is_in(["stripe", "paypal"]))
    quarantined = (
        (pl.col("provider") == "stripe")
        & pl.col("payment_id").is_in(side.listed("stripe", "charges"))
    ) | (
        (pl.col("provider") == "paypal")
        & pl.col("payment_id").is_in(side.listed("paypal", "transactions"))
    )
    return payments.filter(~quarantined), payments.filter(quarantined)


def _payment_rows(side: LedgerSide) -> pl.DataFrame:
    """Captured payments counted once: the processor's record, else Shopify's capture."""
    loaded, lost = _processor_payments(side)
    processor = loaded.select(
        "order_id", "currency", e4("amount_minor", "currency").alias("amount_e4")
    )
    return pl.concat([processor, _shopify_captures(side, lost)], how="vertical_relaxed")


def _shopify_captures(side: LedgerSide, lost: pl.DataFrame) -> pl.DataFrame:
    """Shopify's capture transaction of each order whose processor payment was quarantined,
    as Shopify serves it (presentment currency), unless the order or the transaction itself
    was quarantined."""
    orders = side.in_mart().filter(pl.col("channel") == "shopify")
    wanted = lost.join(orders.select("order_id"), on="order_id", how="semi")
    if wanted.height == 0:
        return pl.DataFrame(
            schema={"order_id": pl.Int64, "currency": pl.String, "amount_e4": pl.Int64}
        )
    rendered = shopify_transaction_rows(side.ledger, wanted["order_id"])
    return rendered.filter(
        pl.col("kind").is_in(["capture", "sale"])
        & ~pl.col("key").is_in(side.listed("shopify_finance", "transactions"))
    ).select(pl.col("order_id").cast(pl.Int64), "currency", "amount_e4")


def _expected_payments(side: LedgerSide) -> pl.DataFrame:
    rows = side.by_order(_payment_rows(side))
    return _totals(rows, {"payment_count": pl.len(), "captured_e4": pl.col("amount_e4").sum()})


PAYMENTS = MartTotals(
    "payments",
    _mart_sql(
        "fct_payments",
        "is_captured",
        "currency_code",
        {"payment_count": "count(*)", "captured_e4": _sum_e4("amount")},
    ),
    _expected_payments,
    ("payment_count", "captured_e4"),
    ("raw_stripe.charges", "raw_paypal.transactions", "raw_shopify.transactions"),
)


def _expected_fees(side: LedgerSide) -> pl.DataFrame:
    """Processor fees in the settlement currency. A Stripe fee is read from the charge's
    balance transaction, so a quarantined balance transaction leaves its charge without one;
    a Shopify capture standing in for a quarantined processor record carries none."""
    loaded, _ = _processor_payments(side)
    lost_balance = side.ledger("balance_transactions").filter(
        (pl.col("type") == "charge")
        & pl.col("balance_transaction_id").is_in(side.listed("stripe", "balance_transactions"))
    )
    fees = loaded.filter(
        ~((pl.col("provider") == "stripe") & pl.col("payment_id").is_in(lost_balance["source_id"]))
    ).select("order_id", pl.col("fee_currency").alias("currency"), "fee_minor")
    rows = side.by_order(fees).with_columns(fee_e4=e4("fee_minor", "currency"))
    return _totals(rows, {"fee_count": pl.len(), "fee_e4": pl.col("fee_e4").sum()})


FEES = MartTotals(
    "payment_fees",
    _mart_sql(
        "fct_payments",
        "is_captured and fee_amount is not null",
        "settlement_currency_code",
        {"fee_count": "count(*)", "fee_e4": _sum_e4("fee_amount")},
    ),
    _expected_fees,
    ("fee_count", "fee_e4"),
    ("raw_stripe.charges", "raw_stripe.balance_transactions", "raw_paypal.transactions"),
)


# --- refunds ------------------------------------------------------------------------------------


def _expected_refunds(side: LedgerSide) -> pl.DataFrame:
    """Channel-first: Shopify's refunds of its orders in the mart (the amount its refund
    transaction moved, in the presentment currency); a processor refund (Stripe ``re_``, PayPal)
    only for an order with no Shopify refund loaded."""
    shopify_orders = side.in_mart().filter(pl.col("channel") == "shopify").select("order_id")
    # A chargeback is a dispute on Shopify, never one of its refunds; the connector reads the
    # refunds embedded in each order, so a malformed one there is quarantined.
    refunds = side.ledger("refunds").filter(pl.col("kind") != "chargeback")
    channel = refunds.join(shopify_orders, on="order_id", how="semi").filter(
        ~pl.col("refund_id").cast(pl.String).is_in(side.listed("shopify", "refunds"))
    )
    channel_rows = channel.select(
        "order_id",
        pl.col("presentment_currency").alias("currency"),
        e4("presentment_amount_minor", "presentment_currency").alias("amount_e4"),
    )
    payments = side.ledger("payments").select("payment_id", "provider", "order_id")
    processor = (
        side.ledger("payment_refunds")
        .join(payments, on="payment_id", how="inner")
        .filter(
            (pl.col("provider") == "stripe")
            & ~pl.col("payment_refund_id").is_in(side.listed("stripe", "refunds"))
            | (pl.col("provider") == "paypal")
            & ~pl.col("payment_refund_id").is_in(side.listed("paypal", "transactions"))
        )
        .join(channel.select("order_id").unique(), on="order_id", how="anti")
        .select("order_id", "currency", e4("amount_minor", "currency").alias("amount_e4"))
    )
    rows = side.by_order(pl.concat([channel_rows, processor], how="vertical_relaxed"))
    return _totals(rows, {"refund_count": pl.len(), "refunded_e4": pl.col("amount_e4").sum()})


REFUNDS = MartTotals(
    "refunds",
    _mart_sql(
        "fct_refunds",
        "refund_status in ('succeeded', 'success', 'pending')",
        "currency_code",
        {"refund_count": "count(*)", "refunded_e4": _sum_e4("amount")},
    ),
    _expected_refunds,
    ("refund_count", "refunded_e4"),
    ("raw_shopify.refunds", "raw_stripe.refunds", "raw_paypal.transactions"),
)


# --- shipments and tracking ---------------------------------------------------------------------


def _shipped(side: LedgerSide) -> pl.DataFrame:
    return side.ledger("shipments").filter(pl.col("shipped_at").is_not_null())


def _expected_shipments(side: LedgerSide) -> pl.DataFrame:
    """Parcels handed to a carrier by the clock: AfterShip's trackings, plus a Shopify
    fulfilment's parcel the aggregator does not have (its tracking quarantined) when the
    order and the fulfilment themselves were not."""
    shipped = _shipped(side)
    tracked = ~pl.col("tracking_number").is_in(side.listed("aftership", "trackings"))
    shopify_orders = side.in_mart().filter(pl.col("channel") == "shopify").select("order_id")
    fallback = (
        shipped.filter(~tracked)
        .join(shopify_orders, on="order_id", how="semi")
        .filter(
            ~pl.col("shipment_id").cast(pl.String).is_in(side.listed("shopify", "fulfillments"))
        )
    )
    parcels = pl.concat([shipped.filter(tracked), fallback]).select("order_id")
    rows = side.by_order(parcels).with_columns(currency=pl.lit(None, pl.String))
    return _totals(rows, {"shipment_count": pl.len()})


SHIPMENTS = MartTotals(
    "shipments",
    _mart_sql("fct_shipments", "true", "cast(null as varchar)", {"shipment_count": "count(*)"}),
    _expected_shipments,
    ("shipment_count",),
    ("raw_tracking.trackings", "raw_shopify.fulfillments"),
)


def _expected_tracking_events(side: LedgerSide) -> pl.DataFrame:
    """Carrier scans so far of every parcel AfterShip served (a quarantined tracking's
    checkpoints are never fetched)."""
    shipped = _shipped(side).filter(
        ~pl.col("tracking_number").is_in(side.listed("aftership", "trackings"))
    )
    events = (
        reported_trackings(side.ledger)[1]
        .select("tracking_number")
        .join(shipped.select("tracking_number", "order_id"), on="tracking_number", how="inner")
    )
    rows = side.by_order(events).with_columns(currency=pl.lit(None, pl.String))
    return _totals(rows, {"event_count": pl.len()})


TRACKING_EVENTS = MartTotals(
    "tracking_events",
    _mart_sql("fct_tracking_events", "true", "cast(null as varchar)", {"event_count": "count(*)"}),
    _expected_tracking_events,
    ("event_count",),
    ("raw_tracking.trackings", "raw_tracking.checkpoints"),
)

# --- carrier costs ------------------------------------------------------------------------------


def _labels(side: LedgerSide) -> pl.DataFrame:
    """Labels bought by the clock that the EasyPost connector loaded (a label served malformed
    is quarantined). The mart matches a label to its order by the channel id in ``reference``,
    which names the ledger order exactly, so ``order_id`` groups it the same way."""
    return side.ledger("shipping_labels").filter(
        ~pl.col("label_id").is_in(side.listed("easypost", "shipments"))
    )


def _expected_shipping_costs(side: LedgerSide) -> pl.DataFrame:
    """Postage plus label fee per label, in the platform's currency."""
    rows = side.by_order(_labels(side)).with_columns(
        shipping_cost_e4=e4(pl.col("postage_minor") + pl.col("label_fee_minor"), "currency")
    )
    return _totals(
        rows, {"label_count": pl.len(), "shipping_cost_e4": pl.col("shipping_cost_e4").sum()}
    )


SHIPPING_COSTS = MartTotals(
    "shipping_costs",
    _mart_sql(
        "fct_shipping_costs",
        "true",
        "shipping_cost_currency_code",
        {"label_count": "count(*)", "shipping_cost_e4": _sum_e4("shipping_cost_amount")},
    ),
    _expected_shipping_costs,
    ("label_count", "shipping_cost_e4"),
    ("raw_easypost.shipments",),
)


def _expected_duties(side: LedgerSide) -> pl.DataFrame:
    """Duties and import taxes of DDP labels the carrier has billed, in their currency."""
    billed = _labels(side).filter(pl.col("duty_minor").is_not_null())
    rows = side.by_order(billed).with_columns(
        pl.col("duty_currency").alias("currency"),
        duty_e4=e4("duty_minor", "duty_currency"),
        import_tax_e4=e4("import_tax_minor", "duty_currency"),
    )
    return _totals(
        rows,
        {
            "duty_count": pl.len(),
            "duty_e4": pl.col("duty_e4").sum(),
            "import_tax_e4": pl.col("import_tax_e4").sum(),
        },
    )


DUTIES = MartTotals(
    "duties",
    _mart_sql(
        "fct_shipping_costs",
        "duties_amount is not null",
        "duties_currency_code",
        {
            "duty_count": "count(*)",
            "duty_e4": _sum_e4("duty_amount"),
            "import_tax_e4": _sum_e4("import_tax_amount"),
        },
    ),
    _expected_duties,
    ("duty_count", "duty_e4", "import_tax_e4"),
    ("raw_easypost.shipments",),
)

MART_TOTALS: tuple[MartTotals, ...] = (
    ORDERS,
    PAYMENTS,
    FEES,
    REFUNDS,
    SHIPMENTS,
    TRACKING_EVENTS,
    SHIPPING_COSTS,
    DUTIES,
)
