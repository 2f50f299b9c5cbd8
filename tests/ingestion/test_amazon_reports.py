"""The Amazon connector reading items from the All Orders report: strict column-wise casts that
keep money exact and send every bad row to the quarantine with its reason, report polling that
gives up clearly, documents that are gunzipped and re-asked when their URL expired, and loads
against a clean, a throttled and a harsh sandbox."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import polars as pl
import pytest

from ingestion.amazon import amazon_source, reports
from ingestion.amazon.client import make_client
from ingestion.common.http import ApiClient, RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.common.quarantine import Quarantine
from ingestion.common.rate_limit import TokenBucket
from ingestion.sandbox import SandboxState, api_amazon, api_amazon_reports, running_sandbox
from ingestion.sandbox.amazon_render import REPORT_COLUMNS
from ingestion.sandbox.context import SandboxConfig
from ingestion.sandbox.fault_data import malformed_kind
from ingestion.sandbox.faults import PROFILES
from tests.ingestion.test_amazon_sandbox import visible_orders

GOOD = {
    "amazon-order-id": "113-0007919-0015838",
    "last-updated-date": "2026-08-04T20:05:13+02:00",
    "product-name": "Noise Cancelling Headphones",
    "sku": "TL-0032",
    "asin": "B0MFJGTIVQ",
    "item-status": "Shipped",
    "quantity": "2",
    "currency": "JPY",
    "item-price": "25990",
    "item-tax": "2363",
    "shipping-price": "0",
    "shipping-tax": "0",
    "gift-wrap-price": None,
    "gift-wrap-tax": None,
    "item-promotion-discount": "-500",
    "ship-promotion-discount": "0",
    "promotion-ids": "PLM_1",
    "price-designation": None,
}


def parse(*rows: dict[str, Any]) -> tuple[pl.DataFrame, Quarantine]:
    frame = pl.DataFrame(list(rows), schema=dict.fromkeys(GOOD, pl.String))
    quarantine = Quarantine(source="amazon")
    table = reports.parse_report(frame, "A2TLSANDBOXFE3", quarantine)
    return pl.from_arrow(table), quarantine


def test_a_report_row_becomes_an_exact_item_row():
    frame, quarantine = parse(GOOD)
    [row] = frame.to_dicts()
    assert len(quarantine) == 0
    assert row["amazon_order_id"] == "113-0007919-0015838" and row["seller_sku"] == "TL-0032"
    assert row["order_item_id"] is None  # the report names no OrderItemId
    assert row["store_id"] == "A2TLSANDBOXFE3"
    assert str(row["order_last_update_date"]) == "2026-08-04 18:05:13+00:00"  # to UTC
    assert row["item_price"] == Decimal("25990") and row["item_price_currency"] == "JPY"
    assert row["promotion_discount"] == Decimal("500")  # printed negative, kept positive
    assert row["quantity_ordered"] == row["quantity_shipped"] == 2
    assert row["gift_wrap_price"] is None and row["gift_wrap_price_currency"] is None


def test_a_pending_row_has_no_prices_and_loads():
    pending = {**GOOD, "item-status": "Unshipped", "currency": None}
    pending |= {c: None for c in reports._MONEY | reports._DISCOUNTS}
    frame, quarantine = parse(pending)
    assert len(quarantine) == 0
    assert frame["item_price"].to_list() == [None] and frame["quantity_shipped"].to_list() == [0]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"item-price": "25990.000000000004"}, "item-price: not an exact amount"),
        ({"item-tax": "1.2e3"}, "item-tax: not an exact amount"),
        ({"last-updated-date": "2026-13-45T25:61:00"}, "last-updated-date"),
        ({"last-updated-date": "2026-08-04 18:05:13"}, "last-updated-date"),
        ({"quantity": "-1"}, "quantity"),
        ({"currency": "XXX1"}, "currency: not an ISO 4217 code"),
        ({"amazon-order-id": None, "sku": None}, "amazon-order-id"),
        ({"sku": None}, "sku: missing"),
        ({"currency": None}, "amount without currency"),
        ({"item-promotion-discount": "500"}, "a promotion is printed negative"),
    ],
)
def test_a_bad_row_is_quarantined_with_its_reason_and_the_rest_loads(change, reason):
    frame, quarantine = parse(GOOD, {**GOOD, "sku": "TL-0099", **change})
    assert frame["seller_sku"].to_list() == ["TL-0032"]
    [refused] = quarantine.rows
    assert refused["entity"] == "order_report_row" and reason in refused["reason"]
    assert '"sku"' in refused["payload"]  # the row as served is kept


def test_money_is_never_a_float():
    frame, _ = parse(GOOD)
    money = [c for c in frame.columns if c.endswith(("_price", "_tax", "_discount"))]
    assert money and all(isinstance(frame.schema[c], pl.Decimal) for c in money)


def test_a_report_without_a_needed_column_fails_loudly():
    content = "\t".join(c for c in REPORT_COLUMNS if c != "item-price").encode() + b"\n"
    with pytest.raises(reports.ReportFailed, match="item-price"):
        reports.read_report(content)


# --- polling and documents against a scripted server -------------------------------------------


class Script:
    """A fake Reports API answering getReport with the statuses given, in turn."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = iter(statuses)
        self.sleeps: list[float] = []
        self.now = 0.0

    def handler(self, request: httpx.Request) -> httpx.Response:
        status = next(self.statuses)
        body = {"processingStatus": status, "dataEndTime": "2026-11-01T00:00:00+00:00"}
        if status == "DONE":
            body["reportDocumentId"] = "doc-1"
        return httpx.Response(200, json=body)

    def client(self, handler=None) -> ApiClient:
        return ApiClient(
            api="test",
            base_url="http://amazon.test",
            headers={},
            bucket=TokenBucket(rate_per_s=1000.0, capacity=1000.0),
            transport=httpx.MockTransport(handler or self.handler),
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_polling_backs_off_until_done():
    script = Script(["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE"])
    [done] = reports.wait_for_reports(
        script.client(), {"M": "1"}, 0.5, 60.0, 600.0, script.sleep, lambda: script.now
    )
    assert done.status == "DONE" and done.document_id == "doc-1"
    assert script.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("statuses", "message"),
    [(["IN_QUEUE", "FATAL"], "FATAL"), (["IN_QUEUE"] * 20, "not done after")],
)
def test_a_report_that_fails_or_never_ends_fails_the_run(statuses, message):
    script = Script(statuses)
    with pytest.raises(reports.ReportFailed, match=message):
        reports.wait_for_reports(
            script.client(), {"M": "1"}, 1.0, 4.0, 20.0, script.sleep, lambda: script.now
        )


