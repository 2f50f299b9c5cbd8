"""The PayPal source end to end against a fake PayPal (in-process HTTP): a client-credentials
token cached until it expires and renewed on a 401, windows of at most 31 days up to PayPal's
``last_refreshed_datetime``, page numbers to ``total_pages``, a cursor on the last complete
window with its lookback, idempotent merges of transactions and their items, and bad
credentials that fail at once without reaching a log."""

from __future__ import annotations

import base64
import copy
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import duckdb
import httpx
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.paypal import paypal_source
from ingestion.paypal.client import PayPalClient, clear_token_cache
from tests.fixtures_path import fixtures_dir

CLIENT_ID, SECRET = "app-client-id", "app-s3cr3t-value"
REFRESHED = datetime(2026, 10, 31, 6, 0, tzinfo=UTC)


def paypal_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakePayPal:
    """PayPal's OAuth and Transaction Search, serving copies of the documentation example."""

    def __init__(self, n: int = 12, start: datetime = datetime(2026, 8, 1, tzinfo=UTC)) -> None:
        path = fixtures_dir("api", "paypal") / "reporting_transactions.docs_example.json"
        self.example = json.loads(path.read_text())["transaction_details"][0]
        self.details: list[dict] = []
        self.refreshed = REFRESHED
        self.token_ttl = 32_400
        self.tokens: set[str] = set()
        self.token_posts = 0
        self.searches: list[dict[str, str]] = []
        for i in range(n):
            self.add(start + timedelta(days=7 * i))

    def add(self, at: datetime, **info) -> dict:
        detail = copy.deepcopy(self.example)
        tid = f"5TY{len(self.details):014d}"
        detail["transaction_info"].update(
            transaction_id=tid,
            transaction_initiation_date=paypal_time(at),
            transaction_updated_date=paypal_time(at),
            **info,
        )
        self.details.append(detail)
        return detail

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth2/token":
            expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return httpx.Response(
                    401,
                    json={
                        "error": "invalid_client",
                        "error_description": "Client Authentication failed",
                    },
                )
            assert request.content == b"grant_type=client_credentials"
            self.token_posts += 1
            token = f"A21AA-token-{self.token_posts}"
            self.tokens.add(token)
            body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}
            return httpx.Response(200, json=body)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return httpx.Response(401, json={"error": "invalid_token"})
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        self.searches.append(query)
        start = datetime.fromisoformat(query["start_date"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["end_date"].replace("Z", "+00:00"))
        if end - start > timedelta(days=31):
            return httpx.Response(400, json={"name": "INVALID_REQUEST"})
        if start > self.refreshed:
            return httpx.Response(400, json={"name": "INVALID_REQUEST"})
        matched = [
            d
            for d in self.details
            if start
            <= datetime.strptime(
                d["transaction_info"]["transaction_initiation_date"], "%Y-%m-%dT%H:%M:%S%z"
            )
            <= min(end, self.refreshed)
        ]
        size, page = int(query["page_size"]), int(query["page"])
        pages = max(1, -(-len(matched) // size))
        body = {
            "transaction_details": matched[(page - 1) * size : page * size],
            "last_refreshed_datetime": paypal_time(self.refreshed),
            "page": page,
            "total_items": len(matched),
            "total_pages": pages,
        }
        return httpx.Response(200, json=body)


@pytest.fixture(autouse=True)
def fresh_token_cache():
    clear_token_cache()
    yield
    clear_token_cache()


def load(fake: FakePayPal, warehouse, **options) -> RequestStats:
    stats = RequestStats()
    run_source(
        make_pipeline("paypal", warehouse),
        paypal_source(
            client_id=CLIENT_ID,
            client_secret=SECRET,
            base_url="http://paypal.test",
            stats=stats,
            client_options={"transport": httpx.MockTransport(fake.handler)},
            **options,
        ),
        "paypal",
        stats,
    )
    return stats


def rows(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_windows_of_31_days_up_to_the_last_refresh_load_every_transaction_once(tmp_path):
    fake = FakePayPal(n=12)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, start_date="2026-07-01T00:00:00Z", page_size=2)
    windows = {(q["start_date"], q["end_date"]) for q in fake.searches}
    for start, end in windows:
        span = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(
            start.replace("Z", "+00:00")
        )
        assert span <= timedelta(days=31)
    assert len(windows) == 4  # July to the refresh at the end of October
    assert max(q["page"] for q in fake.searches) > "1"  # pages were followed
    assert all(q["fields"] == "all" for q in fake.searches)
    load(fake, warehouse, page_size=2)
    assert rows(
        warehouse, "select count(*), count(distinct transaction_id) from raw_paypal.transactions"
    ) == [(12, 12)]
    assert rows(
        warehouse,
        "select count(*), count(distinct transaction_id || '/' || line_number) "
        "from raw_paypal.transaction_items",
    ) == [(36, 36)]
    assert fake.token_posts == 1  # one token, cached across both runs


def test_fees_stay_negative_and_money_types_are_frozen(tmp_path):
    fake = FakePayPal(n=2)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, start_date="2026-07-25T00:00:00Z")
    assert rows(
        warehouse,
        "select sum(gross_amount), sum(fee_amount), sum(net_amount) from raw_paypal.transactions",
    ) == [(Decimal("930"), Decimal("-27.58"), Decimal("902.42"))]
    types = dict(
        rows(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_paypal' and table_name = 'transactions'",
        )
    )
    assert types["fee_amount"] == "DECIMAL(18,4)"
    assert types["initiated_at"] == "TIMESTAMP WITH TIME ZONE"


def test_the_cursor_is_the_end_of_the_last_complete_window_and_late_rows_are_caught(tmp_path):
    fake = FakePayPal(n=3, start=datetime(2026, 10, 1, tzinfo=UTC))
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, start_date="2026-10-01T00:00:00Z")
    # A payment initiated an hour before the last refresh that PayPal's reporting only now
    # shows (it lags), and one after it: the lookback picks up the first, the new refresh the
    # second.
    fake.add(REFRESHED - timedelta(hours=1))
    fake.refreshed = REFRESHED + timedelta(days=2)
    fake.add(REFRESHED + timedelta(days=1))
    fake.searches.clear()
    load(fake, warehouse)
    [first] = fake.searches
    assert first["start_date"] == "2026-10-30T06:00:00Z"  # cursor (last refresh) - 1 day
    assert rows(warehouse, "select count(*) from raw_paypal.transactions") == [(5,)]


def test_a_transaction_whose_cart_shrank_loses_the_items_it_no_longer_has(tmp_path):
    fake = FakePayPal(n=1, start=datetime(2026, 10, 1, tzinfo=UTC))
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, start_date="2026-10-01T00:00:00Z")
    detail = fake.details[0]
    detail["cart_info"]["item_details"] = detail["cart_info"]["item_details"][:1]
    detail["transaction_info"]["transaction_updated_date"] = paypal_time(REFRESHED)
    load(fake, warehouse, start_date="2026-10-01T00:00:00Z", lookback_seconds=40 * 86_400)
    assert rows(warehouse, "select count(*) from raw_paypal.transaction_items") == [(1,)]


