"""Amazon items read with getOrderItems (``SOURCES__AMAZON__ITEMS_VIA=orders_api``) reconcile to
zero too, from the same harsh sandbox as the full load (which reads them from the All Orders
report, the default): reconcile compares them by OrderItemId and through their order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.amazon import amazon_source
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from tests.reconcile.conftest import Loaded, reconcile


def test_items_read_per_order_reconcile_to_zero(
    loaded: Loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__AMAZON__ITEMS_VIA", "orders_api")
    warehouse = tmp_path / "amazon.duckdb"
    stats = RequestStats()
    source = amazon_source(
        endpoint=loaded.url,
        stats=stats,
        orders_rate_per_s=200.0,
        orders_burst=200,
        items_rate_per_s=200.0,
        items_burst=200,
    )
    run_source(make_pipeline("amazon", warehouse), source, "amazon", stats)
    assert stats.requests > 50  # one getOrderItems call per order: the per-order way
    code, output = reconcile(
        "--url", loaded.url, "--warehouse", str(warehouse), "--source", "amazon"
    )
    assert code == 0, output
    assert "Raw tables match the ledger exactly." in output
