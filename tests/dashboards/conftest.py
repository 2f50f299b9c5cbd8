"""Fixtures for the dashboard tests: a tiny published copy built the way the pipeline builds it.

The scratch warehouse holds the two tables the dashboards read, with the column types of the
pipeline's contract, a few orders in two shop currencies and three destination countries, and one
order no warehouse can ship. It is published with ``tradelane.published.publish``, so the tests
exercise the real pointer file and versioned file name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tradelane.published import publish

APP_PATH = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"

FCT_ORDERS_DDL = """
create table marts.fct_orders (
    order_id varchar primary key,
    channel varchar,
    store_id varchar,
    external_order_id bigint,
    order_name varchar,
    customer_id bigint,
    ordered_at timestamptz,
    updated_at timestamptz,
    order_date date,
    financial_status varchar,
    fulfillment_status varchar,
    is_cancelled boolean,
    is_awaiting_shipment boolean,
    destination_country_code varchar,
    currency_code varchar,
    line_items_amount decimal(18, 4),
    discount_amount decimal(18, 4),
    subtotal_amount decimal(18, 4),
    shipping_amount decimal(18, 4),
    tax_amount decimal(18, 4),
    total_amount decimal(18, 4),
    presentment_currency_code varchar,
    presentment_total_amount decimal(18, 4),
    line_count integer,
    item_quantity integer
)
"""

ORDER_ROUTING_DDL = """
create table actions.order_routing (
    order_id varchar primary key,
    channel varchar,
    store_id varchar,
    order_name varchar,
    destination_country_code varchar,
    warehouse_code varchar,
    is_routable boolean,
    rule_name varchar,
    reason varchar,
    distance_km double,
    decided_at timestamptz,
    rules_version varchar
)
"""


def make_order(
    store_id: str,
    number: int,
    *,
    country: str,
    currency: str,
    total: str,
    day: int,
    cancelled: bool = False,
    awaiting: bool = False,
    fulfillment: str | None = None,
) -> dict[str, Any]:
    """One ``marts.fct_orders`` row; amounts are strings so they stay exact decimals."""
    ordered_at = datetime(2026, 5, day, 9, 30, tzinfo=UTC)
    total_amount = Decimal(total)
    return {
        "order_id": f"shopify:{store_id}:{number}",
        "channel": "shopify",
        "store_id": store_id,
        "external_order_id": 5_000_000_000_000 + number,
        "order_name": f"#{number}",
        "customer_id": 7_000_000_000_000 + number,
        "ordered_at": ordered_at,
        "updated_at": ordered_at,
        "order_date": ordered_at.date(),
        "financial_status": "refunded" if cancelled else "paid",
        "fulfillment_status": fulfillment,
        "is_cancelled": cancelled,
        "is_awaiting_shipment": awaiting,
        "destination_country_code": country,
        "currency_code": currency,
        "line_items_amount": total_amount,
        "discount_amount": Decimal("0"),
        "subtotal_amount": total_amount,
        "shipping_amount": Decimal("0"),
        "tax_amount": Decimal("0"),
        "total_amount": total_amount,
        "presentment_currency_code": currency,
        "presentment_total_amount": total_amount,
        "line_count": 1,
        "item_quantity": 2,
    }


def make_routing(
    order: dict[str, Any],
    *,
    warehouse: str | None,
    rule: str,
    reason: str,
    distance_km: float | None,
) -> dict[str, Any]:
    """One ``actions.order_routing`` row for an order awaiting shipment."""
    return {
        "order_id": order["order_id"],
        "channel": order["channel"],
        "store_id": order["store_id"],
        "order_name": order["order_name"],
        "destination_country_code": order["destination_country_code"],
        "warehouse_code": warehouse,
        "is_routable": warehouse is not None,
        "rule_name": rule,
        "reason": reason,
        "distance_km": distance_km,
        "decided_at": datetime(2026, 5, 10, 6, 0, tzinfo=UTC),
        "rules_version": "test-rules-1",
    }


UNROUTABLE_REASON = "No warehouse ships to DE: the only EU warehouse has no stock of SKU-9."


def sample_orders() -> list[dict[str, Any]]:
    """Six orders: USD and EUR shops, destinations US, CA and DE, one cancelled."""
    return [
        make_order(
            "us-store", 1001, country="US", currency="USD", total="1234.5050", day=1, awaiting=True
        ),
        make_order(
            "us-store",
            1002,
            country="CA",
            currency="USD",
            total="0.1000",
            day=2,
            fulfillment="fulfilled",
        ),
        make_order(
            "us-store",
            1003,
            country="US",
            currency="USD",
            total="0.2000",
            day=3,
            fulfillment="fulfilled",
        ),
        make_order(
            "us-store", 1004, country="US", currency="USD", total="999.9900", day=4, cancelled=True
        ),
        make_order(
            "eu-store", 2001, country="DE", currency="EUR", total="45.1000", day=5, awaiting=True
        ),
        make_order(
            "eu-store", 2002, country="DE", currency="EUR", total="19.9900", day=6, awaiting=True
        ),
    ]


def sample_routing(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Routing of the three orders awaiting shipment; #2002 cannot be routed."""
    by_name = {order["order_name"]: order for order in orders}
    return [
        make_routing(
            by_name["#1001"],
            warehouse="US-NJ",
            rule="nearest_in_stock",
            reason="US-NJ is the nearest warehouse with every item in stock.",
            distance_km=412.5,
        ),
        make_routing(
            by_name["#2001"],
            warehouse="EU-NL",
            rule="nearest_in_stock",
            reason="EU-NL is the nearest warehouse with every item in stock.",
            distance_km=380.0,
        ),
        make_routing(
            by_name["#2002"],
            warehouse=None,
            rule="no_warehouse",
            reason=UNROUTABLE_REASON,
            distance_km=None,
        ),
    ]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({placeholders})",
        [[row[column] for column in columns] for row in rows],
    )


