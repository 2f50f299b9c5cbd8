"""What happens to an order after checkout: payment, fraud and address holds, cancellation,
and shipment (sometimes split across warehouses) with its carrier, transit and outcome.

Why these rules (each a share drawn per order, all vectorized):
- Payment: store orders pay by card through Shopify Payments (Stripe) or PayPal, captured
  seconds after checkout; a few are declined and voided. Amazon collects itself.
- Fraud screening (store only): a risk score adds up the signals fraud shares with legitimate
  orders (new customer, high value, billing country differing from the shipping country,
  express to a far country, a mismatched address) plus noise, so fraud and legitimate orders
  overlap; high scores are held for review, then released or cancelled. Broken addresses are
  held until the customer fixes them (or the order is cancelled).
- Fulfilment: a shipment per warehouse of the order (see ``orders``), shipped after a handling
  delay that depends on the warehouse (FBA hours, 3PL a day or two, Shenzhen longer, and no
  shipping over the Chinese New Year holiday). Customers cancel some orders before shipping.
- Carriers and transit per lane; most parcels arrive, some fail (undeliverable: PO boxes for
  couriers, missing postal codes, wrong country) and return to sender, a few get lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ingestion.sandbox.world import warehouses as wh
from ingestion.sandbox.world.common import DAY, HOUR, NEVER, between, codes, skewed, take
from ingestion.sandbox.world.customers import ISSUES
from ingestion.sandbox.world.fxconv import epoch_day

PROVIDERS = ("stripe", "paypal", "amazon")
GATEWAYS = ("shopify_payments", "paypal", "amazon")
HOLD_REASONS = ("fraud_review", "address_issue")
CANCEL_REASONS = ("declined", "fraud", "customer", "inventory", "other")
CARRIERS = ("DHL", "FedEx", "UPS", "USPS", "Yanwen", "Cainiao", "Royal Mail", "Japan Post", "DPD")
OUTCOMES = ("delivered", "failed", "lost")
# Chinese New Year: the home warehouse and its carriers stop for about ten days.
_NEW_YEAR = (date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26))
_FAR = ("BR", "MX", "RU", "IN", "IL", "AE", "NZ", "AU", "CL", "AR")
_NEAR_CHINA = ("JP", "KR", "HK", "TW", "SG", "TH")
_COURIERS = ("DHL", "FedEx", "UPS", "DPD")


@dataclass
class Lifecycle:
    """Per-order lifecycle columns (numpy, ``NEVER`` for events that do not happen) plus
    shipments and their lines."""

    provider: np.ndarray
    paid: np.ndarray
    risk_score: np.ndarray
    billing_country: pl.Series
    held: np.ndarray
    hold_reason: np.ndarray
    released: np.ndarray
    cancelled: np.ndarray
    cancel_reason: np.ndarray
    shipments: pl.DataFrame
    shipment_lines: pl.DataFrame


def simulate(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    address_issue: pl.Series,
    horizon: int,
) -> Lifecycle:
    n = orders.height
    created = orders["created_at"].dt.epoch("s").to_numpy()
    is_store = (orders["channel_id"] == "shopify").to_numpy()
    is_fraud = orders["is_fraud"].to_numpy()
    country = orders["country_code"]

    # Payment.
    provider = np.where(is_store, (rng.random(n) < 0.22).astype(np.int64), 2)
    declined = np.where(is_store, rng.random(n) < 0.012, rng.random(n) < 0.004)
    delay = np.select(
        [provider == 0, provider == 1],
        [between(rng, 5, 120, n), between(rng, 10, 90, n)],
        between(rng, 60, 2 * HOUR, n),
    )
    paid = np.where(declined, NEVER, created + delay)
    cancelled = np.where(declined, created + between(rng, 300, HOUR, n), NEVER)
    cancel_reason = np.where(declined, 0, -1)

    # Fraud screening: shared signals, different rates, plus noise.
    total_usd = orders["total_price_minor"].to_numpy()
    high_value = (
        total_usd >= np.quantile(total_usd[is_store], 0.9) if is_store.any() else total_usd < 0
    )
    mismatch = is_store & (rng.random(n) < np.where(is_fraud, 0.55, 0.03))
    express_far = orders["is_express"].to_numpy() & ~country.is_in(["US"]).to_numpy()
    express_far |= is_fraud & (rng.random(n) < 0.35)
    bad_address = address_issue.fill_null("").to_numpy() != ""
    score = (
        12 * orders["is_first_order"].to_numpy()
        + 22 * high_value
        + 30 * mismatch
        + 14 * express_far
        + 14 * (address_issue == "country_mismatch").fill_null(False).to_numpy()
        + rng.normal(8, 9, n)
        + np.where(is_fraud, rng.normal(14, 10, n), 0)
    )
    risk_score = np.where(is_store, np.clip(np.rint(score), 0, 100), 0).astype(np.int64)
    billing = _billing_countries(rng, country, mismatch)

    held = np.full(n, NEVER)
    hold_reason = np.full(n, -1)
    released = np.full(n, NEVER)
    review = is_store & ~declined & (risk_score >= 60)
    held = np.where(review, paid + between(rng, 60, 1800, n), held)
    hold_reason = np.where(review, 0, hold_reason)
    decided = held + between(rng, 2 * HOUR, 48 * HOUR, n)
    cancel_review = review & (rng.random(n) < np.where(is_fraud, 0.8, 0.08))
    released = np.where(review & ~cancel_review, decided, released)
    cancelled = np.where(cancel_review, decided, cancelled)
    cancel_reason = np.where(cancel_review, 1, cancel_reason)
    address_hold = is_store & ~declined & ~review & bad_address & (rng.random(n) < 0.8)
    held = np.where(address_hold, paid + between(rng, 10, 300, n), held)
    hold_reason = np.where(address_hold, 1, hold_reason)
    fixed = address_hold & (rng.random(n) < 0.75)
    released = np.where(fixed, held + between(rng, DAY, 4 * DAY, n), released)
    gave_up = address_hold & ~fixed
    cancelled = np.where(gave_up, held + between(rng, 3 * DAY, 7 * DAY, n), cancelled)
    cancel_reason = np.where(gave_up, 4, cancel_reason)

    ready = np.where(released < NEVER, released, paid)
    shipments, shipment_lines, first_ship = _shipments(
        rng, orders, lines, ready, country, address_issue
    )

    # Customers (and stock-outs) cancel some orders between payment and the first shipment.
    open_orders = (cancelled == NEVER) & (paid < NEVER)
    u = rng.random(n)
    late_cancel = open_orders & (u < 0.024)
    frac = rng.uniform(0.1, 0.9, n)
    cancel_at = ready + ((np.minimum(first_ship, ready + 10 * DAY) - ready) * frac).astype(np.int64)
    cancelled = np.where(late_cancel, cancel_at, cancelled)
    cancel_reason = np.where(late_cancel, np.where(u < 0.004, 3, 2), cancel_reason)
    # A cancelled order ships nothing.
    cancelled_idx = np.flatnonzero(cancelled < NEVER)
    shipments = shipments.filter(~pl.col("order_idx").is_in(cancelled_idx))
    shipments = shipments.filter(pl.col("shipped") <= horizon)
    shipment_lines = shipment_lines.join(
        shipments.select("life_idx"), on="life_idx", how="semi", maintain_order="left"
    )
    return Lifecycle(
        provider=provider,
        paid=paid,
        risk_score=risk_score,
        billing_country=billing,
        held=held,
        hold_reason=hold_reason,
        released=released,
        cancelled=cancelled,
        cancel_reason=cancel_reason,
        shipments=shipments,
        shipment_lines=shipment_lines,
    )


def _billing_countries(
    rng: np.random.Generator, country: pl.Series, mismatch: np.ndarray
) -> pl.Series:
    """The card's country: the shipping country, except for mismatches (gifts, expats, and
    stolen cards)."""
    elsewhere = take(
        ("US", "GB", "NG", "BR", "RU", "VN", "ID", "DE"), rng.integers(0, 8, len(country))
    )
    frame = pl.DataFrame({"ship": country, "other": elsewhere, "mismatch": mismatch})
    return frame.select(
        pl.when(~pl.col("mismatch"))
        .then(pl.col("ship"))
        .when(pl.col("other") == pl.col("ship"))
        .then(pl.lit("CA"))
        .otherwise(pl.col("other"))
    ).to_series()


def _new_year_delay(shipped: np.ndarray) -> np.ndarray:
    """Shipments from Shenzhen that fall in the Chinese New Year break wait for its end."""
    out = shipped.copy()
    for day in _NEW_YEAR:
        start = epoch_day(day) - 3 * DAY
        end = epoch_day(day) + 10 * DAY
        inside = (shipped >= start) & (shipped < end)
        out = np.where(inside, end + (shipped - start) % (2 * DAY), out)
    return out


def _shipments(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    ready: np.ndarray,
    country: pl.Series,
    address_issue: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """One shipment per (order, warehouse), the local or FBA one first, with carrier, transit
    and outcome; and the first shipment instant per order."""
    n = orders.height
    line_order = np.repeat(np.arange(n), orders["line_count"].to_numpy())
    line_wh = codes(lines["warehouse_code"], wh.CODES)
    home_last = (line_wh == wh.HOME).astype(np.int64)
    key = line_order * 32 + home_last * 16 + line_wh
    uniq, line_shipment = np.unique(key, return_inverse=True)
    order_idx = uniq // 32
    s_wh = uniq % 16
    m = len(uniq)
    seq = np.arange(m) - np.searchsorted(order_idx, order_idx, side="left")
    split_count = np.bincount(order_idx, minlength=n)

    kind = np.array(wh.KIND)[s_wh]
    handling = np.select(
        [kind == "fba", kind == "overseas"],
        [skewed(rng, 2 * HOUR, 30 * HOUR, m), skewed(rng, 8 * HOUR, 48 * HOUR, m)],
        skewed(rng, 20 * HOUR, 5 * DAY, m),
    )
    shipped = ready[order_idx] + handling
    shipped = np.where(s_wh == wh.HOME, _new_year_delay(shipped), shipped)
    shipped = np.where(ready[order_idx] >= NEVER, NEVER, shipped)
    first_ship = np.full(n, NEVER)
    np.minimum.at(first_ship, order_idx, shipped)

    dest = country.gather(order_idx)
    express = orders["is_express"].to_numpy()[order_idx]
    issue = address_issue.gather(order_idx).fill_null("")
    carrier, service = _carriers(rng, s_wh, dest, express)
    origin_country = take(wh.COUNTRY, s_wh)
    domestic = (origin_country == dest).to_numpy()
    far = dest.is_in(_FAR).to_numpy()
    is_home = s_wh == wh.HOME
    courier = carrier.is_in(_COURIERS).to_numpy()
    home_express = is_home & courier
    transit = np.select(
        [kind == "fba", ~is_home & domestic, ~is_home, home_express, far],
        [
            skewed(rng, 1 * DAY, 3 * DAY, m),
            skewed(rng, 1 * DAY, 5 * DAY, m),
            skewed(rng, 2 * DAY, 7 * DAY, m),
            skewed(rng, 3 * DAY, 8 * DAY, m),
            skewed(rng, 15 * DAY, 40 * DAY, m),
        ],
        skewed(rng, 7 * DAY, 25 * DAY, m),
    )
    issue_np = np.array(["", *ISSUES])[codes(issue, ["", *ISSUES])]
    p_failed = np.select(
        [
            (issue_np == "po_box") & courier,
            issue_np == "po_box",
            issue_np == "missing_postal_code",
            issue_np == "country_mismatch",
        ],
        [0.7, 0.05, 0.35, 0.5],
        0.008,
    )
    p_lost = np.select([domestic | (kind == "fba"), home_express], [0.003, 0.004], 0.015)
    u = rng.random(m)
    outcome = np.select([u < p_lost, u < p_lost + p_failed], [2, 1], 0)
    attempt = (outcome == 0) & (rng.random(m) < 0.08)
    pickup = (outcome == 0) & ~attempt & (rng.random(m) < 0.05)
    delivered = np.where(outcome == 0, shipped + transit + attempt * DAY, NEVER)
    # Failed parcels return to sender after the attempts; lost ones stop scanning midway and
    # the seller gives up on them a couple of weeks after they were due.
    last_scan = shipped + (transit * rng.uniform(0.3, 0.7, m)).astype(np.int64)
    outcome_at = np.select(
        [outcome == 0, outcome == 1],
        [delivered, shipped + transit + between(rng, 3 * DAY, 8 * DAY, m)],
        shipped + transit + between(rng, 10 * DAY, 20 * DAY, m),
    )
    shipments = pl.DataFrame(
        {
            "order_idx": order_idx,
            "seq": seq,
            "warehouse_idx": s_wh,
            "warehouse_code": take(wh.CODES, s_wh),
            "carrier": carrier,
            "service": service,
            "shipped": shipped,
            "transit": transit,
            "outcome_code": outcome,
            "outcome": take(OUTCOMES, outcome),
            "outcome_at": np.where(shipped < NEVER, outcome_at, NEVER),
            "delivered": delivered,
            "last_scan": last_scan,
            "attempt": attempt,
            "pickup": pickup,
            "is_split": split_count[order_idx] > 1,
            "origin_country": origin_country,
            "dest_country": dest,
        }
    ).with_row_index("life_idx")
    shipment_lines = pl.DataFrame(
        {
            "life_idx": line_shipment.astype(np.int64),
            "line_id": lines["line_id"],
            "quantity": lines["quantity"],
        }
    )
    return shipments, shipment_lines, first_ship


def _carriers(
    rng: np.random.Generator, s_wh: np.ndarray, dest: pl.Series, express: np.ndarray
) -> tuple[pl.Series, pl.Series]:
    """Carrier and service of each shipment, from its lane and speed."""
    m = len(s_wh)
    code = np.array(wh.CODES)[s_wh]
    countries = sorted({*dest.unique().to_list(), "US", "DE", "GB"})
    d = np.array(countries)[codes(dest, countries)]
    u = rng.random(m)
    near = dest.is_in(_NEAR_CHINA).to_numpy()
    c = CARRIERS.index
    carrier = np.select(
        [
            code == "FBA-US",
            code == "FBA-DE",
            code == "FBA-UK",
            code == "FBA-JP",
            (code == "LAX") & (d == "US") & ~express,
            code == "LAX",
            (code == "FRA") & (d == "DE") & ~express,
            (code == "FRA") & express,
            code == "FRA",
            (code == "BHX") & (d == "GB") & ~express,
            code == "BHX",
            code == "NRT",
            (express | near) & (u < 0.5),
            (express | near) & (u < 0.8),
            express | near,
            u < 0.55,
        ],
        [
            np.where(u < 0.6, c("UPS"), c("USPS")),
            c("DHL"),
            c("Royal Mail"),
            c("Japan Post"),
            c("USPS"),
            c("UPS"),
            c("DHL"),
            c("UPS"),
            c("DPD"),
            c("Royal Mail"),
            c("DPD"),
            c("Japan Post"),
            c("DHL"),
            c("FedEx"),
            c("UPS"),
            c("Yanwen"),
        ],
        c("Cainiao"),
    )
    domestic = np.array(wh.COUNTRY)[s_wh] == d
    service = np.select(
        [
            carrier == c("USPS"),
            (carrier == c("UPS")) & domestic,
            carrier == c("UPS"),
            (carrier == c("DHL")) & domestic,
            (carrier == c("DHL")) & (code == "SZX"),
            carrier == c("DHL"),
            carrier == c("FedEx"),
            carrier == c("Royal Mail"),
            carrier == c("Japan Post"),
            carrier == c("DPD"),
            carrier == c("Yanwen"),
        ],
        [
            np.where(express, 5, 0),
            1,
            2,
            3,
            4,
            10,
            6,
            np.where(express, 11, 7),
            8,
            9,
            12,
        ],
        13,
    )
    services = (
        "Ground Advantage",
        "Ground",
        "Worldwide Saver",
        "Paket",
        "Express Worldwide",
        "Priority Mail Express",
        "International Priority",
        "Tracked 48",
        "Yu-Pack",
        "Classic",
        "Paket International",
        "Tracked 24",
        "Special Line",
        "Global Standard",
    )
    return take(CARRIERS, carrier), take(services, service)
