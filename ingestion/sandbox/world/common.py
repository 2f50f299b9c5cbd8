"""Small vectorized helpers every world module uses: time as epoch seconds, null masks,
string gathers, per-module random streams, integer-exact money arithmetic.

Why epoch seconds in numpy: lifecycles are computed as whole columns of int64 instants where
``NEVER`` marks an event that does not happen, so comparisons need no null handling; frames get
polars ``Datetime("us", "UTC")`` (null for ``NEVER`` or beyond the horizon) only at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import polars as pl

# An instant later than any horizon: "this event never happens".
NEVER = np.int64(2**62)
DAY = 86_400
HOUR = 3_600
UTC_DT = pl.Datetime("us", "UTC")

# One random stream per concern, so that changing how one module draws never shifts another
# module's numbers (and so the whole world) for the same seed.
STREAMS = {
    "ids": 1,
    "catalog": 2,
    "demand": 3,
    "customers": 4,
    "orders": 5,
    "lifecycle": 6,
    "tracking": 7,
    "aftersales": 8,
    "payments": 9,
    "inventory": 10,
    "costs": 11,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of one concern of the world of ``seed``."""
    return np.random.default_rng([seed, STREAMS[name]])


def epoch(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp())


def ts(seconds: np.ndarray, horizon: int | None = None) -> pl.Series:
    """Epoch seconds -> UTC datetimes; null where ``NEVER`` (or later than ``horizon``)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    limit = NEVER if horizon is None else min(int(NEVER) - 1, horizon)
    valid = seconds <= limit
    series = pl.Series(np.where(valid, seconds, 0) * 1_000_000).cast(UTC_DT)
    return masked(series, valid)


def dates(seconds: np.ndarray) -> pl.Series:
    """Epoch seconds -> UTC calendar dates (null where ``NEVER``)."""
    return ts(seconds).dt.date()


def masked(values: np.ndarray | pl.Series, valid: np.ndarray) -> pl.Series:
    """A series of ``values`` with nulls where ``valid`` is False."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    if bool(np.all(valid)):
        return series
    return series.zip_with(pl.Series(valid), pl.Series([None], dtype=series.dtype))


def take(values: Sequence[str], idx: np.ndarray) -> pl.Series:
    """``values[idx]`` as a polars string column. Strings never go through numpy: converting
    numpy unicode arrays to polars dominated generation time at a million orders."""
    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def codes(series: pl.Series, values: Sequence[str]) -> np.ndarray:
    """Position of each string of ``series`` in ``values`` (vectorized)."""
    return series.replace_strict(
        {v: i for i, v in enumerate(values)}, return_dtype=pl.Int64
    ).to_numpy()


def between(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Integer seconds uniformly in ``[lo, hi)``."""
    return rng.integers(int(lo), int(hi), n, dtype=np.int64)


def skewed(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Integer seconds in ``[lo, hi)``, most near the low end (transit times, delays)."""
    return (lo + (hi - lo) * rng.beta(1.6, 3.2, n)).astype(np.int64)


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Offsets of contiguous groups of sizes ``counts``."""
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, vectorized."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    return np.repeat(np.asarray(starts, dtype=np.int64), counts) + (
        np.arange(total) - np.repeat(group_starts(counts), counts)
    )


def round_half_even_div(num: np.ndarray, den: int | np.ndarray) -> np.ndarray:
    """``num / den`` rounded half to even, in exact integer arithmetic (``den > 0``)."""
    num = np.asarray(num, dtype=np.int64)
    q, r = np.divmod(num, den)
    twice = 2 * r
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    return q + up


def convert_minor(
    amount: np.ndarray, rate_micro: np.ndarray, from_exp: np.ndarray, to_exp: np.ndarray
) -> np.ndarray:
    """Amounts in minor units converted at ``rate_micro / 1e6`` between currencies with
    ``from_exp`` and ``to_exp`` decimals, rounded half to even, in exact integers.

    This is the ledger's settlement rule (``LEDGER.md``): what a payment settles for."""
    amount = np.asarray(amount, dtype=np.int64)
    shift = np.asarray(to_exp, dtype=np.int64) - np.asarray(from_exp, dtype=np.int64)
    num = amount * np.asarray(rate_micro, dtype=np.int64) * 10 ** np.maximum(shift, 0)
    den = 1_000_000 * 10 ** np.maximum(-shift, 0)
    return round_half_even_div(num, den)


def mix64(values: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic 64-bit scramble of integers (splitmix64), for ids and per-record
    choices that must not depend on draw order."""
    with np.errstate(over="ignore"):
        z = np.asarray(values, dtype=np.uint64) + np.uint64((salt * 0x9E3779B97F4A7C15) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unit_interval(values: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic uniform number in [0, 1) per integer (see ``mix64``)."""
    return (mix64(values, salt) >> np.uint64(11)).astype(np.float64) / float(2**53)


@lru_cache(maxsize=256)
def _tz_steps(tz: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC offsets (minutes) of ``tz`` at every quarter hour of ``[lo, hi]``, compressed to
    the instants where they change (DST transitions fall on quarter hours everywhere)."""
    grid = np.arange(lo - lo % 900, hi + 900, 900, dtype=np.int64)
    utc = pl.Series(grid * 1_000_000).cast(UTC_DT)
    local = utc.dt.convert_time_zone(tz).dt.replace_time_zone(None)
    offsets = ((local - utc.dt.replace_time_zone(None)).dt.total_minutes()).to_numpy()
    change = np.concatenate([[True], offsets[1:] != offsets[:-1]])
    return grid[change], offsets[change].astype(np.int32)


def local_offsets(seconds: np.ndarray, tz_index: np.ndarray, zones: Sequence[str]) -> np.ndarray:
    """UTC offset in minutes (DST-aware) of each instant in its zone ``zones[tz_index]``."""
    seconds = np.asarray(seconds, dtype=np.int64)
    out = np.zeros(len(seconds), dtype=np.int32)
    if len(seconds) == 0:
        return out
    finite = seconds[seconds < NEVER]
    if len(finite) == 0:
        return out
    lo, hi = int(finite.min()), int(finite.max())
    # A stable sort of small integers is a radix sort in numpy: linear in the rows.
    small = np.asarray(tz_index).astype(np.int16)
    order = np.argsort(small, kind="stable")
    sorted_tz = small[order]
    bounds = np.searchsorted(sorted_tz, np.arange(len(zones) + 1))
    for z in range(len(zones)):
        rows = order[bounds[z] : bounds[z + 1]]
        if len(rows) == 0:
            continue
        starts, offsets = _tz_steps(zones[z], lo - 86_400, hi + 86_400)
        pos = np.searchsorted(starts, np.minimum(seconds[rows], hi), side="right") - 1
        out[rows] = offsets[np.maximum(pos, 0)]
    return out
