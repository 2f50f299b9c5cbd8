"""Exact parsing at the boundary: money never through float, ids never rounded, times in UTC."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingestion.common.parsing import BadValue, int_id, money, utc_offset_minutes, utc_timestamp


def test_string_money_is_exact():
    assert money("0.10", "x") + money("0.20", "x") == Decimal("0.30")
    assert money("1990", "x") == Decimal(1990)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.345678", "does not fit"),
        (0.1, "float"),
        ("abc", "not an amount"),
        (None, "expected an amount"),
        ("NaN", "finite"),
    ],
)
def test_inexact_money_is_refused_with_a_reason(value, message):
    with pytest.raises(BadValue, match=message):
        money(value, "total_price")


def test_64_bit_ids_stay_exact_and_floats_are_refused():
    big = 2**53 + 1
    assert int_id(big, "id") == big
    with pytest.raises(BadValue, match="integer id"):
        int_id(float(big), "id")
    with pytest.raises(BadValue, match="64 bits"):
        int_id(2**64, "id")


def test_local_offsets_become_utc_and_naive_times_are_refused():
    assert utc_timestamp("2026-07-04T10:15:00-04:00", "t") == datetime(
        2026, 7, 4, 14, 15, tzinfo=UTC
    )
    assert utc_offset_minutes("2026-07-04T10:15:00+09:00") == 540
    with pytest.raises(BadValue, match="no UTC offset"):
        utc_timestamp("2026-07-04T10:15:00", "t")
