"""The tracking connector against the sandbox's AfterShip API over real HTTP: idempotent reloads
that agree with the ledger's shipments and scans (UTC instants and local offsets), an advanced
clock that brings new trackings and scans, a 429 storm that costs time but no record, and
malformed trackings that land in the quarantine.

The truth is the sandbox's own view of its ledger as of its clock (``aftership_render``),
limited to what GET /trackings shows by default: trackings created in the last 120 days.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox import SandboxState, aftership_render, api_aftership, running_sandbox
from ingestion.sandbox.context import SandboxConfig
from ingestion.sandbox.fault_data import malformed_kind
from ingestion.sandbox.faults import FaultProfile
from ingestion.sandbox.server import create_app
from ingestion.tracking import settings, tracking_source
from tests.ingestion.test_sources_against_sandbox import table_fingerprint

LEDGER_TABLES = ("shipments", "tracking_events", "orders", "customers", "warehouses", "channels")
TRACKINGS_ROUTE = settings.API_PATH + settings.TRACKINGS_PATH


def sandbox_gap() -> str | None:
    """Why the sandbox cannot serve trackings yet (None when it can): the route is missing, or
    the world does not expose the v2 ledger tables the route reads."""
    state = SandboxState.generate(seed=1, n_orders=20)
    paths = {getattr(route, "path", None) for route in create_app(state).routes}
    if TRACKINGS_ROUTE not in paths:
        return f"the sandbox has no {TRACKINGS_ROUTE} route yet"
    for table in LEDGER_TABLES:
        try:
            state.table_as_of(table)
        except (AttributeError, KeyError):
            return f"the sandbox world has no v2 ledger table {table!r} yet"
    return None


GAP = sandbox_gap()
pytestmark = pytest.mark.skipif(GAP is not None, reason=f"AfterShip sandbox not ready: {GAP}")


def load(url: str, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    run_source(
        make_pipeline("tracking", warehouse),
        tracking_source(endpoint=url + settings.API_PATH, stats=stats, **options),
        "tracking",
        stats,
    )
    return stats


def visible(state: SandboxState) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(trackings, checkpoints) GET /trackings shows now with its default created window."""
    view = state.table_as_of
    data = aftership_render.build_trackings(
        view("shipments"),
        view("tracking_events"),
        view("orders"),
        view("customers"),
        view("warehouses"),
        view("channels"),
        None,
        state.now,
    )
    trackings = data.trackings.filter(pl.col("created_at") >= state.now - api_aftership.RETENTION)
    checkpoints = data.events.join(
        trackings.select("tracking_number"), on="tracking_number", how="semi"
    )
    return trackings, checkpoints


def loaded(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_tracking_loads_every_visible_tracking_and_reloading_changes_nothing(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(sandbox.url, warehouse)
    first = table_fingerprint(warehouse, "raw_tracking.trackings", "tracking_id")
    cp_key = "tracking_id || ':' || seq"
    first_checkpoints = table_fingerprint(warehouse, "raw_tracking.checkpoints", cp_key)
    load(sandbox.url, warehouse)
    assert table_fingerprint(warehouse, "raw_tracking.trackings", "tracking_id") == first
    assert table_fingerprint(warehouse, "raw_tracking.checkpoints", cp_key) == first_checkpoints

    trackings, checkpoints = visible(sandbox.state)
    assert first[0] == first[1] == trackings.height > 0
    numbers = {
        n for (n,) in loaded(warehouse, "select tracking_number from raw_tracking.trackings")
    }
    assert numbers == set(trackings["tracking_number"].to_list())
    # Every scan, at its instant in UTC (to the second, as AfterShip prints it) and with the
    # offset of the place it was made.
    expected = {
        (r["tracking_number"], r["event_at"].replace(microsecond=0), r["local_utc_offset_minutes"])
        for r in checkpoints.iter_rows(named=True)
    }
    got = set(
        loaded(
            warehouse,
            "select tracking_number, checkpoint_time, checkpoint_utc_offset_minutes "
            "from raw_tracking.checkpoints",
        )
    )
    assert first_checkpoints[0] == checkpoints.height
    assert got == expected


def test_incremental_run_picks_up_new_trackings_and_scans(tmp_path):
    state = SandboxState.generate(seed=11, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        load(url, warehouse)
        before, before_scans = visible(state)
        state.advance(days=3)
        after, after_scans = visible(state)
        stats = load(url, warehouse)
    assert after.height > before.height, "the sandbox should ship parcels in 3 days"
    assert after_scans.height > before_scans.height, "carriers should scan parcels in 3 days"
    assert loaded(warehouse, "select count(*) from raw_tracking.trackings") == [(after.height,)]
    assert loaded(warehouse, "select count(*) from raw_tracking.checkpoints") == [
        (after_scans.height,)
    ]
    tags = dict(loaded(warehouse, "select tracking_number, tag from raw_tracking.trackings"))
    assert tags == dict(after.select("tracking_number", "tag").iter_rows())
    # The second run asked only for trackings updated since the cursor, not for all of them.
    assert stats.requests < after.height // settings.PAGE_SIZE + 3


def test_a_429_storm_costs_time_but_no_record(tmp_path, monkeypatch):
    # A server that allows 2 requests a second against a client that starts believing in 100.
    monkeypatch.setattr(api_aftership, "RATE_LIMIT_PER_S", 2.0)
    state = SandboxState.generate(seed=5, n_orders=150)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        stats = load(url, warehouse, page_size=15, requests_per_second=100, burst=50)
    assert stats.rate_limited > 0
    trackings, checkpoints = visible(state)
    count, distinct, _ = table_fingerprint(warehouse, "raw_tracking.trackings", "tracking_id")
    assert count == distinct == trackings.height
    assert loaded(warehouse, "select count(*) from raw_tracking.checkpoints") == [
        (checkpoints.height,)
    ]


def test_malformed_trackings_are_quarantined_and_the_rest_loads(tmp_path):
    profile = FaultProfile(name="malformed", malformed_share=0.08, duplicate_share=0.2)
    state = SandboxState.generate(seed=13, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=SandboxConfig(faults=profile)) as url:
        load(url, warehouse, page_size=20)
        served = {
            number
            for (number,) in loaded(warehouse, "select tracking_number from raw_tracking.trackings")
        }
    trackings, _ = visible(state)
    numbers = set(trackings["tracking_number"].to_list())
    # The sandbox decides which trackings it corrupts by tracking number (docs/sandbox-faults.md).
    seed = state.world.seed
    broken = {n for n in numbers if malformed_kind(profile, seed, "aftership", "trackings", n)}
    assert broken, "8% of a few hundred trackings should include malformed ones"
    assert served == numbers - broken
    quarantined = loaded(
        warehouse,
        "select record_id, payload from raw_tracking.quarantine where entity = 'tracking'",
    )
    assert len(quarantined) == len(broken)
    # Matched by tracking number where the corruption left one (else by the AfterShip id).
    numbered = {r for r, payload in quarantined if "tracking_number" in json.loads(payload)}
    assert numbered <= broken
    count, distinct, _ = table_fingerprint(warehouse, "raw_tracking.trackings", "tracking_id")
    assert count == distinct  # trackings served twice at a page boundary merged away
