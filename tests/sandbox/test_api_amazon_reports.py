"""The sandbox's SP-API Reports API over real HTTP: a report's lifecycle (IN_QUEUE, IN_PROGRESS,
DONE or CANCELLED), its pre-signed document, the All Orders flat file's shape against the
mapping that reads Seller Central's download of the same report, its rows against getOrderItems
at the same clock, and Amazon's usage plans with 429s that say when to come back."""

from __future__ import annotations

import gzip
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import yaml

from ingestion.amazon.client import iter_order_items, make_client
from ingestion.sandbox import SandboxState, api_amazon, api_amazon_reports, running_sandbox
from ingestion.sandbox.amazon_render import REPORT_COLUMNS

TOKEN = {"x-amz-access-token": "Atza|sandbox"}
US = "ATVPDKIKX0DER"
MAPPING = Path(__file__).parents[2] / "ingestion/files/mappings/amazon_all_orders.yml"


def create(url: str, **body: Any) -> httpx.Response:
    request = {"reportType": api_amazon_reports.REPORT_TYPE, "marketplaceIds": [US], **body}
    return httpx.post(f"{url}{api_amazon_reports.PREFIX}/reports", json=request, headers=TOKEN)


def poll(url: str, report_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}{api_amazon_reports.PREFIX}/reports/{report_id}", headers=TOKEN)
    assert response.status_code == 200, response.text
    return response.json()


def finished_report(url: str, **body: Any) -> tuple[dict[str, Any], list[str]]:
    """Create a report and poll it to its end: (final getReport body, statuses seen)."""
    created = create(url, **body)
    assert created.status_code == 202, created.text
    seen = []
    for _ in range(5):
        report = poll(url, created.json()["reportId"])
        seen.append(report["processingStatus"])
        if report["processingStatus"] in ("DONE", "CANCELLED"):
            return report, seen
    raise AssertionError(f"report never finished: {seen}")


def document(url: str, document_id: str) -> tuple[dict[str, Any], bytes]:
    path = f"{url}{api_amazon_reports.PREFIX}/documents/{document_id}"
    meta = httpx.get(path, headers=TOKEN).json()
    content = httpx.get(meta["url"]).content  # pre-signed: no access token
    if meta.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return meta, content


def read_tsv(content: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(content), separator="\t", quote_char=None, infer_schema=False)


def test_a_report_goes_through_amazons_statuses_to_a_presigned_document(sandbox):
    report, seen = finished_report(sandbox.url, dataStartTime="2000-01-01T00:00:00Z")
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert report["reportType"] == api_amazon_reports.REPORT_TYPE
    assert report["marketplaceIds"] == [US]
    # The window ends two minutes before the clock, in whole seconds, as getOrders' does.
    end = sandbox.state.now - api_amazon.SETTLE
    assert report["dataEndTime"] == end.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    meta, content = document(sandbox.url, report["reportDocumentId"])
    assert content.decode().split("\n", 1)[0].split("\t") == list(REPORT_COLUMNS)
    # The URL is the credential: altered, it is refused the way S3 refuses it.
    refused = httpx.get(meta["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0"))
    assert refused.status_code == 403 and b"AccessDenied" in refused.content


def test_the_file_has_every_column_the_all_orders_mapping_reads(sandbox):
    """Seller Central's download and the API's report are one format: the file importer's
    mapping must find each column it names in what the sandbox serves."""
    mapping = yaml.safe_load(MAPPING.read_text())

    def columns(spec: Any) -> set[str]:
        if isinstance(spec, str):
            return {spec}
        if isinstance(spec, dict):
            named = {spec["column"]} if "column" in spec else set()
            return named | set(spec.get("columns", ()))
        return set()

    wanted = columns(mapping["store"]) | {mapping["order_key"]}
    for section in ("orders", "lines"):
        for spec in mapping[section].values():
            wanted |= columns(spec)
    assert wanted <= set(REPORT_COLUMNS), sorted(wanted - set(REPORT_COLUMNS))


