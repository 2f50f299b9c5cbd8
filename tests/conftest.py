"""Session-wide test setup: an isolated environment (no test touches ./var), one sandbox
served over real HTTP, and the dbt manifest prepared once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.sandbox.server import running_sandbox
from ingestion.sandbox.state import SandboxState

SANDBOX_SEED = 7
SANDBOX_ORDERS = 600


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point every setting at a temporary folder so tests never read or write ./var."""
    base = tmp_path_factory.mktemp("tradelane")
    patch = pytest.MonkeyPatch()
    patch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    patch.setenv("LOAD__DELETE_COMPLETED_JOBS", "true")
    patch.setenv("DLT_DATA_DIR", str(base / "dlt"))
    patch.setenv("DAGSTER_HOME", str(base / "dagster"))
    patch.setenv("TRADELANE_WAREHOUSE", str(base / "default-warehouse.duckdb"))
    patch.setenv("TRADELANE_PUBLISHED_DIR", str(base / "default-published"))
    patch.setenv("TRADELANE_LOG_DIR", str(base / "log"))
    patch.setenv("TRADELANE_IMPORT_DIR", str(base / "imports"))
    # Real-account settings on the developer's machine must never leak into a test run.
    for name in list(os.environ):
        if name.startswith("SOURCES__") or name == "TRADELANE_SANDBOX_URL":
            patch.delenv(name, raising=False)
    yield base
    patch.undo()


@dataclass
class Sandbox:
    url: str
    state: SandboxState


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox world served on a free port; tests must not move its clock (use their own)."""
    state = SandboxState.generate(seed=SANDBOX_SEED, n_orders=SANDBOX_ORDERS)
    with running_sandbox(state=state) as url:
        yield Sandbox(url=url, state=state)


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from pipelines.defs.dbt.project import prepare_manifest

    return prepare_manifest()
