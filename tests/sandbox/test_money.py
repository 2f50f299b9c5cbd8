"""Money strings follow ISO 4217 minor units."""

from __future__ import annotations

import pytest

from ingestion.sandbox.money import format_minor, minor_to_float, minor_units


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (19900, "USD", "199.00"),
        (5, "EUR", "0.05"),
        (-1234, "GBP", "-12.34"),
        (0, "USD", "0.00"),
        (1990, "JPY", "1990"),
        (12345, "KWD", "12.345"),
        (-5, "KWD", "-0.005"),
    ],
)
def test_format_minor(minor: int, currency: str, expected: str) -> None:
    assert format_minor(minor, currency) == expected


def test_minor_units_and_float_view() -> None:
    assert (minor_units("JPY"), minor_units("USD"), minor_units("BHD")) == (0, 2, 3)
    assert minor_to_float(19566, "USD") == 195.66
    assert isinstance(minor_to_float(1990, "JPY"), float)
