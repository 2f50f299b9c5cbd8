"""Turning warehouse values into what an operator reads: money amounts and country names.

Amounts arrive as ``Decimal`` (DuckDB ``DECIMAL(18,4)``) and are formatted from the ``Decimal``
itself, never through ``float``, so a displayed total is exactly the sum in the warehouse rounded
once to the currency's minor unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import babel.numbers
import polars as pl
import pycountry

UNKNOWN_COUNTRY = "Unknown"


@lru_cache(maxsize=256)
def minor_unit_exponent(currency_code: str) -> Decimal:
    """``Decimal('0.01')`` for USD, ``Decimal('1')`` for JPY: the currency's smallest unit (ISO
    4217 digits from CLDR; two digits for codes CLDR does not know)."""
    digits = babel.numbers.get_currency_precision(currency_code)
    return Decimal(1).scaleb(-digits)


def format_amount(amount: Decimal | None, currency_code: str | None) -> str:
    """``1,234.50`` for ``Decimal('1234.5000')`` in USD: rounded half-up to the currency's minor
    unit, with thousands separators. The currency code is shown beside the amount by the caller."""
    if amount is None:
        return ""
    exponent = minor_unit_exponent(currency_code or "")
    return f"{Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP):,f}"


@lru_cache(maxsize=512)
def country_name(country_code: str | None) -> str:
    """Common English name for an ISO 3166-1 alpha-2 code; the code itself if it is not one (bad
    addresses happen), ``Unknown`` if there is none."""
    if not country_code:
        return UNKNOWN_COUNTRY
    country = pycountry.countries.get(alpha_2=country_code.upper())
    if country is None:
        return country_code
    return getattr(country, "common_name", country.name)


def with_amount_text(frame: pl.DataFrame, amount: str, currency: str, name: str) -> pl.DataFrame:
    """Add column ``name`` holding ``amount`` formatted for its row's currency."""
    texts = [
        format_amount(value, code)
        for value, code in zip(frame[amount].to_list(), frame[currency].to_list(), strict=True)
    ]
    return frame.with_columns(pl.Series(name, texts, dtype=pl.String))


def with_country_name(frame: pl.DataFrame, code: str, name: str) -> pl.DataFrame:
    """Add column ``name`` holding the country name for the ISO code in column ``code``."""
    names = [country_name(value) for value in frame[code].to_list()]
    return frame.with_columns(pl.Series(name, names, dtype=pl.String))
