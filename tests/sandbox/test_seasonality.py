"""Demand moves like real demand: weekly rhythm, Black Friday, Prime Day, Singles' Day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from ingestion.sandbox.world import generate_world
from ingestion.sandbox.world.channels import CHANNEL_IDS
from ingestion.sandbox.world.demand import intensity, promotions


def _orders_per_day(end: datetime, days: int) -> pl.DataFrame:
    world = generate_world(seed=9, n_orders=6000, end=end, days=days, future_days=0)
    return world.orders.group_by(
        day=pl.col("created_at").dt.date(), channel=pl.col("channel_id")
    ).len()


def test_black_friday_week_is_busier_than_an_ordinary_week() -> None:
    per_day = _orders_per_day(datetime(2026, 12, 10, tzinfo=UTC), days=60)
    total = per_day.group_by("day").agg(pl.col("len").sum())

    def week(first: date) -> int:
        return int(
            total.filter(pl.col("day").is_between(first, first + timedelta(days=6)))["len"].sum()
        )

    black_friday = date(2026, 11, 27)
    assert week(black_friday - timedelta(days=3)) > 1.6 * week(date(2026, 10, 19))
    peak = total.sort("len")["day"][-1]
    assert peak in {black_friday, black_friday + timedelta(days=3)}


def test_prime_day_lifts_amazon_not_the_store() -> None:
    first = date(2026, 7, 1)
    lam = intensity(first, 31, origin=first)
    prime = (date(2026, 7, 14) - first).days  # second Tuesday of July 2026
    store, amazon = CHANNEL_IDS.index("shopify"), CHANNEL_IDS.index("amazon_us")
    ordinary = prime - 7
    assert lam[amazon, prime] > 3 * lam[amazon, ordinary]
    assert lam[store, prime] < 1.5 * lam[store, ordinary]
    assert date(2026, 11, 11) in promotions(2026)


def test_weekends_are_busier_for_the_store() -> None:
    first = date(2026, 9, 7)  # a Monday in an ordinary month
    lam = intensity(first, 14, origin=first)[CHANNEL_IDS.index("shopify")]
    weekday, weekend = np.r_[lam[0:5], lam[7:12]].mean(), np.r_[lam[5:7], lam[12:14]].mean()
    assert weekend > 1.1 * weekday
