"""When orders arrive: channel shares, growth, weekly and yearly seasonality, promotion peaks
and the hour of day.

Why modelled per day and channel: routing, staffing and stock decisions are tested on demand
that moves the way real demand does. Cross-border shoppers buy more at weekends (Amazon on
Sundays and Mondays); Q4 builds up to Christmas; Black Friday to Cyber Monday is the year's
peak on every western channel; Prime Day (July) and Prime Big Deal Days (October) lift the
Amazon marketplaces, with a halo on the store; 11.11 lifts the store, which a Chinese seller
promotes. Orders arrive by a daily intensity per channel and, within the day, by a diurnal
profile in the shoppers' local time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from ingestion.sandbox.world.channels import CHANNELS
from ingestion.sandbox.world.common import DAY, epoch

# Mon..Sun.
_WEEKDAY_STORE = np.array([0.95, 0.92, 0.95, 1.0, 1.05, 1.15, 1.2])
_WEEKDAY_AMAZON = np.array([1.06, 1.0, 0.98, 0.98, 0.96, 0.97, 1.08])
# January..December.
_MONTH = np.array([0.86, 0.82, 0.9, 0.92, 0.95, 0.93, 0.98, 0.95, 0.98, 1.02, 1.12, 1.28])
# Share of a day's orders per local hour (0..23): quiet nights, lunch and evening peaks.
_HOURS = np.array(
    [
        0.3,
        0.2,
        0.15,
        0.12,
        0.12,
        0.2,
        0.4,
        0.7,
        0.9,
        1.0,
        1.05,
        1.1,
        1.2,
        1.15,
        1.05,
        1.0,
        1.0,
        1.05,
        1.15,
        1.3,
        1.45,
        1.5,
        1.2,
        0.7,
    ]
)
_GROWTH_PER_YEAR = 0.25


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def promotions(year: int) -> dict[date, dict[str, float]]:
    """Multipliers per day and channel (``"*"`` for every channel) of one year's peaks."""
    out: dict[date, dict[str, float]] = {}

    def put(day: date, factor: float, channels: tuple[str, ...] = ("*",)) -> None:
        for ch in channels:
            out.setdefault(day, {})[ch] = max(out.get(day, {}).get(ch, 1.0), factor)

    amazon = ("amazon_us", "amazon_de", "amazon_uk", "amazon_jp")
    western = ("shopify", "amazon_us", "amazon_de", "amazon_uk")
    # Black Friday is the day after the fourth Thursday of November; its week builds up.
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    black_friday = thanksgiving + timedelta(days=1)
    for offset in range(-7, 0):
        put(black_friday + timedelta(days=offset), 1.35, western)
    put(thanksgiving, 1.6, western)
    put(black_friday, 3.2, western)
    put(black_friday + timedelta(days=1), 2.3, western)
    put(black_friday + timedelta(days=2), 2.0, western)
    put(black_friday + timedelta(days=3), 2.6, western)  # Cyber Monday
    put(black_friday, 1.8, ("amazon_jp",))
    # Singles' Day.
    put(date(year, 11, 11), 1.9, ("shopify",))
    put(date(year, 11, 10), 1.2, ("shopify",))
    put(date(year, 11, 12), 1.2, ("shopify",))
    put(date(year, 11, 11), 1.15, amazon)
    # Prime Day: the second Tuesday of July and the day after; Big Deal Days in October.
    prime = _nth_weekday(year, 7, 1, 2)
    put(prime - timedelta(days=1), 1.25, amazon)
    put(prime, 3.5, amazon)
    put(prime + timedelta(days=1), 3.0, amazon)
    put(prime, 1.25, ("shopify",))
    put(prime + timedelta(days=1), 1.2, ("shopify",))
    big_deal = _nth_weekday(year, 10, 1, 2)
    put(big_deal, 1.8, amazon)
    put(big_deal + timedelta(days=1), 1.6, amazon)
    # Christmas: gifts until the shipping cut-offs, then a lull.
    for day in range(1, 19):
        put(date(year, 12, day), 1.15)
    for day in range(24, 32):
        out.setdefault(date(year, 12, day), {})["*"] = 0.7 if day <= 26 else 0.85
    return out


def intensity(first: date, n_days: int, origin: date) -> np.ndarray:
    """Relative expected orders per (channel, day) for the ``n_days`` from ``first``;
    ``origin`` anchors the growth trend."""
    days = [first + timedelta(days=i) for i in range(n_days)]
    years = {d.year for d in days}
    promo: dict[date, dict[str, float]] = {}
    for y in years:
        promo.update(promotions(y))
    out = np.empty((len(CHANNELS), n_days))
    for c, ch in enumerate(CHANNELS):
        weekday = _WEEKDAY_STORE if ch.platform == "shopify" else _WEEKDAY_AMAZON
        for i, d in enumerate(days):
            peaks = promo.get(d, {})
            factor = peaks.get(ch.channel_id, peaks.get("*", 1.0))
            if ch.channel_id in peaks and "*" in peaks:
                factor = max(peaks[ch.channel_id], peaks["*"])
            growth = 1.0 + _GROWTH_PER_YEAR * (d - origin).days / 365.0
            out[c, i] = ch.share * weekday[d.weekday()] * _MONTH[d.month - 1] * factor * growth
    return out


def order_times(
    rng: np.random.Generator, n_orders: int, start: datetime, end: datetime, horizon: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Creation instants (epoch seconds, sorted) and channel index of every order: exactly
    ``n_orders`` in ``[start, end]`` and, after ``end``, as many as the same intensity gives
    up to ``horizon``."""
    t0, t_end, t_hz = epoch(start), epoch(end), epoch(horizon)
    first = start.date()
    n_days = (horizon.date() - first).days + 1
    lam = intensity(first, n_days, origin=first)
    day_start = np.array(
        [
            epoch(datetime(d.year, d.month, d.day, tzinfo=start.tzinfo))
            for d in (first + timedelta(days=i) for i in range(n_days))
        ]
    )
    # Fraction of each day inside the history window and inside the future window.
    hist_frac = np.clip(
        (np.minimum(day_start + DAY, t_end) - np.maximum(day_start, t0)) / DAY, 0, 1
    )
    fut_frac = np.clip(
        (np.minimum(day_start + DAY, t_hz) - np.maximum(day_start, t_end)) / DAY, 0, 1
    )
    hist = lam * hist_frac
    fut = lam * fut_frac
    n_future = int(round(n_orders * fut.sum() / hist.sum()))
    chunks_t, chunks_c = [], []
    for weights, n, lo, hi in ((hist, n_orders, t0, t_end), (fut, n_future, t_end + 1, t_hz)):
        if n == 0:
            continue
        flat = weights.ravel() / weights.sum()
        cell = rng.choice(flat.size, size=n, p=flat)
        ch, day = np.divmod(cell, n_days)
        offsets = np.array([c.utc_offset_h for c in CHANNELS])
        # Local hour from the diurnal profile, shifted to UTC by the channel's shoppers.
        hour = rng.choice(24, size=n, p=_HOURS / _HOURS.sum())
        utc_hour = (hour - offsets[ch]) % 24
        secs = day_start[day] + utc_hour * 3600 + rng.integers(0, 3600, n)
        # Keep each window closed: exactly n_orders are visible at ``end``.
        chunks_t.append(np.clip(secs, lo, hi))
        chunks_c.append(ch)
    created = np.concatenate(chunks_t)
    channel = np.concatenate(chunks_c)
    order = np.argsort(created, kind="stable")
    return created[order].astype(np.int64), channel[order].astype(np.int64)
