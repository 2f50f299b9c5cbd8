"""The vectorized Shopify order renderer serves exactly what the per-order renderer did."""

from __future__ import annotations

import orjson
import polars as pl
import pytest

from ingestion.sandbox import SandboxState
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.shopify import OrderRenderer
from tests.sandbox.shopify_reference import render_orders


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_every_order_parses_to_the_reference_rendering(profile: str) -> None:
    # harsh: late updates show some orders' tables as of an earlier instant.
    state = SandboxState.generate(seed=7, n_orders=1500, faults=PROFILES[profile])
    renderer = OrderRenderer(state)
    for _ in range(2):
        view = state.orders_view().filter(pl.col("channel_id") == "shopify")
        fast = [orjson.loads(record) for record in renderer.render(view).to_list()]
        reference = orjson.loads(orjson.dumps(render_orders(state, view)))
        assert len(fast) == len(reference) == view.height
        assert any(o["refunds"] for o in fast) and any(o["fulfillments"] for o in fast)
        for got, want in zip(fast, reference, strict=True):
            assert got == want, got["id"]
        state.advance(4)  # refunds, deliveries and new orders appear
