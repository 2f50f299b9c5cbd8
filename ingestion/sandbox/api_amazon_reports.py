"""Sandbox API: Amazon SP-API Reports 2021-06-30 for the All Orders flat file
(``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``), served from the same snapshot of the
ledger as getOrders and getOrderItems (``api_amazon``).

Why it exists: getOrderItems costs one request per order (0.5 requests/s on Amazon), so real
integrations at volume read order items from a report instead. The lifecycle is Amazon's:

- ``POST /reports/2021-06-30/reports`` (createReport) with ``reportType``, ``marketplaceIds`` and
  ``dataStartTime`` (``dataEndTime`` optional) answers 202 ``{"reportId"}``. The window is fixed
  at creation: ``dataEndTime`` defaults to, and may not be later than, two minutes before the
  clock (the same settling rule as getOrders), and is echoed by getReport so a connector can
  use it as its next cursor.
- ``GET /reports/2021-06-30/reports/{reportId}`` (getReport): ``processingStatus`` IN_QUEUE on
  the first poll, IN_PROGRESS on the second, then DONE with a ``reportDocumentId``; CANCELLED
  (and no document) when the window holds no order item, as Amazon cancels order reports
  without eligible data. The rows are those of the clock when processing finishes: only the
  orders of the report's marketplaces and window are rendered, once, and the (gzipped)
  document is kept per report, so neither a clock move nor the world's size makes every
  report pay for the whole world.
- ``GET /reports/2021-06-30/documents/{reportDocumentId}`` (getReportDocument): a pre-signed
  ``url`` valid five minutes, and ``compressionAlgorithm: GZIP`` when the file is gzipped
  (documents over ``GZIP_ABOVE_BYTES``).
- The download itself is a plain GET of that URL without the access token (S3 on Amazon): a
  tampered or expired signature gets S3's 403 ``AccessDenied`` XML.

Usage plans are per operation with Amazon's published burst and a faster sandbox refill
(``USAGE_PLANS``; tests replace it to throttle); a refused request gets 429 ``QuotaExceeded``
with ``x-amzn-RateLimit-Limit`` and ``Retry-After``. The fault middleware adds its 429s and 5xx
to every path here, and malformed rows are drawn per row id (``amazon-order-id:sku``) under
``("amazon", "order_report")`` like every other list (``fault_data.SERVED_IDS``).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import itertools
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox import amazon_render as render
from ingestion.sandbox.api_amazon import SETTLE, UsagePlan, amazon_api
from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fault_data import canonical_id, corrupt, malformed_kind, shape_of
from ingestion.sandbox.faults import FaultRun, draw
from ingestion.sandbox.http_common import BadRequest, epoch_us, json_response, parse_instant
from ingestion.sandbox.rate_limit import LeakyBucket

PREFIX = "/reports/2021-06-30"
DOWNLOAD_PREFIX = "/report-documents"
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
# Served rows are keyed like this in malformed_records (their shape is in fault_data.SHAPES):
# (amazon-order-id, sku) identifies an item in the report, which carries no order-item id.
ENTITY = "order_report"
ID_FIELDS = ("amazon-order-id", "sku")
GZIP_ABOVE_BYTES = 64 * 1024
URL_TTL_S = 300.0
# Documents kept for download; older ones are gone, as on Amazon after their retention.
_MAX_DOCUMENTS = 64

# Published plans (reports_2021-06-30.json): createReport and getReportDocument 0.0167/s burst
# 15, getReport 2/s burst 15. A connector polls getReport, so the sandbox refills it fastest.
USAGE_PLANS: dict[str, UsagePlan] = {
    "createReport": UsagePlan(published_rate=0.0167, burst=15, sandbox_rate=20.0),
    "getReport": UsagePlan(published_rate=2.0, burst=15, sandbox_rate=100.0),
    "getReportDocument": UsagePlan(published_rate=0.0167, burst=15, sandbox_rate=20.0),
}


@dataclass
class _Report:
    report_id: str
    marketplaces: list[str]
    start: datetime
    end: datetime
    created: datetime
    polls: int = 0
    status: str = "IN_QUEUE"
    document_id: str | None = None
    finished: datetime | None = None


@dataclass
class _Document:
    content: bytes
    gzipped: bool


@dataclass
class _Store:
    reports: dict[str, _Report] = field(default_factory=dict)
    documents: dict[str, _Document] = field(default_factory=dict)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class _ReportsApi:
    """Handlers bound to one sandbox."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.orders_api = amazon_api(ctx)
        self.plans = dict(USAGE_PLANS)
        self.buckets = {
            op: LeakyBucket(plan.burst, plan.sandbox_rate, clock=ctx.config.rate_limit_clock)
            for op, plan in self.plans.items()
        }
        self.store = _Store()
        self._lock = threading.Lock()
        self._ids = itertools.count(50_000_000_000)
        self._secret = uuid.uuid4().bytes

    # Plumbing ---------------------------------------------------------------------------

    def _gate(self, request: Request, operation: str) -> tuple[Response | None, dict[str, str]]:
        """Auth, then the operation's bucket: ``(refusal, headers)``."""
        rate = f"{self.plans[operation].sandbox_rate:g}"
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-RateLimit-Limit": rate}
        token = request.headers.get("x-amz-access-token")
        if token != self.orders_api.token:
            return _error(
                403, "Unauthorized", "Access to requested resource is denied.", headers
            ), {}
        decision = self.buckets[operation].acquire(token)
        if not decision.allowed:
            retry = {**headers, "Retry-After": str(max(1, math.ceil(decision.retry_after or 1)))}
            message = "You exceeded your quota for the requested resource."
            return _error(429, "QuotaExceeded", message, retry), {}
        return None, headers

    def report_frame(self, marketplaces: list[str], start: datetime, end: datetime) -> pl.DataFrame:
        """The All Orders report's item rows of the orders of ``marketplaces`` last updated
        within [``start``, ``end``] at the current clock (``api_amazon``'s snapshot): only
        those orders are rendered, not the world's."""
        snap = self.orders_api.snapshot()
        orders = snap.orders.filter(
            pl.col("marketplace_id").is_in(marketplaces),
            pl.col("update_us").is_between(epoch_us(start), epoch_us(end)),
        )
        lines = snap.lines.join(orders.select("order_id"), on="order_id", how="semi")
        return render.all_orders_report(orders, lines, snap.lookups)

    # createReport -----------------------------------------------------------------------

    async def create_report(self, request: Request) -> Response:
        refused, headers = self._gate(request, "createReport")
        if refused is not None:
            return refused
        try:
            body = orjson.loads(await request.body())
            report = self._new_report(body)
        except orjson.JSONDecodeError:
            return _error(400, "InvalidInput", "Invalid Input", headers, "body is not JSON")
        except BadRequest as exc:
            return _error(400, "InvalidInput", "Invalid Input", headers, exc.message)
        with self._lock:
            self.store.reports[report.report_id] = report
        return json_response({"reportId": report.report_id}, 202, headers)

    def _new_report(self, body: Any) -> _Report:
        if not isinstance(body, dict):
            raise BadRequest("body", "The request body must be a JSON object.")
        if body.get("reportType") != REPORT_TYPE:
            raise BadRequest("reportType", f"The sandbox offers only reportType {REPORT_TYPE}.")
        marketplaces = body.get("marketplaceIds")
        known = self.orders_api.snapshot().marketplaces
        if (
            not isinstance(marketplaces, list)
            or not marketplaces
            or not all(isinstance(m, str) for m in marketplaces)
        ):
            raise BadRequest("marketplaceIds", "marketplaceIds must be a non-empty list.")
        unknown = sorted(set(marketplaces) - known)
        if unknown:
            raise BadRequest("marketplaceIds", f"Invalid marketplaceIds: {','.join(unknown)}.")
        now = self.ctx.state.now
        latest = (now - SETTLE).replace(microsecond=0)
        bounds = {}
        for name in ("dataStartTime", "dataEndTime"):
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise BadRequest(name, f"{name} must be an ISO 8601 date-time.")
            bounds[name] = parse_instant(name, value)
        start = bounds.get("dataStartTime", latest - timedelta(days=30))
        end = bounds.get("dataEndTime", latest)
        if end > latest:
            raise BadRequest("dataEndTime", "dataEndTime must be at least two minutes ago.")
        if start > end:
            raise BadRequest("dataStartTime", "dataStartTime must not be after dataEndTime.")
        return _Report(
            report_id=str(next(self._ids)),
            marketplaces=sorted(set(marketplaces)),
            start=start,
            end=end,
            created=now,
        )

    # getReport --------------------------------------------------------------------------

    def get_report(self, request: Request) -> Response:
        refused, headers = self._gate(request, "getReport")
        if refused is not None:
            return refused
        with self._lock:
            report = self.store.reports.get(request.path_params["report_id"])
        if report is None:
            return _error(404, "NotFound", "The report was not found.", headers)
        self._advance(request, report)
        body: dict[str, Any] = {
            "reportType": REPORT_TYPE,
            "processingEndTime": None if report.finished is None else _iso(report.finished),
            "processingStatus": report.status,
            "marketplaceIds": report.marketplaces,
            "reportId": report.report_id,
            "dataEndTime": _iso(report.end),
            "createdTime": _iso(report.created),
            "dataStartTime": _iso(report.start),
        }
        if report.status != "IN_QUEUE":
            body["processingStartTime"] = _iso(report.created)
        if report.document_id is not None:
            body["reportDocumentId"] = report.document_id
        return json_response({k: v for k, v in body.items() if v is not None}, 200, headers)

    def _advance(self, request: Request, report: _Report) -> None:
        """Each poll moves a report one step, so a client sees every status: IN_QUEUE on the
        first poll, IN_PROGRESS on the second, DONE (or CANCELLED) from the third."""
        with self._lock:
            report.polls += 1
            if report.polls == 2:
                report.status = "IN_PROGRESS"
            if report.polls < 3 or report.status != "IN_PROGRESS":
                return
        content = self._render(request, report)
        with self._lock:
            if report.status != "IN_PROGRESS":  # another poll finished it meanwhile
                return
            report.finished = self.ctx.state.now
            if content is None:
                report.status = "CANCELLED"
                return
            document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
            gzipped = len(content) > GZIP_ABOVE_BYTES
            data = gzip.compress(content, mtime=0) if gzipped else content
            self.store.documents[document_id] = _Document(data, gzipped)
            while len(self.store.documents) > _MAX_DOCUMENTS:
                self.store.documents.pop(next(iter(self.store.documents)))
            report.document_id = document_id
            report.status = "DONE"

    def _render(self, request: Request, report: _Report) -> bytes | None:
        """The report file (tab-separated, UTF-8, header first), or None when no item row
        falls in its window."""
        frame = self.report_frame(report.marketplaces, report.start, report.end)
        if frame.height == 0:
            return None
        rows = frame.select(render.REPORT_COLUMNS)
        rows = _malformed(request, rows)
        out = io.BytesIO()
        rows.write_csv(out, separator="\t", quote_style="never", null_value="")
        return out.getvalue()

    # getReportDocument and the download -------------------------------------------------

    def get_report_document(self, request: Request) -> Response:
        refused, headers = self._gate(request, "getReportDocument")
        if refused is not None:
            return refused
        document_id = request.path_params["document_id"]
        with self._lock:
            document = self.store.documents.get(document_id)
        if document is None:
            return _error(404, "NotFound", "The report document was not found.", headers)
        expires = int(time.time() + URL_TTL_S)
        url = (
            f"{request.url.scheme}://{request.url.netloc}{DOWNLOAD_PREFIX}/{document_id}"
            f"?X-Amz-Expires={expires}&X-Amz-Signature={self._sign(document_id, expires)}"
        )
        body: dict[str, Any] = {"reportDocumentId": document_id, "url": url}
        if document.gzipped:
            body["compressionAlgorithm"] = "GZIP"
        return json_response(body, 200, headers)

    def _sign(self, document_id: str, expires: int) -> str:
        message = f"{document_id}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def download(self, request: Request) -> Response:
        document_id = request.path_params["document_id"]
        params = request.query_params
        try:
            expires = int(params.get("X-Amz-Expires", ""))
        except ValueError:
            expires = 0
        signature = params.get("X-Amz-Signature", "")
        valid = hmac.compare_digest(signature, self._sign(document_id, expires))
        with self._lock:
            document = self.store.documents.get(document_id)
        if not valid or expires < time.time() or document is None:
            return Response(
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                b"<Message>Request has expired or the signature does not match</Message></Error>",
                status_code=403,
                media_type="application/xml",
            )
        return Response(document.content, media_type="application/octet-stream")


