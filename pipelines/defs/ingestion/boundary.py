"""The great-expectations boundary between raw tables and everything built on them.

Where it runs, and why: in the load step itself, right after dlt has merged the page into
``raw_<source>``, over the whole table, before the step ends. dbt runs only after the load
step, so a row that breaks its table's suite is moved out of the raw table (into the source's
``quarantine`` table, with the expectations it broke as the reason and the row as payload)
before any model can read it. Validating inside the dlt resources instead would cost a GE run
per page (thousands at scale) and would need every connector changed; validating the whole
table after the merge also re-checks rows a lookback re-read, and is what the mart will see.
A row fixed at the source comes back through the connector's lookback and passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dlt
import duckdb

from ingestion.common.expectations import TableSuite, Validation, validate
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE, Quarantine


@dataclass
class BoundaryResult:
    """A table's validation and how many of its rows were moved to quarantine."""

    table: str
    validation: Validation | None  # None: the table does not exist (yet)
    quarantined: int = 0


def enforce_suite(
    pipeline: dlt.Pipeline, con_factory: Any, source: str, table: str, suite: TableSuite
) -> BoundaryResult:
    """Validate ``raw_<source>.<table>`` and quarantine the rows that break ``suite``.

    ``con_factory()`` yields a DuckDB connection to the warehouse (closed on exit, so dlt finds
    the file unlocked when it writes the quarantine rows).
    """
    schema = f"raw_{source}"
    with con_factory() as con:
        if not _table_exists(con, schema, table):
            return BoundaryResult(table, None)
        frame = con.execute(f'select * from "{schema}"."{table}"').df()
    validation = validate(f"{schema}.{table}", suite, frame)
    if not validation.bad_rows:
        return BoundaryResult(table, validation)
    quarantine = Quarantine(source=source)
    bad = frame.iloc[sorted(validation.bad_rows)]
    for position, row in zip(sorted(validation.bad_rows), bad.to_dict("records"), strict=True):
        reason = "failed great-expectations: " + "; ".join(sorted(validation.bad_rows[position]))
        record_id = ":".join(str(row.get(k)) for k in suite.keys)
        quarantine.add(table, row, reason, record_id=record_id)
    # Quarantine first: should the step die between the two writes, the row is still in the
    # raw table and the next run quarantines it again (the quarantine id is a content hash).
    info = pipeline.run(
        dlt.resource(
            quarantine.to_arrow(),
            name=f"{table}_expectation_quarantine",
            table_name=QUARANTINE_TABLE,
            **QUARANTINE_HINTS,
        ),
        loader_file_format="parquet",
    )
    info.raise_on_failed_jobs()
    keys = bad[list(suite.keys)].drop_duplicates()
    match = " and ".join(f't."{k}" is not distinct from bad."{k}"' for k in suite.keys)
    with con_factory() as con:
        con.register("bad_keys", keys)
        con.execute(
            f'delete from "{schema}"."{table}" t '
            f"where exists (select 1 from bad_keys bad where {match})"
        )
    return BoundaryResult(table, validation, quarantined=len(bad))


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
