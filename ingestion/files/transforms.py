"""The transforms a mapping may apply to a cell, each exact: a value it cannot convert without
guessing raises ``BadValue`` and its order goes to the quarantine.

A transform is written as a name (``strip``) or a one-key mapping with its parameter
(``{date: "%Y-%m-%d %H:%M:%S %z"}``). Blank cells never reach a transform; they become null (or
the field's ``default``). ``build`` checks, when the mapping is loaded, that each transform gets
the kind of value it accepts, so a wrong chain is a mapping error, not thousands of bad rows.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.common.parsing import BadValue
from ingestion.files.canonical import Kind, to_int

FIRST_NONBLANK = "first_nonblank_in_order"


class TransformError(ValueError):
    """A transform is unknown or badly parameterised (a mapping error, not a data error)."""


@dataclass(frozen=True)
class Transform:
    """One step of a field's chain: what it accepts, what it produces, and the function."""

    name: str
    accepts: frozenset[Kind]
    produces: Kind | None  # None: the same kind it received
    apply: Callable[[Any], Any]
    targets: tuple[Any, ...] = ()  # a map's values, checked against status vocabularies


def build(spec: Any, timezone: ZoneInfo | None) -> Transform:
    """A transform from its mapping spec: ``"name"`` or ``{"name": parameter}``."""
    if isinstance(spec, str):
        name, param = spec, None
    elif isinstance(spec, dict) and len(spec) == 1:
        ((name, param),) = spec.items()
    else:
        raise TransformError(f"a transform is a name or a one-key mapping, got {spec!r}")
    factory = _FACTORIES.get(name)
    if factory is None:
        raise TransformError(f"unknown transform {name!r}; known: {', '.join(NAMES)}")
    return factory(param, timezone)


_TEXT = frozenset({Kind.TEXT})
_NUMBER = frozenset({Kind.DECIMAL, Kind.INT})


def _no_param(name: str, param: Any) -> None:
    if param is not None:
        raise TransformError(f"{name} takes no parameter, got {param!r}")


Factory = Callable[[Any, ZoneInfo | None], Transform]


def _text(name: str, fn: Callable[[str], Any], produces: Kind = Kind.TEXT) -> Factory:
    def factory(param: Any, timezone: ZoneInfo | None) -> Transform:
        _no_param(name, param)
        return Transform(name, _TEXT, produces, fn)

    return factory


def _first_nonblank(param: Any, timezone: ZoneInfo | None) -> Transform:
    """Marks an order-level field whose value is on only one of the order's rows (Shopify's
    export writes order fields on an order's first row only); ``build`` picks that row."""
    _no_param(FIRST_NONBLANK, param)
    return Transform(FIRST_NONBLANK, _TEXT, Kind.TEXT, lambda value: value)


def _decimal(param: Any, timezone: ZoneInfo | None) -> Transform:
    """Plain decimal text. The separators are the mapping's to state: "12,99" under the default
    ("." decimal) is refused, never read as 1299 or 12.99 by guesswork."""
    options = param or {}
    if not isinstance(options, dict) or set(options) - {"decimal_separator", "thousands_separator"}:
        raise TransformError(
            "decimal takes {decimal_separator: ',', thousands_separator: '.'} or nothing, "
            f"got {param!r}"
        )
    point = options.get("decimal_separator", ".")
    thousands = options.get("thousands_separator")
    if point not in {".", ","} or thousands not in {None, ".", ",", " ", "'", "\u00a0"}:
        raise TransformError(f"decimal: unsupported separators {options!r}")
    if thousands == point:
        raise TransformError("decimal: the thousands and decimal separators must differ")
    dec = re.escape(point)
    if thousands is None:
        pattern = re.compile(rf"[+-]?(?:\d+(?:{dec}\d*)?|{dec}\d+)")
    else:
        sep = re.escape(thousands)
        pattern = re.compile(rf"[+-]?(?:\d{{1,3}}(?:{sep}\d{{3}})+|\d+)(?:{dec}\d+)?")
    expected = f"digits with {point!r} as decimal separator" + (
        f" and {thousands!r} between thousands" if thousands else ""
    )

    def apply(value: str) -> Decimal:
        text = value.strip()
        if not pattern.fullmatch(text):
            raise BadValue(f"{value!r} is not a decimal number ({expected})")
        if thousands:
            text = text.replace(thousands, "")
        try:
            return Decimal(text.replace(point, "."))
        except InvalidOperation as exc:  # the pattern admits only valid numbers; kept as a guard
            raise BadValue(f"{value!r} is not a decimal number") from exc

    return Transform("decimal", _TEXT, Kind.DECIMAL, apply)


