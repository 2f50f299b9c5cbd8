"""The Stripe source end to end against a fake Stripe (in-process HTTP): list pagination with
``starting_after``, one cursor per list with its lookback, idempotent merges, the key's published
rate limit, 4xx that fail at once without leaking the key; and against the sandbox over real
HTTP once it serves Stripe (see ``test_stripe_sandbox.py``)."""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from urllib.parse import parse_qs

import duckdb
import httpx
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.stripe import settings, stripe_source
from ingestion.stripe.client import make_client
from tests.fixtures_path import fixtures_dir

KEY = "sk_test_fake_4242"
T0 = 1_790_000_000  # 2026-09-21


class FakeStripe:
    """A Stripe account serving the five lists from the official example objects, the way
    Stripe pages them: newest first, ``limit``, ``created[gte]``, ``starting_after``."""

    def __init__(self, per_list: int = 7) -> None:
        folder = fixtures_dir("api", "stripe")
        self.examples = {
            table: json.loads((folder / f"{name}.json").read_text())
            for table, name in {
                "balance_transactions": "balance_transaction",
                "charges": "charge",
                "refunds": "refund",
                "disputes": "dispute",
                "payouts": "payout",
            }.items()
        }
        self.objects: dict[str, list[dict]] = {t: [] for t in self.examples}
        self.requests: list[httpx.Request] = []
        for table in self.examples:
            for i in range(per_list):
                self.add(table, T0 + 3600 * i)

    def add(self, table: str, created: int, **changes) -> dict:
        obj = copy.deepcopy(self.examples[table])
        prefix = obj["id"].split("_")[0]
        obj.update(id=f"{prefix}_{table[:3]}{len(self.objects[table]):05d}", created=created)
        obj["currency"] = ["usd", "jpy", "kwd"][len(self.objects[table]) % 3]
        obj.update(changes)
        self.objects[table].append(obj)
        return obj

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            key = request.headers.get("authorization", "").removeprefix("Bearer ")
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            return httpx.Response(
                401, json={"error": {"message": f"Invalid API Key provided: {masked}"}}
            )
        table = request.url.path.removeprefix("/v1/")
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        rows = sorted(self.objects[table], key=lambda o: (-o["created"], o.get("id", "")))
        if "created[gte]" in query:
            rows = [o for o in rows if o["created"] >= int(query["created[gte]"])]
        if "starting_after" in query:
            ids = [o.get("id") for o in rows]
            rows = rows[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        body = {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": request.url.path,
        }
        return httpx.Response(200, json=body)


def load(fake: FakeStripe, warehouse, **options) -> RequestStats:
    stats = RequestStats()
    run_source(
        make_pipeline("stripe", warehouse),
        stripe_source(
            api_key=KEY,
            base_url="http://stripe.test",
            stats=stats,
            client_options={"transport": httpx.MockTransport(fake.handler)},
            **options,
        ),
        "stripe",
        stats,
    )
    return stats


def rows(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_list_pages_newest_first_and_reloading_adds_no_duplicates(tmp_path):
    fake = FakeStripe(per_list=7)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, page_size=3)
    # 7 objects at 3 a page: 3 requests per list, each after the first with starting_after.
    charges = [r for r in fake.requests if r.url.path == "/v1/charges"]
    assert len(charges) == 3
    cursors = [parse_qs(r.url.query.decode()).get("starting_after") for r in charges]
    assert cursors == [None, ["ch_cha00004"], ["ch_cha00001"]]
    load(fake, warehouse, page_size=3)
    for table in settings.OBJECTS:
        count, distinct = rows(
            warehouse, f"select count(*), count(distinct id) from raw_stripe.{table}"
        )[0]
        assert count == distinct == 7, table
    assert not rows(
        warehouse, "select * from information_schema.tables where table_name = 'quarantine'"
    ), "nothing was refused, so no quarantine table"


def test_amounts_are_exact_in_minor_and_major_units_per_currency(tmp_path):
    fake = FakeStripe(per_list=6)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse)
    sums = dict(
        (c, (m, a))
        for c, m, a in rows(
            warehouse,
            "select currency, sum(amount_minor), sum(amount) from raw_stripe.charges group by 1",
        )
    )
    # The example charge is 100 minor units: $1.00, but ¥100 and 0.100 KWD.
    assert sums == {
        "USD": (200, Decimal("2")),
        "JPY": (200, Decimal("200")),
        "KWD": (200, Decimal("0.2")),
    }
    [(kind,)] = rows(
        warehouse,
        "select data_type from information_schema.columns where table_schema = 'raw_stripe' "
        "and table_name = 'charges' and column_name = 'amount'",
    )
    assert kind == "DECIMAL(18,4)"
    [(created_type,)] = rows(
        warehouse,
        "select data_type from information_schema.columns where table_schema = 'raw_stripe' "
        "and table_name = 'charges' and column_name = 'created_at'",
    )
    assert created_type == "TIMESTAMP WITH TIME ZONE"


