"""FX rates and the ECB files: real fixings exactly as the ECB printed them, a deterministic
continuation, and files a client of the real ECB can parse unchanged."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import httpx
import polars as pl

from ingestion.sandbox import SandboxState, running_sandbox
from ingestion.sandbox.fx import fx_rates, is_target_business_day, rates_on_or_before
from tests.fixtures_path import fixtures_dir


def test_real_fixings_are_the_ecb_ones_and_no_weekend_or_holiday_has_a_row():
    rates = fx_rates(date(2025, 12, 20), date(2026, 10, 30), seed=1)
    usd = dict(rates.filter(pl.col("currency") == "USD").select("rate_date", "rate_per_eur").rows())
    assert usd[date(2026, 10, 30)] == "1.1172"
    assert date(2025, 12, 25) not in usd and date(2026, 10, 31) not in usd
    assert all(is_target_business_day(d) for d in rates["rate_date"].unique())


def test_continuation_is_deterministic_per_seed_and_extends_without_rewriting():
    short = fx_rates(date(2026, 11, 1), date(2026, 11, 30), seed=3)
    long = fx_rates(date(2026, 11, 1), date(2026, 12, 31), seed=3)
    assert short.equals(long.filter(pl.col("rate_date") <= date(2026, 11, 30)))
    assert not short.equals(fx_rates(date(2026, 11, 1), date(2026, 11, 30), seed=4))
    assert date(2026, 12, 25) not in set(long["rate_date"])  # TARGET holiday


def test_a_weekend_day_takes_the_previous_fixing():
    rates = fx_rates(date(2026, 10, 26), date(2026, 11, 2), seed=1)
    sunday = rates_on_or_before(rates, pl.Series([date(2026, 11, 1)]))
    assert sunday.filter(pl.col("currency") == "USD")["rate_per_eur"].item() == "1.1172"


def _unzip(content: bytes) -> tuple[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        [name] = archive.namelist()
        return name, archive.read(name).decode()


def test_served_files_match_the_ecb_formats_and_follow_the_clock():
    state = SandboxState.generate(seed=9, n_orders=50, end=datetime(2026, 10, 30, 16, tzinfo=UTC))
    with running_sandbox(state=state) as url:
        name, today = _unzip(httpx.get(f"{url}/stats/eurofxref/eurofxref.zip").content)
        assert name == "eurofxref.csv"
        assert today == fixtures_dir("reference", "ecb_fx", "eurofxref.csv").read_text()
        state.advance(days=4)  # Tuesday 3 November, 16:00 UTC: two new fixings are public
        name, history = _unzip(httpx.get(f"{url}/stats/eurofxref/eurofxref-hist.zip").content)
        xml = httpx.get(f"{url}/stats/eurofxref/eurofxref-daily.xml").text
    lines = history.splitlines()
    assert name == "eurofxref-hist.csv"
    assert lines[0].startswith("Date,USD,JPY,") and lines[0].endswith(",")
    assert [line[:10] for line in lines[1:4]] == ["2026-11-03", "2026-11-02", "2026-10-30"]
    assert all(line.endswith(",") for line in lines[1:])
    assert "N/A" in lines[1]  # legacy currencies stay in the layout
    assert "<Cube time='2026-11-03'>" in xml
    frame = pl.read_csv(io.StringIO(history), null_values=["N/A"], infer_schema_length=0)
    assert frame.height == len(lines) - 1
