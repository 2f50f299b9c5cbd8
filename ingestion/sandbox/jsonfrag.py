"""JSON records built column-wise with polars expressions: objects, arrays, money, local time.

Why: building each record as a Python dict and serialising it capped serving at a few thousand
records per second, while ingestion must load tens of thousands. Here a whole table's records
become JSON text in a handful of vectorized passes (``struct.json_encode`` escapes strings and
writes exact 64-bit integers; ``concat_str`` splices nested parts), so a page is a byte-join of
pre-rendered records.

Conventions: an object is a list of ``(key, value)`` pairs where a value is a polars expression
(or a Python scalar) encoded by polars, or a ``Raw`` fragment that is already JSON text (a
nested object or array built the same way; never null). Keys keep their order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from ingestion.sandbox.money import minor_units


@dataclass(frozen=True)
class Raw:
    """A value that is already JSON text (a non-null string expression)."""

    expr: pl.Expr


def raw(value: pl.Expr | str) -> Raw:
    return Raw(pl.lit(value) if isinstance(value, str) else value)


@dataclass(frozen=True)
class Maybe:
    """A field present only where ``when`` holds (APIs that leave absent values out)."""

    when: pl.Expr
    value: Any


Field = tuple[str, Any]  # a polars expression, a Python scalar, a ``Raw`` or a ``Maybe``


def obj(fields: Sequence[Field]) -> pl.Expr:
    """One JSON object per row, keys in the given order."""
    pieces: list[pl.Expr] = []  # each ``,"key":value`` (or "" for an absent ``Maybe``)
    run: list[pl.Expr] = []

    def encoded(exprs: list[pl.Expr]) -> pl.Expr:
        inner = pl.struct(exprs).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
        return pl.concat_str([pl.lit(","), inner])

    def piece(key: str, value: Any) -> pl.Expr:
        if isinstance(value, Raw):
            return pl.concat_str([pl.lit("," + orjson.dumps(key).decode() + ":"), value.expr])
        return encoded([(value if isinstance(value, pl.Expr) else pl.lit(value)).alias(key)])

    def flush() -> None:
        if run:
            pieces.append(encoded(run))
            run.clear()

    for key, value in fields:
        if isinstance(value, Raw):
            flush()
            pieces.append(piece(key, value))
        elif isinstance(value, Maybe):
            flush()
            pieces.append(pl.when(value.when).then(piece(key, value.value)).otherwise(pl.lit("")))
        else:
            run.append((value if isinstance(value, pl.Expr) else pl.lit(value)).alias(key))
    flush()
    body = pl.concat_str(pieces).str.strip_prefix(",")
    return pl.concat_str([pl.lit("{"), body, pl.lit("}")])


def when_raw(condition: pl.Expr, then: pl.Expr | str, otherwise: pl.Expr | str) -> Raw:
    """A fragment chosen per row (e.g. an array that is ``[]`` unless a condition holds)."""
    lit = lambda v: pl.lit(v) if isinstance(v, str) else v  # noqa: E731
    return Raw(pl.when(condition).then(lit(then)).otherwise(lit(otherwise)))


def arrays(frame: pl.DataFrame, key: str | list[str], json: str, alias: str) -> pl.DataFrame:
    """``[elem, ...]`` per ``key`` of ``frame``'s ``json`` column, elements in row order."""
    return frame.group_by(key, maintain_order=True).agg(
        pl.concat_str([pl.lit("["), pl.col(json).str.join(","), pl.lit("]")]).alias(alias)
    )


def attach_arrays(frame: pl.DataFrame, parts: pl.DataFrame, key: str, alias: str) -> pl.DataFrame:
    """``frame`` with column ``alias`` from ``parts`` (see ``arrays``), ``[]`` where absent."""
    return frame.join(parts, on=key, how="left", maintain_order="left").with_columns(
        pl.col(alias).fill_null("[]")
    )


# --- Values ---------------------------------------------------------------------------------


def scale_of(currency: pl.Expr, currencies: Iterable[str]) -> pl.Expr:
    """10 ** (ISO 4217 minor units) per row, for the ``currencies`` that occur."""
    mapping = {c: 10 ** minor_units(c) for c in set(currencies) if c is not None}
    return currency.replace_strict(mapping, default=None, return_dtype=pl.Int64)


