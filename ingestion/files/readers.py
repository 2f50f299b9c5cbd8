"""Read an export into a header and rows of text, keeping each row's number in the file.

Every cell stays text (or None when empty): types are the mapping's business, and reading "0012"
as 12 or "12.99" as a float would lose what the marketplace wrote. Row numbers are those a
spreadsheet shows (the header row included), so a quarantine reason points at the right line.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import fastexcel
import polars as pl

from ingestion.files.mapping import FileFormat


class FileReadError(ValueError):
    """The file cannot be read as its mapping says (encoding, sheet, not a workbook...)."""


@dataclass(frozen=True)
class RawRow:
    number: int
    cells: tuple[str | None, ...]
    error: str | None = None

    def is_blank(self) -> bool:
        return all(cell is None or not cell.strip() for cell in self.cells)


@dataclass(frozen=True)
class RawTable:
    header: tuple[str, ...]
    rows: list[RawRow]


def read_table(content: bytes, file_format: FileFormat) -> RawTable:
    if file_format.type == "xlsx":
        return _read_xlsx(content, file_format)
    return _read_delimited(content, file_format)


def _decode(content: bytes, encoding: str) -> str:
    # Excel and Windows tools prepend a byte-order mark to UTF-8; it is not part of the header.
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        return content.decode(codec)
    except UnicodeDecodeError as exc:
        raise FileReadError(
            f"not valid {encoding} at byte {exc.start}: set format.encoding in the mapping "
            "(Amazon's EU and JP reports are often windows-1252 or shift_jis)"
        ) from exc


def _read_delimited(content: bytes, file_format: FileFormat) -> RawTable:
    text = _decode(content, file_format.encoding)
    # Shopify notes and addresses can be long; the csv module's default cap is 128 KiB a cell.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    options: dict[str, object] = {"delimiter": file_format.delimiter, "strict": True}
    if file_format.quote_char is None:
        options["quoting"] = csv.QUOTE_NONE
    else:
        options["quotechar"] = file_format.quote_char
    reader = csv.reader(io.StringIO(text, newline=""), **options)  # type: ignore[arg-type]
    records = _numbered(reader)
    header: tuple[str, ...] | None = None
    rows: list[RawRow] = []
    try:
        for number, record in records:
            if header is None:
                if number == file_format.header_row:
                    header = tuple(cell.strip() for cell in record)
                elif number > file_format.header_row:
                    raise FileReadError(f"no header at row {file_format.header_row}")
                continue
            if not record:
                continue
            rows.append(_row(number, record, len(header)))
    except csv.Error as exc:
        raise FileReadError(f"not a valid {file_format.type} file: {exc}") from exc
    if header is None or not any(header):
        raise FileReadError(f"no header at row {file_format.header_row} (the file is empty)")
    return RawTable(header=header, rows=rows)


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Records with the line each starts on (a quoted cell may span lines)."""
    line = 0
    for record in reader:
        yield line + 1, record
        line = reader.line_num  # type: ignore[attr-defined]


def _row(number: int, record: list[str], width: int) -> RawRow:
    cells = [cell if cell != "" else None for cell in record]
    if len(cells) > width and any(c is not None and c.strip() for c in cells[width:]):
        return RawRow(
            number,
            tuple(cells),
            f"row has {len(cells)} cells but the header has {width} "
            "(a delimiter inside an unquoted value?)",
        )
    cells = (cells + [None] * width)[:width]
    return RawRow(number, tuple(cells))


def _read_xlsx(content: bytes, file_format: FileFormat) -> RawTable:
    try:
        reader = fastexcel.read_excel(content)
    except Exception as exc:  # fastexcel raises its own hierarchy; all mean "not a workbook"
        raise FileReadError(f"not a readable xlsx workbook: {exc}") from exc
    sheet = file_format.sheet
    if sheet is None:
        sheet_id: str | int = 0
    elif isinstance(sheet, int):
        sheet_id = sheet - 1
        if sheet_id >= len(reader.sheet_names):
            raise FileReadError(f"no sheet {sheet}; the workbook has {len(reader.sheet_names)}")
    else:
        if sheet not in reader.sheet_names:
            raise FileReadError(f"no sheet {sheet!r}; the workbook has {reader.sheet_names}")
        sheet_id = sheet
    try:
        loaded = reader.load_sheet(sheet_id, header_row=file_format.header_row - 1, dtypes="string")
    except Exception as exc:
        raise FileReadError(f"cannot read sheet {sheet_id!r}: {exc}") from exc
    header = tuple(column.name.strip() for column in loaded.available_columns())
    frame = pl.DataFrame(loaded)
    rows = [
        RawRow(file_format.header_row + 1 + index, tuple(cells))
        for index, cells in enumerate(frame.iter_rows())
    ]
    return RawTable(header=header, rows=rows)
