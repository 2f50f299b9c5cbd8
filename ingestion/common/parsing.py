"""Exact parsing of the values APIs send: string money, ISO timestamps with local offsets, 64-bit
ids. Each parser raises ``BadValue`` with a message fit for the quarantine's ``reason`` column."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

MONEY_PRECISION = 18
MONEY_SCALE = 4
MONEY_TYPE = pa.decimal128(MONEY_PRECISION, MONEY_SCALE)
UTC_TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)


class BadValue(ValueError):
    """A field that cannot be represented exactly; the record goes to quarantine."""


def money(value: Any, field: str) -> Decimal:
    """Parse an amount sent as a string (or int) without ever passing through float.

    Floats are rejected unless they are whole numbers, because a float amount has already lost
    exactness somewhere upstream. Amounts with more than four decimals are rejected rather than
    rounded.
    """
    if isinstance(value, bool) or value is None:
        raise BadValue(f"{field}: expected an amount, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise BadValue(f"{field}: amount sent as a float ({value!r}) is not exact")
        value = int(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise BadValue(f"{field}: {value!r} is not an amount") from exc
    if not amount.is_finite():
        raise BadValue(f"{field}: {value!r} is not a finite amount")
    if amount != amount.quantize(_MONEY_QUANTUM) or abs(amount) >= _MONEY_LIMIT:
        raise BadValue(f"{field}: {value!r} does not fit decimal({MONEY_PRECISION},{MONEY_SCALE})")
    return amount


def optional_money(value: Any, field: str) -> Decimal | None:
    return None if value is None else money(value, field)


def utc_timestamp(value: Any, field: str) -> datetime:
    """Parse ISO 8601 with an offset ("2026-07-04T10:15:00-04:00", "...Z") into UTC.

    A timestamp without an offset is rejected: guessing its zone is how a day's orders end up on
    the wrong date.
    """
    if not isinstance(value, str):
        raise BadValue(f"{field}: expected an ISO 8601 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadValue(f"{field}: {value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise BadValue(f"{field}: {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def optional_utc_timestamp(value: Any, field: str) -> datetime | None:
    return None if value is None else utc_timestamp(value, field)


def utc_offset_minutes(value: str) -> int:
    """The local offset a timestamp was written in, kept so local-day reporting stays possible."""
    offset = datetime.fromisoformat(value.replace("Z", "+00:00")).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def int_id(value: Any, field: str) -> int:
    """A 64-bit id. JSON parsed by Python keeps big ints exact; a float here means someone
    upstream already rounded it, so it is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{field}: expected an integer id, got {value!r}")
    if not -(2**63) <= value < 2**63:
        raise BadValue(f"{field}: {value} does not fit in 64 bits")
    return value


def optional_int_id(value: Any, field: str) -> int | None:
    return None if value is None else int_id(value, field)


def required_str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"{field}: expected a non-empty string, got {value!r}")
    return value


def currency_code(value: Any, field: str) -> str:
    code = required_str(value, field)
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise BadValue(f"{field}: {value!r} is not an ISO 4217 currency code")
    return code


def optional_str(value: Any, field: str) -> str | None:
    """A string or null; anything else (a number where text belongs) is refused, not coerced."""
    if value is None or isinstance(value, str):
        return value
    raise BadValue(f"{field}: expected a string, got {value!r}")


def optional_bool(value: Any, field: str) -> bool | None:
    """A JSON boolean or null; ``"true"``, 1 and friends are refused, not guessed."""
    if value is None or isinstance(value, bool):
        return value
    raise BadValue(f"{field}: expected true or false, got {value!r}")


def nested_object(value: Any, field: str, required: bool = False) -> dict[str, Any]:
    """A nested object; absent or null is empty unless ``required``. A string where an object
    belongs (JSON encoded twice upstream) is refused rather than decoded on a guess."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadValue(f"{field}: expected an object, got {type(value).__name__}")
    return value


def optional_list(value: Any, field: str) -> list[Any]:
    """A JSON array; absent or null is empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadValue(f"{field}: expected a list, got {type(value).__name__}")
    return value
