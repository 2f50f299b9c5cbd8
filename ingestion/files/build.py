"""Rows of an export -> canonical orders and order lines, exactly, or the quarantine.

Rows group into orders by the mapping's order key. An order loads whole or not at all: when one
of its rows cannot be read exactly, that row goes to the quarantine with the reason and the
order's other rows follow it as "withheld", because half an order would load wrong totals. The
rest of the file loads. Amounts the export does not carry are derived from the ones it does
(``canonical.ORDER_FIELDS`` says how), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ingestion.common.parsing import MONEY_SCALE, BadValue, money
from ingestion.common.quarantine import Quarantine
from ingestion.files import settings
from ingestion.files.canonical import (
    LINE_MONEY_FIELDS,
    ORDER_LINES_SCHEMA,
    ORDER_MONEY_FIELDS,
    ORDERS_SCHEMA,
    coerce,
    offset_minutes,
    utc,
)
from ingestion.files.mapping import FieldSpec, Mapping
from ingestion.files.readers import RawRow, RawTable

_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


class FileMismatch(ValueError):
    """The file's header lacks columns its mapping needs: nothing in it can be loaded."""


class RowError(BadValue):
    """A value that cannot be read exactly, tied to the row it is on."""

    def __init__(self, row: RawRow, message: str) -> None:
        self.row = row
        super().__init__(message)


@dataclass
class ParsedFile:
    """One export file, split into the tables we load."""

    source_file: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    quarantine: Quarantine = field(default_factory=lambda: Quarantine(settings.SOURCE_NAME))

    def orders_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.orders, schema=ORDERS_SCHEMA)

    def lines_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.lines, schema=ORDER_LINES_SCHEMA)

    def order_keys(self) -> set[tuple[str, str, str]]:
        return {_order_key(order) for order in self.orders}

    def drop_orders(self, keys: set[tuple[str, str, str]]) -> None:
        """Forget orders a later file of the same run also has (its version wins)."""
        self.orders = [o for o in self.orders if _order_key(o) not in keys]
        self.lines = [line for line in self.lines if _order_key(line) not in keys]


def _order_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["channel"], row["store_id"], row["external_order_id"]


@dataclass(frozen=True)
class Binding:
    """A mapping bound to one file's header: each mapped column's position in the rows."""

    mapping: Mapping
    header: tuple[str, ...]
    positions: dict[str, int | None]

    def cells(self, spec: FieldSpec, row: RawRow) -> list[tuple[str, Any]]:
        if spec.columns == ():
            return [("value", spec.constant)]
        cells = []
        for column in spec.columns:
            position = self.positions[column]
            cells.append((column, None if position is None else row.cells[position]))
        return cells

    def key(self, row: RawRow) -> str | None:
        value = row.cells[self.positions[self.mapping.order_key]]  # type: ignore[index]
        return value.strip() if value is not None and value.strip() else None

    def payload(self, row: RawRow) -> dict[str, Any]:
        names = list(self.header) + [f"extra_{i}" for i in range(len(row.cells) - len(self.header))]
        return {"row": row.number, **{n: c for n, c in zip(names, row.cells, strict=False) if c}}


def bind(mapping: Mapping, header: tuple[str, ...]) -> Binding:
    """Find every mapped column in the header (exactly, else ignoring case and spacing);
    a missing one that is not ``optional`` fails the file, naming column and mapping file."""
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        exact.setdefault(name, []).append(index)
        folded.setdefault(_fold(name), []).append(index)
    wanted: dict[str, list[str]] = {mapping.order_key: ["order_key"]}
    optional: set[str] = set()
    for spec in mapping.specs():
        for column in spec.columns:
            wanted.setdefault(column, []).append(spec.target)
            if spec.optional:
                optional.add(column)
    positions: dict[str, int | None] = {}
    problems = []
    for column, targets in wanted.items():
        found = exact.get(column) or folded.get(_fold(column)) or []
        if len(found) == 1:
            positions[column] = found[0]
        elif len(found) > 1:
            problems.append(f"column {column!r} ({', '.join(targets)}) appears {len(found)} times")
        elif column in optional and column != mapping.order_key:
            positions[column] = None
        else:
            problems.append(f"column {column!r} ({', '.join(targets)}) is not in the file")
    if problems:
        shown = ", ".join(repr(h) for h in header[:60]) + (" ..." if len(header) > 60 else "")
        raise FileMismatch(
            f"the file does not match mapping {mapping.path}: {'; '.join(problems)}. "
            f"Its header is: {shown}"
        )
    return Binding(mapping, header, positions)


def _fold(name: str) -> str:
    return " ".join(name.lower().split())


