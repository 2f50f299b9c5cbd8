"""Compare one raw table with the ledger rows it must hold: what is missing, duplicated,
unexpected or different, and whether every record the sandbox served malformed sits in the
source's quarantine table instead.

Why malformed records are matched through the quarantined payload rather than the connector's
``record_id``: connectors name records their own way (AfterShip's tracking id, a composite key
as ``a:b``), while the ledger lists the id as served. The payload is the record as served, so
reading the id at the same path the sandbox keyed it by gives the ledger's form. A record served
without its id (``missing_id``) or with a mangled one (``id_as_string_float``) cannot be matched
by id; those are matched by count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import polars as pl

from tradelane.reconcile.ledger import Ledger
from tradelane.reconcile.mappings import Entity

# Kinds whose quarantined payload carries no id the ledger could recognise.
_ANONYMOUS_KINDS = frozenset({"missing_id", "id_as_string_float"})


def anonymous_kinds(served_as: tuple[str, str] | None, id_field: str) -> frozenset[str]:
    """Kinds after which a served record may no longer carry its id: besides the two above,
    ``truncated_object`` when the id is one of the fields it removes (AfterShip's
    ``tracking_number``)."""
    from ingestion.sandbox.fault_data import shape_of

    if served_as is not None and id_field in shape_of(*served_as).required:
        return _ANONYMOUS_KINDS | {"truncated_object"}
    return _ANONYMOUS_KINDS


@dataclass(frozen=True)
class Difference:
    """One value that differs; money carries each side's currency."""

    key: str
    column: str
    ledger: Any
    raw: Any
    ledger_currency: str | None = None
    raw_currency: str | None = None


@dataclass
class EntityResult:
    """The outcome for one entity; ``ok`` when nothing at all disagrees."""

    entity: Entity
    ledger_rows: int = 0
    raw_rows: int = 0
    expected_quarantined: int = 0
    quarantined: int = 0
    withheld: int = 0  # rows of a quarantined parent, never fetched
    # Rows the load step's great-expectations boundary moved from this raw table to the
    # quarantine: failing the table's suite, or following a quarantined parent.
    moved: int = 0
    not_loaded: bool = False  # the raw table does not exist
    strict: bool = False  # a table that does not exist is a mismatch
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    loaded_malformed: list[str] = field(default_factory=list)
    not_quarantined: list[str] = field(default_factory=list)
    unlisted_quarantined: list[str] = field(default_factory=list)
    different: list[Difference] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return (
            len(self.missing)
            + len(self.duplicated)
            + len(self.unexpected)
            + len(self.loaded_malformed)
            + len(self.not_quarantined)
            + len(self.unlisted_quarantined)
            + len({d.key for d in self.different})
            + (1 if self.not_loaded and self.strict else 0)
        )

    @property
    def ok(self) -> bool:
        return self.problems == 0


def reconcile(
    warehouse: Path, ledger: Ledger, entities: tuple[Entity, ...], strict: bool = False
) -> list[EntityResult]:
    """Compare every entity's raw table in ``warehouse`` with ``ledger``. A raw table that does
    not exist is reported as not loaded (the default run leaves some sources out) and counts as
    a mismatch only when ``strict``."""
    malformed = ledger("malformed_records")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            (schema, table)
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        results = []
        for entity in (e.configured() for e in entities):
            result = EntityResult(entity, strict=strict)
            if (f"raw_{entity.source}", entity.table) in tables:
                _compare(con, tables, ledger, malformed, result)
            else:
                result.not_loaded = True
                result.ledger_rows = entity.expected(ledger).height
            results.append(result)
    return results


def _listed(malformed: pl.DataFrame, served_as: tuple[str, str] | None) -> dict[str, str]:
    """Ledger-listed malformed ids of one served list -> their kind."""
    if served_as is None:
        return {}
    rows = malformed.filter((pl.col("api") == served_as[0]) & (pl.col("entity") == served_as[1]))
    return dict(zip(rows["record_id"], rows["kind"], strict=True))


