"""What every sandbox API handler needs: the world and its clock, the configuration, and the
rate limiters that several API families share (Shopify's leaky bucket counts every Admin API
call of a token, orders and payouts alike)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from ingestion.sandbox.faults import PROFILES, FaultProfile
from ingestion.sandbox.http_common import json_response
from ingestion.sandbox.rate_limit import LeakyBucket
from ingestion.sandbox.shopify import API_VERSION, ShopContext
from ingestion.sandbox.shopify_serving import ShopOrders
from ingestion.sandbox.state import SandboxState

_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted "
    "service."
)


@dataclass(frozen=True)
class ShopifyPlan:
    """A Shopify plan's REST Admin limit: a leaky bucket of ``bucket_size`` requests draining
    at ``leak_rate_per_s``. Shopify Plus stores get ten times the standard limit."""

    bucket_size: int
    leak_rate_per_s: float


SHOPIFY_PLANS = {"standard": ShopifyPlan(40, 2.0), "plus": ShopifyPlan(400, 20.0)}


def shopify_plan(name: str) -> ShopifyPlan:
    """The plan called ``name``, or a ValueError listing the plans there are."""
    try:
        return SHOPIFY_PLANS[name]
    except KeyError:
        raise ValueError(
            f"unknown Shopify plan {name!r}; choose one of {', '.join(SHOPIFY_PLANS)}"
        ) from None


@dataclass(frozen=True)
class SandboxConfig:
    """Credentials and limits of the sandbox's APIs (defaults match the connectors' sandbox
    settings). ``rate_limit_clock`` is injectable for tests."""

    shopify_access_token: str = "shpat_sandbox"
    wms_token: str = "wms_sandbox"
    bucket_size: int = 40
    leak_rate_per_s: float = 2.0
    shop_domain: str = "tradelane-sandbox.myshopify.com"
    rate_limit_clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    faults: FaultProfile = field(default_factory=lambda: PROFILES["none"])

    @classmethod
    def for_shopify_plan(cls, plan: str, **options: object) -> SandboxConfig:
        """A configuration whose Shopify bucket is that of ``plan`` (``standard``, ``plus``)."""
        limits = shopify_plan(plan)
        return cls(
            bucket_size=limits.bucket_size, leak_rate_per_s=limits.leak_rate_per_s, **options
        )


class ShopifyGate:
    """Token check and leaky bucket for every Shopify Admin endpoint of one sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.bucket = LeakyBucket(
            config.bucket_size, config.leak_rate_per_s, clock=config.rate_limit_clock
        )

    def check(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        """``(refusal, headers)``: a 401/429 response to return as is, or None and the headers
        (call limit, API version) every successful Shopify response carries."""
        token = request.headers.get("x-shopify-access-token")
        if token != self.config.shopify_access_token:
            return json_response({"errors": _INVALID_TOKEN}, 401), {}
        decision = self.bucket.acquire(token)
        headers = {
            "X-Shopify-Shop-Api-Call-Limit": decision.header,
            "X-Shopify-API-Version": API_VERSION,
        }
        if not decision.allowed:
            headers["Retry-After"] = f"{decision.retry_after:.1f}"
            return json_response({"errors": _THROTTLED}, 429, headers), headers
        return None, headers


@dataclass
class SandboxContext:
    state: SandboxState
    config: SandboxConfig
    shopify_gate: ShopifyGate
    # The store's rendered orders, shared by orders.json and the per-order endpoints.
    shopify_orders: ShopOrders

    @classmethod
    def create(cls, state: SandboxState, config: SandboxConfig) -> SandboxContext:
        return cls(
            state=state,
            config=config,
            shopify_gate=ShopifyGate(config),
            shopify_orders=ShopOrders(state, ShopContext(domain=config.shop_domain)),
        )
