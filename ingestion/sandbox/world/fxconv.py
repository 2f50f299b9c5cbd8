"""Currency conversion inside the world, from the ECB fixings of ``ingestion.sandbox.fx``.

Why one table: presentment prices, payment settlements, refunds and disputes all convert with
the same rates, so the ledger agrees with itself and with the ``fx_rates`` table it ships. A
conversion on a day without a fixing (weekend, TARGET holiday) uses the previous fixing, as the
ECB's users do. Rates are rounded to six decimals (``rate_micro``), the precision Stripe shows
for ``exchange_rate``, so settlement amounts can be recomputed exactly from the ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from ingestion.sandbox.fx import fx_rates
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.world.common import DAY, epoch


class Fx:
    """Rates per currency and UTC day between ``first`` and ``last`` (inclusive)."""

    def __init__(self, first: date, last: date, seed: int, currencies: list[str]) -> None:
        self.first, self.last = first, last
        self.currencies = list(dict.fromkeys(["EUR", *currencies]))
        self._index = {c: i for i, c in enumerate(self.currencies)}
        # Start early enough that the first day has a previous fixing (long holidays included).
        self.table = fx_rates(first - timedelta(days=10), last, seed)
        n_days = (last - first).days + 1
        self._origin = epoch_day(first)
        per_eur = np.full((len(self.currencies), n_days), np.nan)
        per_eur[0] = 1.0
        frame = self.table.filter(pl.col("currency").is_in(self.currencies[1:]))
        for (currency,), part in frame.group_by("currency"):
            days = np.array([(d - first).days for d in part["rate_date"].to_list()], dtype=np.int64)
            values = part["rate_per_eur_float"].to_numpy()
            order = np.argsort(days)
            days, values = days[order], values[order]
            # Previous fixing for every day: the last fixing at or before it.
            pos = np.searchsorted(days, np.arange(n_days), side="right") - 1
            if (pos < 0).any():
                raise ValueError(f"no ECB fixing for {currency} before {first}")
            per_eur[self._index[str(currency)]] = values[pos]
        missing = [c for c, row in zip(self.currencies, per_eur, strict=True) if np.isnan(row[0])]
        if missing:
            raise ValueError(f"the ECB publishes no rate for {missing}")
        self.per_eur = per_eur
        self.exponents = np.array([minor_units(c) for c in self.currencies], dtype=np.int64)

    def index(self, currency: str) -> int:
        return self._index[currency]

    def indices(self, currencies: pl.Series) -> np.ndarray:
        return currencies.replace_strict(self._index, return_dtype=pl.Int64).to_numpy()

    def day(self, seconds: np.ndarray) -> np.ndarray:
        """Day index of each instant (clipped to the table)."""
        days = (np.asarray(seconds, dtype=np.int64) - self._origin) // DAY
        return np.clip(days, 0, self.per_eur.shape[1] - 1)

    def rate(self, src: np.ndarray, dst: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Units of ``dst`` per unit of ``src`` (currency indices) at each instant."""
        day = self.day(seconds)
        return self.per_eur[dst, day] / self.per_eur[src, day]

    def rate_micro(self, src: np.ndarray, dst: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """``rate`` in millionths, the six-decimal precision payments settle at."""
        return np.rint(self.rate(src, dst, seconds) * 1e6).astype(np.int64)


def epoch_day(day: date) -> int:
    """Epoch seconds of a UTC midnight."""
    return epoch(datetime(day.year, day.month, day.day, tzinfo=UTC))
