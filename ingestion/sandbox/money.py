"""Money as integer minor units, rendered the way Shopify renders it.

Why: the ledger keeps every amount as an ``int64`` count of the currency's minor unit (cents,
yen) so that sums are exact; APIs then show amounts as decimal strings ("199.00", "1990" for
JPY). The number of decimals comes from ISO 4217 (``ingestion.common.currencies``).
"""

from __future__ import annotations

from collections.abc import Callable

from ingestion.common.currencies import iso_minor_units


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency`` per ISO 4217 (2 for a code ISO does not list: the
    sandbox only invents amounts in real currencies, so that default is never reached there)."""
    exponent = iso_minor_units(currency)
    return 2 if exponent is None else exponent


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
