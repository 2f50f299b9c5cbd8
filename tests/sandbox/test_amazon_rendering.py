"""The vectorized SP-API order renderer serves exactly what the per-order renderer did."""

from __future__ import annotations

import orjson
import pytest

from ingestion.sandbox import SandboxState, api_amazon
from ingestion.sandbox.amazon_render import orders_json
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.faults import PROFILES
from tests.sandbox.amazon_reference import render_orders


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_every_order_parses_to_the_reference_rendering(profile: str) -> None:
    state = SandboxState.generate(seed=7, n_orders=1500, faults=PROFILES[profile])
    api = api_amazon._AmazonApi(SandboxContext.create(state, SandboxConfig()))
    for _ in range(2):
        snap = api.snapshot()
        fast = [orjson.loads(record) for record in orders_json(snap.orders, snap.lookups)]
        reference = orjson.loads(orjson.dumps(render_orders(snap.orders, snap.lookups)))
        assert len(fast) == len(reference) == snap.orders.height
        assert {"Shipped", "Unshipped", "Canceled"} <= {o["OrderStatus"] for o in fast}
        assert any("DefaultShipFromLocationAddress" in o for o in fast)
        for got, want in zip(fast, reference, strict=True):
            assert list(got) == list(want), got["AmazonOrderId"]  # absent keys stay absent
            assert got == want, got["AmazonOrderId"]
        state.advance(4)