@dataclass
class PublishedFixture:
    """A scratch warehouse, the folder it is published to, and the rows it holds."""

    warehouse: Path
    published_dir: Path
    orders: list[dict[str, Any]]
    routing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unroutable(self) -> list[dict[str, Any]]:
        return [row for row in self.routing if not row["is_routable"]]

    def add_order_and_republish(self, store_id: str, number: int, **fields: Any) -> Path:
        """Write one more order (``make_order`` arguments) to the scratch warehouse and publish a
        new copy, as a pipeline run would."""
        order = make_order(store_id, number, **fields)
        with duckdb.connect(str(self.warehouse)) as con:
            insert_rows(con, "marts.fct_orders", [order])
        self.orders.append(order)
        return publish(self.warehouse, self.published_dir)


@pytest.fixture(autouse=True)
def _isolated_streamlit_caches() -> Iterator[None]:
    """Cached query results are process-wide: clear them so no test sees another's data."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublishedFixture:
    """A published copy of the sample data, with ``TRADELANE_PUBLISHED_DIR`` pointing at it."""
    orders = sample_orders()
    routing = sample_routing(orders)
    warehouse = tmp_path / "scratch.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create schema actions")
        con.execute(FCT_ORDERS_DDL)
        con.execute(ORDER_ROUTING_DDL)
        insert_rows(con, "marts.fct_orders", orders)
        insert_rows(con, "actions.order_routing", routing)
    target = tmp_path / "published"
    publish(warehouse, target)
    monkeypatch.setenv("TRADELANE_PUBLISHED_DIR", str(target))
    return PublishedFixture(warehouse, target, orders, routing)


@pytest.fixture
def nothing_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TRADELANE_PUBLISHED_DIR`` pointing at a folder the pipeline has not published to."""
    target = tmp_path / "published"
    target.mkdir()
    monkeypatch.setenv("TRADELANE_PUBLISHED_DIR", str(target))
    return target


@pytest.fixture
def run_app() -> Callable[[], AppTest]:
    """Run the dashboard entrypoint (default page) the way `streamlit run` would."""

    def run() -> AppTest:
        return AppTest.from_file(str(APP_PATH), default_timeout=60).run()

    return run
