"""Pieces shared by the column-wise page readers (``ingestion/tracking/columnar.py``,
``ingestion/shopify/columnar.py``): canonical-form checks as polars expressions, and the
conversions between the per-record parsers' rows and polars frames.

Why: a column-wise reader converts only the values in the canonical form an API prints and
hands every other record to the source's per-record parser, so both readers need the same
definition of "canonical" (a value the per-record parser would read the same way) and the same
way of merging the parser's rows back in page order.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from ingestion.common.parsing import MONEY_PRECISION, MONEY_SCALE

# The canonical timestamp forms; anything else takes the per-record path. Seconds stop at 59
# (Python refuses a leap second), offsets at 23:59 (as ``datetime.timezone`` does).
CANONICAL_TIME = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-[0-3][0-9]"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
# Python's ``str.strip`` also strips the separators U+001C-U+001F, which are not Unicode
# White_Space: a required string must hold something that is neither.
NOT_BLANK = r"[^\s\x1c-\x1f]"
# An amount ``parsing.money`` reads as written: ASCII digits, at most the money type's scale
# of decimals and its whole digits (money's own check refuses anything larger).
CANONICAL_MONEY = rf"^-?[0-9]{{1,{MONEY_PRECISION - MONEY_SCALE}}}(\.[0-9]{{1,{MONEY_SCALE}}})?$"
MONEY_DTYPE = pl.Decimal(MONEY_PRECISION, MONEY_SCALE)


@cache
def iso_time(name: str) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(UTC instant, offset minutes, wall clock, plain) of an ISO 8601 time in column ``name``,
    as ``parsing.utc_timestamp`` and ``utc_offset_minutes`` read it, for the canonical forms;
    ``plain`` is false for a value in any other form (or an impossible date). The offset is
    null for a date alone or a time without one."""
    value = pl.col(name)
    length = value.str.len_bytes()
    wall = (
        pl.when(length == 10)
        .then(value + "T00:00:00")
        .otherwise(value.str.slice(0, 19))
        .str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    )
    sign = pl.when(value.str.slice(19, 1) == "-").then(-1).otherwise(1)
    minutes = sign * (
        value.str.slice(20, 2).cast(pl.Int32, strict=False) * 60
        + value.str.slice(23, 2).cast(pl.Int32, strict=False)
    )
    offset = pl.when(length == 20).then(pl.lit(0, pl.Int32)).when(length == 25).then(minutes)
    utc = (wall - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    plain = value.is_null() | (
        value.str.contains(CANONICAL_TIME)
        & wall.is_not_null()
        # datetime's range, with room for any offset.
        & wall.dt.year().is_between(2, 9998)
    )
    return utc, offset.cast(pl.Int32), wall, plain


def required_text(expr: pl.Expr) -> pl.Expr:
    """True where ``parsing.required_str`` accepts the value (not null, not blank)."""
    return expr.str.contains(NOT_BLANK).fill_null(False)


def money_value(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(exact amount as the money decimal, plain) of a string amount; ``plain`` is false for
    null and for any form but the canonical one (the per-record ``money`` then judges it:
    polars' cast would round a fifth decimal, which ``money`` refuses)."""
    plain = expr.str.contains(CANONICAL_MONEY).fill_null(False)
    return pl.when(plain).then(expr).cast(MONEY_DTYPE, strict=False), plain


def rows_frame(positions: list[int], rows: list[dict[str, Any]], schema: pa.Schema) -> pl.DataFrame:
    """Rows of a per-record parser as a frame shaped like the column-wise one, ``_row`` being
    each row's position in the batch."""
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=schema))
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.Series("_row", positions, dtype=pl.Int64), *schema.names)


def to_schema(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """The frame as the per-record parser's Arrow table: same columns, types, nullability."""
    table = frame.to_arrow()
    return pa.Table.from_arrays(
        [table.column(name).cast(f.type) for name, f in zip(schema.names, schema, strict=True)],
        schema=schema,
    )


def read_page(content: bytes, schema: pa.Schema, envelope: str) -> pa.Table | None:
    """One response body decoded against ``schema`` as a one-row table, or None when it does
    not fit (the caller then parses the page record by record, which says why)."""
    try:
        table = pj.read_json(
            io.BytesIO(content),
            # One row (the whole body): the block must hold it.
            read_options=pj.ReadOptions(block_size=len(content) + 1, use_threads=False),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != 1 or not table.column(envelope)[0].is_valid:
        return None
    return table


def records_at(
    rows: list[int], sizes: Sequence[int], page_records: Callable[[int], list[Any]]
) -> list[Any]:
    """The raw records at ``rows`` of pages laid end to end (``sizes`` records each), from
    ``page_records(page index)``: only pages that hold such a record are decoded."""
    starts = np.cumsum([0, *sizes])
    found = []
    for row in rows:
        index = int(np.searchsorted(starts, row, side="right")) - 1
        found.append(page_records(index)[row - starts[index]])
    return found


def with_parsed_rows(
    good: pl.DataFrame, others: list[int], parsed: list[tuple[int, Any, Any]], schema: pa.Schema
) -> pl.DataFrame:
    """``good`` with the rows the per-record parser gave for the page rows ``others``
    (``(position in others, row, children)`` each), in page order."""
    return pl.concat(
        [
            good,
            rows_frame(
                [others[position] for position, _, _ in parsed],
                [row for _, row, _ in parsed],
                schema,
            ),
        ]
    ).sort("_row", maintain_order=True)


Page = TypeVar("Page")
Parsed = TypeVar("Parsed")


def parsed_in_runs(
    pages: Sequence[Page],
    decoded: Callable[[Page], bool],
    columns: Callable[[list[Page]], Parsed],
    one_by_one: Callable[[Page], Parsed],
) -> list[Parsed]:
    """``pages`` parsed in page order: each run of consecutive decoded pages converted together
    by ``columns`` (a polars pass costs about 10 ms whatever its size, so one per page would
    cost more than the work), each undecoded page record by record by ``one_by_one``."""
    parts: list[Parsed] = []
    run: list[Page] = []
    for page in pages:
        if decoded(page):
            run.append(page)
            continue
        if run:
            parts.append(columns(run))
            run = []
        parts.append(one_by_one(page))
    if run:
        parts.append(columns(run))
    return parts
