"""Great Expectations at the boundary: one declaration per raw table, one engine for all.

The parsers refuse what cannot be read exactly; a ``TableSuite`` states what every row of a raw
table must also satisfy once parsed: keys present and unique, money an exact decimal, currency
codes in ISO 4217, timestamps in a plausible range, enumerations within their vocabulary, plus
table-specific rules (``extra``). ``validate`` runs the suite on a pandas frame (GE's SQL
datasource fails every expectation on DuckDB, DESIGN.md) and returns, besides counts and
examples for an asset check, the failing rows with their reasons, so the caller can quarantine
them. ``great_expectations`` is imported only when a suite runs: importing it costs about 6 s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ingestion.common.currencies import ISO_CURRENCIES, WITHDRAWN_CURRENCIES

# No source Tradelane reads has data from before the euro (the ECB's history starts on
# 1999-01-04); a timestamp earlier than that is a parsing accident (an epoch in the wrong unit).
EARLIEST_TIMESTAMP = datetime(1999, 1, 1)
# Promised delivery dates and dispute deadlines lie ahead, but never years ahead.
LATEST_AHEAD = timedelta(days=2 * 365)
# An exact decimal that fits the warehouse's decimal(18,4) money columns.
MONEY_PATTERN = r"^-?\d{1,14}(?:\.\d{1,4})?$"
PAYMENT_CURRENCIES = tuple(sorted(ISO_CURRENCIES | WITHDRAWN_CURRENCIES))


@dataclass(frozen=True)
class Child:
    """Rows of another raw table of the same source that belong to a row of this one (a
    Shopify order's line items, a tracking's checkpoints): ``on`` maps each child column to the
    parent column it holds. When the boundary quarantines a parent row, these rows follow it
    (``pipelines/defs/ingestion/boundary.py``): left behind, they would reach the marts as lines
    of an order that is not there."""

    table: str
    on: Mapping[str, str]


@dataclass(frozen=True)
class TableSuite:
    """What a raw table promises. Columns that may be null are only checked where present.
    ``children`` names the rows of other tables of the same source that belong to a row of
    this one."""

    keys: tuple[str, ...]
    money: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Table-specific expectations: ``extra(gx.expectations)`` -> a list of expectations.
    extra: Callable[[Any], list[Any]] | None = None
    currency_codes: tuple[str, ...] = PAYMENT_CURRENCIES
    children: tuple[Child, ...] = ()

    def expectations(self, gx: Any, now: datetime) -> list[Any]:
        e = gx.expectations
        latest = now.astimezone(UTC).replace(tzinfo=None) + LATEST_AHEAD
        found: list[Any] = [e.ExpectColumnValuesToNotBeNull(column=k) for k in self.keys]
        found.append(
            e.ExpectColumnValuesToBeUnique(column=self.keys[0])
            if len(self.keys) == 1
            else e.ExpectCompoundColumnsToBeUnique(column_list=list(self.keys))
        )
        found += [
            e.ExpectColumnValuesToMatchRegex(column=_as_text(c), regex=MONEY_PATTERN)
            for c in self.money
        ]
        found += [
            e.ExpectColumnValuesToBeInSet(column=c, value_set=list(self.currency_codes))
            for c in self.currencies
        ]
        found += [
            e.ExpectColumnValuesToBeBetween(
                column=c, min_value=EARLIEST_TIMESTAMP, max_value=latest
            )
            for c in self.timestamps
        ]
        found += [
            e.ExpectColumnValuesToBeInSet(column=c, value_set=list(values))
            for c, values in self.enums.items()
        ]
        if self.extra is not None:
            found += self.extra(e)
        return found

    def prepare(self, frame: Any) -> Any:
        """The frame in the form the expectations compare: beside each money column its exact
        decimal text (so a float that slipped in shows as one), timestamps and dates as naive
        UTC datetimes, and a fresh 0..n-1 index, which failing rows are reported by."""
        import pandas as pd

        frame = frame.reset_index(drop=True).copy()
        for column in self.money:
            frame[_as_text(column)] = frame[column].map(_money_text).astype(object)
        for column in self.timestamps:
            values = pd.to_datetime(frame[column], utc=True)
            frame[column] = values.dt.tz_localize(None)
        return frame


@dataclass
class Failure:
    """One expectation that some rows broke."""

    expectation: str
    unexpected: int
    examples: list[str]


@dataclass
class Validation:
    """The outcome of a suite on one frame."""

    rows: int
    results: dict[str, Failure | None]
    # Row position -> the expectations it broke.
    bad_rows: dict[int, list[str]]

    @property
    def success(self) -> bool:
        return all(f is None for f in self.results.values())

    @property
    def failures(self) -> list[Failure]:
        return [f for f in self.results.values() if f is not None]

    def as_metadata(self) -> dict[str, Any]:
        return {
            f.expectation: {"unexpected": f.unexpected, "examples": f.examples}
            for f in self.failures
        }


def validate(name: str, suite: TableSuite, frame: Any, now: datetime | None = None) -> Validation:
    """Run ``suite`` on a pandas ``frame`` (named ``name`` in GE's context)."""
    import great_expectations as gx

    frame = suite.prepare(frame)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    expectations = gx.ExpectationSuite(name=name)
    for expectation in suite.expectations(gx, now or datetime.now(UTC)):
        expectations.add_expectation(expectation)
    outcome = batch.validate(
        context.suites.add(expectations), result_format={"result_format": "COMPLETE"}
    )
    results: dict[str, Failure | None] = {}
    bad_rows: dict[int, list[str]] = {}
    for r in outcome.results:
        kwargs = r.expectation_config.kwargs
        columns = kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list")
        label = f"{r.expectation_config.type}({columns})"
        if r.success:
            results[label] = None
            continue
        results[label] = Failure(
            label,
            int(r.result.get("unexpected_count") or 0),
            [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
        )
        for index in r.result.get("unexpected_index_list") or []:
            position = index if isinstance(index, int) else index.get("index")
            bad_rows.setdefault(int(position), []).append(label)
    return Validation(rows=len(frame), results=results, bad_rows=bad_rows)


def _as_text(column: str) -> str:
    return f"{column}:text"


def _money_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
