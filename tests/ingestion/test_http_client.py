"""The HTTP policy every connector relies on: wait on 429, retry transient failures, never
retry what retrying cannot fix, never leak credentials into errors."""

import httpx
import pytest

from ingestion.common.http import ApiClient, ApiError
from ingestion.common.rate_limit import TokenBucket


def make_client(handler, sleeps, **kwargs):
    return ApiClient(
        api="test",
        base_url="http://api.test",
        headers={"Authorization": "Bearer s3cret-token"},
        bucket=TokenBucket(rate_per_s=1000, capacity=1000),
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kwargs,
    )


def test_429_waits_for_retry_after_then_succeeds():
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2.0"}),
            httpx.Response(429, headers={"Retry-After": "1.5"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    sleeps: list[float] = []
    client = make_client(lambda request: next(responses), sleeps)
    assert client.get("/x").json() == {"ok": True}
    assert 2.0 in sleeps and 1.5 in sleeps
    assert client.stats.rate_limited == 2


def test_5xx_and_timeouts_are_retried_with_backoff():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        if len(calls) == 2:
            return httpx.Response(503)
        return httpx.Response(200, json=[])

    sleeps: list[float] = []
    client = make_client(handler, sleeps)
    assert client.get("/x").json() == []
    assert len(calls) == 3 and client.stats.retried == 2


def test_4xx_is_not_retried_and_the_error_hides_credentials():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(401, json={"errors": "Invalid API key"})

    client = make_client(handler, [])
    with pytest.raises(ApiError) as excinfo:
        client.get("/x", params={"limit": 5})
    assert len(calls) == 1
    assert excinfo.value.status == 401
    assert "s3cret-token" not in str(excinfo.value)


def test_persistent_5xx_gives_up_with_a_clear_error():
    client = make_client(lambda request: httpx.Response(500), [], max_attempts=3)
    with pytest.raises(ApiError, match="gave up after retries"):
        client.get("/x")


def test_token_bucket_spaces_requests_at_the_published_rate():
    now = [0.0]
    waits: list[float] = []

    def sleep(s):
        waits.append(s)
        now[0] += s

    bucket = TokenBucket(rate_per_s=2, capacity=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        bucket.acquire()
    # Two burst tokens, then four more at 2 per second: two seconds of waiting in all.
    assert sum(waits) == pytest.approx(2.0)


def test_post_waits_on_429_and_retries_5xx_resending_the_same_form():
    bodies: list[bytes] = []
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3.0"}),
            httpx.Response(502),
            httpx.Response(200, json={"access_token": "t"}),
        ]
    )

    def handler(request):
        assert request.method == "POST"
        bodies.append(request.content)
        return next(responses)

    sleeps: list[float] = []
    client = make_client(handler, sleeps)
    response = client.post("/token", data={"grant_type": "client_credentials"})
    assert response.json() == {"access_token": "t"}
    assert bodies == [b"grant_type=client_credentials"] * 3
    assert 3.0 in sleeps
    assert client.stats.rate_limited == 1 and client.stats.retried == 1


def test_post_4xx_fails_at_once_without_the_basic_credentials_in_the_error():
    calls = []

    def handler(request):
        calls.append(request.headers["authorization"])
        return httpx.Response(401, json={"error": "invalid_client"})

    client = make_client(handler, [], describe_error=lambda r: r.json()["error"])
    with pytest.raises(ApiError) as caught:
        client.post("/token", data={"grant_type": "client_credentials"}, auth=("id", "hunter2"))
    assert len(calls) == 1 and calls[0].startswith("Basic ")
    assert caught.value.status == 401
    assert "POST" in str(caught.value) and "invalid_client" in str(caught.value)
    assert "hunter2" not in str(caught.value) and calls[0] not in str(caught.value)
