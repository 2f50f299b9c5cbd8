"""The PayPal source against the sandbox over real HTTP: every transaction PayPal's reporting
shows loaded once however often it runs, payments, refunds and withdrawals per currency equal to
the ledger's (fees negative), new transactions after the clock moves, a 429 storm that costs
time but no record, and malformed records quarantined while the run goes on.

Skipped, with the reason, while the sandbox cannot serve PayPal yet (its ledger v2 tables are
being written alongside this connector)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.currencies import iso_minor_units
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.paypal import paypal_source, settings
from ingestion.paypal.client import clear_token_cache
from ingestion.sandbox.faults import FaultProfile
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from tests.ingestion.test_sources_against_sandbox import table_fingerprint
from tests.ingestion.test_stripe_sandbox import sandbox_gap

LEDGER_TABLES = ("payments", "payment_refunds", "payouts")


GAP = sandbox_gap(LEDGER_TABLES, (settings.TOKEN_PATH, settings.TRANSACTIONS_PATH))
pytestmark = pytest.mark.skipif(GAP is not None, reason=f"sandbox not ready: {GAP}")


@pytest.fixture(autouse=True)
def fresh_token_cache():
    clear_token_cache()
    yield
    clear_token_cache()


def load(url: str, warehouse: Path, **options) -> RequestStats:
    """One run; the client paces itself faster than PayPal needs (the sandbox has no limit of
    its own), so a three-year first run takes seconds."""
    options = {"requests_per_second": 200.0, "burst": 50, **options}
    stats = RequestStats()
    run_source(
        make_pipeline("paypal", warehouse),
        paypal_source(
            base_url=url,
            client_id=settings.SANDBOX_CLIENT_ID,
            client_secret=settings.SANDBOX_CLIENT_SECRET,
            stats=stats,
            **options,
        ),
        "paypal",
        stats,
    )
    return stats


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def reported_until(state: SandboxState) -> datetime:
    """PayPal's reporting lags: the sandbox refreshes it at the top of each hour."""
    return state.now.replace(minute=0, second=0, microsecond=0)


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-iso_minor_units(currency))


def expected(state: SandboxState) -> dict[str, dict[str, Decimal]]:
    """Per event code, the ledger's money per currency as PayPal shows it: payments positive,
    refunds and withdrawals negative, as of the last reporting refresh."""
    until = reported_until(state)
    payments = state.table_as_of("payments").filter(pl.col("provider") == "paypal")
    refunds = state.table_as_of("payment_refunds").filter(
        pl.col("payment_id").is_in(payments["payment_id"].implode())
    )
    payouts = state.table_as_of("payouts").filter(pl.col("provider") == "paypal")
    out: dict[str, dict[str, Decimal]] = {}
    for code, frame, sign in (
        ("T0006", payments, 1),
        ("T1107", refunds, -1),
        ("T0400", payouts, -1),
    ):
        sums: dict[str, Decimal] = {}
        for row in frame.filter(pl.col("created_at") <= until).iter_rows(named=True):
            sums[row["currency"]] = sums.get(row["currency"], Decimal(0)) + sign * major(
                row["amount_minor"], row["currency"]
            )
        out[code] = sums
    return out


def loaded(warehouse: Path) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {}
    for code, currency, total in query(
        warehouse,
        "select event_code, currency, sum(gross_amount) from raw_paypal.transactions group by 1, 2",
    ):
        out.setdefault(code, {})[currency] = Decimal(total)
    return out


def nonempty(sums: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    """Event codes with at least one transaction (a world may have no PayPal payouts yet)."""
    return {code: by for code, by in sums.items() if by}


def test_paypal_loads_every_transaction_once_and_money_matches_the_ledger(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(sandbox.url, warehouse)
    first = table_fingerprint(warehouse, "raw_paypal.transactions", "transaction_id")
    items = table_fingerprint(
        warehouse, "raw_paypal.transaction_items", "transaction_id || '/' || line_number"
    )
    load(sandbox.url, warehouse)
    assert table_fingerprint(warehouse, "raw_paypal.transactions", "transaction_id") == first
    assert (
        table_fingerprint(
            warehouse, "raw_paypal.transaction_items", "transaction_id || '/' || line_number"
        )
        == items
    )
    assert first[0] == first[1] > 0 and items[0] == items[1] > 0
    assert nonempty(loaded(warehouse)) == nonempty(expected(sandbox.state))
    # Fees are negative on payments, as PayPal shows them.
    [(positive_fees,)] = query(
        warehouse,
        "select count(*) from raw_paypal.transactions where event_code = 'T0006' "
        "and fee_amount > 0",
    )
    assert positive_fees == 0


def test_paypal_incremental_run_picks_up_new_transactions(tmp_path):
    state = SandboxState.generate(seed=11, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        first = load(url, warehouse)
        before = query(warehouse, "select count(*) from raw_paypal.transactions")[0][0]
        state.advance(days=4)
        second = load(url, warehouse)
    after = query(warehouse, "select count(*) from raw_paypal.transactions")[0][0]
    assert after > before, "the sandbox should take PayPal payments in 4 days"
    assert nonempty(loaded(warehouse)) == nonempty(expected(state))
    # The second run searched from its cursor, not three years of windows again.
    assert second.requests < first.requests


def test_paypal_survives_a_429_storm_without_losing_a_record(tmp_path):
    state = SandboxState.generate(seed=5, n_orders=200)
    # Three calls in ten, the token request included, answered 429 with Retry-After (whole
    # seconds, as PayPal sends it): from the world's start, so the storm costs seconds.
    storm = FaultProfile(name="test-storm", rate_limit_share=0.3, retry_after_seconds=1.0)
    since = (state.now - timedelta(days=100)).isoformat()
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=SandboxConfig(faults=storm)) as url:
        stats = load(url, warehouse, page_size=5, start_date=since)
    assert stats.rate_limited > 0
    count, distinct, _ = table_fingerprint(warehouse, "raw_paypal.transactions", "transaction_id")
    assert count == distinct
    assert nonempty(loaded(warehouse)) == nonempty(expected(state))


def test_paypal_quarantines_malformed_transactions_and_loads_the_rest(tmp_path):
    state = SandboxState.generate(seed=3, n_orders=300)
    faults = FaultProfile(name="test-malformed", malformed_share=0.05, duplicate_share=0.3)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=SandboxConfig(faults=faults)) as url:
        load(url, warehouse, page_size=10)
    [(refused,)] = query(warehouse, "select count(*) from raw_paypal.quarantine")
    count, distinct, _ = table_fingerprint(warehouse, "raw_paypal.transactions", "transaction_id")
    assert refused > 0 and count == distinct
    total = sum(
        frame.filter(pl.col("created_at") <= reported_until(state)).height
        for frame in (
            state.table_as_of("payments").filter(pl.col("provider") == "paypal"),
            state.table_as_of("payouts").filter(pl.col("provider") == "paypal"),
        )
    )
    paypal_payments = state.table_as_of("payments").filter(pl.col("provider") == "paypal")
    total += (
        state.table_as_of("payment_refunds")
        .filter(
            pl.col("payment_id").is_in(paypal_payments["payment_id"].implode())
            & (pl.col("created_at") <= reported_until(state))
        )
        .height
    )
    assert count + refused == total
