"""Margin after shipping and duties on the mart built from the harsh load: every label's postage
and every billed duty reaches the order's lines to the cent in its own currency, rpt_margin
deducts them, and a cent lost in the allocation would be caught by the singular dbt test."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.defs.dbt.project import run_dbt_on

_ALLOCATION_GAPS = """
    with labels as (
        select order_id, 'shipping' as cost_kind, shipping_cost_currency_code as currency_code,
            sum(shipping_cost_amount) as paid
        from marts.fct_shipping_costs where order_id is not null group by all
        union all
        select order_id, 'duties', duties_currency_code, sum(duties_amount)
        from marts.fct_shipping_costs
        where order_id is not null and duties_amount is not null group by all
    ),
    allocated as (
        select order_id, cost_kind, currency_code, sum(allocated_amount) as allocated
        from intermediate.int_order_line_shipping_costs group by all
    )
    select count(*) from labels left join allocated using (order_id, cost_kind, currency_code)
    where allocated is distinct from paid
"""


def _one(warehouse: Path, sql: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchone()


def test_carrier_costs_reach_the_lines_to_the_cent(mart_built: Path) -> None:
    labels, duties = _one(
        mart_built,
        "select count(*) filter (where order_id is not null), "
        "count(*) filter (where order_id is not null and duties_amount > 0) "
        "from marts.fct_shipping_costs",
    )
    assert labels > 0 and duties > 0, "the harsh world should ship DDP parcels with duties"
    assert _one(mart_built, _ALLOCATION_GAPS) == (0,)


def test_rpt_margin_deducts_postage_and_duties(mart_built: Path) -> None:
    shipping, duties, gap = _one(
        mart_built,
        "select sum(shipping_cost_reporting_amount), sum(duties_reporting_amount), "
        "sum(margin_reporting_amount - (net_revenue_reporting_amount "
        "+ shipping_revenue_reporting_amount - product_cost_reporting_amount "
        "- payment_fee_reporting_amount - refund_reporting_amount "
        "- shipping_cost_reporting_amount - duties_reporting_amount)) "
        "from marts.rpt_margin where lines_without_cost = 0",
    )
    assert shipping > 0 and duties > 0
    assert gap == 0
    # Lines of orders with labels carry them; cancelled orders' lines stay out of the margin.
    (unallocated,) = _one(
        mart_built,
        "select count(*) from marts.fct_shipping_costs labels "
        "where order_id is not null and not exists (select 1 from "
        "intermediate.int_order_line_margins m where m.order_id = labels.order_id "
        "and m.shipping_cost_reporting_amount > 0)",
    )
    assert unallocated == 0


def test_the_singular_test_fails_when_a_cent_goes_missing(mart_built: Path, tmp_path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(mart_built, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update intermediate.int_order_line_shipping_costs "
            "set allocated_amount = allocated_amount - 0.01 where order_line_id = "
            "(select min(order_line_id) from intermediate.int_order_line_shipping_costs "
            "where cost_kind = 'shipping')"
        )
    result = run_dbt_on(
        warehouse,
        "test",
        "--select",
        "assert_shipping_costs_allocate_exactly",
        work_dir=tmp_path / "dbt",
    )
    assert result.returncode != 0
    assert "assert_shipping_costs_allocate_exactly" in result.stdout