def _int(param: Any, timezone: ZoneInfo | None) -> Transform:
    _no_param("int", param)
    return Transform("int", _TEXT, Kind.INT, lambda value: to_int(value, ""))


def _localize(value: datetime, timezone: ZoneInfo | None, raw: str) -> datetime:
    """Attach the mapping's time zone to a local time. A wall-clock time that does not exist
    there (the spring-forward gap) means the export is not in that zone: refused. An ambiguous
    one (the autumn repeat) takes its first occurrence, which moves no order to another day."""
    if value.tzinfo is not None:
        return value
    if timezone is None:
        raise BadValue(f"{raw!r} has no UTC offset and the mapping sets no timezone")
    local = value.replace(tzinfo=timezone)
    round_trip = local.astimezone(UTC).astimezone(timezone)
    if round_trip.replace(tzinfo=None) != value:
        raise BadValue(f"{raw!r} does not exist in {timezone.key} (a daylight-saving gap)")
    return local


def _date(param: Any, timezone: ZoneInfo | None) -> Transform:
    if not isinstance(param, str) or "%" not in param:
        raise TransformError(f"date needs a strptime format such as '%Y-%m-%d', got {param!r}")
    if "%z" not in param and "%Z" not in param and timezone is None:
        raise TransformError(
            f"date format {param!r} has no UTC offset (%z): set the mapping's timezone"
        )
    try:
        datetime.strptime(datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC).strftime(param), param)
    except ValueError as exc:
        raise TransformError(f"date format {param!r} does not parse its own output: {exc}") from exc

    def apply(value: str) -> datetime:
        try:
            parsed = datetime.strptime(value.strip(), param)
        except ValueError as exc:
            raise BadValue(f"{value!r} does not match the date format {param!r}") from exc
        return _localize(parsed, timezone, value)

    return Transform("date", _TEXT, Kind.TIMESTAMP, apply)


