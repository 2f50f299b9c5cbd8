"""A load killed with SIGKILL at any moment and started again ends in exactly the state of an
uninterrupted load: nothing lost, nothing duplicated. With Shopify's finance on, the kills also
land around the transactions' bulk operation, which a restarted run starts again from the last
loaded cursor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox import SandboxState, running_sandbox
from ingestion.shopify import shopify_source
from tests.ingestion.test_sources_against_sandbox import table_fingerprint

# Slow enough (about 25 pages at 8 requests/s, after ~2 s of imports) that the kills land
# during extraction, normalization and loading.
PAGE_SIZE = 25
REQUESTS_PER_SECOND = 8


def loader_env(url: str, warehouse: Path, dlt_dir: Path, finance: bool) -> dict[str, str]:
    return {
        **os.environ,
        "SOURCES__SHOPIFY__FINANCE": str(finance).lower(),
        "TRADELANE_WAREHOUSE": str(warehouse),
        "DLT_DATA_DIR": str(dlt_dir),
        "SOURCES__SHOPIFY__SHOP_URL": url,
        "SOURCES__SHOPIFY__PAGE_SIZE": str(PAGE_SIZE),
        "SOURCES__SHOPIFY__REQUESTS_PER_SECOND": str(REQUESTS_PER_SECOND),
        "SOURCES__SHOPIFY__BURST": "1",
    }


def kill_then_finish(module: str, env: dict[str, str], delays: tuple[float, ...]) -> int:
    """Start ``python -m module`` once per delay and SIGKILL it after that many seconds if it is
    still running, then run it to the end; returns how many runs were killed."""
    kills = 0
    for delay in delays:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    finished = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return kills


@pytest.mark.parametrize("finance", [False, True], ids=["orders", "orders+finance"])
def test_killed_loads_resume_to_the_uninterrupted_state(tmp_path, finance):
    state = SandboxState.generate(seed=21, n_orders=600)
    killed_warehouse = tmp_path / "killed.duckdb"
    clean_warehouse = tmp_path / "clean.duckdb"
    with running_sandbox(state=state) as url:
        env = loader_env(url, killed_warehouse, tmp_path / "dlt", finance)
        kills = kill_then_finish("ingestion.shopify", env, delays=(2.5, 3.5, 4.5))
        run_source(
            make_pipeline("shopify", clean_warehouse),
            shopify_source(shop_url=url, page_size=250, requests_per_second=100, finance=finance),
            "shopify",
        )

    assert kills >= 2, "the loads finished before they could be killed; slow them down"
    tables = ["orders", "order_line_items"] + (["transactions", "refunds"] if finance else [])
    for table, key in ((f"raw_shopify.{t}", "id") for t in tables):
        assert table_fingerprint(killed_warehouse, table, key) == table_fingerprint(
            clean_warehouse, table, key
        )
