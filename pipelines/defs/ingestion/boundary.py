"""The great-expectations boundary between raw tables and everything built on them.

Where it runs, and why: in the load step itself, right after dlt has merged the run's pages
into ``raw_<source>``, before the step ends. dbt runs only after the load step, so a row that
breaks its table's suite is moved out of the raw table (into the source's ``quarantine`` table,
with the expectations it broke as the reason and the row as payload) before any model can read
it. Validating inside the dlt resources instead would cost a GE run per page (thousands at
scale) and would need every connector changed.

What it validates: the rows this run wrote, as merged (``LoadedKeys`` records the keys of every
Arrow table the source yields, at the cost of a column copy), so the cost follows the run, not
the warehouse: validating whole tables took 32 s for a million Shopify orders
(``benchmarks/boundary.py``), too much to pay every hour. When a run first finishes a package an
interrupted run left, whose keys were never seen, the whole table is validated instead. A row
fixed at the source comes back through the connector's lookback and passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.sources import DltSource

from ingestion.common.expectations import TableSuite, Validation, validate
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE, Quarantine


@dataclass
class LoadedKeys:
    """The primary keys of the rows a source yields for each validated table during one run."""

    keys: dict[str, tuple[str, ...]]
    seen: dict[str, list[pa.Table]] = field(default_factory=dict)

    @classmethod
    def watch(cls, source: DltSource, suites: dict[str, TableSuite]) -> LoadedKeys:
        """Record keys as ``source``'s table resources yield (each table's resource carries
        its name; a table the source does not load this time, such as Shopify's finance tables
        with finance off, records none); the items pass through unchanged."""
        loaded = cls({table: suite.keys for table, suite in suites.items()})
        for table in suites:
            loaded.seen[table] = []
            if table in source.resources:
                source.resources[table].add_map(loaded._recorder(table))
        return loaded

    def _recorder(self, table: str) -> Any:
        keys = list(self.keys[table])

        def record(item: Any) -> Any:
            if isinstance(item, pa.Table | pa.RecordBatch):
                self.seen[table].append(pa.table(item.select(keys)))
            else:
                rows = item if isinstance(item, list) else [item]
                self.seen[table].append(
                    pa.Table.from_pylist([{k: r[k] for k in keys} for r in rows])
                )
            return item

        return record

    def of(self, table: str) -> pa.Table:
        """Every key yielded for ``table`` this run (repeats included)."""
        batches = self.seen[table]
        if not batches:
            return pa.table({k: pa.array([], pa.null()) for k in self.keys[table]})
        return pa.concat_tables(batches, promote_options="permissive")


@dataclass
class BoundaryResult:
    """A table's validation and how many of its rows were moved to quarantine."""

    table: str
    validation: Validation | None  # None: the table does not exist (yet)
    quarantined: int = 0


def enforce_suite(
    pipeline: dlt.Pipeline,
    con_factory: Any,
    source: str,
    table: str,
    suite: TableSuite,
    only: pa.Table | None = None,
) -> BoundaryResult:
    """Validate ``raw_<source>.<table>`` and quarantine the rows that break ``suite``: the rows
    whose keys are in ``only`` (``LoadedKeys.of``), or every row when ``only`` is None.

    ``con_factory()`` yields a DuckDB connection to the warehouse (closed on exit, so dlt finds
    the file unlocked when it writes the quarantine rows).
    """
    schema = f"raw_{source}"
    if only is not None and only.num_rows == 0:
        return BoundaryResult(table, Validation(rows=0, results={}, bad_rows={}))
    with con_factory() as con:
        if not _table_exists(con, schema, table):
            return BoundaryResult(table, None)
        sql = f'select * from "{schema}"."{table}" t'
        if only is not None:
            con.register("loaded_keys", only)
            sql += f" where exists (select 1 from loaded_keys bad where {_same_key(suite)})"
        frame = con.execute(sql).df()
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
    with con_factory() as con:
        con.register("bad_keys", keys)
        con.execute(
            f'delete from "{schema}"."{table}" t '
            f"where exists (select 1 from bad_keys bad where {_same_key(suite)})"
        )
    return BoundaryResult(table, validation, quarantined=len(bad))


def _same_key(suite: TableSuite) -> str:
    """Rows of ``t`` and ``bad`` with the same key; a null key matches a null key."""
    return " and ".join(f't."{k}" is not distinct from bad."{k}"' for k in suite.keys)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
