"""The pieces of reconcile a user reads or relies on without a full load: amounts printed
exactly with their currency, the sandbox's ledger route serving the tables as of its clock, and
mart totals compared group by group."""

from __future__ import annotations

import io

import httpx
import polars as pl
import pytest

from ingestion.sandbox.faults import get_profile
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from tradelane.reconcile import MART_TOTALS, Ledger, TotalsResult
from tradelane.reconcile.report import shown_value, totals_lines
from tradelane.reconcile.totals import compare_totals


@pytest.mark.parametrize(
    ("e4", "currency", "shown"),
    [
        (199_900, "USD", "19.99 USD"),
        (199_950, "USD", "19.995 USD"),  # not a whole cent: printed in full, never rounded
        (150_730_000, "JPY", "15073 JPY"),
        (150_730_100, "JPY", "15073.01 JPY"),
        (12_340, "KWD", "1.234 KWD"),
        (-25_790_000, "EUR", "-2579.00 EUR"),
    ],
)
def test_amounts_are_printed_exactly_with_their_currency(e4, currency, shown):
    assert shown_value(e4, "total_price_e4", currency) == shown


def test_the_sandbox_serves_its_ledger_as_of_its_clock():
    state = SandboxState.generate(seed=3, n_orders=60, faults=get_profile("harsh"))
    with running_sandbox(state, SandboxConfig(faults=get_profile("harsh"))) as url:
        ledger = Ledger.from_sandbox(url)
        assert ledger.now == state.now
        for table in ("orders", "payments", "malformed_records"):
            assert ledger(table).equals(state.table_as_of(table)), table
        assert ledger("malformed_records").height > 0
        httpx.post(f"{url}/_sandbox/clock/advance", params={"days": 3}).raise_for_status()
        later = pl.read_parquet(
            io.BytesIO(httpx.get(f"{url}/_sandbox/ledger/orders.parquet").content)
        )
        assert later.height > ledger("orders").height  # new orders came with the clock
        assert httpx.get(f"{url}/_sandbox/ledger/nonsense.parquet").status_code == 404


def test_a_store_or_currency_only_one_side_has_is_compared_against_zero():
    ledger = pl.DataFrame(
        {
            "channel": ["amazon", "amazon"],
            "store_id": ["amazon.de", "amazon.co.jp"],
            "currency": ["EUR", "JPY"],
            "order_count": [3, 2],
            "total_e4": [1_234_500, 150_730_000],
        }
    )
    mart = pl.DataFrame(
        {
            "channel": ["amazon", "shopify"],
            "store_id": ["amazon.de", "shop.example"],
            "currency": ["EUR", "USD"],
            "order_count": [3, 1],
            "total_e4": [1_234_400, 199_900],
        }
    )
    rows = compare_totals(ledger, mart, ("order_count", "total_e4"))
    wrong = {(t.store_id, t.measure): (t.ledger, t.mart) for t in rows if not t.ok}
    assert wrong == {
        ("amazon.de", "total_e4"): (1_234_500, 1_234_400),
        ("amazon.co.jp", "order_count"): (2, 0),
        ("amazon.co.jp", "total_e4"): (150_730_000, 0),
        ("shop.example", "order_count"): (0, 1),
        ("shop.example", "total_e4"): (0, 199_900),
    }
    result = TotalsResult(MART_TOTALS[0], rows=rows)
    assert (
        "mart.orders amazon/amazon.de EUR: total is 123.45 EUR in the ledger, 123.44 EUR in the "
        "mart (difference -0.01 EUR)"
    ) in totals_lines(result)
    assert (
        "mart.orders amazon/amazon.co.jp JPY: order_count is 2 in the ledger, 0 in the mart "
        "(difference -2)"
    ) in totals_lines(result)
