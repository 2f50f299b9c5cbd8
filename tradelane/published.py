"""The read-only copy of the warehouse that dashboards read.

DuckDB allows one writer, and an open read-only connection in another process blocks every
writer (DESIGN.md). So the pipeline *publishes*: it copies the tables people read into a new,
versioned DuckDB file and then atomically swaps a pointer file to it. Readers open the file the
pointer names, read-only and briefly. Versioned names matter because DuckDB caches a database per
path inside a process: reopening the same path after it was replaced would serve stale data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

POINTER_FILE = "CURRENT"
PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts", "reporting", "actions")
KEEP_VERSIONS = 3
_VERSION_FILE = re.compile(r"^warehouse-(\d{8}T\d{6}\d{6}Z)\.duckdb$")


class NothingPublishedError(RuntimeError):
    """Raised when a reader asks for the published copy before any pipeline run made one."""


def publish(
    warehouse: Path,
    target_dir: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
) -> Path:
    """Copy every table of ``schemas`` from ``warehouse`` into a new versioned file and point
    ``CURRENT`` at it. Returns the new file. Must run in the single writer process."""
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = target_dir / f"warehouse-{stamp}.duckdb"
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)

    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{partial}' as published")
        tables = con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = current_database()
              and table_type = 'BASE TABLE'
              and table_schema in (select unnest(?::varchar[]))
            order by 1, 2
            """,
            [list(schemas)],
        ).fetchall()
        for schema in {schema for schema, _ in tables}:
            con.execute(f'create schema if not exists published."{schema}"')
        for schema, table in tables:
            con.execute(
                f'create table published."{schema}"."{table}" as select * from "{schema}"."{table}"'
            )
        con.execute("detach published")

    partial.rename(target)
    _swap_pointer(target_dir, target.name)
    _prune_old_versions(target_dir, keep=KEEP_VERSIONS)
    return target


def current_published_path(target_dir: Path) -> Path:
    """The file the pointer names; raises ``NothingPublishedError`` if there is none yet."""
    pointer = target_dir / POINTER_FILE
    if not pointer.exists():
        raise NothingPublishedError(
            f"No published warehouse in {target_dir}: run the pipeline (`tradelane run`) first."
        )
    path = target_dir / pointer.read_text().strip()
    if not path.exists():
        raise NothingPublishedError(f"{pointer} names {path.name}, which does not exist.")
    return path


@contextmanager
def connect_published(target_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the current published copy."""
    con = duckdb.connect(str(current_published_path(target_dir)), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _swap_pointer(target_dir: Path, file_name: str) -> None:
    tmp = target_dir / f".{POINTER_FILE}.tmp"
    tmp.write_text(file_name)
    os.replace(tmp, target_dir / POINTER_FILE)


def _prune_old_versions(target_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` copies. A reader holding an older file open keeps
    working on Linux because unlinking does not affect open descriptors."""
    versions = sorted(p for p in target_dir.iterdir() if _VERSION_FILE.match(p.name))
    for old in versions[:-keep]:
        old.unlink(missing_ok=True)
