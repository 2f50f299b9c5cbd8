"""Money and country formatting used by every dashboard table and metric."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dashboards.lib.formatting import country_name, format_amount
from dashboards.lib.published_copy import published_at


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234567.8950"), "USD", "1,234,567.90"),
        (Decimal("2.0050"), "EUR", "2.01"),
        (Decimal("-0.0050"), "USD", "-0.01"),
        (Decimal("15000.5000"), "JPY", "15,001"),
        (Decimal("1.2345"), "KWD", "1.235"),
        (None, "USD", ""),
    ],
)
def test_amounts_round_half_up_once_to_the_currency_minor_unit(
    amount: Decimal | None, currency: str, expected: str
) -> None:
    assert format_amount(amount, currency) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("US", "United States"), ("de", "Germany"), ("TW", "Taiwan"), ("ZZ", "ZZ"), (None, "Unknown")],
)
def test_country_names_fall_back_to_the_code_for_bad_addresses(
    code: str | None, expected: str
) -> None:
    assert country_name(code) == expected


def test_publish_time_is_read_from_the_versioned_file_name(tmp_path: Path) -> None:
    copy = tmp_path / "warehouse-20260514T081502123456Z.duckdb"
    copy.touch()

    assert published_at(copy) == datetime(2026, 5, 14, 8, 15, 2, 123456, tzinfo=UTC)
