"""The pieces of reconcile a user reads or relies on without a full load: amounts printed
exactly with their currency, and the sandbox's ledger route serving the tables as of its clock."""

from __future__ import annotations

import io

import httpx
import polars as pl
import pytest

from ingestion.sandbox.faults import get_profile
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from tradelane.reconcile import Ledger
from tradelane.reconcile.report import shown_value


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
