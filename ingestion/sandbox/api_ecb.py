"""Sandbox API: ECB euro reference rates in the ECB's own file formats.

Served at the ECB's own paths, so pointing the FX connector at the real ECB is a base-URL
change:
- ``/stats/eurofxref/eurofxref-hist.zip``: every fixing, newest first, ``N/A`` for currencies
  not quoted that day, a trailing comma on every line (the real file's quirks);
- ``/stats/eurofxref/eurofxref.zip``: the latest fixing in the "today" format (``30 October
  2026``, values padded to the currency's decimals);
- ``/stats/eurofxref/eurofxref-daily.xml``: the same fixing as the ECB's gesmes XML.

A fixing becomes visible at 15:00 UTC on its day (the ECB publishes around 16:00 CET). Real
dates are the ECB's own lines, byte for byte; later dates come from ``fx.fx_rates``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingestion.sandbox.context import SandboxContext
from ingestion.sandbox.fx import (
    ecb_header,
    ecb_history_csv,
    fx_rates,
    last_real_fixing,
    today_file_decimals,
)

PUBLICATION_TIME_UTC = time(15, 0)
_PREFIX = "/stats/eurofxref"


def latest_published_fixing_date(now: datetime, seed: int) -> date:
    """The newest fixing day whose rates are public at ``now``."""
    day = now.astimezone(UTC).date()
    if now.astimezone(UTC).time() < PUBLICATION_TIME_UTC:
        day -= timedelta(days=1)
    rates = fx_rates(day - timedelta(days=10), day, seed)
    return rates["rate_date"].max()


@lru_cache(maxsize=16)
def history_csv(seed: int, through: date) -> str:
    """The history file as the ECB would have published it on ``through``."""
    real_lines = ecb_history_csv().splitlines()
    header, real_rows = real_lines[0], real_lines[1:]
    rows = [line for line in real_rows if line[:10] <= through.isoformat()]
    if through > last_real_fixing():
        future = fx_rates(last_real_fixing() + timedelta(days=1), through, seed)
        rows = _history_lines(future) + rows
    return "\n".join([header, *rows]) + "\n"


@lru_cache(maxsize=16)
def today_csv(seed: int, fixing: date) -> str:
    decimals = today_file_decimals()
    rates = _fixing(seed, fixing)
    names = [c for c in decimals if c in rates]
    header = "Date, " + "".join(f"{c}, " for c in names)
    values = "".join(f"{_padded(rates[c], decimals[c])}, " for c in names)
    return f"{header}\n{fixing.day} {fixing:%B %Y}, {values}\n"


@lru_cache(maxsize=16)
def daily_xml(seed: int, fixing: date) -> str:
    rates = _fixing(seed, fixing)
    cubes = "\n".join(
        f"\t\t\t<Cube currency='{c}' rate='{_padded(rates[c], places)}'/>"
        for c, places in today_file_decimals().items()
        if c in rates
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
        "\t<gesmes:subject>Reference rates</gesmes:subject>\n"
        "\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n"
        "\t</gesmes:Sender>\n"
        f"\t<Cube>\n\t\t<Cube time='{fixing.isoformat()}'>\n{cubes}\n\t\t</Cube>\n\t</Cube>\n"
        "</gesmes:Envelope>\n"
    )


def routes(ctx: SandboxContext) -> list[Route]:
    """The ECB's three reference-rate files, as of the sandbox clock."""

    def fixing_day() -> date:
        return latest_published_fixing_date(ctx.state.now, ctx.state.world.seed)

    def hist_zip(request: Request) -> Response:
        body = _zipped("eurofxref-hist.csv", history_csv(ctx.state.world.seed, fixing_day()))
        return Response(body, media_type="application/zip")

    def today_zip(request: Request) -> Response:
        body = _zipped("eurofxref.csv", today_csv(ctx.state.world.seed, fixing_day()))
        return Response(body, media_type="application/zip")

    def today_xml(request: Request) -> Response:
        return Response(daily_xml(ctx.state.world.seed, fixing_day()), media_type="text/xml")

    return [
        Route(f"{_PREFIX}/eurofxref-hist.zip", hist_zip, methods=["GET"]),
        Route(f"{_PREFIX}/eurofxref.zip", today_zip, methods=["GET"]),
        Route(f"{_PREFIX}/eurofxref-daily.xml", today_xml, methods=["GET"]),
    ]


def _history_lines(rates: pl.DataFrame) -> list[str]:
    """Lines in the history file's layout, newest first, for the continuation's fixings."""
    by_day: dict[date, dict[str, str]] = {}
    for day, currency, text in rates.select("rate_date", "currency", "rate_per_eur").iter_rows():
        by_day.setdefault(day, {})[currency] = text
    return [
        f"{day.isoformat()}," + "".join(f"{values.get(c, 'N/A')}," for c in ecb_header())
        for day, values in sorted(by_day.items(), reverse=True)
    ]


def _fixing(seed: int, day: date) -> dict[str, str]:
    rates = fx_rates(day, day, seed)
    return dict(zip(rates["currency"], rates["rate_per_eur"], strict=True))


def _padded(text: str, decimals: int) -> str:
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(decimals, '0')}" if decimals else whole


def _zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, text)
    return buffer.getvalue()