def _iso8601(param: Any, timezone: ZoneInfo | None) -> Transform:
    _no_param("iso8601", param)

    def apply(value: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise BadValue(f"{value!r} is not an ISO 8601 timestamp") from exc
        return _localize(parsed, timezone, value)

    return Transform("iso8601", _TEXT, Kind.TIMESTAMP, apply)


def _sign(name: str, fn: Callable[[Any], Any]) -> Factory:
    def factory(param: Any, timezone: ZoneInfo | None) -> Transform:
        _no_param(name, param)
        return Transform(name, _NUMBER, None, fn)

    return factory


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _to_bool(value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise BadValue(f"{value!r} is not true/false, yes/no or 1/0")


def _map(param: Any, timezone: ZoneInfo | None) -> Transform:
    """Translate the channel's words into Tradelane's. Keys with ``*`` are patterns
    (``"Shipped*"``), tried after exact keys in the order written; a value no key matches is
    refused so a new status is noticed instead of silently mislabelled."""
    if not isinstance(param, dict) or not param:
        raise TransformError(f"map needs a non-empty mapping of value -> value, got {param!r}")
    if any(isinstance(k, bool) or k is None for k in param):
        # YAML reads unquoted yes/no/on/off/true/false/null keys as booleans or null.
        raise TransformError(f"map keys must be text: quote yes, no, true, false, null ({param!r})")
    exact = {str(k): v for k, v in param.items() if "*" not in str(k)}
    patterns = [(str(k), v) for k, v in param.items() if "*" in str(k)]
    targets = [v for v in param.values() if v is not None]
    if targets and all(isinstance(v, bool) for v in targets):
        produces = Kind.BOOL
    elif all(isinstance(v, str) for v in targets):
        produces = Kind.TEXT
    else:
        raise TransformError(f"map values must be all text or all true/false, got {targets!r}")

    def apply(value: str) -> Any:
        key = value.strip()
        if key in exact:
            return exact[key]
        for pattern, target in patterns:
            if fnmatch.fnmatchcase(key, pattern):
                return target
        raise BadValue(f"{value!r} is not in the mapping's map ({', '.join(map(str, param))})")

    return Transform("map", _TEXT, produces, apply, tuple(param.values()))


def _regex(param: Any, timezone: ZoneInfo | None) -> Transform:
    """The first match of a pattern (its group when it has one): ``{regex: '(\\d+)'}`` takes
    1001 out of "#1001"."""
    try:
        pattern = re.compile(param)
    except (re.error, TypeError) as exc:
        raise TransformError(f"regex: {param!r} is not a regular expression: {exc}") from exc
    if pattern.groups > 1:
        raise TransformError(f"regex: {param!r} has {pattern.groups} groups; use at most one")

    def apply(value: str) -> str:
        match = pattern.search(value)
        if match is None:
            raise BadValue(f"{value!r} does not match {param!r}")
        return match.group(1 if pattern.groups else 0)

    return Transform("regex", _TEXT, Kind.TEXT, apply)


# Names marketplaces write that ISO 3166 (and so pycountry) does not list.
COUNTRY_ALIASES = {
    "great britain": "GB",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "turkey": "TR",
    "russia": "RU",
    "macedonia": "MK",
    "ivory coast": "CI",
    "brunei": "BN",
    "cape verde": "CV",
    "swaziland": "SZ",
    "micronesia": "FM",
    "palestine": "PS",
    "vatican": "VA",
    "vatican city": "VA",
    "korea": "KR",
    "north korea": "KP",
    "burma": "MM",
    "east timor": "TL",
    "kosovo": "XK",  # not ISO yet; the code every marketplace and the EU use
}


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9 ]+", " ", text.lower())
    text = re.sub(r"\s+", " ", text).strip()
    return text.removeprefix("the ")


@cache
def _country_index() -> dict[str, str]:
    import pycountry  # imported on first use: only mappings with country names need it

    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(_fold(value), country.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        index.setdefault(_fold(alias), code)
    return index


def _country(param: Any, timezone: ZoneInfo | None) -> Transform:
    """A country name or code ("United States", "Deutschland" with an alias, "USA", "us") to
    its ISO 3166-1 alpha-2 code, via pycountry plus ``COUNTRY_ALIASES`` and the mapping's own
    ``{country_name_to_code: {aliases: {Deutschland: DE}}}``."""
    options = param or {}
    if not isinstance(options, dict) or set(options) - {"aliases"}:
        raise TransformError(f"country_name_to_code takes {{aliases: {{...}}}}, got {param!r}")
    extra = {_fold(str(k)): str(v).upper() for k, v in (options.get("aliases") or {}).items()}

    def apply(value: str) -> str:
        folded = _fold(value)
        code = extra.get(folded) or _country_index().get(folded)
        if code is None:
            raise BadValue(f"{value!r} is not a country name or code pycountry knows")
        return code

    return Transform("country_name_to_code", _TEXT, Kind.TEXT, apply)


_FACTORIES: dict[str, Factory] = {
    "strip": _text("strip", str.strip),
    "upper": _text("upper", str.upper),
    "lower": _text("lower", str.lower),
    "sha256": _text("sha256", _sha256),
    "bool": _text("bool", _to_bool, Kind.BOOL),
    "decimal": _decimal,
    "int": _int,
    "date": _date,
    "iso8601": _iso8601,
    "abs": _sign("abs", abs),
    "negate": _sign("negate", lambda value: -value),
    "map": _map,
    "regex": _regex,
    "country_name_to_code": _country,
    FIRST_NONBLANK: _first_nonblank,
}

NAMES = tuple(sorted(_FACTORIES))
