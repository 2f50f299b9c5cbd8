"""``tradelane reconcile`` against a real load: every source loaded from a sandbox serving the
``harsh`` profile (429s, 5xx, slow answers, dropped connections, repeated records, malformed
records, late updates) reconciles to zero, from the running sandbox's ledger and from the
generated world on disk; and reconcile does notice a missing row, a duplicated row and an
amount changed by one cent."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion.sandbox.ledger import read_ledger
from tests.reconcile.conftest import Loaded, reconcile


def test_the_harsh_profile_really_was_harsh(loaded: Loaded) -> None:
    for kind in ("rate_limited", "server_error", "timeout", "malformed"):
        assert loaded.injected[kind] > 0, kind
    malformed = read_ledger(loaded.world).malformed_records
    assert set(malformed["api"]) >= {"shopify", "amazon", "stripe", "aftership", "wms"}


def test_a_harsh_load_reconciles_to_zero_against_the_running_sandbox(loaded: Loaded) -> None:
    code, output = reconcile("--url", loaded.url, "--warehouse", str(loaded.warehouse))
    assert code == 0, output
    assert "Raw tables match the ledger exactly." in output


def test_a_harsh_load_reconciles_to_zero_against_the_generated_world(loaded: Loaded) -> None:
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(loaded.warehouse))
    assert code == 0, output


@pytest.fixture
def mutable(loaded: Loaded, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(loaded.warehouse, copy)
    return copy


def test_a_missing_row_is_reported_and_fails(loaded: Loaded, mutable: Path) -> None:
    with duckdb.connect(str(mutable)) as con:
        (charge,) = con.execute("select min(id) from raw_stripe.charges").fetchone()
        con.execute("delete from raw_stripe.charges where id = ?", [charge])
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(mutable))
    assert code == 1
    assert f"stripe.charges {charge}: missing from raw" in output


def test_a_duplicated_row_is_reported_and_fails(loaded: Loaded, mutable: Path) -> None:
    with duckdb.connect(str(mutable)) as con:
        (order_id,) = con.execute("select min(id) from raw_shopify.orders").fetchone()
        con.execute(
            "insert into raw_shopify.orders select * from raw_shopify.orders where id = ?",
            [order_id],
        )
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(mutable))
    assert code == 1
    assert f"shopify.orders {order_id}: duplicated in raw" in output


def test_an_amount_one_cent_off_is_reported_exactly_and_fails(
    loaded: Loaded, mutable: Path
) -> None:
    with duckdb.connect(str(mutable)) as con:
        order_id, total, currency = con.execute(
            "select id, total_price, currency from raw_shopify.orders "
            "where currency = 'USD' order by id limit 1"
        ).fetchone()
        con.execute(
            "update raw_shopify.orders set total_price = total_price + 0.01 where id = ?",
            [order_id],
        )
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(mutable))
    assert code == 1
    changed = total + Decimal("0.01")
    assert (
        f"shopify.orders {order_id}: total_price is {total:.2f} {currency} in the ledger, "
        f"{changed:.2f} {currency} in raw"
    ) in output


def test_a_record_served_malformed_must_be_in_quarantine(loaded: Loaded, mutable: Path) -> None:
    with duckdb.connect(str(mutable)) as con:
        con.execute("delete from raw_wms.quarantine")
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(mutable))
    assert code == 1
    assert "wms.inventory_levels" in output
    assert "served malformed but not in quarantine" in output


def test_a_table_not_loaded_is_skipped_unless_its_source_is_named(
    loaded: Loaded, mutable: Path
) -> None:
    with duckdb.connect(str(mutable)) as con:
        con.execute("drop table raw_stripe.disputes")
    code, output = reconcile("--world", str(loaded.world), "--warehouse", str(mutable))
    assert code == 0, output
    assert "stripe.disputes: raw table not loaded, nothing compared" in output
    code, output = reconcile(
        "--world", str(loaded.world), "--warehouse", str(mutable), "--source", "stripe"
    )
    assert code == 1
    assert "stripe.disputes: raw table not loaded, nothing compared" in output
