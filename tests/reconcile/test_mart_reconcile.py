"""``tradelane reconcile --layer mart`` on the mart built from a harsh load (malformed records
quarantined, fallbacks taken, exports dropped beside the APIs): every total per channel, store
and currency agrees with the ledger to the cent, and an amount changed or an order missing in
the mart fails the run with a line naming the group, both figures and the difference."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.reconcile.conftest import Loaded, reconcile

SHOP = "shopify/tradelane-sandbox.myshopify.com"


@pytest.fixture
def mutable_mart(mart_built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(mart_built, copy)
    return copy


def test_the_mart_of_a_harsh_load_reconciles_to_the_cent(loaded: Loaded, mart_built: Path):
    with duckdb.connect(str(mart_built), read_only=True) as con:
        [(imported, unmatched)] = con.execute(
            "select (select count(*) from marts.fct_orders where source_system = 'file_import'),"
            " (select count(*) from marts.fct_payments where order_id is null)"
        ).fetchall()
    # Exports sit in the mart beside the APIs and a payment of a quarantined order is unmatched:
    # both must be accounted for, or this run would not reconcile.
    assert imported > 0 and unmatched > 0
    code, output = reconcile("--layer", "mart", "--url", loaded.url, "--warehouse", str(mart_built))
    assert code == 0, output
    assert "Mart totals match the ledger exactly." in output
    for entity in (
        "orders",
        "payments",
        "payment_fees",
        "refunds",
        "shipments",
        "tracking_events",
        "shipping_costs",
        "duties",
    ):
        assert f"mart.{entity}" in output
    code, output = reconcile(
        "--layer", "mart", "--world", str(loaded.world), "--warehouse", str(mart_built)
    )
    assert code == 0, output


def test_an_order_total_changed_in_the_mart_is_reported_to_the_cent(
    loaded: Loaded, mutable_mart: Path
):
    with duckdb.connect(str(mutable_mart)) as con:
        [(expected,)] = con.execute(
            "select sum(total_amount) from marts.fct_orders where channel = 'shopify' "
            "and currency_code = 'USD' and source_system <> 'file_import' and not is_cancelled"
        ).fetchall()
        con.execute(
            "update marts.fct_orders set total_amount = total_amount + 0.01 where order_id = "
            "(select min(order_id) from marts.fct_orders where channel = 'shopify' "
            "and currency_code = 'USD' and source_system <> 'file_import' and not is_cancelled)"
        )
    code, output = reconcile(
        "--layer", "mart", "--world", str(loaded.world), "--warehouse", str(mutable_mart)
    )
    assert code == 1
    changed = expected + Decimal("0.01")
    assert (
        f"mart.orders {SHOP} USD: total is {expected:.2f} USD in the ledger, "
        f"{changed:.2f} USD in the mart (difference 0.01 USD)"
    ) in output
    assert "1 mismatches." in output


def test_an_order_missing_from_the_mart_is_reported(loaded: Loaded, mutable_mart: Path):
    with duckdb.connect(str(mutable_mart)) as con:
        [(order_id, store, currency, total, count)] = con.execute(
            "select o.order_id, o.store_id, o.currency_code, o.total_amount, "
            "(select count(*) from marts.fct_orders x where x.store_id = o.store_id "
            " and x.currency_code = o.currency_code and x.source_system <> 'file_import') "
            "from marts.fct_orders o where o.channel = 'amazon' and o.currency_code = 'USD' "
            "and not o.is_cancelled "
            "and o.source_system <> 'file_import' order by o.order_id limit 1"
        ).fetchall()
        con.execute("delete from marts.fct_orders where order_id = ?", [order_id])
    code, output = reconcile(
        "--layer", "mart", "--world", str(loaded.world), "--warehouse", str(mutable_mart)
    )
    assert code == 1
    assert (
        f"mart.orders amazon/{store} {currency}: order_count is {count} in the ledger, "
        f"{count - 1} in the mart (difference -1)"
    ) in output
    assert f"(difference -{total:.2f} USD)" in output


def test_a_payment_counted_twice_is_reported(loaded: Loaded, mutable_mart: Path):
    with duckdb.connect(str(mutable_mart)) as con:
        [(payment_id, amount)] = con.execute(
            "select payment_id, amount from marts.fct_payments where is_captured "
            "and channel = 'shopify' and currency_code = 'USD' order by payment_id limit 1"
        ).fetchall()
        con.execute(
            "insert into marts.fct_payments select * replace ('shopify:again' as payment_id) "
            "from marts.fct_payments where payment_id = ?",
            [payment_id],
        )
    code, output = reconcile(
        "--layer", "mart", "--world", str(loaded.world), "--warehouse", str(mutable_mart)
    )
    assert code == 1
    assert f"mart.payments {SHOP} USD: payment_count is" in output
    assert f"in the mart (difference {amount:.2f} USD)" in output


def test_a_warehouse_without_a_mart_cannot_be_reconciled(loaded: Loaded):
    code, output = reconcile(
        "--layer", "mart", "--world", str(loaded.world), "--warehouse", str(loaded.warehouse)
    )
    assert code == 2
    assert "build it first" in output
    code, output = reconcile("--layer", "mart", "--source", "shopify")
    assert code == 2
    assert "applies to the raw layer only" in output
