"""Dagster resources. Paths resolve at run time from the same environment variables every other
tool reads (``tradelane.settings``), so nothing reads the environment at import time."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from tradelane import settings


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. The Dagster run is its single writer (DESIGN.md)."""

    path: str | None = None

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else settings.warehouse_path()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection closed on exit, so dbt and dlt (other connections in this process or
        a subprocess) find the file unlocked afterwards."""
        path = self.resolved_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()


class PublishedCopyResource(dg.ConfigurableResource):
    """Where the read-only copies for dashboards go."""

    directory: str | None = None

    def resolved_dir(self) -> Path:
        return Path(self.directory) if self.directory else settings.published_dir()


class RoutingRulesResource(dg.ConfigurableResource):
    """The user-edited routing rules file."""

    path: str | None = None

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else settings.routing_rules_path()