def test_the_token_is_renewed_before_it_expires_and_once_on_a_401():
    fake = FakePayPal(n=1)
    now = [0.0]
    client = PayPalClient(
        "http://paypal.test",
        CLIENT_ID,
        SECRET,
        clock=lambda: now[0],
        transport=httpx.MockTransport(fake.handler),
    )
    params = {
        "start_date": "2026-08-01T00:00:00Z",
        "end_date": "2026-08-02T00:00:00Z",
        "page_size": 10,
        "page": 1,
    }
    client.get("/v1/reporting/transactions", params)
    client.get("/v1/reporting/transactions", params)
    assert fake.token_posts == 1
    now[0] = fake.token_ttl - 60  # within the safety margin before expiry
    client.get("/v1/reporting/transactions", params)
    assert fake.token_posts == 2
    fake.tokens.clear()  # PayPal revoked every token
    client.get("/v1/reporting/transactions", params)
    assert fake.token_posts == 3
    client.close()


def test_bad_credentials_fail_at_once_and_never_reach_a_log(tmp_path, caplog):
    fake = FakePayPal(n=1)
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-s3cr3t-do-not-log"
    with pytest.raises(PipelineStepFailed, match="401") as failure:
        run_source(
            make_pipeline("paypal", tmp_path / "w.duckdb"),
            paypal_source(
                client_id=CLIENT_ID,
                client_secret=wrong,
                base_url="http://paypal.test",
                client_options={"transport": httpx.MockTransport(fake.handler)},
            ),
            "paypal",
        )
    assert "invalid_client" in str(failure.value)
    assert wrong not in str(failure.value) and wrong not in caplog.text
    assert fake.searches == []
