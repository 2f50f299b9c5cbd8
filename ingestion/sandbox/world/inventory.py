"""Stock: supplier purchase orders into Shenzhen, transfers out to the overseas warehouses and
FBA, and the stock levels they and the orders produce.

Why planned from demand: the seller replenishes each (warehouse, SKU) for the next period's
demand (three weeks for 3PLs, two for FBA, four for supplier orders), with suppliers' lead
times and sea or air transit that sometimes runs late; the world knows the demand, so the plan
is a good forecast plus noise. Starting stock is then the least that keeps every warehouse's
available stock (on hand minus reserved) from ever going negative, plus a safety margin: the
invariant "stock never negative" holds by construction, while late arrivals still drain some
SKUs to zero, which routing must handle.

Stock moves with events (``stock_events``): payment reserves units, cancellation releases them,
shipment takes them off the shelf, a restocked return puts them back, receipts and transfers
arrive. The same events, read from the ledger tables, move the clock's view after ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingestion.sandbox import catalog as reference
from ingestion.sandbox.world import warehouses as wh
from ingestion.sandbox.world.common import DAY, UTC_DT, between, codes, take, ts
from ingestion.sandbox.world.ids import IdMaker

_PERIOD_DAYS = {"overseas": 21, "fba": 14, "home": 28}
# Sea freight to 3PLs, air to FBA (days, planned).
_TRANSIT_DAYS = {
    "LAX": 18,
    "FRA": 32,
    "BHX": 34,
    "NRT": 8,
    "FBA-US": 9,
    "FBA-DE": 10,
    "FBA-UK": 10,
    "FBA-JP": 6,
}
_PACK = {"overseas": 5, "fba": 5, "home": 10}


@dataclass
class Stock:
    inventory: pl.DataFrame
    purchase_orders: pl.DataFrame
    transfers: pl.DataFrame


def stock_events(
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    shipments: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    refunds: pl.DataFrame,
    refund_lines: pl.DataFrame,
    purchase_orders: pl.DataFrame,
    transfers: pl.DataFrame,
) -> pl.DataFrame:
    """Every stock movement of the ledger: ``warehouse_code``, ``sku``, ``at`` (UTC),
    ``on_hand_delta`` and ``available_delta`` (available = on hand - reserved)."""
    return pl.concat(
        [
            order_stock_events(orders, lines, shipments, shipment_lines, refunds, refund_lines),
            supply_stock_events(purchase_orders, transfers),
        ]
    )


_COLUMNS = ["warehouse_code", "sku", "at", "on_hand_delta", "available_delta"]


def _events(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(_COLUMNS).cast({"on_hand_delta": pl.Int64, "available_delta": pl.Int64})


def order_stock_events(
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    shipments: pl.DataFrame,
    shipment_lines: pl.DataFrame,
    refunds: pl.DataFrame,
    refund_lines: pl.DataFrame,
) -> pl.DataFrame:
    """Movements caused by orders: payment reserves, cancellation releases, shipment takes
    off the shelf, a restocked return puts back."""
    zero = pl.lit(0, pl.Int64)
    o = orders.select("order_id", "paid_at", "cancelled_at")
    ln = lines.select("line_id", "order_id", "sku", "warehouse_code", "quantity").join(
        o, on="order_id", how="inner"
    )
    paid = ln.filter(pl.col("paid_at").is_not_null())
    reserve = paid.select(
        "warehouse_code",
        "sku",
        at=pl.col("paid_at"),
        on_hand_delta=zero,
        available_delta=-pl.col("quantity"),
    )
    release = paid.filter(
        pl.col("cancelled_at").is_not_null() & (pl.col("cancelled_at") >= pl.col("paid_at"))
    ).select(
        "warehouse_code",
        "sku",
        at=pl.col("cancelled_at"),
        on_hand_delta=zero,
        available_delta=pl.col("quantity"),
    )
    shipped = (
        shipment_lines.join(
            shipments.select("shipment_id", "warehouse_code", "shipped_at"), on="shipment_id"
        )
        .join(lines.select("line_id", "sku"), on="line_id")
        .select(
            "warehouse_code",
            "sku",
            at=pl.col("shipped_at"),
            on_hand_delta=-pl.col("quantity"),
            available_delta=zero,
        )
    )
    restocked = (
        refunds.filter((pl.col("kind") == "return") & pl.col("restock"))
        .select("refund_id", "created_at")
        .join(refund_lines.select("refund_id", "line_id", "quantity"), on="refund_id")
        .join(lines.select("line_id", "sku", "warehouse_code"), on="line_id")
        .select(
            "warehouse_code",
            "sku",
            at=pl.col("created_at"),
            on_hand_delta=pl.col("quantity"),
            available_delta=pl.col("quantity"),
        )
    )
    return pl.concat([_events(f) for f in (reserve, release, shipped, restocked)])


def supply_stock_events(purchase_orders: pl.DataFrame, transfers: pl.DataFrame) -> pl.DataFrame:
    """Movements of supply: receipts, transfers leaving and arriving."""
    received = purchase_orders.filter(pl.col("received_at").is_not_null()).select(
        "warehouse_code",
        "sku",
        at=pl.col("received_at"),
        on_hand_delta=pl.col("quantity"),
        available_delta=pl.col("quantity"),
    )
    sent = transfers.select(
        "sku",
        warehouse_code=pl.col("from_warehouse"),
        at=pl.col("shipped_at"),
        on_hand_delta=-pl.col("quantity"),
        available_delta=-pl.col("quantity"),
    )
    arrived = transfers.filter(pl.col("received_at").is_not_null()).select(
        "sku",
        warehouse_code=pl.col("to_warehouse"),
        at=pl.col("received_at"),
        on_hand_delta=pl.col("quantity"),
        available_delta=pl.col("quantity"),
    )
    return pl.concat([_events(f) for f in (received, sent, arrived)])


def build(
    rng: np.random.Generator,
    ids: IdMaker,
    products: pl.DataFrame,
    classes: np.ndarray,
    ledger: dict[str, pl.DataFrame],
    start: int,
    end: int,
    horizon: int,
) -> Stock:
    """Purchase orders, transfers and the inventory snapshot at ``end`` (see module doc)."""
    skus = products["sku"].to_list()
    orders_events = order_stock_events(
        ledger["orders"],
        ledger["order_lines"],
        ledger["shipments"],
        ledger["shipment_lines"],
        ledger["refunds"],
        ledger["refund_lines"],
    )
    demand = orders_events.filter(pl.col("available_delta") != 0).with_columns(
        t=pl.col("at").dt.epoch("s")
    )
    transfers = _transfers(rng, ids, demand, classes, skus, start, horizon)
    home_out = pl.concat(
        [
            demand.filter(pl.col("warehouse_code") == "SZX").select("sku", "t", "available_delta"),
            transfers.select(
                "sku", t=pl.col("shipped_at").dt.epoch("s"), available_delta=-pl.col("quantity")
            ),
        ]
    )
    purchase_orders = _purchase_orders(rng, ids, products, home_out, start, horizon)
    events = pl.concat(
        [orders_events, supply_stock_events(purchase_orders, transfers)]
    ).with_columns(t=pl.col("at").dt.epoch("s"))
    inventory = _snapshot(rng, events, classes, skus, end)
    return Stock(inventory, purchase_orders, transfers)


def _periods(first: int, horizon: int, days: int) -> np.ndarray:
    return np.arange(first, horizon, days * DAY, dtype=np.int64)


def _period_demand(
    demand: pl.DataFrame, keys: list[str], starts: np.ndarray, days: int
) -> pl.DataFrame:
    """Net units leaving availability per key and period (period index ``k``)."""
    return (
        demand.with_columns(k=((pl.col("t") - int(starts[0])) // (days * DAY)).cast(pl.Int64))
        .filter((pl.col("k") >= 0) & (pl.col("k") < len(starts)))
        .group_by(*keys, "k")
        .agg(units=(-pl.col("available_delta")).sum())
        .filter(pl.col("units") > 0)
        .sort(*keys, "k")
    )


def _transfers(
    rng: np.random.Generator,
    ids: IdMaker,
    demand: pl.DataFrame,
    classes: np.ndarray,
    skus: list[str],
    start: int,
    horizon: int,
) -> pl.DataFrame:
    parts = []
    for w, code in enumerate(wh.CODES):
        kind = wh.KIND[w]
        if kind == "home":
            continue
        days = _PERIOD_DAYS[kind]
        starts = _periods(start, horizon, days)
        need = _period_demand(
            demand.filter(pl.col("warehouse_code") == code), ["sku"], starts, days
        )
        if need.height == 0:
            continue
        m = need.height
        pack = _PACK[kind]
        qty = np.ceil(need["units"].to_numpy() * rng.uniform(1.0, 1.3, m) / pack) * pack
        due = starts[need["k"].to_numpy()] - between(rng, 0, 3 * DAY, m)
        planned = _TRANSIT_DAYS[code] * DAY
        shipped = due - planned - 2 * DAY
        received = shipped + (planned * rng.uniform(0.9, 1.25, m)).astype(np.int64)
        parts.append(
            pl.DataFrame(
                {
                    "sku": need["sku"],
                    "from_warehouse": "SZX",
                    "to_warehouse": code,
                    "quantity": qty.astype(np.int64),
                    "shipped": shipped,
                    "received": received,
                }
            )
        )
    if not parts:
        return _empty_transfers()
    frame = (
        pl.concat(parts).filter(pl.col("shipped") <= horizon).sort("shipped", "to_warehouse", "sku")
    )
    shipped = frame["shipped"].to_numpy()
    received = frame["received"].to_numpy()
    return pl.DataFrame(
        {
            "transfer_id": ids("transfer", frame.height),
            "sku": frame["sku"],
            "from_warehouse": frame["from_warehouse"],
            "to_warehouse": frame["to_warehouse"],
            "quantity": frame["quantity"],
            "shipped_at": ts(shipped),
            "received_at": ts(received, horizon),
            "mode": frame["to_warehouse"]
            .str.starts_with("FBA")
            .replace_strict({True: "air", False: "sea"}, return_dtype=pl.String),
            "status": pl.Series(
                np.where(received <= horizon, "received", "in_transit"), dtype=pl.String
            ),
        }
    )


def _suppliers(products: pl.DataFrame, ids: IdMaker) -> pl.DataFrame:
    """One supplier per vendor of the catalogue, with its lead time (7-35 days)."""
    vendors = list(dict.fromkeys(p.vendor for p in reference.CATALOG))
    supplier_ids = ids("supplier", len(vendors))
    lead = [7 + (sum(map(ord, v)) * 7) % 29 for v in vendors]
    return pl.DataFrame(
        {"vendor": vendors, "supplier_id": supplier_ids, "lead_time_days": lead},
        schema_overrides={"lead_time_days": pl.Int64},
    )


def _purchase_orders(
    rng: np.random.Generator,
    ids: IdMaker,
    products: pl.DataFrame,
    home_out: pl.DataFrame,
    start: int,
    horizon: int,
) -> pl.DataFrame:
    days = _PERIOD_DAYS["home"]
    first = int(home_out["t"].min()) if home_out.height else start
    starts = _periods(min(first, start), horizon, days)
    need = _period_demand(home_out, ["sku"], starts, days)
    suppliers = _suppliers(products, ids)
    need = need.join(
        products.select("sku", "vendor", "unit_cost_minor", "cost_currency"), on="sku"
    ).join(suppliers, on="vendor")
    m = need.height
    qty = (
        np.ceil(need["units"].to_numpy() * rng.uniform(1.0, 1.25, m) / _PACK["home"])
        * _PACK["home"]
    )
    lead = need["lead_time_days"].to_numpy()
    expected = starts[need["k"].to_numpy()] - 2 * DAY
    ordered = expected - lead * DAY
    received = expected + between(rng, -2 * DAY, 6 * DAY, m)
    frame = (
        need.with_columns(
            quantity=pl.Series(qty.astype(np.int64)),
            ordered=pl.Series(ordered),
            expected=pl.Series(expected),
            received=pl.Series(received),
        )
        .filter(pl.col("ordered") <= horizon)
        .sort("ordered", "sku")
    )
    received = frame["received"].to_numpy()
    expected = frame["expected"].to_numpy()
    n = frame.height
    year = ts(frame["ordered"].to_numpy()).dt.year().cast(pl.String)
    return pl.DataFrame(
        {
            "po_id": ids("purchase_order", n),
            "po_number": "PO-"
            + year
            + "-"
            + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(6),
            "supplier_id": frame["supplier_id"],
            "supplier_name": frame["vendor"],
            "sku": frame["sku"],
            "warehouse_code": "SZX",
            "quantity": frame["quantity"],
            "unit_cost_minor": frame["unit_cost_minor"],
            "currency": frame["cost_currency"],
            "ordered_at": ts(frame["ordered"].to_numpy()),
            "expected_at": ts(expected),
            "received_at": ts(received, horizon),
            "lead_time_days": frame["lead_time_days"],
            "status": pl.Series(
                np.where(
                    received <= horizon,
                    "received",
                    np.where(expected <= horizon, "overdue", "open"),
                ),
                dtype=pl.String,
            ),
        }
    )


def _snapshot(
    rng: np.random.Generator,
    events: pl.DataFrame,
    classes: np.ndarray,
    skus: list[str],
    end: int,
) -> pl.DataFrame:
    """Stock at ``end`` with starting levels that keep availability non-negative throughout."""
    n_sku = len(skus)
    size = len(wh.CODES) * n_sku
    key = codes(events["warehouse_code"], wh.CODES) * n_sku + codes(events["sku"], skus)
    t = events["t"].to_numpy()
    d_available = events["available_delta"].to_numpy()
    d_on_hand = events["on_hand_delta"].to_numpy()
    # Walk each (warehouse, SKU) in time order (outflows first within an instant).
    order = np.lexsort((d_available, t, key))
    key_o, d_o = key[order], d_available[order]
    starts = np.flatnonzero(np.r_[True, key_o[1:] != key_o[:-1]]) if len(key_o) else key_o
    counts = np.diff(np.r_[starts, len(key_o)])
    cum = np.cumsum(d_o)
    level = cum - np.repeat(cum[starts] - d_o[starts], counts)
    lowest = np.zeros(size, dtype=np.int64)
    outflow = np.zeros(size, dtype=np.int64)
    last_event = np.zeros(size, dtype=np.int64)
    if len(key_o):
        group = key_o[starts]
        lowest[group] = np.minimum.reduceat(level, starts)
        outflow[group] = np.add.reduceat(np.maximum(-d_o, 0), starts)
        last_event[group] = np.maximum.reduceat(np.where(t[order] <= end, t[order], 0), starts)
    before = t <= end
    on_hand_end = np.bincount(key[before], weights=d_on_hand[before], minlength=size)
    available_end = np.bincount(key[before], weights=d_available[before], minlength=size)

    w_idx, s_idx = np.nonzero(classes != wh.NOT_CARRIED)
    grid = w_idx * n_sku + s_idx
    n = len(grid)
    home = w_idx == wh.HOME
    safety = np.where(
        home,
        rng.integers(20, 200, n),
        np.ceil(outflow[grid] * rng.uniform(0.02, 0.08, n)),
    ).astype(np.int64)
    initial = np.maximum(0, -np.minimum(lowest[grid], 0)) + safety
    initial = np.where(classes[w_idx, s_idx] == wh.OUT_OF_STOCK, 0, initial)
    on_hand = initial + np.rint(on_hand_end[grid]).astype(np.int64)
    available = initial + np.rint(available_end[grid]).astype(np.int64)
    base = end - rng.integers(3600, 3 * DAY, n)
    frame = pl.DataFrame(
        {
            "warehouse_code": take(wh.CODES, w_idx),
            "sku": take(skus, s_idx),
            "on_hand": on_hand,
            "reserved": on_hand - available,
            "updated_at": ts(np.maximum(base, last_event[grid])),
        }
    )
    return frame.sort("warehouse_code", "sku")


def _empty_pos() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "warehouse_code": pl.String,
            "sku": pl.String,
            "quantity": pl.Int64,
            "received_at": UTC_DT,
        }
    )


def _empty_transfers() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "transfer_id": pl.Int64,
            "sku": pl.String,
            "from_warehouse": pl.String,
            "to_warehouse": pl.String,
            "quantity": pl.Int64,
            "shipped_at": UTC_DT,
            "received_at": UTC_DT,
            "mode": pl.String,
            "status": pl.String,
        }
    )
