"""Shopify's two copies of each refund and fulfillment (embedded in the order, and on the
order's own ``refunds.json``/``fulfillments.json``) and of each refund transaction (in the
refund, and on ``transactions.json``) are the same objects, field for field, in a world with
every case (shipping refunds, goodwill refunds, store credit, chargebacks, split parcels), with
and without late updates."""

from __future__ import annotations

import polars as pl
import pytest

from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import generate_world
from tests.sandbox.shopify_copies import copy_differences, summary


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=3, n_orders=800)


def test_the_world_holds_every_case(world):
    shopify = world.orders.filter(pl.col("channel_id") == "shopify").select("order_id")
    refunds = world.refunds.join(shopify, on="order_id", how="semi")
    assert refunds.filter(pl.col("gift_card_id").is_not_null()).height
    assert refunds.filter(pl.col("kind") == "chargeback").height
    assert refunds.filter(pl.col("shipping_minor") > 0).height
    assert refunds.filter(
        pl.col("adjustment_id").is_not_null(), pl.col("shipping_minor") == 0
    ).height
    assert world.shipments.join(shopify, on="order_id", how="semi")["is_split"].any()


@pytest.mark.parametrize("profile", ["none", "harsh"])
def test_embedded_and_per_order_copies_are_identical(world, profile):
    # harsh: late updates show some orders' tables as of an earlier instant.
    state = SandboxState(world, faults=PROFILES[profile])
    assert summary(copy_differences(state)) == []
