"""The Shopify source with ``finance`` on, end to end against a fake store serving Shopify's own
examples (in-process HTTP): each listed order's refunds and fulfillments read from the order
itself, its transactions fetched through the same client and token bucket as the orders (once
per order version), payouts paged through ``Link`` headers
with their own date cursor, merges that add nothing on a reload, a store without Shopify
Payments, and ``finance`` off leaving the source exactly as it was."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import duckdb
import httpx

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.shopify import shopify_source
from tests.fixtures_path import fixtures_dir

ORDER_ID = 450789469
TOKEN = "shpat_fake"
BASE = "http://shop.test"


def body(name: str) -> dict:
    folder = fixtures_dir("api", "shopify_admin_rest_2026_07")
    return json.loads((folder / name).read_text())["body"]


class FakeShop:
    """Orders (one example order, plus an order deleted before its finance is read), the
    example order's finance lists, and payouts two to a page."""

    def __init__(self, payouts_enabled: bool = True) -> None:
        order = body("order.test_8.json")["order"]
        ghost = dict(order, id=ORDER_ID + 1, name="#ghost")
        self.orders = [order, ghost]
        self.payouts = body("payout.test_1.json")["payouts"] + body("payout.test_2.json")["payouts"]
        self.payouts_enabled = payouts_enabled
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("x-shopify-access-token") != TOKEN:
            return httpx.Response(401, json={"errors": "Invalid API key or access token"})
        path = request.url.path.removeprefix("/admin/api/2026-07")
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        if path == "/orders.json":
            return httpx.Response(200, json={"orders": self.orders})
        if path.startswith(f"/orders/{ORDER_ID}/"):
            resource = path.rsplit("/", 1)[-1].removesuffix(".json")
            source = {
                "transactions": "transaction.test_1.json",
                "refunds": "refund.test_1.json",
                "fulfillments": "fulfillment.test_1.json",
            }[resource]
            return httpx.Response(200, json=body(source))
        if path.startswith("/orders/"):
            return httpx.Response(404, json={"errors": "Not Found"})
        if path == "/shopify_payments/payouts.json":
            if not self.payouts_enabled:
                return httpx.Response(404, json={"errors": "Not Found"})
            rows = sorted(self.payouts, key=lambda p: (p["date"], p["id"]), reverse=True)
            if "page_info" in query:
                start = int(query["page_info"])
            else:
                rows = [p for p in rows if p["date"] >= query["date_min"]]
                self.payouts_query = query
                start = 0
            page = rows[start : start + 2]
            headers = {}
            if start + 2 < len(rows):
                link = f"{BASE}/admin/api/2026-07/shopify_payments/payouts.json"
                headers["Link"] = f'<{link}?limit=2&page_info={start + 2}>; rel="next"'
            return httpx.Response(200, json={"payouts": page}, headers=headers)
        return httpx.Response(404, json={"errors": "Not Found"})


def load(fake: FakeShop, warehouse, **options) -> RequestStats:
    """Load ``fake`` on the REST path (the fake store serves REST only; the bulk path has its
    own tests in ``test_shopify_bulk*.py``)."""
    options.setdefault("transactions_via", "rest")
    stats = RequestStats()
    run_source(
        make_pipeline("shopify", warehouse),
        shopify_source(
            shop_url=BASE,
            access_token=TOKEN,
            stats=stats,
            client_options={"transport": httpx.MockTransport(fake.handler)},
            **options,
        ),
        "shopify",
        stats,
    )
    return stats


