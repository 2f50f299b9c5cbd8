"""Compare the mart's totals with the ledger's, per channel, store and currency: every measure
of every group either side has, expected (ledger) against actual (mart), with the difference.

Why per group rather than one grand total: sums of different currencies mean nothing, and a
difference in one store must not hide behind an opposite one in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from tradelane.reconcile.ledger import Ledger
from tradelane.reconcile.mart import GROUP, LedgerSide, MartTotals


@dataclass(frozen=True)
class Total:
    """One measure of one (channel, store, currency) group on both sides."""

    channel: str
    store_id: str
    currency: str | None
    measure: str
    ledger: int
    mart: int

    @property
    def difference(self) -> int:
        return self.mart - self.ledger

    @property
    def ok(self) -> bool:
        return self.difference == 0


@dataclass
class TotalsResult:
    """The outcome for one mart fact; ``not_loaded`` names what it needs and is absent."""

    totals: MartTotals
    rows: list[Total] = field(default_factory=list)
    not_loaded: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Total]:
        return [t for t in self.rows if not t.ok]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class MartNotBuilt(RuntimeError):
    """The warehouse has no built mart (run dbt first)."""


def reconcile_mart(
    warehouse: Path, ledger: Ledger, entities: tuple[MartTotals, ...]
) -> list[TotalsResult]:
    """Every entity's mart totals in ``warehouse`` against ``ledger``. An entity whose source
    tables were never loaded is reported as not loaded and skipped: its ledger definition
    assumes them (the models fall back to other sources without them)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        needed = {"reference.stores", "marts.fct_orders"}
        if not needed <= tables:
            raise MartNotBuilt(
                f"no mart in {warehouse} ({', '.join(sorted(needed - tables))} missing): "
                "build it first (tradelane run, or dbt build)"
            )
        side = LedgerSide(ledger, con)
        results = []
        for entity in entities:
            result = TotalsResult(entity)
            result.not_loaded = [t for t in entity.requires if t not in tables]
            if not result.not_loaded:
                mart = con.sql(entity.mart_sql).pl()
                result.rows = compare_totals(entity.expected(side), mart, entity.measures)
            results.append(result)
    return results


def compare_totals(
    expected: pl.DataFrame, actual: pl.DataFrame, measures: tuple[str, ...]
) -> list[Total]:
    """Every measure of every group on either side; a group one side lacks counts as zero."""
    keys = [pl.col(c).cast(pl.String).fill_null("") for c in GROUP]
    left = expected.with_columns(keys).select(*GROUP, *measures)
    right = actual.with_columns(keys).select(*GROUP, *measures)
    joined = left.join(right, on=list(GROUP), how="full", coalesce=True, suffix="__mart")
    joined = joined.fill_null(0).sort(GROUP)
    rows = []
    for record in joined.iter_rows(named=True):
        for measure in measures:
            rows.append(
                Total(
                    record["channel"],
                    record["store_id"],
                    record["currency"] or None,
                    measure,
                    int(record[measure]),
                    int(record[f"{measure}__mart"]),
                )
            )
    return rows