def parse_table(table: RawTable, mapping: Mapping, source_file: str) -> ParsedFile:
    """Every order of one export file; raises ``FileMismatch`` if its header does not fit."""
    binding = bind(mapping, table.header)
    parsed = ParsedFile(source_file)
    groups: dict[str, list[RawRow]] = {}
    for row in table.rows:
        if row.is_blank():
            continue
        key = binding.key(row)
        if key is None:
            parsed.quarantine.add(
                "row",
                binding.payload(row),
                f"order key column {mapping.order_key!r} is blank",
                record_id=f"{source_file}:{row.number}",
            )
            continue
        groups.setdefault(key, []).append(row)
    seen: dict[tuple[str, str, str], int] = {}
    for key, rows in groups.items():
        try:
            order, lines = _order(binding, rows, source_file)
            first_row = seen.setdefault(_order_key(order), rows[0].number)
            if first_row != rows[0].number:
                raise RowError(
                    rows[0], f"order {order['external_order_id']!r} also starts at row {first_row}"
                )
        except RowError as exc:
            _quarantine_order(parsed.quarantine, binding, rows, key, exc, source_file)
            continue
        parsed.orders.append(order)
        parsed.lines.extend(lines)
    return parsed


def _quarantine_order(
    quarantine: Quarantine,
    binding: Binding,
    rows: list[RawRow],
    key: str,
    error: RowError,
    source_file: str,
) -> None:
    for row in rows:
        if row is error.row:
            reason = str(error)
        else:
            reason = f"withheld with order {key!r}: row {error.row.number} was refused ({error})"
        quarantine.add("row", binding.payload(row), reason, record_id=f"{source_file}:{row.number}")


def _row_value(binding: Binding, spec: FieldSpec, row: RawRow) -> Any:
    """One row's value of a field: transformed, typed, summed over several columns."""
    values = []
    for column, raw in binding.cells(spec, row):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        label = f"{spec.target} (column {column!r})" if spec.columns else spec.target
        value = raw
        for transform in spec.transforms:
            try:
                value = transform.apply(value)
            except BadValue as exc:
                raise RowError(row, f"{label}: {transform.name}: {exc}") from exc
        try:
            values.append(coerce(spec.field_type, value, label))
        except BadValue as exc:
            raise RowError(row, str(exc)) from exc
    if not values:
        return spec.default
    if len(values) == 1:
        return values[0]
    return _fit(sum(values), spec.target, row)


def _order_value(binding: Binding, spec: FieldSpec, rows: list[RawRow]) -> Any:
    if spec.aggregate == "sum":
        return _sum([_row_value(binding, spec, row) for row in rows], spec.target, rows[0])
    if spec.aggregate == "first_nonblank":
        for row in rows:
            if any(v is not None and str(v).strip() for _, v in binding.cells(spec, row)):
                return _row_value(binding, spec, row)
        return spec.default
    return _row_value(binding, spec, rows[0])


def _sum(values: list[Any], label: str, row: RawRow) -> Any:
    """Sum of the known values; null only when none is known."""
    known = [v for v in values if v is not None]
    return _fit(sum(known), label, row) if known else None


def _fit(value: Any, label: str, row: RawRow) -> Any:
    if isinstance(value, Decimal):
        try:
            return money(str(value), label)
        except BadValue as exc:
            raise RowError(row, str(exc)) from exc
    return value


def _required(value: Any, label: str, row: RawRow, spec: FieldSpec | None) -> Any:
    if value is None:
        where = f" (column {', '.join(map(repr, spec.columns))})" if spec and spec.columns else ""
        raise RowError(row, f"{label}{where} is blank")
    return value