def money(minor: pl.Expr, scale: pl.Expr) -> pl.Expr:
    """Integer minor units as the API's decimal string: ``19900 -> "199.00"``, JPY ``"1990"``,
    ``-5`` KWD ``"-0.005"`` (the same text as ``money.format_minor``)."""
    magnitude = minor.abs()
    decimals = pl.concat_str(
        [
            pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (magnitude // scale).cast(pl.String),
            pl.lit("."),
            # 10**e + frac has e+1 digits: drop the leading 1 to zero-pad frac to e digits.
            ((magnitude % scale) + scale).cast(pl.String).str.slice(1),
        ]
    )
    return pl.when(scale == 1).then(minor.cast(pl.String)).otherwise(decimals)


def money_set(shop: pl.Expr, shop_currency: pl.Expr, pres: pl.Expr, pres_currency: pl.Expr) -> Raw:
    """Shopify's ``{"shop_money": {...}, "presentment_money": {...}}`` from amount strings."""
    return Raw(
        pl.concat_str(
            [
                pl.lit('{"shop_money":{"amount":"'),
                shop,
                pl.lit('","currency_code":"'),
                shop_currency,
                pl.lit('"},"presentment_money":{"amount":"'),
                pres,
                pl.lit('","currency_code":"'),
                pres_currency,
                pl.lit('"}}'),
            ]
        )
    )


def offset_suffix(offset_minutes: pl.Expr) -> pl.Expr:
    """``-240 -> "-04:00"``."""
    magnitude = offset_minutes.cast(pl.Int64).abs()
    return pl.concat_str(
        [
            pl.when(offset_minutes < 0).then(pl.lit("-")).otherwise(pl.lit("+")),
            (magnitude // 60).cast(pl.String).str.zfill(2),
            pl.lit(":"),
            (magnitude % 60).cast(pl.String).str.zfill(2),
        ]
    )


def local_time(instant: pl.Expr, offset_minutes: pl.Expr, suffix: pl.Expr) -> pl.Expr:
    """A UTC instant as ISO 8601 in a fixed local offset, whole seconds
    (``2026-07-04T10:15:00-04:00``); null stays null. ``suffix`` is ``offset_suffix(...)``."""
    seconds = instant.dt.epoch("s") + offset_minutes.cast(pl.Int64) * 60
    return pl.concat_str(
        [pl.from_epoch(seconds, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S"), suffix]
    )


def truthy(text: pl.Expr) -> pl.Expr:
    """Python truthiness of an optional string: present and not empty."""
    return text.is_not_null() & (text != "")


# --- Values derived from ids by a keyed hash --------------------------------------------------


class IdHashes:
    """Per-id hash-derived values (``stable_hash``, ``_token``, ``_uuid``), computed the first
    time an id is rendered and kept: after the clock moves only new ids are hashed."""

    def __init__(self) -> None:
        self._frames: dict[str, pl.DataFrame] = {}
        self._lock = threading.Lock()

    def lookup(
        self, name: str, ids: pl.Series, derive: dict[str, Any], dtypes: dict[str, Any]
    ) -> pl.DataFrame:
        """Columns ``derive`` (column -> function of one id) for every distinct id in ``ids``
        (a frame keyed by ``_id``)."""
        with self._lock:
            known = self._frames.get(name)
            wanted = ids.drop_nulls().unique()
            new = wanted if known is None else wanted.filter(~wanted.is_in(known["_id"].implode()))
            if len(new) or known is None:
                values = new.to_list()
                fresh = pl.DataFrame(
                    {"_id": new, **{c: [f(v) for v in values] for c, f in derive.items()}},
                    schema={"_id": ids.dtype, **dtypes},
                )
                known = fresh if known is None else pl.concat([known, fresh])
                self._frames[name] = known
            return known


# --- Id-derived values ----------------------------------------------------------------------

_U64 = pl.UInt64
_MASK64 = (1 << 64) - 1


def _u64(value: int) -> pl.Expr:
    return pl.lit(value & _MASK64, dtype=_U64)


def mix(value: pl.Expr, salt: int) -> pl.Expr:
    """The splitmix64 finaliser of ``value * golden + salt * c`` (UInt64, wrapping): the
    vectorized form of the renderers' ``mix(value, salt)``, bit for bit."""
    z = value.cast(_U64) * _u64(0x9E3779B97F4A7C15) + _u64(salt * 0xBF58476D1CE4E5B9)
    z = (z ^ (z // _u64(1 << 30))) * _u64(0xBF58476D1CE4E5B9)
    z = (z ^ (z // _u64(1 << 27))) * _u64(0x94D049BB133111EB)
    return z ^ (z // _u64(1 << 31))


_HEX = dict(enumerate("0123456789abcdef"))


def hex_digits(value: pl.Expr, digits: int) -> pl.Expr:
    """``f"{value:0{digits}x}"`` of a non-negative integer below ``16**digits``."""
    v = value.cast(_U64)
    return pl.concat_str(
        [
            ((v // _u64(16**k)) % _u64(16)).replace_strict(_HEX, return_dtype=pl.String)
            for k in reversed(range(digits))
        ]
    )
