"""Shared fixtures for the sandbox tests: one default world, one permissive server over it,
the real-world fixture folder, and an HTTP helper that follows Shopify's ``Link`` pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ingestion.sandbox import SandboxConfig, SandboxState, World, generate_world, running_sandbox

# ``shared/`` sits beside the repository: <repo>/../shared/fixtures.
FIXTURES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
SHOPIFY_TOKEN = "shpat_sandbox"
WMS_TOKEN = "wms_sandbox"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES_DIR.is_dir():
        pytest.skip(f"real-world fixtures not found at {FIXTURES_DIR} (shared/ beside the repo)")
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def world() -> World:
    """The default world (seed 42, 2000 orders): what demos and connectors see."""
    return generate_world()


@pytest.fixture(scope="session")
def sandbox_server(world: World) -> Iterator[tuple[str, SandboxState]]:
    """A server over the default world with a bucket large enough never to throttle; tests
    that need throttling or a moving clock start their own."""
    state = SandboxState(world)
    with running_sandbox(state=state, config=SandboxConfig(bucket_size=100_000)) as url:
        yield url, state


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _next_link(response: httpx.Response) -> str | None:
    for part in response.headers.get("link", "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


@pytest.fixture(scope="session")
def walk_orders(http: httpx.Client) -> Callable[..., list[dict[str, Any]]]:
    """``walk_orders(base_url, **params)``: every order of a query, following rel=next."""

    def walk(base_url: str, **params: Any) -> list[dict[str, Any]]:
        headers = {"X-Shopify-Access-Token": SHOPIFY_TOKEN}
        response = http.get(
            f"{base_url}/admin/api/2026-07/orders.json", params=params, headers=headers
        )
        orders: list[dict[str, Any]] = []
        while True:
            assert response.status_code == 200, response.text
            orders.extend(orjson.loads(response.content)["orders"])
            link = _next_link(response)
            if link is None:
                return orders
            response = http.get(link, headers=headers)

    return walk