def _compare(
    con: duckdb.DuckDBPyConnection,
    tables: set[tuple[str, str]],
    ledger: Ledger,
    malformed: pl.DataFrame,
    result: EntityResult,
) -> None:
    entity = result.entity
    expected = entity.expected(ledger)
    dataset = f"raw_{entity.source}"
    present = set(expected["key"])
    elsewhere = entity.served_elsewhere(ledger) if entity.served_elsewhere else set()
    listed = {
        k: v
        for k, v in _listed(malformed, entity.served_as).items()
        if k in present and k not in elsewhere
    }
    parents = set(_listed(malformed, entity.parent)) if entity.parent else set()
    withheld = (
        set(expected.filter(pl.col("parent").is_in(list(parents)))["key"]) if parents else set()
    )
    compared = [c for c in expected.columns if c not in ("key", "parent")]
    expected = expected.select("key", *compared)
    result.ledger_rows = expected.height

    raw = con.sql(entity.raw_query(ledger)).pl()
    result.raw_rows = raw.height
    raw_keys = Counter(raw["key"])
    result.duplicated = sorted(k for k, n in raw_keys.items() if n > 1)

    quarantined = _quarantined(con, tables, dataset, entity)
    result.quarantined = sum(quarantined.values())
    anonymous = anonymous_kinds(entity.served_as, entity.id_paths[0] if entity.id_paths else "")
    also = entity.also_loaded(ledger) & set(listed) if entity.also_loaded else set()
    _match_quarantine(result, listed, withheld, quarantined, set(raw_keys), anonymous, also)
    moved = _moved_by_boundary(con, tables, entity) - set(raw_keys)
    result.moved = len(moved & present)
    result.not_quarantined = [k for k in result.not_quarantined if k not in moved]

    should_load = present - (set(listed) - also) - withheld - moved
    result.missing = sorted(should_load - set(raw_keys))
    result.unexpected = sorted(set(raw_keys) - present)
    result.withheld = len(withheld - set(raw_keys))
    result.different = _differences(
        expected, raw.unique("key", keep="first"), compared, dict(entity.money)
    )


def _quarantined(
    con: duckdb.DuckDBPyConnection, tables: set[tuple[str, str]], dataset: str, entity: Entity
) -> Counter[str | None]:
    """Quarantined records of this entity by the id their payload carries (None: no id)."""
    if not entity.quarantine_entities or (dataset, "quarantine") not in tables:
        return Counter()
    rows = con.execute(
        f"select payload from {dataset}.quarantine where entity in "
        f"({', '.join('?' for _ in entity.quarantine_entities)})",
        list(entity.quarantine_entities),
    ).fetchall()
    return Counter(_payload_id(payload, entity.id_paths) for (payload,) in rows)


def _moved_by_boundary(
    con: duckdb.DuckDBPyConnection, tables: set[tuple[str, str]], entity: Entity
) -> set[str]:
    """Keys of the rows the great-expectations boundary moved out of the entity's raw table
    (``pipelines/defs/ingestion/boundary.py``: their quarantine entity is the table's name and
    their payload the raw row). The payloads are read back into the raw table's types and the
    entity's own query gives their keys, in the same form as the raw table's."""
    dataset = f"raw_{entity.source}"
    if (dataset, "quarantine") not in tables or (dataset, entity.table) not in tables:
        return set()
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [dataset, entity.table],
    ).fetchall()
    structure = orjson.dumps(dict(columns)).decode().replace("'", "''")
    con.execute(
        f'create or replace temp table "{entity.table}" as '
        f"select unnest(json_transform(payload, '{structure}')) from {dataset}.quarantine "
        "where entity = ? and (reason like 'failed great-expectations:%' "
        "or reason like 'parent % quarantined: %')",
        [entity.table],
    )
    try:
        keys = con.execute(f"select key from ({entity.raw_sql.format(dataset='temp.main')})")
        return {str(key) for (key,) in keys.fetchall() if key is not None}
    finally:
        con.execute(f'drop table temp.main."{entity.table}"')