def _error(
    status: int, code: str, message: str, headers: dict[str, str], details: str = ""
) -> Response:
    return json_response(
        {"errors": [{"code": code, "message": message, "details": details}]}, status, headers
    )


def _malformed(request: Request, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with the run's malformed rows corrupted in place (``fault_data.corrupt`` on the
    row as a dict, every value written back as text), counted like any list's."""
    run = FaultRun.from_scope(request.scope)
    if run is None or run.profile.malformed_share <= 0:
        return rows
    profile, seed = run.profile, run.seed
    shape = shape_of("amazon", ENTITY)
    ids = zip(rows["amazon-order-id"].to_list(), rows["sku"].to_list(), strict=True)
    bad: dict[int, dict[str, Any]] = {}
    for index, record_id in enumerate(ids):
        kind = malformed_kind(profile, seed, "amazon", ENTITY, record_id)
        if kind is None:
            continue
        variant = draw(seed, "malformed-variant", "amazon", ENTITY, canonical_id(record_id))
        record = dict(zip(rows.columns, rows.row(index), strict=True))
        bad[index] = corrupt(record, kind, shape, ID_FIELDS, variant)
    if not bad:
        return rows
    run.count("malformed", len(bad))
    columns = {}
    for name in rows.columns:
        values = rows[name].to_list()
        for index, record in bad.items():
            value = record.get(name)
            values[index] = None if value is None else _cell(value)
        columns[name] = values
    return pl.DataFrame(columns, schema=dict.fromkeys(rows.columns, pl.String))


def _cell(value: Any) -> str:
    """A corrupted value as the flat file prints it (floats with all their digits)."""
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\t", " ")


def routes(ctx: SandboxContext) -> list[Route]:
    """Reports 2021-06-30 routes over ``ctx`` and the document download."""
    api = _ReportsApi(ctx)
    return [
        Route(f"{PREFIX}/reports", api.create_report, methods=["POST"]),
        Route(f"{PREFIX}/reports/{{report_id}}", api.get_report, methods=["GET"]),
        Route(f"{PREFIX}/documents/{{document_id}}", api.get_report_document, methods=["GET"]),
        Route(f"{DOWNLOAD_PREFIX}/{{document_id}}", api.download, methods=["GET"]),
    ]
