"""``tradelane status``: what was loaded and built, and when.

Reads the warehouse read-only. While a run holds the write lock, the warehouse cannot be opened
(DuckDB has one writer), so the report falls back to the published copy and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from tradelane.published import NothingPublishedError, current_published_path

RAW_DATASETS = (
    "raw_shopify",
    "raw_wms",
    "raw_ecb",
    "raw_stripe",
    "raw_paypal",
    "raw_amazon",
    "raw_tracking",
    "raw_files",
    "raw_easypost",
    "raw_amazon",
    "raw_tracking",
)
MART_SCHEMAS = ("marts", "actions")


@dataclass
class TableStatus:
    schema: str
    table: str
    rows: int


@dataclass
class SourceStatus:
    dataset: str
    last_loaded_at: datetime | None
    loads: int
    tables: list[TableStatus]
    quarantined: int


@dataclass
class Status:
    warehouse: Path
    warehouse_readable: bool
    note: str | None = None
    sources: list[SourceStatus] = field(default_factory=list)
    built: list[TableStatus] = field(default_factory=list)
    built_at: datetime | None = None
    published_file: Path | None = None
    published_at: datetime | None = None


def collect_status(warehouse: Path, published_dir: Path) -> Status:
    status = Status(warehouse=warehouse, warehouse_readable=False)
    try:
        status.published_file = current_published_path(published_dir)
        status.published_at = datetime.fromtimestamp(status.published_file.stat().st_mtime)
    except NothingPublishedError:
        pass
    if not warehouse.exists():
        status.note = f"No warehouse at {warehouse} yet: run `tradelane run`."
        return status
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:
        status.note = (
            "The warehouse is locked by a running pipeline; showing the published copy instead."
        )
        if status.published_file:
            with duckdb.connect(str(status.published_file), read_only=True) as pub:
                status.built = _tables(pub, MART_SCHEMAS)
        return status
    with con:
        status.warehouse_readable = True
        status.sources = [_source_status(con, d) for d in RAW_DATASETS]
        status.built = _tables(con, MART_SCHEMAS)
        if status.built:
            status.built_at = (
                con.execute("select max(decided_at) from actions.order_routing").fetchone()[0]
                if _exists(con, "actions", "order_routing")
                else None
            )
    return status


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[TableStatus]:
    names = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in (select unnest(?::varchar[])) and table_type = 'BASE TABLE' "
        "and table_name not like '\\_dlt%' escape '\\' order by 1, 2",
        [list(schemas)],
    ).fetchall()
    return [
        TableStatus(s, t, con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0])
        for s, t in names
    ]


def _source_status(con: duckdb.DuckDBPyConnection, dataset: str) -> SourceStatus:
    if not _exists(con, dataset, "_dlt_loads"):
        return SourceStatus(dataset, None, 0, [], 0)
    loads, last = con.execute(
        f'select count(*), max(inserted_at) from "{dataset}"._dlt_loads where status = 0'
    ).fetchone()
    tables = _tables(con, (dataset,))
    quarantined = next((t.rows for t in tables if t.table == "quarantine"), 0)
    return SourceStatus(dataset, last, loads, tables, quarantined)
