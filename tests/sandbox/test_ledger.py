"""The ledger's invariants hold to the unit (LEDGER.md), and its files are reproducible."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ingestion.sandbox.ledger import read_ledger, write_ledger
from ingestion.sandbox.money import minor_units
from ingestion.sandbox.world import World, generate_world
from ingestion.sandbox.world.inventory import stock_events


def test_order_totals_are_the_exact_sum_of_their_parts_in_both_currencies(world: World) -> None:
    lines = world.order_lines.group_by("order_id").agg(
        items=(pl.col("unit_price_minor") * pl.col("quantity")).sum(),
        discounts=pl.col("discount_minor").sum(),
        tax=pl.col("tax_minor").sum(),
        items_p=(pl.col("unit_price_presentment_minor") * pl.col("quantity")).sum(),
        discounts_p=pl.col("discount_presentment_minor").sum(),
        tax_p=pl.col("tax_presentment_minor").sum(),
        n=pl.len(),
    )
    o = world.orders.join(lines, on="order_id", how="left")
    assert o["n"].null_count() == 0 and (o["n"] == o["line_count"]).all()
    for suffix, p in (("", ""), ("_presentment", "_p")):
        assert (o[f"total_line_items_price{suffix}_minor"] == o[f"items{p}"]).all()
        assert (o[f"total_discounts{suffix}_minor"] == o[f"discounts{p}"]).all()
        assert (o[f"total_tax{suffix}_minor"] == o[f"tax{p}"]).all()
        assert (
            o[f"total_price{suffix}_minor"]
            == o[f"items{p}"]
            + o[f"total_shipping{suffix}_minor"]
            + o[f"tax{p}"]
            - o[f"discounts{p}"]
        ).all()
    money = [c for c in world.orders.columns if c.endswith("_minor")]
    assert all(world.orders.schema[c] == pl.Int64 for c in money)


def test_refunds_never_exceed_what_was_paid_and_add_up(world: World) -> None:
    paid = world.orders.filter(pl.col("paid_at").is_not_null())
    sums = world.refunds.group_by("order_id").agg(
        a=pl.col("amount_minor").sum(), p=pl.col("presentment_amount_minor").sum()
    )
    joined = sums.join(world.orders, on="order_id")
    assert joined["paid_at"].null_count() == 0
    assert (joined["a"] <= joined["total_price_minor"]).all()
    assert (joined["p"] <= joined["total_price_presentment_minor"]).all()
    lines = world.refund_lines.group_by("refund_id").agg(
        s=(pl.col("subtotal_minor") + pl.col("tax_minor")).sum()
    )
    with_lines = world.refunds.join(lines, on="refund_id")
    assert (with_lines["amount_minor"] == with_lines["s"] + with_lines["shipping_minor"]).all()
    assert set(world.refunds["kind"]) >= {"cancellation", "return", "partial"}
    assert paid.height > 0


def test_no_shipment_before_payment_and_never_more_than_ordered(world: World) -> None:
    ships = world.shipments.join(
        world.orders.select("order_id", "paid_at", "cancelled_at"), on="order_id"
    )
    assert ships["paid_at"].null_count() == 0
    assert (ships["shipped_at"] >= ships["paid_at"]).all()
    assert ships["cancelled_at"].null_count() == ships.height
    shipped = world.shipment_lines.group_by("line_id").agg(q=pl.col("quantity").sum())
    lines = shipped.join(world.order_lines.select("line_id", "quantity"), on="line_id")
    assert lines.height == shipped.height and (lines["q"] <= lines["quantity"]).all()
    assert world.shipments["is_split"].any()


def test_a_delivered_parcel_is_scanned_delivered_exactly_when_the_ledger_says(
    world: World,
) -> None:
    """A carrier's Delivered scan is the delivery: a tracking page showing "in transit" after the
    ledger's delivery time would make every on-time-delivery figure disagree with the carrier."""
    scans = world.tracking_events.sort("tracking_number", "seq")
    last = scans.group_by("tracking_number").agg(
        last_tag=pl.col("tag").last(), last_at=pl.col("event_at").last()
    )
    delivered = world.shipments.filter(pl.col("delivered_at").is_not_null()).join(
        last, on="tracking_number", how="left"
    )
    assert delivered.height > 0
    assert (delivered["last_tag"] == "Delivered").all()
    assert (delivered["last_at"] == delivered["delivered_at"]).all()


def _settle(amount: int, currency: str, rate: float, settlement: str) -> int:
    value = Decimal(amount) / 10 ** minor_units(currency) * Decimal(repr(rate))
    unit = Decimal(1).scaleb(-minor_units(settlement))
    return int(value.quantize(unit, rounding=ROUND_HALF_EVEN) * 10 ** minor_units(settlement))


def test_payments_settle_at_their_rate_and_net_is_settlement_minus_fee(world: World) -> None:
    p = world.payments
    for row in p.iter_rows(named=True):
        expected = _settle(
            row["amount_minor"], row["currency"], row["fx_rate"], row["settlement_currency"]
        )
        assert row["settlement_amount_minor"] == expected, row["payment_id"]
    assert (p["net_minor"] == p["settlement_amount_minor"] - p["fee_minor"]).all()
    assert (p["fee_currency"] == p["settlement_currency"]).all()
    assert set(p["provider"]) == {"stripe", "paypal", "amazon"}
    for row in world.payment_refunds.iter_rows(named=True):
        expected = _settle(
            row["amount_minor"], row["currency"], row["fx_rate"], row["settlement_currency"]
        )
        assert row["settlement_amount_minor"] == expected
    # Stripe's pricing: 2.9% + 30c on a domestic USD card.
    domestic = p.filter(
        (pl.col("provider") == "stripe")
        & (pl.col("currency") == "USD")
        & (pl.col("card_country_code") == "US")
    ).head(50)
    for row in domestic.iter_rows(named=True):
        fee = Decimal(row["settlement_amount_minor"] * 290) / 10_000
        assert row["fee_minor"] == int(fee.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) + 30