def _order(
    binding: Binding, rows: list[RawRow], source_file: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    mapping = binding.mapping
    first = rows[0]
    for row in rows:
        if row.error:
            raise RowError(row, row.error)
    store = _required(_order_value(binding, mapping.store, rows), "store", first, mapping.store)
    values = {name: _order_value(binding, spec, rows) for name, spec in mapping.orders.items()}
    external_id = values["external_order_id"]
    _required(external_id, "orders.external_order_id", first, mapping.orders["external_order_id"])
    _required(values["ordered_at"], "orders.ordered_at", first, mapping.orders["ordered_at"])
    lines = []
    for row in rows:
        line = {name: _row_value(binding, spec, row) for name, spec in mapping.lines.items()}
        _required(line["quantity"], "lines.quantity", row, mapping.lines["quantity"])
        _line_prices(line, mapping, row)
        lines.append((row, line))
    if "is_cancelled" not in mapping.orders and "cancelled_at" in mapping.orders:
        values["is_cancelled"] = values["cancelled_at"] is not None
    currency = _currency(values.get("currency"), lines, first)
    _order_amounts(values, [line for _, line in lines], mapping, first)
    if currency is None and any(values.get(n) is not None for n in ORDER_MONEY_FIELDS):
        raise RowError(first, "orders.currency is blank but the order has amounts")
    order = {
        "channel": mapping.channel,
        "store_id": store,
        **{name: values.get(name) for name in _ORDER_PLAIN_FIELDS},
        "external_order_id": external_id,
        "ordered_at": utc(values["ordered_at"]),
        "ordered_at_utc_offset_minutes": offset_minutes(values["ordered_at"]),
        "updated_at": utc(values.get("updated_at")),
        "cancelled_at": utc(values.get("cancelled_at")),
        "currency": currency,
        "line_count": len(lines),
        "source_file": source_file,
        "source_row": first.number,
    }
    order_lines = [
        {
            "channel": mapping.channel,
            "store_id": store,
            "external_order_id": external_id,
            "line_number": number,
            **{name: line.get(name) for name in _LINE_PLAIN_FIELDS},
            "currency": line.get("currency") or currency,
            "source_file": source_file,
            "source_row": row.number,
        }
        for number, (row, line) in enumerate(lines, start=1)
    ]
    return order, order_lines


_ORDER_PLAIN_FIELDS = (
    "order_name",
    "order_number",
    "customer_id",
    "customer_email_sha256",
    "is_cancelled",
    "channel_order_status",
    "financial_status",
    "fulfillment_status",
    "taxes_included",
    *ORDER_MONEY_FIELDS,
    "destination_country_code",
    "destination_province",
    "destination_city",
    "destination_postal_code",
)
_LINE_PLAIN_FIELDS = (
    "external_line_id",
    "sku",
    "title",
    "channel_line_status",
    "quantity",
    *LINE_MONEY_FIELDS,
)


def _line_prices(line: dict[str, Any], mapping: Mapping, row: RawRow) -> None:
    """Fill the unit or extended price the export lacks. A unit price is derived only when
    the division is exact at four decimals (10.00 for 3 units has no exact unit price)."""
    quantity = line["quantity"]
    if "line_price" not in mapping.lines and line.get("unit_price") is not None:
        line["line_price"] = _fit(line["unit_price"] * quantity, "lines.line_price", row)
    if "unit_price" not in mapping.lines and line.get("line_price") is not None and quantity:
        unit = line["line_price"] / quantity
        if unit == unit.quantize(_QUANTUM) and unit * quantity == line["line_price"]:
            line["unit_price"] = _fit(unit.quantize(_QUANTUM), "lines.unit_price", row)


def _currency(
    order_currency: str | None, lines: list[tuple[RawRow, dict[str, Any]]], first: RawRow
) -> str | None:
    """One currency per order: the order's, else the one its lines agree on."""
    if order_currency is None:
        found = {line["currency"] for _, line in lines if line.get("currency")}
        if len(found) > 1:
            raise RowError(first, f"the order's lines are in several currencies: {sorted(found)}")
        order_currency = found.pop() if found else None
    for row, line in lines:
        own = line.get("currency")
        if own is not None and own != order_currency:
            raise RowError(
                row, f"lines.currency {own!r} differs from the order's {order_currency!r}"
            )
    return order_currency


def _order_amounts(
    values: dict[str, Any], lines: list[dict[str, Any]], mapping: Mapping, row: RawRow
) -> None:
    """Derive the order amounts the mapping does not map, from those it does."""

    def mapped(name: str) -> bool:
        return name in mapping.orders

    def from_lines(name: str, line_name: str) -> None:
        if not mapped(name):
            values[name] = _sum([line.get(line_name) for line in lines], f"orders.{name}", row)

    from_lines("line_items_total", "line_price")
    from_lines("discounts", "discount")
    from_lines("tax", "tax")
    discounts = values.get("discounts") or Decimal(0)
    if not mapped("subtotal") and values.get("line_items_total") is not None:
        values["subtotal"] = _fit(values["line_items_total"] - discounts, "orders.subtotal", row)
    if values.get("line_items_total") is None and values.get("subtotal") is not None:
        values["line_items_total"] = _fit(
            values["subtotal"] + discounts, "orders.line_items_total", row
        )
    subtotal = values.get("subtotal")
    tax = values.get("tax") or Decimal(0)
    before_tax = None
    if subtotal is not None:
        before_tax = (
            subtotal + (values.get("shipping") or Decimal(0)) + (values.get("other_charges") or 0)
        )
    if not mapped("total"):
        included = values.get("taxes_included")
        if before_tax is not None and (included is not None or tax == 0):
            values["total"] = _fit(before_tax + (0 if included else tax), "orders.total", row)
        else:
            values["total"] = None
    if not mapped("taxes_included") and before_tax is not None and values["total"] is not None:
        # The export says only the total: tax was added on top if the total includes it.
        if tax == 0 or values["total"] == before_tax + tax:
            values["taxes_included"] = False
        elif values["total"] == before_tax:
            values["taxes_included"] = True