def test_a_gzipped_document_is_gunzipped_and_an_expired_url_asked_again():
    urls = iter(["http://s3.test/expired", "http://s3.test/fresh"])
    api = Script([]).client(
        lambda r: httpx.Response(
            200, json={"url": next(urls), "compressionAlgorithm": "GZIP", "reportDocumentId": "d"}
        )
    )
    seen: list[httpx.Request] = []

    def s3(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/expired":
            return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>")
        return httpx.Response(200, content=gzip.compress(b"amazon-order-id\n"))

    assert reports.download_document(api, Script([]).client(s3), "d") == b"amazon-order-id\n"
    assert [r.url.path for r in seen] == ["/expired", "/fresh"]
    assert all("x-amz-access-token" not in r.headers for r in seen)


# --- against the sandbox -----------------------------------------------------------------------


def load(url: str, warehouse: Path, **options: Any) -> RequestStats:
    stats = RequestStats()
    source = amazon_source(endpoint=url, stats=stats, report_poll_initial_s=0.01, **options)
    run_source(make_pipeline("amazon", warehouse), source, "amazon", stats)
    return stats


def loaded(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_429s_on_the_reports_endpoints_are_waited_out_as_retry_after_says(tmp_path, monkeypatch):
    # Bursts of 1 refilled at 2/s: the connector asks for four reports at once and polls them
    # together, so it meets 429s with Retry-After: 1 and must wait rather than fail.
    plans = {
        op: api_amazon.UsagePlan(plan.published_rate, 1, 2.0)
        for op, plan in api_amazon_reports.USAGE_PLANS.items()
    }
    monkeypatch.setattr(api_amazon_reports, "USAGE_PLANS", plans)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        __import__("time").sleep(seconds)

    state = SandboxState.generate(seed=5, n_orders=150)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        # Clients that believe they may burst 50 and fire at 100/s, as a misconfigured one would.
        stats = load(url, warehouse, reports_rate_per_s=100.0, client_options={"sleep": sleep})
    assert stats.rate_limited > 0
    assert 1.0 in sleeps  # Retry-After: 1, waited as said
    truth = visible_orders(state)
    lines = state.table_as_of("order_lines").join(
        truth.select("order_id"), on="order_id", how="semi"
    )
    assert loaded(warehouse, "select count(*) from raw_amazon.order_items") == [(lines.height,)]


def test_a_harsh_sandbox_costs_retries_and_quarantines_exactly_the_malformed_rows(tmp_path):
    harsh = PROFILES["harsh"]
    state = SandboxState.generate(seed=13, n_orders=300, faults=harsh)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=SandboxConfig(faults=harsh)) as url:
        stats = load(url, warehouse)
    assert stats.retried + stats.rate_limited > 0
    truth = visible_orders(state)
    lines = state.table_as_of("order_lines").join(
        truth.select("order_id", "external_order_id"), on="order_id", how="inner"
    )
    keys = list(zip(lines["external_order_id"], lines["sku"], strict=True))
    seed = state.world.seed
    broken = {k for k in keys if malformed_kind(harsh, seed, "amazon", "order_report", k)}
    assert broken, "1% of several hundred rows should include malformed ones"
    items = set(loaded(warehouse, "select amazon_order_id, seller_sku from raw_amazon.order_items"))
    assert items == set(keys) - broken
    refused = loaded(
        warehouse,
        "select record_id, reason from raw_amazon.quarantine where entity = 'order_report_row'",
    )
    assert len(refused) == len(broken) and all(reason for _, reason in refused)
    named = {r for r, _ in refused if r != "None:None"}
    assert named <= {f"{o}:{s}" for o, s in broken}


def test_reports_and_get_order_items_load_the_same_items(sandbox, tmp_path):
    columns = (
        "amazon_order_id, seller_sku, store_id, order_last_update_date, asin, title, "
        "quantity_ordered, quantity_shipped, item_price, item_price_currency, item_tax, "
        "shipping_price, shipping_tax, promotion_discount, shipping_discount, promotion_ids, "
        "price_designation"
    )
    rows = {}
    for way in ("reports", "orders_api"):
        warehouse = tmp_path / f"{way}.duckdb"
        load(sandbox.url, warehouse, items_via=way)
        rows[way] = loaded(warehouse, f"select {columns} from raw_amazon.order_items order by 1, 2")
    assert rows["reports"] == rows["orders_api"] and len(rows["reports"]) > 0


def test_an_unknown_way_of_reading_items_is_refused():
    with pytest.raises(ValueError, match="items_via"):
        amazon_source(items_via="scraping")


def test_report_client_paces_each_operation_on_its_own_bucket():
    client = make_client("http://amazon.test", "Atza|x", "getReport", 2.0, 15)
    assert client.api == "amazon getReport" and client.bucket.rate_per_s == 2.0


def test_reconcile_compares_items_the_way_the_connector_reads_them(monkeypatch):
    from tradelane.reconcile.mappings import RAW_ENTITIES

    [items] = [e for e in RAW_ENTITIES if e.name == "amazon.order_items"]
    assert items.served_as == ("amazon", "order_report") and items.parent is None
    monkeypatch.setenv("SOURCES__AMAZON__ITEMS_VIA", "orders_api")
    assert items.served_as == ("amazon", "order_items")
    assert items.parent == ("amazon", "orders")  # items come through their order there


def test_a_warehouse_keyed_by_order_item_id_is_reset_once_and_reloads(sandbox, tmp_path):
    """Before items were keyed by SKU, ``order_items``' key was (amazon_order_id,
    order_item_id); the frozen schema refuses the new key until ``--reset-items``."""
    import dlt
    import pyarrow as pa
    from dlt.pipeline.exceptions import PipelineStepFailed

    from ingestion.amazon.__main__ import reset_items
    from ingestion.common.source_parts import MERGE

    @dlt.source(name="amazon", max_table_nesting=0)
    def before() -> Any:
        @dlt.resource(
            name="order_items",
            primary_key=["amazon_order_id", "order_item_id"],
            write_disposition=MERGE,
            schema_contract={"data_type": "freeze"},
        )
        def order_items() -> Any:
            schema = pa.schema(
                [
                    pa.field("amazon_order_id", pa.string(), nullable=False),
                    pa.field("order_item_id", pa.string(), nullable=False),
                    ("seller_sku", pa.string()),
                ]
            )
            yield pa.table(
                {"amazon_order_id": ["1"], "order_item_id": ["2"], "seller_sku": ["3"]},
                schema=schema,
            )

        return order_items

    warehouse = tmp_path / "w.duckdb"
    run_source(make_pipeline("amazon", warehouse), before(), "amazon")
    with pytest.raises(PipelineStepFailed, match="seller_sku"):
        load(sandbox.url, warehouse)
    reset_items(make_pipeline("amazon", warehouse))
    load(sandbox.url, warehouse)
    lines = sandbox.state.table_as_of("order_lines").join(
        visible_orders(sandbox.state).select("order_id"), on="order_id", how="semi"
    )
    assert loaded(warehouse, "select count(*) from raw_amazon.order_items") == [(lines.height,)]
