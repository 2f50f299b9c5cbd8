"""One environment variable per physical thing, read at call time (never at import time).

Every tool reads the same variable: dbt's ``profiles.yml`` reads ``TRADELANE_WAREHOUSE`` with
``env_var`` and the same default, Dagster resources and the CLI call these functions, and the
dashboards read ``TRADELANE_PUBLISHED_DIR``. Defaults put all state under ``var/`` in the
repository so a fresh clone works with no configuration at all.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = REPO_ROOT / "var"

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 8765


def _path_setting(name: str, default: Path) -> Path:
    """A path from the environment; relative paths are relative to the repository root, so
    every tool (whatever its working directory: dbt runs inside ``dbt_project/``) agrees."""
    value = os.environ.get(name)
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def warehouse_path() -> Path:
    """The DuckDB warehouse file written by dlt, dbt and the action assets."""
    return _path_setting("TRADELANE_WAREHOUSE", VAR_DIR / "warehouse.duckdb")


def published_dir() -> Path:
    """Folder holding the read-only copies of the warehouse that dashboards read."""
    return _path_setting("TRADELANE_PUBLISHED_DIR", VAR_DIR / "published")


def routing_rules_path() -> Path:
    """The user-editable YAML file of routing rules."""
    return _path_setting("TRADELANE_ROUTING_RULES", REPO_ROOT / "config" / "routing_rules.yml")


def import_dir() -> Path:
    """The drop folder for marketplace order exports: one subfolder per mapping name
    (``amazon_all_orders/``, ``shopify_orders_export/``...) and user mappings in ``mappings/``."""
    return _path_setting("TRADELANE_IMPORT_DIR", VAR_DIR / "imports")


def dlt_data_dir() -> Path:
    """dlt's working folder (pipeline state, load packages); as root its default is outside the
    project, so we always pin it."""
    return _path_setting("DLT_DATA_DIR", VAR_DIR / "dlt")


def dagster_home() -> Path:
    """Dagster's instance folder (run history, schedules); gets a copy of ``dagster.yaml``."""
    return _path_setting("DAGSTER_HOME", VAR_DIR / "dagster")


def log_dir() -> Path:
    """Where run logs and the demo's service logs go."""
    return _path_setting("TRADELANE_LOG_DIR", VAR_DIR / "log")


def sandbox_url() -> str:
    """Base URL of the bundled sandbox, the default endpoint of every connector."""
    return os.environ.get("TRADELANE_SANDBOX_URL", f"http://{SANDBOX_HOST}:{SANDBOX_PORT}")


def dbt_project_dir() -> Path:
    return REPO_ROOT / "dbt_project"
