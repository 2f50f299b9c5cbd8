"""Shopify's leaky bucket: per-token accounting, 429 with Retry-After, recovery after waiting."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ingestion.sandbox import SandboxConfig, SandboxState, World, running_sandbox
from ingestion.sandbox.rate_limit import LeakyBucket


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_bucket_refuses_when_full_and_recovers_after_retry_after() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(size=2, leak_rate_per_s=0.5, clock=clock)
    assert bucket.acquire("a").header == "1/2"
    assert bucket.acquire("a").header == "2/2"
    refused = bucket.acquire("a")
    assert not refused.allowed and refused.retry_after == 2.0 and refused.header == "2/2"
    assert bucket.acquire("b").allowed  # buckets are per token
    clock.t += 1.9
    assert not bucket.acquire("a").allowed
    clock.t += refused.retry_after
    assert bucket.acquire("a").allowed


def test_bucket_drains_at_the_leak_rate() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(size=40, leak_rate_per_s=2.0, clock=clock)
    for _ in range(40):
        assert bucket.acquire("t").allowed
    clock.t += 5  # 10 requests drained
    for _ in range(10):
        assert bucket.acquire("t").allowed
    assert not bucket.acquire("t").allowed


def test_bucket_is_thread_safe() -> None:
    bucket = LeakyBucket(size=25, leak_rate_per_s=1e-9, clock=FakeClock())
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            ok = bucket.acquire("t").allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 25


def test_burst_over_http_gets_429_then_succeeds_after_retry_after(world: World) -> None:
    config = SandboxConfig(bucket_size=2, leak_rate_per_s=1.0)
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    with (
        running_sandbox(state=SandboxState(world), config=config) as url,
        httpx.Client(base_url=url, headers=headers) as client,
    ):
        path = "/admin/api/2026-07/orders/count.json"
        responses = [client.get(path) for _ in range(3)]
        assert [r.status_code for r in responses[:2]] == [200, 200]
        throttled = responses[2]
        assert throttled.status_code == 429
        assert throttled.headers["X-Shopify-Shop-Api-Call-Limit"] == "2/2"
        assert throttled.json() == {
            "errors": "Exceeded 2 calls per second for api client. "
            "Reduce request rates to resume uninterrupted "
            "service."
        }
        wait = float(throttled.headers["Retry-After"])
        assert 0 < wait <= 1.0
        time.sleep(wait)
        again = client.get(path)
        assert again.status_code == 200
        assert again.headers["X-Shopify-Shop-Api-Call-Limit"] == "2/2"


def test_plus_plan_allows_ten_times_the_standard_burst(world: World) -> None:
    """``tradelane sandbox serve --shopify-plan plus``: a 400-request bucket at 20/s."""
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    path = "/admin/api/2026-07/orders/count.json"
    for plan, size in (("standard", 40), ("plus", 400)):
        clock = FakeClock()  # frozen: nothing leaks while the burst is sent
        config = SandboxConfig.for_shopify_plan(plan, rate_limit_clock=clock)
        with (
            running_sandbox(state=SandboxState(world), config=config) as url,
            httpx.Client(base_url=url, headers=headers) as client,
        ):
            statuses = [client.get(path).status_code for _ in range(size + 1)]
            assert statuses[:size] == [200] * size and statuses[size] == 429, plan
            assert client.get(path).headers["X-Shopify-Shop-Api-Call-Limit"] == f"{size}/{size}"
            clock.t += 1.0
            assert client.get(path).status_code == 200, plan


def test_an_unknown_shopify_plan_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="standard, plus"):
        SandboxConfig.for_shopify_plan("enterprise")