def _payload_id(payload: str, id_paths: tuple[str, ...]) -> str | None:
    """The id at ``id_paths`` (joined by ``:``); a connector that keeps a wrapper around the
    record (Amazon's item under ``OrderItem``) is read one level down too."""
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    for candidate in [record, *(v for v in record.values() if isinstance(v, dict))]:
        values = []
        for path in id_paths:
            node = candidate
            for step in path.split("."):
                node = node.get(step) if isinstance(node, dict) else None
            if node is None or isinstance(node, dict | list | float | bool):
                break
            values.append(_gid_number(str(node)))
        else:
            return ":".join(values)
    return None


def _gid_number(value: str) -> str:
    """A GraphQL global id (``gid://shopify/OrderTransaction/123``) as the number the ledger
    lists; any other id as it is."""
    if value.startswith("gid://"):
        tail = value.rsplit("/", 1)[-1]
        if tail.isdigit():
            return tail
    return value


def _match_quarantine(
    result: EntityResult,
    listed: dict[str, str],
    withheld: set[str],
    quarantined: Counter[str | None],
    raw_keys: set[str],
    anonymous_kinds: frozenset[str],
    also_loaded: set[str] | frozenset[str] = frozenset(),
) -> None:
    """``also_loaded``: listed keys that load from a clean copy elsewhere, so they belong in
    the raw table and their malformed copy in the quarantine."""
    expected = {k: kind for k, kind in listed.items() if k not in withheld}
    result.expected_quarantined = len(expected)
    result.loaded_malformed = sorted((set(expected) - also_loaded) & raw_keys)
    unmatched = [
        k for k in expected if k not in quarantined and (k in also_loaded or k not in raw_keys)
    ]
    # Quarantined rows the ledger does not list by that id: id-less ones first absorb the
    # listed records that were served without a usable id.
    strangers = [k for k in quarantined.elements() if k is None or k not in expected]
    anonymous = sorted(k for k in unmatched if expected[k] in anonymous_kinds)
    absorbed = min(len(anonymous), len(strangers))
    named = [k for k in unmatched if expected[k] not in anonymous_kinds]
    result.not_quarantined = sorted(named + anonymous[absorbed:])
    result.unlisted_quarantined = sorted(
        ("(no id)" if k is None else k) for k in _without(strangers, absorbed)
    )


def _without(strangers: list[str | None], absorbed: int) -> list[str | None]:
    """``strangers`` less ``absorbed`` of them, id-less ones (or unknown ids) first."""
    ordered = sorted(strangers, key=lambda k: (k is not None, k or ""))
    return ordered[absorbed:]


def _differences(
    expected: pl.DataFrame, raw: pl.DataFrame, compared: list[str], money: dict[str, str]
) -> list[Difference]:
    if not compared or expected.height == 0 or raw.height == 0:
        return []
    left = expected.select("key", *[_comparable(expected, c) for c in compared])
    right = raw.select("key", *[_comparable(raw, c) for c in compared])
    joined = left.join(right, on="key", how="inner", suffix="__raw")
    out = []
    for column in compared:
        other = f"{column}__raw"
        differs = joined.filter(pl.col(column).ne_missing(pl.col(other)))
        currency = money.get(column)
        currencies = (
            [pl.col(currency), pl.col(f"{currency}__raw")]
            if currency
            else [pl.lit(None).alias("_a"), pl.lit(None).alias("_b")]
        )
        for key, a, b, ca, cb in differs.select("key", column, other, *currencies).iter_rows():
            out.append(Difference(key, column, a, b, ca, cb))
    return sorted(out, key=lambda d: (d.key, d.column))


def _comparable(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as text, timestamps in UTC first: both sides then compare exactly whatever
    types the two reads gave them (an empty ledger list has no types at all)."""
    dtype = frame.schema[column]
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            expr = expr.dt.replace_time_zone("UTC")
        expr = expr.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return expr.cast(pl.String).alias(column)
