"""The clock: advancing reveals new orders and late updates that incremental cursors catch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import polars as pl
import pytest

from ingestion.sandbox import SandboxState, World, running_sandbox

AUTH = {"X-Shopify-Access-Token": "shpat_sandbox"}


def test_advance_moves_now_forward_only(world: World) -> None:
    state = SandboxState(world)
    assert state.now == world.end
    state.advance(1.5)
    assert (state.now - world.end).total_seconds() == 1.5 * 86_400
    with pytest.raises(ValueError):
        state.advance(-1)


def test_advancing_reveals_new_orders_and_late_updates_seen_by_updated_at_min(
    world: World,
    walk_orders: Callable[..., list[dict[str, Any]]],
    http: httpx.Client,
) -> None:
    state = SandboxState(world)
    with running_sandbox(state=state) as url:
        before = {o["id"]: o for o in walk_orders(url, status="any", limit=250)}
        clock = http.get(f"{url}/_sandbox/clock").json()["now"]
        cursor = datetime.fromisoformat(clock)
        assert cursor == world.end

        advanced = http.post(f"{url}/_sandbox/clock/advance", params={"days": 7})
        assert advanced.status_code == 200
        assert datetime.fromisoformat(advanced.json()["now"]) > cursor
        assert http.post(f"{url}/_sandbox/clock/advance", params={"days": "-1"}).status_code == 400

        after = {o["id"]: o for o in walk_orders(url, status="any", limit=250)}
        new = set(after) - set(before)
        assert new and set(before) <= set(after)

        # Incremental read: everything updated since the previous clock.
        changed = {
            o["id"]: o
            for o in walk_orders(
                url, status="any", limit=250, order="updated_at asc", updated_at_min=clock
            )
        }
        late = set(changed) - new
        assert new <= set(changed)
        assert late, "old orders must receive late updates (fulfilments, refunds)"
        for oid in late:
            old, now = before[oid], after[oid]
            assert now["updated_at"] != old["updated_at"]
            assert (now["fulfillment_status"], now["financial_status"]) != (
                old["fulfillment_status"],
                old["financial_status"],
            )
        became_fulfilled = [
            i for i in late if before[i]["fulfillments"] == [] and after[i]["fulfillments"]
        ]
        became_refunded = [i for i in late if not before[i]["refunds"] and after[i]["refunds"]]
        assert became_fulfilled and became_refunded
        # Orders not in the incremental read did not change at all.
        untouched = set(before) - set(changed)
        assert all(before[i] == after[i] for i in list(untouched)[:300])


def test_inventory_levels_change_with_the_clock(world: World) -> None:
    state = SandboxState(world)
    at_end = state.inventory_view()
    state.advance(10)
    later = state.inventory_view()
    joined = at_end.join(later, on=["warehouse_code", "sku"], suffix="_later")
    moved = joined.filter(pl.col("updated_at_later") > pl.col("updated_at"))
    assert moved.height > 0
    assert (joined["on_hand_later"] <= joined["on_hand"]).all()  # shipments only, no restock
    assert (moved["updated_at_later"] > world.end).all()
