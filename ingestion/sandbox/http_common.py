"""HTTP helpers every sandbox API module shares: JSON responses, parameter parsing, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response


class BadRequest(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param, self.message = param, message


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


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
