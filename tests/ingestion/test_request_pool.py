"""Per-record requests overlapped on threads: results keep the input order, no more than the
pool's size run at once, a failure stops the run, and a shared token bucket still paces every
request and counts each one once."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ingestion.common.concurrency import RequestPool
from ingestion.common.http import ApiClient, ApiError
from ingestion.common.rate_limit import TokenBucket


def test_results_come_back_in_input_order_when_later_calls_finish_first():
    first_may_finish = threading.Event()

    def call(i: int) -> int:
        if i == 0:
            assert first_may_finish.wait(5), "the second call never ran beside the first"
        else:
            first_may_finish.set()
        return i * 10

    with RequestPool(4) as pool:
        assert pool.map(call, range(6)) == [0, 10, 20, 30, 40, 50]


def test_no_more_calls_run_at_once_than_the_pool_holds():
    lock = threading.Lock()
    running, peak = 0, 0

    def call(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return i

    with RequestPool(3) as pool:
        assert pool.map(call, range(30)) == list(range(30))
    assert 1 < peak <= 3


def test_a_failing_call_raises_and_the_calls_not_started_are_cancelled():
    started = []

    def call(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ApiError("test", "GET", "/x", 403, "forbidden")
        time.sleep(0.01)
        return i

    with RequestPool(2) as pool, pytest.raises(ApiError, match="403"):
        pool.map(call, range(200))
    assert len(started) < 200


def test_one_worker_runs_the_calls_inline_one_by_one():
    with RequestPool(1) as pool:
        assert (
            pool.map(lambda _: threading.current_thread(), range(3))
            == [threading.main_thread()] * 3
        )
    with pytest.raises(ValueError):
        RequestPool(0)


def test_threads_sharing_one_client_keep_to_its_bucket_and_count_every_request():
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        return httpx.Response(200, json={"path": request.url.path})

    rate = 100.0
    client = ApiClient(
        api="test",
        base_url="http://api.test",
        headers={},
        bucket=TokenBucket(rate_per_s=rate, capacity=1),
        transport=httpx.MockTransport(handler),
    )
    with RequestPool(8) as pool:
        bodies = pool.map(lambda i: client.get(f"/r/{i}").json(), range(40))
    assert bodies == [{"path": f"/r/{i}"} for i in range(40)]
    assert client.stats.requests == 40 and len(sent) == 40
    # One token up front, then one per 1/rate seconds: eight threads cannot go faster than one.
    assert max(sent) - min(sent) >= 0.9 * 39 / rate
