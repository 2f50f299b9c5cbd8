"""The ECB history file -> one row per (date, currency), exact.

The file's quirks are the ECB's own: ``N/A`` where a currency was not quoted, a trailing comma
on every line, newest fixing first. Rates are kept as exact decimals (up to six places, which
covers every currency the ECB has quoted) beside the text exactly as printed.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from ingestion.common.quarantine import Quarantine

RATE_TYPE = pa.decimal128(18, 6)
RATES_SCHEMA = pa.schema(
    [
        pa.field("rate_date", pa.date32(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        ("rate_per_eur", RATE_TYPE),
        ("rate_text", pa.string()),
        ("origin", pa.string()),
    ]
)


@dataclass
class ParsedRates:
    rates: pa.Table
    quarantine: Quarantine


def history_csv_from_zip(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        if len(names) != 1:
            raise ValueError(f"expected one CSV in the ECB archive, found {archive.namelist()}")
        return archive.read(names[0]).decode("utf-8")


def parse_history(text: str, origin: str, since: date | None = None) -> ParsedRates:
    """Parse the history file; rows before ``since`` are skipped (incremental loads)."""
    quarantine = Quarantine(source="ecb")
    lines = [line for line in text.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    if header[0] != "Date":
        raise ValueError(f"not an ECB history file: header starts with {header[0]!r}")
    currencies = header[1:]
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split(",")]
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            quarantine.add("rate_row", {"line": line}, f"bad date {cells[0]!r}", cells[0])
            continue
        if since is not None and day < since:
            continue
        for currency, cell in zip(currencies, cells[1:], strict=False):
            if not currency or not cell or cell == "N/A":
                continue
            try:
                value = Decimal(cell)
                if not value.is_finite() or value <= 0 or value != round(value, 6):
                    raise InvalidOperation
            except InvalidOperation:
                quarantine.add(
                    "rate",
                    {"date": cells[0], "currency": currency, "value": cell},
                    f"{currency} on {day}: {cell!r} is not a positive rate with at "
                    "most six decimals",
                    f"{day}:{currency}",
                )
                continue
            rows.append(
                {
                    "rate_date": day,
                    "currency": currency,
                    "rate_per_eur": value,
                    "rate_text": cell,
                    "origin": origin,
                }
            )
    return ParsedRates(pa.Table.from_pylist(rows, schema=RATES_SCHEMA), quarantine)
