"""Money movements: payments with their real fee structures, refunds, disputes, payouts and
Stripe's balance transactions, converted with the ECB fixings.

Why these fees (2026 public pricing):
- Stripe (Shopify Payments' processor): 2.9% + 30c for a domestic card, +1.5% for an
  international card, +1% when the charge is converted to the USD balance; refunds do not
  return fees; a dispute costs $15, not returned when won. Balance becomes available two days
  after the charge and is paid out daily.
- PayPal: 3.49% + a fixed fee in the charge currency, +1.5% cross-border; PayPal converts at
  its retail rate (3% worse than the reference rate, both ways); a refund returns the
  percentage fee but not the fixed fee; a chargeback costs $20. The seller transfers the
  balance weekly (Mondays).
- Amazon: the marketplace collects, keeps a referral fee (8% on electronics, 15% otherwise) and
  the FBA fee per unit it fulfilled, returns 80% of the referral fee on refunds (20% refund
  administration fee), and pays out every 14 days in the marketplace's currency. Amazon orders
  therefore carry ``provider = "amazon"`` payments whose id is derived from the order id and
  whose payout is the settlement (``payout_id`` = settlement id).
Settlement follows the ledger rule: ``settlement = amount * fx_rate`` rounded half to even to
the settlement currency's minor unit (``fx_rate`` has six decimals), ``net = settlement - fee``,
and every payout is the exact sum of the net amounts it batches (a day or week whose sum is
not positive is carried to the next payout, as Stripe and PayPal do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingestion.sandbox.world.channels import CHANNELS
from ingestion.sandbox.world.common import (
    DAY,
    HOUR,
    NEVER,
    convert_minor,
    masked,
    round_half_even_div,
    take,
    ts,
)
from ingestion.sandbox.world.fxconv import Fx
from ingestion.sandbox.world.ids import UPPER_ALNUM, chars, digits

STRIPE, PAYPAL, AMAZON = 0, 1, 2
PROVIDERS = ("stripe", "paypal", "amazon")
_PAYPAL_FIXED = {
    "USD": 49,
    "EUR": 39,
    "GBP": 39,
    "CAD": 59,
    "AUD": 59,
    "JPY": 49,
    "CHF": 49,
    "SEK": 409,
    "DKK": 260,
    "NOK": 439,
    "PLN": 149,
    "CZK": 1000,
    "ILS": 160,
    "INR": 3500,
    "THB": 1500,
    "SGD": 50,
    "HKD": 290,
    "KRW": 550,
    "CNY": 200,
    "MXN": 900,
    "BRL": 200,
    "NZD": 59,
}
_PAYPAL_SPREAD_BP = 300
_DISPUTE_FEE = {STRIPE: 1500, PAYPAL: 2000}
_FBA_FEE = {"amazon_us": 322, "amazon_de": 280, "amazon_uk": 250, "amazon_jp": 318}
_ELECTRONICS = ("84", "85")


@dataclass
class Payments:
    payments: pl.DataFrame
    payment_refunds: pl.DataFrame
    disputes: pl.DataFrame
    payouts: pl.DataFrame
    balance_transactions: pl.DataFrame


def build(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    products: pl.DataFrame,
    provider: np.ndarray,
    paid: np.ndarray,
    card_country: pl.Series,
    refunds: pl.DataFrame,
    disputes: pl.DataFrame,
    fx: Fx,
    horizon: int,
) -> Payments:
    n = orders.height
    rows = np.flatnonzero((paid < NEVER) & (paid <= horizon))
    prov = provider[rows]
    at = paid[rows]
    amount = orders["total_price_presentment_minor"].to_numpy()[rows]
    currency = orders["presentment_currency"].gather(rows)
    cur_idx = fx.indices(currency)
    channel_ids = orders["channel_id"].gather(rows)
    settle_cur = pl.Series(
        np.where(prov == AMAZON, orders["currency"].gather(rows).to_numpy(), "USD"),
        dtype=pl.String,
    )
    settle_idx = fx.indices(settle_cur)
    market = fx.rate_micro(cur_idx, settle_idx, at)
    rate = np.where(
        prov == PAYPAL,
        np.where(cur_idx == settle_idx, 1_000_000, market * (10_000 - _PAYPAL_SPREAD_BP) // 10_000),
        np.where(prov == AMAZON, 1_000_000, market),
    )
    exp_cur, exp_settle = fx.exponents[cur_idx], fx.exponents[settle_idx]
    settle = convert_minor(amount, rate, exp_cur, exp_settle)

    # Fees.
    abroad = (card_country.gather(rows) != "US").to_numpy()
    converted = cur_idx != settle_idx
    stripe_bp = 290 + 150 * abroad + 100 * converted
    paypal_bp = 349 + 150 * abroad
    fixed = currency.replace_strict(_PAYPAL_FIXED, default=49, return_dtype=pl.Int64).to_numpy()
    paypal_fixed = convert_minor(fixed, rate, exp_cur, exp_settle)
    referral, referral_bp = _amazon_fees(orders, lines, products, rows)
    pct_bp = np.select([prov == STRIPE, prov == PAYPAL], [stripe_bp, paypal_bp], 0)
    fee = np.select(
        [prov == STRIPE, prov == PAYPAL],
        [
            round_half_even_div(settle * stripe_bp, 10_000) + 30,
            round_half_even_div(settle * paypal_bp, 10_000) + paypal_fixed,
        ],
        referral,
    )
    order_ids = orders["order_id"].gather(rows)
    external = orders["external_order_id"].gather(rows)
    payment_id = pl.Series([""] * len(rows), dtype=pl.String)
    for p, make in (
        (STRIPE, lambda k: "ch_3" + chars(k, 23, salt=11)),
        (PAYPAL, lambda k: digits(k % 10**9, 1, 3) + chars(k, 16, salt=12, alphabet=UPPER_ALNUM)),
        (AMAZON, lambda k: "AMZ-" + external.gather(np.flatnonzero(prov == AMAZON))),
    ):
        idx = np.flatnonzero(prov == p)
        if len(idx):
            payment_id = payment_id.scatter(idx, make(order_ids.gather(idx).to_numpy()))
    payments = pl.DataFrame(
        {
            "payment_id": payment_id,
            "order_id": order_ids,
            "provider": take(PROVIDERS, prov),
            "created_at": ts(at),
            "amount_minor": amount,
            "currency": currency,
            "fee_minor": fee,
            "fee_currency": settle_cur,
            "fx_rate": rate / 1e6,
            "settlement_currency": settle_cur,
            "settlement_amount_minor": settle,
            "net_minor": settle - fee,
            "channel_id": channel_ids,
            "card_country_code": masked(card_country.gather(rows), prov != AMAZON),
            "fee_rate_bp": np.where(prov == AMAZON, referral_bp, pct_bp),
            "order_idx": rows,
        }
    )
    pay_of_order = np.full(n, -1, dtype=np.int64)
    pay_of_order[rows] = np.arange(len(rows))

    p_refunds = _payment_refunds(refunds, payments, pay_of_order, fx, prov)
    p_disputes = _disputes(disputes, payments, pay_of_order, fx, horizon)
    return _payouts(rng, payments, p_refunds, p_disputes, horizon)


def _amazon_fees(
    orders: pl.DataFrame, lines: pl.DataFrame, products: pl.DataFrame, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Referral plus FBA fees of every order (zero for store orders), and the effective
    referral rate in basis points (what refunds give back 80% of)."""
    electronics = (
        lines.join(
            products.select("sku", chapter=pl.col("hs_code").str.slice(0, 2)), on="sku", how="left"
        )["chapter"]
        .is_in(_ELECTRONICS)
        .to_numpy()
    )
    bp = np.where(electronics, 800, 1500)
    gross = (
        lines["unit_price_minor"].to_numpy() * lines["quantity"].to_numpy()
        - lines["discount_minor"].to_numpy()
        + lines["tax_minor"].to_numpy()
    )
    starts = orders["line_start"].to_numpy()
    referral = np.add.reduceat(round_half_even_div(gross * bp, 10_000), starts)
    referral += round_half_even_div(orders["total_shipping_minor"].to_numpy() * 1500, 10_000)
    units = np.add.reduceat(lines["quantity"].to_numpy(), starts)
    per_unit = orders["channel_id"].replace_strict(_FBA_FEE, default=0, return_dtype=pl.Int64)
    fba = np.where(orders["fulfillment_channel"].fill_null("") == "AFN", per_unit * units, 0)
    total = (referral + fba)[rows]
    amount = orders["total_price_minor"].to_numpy()[rows]
    is_amazon = orders["channel_id"].gather(rows).str.starts_with("amazon").to_numpy()
    effective = np.where(amount > 0, referral[rows] * 10_000 // np.maximum(amount, 1), 0)
    return np.where(is_amazon, total, 0), np.where(is_amazon, effective, 0)


def _payment_refunds(
    refunds: pl.DataFrame, payments: pl.DataFrame, pay_of_order: np.ndarray, fx: Fx, _: np.ndarray
) -> pl.DataFrame:
    """Refunds paid back through the provider (not store credit, not chargebacks)."""
    r = refunds.filter(pl.col("refund_method").is_in(["original_payment", "marketplace"]))
    pay = pay_of_order[r["order_idx"].to_numpy()]
    r = r.filter(pl.Series(pay >= 0))
    pay = pay[pay >= 0]
    p = payments[pay]
    prov = (
        p["provider"]
        .replace_strict({v: i for i, v in enumerate(PROVIDERS)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    at = r["created_at"].dt.epoch("s").to_numpy()
    amount = r["presentment_amount_minor"].to_numpy()
    cur_idx = fx.indices(r["presentment_currency"])
    settle_idx = fx.indices(p["settlement_currency"])
    market = fx.rate_micro(cur_idx, settle_idx, at)
    rate = np.where(
        prov == PAYPAL,
        np.where(cur_idx == settle_idx, 1_000_000, market * (10_000 + _PAYPAL_SPREAD_BP) // 10_000),
        np.where(prov == AMAZON, 1_000_000, market),
    )
    settle = convert_minor(amount, rate, fx.exponents[cur_idx], fx.exponents[settle_idx])
    bp = p["fee_rate_bp"].to_numpy()
    fee_back = np.select(
        [prov == PAYPAL, prov == AMAZON],
        [round_half_even_div(settle * bp, 10_000), round_half_even_div(settle * bp * 8, 100_000)],
        0,
    )
    ref_ids = r["refund_id"].to_numpy()
    refund_id = pl.Series([""] * r.height, dtype=pl.String)
    for code, make in (
        (STRIPE, lambda k: "re_3" + chars(k, 23, salt=21)),
        (PAYPAL, lambda k: digits(k % 10**9, 1, 5) + chars(k, 16, salt=22, alphabet=UPPER_ALNUM)),
        (AMAZON, lambda k: "AMZR-" + chars(k, 12, salt=23, alphabet=UPPER_ALNUM)),
    ):
        idx = np.flatnonzero(prov == code)
        if len(idx):
            refund_id = refund_id.scatter(idx, make(ref_ids[idx]))
    return pl.DataFrame(
        {
            "payment_refund_id": refund_id,
            "payment_id": p["payment_id"],
            "refund_id": r["refund_id"],
            "created_at": r["created_at"],
            "amount_minor": amount,
            "currency": r["presentment_currency"],
            "fee_refunded_minor": fee_back,
            "settlement_amount_minor": settle,
            "settlement_currency": p["settlement_currency"],
            "fx_rate": rate / 1e6,
            "provider": p["provider"],
            "channel_id": p["channel_id"],
            "order_id": r["order_id"],
        }
    )


def _disputes(
    disputes: pl.DataFrame, payments: pl.DataFrame, pay_of_order: np.ndarray, fx: Fx, horizon: int
) -> pl.DataFrame:
    """Disputes with their balance effect: the disputed amount and fee are debited when the
    dispute opens, the amount is credited back (at that day's rate) when it is won."""
    pay = pay_of_order[disputes["order_idx"].to_numpy()]
    p = payments[pay]
    prov = (
        p["provider"]
        .replace_strict({v: i for i, v in enumerate(PROVIDERS)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    created = disputes["created_at"].dt.epoch("s").to_numpy()
    closes = disputes["closes_at"].dt.epoch("s").to_numpy()
    cur_idx = fx.indices(disputes["currency"])
    settle_idx = fx.indices(p["settlement_currency"])
    exp_c, exp_s = fx.exponents[cur_idx], fx.exponents[settle_idx]
    amount = disputes["amount_minor"].to_numpy()
    debit = convert_minor(amount, fx.rate_micro(cur_idx, settle_idx, created), exp_c, exp_s)
    won = (disputes["resolution"] == "won").to_numpy() & (closes <= horizon)
    credit = np.where(
        won, convert_minor(amount, fx.rate_micro(cur_idx, settle_idx, closes), exp_c, exp_s), 0
    )
    ids = disputes["order_id"].to_numpy()
    dispute_id = pl.Series([""] * disputes.height, dtype=pl.String)
    stripe = np.flatnonzero(prov == STRIPE)
    paypal = np.flatnonzero(prov == PAYPAL)
    if len(stripe):
        dispute_id = dispute_id.scatter(stripe, "dp_1" + chars(ids[stripe], 23, salt=31))
    if len(paypal):
        dispute_id = dispute_id.scatter(paypal, "PP-D-" + digits(ids[paypal] % 10**8, 8, 32))
    fee = (
        np.array([_DISPUTE_FEE[int(x)] for x in prov], dtype=np.int64)
        if len(prov)
        else np.zeros(0, np.int64)
    )
    return pl.DataFrame(
        {
            "dispute_id": dispute_id,
            "payment_id": p["payment_id"],
            "order_id": disputes["order_id"],
            "created_at": disputes["created_at"],
            "reason": disputes["reason"],
            "amount_minor": amount,
            "currency": disputes["currency"],
            "status": disputes["status"],
            "closed_at": disputes["closed_at"],
            "fee_minor": fee,
            "provider": p["provider"],
            "evidence_due_by": disputes["evidence_due_by"],
            "resolution": disputes["resolution"],
            "closes_at": disputes["closes_at"],
            "settlement_currency": p["settlement_currency"],
            "settlement_amount_minor": debit,
            "reversal_amount_minor": credit,
        }
    )


def _day_start(seconds: np.ndarray) -> np.ndarray:
    return seconds - seconds % DAY


def _schedule(
    ready: np.ndarray, net: np.ndarray, cutoffs: np.ndarray, lag: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Assign movements (ready at ``ready``) to payouts at ``cutoffs + lag``: each payout
    takes everything ready before its cutoff and not yet paid out, when that sums to more than
    zero (else it carries over). Returns each movement's payout number (-1: not yet paid
    out), and each payout's created instant and amount."""
    bucket = np.searchsorted(cutoffs, ready, side="right")
    # Exact integer sums (bincount would go through float64).
    exact = np.zeros(len(cutoffs) + 1, dtype=np.int64)
    np.add.at(exact, bucket, net)
    payout_of_bucket = np.full(len(cutoffs) + 1, -1, dtype=np.int64)
    created, amounts = [], []
    pending, first_pending = 0, 0
    for k in range(len(cutoffs)):
        pending += int(exact[k])
        when = int(cutoffs[k]) + lag
        if when > horizon:
            break
        if pending > 0:
            payout_of_bucket[first_pending : k + 1] = len(created)
            created.append(when)
            amounts.append(pending)
            pending, first_pending = 0, k + 1
    return (
        payout_of_bucket[bucket],
        np.array(created, dtype=np.int64),
        np.array(amounts, dtype=np.int64),
    )


def _payouts(
    rng: np.random.Generator,
    payments: pl.DataFrame,
    refunds: pl.DataFrame,
    disputes: pl.DataFrame,
    horizon: int,
) -> Payments:
    """Batch every balance movement into payouts; derive Stripe's balance transactions."""

    # Movements: (table, row, provider, channel, created, ready, gross, fee, net, currency).
    def movement(table, frame, created, gross, fee):  # type: ignore[no-untyped-def]
        return pl.DataFrame(
            {
                "table": table,
                "row": np.arange(frame.height),
                "provider": frame["provider"],
                "channel_id": frame["channel_id"] if "channel_id" in frame.columns else None,
                "created": created,
                "gross": gross,
                "fee": fee,
                "net": gross - fee,
                "currency": frame["settlement_currency"],
            },
            schema_overrides={"channel_id": pl.String},
        )

    p_created = payments["created_at"].dt.epoch("s").to_numpy()
    r_created = refunds["created_at"].dt.epoch("s").to_numpy()
    d_created = disputes["created_at"].dt.epoch("s").to_numpy()
    d_closes = disputes["closes_at"].dt.epoch("s").to_numpy()
    d_won = disputes["reversal_amount_minor"].to_numpy() > 0
    dispute_channel = disputes.with_columns(channel_id=pl.lit("shopify"))
    moves = pl.concat(
        [
            movement(
                "charge",
                payments,
                p_created,
                payments["settlement_amount_minor"].to_numpy(),
                payments["fee_minor"].to_numpy(),
            ),
            movement(
                "refund",
                refunds,
                r_created,
                -refunds["settlement_amount_minor"].to_numpy(),
                -refunds["fee_refunded_minor"].to_numpy(),
            ),
            movement(
                "dispute",
                dispute_channel,
                d_created,
                -disputes["settlement_amount_minor"].to_numpy(),
                disputes["fee_minor"].to_numpy(),
            ),
            movement(
                "reversal",
                dispute_channel,
                d_closes,
                disputes["reversal_amount_minor"].to_numpy(),
                np.zeros(disputes.height, np.int64),
            ),
        ]
    )
    keep = np.concatenate(
        [
            np.ones(payments.height + refunds.height + disputes.height, bool),
            d_won & (d_closes <= horizon),
        ]
    )
    moves = moves.filter(pl.Series(keep)).with_row_index("move")
    created = moves["created"].to_numpy()
    is_charge = (moves["table"] == "charge").to_numpy()
    provider = moves["provider"].to_numpy()
    # Stripe: charges available two days later, debits the next day; paid out daily.
    stripe_ready = _day_start(created) + np.where(is_charge, 2 * DAY, DAY)
    payout_of = np.full(moves.height, -1, dtype=np.int64)
    payout_rows = []
    first_day = _day_start(created.min(initial=horizon)) if moves.height else horizon
    n_payouts = 0
    for prov, channel_id, ready, cutoffs, lag, arrival in _accounts(
        moves, provider, created, stripe_ready, first_day, horizon
    ):
        rows = np.flatnonzero(
            (provider == prov)
            & ((moves["channel_id"] == channel_id).to_numpy() if channel_id else True)
        )
        assigned, when, amounts = _schedule(
            ready[rows], moves["net"].to_numpy()[rows], cutoffs, lag, horizon
        )
        payout_of[rows] = np.where(assigned >= 0, assigned + n_payouts, -1)
        counts = np.bincount(assigned[assigned >= 0], minlength=len(when))
        currency = moves["currency"].to_numpy()[rows][0] if len(rows) else "USD"
        payout_rows.append(
            pl.DataFrame(
                {
                    "payout_idx": np.arange(n_payouts, n_payouts + len(when)),
                    "provider": prov,
                    "channel_id": channel_id,
                    "created": when,
                    "arrival": _business_days_after(when, arrival),
                    "amount_minor": amounts,
                    "currency": currency,
                    "transaction_count": counts.astype(np.int64),
                },
                schema_overrides={"channel_id": pl.String, "currency": pl.String},
            )
        )
        n_payouts += len(when)
    payouts = pl.concat(payout_rows) if payout_rows else pl.DataFrame()
    return _frames(payments, refunds, disputes, moves, payout_of, payouts, stripe_ready, horizon)


def _accounts(moves, provider, created, stripe_ready, first_day, horizon):  # type: ignore[no-untyped-def]
    """(provider, channel, ready instants, cutoffs, lag, business days to arrival) of every
    balance account: Stripe and PayPal (the store), one Amazon account per marketplace."""
    days = np.arange(first_day, horizon + DAY, DAY, dtype=np.int64)
    yield "stripe", None, stripe_ready, days + DAY, 2 * HOUR - DAY, 1
    # PayPal: Mondays (1970-01-05 was a Monday).
    mondays = days[((days // DAY) - 4) % 7 == 0]
    yield "paypal", None, created, mondays, 6 * HOUR, 1
    for ch in CHANNELS:
        if ch.platform != "amazon":
            continue
        # Settlements close every other Thursday; the transfer starts the next day.
        thursdays = days[((days // DAY) - 0) % 14 == 0]
        yield "amazon", ch.channel_id, created, thursdays, DAY, 3


def _business_days_after(seconds: np.ndarray, n: int) -> np.ndarray:
    """Epoch seconds of the day ``n`` business days after each instant's day."""
    day = seconds // DAY
    out = day.copy()
    for _ in range(n):
        out = out + 1
        weekday = (out - 4) % 7  # 0 = Monday
        out = out + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    return out * DAY


def _frames(payments, refunds, disputes, moves, payout_of, payouts, stripe_ready, horizon):  # type: ignore[no-untyped-def]
    """Final ledger tables with string payout ids and Stripe balance transactions."""
    prov = payouts["provider"].to_numpy() if payouts.height else np.array([], dtype=object)
    idx = payouts["payout_idx"].to_numpy() if payouts.height else np.array([], dtype=np.int64)
    payout_id = pl.Series([""] * payouts.height, dtype=pl.String)
    for name, make in (
        ("stripe", lambda k: "po_1" + chars(k, 23, salt=41)),
        ("paypal", lambda k: chars(k, 13, salt=42, alphabet=UPPER_ALNUM)),
        ("amazon", lambda k: pl.Series(k * 7919 + 24_100_000_000, dtype=pl.Int64).cast(pl.String)),
    ):
        rows = np.flatnonzero(prov == name)
        if len(rows):
            payout_id = payout_id.scatter(rows, make(idx[rows]))
    created = payouts["created"].to_numpy() if payouts.height else np.array([], np.int64)
    arrival = payouts["arrival"].to_numpy() if payouts.height else np.array([], np.int64)
    payouts_frame = pl.DataFrame(
        {
            "payout_id": payout_id,
            "provider": payouts["provider"] if payouts.height else pl.Series([], dtype=pl.String),
            "created_at": ts(created),
            "arrival_date": ts(arrival).dt.date(),
            "amount_minor": payouts["amount_minor"]
            if payouts.height
            else pl.Series([], dtype=pl.Int64),
            "currency": payouts["currency"] if payouts.height else pl.Series([], dtype=pl.String),
            "status": pl.Series(
                np.where(arrival <= horizon, "paid", "in_transit"), dtype=pl.String
            ),
            "transaction_count": payouts["transaction_count"]
            if payouts.height
            else pl.Series([], dtype=pl.Int64),
            "channel_id": payouts["channel_id"]
            if payouts.height
            else pl.Series([], dtype=pl.String),
        }
    )
    lookup = (
        payout_id.gather(np.maximum(payout_of, 0))
        if payouts.height
        else pl.Series([None] * moves.height, dtype=pl.String)
    )
    move_payout = masked(lookup, payout_of >= 0) if payouts.height else lookup
    moves = moves.with_columns(payout_id=move_payout)

    def of(table: str, n: int) -> pl.Series:
        part = moves.filter(pl.col("table") == table)
        out = pl.Series([None] * n, dtype=pl.String)
        if part.height:
            out = out.scatter(part["row"].to_numpy(), part["payout_id"])
        return out

    payments = payments.with_columns(payout_id=of("charge", payments.height))
    refunds = refunds.with_columns(payout_id=of("refund", refunds.height))
    disputes = disputes.with_columns(
        payout_id=of("dispute", disputes.height),
        reversal_payout_id=of("reversal", disputes.height),
    )

    # Stripe balance transactions: one per Stripe movement, plus one per payout.
    stripe = moves.filter(pl.col("provider") == "stripe")
    src_table = stripe["table"].to_numpy()
    src_row = stripe["row"].to_numpy()
    source = pl.Series([""] * stripe.height, dtype=pl.String)
    rate = np.full(stripe.height, np.nan)
    for table, frame, column in (
        ("charge", payments, "payment_id"),
        ("refund", refunds, "payment_refund_id"),
        ("dispute", disputes, "dispute_id"),
        ("reversal", disputes, "dispute_id"),
    ):
        rows = np.flatnonzero(src_table == table)
        if len(rows):
            source = source.scatter(rows, frame[column].gather(src_row[rows]))
            if "fx_rate" in frame.columns:
                rate[rows] = frame["fx_rate"].to_numpy()[src_row[rows]]
    s_created = stripe["created"].to_numpy()
    s_ready = stripe_ready[stripe["move"].to_numpy()]
    converted = ~np.isnan(rate) & (rate != 1.0)
    bt = pl.DataFrame(
        {
            "provider": "stripe",
            "type": pl.Series(
                np.select(
                    [src_table == "charge", src_table == "refund"],
                    ["charge", "refund"],
                    "adjustment",
                ),
                dtype=pl.String,
            ),
            "source_id": source,
            "created": s_created,
            "available_on": ts(s_ready).dt.date(),
            "amount_minor": stripe["gross"],
            "fee_minor": stripe["fee"],
            "net_minor": stripe["net"],
            "currency": stripe["currency"],
            "exchange_rate": masked(pl.Series(np.nan_to_num(rate, nan=1.0)), converted),
            "payout_id": stripe["payout_id"],
        }
    )
    po = payouts_frame.filter(pl.col("provider") == "stripe")
    po_created = po["created_at"].dt.epoch("s").to_numpy()
    bt_payouts = pl.DataFrame(
        {
            "provider": "stripe",
            "type": "payout",
            "source_id": po["payout_id"],
            "created": po_created,
            "available_on": po["created_at"].dt.date(),
            "amount_minor": -po["amount_minor"],
            "fee_minor": pl.Series(np.zeros(po.height, dtype=np.int64)),
            "net_minor": -po["amount_minor"],
            "currency": po["currency"],
            "exchange_rate": pl.Series([None] * po.height, dtype=pl.Float64),
            "payout_id": po["payout_id"],
        }
    )
    bt = pl.concat([bt, bt_payouts], how="vertical_relaxed").sort("created", "source_id", "type")
    bt = bt.with_columns(
        balance_transaction_id="txn_3" + chars(np.arange(bt.height), 23, salt=51),
        created_at=ts(bt["created"].to_numpy()),
    ).select(
        "balance_transaction_id",
        "provider",
        "type",
        "source_id",
        "created_at",
        "available_on",
        "amount_minor",
        "fee_minor",
        "net_minor",
        "currency",
        "exchange_rate",
        "payout_id",
    )
    return Payments(
        payments=payments.drop("order_idx").sort("payment_id"),
        payment_refunds=refunds.sort("payment_refund_id"),
        disputes=disputes.sort("dispute_id"),
        payouts=payouts_frame.sort("payout_id"),
        balance_transactions=bt.sort("balance_transaction_id"),
    )
