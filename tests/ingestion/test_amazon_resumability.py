"""An Amazon load reading items from reports, killed with SIGKILL at any moment (walking
getOrders, waiting for the reports, loading) and started again, ends in exactly the state of an
uninterrupted load: the report cursor moves only with a committed load."""

from __future__ import annotations

import os

from ingestion.amazon import amazon_source
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox import SandboxState, api_amazon, running_sandbox
from tests.ingestion.test_resumability import kill_then_finish
from tests.ingestion.test_sources_against_sandbox import table_fingerprint


def test_killed_amazon_report_loads_resume_to_the_uninterrupted_state(tmp_path, monkeypatch):
    # getOrders granted 4 requests/s with a burst of 1, pages of 10: the walk takes seconds
    # (the server announces the rate and the client paces to it), so kills land mid-run.
    plans = dict(api_amazon.USAGE_PLANS)
    plans["getOrders"] = api_amazon.UsagePlan(0.0167, 1, 4.0)
    monkeypatch.setattr(api_amazon, "USAGE_PLANS", plans)
    state = SandboxState.generate(seed=21, n_orders=600)
    killed_warehouse = tmp_path / "killed.duckdb"
    clean_warehouse = tmp_path / "clean.duckdb"
    with running_sandbox(state=state) as url:
        env = {
            **os.environ,
            "TRADELANE_WAREHOUSE": str(killed_warehouse),
            "DLT_DATA_DIR": str(tmp_path / "dlt"),
            "SOURCES__AMAZON__ENDPOINT": url,
            "SOURCES__AMAZON__PAGE_SIZE": "10",
            "SOURCES__AMAZON__ITEMS_VIA": "reports",
        }
        kills = kill_then_finish("ingestion.amazon", env, delays=(2.5, 4.0, 5.5))
        run_source(
            make_pipeline("amazon", clean_warehouse),
            amazon_source(endpoint=url, report_poll_initial_s=0.01),
            "amazon",
        )

    assert kills >= 2, "the loads finished before they could be killed; slow them down"
    for table, key in (
        ("raw_amazon.orders", "amazon_order_id"),
        ("raw_amazon.order_items", "amazon_order_id || ':' || seller_sku"),
    ):
        assert table_fingerprint(killed_warehouse, table, key) == table_fingerprint(
            clean_warehouse, table, key
        )
