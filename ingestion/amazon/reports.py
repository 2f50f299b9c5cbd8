"""Order items from SP-API's Reports API: the All Orders flat file, requested per marketplace,
polled until done, downloaded and read column-wise into ``raw_amazon.order_items`` rows.

Why: getOrderItems is one request per order at 0.5 requests/s; a report is a handful of
requests per marketplace whatever the number of orders. The report names an item by
(amazon-order-id, sku) and carries no OrderItemId, so ``order_item_id`` stays null on rows read
this way (the table's key is (amazon_order_id, seller_sku) either way).

Reading is strict and column-wise (polars): every cell is read as text, then each column is
checked and cast as a whole (ids by pattern, times to UTC, quantities to int64, money to an
exact ``decimal(18,4)`` through text, never float, with its currency). A row failing any check
goes to the quarantine with its first reason and the row as served; the rest load.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import pyarrow as pa

from ingestion.amazon import settings
from ingestion.amazon.parsers import ORDER_ITEMS_SCHEMA, SOURCE
from ingestion.common.currencies import ISO_CURRENCIES
from ingestion.common.http import ApiClient, ApiError, load_json
from ingestion.common.parsing import MONEY_PRECISION, MONEY_SCALE, utc_timestamp
from ingestion.common.quarantine import Quarantine

QUARANTINE_ENTITY = "order_report_row"
# Report column -> raw column, for amounts Amazon prints as they are charged.
_MONEY = {
    "item-price": "item_price",
    "item-tax": "item_tax",
    "shipping-price": "shipping_price",
    "shipping-tax": "shipping_tax",
    "gift-wrap-price": "gift_wrap_price",
    "gift-wrap-tax": "gift_wrap_tax",
}
# Promotions are printed as negative amounts; the raw table keeps discounts positive, as
# getOrderItems serves them.
_DISCOUNTS = {
    "item-promotion-discount": "promotion_discount",
    "ship-promotion-discount": "shipping_discount",
}
REQUIRED_COLUMNS = (
    "amazon-order-id",
    "last-updated-date",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    *_MONEY,
    *_DISCOUNTS,
    "promotion-ids",
    "price-designation",
)
_ORDER_ID = r"^\d{3}-\d{7}-\d{7}$"
_AMOUNT = rf"^-?\d{{1,{MONEY_PRECISION - MONEY_SCALE}}}(\.\d{{1,{MONEY_SCALE}}})?$"
# What the report prints: 2026-08-04T18:05:13+00:00 (offsets other than +00:00 are read too).
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"


class ReportFailed(RuntimeError):
    """A report Amazon could not produce (FATAL) or that never finished in time."""


@dataclass(frozen=True)
class FinishedReport:
    """A report that reached a final status: DONE with a document, or CANCELLED (Amazon
    cancels an order report whose window holds no order)."""

    marketplace_id: str
    report_id: str
    status: str
    data_end_time: datetime
    document_id: str | None


def create_reports(
    client: ApiClient, marketplace_ids: Sequence[str], data_start_time: str
) -> dict[str, str]:
    """One All Orders report per marketplace, its rows updated since ``data_start_time``:
    marketplace id -> report id. One per marketplace because a row names its marketplace only
    as a sales channel, and each marketplace's rows belong to its own seller account. No
    ``dataEndTime`` is sent: Amazon ends the window when it can (the sandbox: two minutes ago),
    and getReport says where."""
    out = {}
    for marketplace in marketplace_ids:
        body = {
            "reportType": settings.REPORT_TYPE,
            "marketplaceIds": [marketplace],
            "dataStartTime": data_start_time,
        }
        out[marketplace] = load_json(client.post(settings.REPORTS_PATH, json=body).content)[
            "reportId"
        ]
    return out


def wait_for_reports(
    client: ApiClient,
    report_ids: Mapping[str, str],
    poll_initial_s: float = settings.REPORT_POLL_INITIAL_S,
    poll_max_s: float = settings.REPORT_POLL_MAX_S,
    timeout_s: float = settings.REPORT_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[FinishedReport]:
    """Poll getReport for every report until each is DONE or CANCELLED, waiting
    ``poll_initial_s`` after the first round and twice as long after each further one (capped
    at ``poll_max_s``). FATAL, or a report still running after ``timeout_s``, raises
    ``ReportFailed``: the run fails and the next one asks again from the same cursor."""
    pending = dict(report_ids)
    finished: list[FinishedReport] = []
    wait = poll_initial_s
    deadline = clock() + timeout_s
    while True:
        for marketplace, report_id in list(pending.items()):
            path = settings.REPORT_PATH.format(report_id=report_id)
            report = load_json(client.get(path).content)
            status = report.get("processingStatus")
            if status in ("DONE", "CANCELLED"):
                finished.append(
                    FinishedReport(
                        marketplace,
                        report_id,
                        status,
                        utc_timestamp(report.get("dataEndTime"), "dataEndTime"),
                        report.get("reportDocumentId") if status == "DONE" else None,
                    )
                )
                del pending[marketplace]
            elif status == "FATAL":
                raise ReportFailed(f"report {report_id} ({marketplace}) ended FATAL")
            elif status not in ("IN_QUEUE", "IN_PROGRESS"):
                raise ReportFailed(f"report {report_id}: unknown processingStatus {status!r}")
        if not pending:
            return finished
        if clock() + wait > deadline:
            raise ReportFailed(f"reports {sorted(pending.values())} not done after {timeout_s:g} s")
        sleep(wait)
        wait = min(poll_max_s, wait * 2)


def download_document(client: ApiClient, download: ApiClient, document_id: str) -> bytes:
    """The report file: getReportDocument for a pre-signed URL, then a plain GET of it with
    ``download`` (a client without the access token: the URL is a third party's, S3 on Amazon,
    and the signature is the credential), gunzipped when Amazon says so. A URL that expired
    before it was fetched (403) is asked for once more."""
    path = settings.REPORT_DOCUMENT_PATH.format(document_id=document_id)
    for attempt in range(2):
        document = load_json(client.get(path).content)
        try:
            content = download.get(document["url"]).content
        except ApiError as exc:
            if exc.status == 403 and attempt == 0:
                continue
            raise
        algorithm = document.get("compressionAlgorithm")
        if algorithm is None:
            return content
        if algorithm != "GZIP":
            raise ReportFailed(f"report document {document_id}: unknown compression {algorithm}")
        return gzip.decompress(content)
    raise AssertionError("unreachable")


def read_report(content: bytes) -> pl.DataFrame:
    """The flat file as text columns (every cell a string, empty cells null). A header that
    lacks a column this reader needs is a changed report format: it raises, because loading
    such a file row by row would quarantine every row for the same reason."""
    if not content.strip():
        return pl.DataFrame(schema=dict.fromkeys(REQUIRED_COLUMNS, pl.String))
    frame = pl.read_csv(
        content,
        separator="\t",
        quote_char=None,
        infer_schema=False,
        truncate_ragged_lines=True,
        encoding="utf8",
    )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportFailed(f"the All Orders report lacks the columns {missing}")
    return frame


def parse_report(rows: pl.DataFrame, store_id: str | None, quarantine: Quarantine) -> pa.Table:
    """Report rows (``read_report``) of one marketplace -> ``order_items`` rows of
    ``store_id``; rows failing a check are added to ``quarantine`` with their reason."""
    text = {name: pl.col(name).str.strip_chars() for name in rows.columns}
    currency = text["currency"]
    amounts = {**_MONEY, **_DISCOUNTS}
    checks: list[tuple[pl.Expr, str]] = [
        (
            ~text["amazon-order-id"].str.contains(_ORDER_ID).fill_null(False),
            "amazon-order-id: missing or not a 3-7-7 Amazon order id",
        ),
        (text["sku"].fill_null("") == "", "sku: missing"),
        (
            _time(text["last-updated-date"]).is_null(),
            "last-updated-date: missing or not an ISO 8601 time with an offset",
        ),
        (
            ~text["quantity"].str.contains(r"^\d+$").fill_null(False),
            "quantity: missing or not a whole number of units",
        ),
        (
            currency.is_not_null() & ~currency.is_in(list(ISO_CURRENCIES)),
            "currency: not an ISO 4217 code",
        ),
    ]
    for column in amounts:
        cell = text[column]
        checks.append(
            (
                cell.is_not_null() & ~cell.str.contains(_AMOUNT),
                f"{column}: not an exact amount of at most {MONEY_SCALE} decimals",
            )
        )
        checks.append(
            (cell.is_not_null() & currency.is_null(), f"{column}: amount without currency")
        )
    for column in _DISCOUNTS:
        checks.append(
            (
                text[column].str.starts_with("-").not_() & (_decimal(text[column]) != 0),
                f"{column}: a promotion is printed negative, got a charge",
            )
        )
    reason = pl.coalesce([pl.when(bad.fill_null(False)).then(pl.lit(why)) for bad, why in checks])
    checked = rows.with_columns(_reason=reason)
    bad = checked.filter(pl.col("_reason").is_not_null())
    for row in bad.iter_rows(named=True):
        why = row.pop("_reason")
        record_id = f"{row.get('amazon-order-id')}:{row.get('sku')}"
        quarantine.add(QUARANTINE_ENTITY, row, why, record_id=record_id)
    good = checked.filter(pl.col("_reason").is_null())
    currency_of = pl.col("currency").str.strip_chars()
    columns = {
        "amazon_order_id": text["amazon-order-id"],
        "seller_sku": text["sku"],
        "store_id": pl.lit(store_id, pl.String),
        "order_last_update_date": _time(text["last-updated-date"]),
        "asin": text["asin"],
        "title": pl.col("product-name"),
        "quantity_ordered": text["quantity"].cast(pl.Int64),
        # The report has no shipped count, only the item's status: Shipped is every unit
        # (the fulfillable quantity downstream must not count shipped units again).
        "quantity_shipped": pl.when(text["item-status"] == "Shipped")
        .then(text["quantity"].cast(pl.Int64))
        .when(text["item-status"].is_in(["Unshipped", "Cancelled", "Pending"]))
        .then(pl.lit(0, pl.Int64)),
        "promotion_ids": text["promotion-ids"],
        "price_designation": text["price-designation"],
    }
    for column, name in _MONEY.items():
        columns[name] = _decimal(text[column])
        columns[f"{name}_currency"] = pl.when(text[column].is_not_null()).then(currency_of)
    for column, name in _DISCOUNTS.items():
        columns[name] = -_decimal(text[column])
        columns[f"{name}_currency"] = pl.when(text[column].is_not_null()).then(currency_of)
    frame = good.select(**columns).to_arrow()
    return _to_schema(frame)


def _time(cell: pl.Expr) -> pl.Expr:
    return cell.str.to_datetime(_TIME_FORMAT, strict=False, time_unit="us", time_zone="UTC")


def _decimal(cell: pl.Expr) -> pl.Expr:
    """Text -> decimal(18,4) without float; callers have checked the text's form."""
    return cell.cast(pl.Decimal(MONEY_PRECISION, MONEY_SCALE), strict=False)


