"""HTTP faults: 429 with ``Retry-After``, 5xx, slow responses and timeouts, per request.

Why a middleware: connectors must prove they retry, back off and give up the way they would in
production, against every API family alike, without each renderer knowing about faults. The
decision for a request is ``draw(seed, profile, method, path?query, attempt)``: a replayed
sequence of requests meets the same faults, while a retry of the same URL (next ``attempt``)
gets a fresh chance to succeed. ``/_sandbox/*`` admin routes are never faulted.

Bodies of injected 429s and 500s are the API's own (picked by path prefix); 502s carry a
gateway's HTML page, as real proxies send, so connectors must not assume JSON on errors.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingestion.sandbox.faults import FaultProfile, FaultRun, draw
from ingestion.sandbox.http_common import json_response

HttpFaultKind = Literal["rate_limited", "server_error", "slow", "timeout"]
ADMIN_PREFIX = "/_sandbox/"
_SERVER_ERRORS = (500, 502, 503)
# Resources of Stripe's API under /v1/ (PayPal's Reporting API also lives under /v1/).
_STRIPE_RESOURCES = {
    "balance",
    "balance_transactions",
    "charges",
    "customers",
    "disputes",
    "events",
    "payment_intents",
    "payouts",
    "refunds",
}


@dataclass(frozen=True)
class HttpFault:
    """What one request meets: its kind, and the status for ``server_error``."""

    kind: HttpFaultKind
    status: int | None = None


def decide_http_fault(
    profile: FaultProfile, seed: int, method: str, target: str, attempt: int
) -> HttpFault | None:
    """The fault request ``method target`` (path and query) meets on its ``attempt``-th try, or
    None. One draw split into exclusive bands, so each kind's share is exactly its own."""
    if profile.http_share <= 0:
        return None
    u = draw(seed, "http", profile.name, method.upper(), target, attempt)
    for kind, share in (
        ("rate_limited", profile.rate_limit_share),
        ("server_error", profile.server_error_share),
        ("slow", profile.slow_share),
        ("timeout", profile.timeout_share),
    ):
        if u < share:
            status = None
            if kind == "server_error":
                status = _SERVER_ERRORS[int(u / share * len(_SERVER_ERRORS))]
            return HttpFault(kind, status)  # type: ignore[arg-type]
        u -= share
    return None


def api_family(path: str) -> str:
    """Which API a path belongs to, so that injected errors look like that API's."""
    if path.startswith("/admin/api/"):
        return "shopify"
    if path.startswith(("/orders/v0", "/reports/2021-06-30")):
        return "amazon"
    if path.startswith(("/v1/reporting", "/v1/oauth2")):
        return "paypal"
    if path.startswith("/v1/") and path.split("/")[2] in _STRIPE_RESOURCES:
        return "stripe"
    if path.startswith("/wms/"):
        return "wms"
    if "/trackings" in path:
        return "aftership"
    return "generic"


def _retry_after(seconds: float, family: str) -> str:
    # Shopify prints a decimal ("2.0"); RFC 9110 delta-seconds is an integer elsewhere.
    return f"{seconds:.1f}" if family == "shopify" else str(max(1, round(seconds)))


def rate_limited_response(family: str, retry_after_s: float) -> Response:
    """A 429 as ``family`` sends it, always with ``Retry-After``."""
    headers = {"Retry-After": _retry_after(retry_after_s, family)}
    body: Any
    if family == "shopify":
        body = {
            "errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
            "resume uninterrupted service."
        }
    elif family == "amazon":
        # No x-amzn-RateLimit-Limit: this 429 is decided before routing and cannot know the
        # operation's rate; announcing getOrders' 0.0167/s on every path made a client that
        # adopts the header (as SP-API clients should) pace getOrderItems at one a minute.
        body = {
            "errors": [
                {
                    "code": "QuotaExceeded",
                    "message": "You exceeded your quota for the requested resource.",
                    "details": "",
                }
            ]
        }
    elif family == "stripe":
        headers["Stripe-Should-Retry"] = "true"
        body = {
            "error": {
                "type": "rate_limit_error",
                "code": "rate_limit",
                "message": "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
            }
        }
    elif family == "paypal":
        body = {
            "name": "RATE_LIMIT_REACHED",
            "message": "Too many requests. Blocked due to rate limiting.",
            "debug_id": "5b39ad1fe1c2a",
            "information_link": "https://developer.paypal.com/api/rest/reference/rate-limiting/",
        }
    elif family == "aftership":
        body = {
            "meta": {
                "code": 429,
                "type": "TooManyRequests",
                "message": "You have exceeded the API call rate limit. Default limit is 10 "
                "requests per second.",
            },
            "data": {},
        }
    else:
        body = {"error": {"code": "rate_limited", "message": "too many requests; retry later"}}
    return json_response(body, 429, headers)


