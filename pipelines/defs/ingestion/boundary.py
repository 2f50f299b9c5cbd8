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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.sources import DltSource

from ingestion.common.expectations import TableSuite, Validation, validate
from ingestion.common.quarantine import QUARANTINE_HINTS, QUARANTINE_TABLE, Quarantine
from pipelines.defs.ingestion.suites import RAW_SUITES


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
    """A table's validation, how many of its rows were moved to quarantine, and how many rows
    of other tables followed them as their children (by table)."""

    table: str
    validation: Validation | None  # None: the table does not exist (yet)
    quarantined: int = 0
    with_parent: dict[str, int] = field(default_factory=dict)


@dataclass
class _Moving:
    """Rows of one table on their way to the quarantine: the frame and each row's reason."""

    table: str
    suite: TableSuite
    rows: Any  # pandas frame, as read from the warehouse
    reasons: list[str]

    def record_ids(self) -> list[str]:
        return [
            ":".join(str(row[k]) for k in self.suite.keys)
            for row in self.rows[list(self.suite.keys)].to_dict("records")
        ]


def enforce_suite(
    pipeline: dlt.Pipeline,
    con_factory: Any,
    source: str,
    table: str,
    suite: TableSuite,
    only: pa.Table | None = None,
    suites: Mapping[str, TableSuite] | None = None,
) -> BoundaryResult:
    """Validate ``raw_<source>.<table>`` and quarantine the rows that break ``suite``: the rows
    whose keys are in ``only`` (``LoadedKeys.of``), or every row when ``only`` is None. The
    rows of ``suite.children`` that belong to a quarantined row follow it, and theirs in turn
    (looked up in ``suites``, the source's suites, ``RAW_SUITES[source]`` by default), with
    the reason ``parent <table> <id> quarantined: <why>``.

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
    positions = sorted(validation.bad_rows)
    bad = _Moving(
        table,
        suite,
        frame.iloc[positions].reset_index(drop=True),
        [
            "failed great-expectations: " + "; ".join(sorted(validation.bad_rows[p]))
            for p in positions
        ],
    )
    suites = RAW_SUITES.get(source, {}) if suites is None else suites
    with con_factory() as con:
        moving = [bad, *_descendants(con, schema, bad, suites)]
    quarantine = Quarantine(source=source)
    for part in moving:
        for row, reason, record_id in zip(
            part.rows.to_dict("records"), part.reasons, part.record_ids(), strict=True
        ):
            quarantine.add(part.table, row, reason, record_id=record_id)
    # Quarantine first: should the step die between the two writes, the rows are still in the
    # raw tables and the next run quarantines them again (the quarantine id is a content hash).
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
    with con_factory() as con:
        for part in moving:
            con.register("bad_keys", part.rows[list(part.suite.keys)].drop_duplicates())
            con.execute(
                f'delete from "{schema}"."{part.table}" t '
                f"where exists (select 1 from bad_keys bad where {_same_key(part.suite)})"
            )
            con.unregister("bad_keys")
    with_parent: dict[str, int] = {}
    for part in moving[1:]:
        with_parent[part.table] = with_parent.get(part.table, 0) + len(part.rows)
    return BoundaryResult(table, validation, quarantined=len(bad.rows), with_parent=with_parent)


def _descendants(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    parent: _Moving,
    suites: Mapping[str, TableSuite],
) -> list[_Moving]:
    """The rows of ``parent.suite.children`` that belong to the moving rows, then theirs."""
    found: list[_Moving] = []
    for child in parent.suite.children:
        if child.table not in suites:
            raise ValueError(
                f"{schema}.{parent.table}: child table {child.table!r} has no suite to name its key"
            )
        if not _table_exists(con, schema, child.table):
            continue  # not loaded by this source's configuration (Shopify finance off)
        parents = parent.rows[list(child.on.values())].copy()
        parents["_parent_id"] = parent.record_ids()
        parents["_parent_reason"] = parent.reasons
        # One parent row per key: a parent listed twice (a duplicated key) moves its children
        # once, under the first reason.
        con.register("moving_parents", parents.drop_duplicates(subset=list(child.on.values())))
        same = " and ".join(f'c."{mine}" = p."{theirs}"' for mine, theirs in child.on.items())
        rows = con.execute(
            f'select c.*, p._parent_id, p._parent_reason from "{schema}"."{child.table}" c '
            f"join moving_parents p on {same}"
        ).df()
        con.unregister("moving_parents")
        if rows.empty:
            continue
        reasons = [
            f"parent {parent.table} {parent_id} quarantined: {why}"
            for parent_id, why in zip(rows["_parent_id"], rows["_parent_reason"], strict=True)
        ]
        moving = _Moving(
            child.table,
            suites[child.table],
            rows.drop(columns=["_parent_id", "_parent_reason"]),
            reasons,
        )
        found += [moving, *_descendants(con, schema, moving, suites)]
    return found


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
