"""HTTP helpers every sandbox API module shares: JSON responses, parameter parsing, errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ingestion.sandbox.fault_data import IdField, page_faults
from ingestion.sandbox.faults import FaultRun


class BadRequest(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param, self.message = param, message


def base_url(request: Request) -> str:
    """The request's URL without its query: where pagination links point back to."""
    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def page_records(
    request: Request,
    records: Sequence[bytes],
    *,
    api: str,
    entity: str,
    id_field: IdField,
    previous: Callable[[], Sequence[bytes]] | None = None,
    fields: Sequence[str] = (),
) -> orjson.Fragment | list[dict[str, Any]]:
    """A page of records already rendered as JSON (UTF-8 bytes), as the value to put in a
    response body: an ``orjson.Fragment`` that orjson splices in as is.

    Why: the hot path is then a byte-join, with no parsing or dict building per record. Only
    when a record must change (``fields=`` projection, or a fault profile with data faults) are
    the page's records parsed, projected and handed to ``page_faults`` as dicts, as before;
    ``previous`` renders the page before this one (its last record may be repeated)."""
    run = FaultRun.from_scope(request.scope)
    if not fields and (run is None or not run.profile.has_data_faults):
        return orjson.Fragment(b"[" + b",".join(records) + b"]")

    def parsed(rows: Sequence[bytes]) -> list[dict[str, Any]]:
        dicts = [orjson.loads(r) for r in rows]
        return [select_fields(d, fields) for d in dicts] if fields else dicts

    return page_faults(
        request,
        api,
        entity,
        parsed(records),
        id_field,
        None if previous is None else lambda: parsed(previous()),
    )


def select_fields(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The ``fields=`` parameter: keep only the named top-level keys, in that order."""
    return {f: record[f] for f in fields if f in record}


def parse_instant(param: str, value: str) -> datetime:
    """ISO 8601 with offset (or ``Z``); naive values are read as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError as exc:
        raise BadRequest(param, f"{param} is not a valid ISO 8601 date: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def epoch_us(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError as exc:
        raise BadRequest("limit", f"limit must be an integer, got {raw!r}") from exc
    if limit < 1:
        raise BadRequest("limit", "limit must be at least 1")
    if limit > maximum:
        raise BadRequest("limit", f"Limit must be less than or equal to {maximum}")
    return limit


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