def test_every_payout_is_the_sum_of_what_it_batches(world: World) -> None:
    parts = [
        world.payments.select("payout_id", v="net_minor"),
        world.payment_refunds.select(
            "payout_id", v=-(pl.col("settlement_amount_minor") - pl.col("fee_refunded_minor"))
        ),
        world.disputes.select(
            "payout_id", v=-(pl.col("settlement_amount_minor") + pl.col("fee_minor"))
        ),
        world.disputes.select(payout_id="reversal_payout_id", v="reversal_amount_minor"),
    ]
    sums = (
        pl.concat(parts)
        .drop_nulls("payout_id")
        .group_by("payout_id")
        .agg(s=pl.col("v").sum(), n=pl.len())
    )
    payouts = world.payouts.join(sums, on="payout_id", how="left")
    assert (payouts["s"] == payouts["amount_minor"]).all()
    assert (payouts["n"] == payouts["transaction_count"]).all()
    assert set(payouts["provider"]) == {"stripe", "paypal", "amazon"}
    # Stripe's balance transactions tell the same story.
    bt = world.balance_transactions
    assert (bt["net_minor"] == bt["amount_minor"] - bt["fee_minor"]).all()
    batched = (
        bt.filter(pl.col("type") != "payout").group_by("payout_id").agg(s=pl.col("net_minor").sum())
    )
    stripe = world.payouts.filter(pl.col("provider") == "stripe").join(batched, on="payout_id")
    assert stripe.height and (stripe["s"] == stripe["amount_minor"]).all()
    # Nothing is paid out before it happened.
    created = world.payments.join(
        world.payouts.select("payout_id", po=pl.col("created_at")), on="payout_id"
    )
    assert (created["created_at"] < created["po"]).all()


def test_stock_never_goes_negative(world: World) -> None:
    events = stock_events(
        world.orders,
        world.order_lines,
        world.shipments,
        world.shipment_lines,
        world.refunds,
        world.refund_lines,
        world.purchase_orders,
        world.transfers,
    )
    keys = ["warehouse_code", "sku"]
    until_end = (
        events.filter(pl.col("at") <= world.end)
        .group_by(keys)
        .agg(oh=pl.col("on_hand_delta").sum(), av=pl.col("available_delta").sum())
    )
    start = world.inventory.join(until_end, on=keys, how="left").select(
        *keys,
        oh0=pl.col("on_hand") - pl.col("oh").fill_null(0),
        av0=pl.col("on_hand") - pl.col("reserved") - pl.col("av").fill_null(0),
    )
    walk = (
        events.join(start, on=keys, how="left")
        .sort(*keys, "at", "available_delta")
        .with_columns(
            on_hand=pl.col("oh0") + pl.col("on_hand_delta").cum_sum().over(keys),
            available=pl.col("av0") + pl.col("available_delta").cum_sum().over(keys),
        )
    )
    assert walk["oh0"].null_count() == 0  # every movement has an inventory row
    assert (walk["available"] >= 0).all() and (walk["on_hand"] >= walk["available"]).all()
    assert (start["oh0"] >= 0).all()
    # Replenishment is real: purchase orders and transfers both move stock.
    assert world.purchase_orders["received_at"].is_not_null().any()
    assert world.transfers["to_warehouse"].str.starts_with("FBA").any()


def test_tracking_events_use_aftership_tags_and_local_offsets(world: World) -> None:
    ev = world.tracking_events
    tags = {
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "AttemptFail",
        "Exception",
        "Delivered",
        "AvailableForPickup",
        "Expired",
    }
    assert set(ev["tag"]) <= tags and {"Delivered", "InTransit"} <= set(ev["tag"])
    assert (ev["subtag"].str.split("_").list.first() == ev["tag"]).all()
    offsets = dict(ev.group_by("city").agg(pl.col("local_utc_offset_minutes").first()).iter_rows())
    assert offsets["Shenzhen"] == 480 and offsets.get("Moreno Valley", -420) in (-420, -480)
    ordered = ev.with_columns(prev=pl.col("event_at").shift().over("tracking_number"))
    assert (ordered["event_at"] >= ordered["prev"]).drop_nulls().all()
    last = ev.group_by("tracking_number").agg(pl.col("tag").last())
    shipments = world.shipments.join(last, on="tracking_number")
    assert (shipments["status"] == shipments["tag"]).all()


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_writes_byte_identical_ledger_files(tmp_path: Path) -> None:
    write_ledger(generate_world(seed=3, n_orders=400), tmp_path / "a")
    write_ledger(generate_world(seed=3, n_orders=400), tmp_path / "b")
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert first == second and "manifest.json" in first and "orders.parquet" in first


def test_a_written_ledger_reads_back_as_the_same_world(world: World, tmp_path: Path) -> None:
    manifest = write_ledger(world, tmp_path)
    assert manifest["counts"]["orders"] == world.orders.height
    back = read_ledger(tmp_path)
    assert (back.seed, back.start, back.end, back.horizon) == (
        world.seed,
        world.start,
        world.end,
        world.horizon,
    )
    for name, frame in world.frames().items():
        assert back.frames()[name].equals(frame), name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cli_generate_writes_a_ledger_and_prints_counts(tmp_path: Path) -> None:
    from tradelane.cli import app

    result = CliRunner().invoke(
        app, ["sandbox", "generate", "--seed", "5", "--orders", "300", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "orders" in result.output and "tracking_events" in result.output
    assert read_ledger(tmp_path).parameters["n_orders"] == 300
