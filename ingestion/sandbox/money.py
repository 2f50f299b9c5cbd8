"""Money as integer minor units, rendered the way Shopify renders it.

Why: the ledger keeps every amount as an ``int64`` count of the currency's minor unit (cents,
yen) so that sums are exact; APIs then show amounts as decimal strings ("199.00", "1990" for
JPY). The number of decimals comes from ISO 4217 (see
``shared/fixtures/reference/iso4217/iso4217_six_table.xml``); the few currencies whose exponent is
not 2 are listed here rather than parsing the XML at import time.
"""

from __future__ import annotations

from collections.abc import Callable

# ISO 4217 minor units that differ from the default of 2.
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLF": 4,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "UYW": 4,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency`` per ISO 4217 (2 when not listed as an exception)."""
    return _MINOR_UNITS.get(currency, 2)


def format_minor(amount_minor: int, currency: str) -> str:
    """Render an integer amount of minor units as Shopify's decimal string.

    >>> format_minor(19900, "USD"), format_minor(1990, "JPY"), format_minor(-5, "KWD")
    ('199.00', '1990', '-0.005')
    """
    return formatter(currency)(amount_minor)


def minor_to_float(amount_minor: int, currency: str) -> float:
    """The float some Shopify fields carry (``refund_line_items[].subtotal``); display only."""
    exponent = minor_units(currency)
    return round(amount_minor / 10**exponent, exponent)


def _make_formatter(exponent: int) -> Callable[[int], str]:
    if exponent == 0:
        return str
    scale = 10**exponent

    def fmt(amount_minor: int) -> str:
        units, frac = divmod(abs(amount_minor), scale)
        sign = "-" if amount_minor < 0 else ""
        return f"{sign}{units}.{frac:0{exponent}d}"

    return fmt


_FORMATTERS: dict[int, Callable[[int], str]] = {e: _make_formatter(e) for e in range(5)}


def formatter(currency: str) -> Callable[[int], str]:
    """A fast ``minor -> str`` function for one currency, for rendering many amounts."""
    return _FORMATTERS[minor_units(currency)]