def test_report_rows_are_what_get_order_items_serves_at_the_same_clock(sandbox):
    report, _ = finished_report(sandbox.url, dataStartTime="2000-01-01T00:00:00Z")
    rows = read_tsv(document(sandbox.url, report["reportDocumentId"])[1])
    assert rows.height > 0
    assert rows.select("amazon-order-id", "sku").is_duplicated().sum() == 0
    served = {}
    token = TOKEN["x-amz-access-token"]
    with make_client(sandbox.url, token, "getOrderItems", 100.0, 30) as client:
        for order_id in rows["amazon-order-id"].unique().to_list():
            for items in iter_order_items(client, order_id):
                for item in items:
                    served[(order_id, item["SellerSKU"])] = item
    assert set(served) == set(zip(rows["amazon-order-id"], rows["sku"], strict=True))
    pending = 0
    for row in rows.iter_rows(named=True):
        item = served[(row["amazon-order-id"], row["sku"])]
        assert int(row["quantity"]) == item["QuantityOrdered"]
        assert row["asin"] == item["ASIN"] and row["product-name"] == item["Title"]
        if "ItemPrice" not in item:  # Pending: no prices, in either
            pending += 1
            assert row["item-price"] is None and row["currency"] is None
            assert row["ship-country"] is None  # and no address yet
            continue
        assert row["currency"] == item["ItemPrice"]["CurrencyCode"]
        assert row["item-price"] == item["ItemPrice"]["Amount"]
        assert row["item-tax"] == item["ItemTax"]["Amount"]
        assert row["shipping-price"] == item["ShippingPrice"]["Amount"]
        # Promotions are printed negative in the report.
        discount = Decimal(item["PromotionDiscount"]["Amount"])
        assert Decimal(row["item-promotion-discount"]) == -discount
        if row["item-status"] == "Shipped":
            assert item["QuantityShipped"] == item["QuantityOrdered"]
        elif row["item-status"] == "Unshipped":
            assert item["QuantityShipped"] < item["QuantityOrdered"]
    assert pending < rows.height


def test_a_window_without_orders_is_cancelled_without_a_document(sandbox):
    report, seen = finished_report(
        sandbox.url, dataStartTime="2001-01-01T00:00:00Z", dataEndTime="2001-01-02T00:00:00Z"
    )
    assert seen[-1] == "CANCELLED" and "reportDocumentId" not in report


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA"}, "reportType"),
        ({"marketplaceIds": []}, "marketplaceIds"),
        ({"marketplaceIds": ["A1AM78C64UM0Y8"]}, "Invalid marketplaceIds"),
        ({"dataStartTime": "yesterday"}, "dataStartTime"),
        ({"dataEndTime": "2099-01-01T00:00:00Z"}, "two minutes"),
    ],
)
def test_bad_report_requests_are_refused_with_amazons_error_body(sandbox, body, detail):
    response = create(sandbox.url, **body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "InvalidInput" and detail in error["details"]


def test_an_unknown_token_is_refused(sandbox):
    response = httpx.post(
        f"{sandbox.url}{api_amazon_reports.PREFIX}/reports",
        json={"reportType": api_amazon_reports.REPORT_TYPE, "marketplaceIds": [US]},
        headers={"x-amz-access-token": "Atza|stolen"},
    )
    assert response.status_code == 403


def test_large_documents_are_gzipped_and_say_so(monkeypatch):
    monkeypatch.setattr(api_amazon_reports, "GZIP_ABOVE_BYTES", 0)
    state = SandboxState.generate(seed=3, n_orders=60)
    with running_sandbox(state=state) as url:
        report, _ = finished_report(url, dataStartTime="2000-01-01T00:00:00Z")
        meta, content = document(url, report["reportDocumentId"])
    assert meta["compressionAlgorithm"] == "GZIP"
    assert content.startswith(b"amazon-order-id\t")


def test_an_empty_bucket_answers_429_with_the_rate_and_when_to_retry(monkeypatch):
    plans = {
        op: api_amazon.UsagePlan(plan.published_rate, 1, 0.25)
        for op, plan in api_amazon_reports.USAGE_PLANS.items()
    }
    monkeypatch.setattr(api_amazon_reports, "USAGE_PLANS", plans)
    state = SandboxState.generate(seed=3, n_orders=60)
    with running_sandbox(state=state) as url:
        assert create(url, dataStartTime="2000-01-01T00:00:00Z").status_code == 202
        refused = create(url, dataStartTime="2000-01-01T00:00:00Z")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "QuotaExceeded"
    assert refused.headers["x-amzn-RateLimit-Limit"] == "0.25"
    assert int(refused.headers["Retry-After"]) == 4  # one request refills in 4 s
