"""AfterShip paging and the tracking source end to end (over ``httpx.MockTransport``): offset
pages walk a pinned window, cursor pages are followed, reloads merge without duplicates, a
tracking's checkpoints are replaced as a set, and bare 429s cost a wait, not a record."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.tracking import tracking_source
from ingestion.tracking.client import iter_tracking_pages, make_client
from tests.fixtures_path import fixtures_dir

NOW = datetime(2018, 8, 20, tzinfo=UTC)
FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"


def example_trackings() -> list[dict[str, Any]]:
    folder = fixtures_dir("api", "aftership")
    single = json.loads((folder / "GetTrackingResult.json").read_text())["data"]["tracking"]
    page = json.loads((folder / "GetTrackingsResult.json").read_text())["data"]["trackings"]
    return [single, *page]


class FakeAfterShip:
    """GET /trackings as AfterShip serves it: newest created first, ``updated_at_min`` and a
    created window defaulting to the last 120 days, either offset pages (2024-04) or a cursor
    (2024-07 onwards); ``X-RateLimit-Limit`` on every answer, and 429s without Retry-After on
    request."""

    def __init__(self, style: str = "page", copies: int = 3) -> None:
        self.style = style
        self.trackings: list[dict[str, Any]] = []
        for n in range(copies):
            for i, template in enumerate(example_trackings()):
                t = copy.deepcopy(template)
                t["id"] = f"{n:02d}{i:02d}" + template["id"][4:]
                created = NOW - timedelta(days=10 + n, hours=i)
                t["created_at"] = created.strftime(FORMAT)
                t["updated_at"] = (created + timedelta(hours=1)).strftime(FORMAT)
                self.trackings.append(t)
        self.requests: list[httpx.Request] = []
        self.refuse_next = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["as-api-key"] == "asat_sandbox"
        headers = {"X-RateLimit-Limit": "10"}
        if self.refuse_next:
            self.refuse_next -= 1
            body = {"meta": {"code": 429, "type": "TooManyRequests"}, "data": {}}
            return httpx.Response(429, json=body, headers=headers)
        params = request.url.params
        assert "updated_at_max" not in params
        created_min = params.get("created_at_min", (NOW - timedelta(days=120)).strftime(FORMAT))
        created_max = params.get("created_at_max", NOW.strftime(FORMAT))
        matching = sorted(
            (
                t
                for t in self.trackings
                if created_min <= t["created_at"] <= created_max
                and t["updated_at"] >= params["updated_at_min"]
            ),
            key=lambda t: t["created_at"],
            reverse=True,
        )
        limit = int(params["limit"])
        if self.style == "cursor":
            start = int(base64.b64decode(params["cursor"])) if "cursor" in params else 0
            end = start + limit
            data: dict[str, Any] = {
                "pagination": {
                    "total": len(matching),
                    "next_cursor": base64.b64encode(str(end).encode()).decode(),
                    "has_next_page": end < len(matching),
                },
                "trackings": matching[start:end],
            }
        else:
            page = int(params.get("page", 1))
            if page > 1:  # the window is pinned from the first page's echo
                assert "created_at_min" in params and "created_at_max" in params
            data = {
                "page": page,
                "limit": limit,
                "count": len(matching),
                "created_at_min": created_min,
                "created_at_max": created_max,
                "trackings": matching[(page - 1) * limit : page * limit],
            }
        return httpx.Response(200, json={"meta": {"code": 200}, "data": data}, headers=headers)


def client_for(api: FakeAfterShip):
    return make_client(
        "http://aftership.test/tracking/2024-04",
        "asat_sandbox",
        transport=httpx.MockTransport(api),
        sleep=lambda s: None,
    )


@pytest.mark.parametrize("style", ["page", "cursor"])
def test_a_walk_returns_every_tracking_once_in_either_pagination_style(style):
    api = FakeAfterShip(style)
    pages = list(iter_tracking_pages(client_for(api), "2000-01-01T00:00:00+00:00", 5))
    ids = [t["id"] for page, _ in pages for t in page.raw_trackings()]
    assert sorted(ids) == sorted(t["id"] for t in api.trackings) and len(pages) == 3
    walk_start = {start for _, start in pages}
    assert walk_start == ({NOW.strftime(FORMAT)} if style == "page" else {None})
    assert all(r.url.path == "/tracking/2024-04/trackings" for r in api.requests)


def test_bare_429s_are_waited_out_and_the_announced_rate_adopted():
    api = FakeAfterShip()
    api.refuse_next = 2
    client = client_for(api)
    pages = list(iter_tracking_pages(client, "2000-01-01T00:00:00+00:00", 200))
    assert sum(len(page.trackings) for page, _ in pages) == len(api.trackings)
    assert client.stats.rate_limited == 2 and client.bucket.rate_per_s == 10.0


def load(api: FakeAfterShip, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    source = tracking_source(
        endpoint="http://aftership.test/tracking/2024-04",
        stats=stats,
        page_size=4,
        client_options={"transport": httpx.MockTransport(api), "sleep": lambda s: None},
        **options,
    )
    run_source(make_pipeline("tracking", warehouse), source, "tracking", stats)
    return stats


def rows(warehouse: Path, sql: str, *args: Any) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


def test_reloads_merge_and_a_tracking_s_checkpoints_are_replaced_as_a_set(tmp_path):
    api = FakeAfterShip()
    warehouse = tmp_path / "w.duckdb"
    load(api, warehouse)
    # A re-load writes the same rows under a new load id (`_dlt_load_id`).
    trackings_sql = "select * exclude (_dlt_load_id) from raw_tracking.trackings order by 1"
    checkpoints_sql = "select * exclude (_dlt_load_id) from raw_tracking.checkpoints order by 1, 2"
    first, first_checkpoints = rows(warehouse, trackings_sql), rows(warehouse, checkpoints_sql)
    assert len(first) == 12 and len(first_checkpoints) == 3 * 25
    # Carrier wall-clock times stay wall-clock times: no time zone, nothing shifted.
    types = rows(
        warehouse,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw_tracking' and column_name like '%local%' order by 1",
    )
    assert types == [
        ("checkpoint_local_time", "TIMESTAMP"),
        ("shipment_delivery_local", "TIMESTAMP"),
        ("shipment_pickup_local", "TIMESTAMP"),
    ]
    assert (
        datetime(2018, 7, 23, 8, 58, tzinfo=UTC),
        480,
        datetime(2018, 7, 23, 16, 58),
    ) in rows(
        warehouse,
        "select checkpoint_time, checkpoint_utc_offset_minutes, checkpoint_local_time "
        "from raw_tracking.checkpoints",
    )
    load(api, warehouse, lookback_seconds=400 * 86400)  # re-reads everything
    assert rows(warehouse, trackings_sql) == first
    assert rows(warehouse, checkpoints_sql) == first_checkpoints

    # The carrier corrects its history: two scans withdrawn, one added, updated_at moves on.
    # Positions shift and the list shrinks: keyed on (tracking_id, seq) alone, the old last
    # row would linger.
    target = api.trackings[0]
    target["checkpoints"] = target["checkpoints"][2:] + [
        {**target["checkpoints"][-1], "message": "Returned to shipper", "tag": "Exception"}
    ]
    target["tag"] = "Exception"
    target["updated_at"] = (NOW - timedelta(hours=1)).strftime(FORMAT)
    load(api, warehouse)
    kept = rows(
        warehouse,
        "select seq, message from raw_tracking.checkpoints where tracking_id = ? order by seq",
        target["id"],
    )
    assert kept == [(i, cp["message"]) for i, cp in enumerate(target["checkpoints"])]
    assert rows(
        warehouse, "select tag from raw_tracking.trackings where tracking_id = ?", target["id"]
    ) == [("Exception",)]
    assert rows(warehouse, "select count(*) from raw_tracking.trackings") == [(12,)]


def test_the_second_run_asks_only_for_what_changed_since_the_cursor(tmp_path):
    api = FakeAfterShip()
    warehouse = tmp_path / "w.duckdb"
    load(api, warehouse)
    newest = max(t["updated_at"] for t in api.trackings)
    api.requests.clear()
    load(api, warehouse, lookback_seconds=60)
    [request] = api.requests
    since = datetime.fromisoformat(request.url.params["updated_at_min"])
    assert since == datetime.fromisoformat(newest) - timedelta(seconds=60)
