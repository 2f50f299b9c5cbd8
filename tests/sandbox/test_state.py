"""``SandboxState.table_as_of``: what each table shows at the clock, and late updates."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from ingestion.sandbox import SandboxState, World
from ingestion.sandbox.faults import PROFILES, FaultProfile
from ingestion.sandbox.world import TABLES


def test_every_ledger_table_is_served_and_nothing_from_the_future(world: World) -> None:
    state = SandboxState(world)
    state.advance(3)
    now = state.now
    for name in TABLES:
        frame = state.table_as_of(name)
        assert set(TABLES[name]) <= set(frame.columns), name
        for column, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime) and column not in ("expected_at", "evidence_due_by"):
                assert (frame[column].drop_nulls() <= now).all(), (name, column)
    with pytest.raises(KeyError):
        state.table_as_of("nope")


def test_views_are_cached_per_clock_position(world: World) -> None:
    state = SandboxState(world)
    assert state.table_as_of("orders") is state.table_as_of("orders")
    first = state.table_as_of("orders")
    built = []
    assert state.cached("k", lambda: built.append(1) or 1) == 1
    state.cached("k", lambda: built.append(2) or 2)
    assert built == [1]
    state.advance(1)
    assert state.table_as_of("orders") is not first
    assert state.cached("k", lambda: 3) == 3


def test_statuses_are_recomputed_as_of_now(world: World) -> None:
    state = SandboxState(world)
    early = state.table_as_of("payouts")
    assert set(early["status"]) <= {"paid", "in_transit"}
    in_transit = early.filter(pl.col("status") == "in_transit")["payout_id"]
    pays = state.table_as_of("payments")
    unpaid_out = pays["payout_id"].null_count()
    state.advance(20)
    later = state.table_as_of("payouts")
    assert later.filter(pl.col("payout_id").is_in(in_transit.implode()))["status"].eq("paid").all()
    assert later.height > early.height
    # Payments made just before the clock get their payout later.
    linked = state.table_as_of("payments").filter(
        pl.col("payment_id").is_in(
            pays.filter(pl.col("payout_id").is_null())["payment_id"].implode()
        )
    )
    assert linked["payout_id"].null_count() < unpaid_out
    # Purchase orders and transfers arrive.
    assert "received" in set(state.table_as_of("purchase_orders")["status"])
    ships = state.table_as_of("shipments")
    assert ships["status"].null_count() < ships.height
    delivered = ships.filter(pl.col("status") == "Delivered")
    assert (delivered["delivered_at"] <= state.now).all()


def test_disputes_move_through_their_statuses(world: World) -> None:
    big = SandboxState.generate(seed=11, n_orders=6000)
    opened = big.table_as_of("disputes")
    assert opened.height > 0 and "closes_at" not in opened.columns
    assert set(opened["status"]) <= {"needs_response", "under_review", "won", "lost"}
    open_ids = opened.filter(pl.col("closed_at").is_null())["dispute_id"]
    big.advance(30)
    later = big.table_as_of("disputes").filter(pl.col("dispute_id").is_in(open_ids.implode()))
    assert later["closed_at"].is_not_null().any()


def _late(world: World, share: float = 0.3, delay_s: float = 6 * 3600) -> SandboxState:
    profile = FaultProfile(name="late", late_update_share=share, late_update_max_delay_s=delay_s)
    return SandboxState(world, faults=profile)


def test_late_updates_delay_visibility_deterministically(world: World) -> None:
    plain = SandboxState(world)
    late, again = _late(world), _late(world)
    for state in (plain, late, again):
        state.advance(2)
    a, b = late.orders_view(), again.orders_view()
    assert a.equals(b)  # deterministic per order id and seed
    base = plain.orders_view().select("order_id", "updated_at")
    lagged = a.select("order_id", lagged="updated_at").join(base, on="order_id", how="right")
    behind = lagged.filter(pl.col("lagged").is_null() | (pl.col("lagged") < pl.col("updated_at")))
    assert behind.height > 0  # some changes are not visible yet
    # ... and every one of them is at most the maximum delay old.
    assert (behind["updated_at"] > plain.now - timedelta(hours=6)).all()
    # Once the delay has passed, the late view catches up with what was true then.
    late.advance(0.25)
    caught_up = late.orders_view().join(base, on="order_id", suffix="_then")
    assert (caught_up["updated_at"] >= caught_up["updated_at_then"]).all()


def test_no_late_updates_without_the_fault(world: World) -> None:
    state = SandboxState(world, faults=PROFILES["none"])
    assert state.orders_view().equals(SandboxState(world).orders_view())
    assert state.faults.name == "none"


@pytest.mark.parametrize("days", [0.0, 2.5, 9.0])
def test_shipment_status_is_the_tag_of_the_last_scan_by_now(world: World, days: float) -> None:
    state = SandboxState(world)
    state.advance(days)
    scans = world.tracking_events.filter(pl.col("event_at") <= state.now)
    last = scans.group_by("tracking_number").agg(expected=pl.col("tag").last())
    shipments = state.table_as_of("shipments").join(last, on="tracking_number", how="left")
    assert shipments["status"].eq_missing(shipments["expected"]).all()
    assert shipments["status"].null_count() < shipments.height
