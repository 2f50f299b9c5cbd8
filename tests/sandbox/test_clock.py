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
        # Every late update shows in the order, except the events Shopify's order JSON does
        # not carry (fraud/address holds and their release, disputes).
        view = state.orders_view()
        disputes = state.table_as_of("disputes")
        start, now_ = pl.lit(cursor), pl.lit(state.now)
        unrendered = set(
            view.filter(
                pl.any_horizontal(
                    pl.col(c).is_between(start, now_, closed="right")
                    for c in ("held_at", "released_at", "disputed_at")
                )
            )["order_id"]
        ) | set(disputes.filter(pl.col("closed_at") > start)["order_id"])
        for oid in late:
            old, now = before[oid], after[oid]
            assert now["updated_at"] != old["updated_at"]
            same = {k: v for k, v in now.items() if k != "updated_at"} == {
                k: v for k, v in old.items() if k != "updated_at"
            }
            assert not same or oid in unrendered, oid
        became_fulfilled = [
            i for i in late if before[i]["fulfillments"] == [] and after[i]["fulfillments"]
        ]
        became_refunded = [i for i in late if not before[i]["refunds"] and after[i]["refunds"]]
        became_delivered = [
            i
            for i in late
            if any(f["shipment_status"] == "delivered" for f in after[i]["fulfillments"])
            and not any(f["shipment_status"] == "delivered" for f in before[i]["fulfillments"])
        ]
        assert became_fulfilled and became_refunded and became_delivered
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
    assert (moved["updated_at_later"] > world.end).all()
    # Shipments take stock off the shelves, receipts and transfers put it on.
    assert (joined["on_hand_later"] < joined["on_hand"]).any()
    assert (joined["on_hand_later"] > joined["on_hand"]).any()
    assert (later["on_hand"] >= later["reserved"]).all() and (later["reserved"] >= 0).all()
    # The change is exactly what the ledger says arrived and left in those ten days.
    pos = state.table_as_of("purchase_orders").filter(
        (pl.col("received_at") > world.end) & pl.col("received_at").is_not_null()
    )
    arrived = pos["quantity"].sum()
    szx = joined.filter(pl.col("warehouse_code") == "SZX")
    shipped = (
        state.table_as_of("shipment_lines")
        .join(state.table_as_of("shipments"), on="shipment_id")
        .filter((pl.col("warehouse_code") == "SZX") & (pl.col("shipped_at") > world.end))[
            "quantity"
        ]
        .sum()
    )
    sent = (
        state.table_as_of("transfers")
        .filter((pl.col("from_warehouse") == "SZX") & (pl.col("shipped_at") > world.end))[
            "quantity"
        ]
        .sum()
    )
    assert szx["on_hand_later"].sum() - szx["on_hand"].sum() == arrived - shipped - sent