def _to_schema(frame: pa.Table) -> pa.Table:
    """``frame``'s columns in ``ORDER_ITEMS_SCHEMA``, the columns the report lacks null."""
    columns = []
    for field in ORDER_ITEMS_SCHEMA:
        if field.name in frame.column_names:
            columns.append(frame.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(frame.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=ORDER_ITEMS_SCHEMA)


def report_items(
    client: ApiClient,
    download: ApiClient,
    report: FinishedReport,
    store_id: str | None,
    chunk_rows: int = 100_000,
) -> Iterator[tuple[pa.Table, Quarantine]]:
    """The items of one finished report in chunks of ``chunk_rows`` rows (a large report is
    hundreds of thousands of rows), each with the quarantine of its refused rows."""
    if report.document_id is None:
        return
    rows = read_report(download_document(client, download, report.document_id))
    for start in range(0, max(rows.height, 1), chunk_rows):
        quarantine = Quarantine(source=SOURCE)
        yield parse_report(rows.slice(start, chunk_rows), store_id, quarantine), quarantine


def check_items_via(value: str) -> str:
    """``items_via`` from config, refused early when it names no known way."""
    if value not in settings.ITEMS_VIA:
        raise ValueError(
            f"sources.amazon.items_via must be one of {', '.join(settings.ITEMS_VIA)}, "
            f"got {value!r}"
        )
    return value


def report_window_end(reports: Sequence[FinishedReport]) -> datetime | None:
    """Where every marketplace's report ended: the next run starts from the earliest."""
    return min((r.data_end_time for r in reports), default=None)
