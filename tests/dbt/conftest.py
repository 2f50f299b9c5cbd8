"""A warehouse loaded with every source of one sandbox world (Shopify with finance, Amazon,
Stripe, PayPal, AfterShip, the WMS, ECB rates and dropped exports), and a way to run dbt on it.

dbt runs with its own target and log folders per call, so these tests never touch the
manifest the Dagster definitions load from ``dbt_project/target``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from pipelines.defs.dbt.project import run_dbt_on
from pipelines.defs.ingestion.assets import SOURCE_FACTORIES
from tests.ingestion import export_samples

# Shopify's real bucket (2 requests/s) would make finance take minutes; the sandbox's bucket and
# the connector's rate are both raised, through the same settings a user would set.
FAST = SandboxConfig(bucket_size=400, leak_rate_per_s=400.0)
FAST_SHOPIFY_FINANCE = {
    "SOURCES__SHOPIFY__FINANCE": "true",
    "SOURCES__SHOPIFY__REQUESTS_PER_SECOND": "400",
    "SOURCES__SHOPIFY__BURST": "400",
}


def _drop_exports(import_dir: Path) -> None:
    """An Amazon "All Orders" report and a Shopify export, as a seller would drop them."""
    amazon_dir = import_dir / "amazon_all_orders"
    shopify_dir = import_dir / "shopify_orders_export"
    amazon_dir.mkdir(parents=True)
    shopify_dir.mkdir(parents=True)
    rows, _ = export_samples.amazon_all_orders(seed=1, n_orders=20)
    export_samples.write_amazon_tsv(amazon_dir / "all-orders.txt", rows)
    rows, _ = export_samples.shopify_orders_export(export_samples.SHOP_US, seed=2, n_orders=10)
    export_samples.write_shopify_csv(shopify_dir / "orders_export_1.csv", rows)


@dataclass
class MartWorld:
    """A sandbox world served over HTTP (with dropped exports) that loads into a warehouse."""

    state: SandboxState

    def load(self, warehouse: Path) -> None:
        """Every source of the default run (``SOURCE_FACTORIES``), as one run loads them."""
        for name, factory in SOURCE_FACTORIES.items():
            stats = RequestStats()
            run_source(make_pipeline(name, warehouse), factory(stats=stats), name, stats)


@pytest.fixture(scope="module")
def mart_world(sandbox, tmp_path_factory, monkeypatch_module) -> Iterator[MartWorld]:
    """Its own clock on the session's world (tests here advance it)."""
    state = SandboxState(sandbox.state.world)
    import_dir = tmp_path_factory.mktemp("imports")
    _drop_exports(import_dir)
    for name, value in FAST_SHOPIFY_FINANCE.items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.setenv("TRADELANE_IMPORT_DIR", str(import_dir))
    with running_sandbox(state=state, config=FAST) as url:
        monkeypatch_module.setenv("TRADELANE_SANDBOX_URL", url)
        yield MartWorld(state)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def run_dbt(
    warehouse: Path, *args: str, work_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run dbt in the project on ``warehouse``; target and logs go to ``work_dir``."""
    result = run_dbt_on(warehouse, *args, work_dir=work_dir, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def copy_warehouse(source: Path, destination: Path) -> Path:
    shutil.copyfile(source, destination)
    return destination
