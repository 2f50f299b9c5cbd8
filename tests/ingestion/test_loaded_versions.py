"""The record of which orders' children (Amazon items, Shopify transactions) are loaded: an
order is asked for again only when its version changed, and the record never outgrows the
lookback window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingestion.common.versions import LoadedVersions

T0 = datetime(2026, 7, 1, 12, tzinfo=UTC)


def test_only_a_new_version_of_an_order_is_fetched_again():
    state: dict = {}
    loaded = LoadedVersions(state, "loaded", lookback_seconds=3600)
    loaded.mark(450789469, T0)
    assert loaded.is_loaded(450789469, T0)
    assert not loaded.is_loaded(450789469, T0 + timedelta(seconds=1))
    assert not loaded.is_loaded(450789470, T0)


def test_the_record_survives_a_run_and_keeps_only_the_next_window():
    state: dict = {}
    first = LoadedVersions(state, "loaded", lookback_seconds=3600)
    first.mark("old", T0)
    first.mark("recent", T0 + timedelta(hours=2))
    first.save(cursor=T0 + timedelta(hours=2, minutes=30))
    assert set(state["loaded"]) == {"recent"}

    second = LoadedVersions(state, "loaded", lookback_seconds=3600)
    assert second.is_loaded("recent", T0 + timedelta(hours=2))
    assert not second.is_loaded("old", T0)
