"""Shopify GraphQL bulk results for the sandbox: the JSONL file of a bulk query over orders
and their transactions, rendered column-wise.

Why here and not in the API module: this is the data half (what the file holds), the API module
the protocol half (queries, cost, the operation's lifecycle), as ``amazon_render`` is to
``api_amazon``. The transactions are the per-order REST endpoint's
(``shopify_finance_objects.render_transactions``, called on order bundles built for all orders
at once), turned into GraphQL objects by ``jsonfrag`` in a few vectorized passes; malformed ones
follow the fault profile, drawn per transaction id for ``("shopify_graphql", "transactions")``
so that the ledger's ``malformed_records`` lists them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import polars as pl

from ingestion.sandbox import shopify_finance_objects as sfo
from ingestion.sandbox.fault_data import corrupt, malformed_kind, shape_of
from ingestion.sandbox.faults import FaultRun, draw
from ingestion.sandbox.jsonfrag import Raw, arrays, attach_arrays, obj, when_raw
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.stripe_ledger import LedgerView

FAULT_KEY = ("shopify_graphql", "transactions")


@dataclass(frozen=True)
class BulkQuery:
    """What an accepted bulk query asks for."""

    text: str
    since: datetime | None
    inclusive: bool
    order_fields: tuple[str, ...]
    transaction_fields: tuple[str, ...]


def _bundles(view: LedgerView, order_ids: pl.Series) -> list[sfo.OrderBundle]:
    """Order bundles for every order at once (what ``sfo.load_order`` builds one at a time),
    holding what ``render_transactions`` reads: the order, its payments oldest first, their
    provider refunds and its refunds by (created_at, refund_id), a chargeback never among them
    (it is a dispute on Shopify)."""
    ids = order_ids.implode()
    orders = view("orders").filter(pl.col("order_id").is_in(ids)).sort("order_id").to_dicts()
    payments = view("payments").filter(pl.col("order_id").is_in(ids))
    by_payment = dict(zip(payments["payment_id"], payments["order_id"], strict=True))
    payment_refunds = view("payment_refunds").filter(
        pl.col("payment_id").is_in(payments["payment_id"].implode())
    )
    refunds = view("refunds").filter(pl.col("order_id").is_in(ids), pl.col("kind") != "chargeback")
    grouped: dict[str, dict[int, list[dict[str, Any]]]] = {
        "payments": defaultdict(list),
        "payment_refunds": defaultdict(list),
        "refunds": defaultdict(list),
    }
    for row in payments.to_dicts():
        grouped["payments"][row["order_id"]].append(row)
    for row in payment_refunds.to_dicts():
        grouped["payment_refunds"][by_payment[row["payment_id"]]].append(row)
    for row in refunds.to_dicts():
        grouped["refunds"][row["order_id"]].append(row)
    bundles = []
    for order in orders:
        oid = order["order_id"]
        bundles.append(
            sfo.OrderBundle(
                order=order,
                lines=[],
                products={},
                payments=sorted(grouped["payments"].get(oid, []), key=lambda p: p["created_at"]),
                payment_refunds=grouped["payment_refunds"].get(oid, []),
                refunds=sorted(
                    grouped["refunds"].get(oid, []),
                    key=lambda r: (r["created_at"], r["refund_id"]),
                ),
                refund_lines=[],
            )
        )
    return bundles


_TRANSACTION_SCHEMA = {
    "id": pl.Int64,
    "order_id": pl.Int64,
    "kind": pl.String,
    "status": pl.String,
    "gateway": pl.String,
    "test": pl.Boolean,
    "manual": pl.Boolean,
    "error_code": pl.String,
    "created_at": pl.String,
    "processed_at": pl.String,
    "pres_amount": pl.String,
    "pres_currency": pl.String,
    "shop_amount": pl.String,
    "shop_currency": pl.String,
    "parent_id": pl.Int64,
    "payment_id": pl.String,
    "authorization": pl.String,
    "receipt": pl.String,
    "location_id": pl.Int64,
    "user_id": pl.Int64,
    "device_id": pl.Int64,
    "company": pl.String,
    "method": pl.String,
}


def transaction_rows(view: LedgerView, order_ids: pl.Series, with_receipt: bool) -> pl.DataFrame:
    """The orders' transactions exactly as the per-order endpoint renders them, one row each,
    with the shop-currency amount GraphQL's ``amountSet`` adds (converted as Shopify's
    ``total_unsettled_set`` is) and amounts printed as Shopify's Decimal scalar does."""
    rows = []
    for b in _bundles(view, order_ids):
        rate = b.order.get("fx_rate_to_presentment") or 1.0
        shop, pres = b.shop_currency, b.presentment_currency
        for t in sfo.render_transactions(b):
            currency = t["currency"]
            minor = int(Decimal(t["amount"]).scaleb(minor_units(currency)))
            shop_minor = sfo._convert(minor, 1 / rate, pres, shop) if currency == pres else minor
            details = t.get("payment_details") or {}
            rows.append(
                (
                    t["id"],
                    t["order_id"],
                    t["kind"],
                    t["status"],
                    t["gateway"],
                    t["test"],
                    t["manual_payment_gateway"],
                    t["error_code"],
                    t["created_at"],
                    t["processed_at"],
                    sfo.ruby_decimal(minor, currency),
                    currency,
                    sfo.ruby_decimal(shop_minor, shop if currency == pres else currency),
                    shop if currency == pres else currency,
                    t["parent_id"],
                    t["payment_id"],
                    t["authorization"],
                    orjson.dumps(t["receipt"]).decode() if with_receipt else None,
                    t["location_id"],
                    t["user_id"],
                    t["device_id"],
                    details.get("credit_card_company"),
                    details.get("payment_method_name"),
                )
            )
    return pl.DataFrame(rows, schema=_TRANSACTION_SCHEMA, orient="row")