def query(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


FINANCE_TABLES = {
    # table: rows from the examples (refund.test_1 carries one refund transaction that the
    # transactions list also serves: one row)
    "transactions": 3,
    "refunds": 1,
    "refund_line_items": 2,
    "fulfillments": 1,
    "fulfillment_tracking_numbers": 1,
    "fulfillment_line_items": 1,
    "payouts": 8,
}


def test_finance_tables_load_through_the_one_shopify_client_and_reload_idempotently(tmp_path):
    fake = FakeShop()
    warehouse = tmp_path / "w.duckdb"
    stats = load(fake, warehouse, finance=True, page_size=2)
    # One client: every request counted in one place, orders and finance alike.
    assert stats.requests == len(fake.requests)
    paths = [r.url.path for r in fake.requests]
    # 13 payouts in the examples, two to a page; 8 distinct ids (the examples repeat some).
    assert paths.count("/admin/api/2026-07/shopify_payments/payouts.json") == 7
    order_path = f"/admin/api/2026-07/orders/{ORDER_ID}"
    # One request per order for its transactions; refunds and fulfillments come with the order.
    assert paths.count(f"{order_path}/transactions.json") == 1
    assert f"{order_path}/refunds.json" not in paths
    assert f"{order_path}/fulfillments.json" not in paths
    fake.requests.clear()
    load(fake, warehouse, finance=True, page_size=2)
    # Re-read in the lookback window with the same updated_at: its transactions are loaded.
    assert f"{order_path}/transactions.json" not in [r.url.path for r in fake.requests]
    for table, expected in FINANCE_TABLES.items():
        assert query(warehouse, f"select count(*) from raw_shopify.{table}") == [(expected,)], table
    [(ids_ok,)] = query(
        warehouse,
        f"select bool_and(order_id = {ORDER_ID}) from raw_shopify.transactions",
    )
    assert ids_ok
    types = dict(
        query(
            warehouse,
            "select column_name, data_type from information_schema.columns where "
            "table_schema = 'raw_shopify' and table_name = 'refund_line_items'",
        )
    )
    assert types["id"] == "BIGINT" and types["subtotal"] == "DECIMAL(18,4)"
    assert types["refund_created_at"] == "TIMESTAMP WITH TIME ZONE"


def test_payouts_are_read_from_the_newest_date_loaded_minus_the_lookback(tmp_path):
    fake = FakeShop()
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, finance=True)
    assert fake.payouts_query["date_min"] == "2000-01-01"
    load(fake, warehouse, finance=True, payouts_lookback_days=14)
    assert fake.payouts_query["date_min"] == "2013-11-17"  # newest payout 2013-12-01 - 14 days


def test_a_store_without_shopify_payments_loads_everything_else(tmp_path):
    fake = FakeShop(payouts_enabled=False)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, finance=True)
    assert query(warehouse, "select count(*) from raw_shopify.refunds") == [(1,)]
    assert not query(
        warehouse,
        "select 1 from information_schema.tables where table_schema = 'raw_shopify' "
        "and table_name = 'payouts'",
    )


def test_without_finance_the_source_reads_only_orders(tmp_path):
    fake = FakeShop()
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse)
    assert {r.url.path for r in fake.requests} == {"/admin/api/2026-07/orders.json"}
    tables = {
        t
        for (t,) in query(
            warehouse,
            "select table_name from information_schema.tables where table_schema = "
            "'raw_shopify' and table_name not like '\\_dlt%' escape '\\'",
        )
    }
    assert tables == {"orders", "order_line_items"}


def test_an_order_listed_twice_on_a_page_has_its_transactions_read_once(tmp_path):
    def loaded(workers: int) -> tuple[list[str], list[tuple], list[tuple]]:
        fake = FakeShop()
        fake.orders = [fake.orders[0], fake.orders[1], fake.orders[0]]  # a repeated listing
        warehouse = tmp_path / f"w{workers}.duckdb"
        load(fake, warehouse, finance=True, transaction_request_workers=workers)
        transactions = query(
            warehouse, "select id, amount from raw_shopify.transactions order by id"
        )
        refunds = query(warehouse, "select id from raw_shopify.refund_line_items order by id")
        return [r.url.path for r in fake.requests], transactions, refunds

    one_paths, one_transactions, one_refunds = loaded(1)
    paths, transactions, refunds = loaded(4)
    assert paths.count(f"/admin/api/2026-07/orders/{ORDER_ID}/transactions.json") == 1
    # The order deleted before its transactions were read is asked once and loads no rows.
    assert paths.count(f"/admin/api/2026-07/orders/{ORDER_ID + 1}/transactions.json") == 1
    assert sorted(paths) == sorted(one_paths)
    assert (transactions, refunds) == (one_transactions, one_refunds)
    assert len(transactions) == FINANCE_TABLES["transactions"]


def test_a_quarantined_orders_finance_records_still_load(tmp_path):
    """One bad field quarantines the order, not the money around it: its refunds, fulfillments
    and transactions are valid on their own and carry the order's id."""
    fake = FakeShop()
    # The second order stays good; the first sends its total as a float that lost exactness.
    fake.orders = [dict(fake.orders[0], total_price=403.00000000000006), fake.orders[1]]
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, finance=True)
    assert query(warehouse, "select id from raw_shopify.orders") == [(ORDER_ID + 1,)]
    assert query(
        warehouse, "select entity, record_id from raw_shopify.quarantine where entity = 'order'"
    ) == [("order", str(ORDER_ID))]
    for table in ("transactions", "refunds", "refund_line_items", "fulfillments"):
        assert query(warehouse, f"select count(*) from raw_shopify.{table}") == [
            (FINANCE_TABLES[table],)
        ], table
    assert query(warehouse, "select distinct order_id from raw_shopify.refunds") == [(ORDER_ID,)]