def test_the_next_run_reads_from_the_cursor_minus_the_lookback_and_sees_new_objects(tmp_path):
    fake = FakeStripe(per_list=5)
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, lookback_seconds=7200)
    newest = T0 + 3600 * 4
    fake.requests.clear()
    fake.add("charges", newest + 60)
    late = fake.objects["payouts"][-1]
    late["status"] = "paid"  # an update inside the lookback window
    load(fake, warehouse, lookback_seconds=7200)
    first_pages = [
        parse_qs(r.url.query.decode()) for r in fake.requests if "starting_after" not in str(r.url)
    ]
    assert {q["created[gte]"][0] for q in first_pages} == {str(newest - 7200)}
    assert rows(warehouse, "select count(*) from raw_stripe.charges") == [(6,)]
    assert rows(warehouse, f"select status from raw_stripe.payouts where id = '{late['id']}'") == [
        ("paid",)
    ]


def test_bad_objects_are_quarantined_and_the_run_goes_on(tmp_path):
    fake = FakeStripe(per_list=4)
    fake.add("refunds", T0 + 99, amount=12.5)
    broken = fake.add("charges", T0 + 98)
    del broken["id"]  # no id: cannot be a cursor either, yet paging goes on
    warehouse = tmp_path / "w.duckdb"
    load(fake, warehouse, page_size=2)
    assert rows(warehouse, "select count(*) from raw_stripe.refunds") == [(4,)]
    assert rows(warehouse, "select count(*) from raw_stripe.charges") == [(4,)]
    reasons = rows(
        warehouse, "select entity, record_id, reason from raw_stripe.quarantine order by 1"
    )
    assert [(e, r) for e, r, _ in reasons] == [("charge", None), ("refund", "re_ref00004")]
    assert "amount" in reasons[1][2]


def test_the_token_bucket_keeps_to_the_published_limit_of_the_keys_mode():
    assert make_client("http://x", "sk_test_abc").bucket.rate_per_s == 25
    assert make_client("http://x", "rk_test_abc").bucket.rate_per_s == 25
    assert make_client("http://x", "sk_live_abc").bucket.rate_per_s == 100
    assert make_client("http://x", "sk_live_abc").bucket.capacity == 100
    assert make_client("http://x", "sk_test_abc", requests_per_second=5).bucket.rate_per_s == 5


def test_a_wrong_key_fails_at_once_and_never_reaches_a_log(tmp_path, caplog):
    fake = FakeStripe(per_list=1)
    secret = "sk_test_wrong_s3cr3t_value_9999"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PipelineStepFailed, match="401") as failure:
        run_source(
            make_pipeline("stripe", tmp_path / "w.duckdb"),
            stripe_source(
                api_key=secret,
                base_url="http://stripe.test",
                client_options={"transport": httpx.MockTransport(fake.handler)},
            ),
            "stripe",
        )
    assert len(fake.requests) == 1  # a 401 is not retried
    assert secret not in str(failure.value) and secret not in caplog.text
    client = make_client("http://x", secret)
    assert secret not in repr(client)