_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def server_error_response(family: str, status: int, retry_after_s: float) -> Response:
    """A 500 in the API's own error format, a gateway's 502 HTML page, or a 503 with
    ``Retry-After``."""
    if status == 502:
        return Response(_BAD_GATEWAY_HTML, 502, media_type="text/html")
    message = "Internal Server Error" if status == 500 else "Service Unavailable"
    headers = {"Retry-After": _retry_after(retry_after_s, family)} if status == 503 else None
    body: Any
    if family == "shopify":
        body = {"errors": message}
    elif family == "amazon":
        body = {"errors": [{"code": "InternalFailure", "message": message, "details": ""}]}
    elif family == "stripe":
        body = {"error": {"type": "api_error", "message": message}}
    elif family == "paypal":
        body = {"name": "INTERNAL_SERVICE_ERROR", "message": message, "debug_id": "90957fca61718"}
    elif family == "aftership":
        body = {"meta": {"code": status, "type": "InternalError", "message": message}, "data": {}}
    else:
        body = {"error": {"code": "internal_error", "message": message}}
    return json_response(body, status, headers)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class FaultMiddleware:
    """ASGI middleware injecting ``run``'s HTTP faults, and attaching ``run`` to every request's
    scope (``FaultRun.SCOPE_KEY``) so that list handlers can apply data faults.

    A timeout hangs up to ``timeout_seconds`` (less if the client gives up first), then starts a
    response that promises a body and ends without it: the server closes the connection, so the
    client sees a read timeout or a dropped connection, never a usable answer. (ASGI has no way
    to close a connection before the status line; uvicorn logs "ASGI callable returned without
    completing response" for each one.)
    """

    def __init__(self, app: ASGIApp, run: FaultRun) -> None:
        self.app, self.run = app, run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[FaultRun.SCOPE_KEY] = self.run
        profile, path = self.run.profile, scope["path"]
        if profile.http_share <= 0 or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{path}?{query}" if query else path
        method = scope["method"]
        fault = decide_http_fault(
            profile, self.run.seed, method, target, self.run.next_attempt(method, target)
        )
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.run.count(fault.kind)
        family = api_family(path)
        if fault.kind == "rate_limited":
            await rate_limited_response(family, profile.retry_after_seconds)(scope, receive, send)
        elif fault.kind == "server_error":
            assert fault.status is not None
            response = server_error_response(family, fault.status, profile.retry_after_seconds)
            await response(scope, receive, send)
        elif fault.kind == "slow":
            await asyncio.sleep(profile.slow_seconds)
            await self.app(scope, receive, send)
        else:
            await self._hang_up(receive, send, profile.timeout_seconds)

    @staticmethod
    async def _hang_up(receive: Receive, send: Send, seconds: float) -> None:
        try:
            await asyncio.wait_for(_until_disconnect(receive), timeout=seconds)
            return  # the client gave up first: nothing left to answer
        except TimeoutError:
            pass
        start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
        await send(start)


def faults_endpoint(run: FaultRun) -> Any:
    """``GET /_sandbox/faults``: the profile and how many faults of each kind were injected."""

    def endpoint(request: Request) -> Response:
        return Response(orjson.dumps(run.report()), media_type="application/json")

    return endpoint
