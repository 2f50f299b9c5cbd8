"""AfterShip trackings are rendered lazily and cached per tracking within a byte budget: pages
are the same bytes as rendering every tracking at once whatever the budget, the cache never
holds more than it, and after the clock moves only new and changed trackings are rendered
again while every tracking served equals a fresh rendering at the new clock."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingestion.sandbox import SandboxState, api_aftership
from ingestion.sandbox.aftership_render import tracking_json
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.render_cache import RenderCache


def api_over(state: SandboxState, cache_bytes: int | None = None) -> api_aftership._AfterShipApi:
    api = api_aftership._AfterShipApi(SandboxContext.create(state, SandboxConfig()))
    if cache_bytes is not None:
        api.rendered = RenderCache(cache_bytes)
    return api


def walk(api: api_aftership._AfterShipApi, page: int = 200) -> list[bytes]:
    """Every tracking, newest first, in pages with the list endpoint's read-ahead."""
    data = api.data()
    frame = data.trackings
    out: list[bytes] = []
    for start in range(0, frame.height, page):
        rows = frame.slice(start, page)
        out += api.json_of(data, rows, lambda s=start: frame.slice(s + page, 600))
    return out


def fresh(api: api_aftership._AfterShipApi) -> list[bytes]:
    data = api.data()
    return tracking_json(data, data.now).to_list()


@pytest.fixture(scope="module")
def world():
    return SandboxState.generate(seed=11, n_orders=1500).world


def test_a_small_budget_serves_the_same_bytes_and_holds_no_more(world):
    state = SandboxState(world)
    roomy, tight = api_over(state), api_over(state, cache_bytes=300_000)
    served = walk(tight)
    assert len(served) > 500
    assert served == walk(roomy) == fresh(roomy)
    assert 0 < tight.rendered.held <= tight.rendered.budget
    assert len(tight.rendered) < len(served) == len(roomy.rendered)


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_after_the_clock_moves_only_changed_trackings_are_rendered_again(world, profile):
    state = SandboxState(world, faults=PROFILES[profile])
    api = api_over(state)
    before = api.data().trackings.select("shipment_id", "_v")
    walk(api)
    rendered = api.rendered.rendered
    state.advance(2)  # scans arrive, parcels ship and are delivered
    after = api.data().trackings.select("shipment_id", "_v")
    changed = after.join(before, on=["shipment_id", "_v"], how="anti").height
    assert 0 < changed < after.height
    served = walk(api)
    assert api.rendered.rendered - rendered == changed
    assert served == fresh(api)
    # A single tracking asked for by id is the same bytes as in the list.
    one = after.filter(pl.col("shipment_id") == after["shipment_id"][0])
    assert api.json_of(api.data(), api.data().trackings.join(one, on=["shipment_id", "_v"])) == [
        served[0]
    ]


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_trackings_brought_forward_with_the_clock_equal_trackings_derived_afresh(world, profile):
    # harsh: late updates hide some shipments from the ledger's view for a while.
    state = SandboxState(world, faults=PROFILES[profile])
    api = api_over(state)
    previous = api.data().trackings
    for days in (0.05, 1, 3):
        state.advance(days)
        moved = api.data()
        afresh = api_over(state).data()
        assert_frame_equal(moved.trackings, afresh.trackings)
        assert_frame_equal(moved.events, afresh.events)
        # Scans arrived in the window: tags moved on, and new trackings appeared.
        tags = moved.trackings.join(previous, on="shipment_id", suffix="_was")
        assert (tags["tag"] != tags["tag_was"]).any()
        assert moved.trackings.height > previous.height
        previous = moved.trackings