def _gid(kind: str, column: str) -> pl.Expr:
    return pl.concat_str([pl.lit(f"gid://shopify/{kind}/"), pl.col(column).cast(pl.String)])


def _utc(column: str) -> pl.Expr:
    """The REST local time (``...-04:00``) as GraphQL's DateTime (UTC, ``Z``)."""
    return (
        pl.col(column)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _maybe_object(column: str, value: pl.Expr) -> Raw:
    return when_raw(pl.col(column).is_not_null(), value, "null")


def _money(amount: str, currency: str) -> pl.Expr:
    return obj([("amount", pl.col(amount)), ("currencyCode", pl.col(currency))])


def _transaction_values() -> dict[str, Any]:
    """GraphQL value of each OrderTransaction field, per row of ``transaction_rows``."""
    return {
        "id": _gid("OrderTransaction", "id"),
        "kind": pl.col("kind").str.to_uppercase(),
        "status": pl.col("status").str.to_uppercase(),
        "gateway": pl.col("gateway"),
        "test": pl.col("test"),
        "manualPaymentGateway": pl.col("manual"),
        "errorCode": pl.col("error_code").str.to_uppercase(),
        "createdAt": _utc("created_at"),
        "processedAt": _utc("processed_at"),
        "amountSet": Raw(
            obj(
                [
                    ("presentmentMoney", Raw(_money("pres_amount", "pres_currency"))),
                    ("shopMoney", Raw(_money("shop_amount", "shop_currency"))),
                ]
            )
        ),
        "parentTransaction": _maybe_object(
            "parent_id", obj([("id", _gid("OrderTransaction", "parent_id"))])
        ),
        "paymentId": pl.col("payment_id"),
        "authorizationCode": pl.col("authorization"),
        "receiptJson": pl.col("receipt"),
        "location": _maybe_object("location_id", obj([("id", _gid("Location", "location_id"))])),
        "user": _maybe_object("user_id", obj([("id", _gid("StaffMember", "user_id"))])),
        "device": _maybe_object("device_id", obj([("id", _gid("PointOfSaleDevice", "device_id"))])),
        "paymentDetails": _maybe_object(
            "company",
            obj([("company", pl.col("company")), ("paymentMethodName", pl.col("method"))]),
        ),
    }


def render_bulk_file(
    state: Any, view: LedgerView, query: BulkQuery, faults: FaultRun | None
) -> tuple[bytes, int]:
    """``(JSONL, objects)``: one line per Shopify order the query matches, oldest id first."""
    orders = state.orders_view().filter(pl.col("channel_id") == "shopify")
    if query.since is not None:
        bound = pl.lit(query.since).cast(pl.Datetime("us", "UTC"))
        orders = orders.filter(
            pl.col("updated_at") >= bound if query.inclusive else pl.col("updated_at") > bound
        )
    orders = orders.select("order_id", "name", "created_at", "updated_at").sort("order_id")
    if orders.height == 0:
        return b"", 0
    frame = orders
    if query.transaction_fields:
        txns = transaction_rows(view, orders["order_id"], "receiptJson" in query.transaction_fields)
        values = _transaction_values()
        txns = txns.with_columns(
            _t=obj([(name, values[name]) for name in query.transaction_fields])
        )
        txns = _with_malformed(txns, faults)
        frame = attach_arrays(frame, arrays(txns, "order_id", "_t", "_txns"), "order_id", "_txns")
    order_values: dict[str, Any] = {
        "id": _gid("Order", "order_id"),
        "name": pl.col("name"),
        "createdAt": pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": pl.col("updated_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Shopify's sandbox orders are all online-store orders (the REST ``source_name``).
        "sourceName": pl.lit("web"),
        "transactions": Raw(pl.col("_txns")) if query.transaction_fields else None,
    }
    lines = frame.select(obj([(name, order_values[name]) for name in query.order_fields]))
    body = "\n".join(lines.to_series().to_list()) + "\n"
    return body.encode(), orders.height


def _with_malformed(txns: pl.DataFrame, faults: FaultRun | None) -> pl.DataFrame:
    """Transactions whose id the fault profile draws as malformed, corrupted (``fault_data.
    corrupt``, keyed by the numeric id the ledger lists); the rest untouched."""
    if faults is None or faults.profile.malformed_share <= 0:
        return txns
    profile, seed = faults.profile, faults.seed
    api, entity = FAULT_KEY
    kinds = [malformed_kind(profile, seed, api, entity, tid) for tid in txns["id"].to_list()]
    if not any(kinds):
        return txns
    shape = shape_of(api, entity)
    texts = txns["_t"].to_list()
    for i, (tid, kind) in enumerate(zip(txns["id"].to_list(), kinds, strict=True)):
        if kind is not None:
            variant = draw(seed, "malformed-variant", api, entity, str(tid))
            texts[i] = orjson.dumps(corrupt(orjson.loads(texts[i]), kind, shape, ("id",), variant))
            texts[i] = texts[i].decode()
    faults.count("malformed", sum(k is not None for k in kinds))
    return txns.with_columns(_t=pl.Series(texts, dtype=pl.String))
