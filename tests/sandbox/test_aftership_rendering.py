"""The vectorized AfterShip renderer serves exactly what the per-tracking renderer did."""

from __future__ import annotations

import orjson
import pytest

from ingestion.sandbox import SandboxState, api_aftership
from ingestion.sandbox.aftership_render import tracking_json
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.faults import PROFILES
from tests.sandbox.aftership_reference import render_page


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_every_tracking_parses_to_the_reference_rendering(profile: str) -> None:
    state = SandboxState.generate(seed=7, n_orders=1500, faults=PROFILES[profile])
    api = api_aftership._AfterShipApi(SandboxContext.create(state, SandboxConfig()))
    for _ in range(2):
        data = api.data()
        fast = [orjson.loads(record) for record in tracking_json(data, state.now).to_list()]
        reference = orjson.loads(orjson.dumps(render_page(data, data.trackings, state.now)))
        assert len(fast) == len(reference) == data.trackings.height
        assert {t["tag"] for t in fast} >= {"Delivered", "InTransit"}
        assert any(t["next_couriers"] for t in fast) and any(t["checkpoints"] for t in fast)
        for got, want in zip(fast, reference, strict=True):
            assert got == want, got["tracking_number"]
        state.advance(4)  # scans arrive, parcels are delivered
