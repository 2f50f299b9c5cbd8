"""Shopify serves an order's refunds and fulfillments twice: embedded in the order (the
``orders.json`` page) and on their own per-order endpoints (``/orders/{id}/refunds.json``,
``/orders/{id}/fulfillments.json``), and each refund's transactions a second time on
``/orders/{id}/transactions.json``. On Shopify these are the same objects; this module lists
every field where the sandbox's copies differ, so a test can require there are none.

Run it as a script to see the differences of a world:
``python -m tests.sandbox.shopify_copies --seed 7 --orders 600 [--faults harsh]``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from ingestion.sandbox.faults import PROFILES, FaultProfile
from ingestion.sandbox.server import SandboxConfig, create_app
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import generate_world

PREFIX = "/admin/api/2026-07"
TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}
_MISSING = "<missing>"


@dataclass(frozen=True)
class Difference:
    """One field where the embedded copy and the endpoint's copy of a record disagree."""

    entity: str  # refunds, fulfillments, refund transactions
    order_id: int
    record_id: Any
    path: str  # dotted, list positions as numbers
    embedded: Any
    endpoint: Any


def diff(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, a's value, b's value) of every leaf where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            yield from diff(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}.{key}".lstrip("."))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from diff(x, y, f"{path}.{i}".lstrip("."))
    elif a != b or type(a) is not type(b):
        yield path, a, b


def _get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(PREFIX + path, params=params, headers=TOKEN)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def _orders(client: TestClient) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    response = client.get(
        PREFIX + "/orders.json",
        params={"status": "any", "limit": 250, "updated_at_min": "2000-01-01T00:00:00Z"},
        headers=TOKEN,
    )
    while True:
        assert response.status_code == 200, response.text
        out += response.json()["orders"]
        nxt = next(
            (
                part.split(";")[0].strip().strip("<>")
                for part in response.headers.get("link", "").split(",")
                if 'rel="next"' in part
            ),
            None,
        )
        if nxt is None:
            return out
        response = client.get(nxt, headers=TOKEN)


def copy_differences(state: SandboxState) -> list[Difference]:
    """Every difference between the embedded and the per-order copies of every Shopify order
    visible at the state's clock, served without data faults."""
    config = SandboxConfig(bucket_size=1_000_000, leak_rate_per_s=1_000_000.0)
    out: list[Difference] = []
    with TestClient(create_app(state, config)) as client:
        for order in _orders(client):
            oid = order["id"]
            pairs = {
                "refunds": (order["refunds"], _get(client, f"/orders/{oid}/refunds.json")),
                "fulfillments": (
                    order["fulfillments"],
                    _get(client, f"/orders/{oid}/fulfillments.json", limit=250),
                ),
            }
            transactions = _get(client, f"/orders/{oid}/transactions.json")["transactions"]
            by_id = {t["id"]: t for t in transactions}
            for entity, (embedded, served) in pairs.items():
                served = served[entity]
                served_by_id = {r["id"]: r for r in served}
                if [r["id"] for r in embedded] != [r["id"] for r in served]:
                    out.append(
                        Difference(
                            entity,
                            oid,
                            None,
                            "ids",
                            [r["id"] for r in embedded],
                            [r["id"] for r in served],
                        )
                    )
                for record in embedded:
                    twin = served_by_id.get(record["id"])
                    if twin is None:
                        continue
                    for path, a, b in diff(record, twin):
                        out.append(Difference(entity, oid, record["id"], path, a, b))
            for refund in order["refunds"]:
                for t in refund.get("transactions", []):
                    twin = by_id.get(t["id"], {"id": _MISSING})
                    for path, a, b in diff(t, twin):
                        out.append(Difference("refund transactions", oid, t["id"], path, a, b))
    return out


def summary(differences: list[Difference]) -> list[str]:
    """One line per (entity, field path with list positions folded): how many records differ
    there, and one example."""
    counts: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], Difference] = {}
    for d in differences:
        folded = ".".join("N" if p.isdigit() else p for p in d.path.split("."))
        key = (d.entity, folded)
        counts[key] += 1
        example.setdefault(key, d)
    return [
        f"{entity:20} {path:55} {n:5}  e.g. order {example[(entity, path)].order_id} "
        f"{example[(entity, path)].record_id}: {example[(entity, path)].embedded!r} "
        f"(embedded) vs {example[(entity, path)].endpoint!r} (endpoint)"
        for (entity, path), n in sorted(counts.items())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--faults", default="none", choices=sorted(PROFILES))
    args = parser.parse_args()
    profile: FaultProfile = PROFILES[args.faults]
    state = SandboxState(generate_world(args.seed, args.orders), faults=profile)
    lines = summary(copy_differences(state))
    print("\n".join(lines) if lines else "the copies agree")


if __name__ == "__main__":
    main()
