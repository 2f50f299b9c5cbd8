"""The sandbox's Shopify finance and shipping endpoints: fixture conformance, agreement with the
ledger, ``Link`` pagination of payouts and disputes, 404s, and the shared Shopify gate.

Uses the world and helpers of ``test_api_stripe``. The per-order endpoints are read for a
sample of orders that holds every case (refund kinds, split shipments, disputes, PayPal,
cancellations, engraved lines) rather than for all of them: one request per order and endpoint
is what Shopify's REST API costs, and the sample keeps the test fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from starlette.applications import Starlette

from ingestion.sandbox import SandboxState, api_shopify_finance
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from ingestion.sandbox.money import format_minor, minor_units
from tests.conformance import conformance_gaps
from tests.sandbox.test_api_stripe import (
    FIXTURES_DIR,
    FakeClock,
    TestClient,
    fresh_state,
    make_client,
    payments_world,
)

TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}
P = "/admin/api/2026-07"


def minor(amount: str, currency: str) -> int:
    return int(Decimal(amount).scaleb(minor_units(currency)))


@pytest.fixture
def state() -> SandboxState:
    return fresh_state()


@pytest.fixture
def client(state: SandboxState) -> Iterator[TestClient]:
    with make_client(
        api_shopify_finance.routes, state, rate_limit_clock=FakeClock(), bucket_size=100_000
    ) as c:
        yield c


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(P + path, params=params, headers=TOKEN)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def shopify_orders(state: SandboxState) -> pl.DataFrame:
    return state.table_as_of("orders").filter(pl.col("channel_id") == "shopify")


def sample_orders(state: SandboxState) -> list[int]:
    """Shopify orders that hold every case the per-order endpoints render, plus every 80th."""
    orders = shopify_orders(state)
    ids = orders["order_id"]
    picked: set[int] = set(ids.gather_every(80).to_list())

    def some(frame: pl.DataFrame, n: int) -> None:
        found = frame.join(orders.select("order_id"), on="order_id", how="semi")
        picked.update(found["order_id"].unique(maintain_order=True).head(n).to_list())

    refunds = state.table_as_of("refunds")
    for kind in refunds["kind"].unique().to_list():
        some(refunds.filter(pl.col("kind") == kind), 15)
    some(state.table_as_of("disputes"), 50)
    some(state.table_as_of("shipments").filter(pl.col("is_split")), 15)
    some(state.table_as_of("order_lines").filter(pl.col("engraving").is_not_null()), 10)
    some(state.table_as_of("payments").filter(pl.col("provider") == "paypal"), 15)
    some(orders.filter(pl.col("cancelled_at").is_not_null() & pl.col("paid_at").is_null()), 10)
    return sorted(picked)


def walk(client: TestClient, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a list, following ``rel="next"`` links."""
    response = client.get(P + path, params=params, headers=TOKEN)
    out: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        out += response.json()[key]
        nxt = _link(response.headers.get("link", ""), "next")
        if nxt is None:
            return out
        response = client.get(nxt, headers=TOKEN)


def _link(header: str, rel: str) -> str | None:
    for part in header.split(","):
        if f'rel="{rel}"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


@pytest.fixture(scope="module")
def served() -> dict[str, list[dict[str, Any]]]:
    """The per-order records of the sample orders, and the Shopify Payments lists."""
    state = fresh_state()
    with make_client(
        api_shopify_finance.routes, state, rate_limit_clock=FakeClock(), bucket_size=100_000
    ) as client:
        return _serve_everything(client, state)


def _serve_everything(client: TestClient, state: SandboxState) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        "transaction": [],
        "refund": [],
        "fulfillment": [],
        "fulfillment_event": [],
    }
    for oid in sample_orders(state):
        out["transaction"] += get(client, f"/orders/{oid}/transactions.json")["transactions"]
        out["refund"] += get(client, f"/orders/{oid}/refunds.json")["refunds"]
        fulfillments = get(client, f"/orders/{oid}/fulfillments.json")["fulfillments"]
        out["fulfillment"] += fulfillments
        for f in fulfillments:
            events = get(client, f"/orders/{oid}/fulfillments/{f['id']}/events.json")
            out["fulfillment_event"] += events["fulfillment_events"]
    out["payout"] = walk(client, "/shopify_payments/payouts.json", "payouts", limit=250)
    out["dispute"] = walk(client, "/shopify_payments/disputes.json", "disputes", limit=250)
    out["balance"] = get(client, "/shopify_payments/balance.json")["balance"]
    return out


def _fixture_records(entity: str) -> list[dict[str, Any]]:
    """The official example records of ``entity`` (list, single and create responses; counts
    and refund calculations are other objects)."""
    folder = FIXTURES_DIR / "api" / "shopify_admin_rest_2026_07"
    if not folder.is_dir():
        pytest.skip(f"real API fixtures not found at {folder} (shared/ beside the repo)")
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob(f"{entity}.test_*.json")):
        doc = json.loads(path.read_text())
        if doc["_source"]["url"].split("?")[0].endswith(("count.json", "calculate.json")):
            continue
        body = doc["body"]
        if entity == "balance":
            records += body["balance"]
            continue
        plural = f"{entity}s"
        records += body.get(plural, [])
        if entity in body:
            records.append(body[entity])
    assert records, f"no {entity} fixtures"
    return records


@pytest.mark.parametrize(
    "entity",
    ["transaction", "refund", "fulfillment", "fulfillment_event", "payout", "balance", "dispute"],
)
def test_served_records_are_a_superset_of_shopifys_examples(
    served: dict[str, list[dict[str, Any]]], entity: str
) -> None:
    assert served[entity], f"nothing served for {entity}"
    missing, missing_types, retyped = conformance_gaps(_fixture_records(entity), served[entity])
    assert not missing, missing
    assert not missing_types, missing_types
    assert not retyped, retyped


def test_per_order_records_agree_with_the_ledger(client: TestClient, state: SandboxState) -> None:
    orders = shopify_orders(state).filter(pl.col("order_id").is_in(sample_orders(state)))
    payments = state.table_as_of("payments")
    refunds = state.table_as_of("refunds")
    shipments = state.table_as_of("shipments")
    shipment_lines = state.table_as_of("shipment_lines")
    seen = {"refund": 0, "capture": 0, "void": 0, "split": 0, "chargeback": 0}
    for o in orders.iter_rows(named=True):
        oid, pres = o["order_id"], o["presentment_currency"]
        txns = get(client, f"/orders/{oid}/transactions.json")["transactions"]
        assert [t["id"] for t in txns] == sorted(t["id"] for t in txns)
        paid = payments.filter(pl.col("order_id") == oid)
        captures = [t for t in txns if t["kind"] == "capture"]
        if paid.height:
            (capture,) = captures
            assert minor(capture["amount"], pres) == paid["amount_minor"][0]
            gateway = {"stripe": "shopify_payments", "paypal": "paypal"}[paid["provider"][0]]
            assert capture["gateway"] == gateway
            seen["capture"] += 1
        else:
            assert not captures
            seen["void"] += any(t["kind"] == "void" for t in txns)
        # A chargeback is a dispute on Shopify, not one of the order's refunds.
        ledger_refunds = refunds.filter(pl.col("order_id") == oid, pl.col("kind") != "chargeback")
        seen["chargeback"] += refunds.filter(
            pl.col("order_id") == oid, pl.col("kind") == "chargeback"
        ).height
        served_refunds = get(client, f"/orders/{oid}/refunds.json")["refunds"]
        assert [r["id"] for r in served_refunds] == ledger_refunds.sort("created_at")[
            "refund_id"
        ].to_list()
        refunded = sum(minor(t["amount"], pres) for t in txns if t["kind"] == "refund")
        assert refunded == ledger_refunds["presentment_amount_minor"].sum()
        for r in served_refunds:
            row = ledger_refunds.filter(pl.col("refund_id") == r["id"]).row(0, named=True)
            lines = sum(
                minor(li["subtotal_set"]["shop_money"]["amount"], "USD")
                + minor(li["total_tax_set"]["shop_money"]["amount"], "USD")
                for li in r["refund_line_items"]
            )
            adjusted = sum(
                -minor(a["amount_set"]["shop_money"]["amount"], "USD")
                for a in r["order_adjustments"]
            )
            assert lines + adjusted == row["amount_minor"]
            seen["refund"] += 1
        ships = shipments.filter(pl.col("order_id") == oid)
        fulfillments = get(client, f"/orders/{oid}/fulfillments.json")["fulfillments"]
        assert sorted(f["id"] for f in fulfillments) == sorted(ships["shipment_id"].to_list())
        for f in fulfillments:
            want = shipment_lines.filter(pl.col("shipment_id") == f["id"])
            assert {li["id"]: li["quantity"] for li in f["line_items"]} == dict(
                zip(want["line_id"], want["quantity"], strict=True)
            )
            ship = ships.filter(pl.col("shipment_id") == f["id"]).row(0, named=True)
            assert f["tracking_number"] == ship["tracking_number"]
            assert f["tracking_company"] == ship["carrier"]
        seen["split"] += len(fulfillments) > 1
    assert all(seen.values()), seen


def test_events_follow_the_tracking_as_of_the_clock(
    client: TestClient, state: SandboxState
) -> None:
    shopify = shopify_orders(state).select("order_id")
    shipments = state.table_as_of("shipments").join(shopify, on="order_id", how="semi")
    recent = shipments.filter(pl.col("shipped_at") > state.now - timedelta(days=2))
    chosen = pl.concat(
        [shipments.filter(pl.col("order_id").is_in(sample_orders(state))), recent.head(30)]
    ).unique("shipment_id", maintain_order=True)

    def events_of(s: dict[str, Any]) -> list[dict[str, Any]]:
        path = f"/orders/{s['order_id']}/fulfillments/{s['shipment_id']}/events.json"
        return get(client, path)["fulfillment_events"]

    events = state.table_as_of("tracking_events")
    statuses = set()
    before = {}
    for s in chosen.iter_rows(named=True):
        served = before[s["shipment_id"]] = events_of(s)
        ledger = events.filter(pl.col("tracking_number") == s["tracking_number"]).sort("seq")
        assert len(served) == ledger.height
        for event, row in zip(served, ledger.iter_rows(named=True), strict=True):
            at = datetime.fromisoformat(event["happened_at"])
            assert at == row["event_at"]  # the same instant, in the local time of the place
            assert at.utcoffset() == timedelta(minutes=row["local_utc_offset_minutes"])
            assert event["fulfillment_id"] == s["shipment_id"]
        statuses |= {e["status"] for e in served}
    assert {"confirmed", "in_transit", "delivered"} <= statuses
    # Later scans of recent parcels appear as the clock moves.
    state.advance(3)
    grown = [
        s
        for s in recent.head(30).iter_rows(named=True)
        if len(events_of(s)) > len(before[s["shipment_id"]])
    ]
    assert grown


def test_unknown_other_channel_and_future_orders_are_not_found(
    client: TestClient, state: SandboxState
) -> None:
    orders = payments_world().orders
    amazon = orders.filter(pl.col("channel_id") != "shopify")["order_id"][0]
    future = orders.filter(pl.col("created_at") > state.now)["order_id"][0]
    shipment = state.table_as_of("shipments").row(0, named=True)
    for path in (
        f"/orders/{amazon}/transactions.json",
        f"/orders/{future}/refunds.json",
        "/orders/123/fulfillments.json",
        "/orders/not-a-number/transactions.json",
        f"/orders/{shipment['order_id']}/fulfillments/999/events.json",
        "/shopify_payments/payouts/42.json",
    ):
        response = client.get(P + path, headers=TOKEN)
        assert response.status_code == 404, path
        assert response.json() == {"errors": "Not Found"}


def test_payouts_page_through_link_headers_exactly_once(
    client: TestClient, state: SandboxState
) -> None:
    everything = walk(client, "/shopify_payments/payouts.json", "payouts", limit=250)
    paged = walk(client, "/shopify_payments/payouts.json", "payouts", limit=4)
    assert [p["id"] for p in paged] == [p["id"] for p in everything]
    assert len({p["id"] for p in paged}) == len(paged)
    ledger = state.table_as_of("payouts").filter(pl.col("provider") == "stripe")
    assert sorted(p["amount"] for p in paged) == sorted(
        format_minor(a, "USD") for a in ledger["amount_minor"]
    )
    assert [p["date"] for p in paged] == sorted((p["date"] for p in paged), reverse=True)
    # rel="previous" leads back to the first page.
    first = client.get(P + "/shopify_payments/payouts.json", params={"limit": 4}, headers=TOKEN)
    second = client.get(_link(first.headers["link"], "next"), headers=TOKEN)
    back = client.get(_link(second.headers["link"], "previous"), headers=TOKEN)
    assert back.json() == first.json()


def test_payout_summary_nets_to_its_amount_and_balance_to_what_is_unpaid(
    client: TestClient, state: SandboxState
) -> None:
    payouts = walk(client, "/shopify_payments/payouts.json", "payouts", limit=250)
    for p in payouts:
        s = p["summary"]
        groups = ("adjustments", "charges", "refunds", "reserved_funds", "retried_payouts")
        net = sum(
            minor(s[f"{g}_gross_amount"], "USD") - minor(s[f"{g}_fee_amount"], "USD")
            for g in groups
        )
        assert net == minor(p["amount"], "USD")
        single = get(client, f"/shopify_payments/payouts/{p['id']}.json")["payout"]
        assert single == p
    bts = state.table_as_of("balance_transactions")
    unpaid = bts.filter(pl.col("payout_id").is_null() & (pl.col("type") != "payout"))
    assert unpaid.height
    balance = get(client, "/shopify_payments/balance.json")["balance"]
    assert balance == [
        {"amount": format_minor(unpaid["net_minor"].sum(), "USD"), "currency": "USD"}
    ]


def test_payout_and_dispute_filters(client: TestClient, state: SandboxState) -> None:
    payouts = walk(client, "/shopify_payments/payouts.json", "payouts", limit=250)
    paid = walk(client, "/shopify_payments/payouts.json", "payouts", status="paid")
    assert paid and {p["status"] for p in paid} == {"paid"}
    pivot = payouts[len(payouts) // 2]
    since = walk(client, "/shopify_payments/payouts.json", "payouts", since_id=pivot["id"])
    assert {p["id"] for p in since} == {p["id"] for p in payouts if p["id"] > pivot["id"]}
    window = walk(
        client,
        "/shopify_payments/payouts.json",
        "payouts",
        date_min=pivot["date"],
        date_max=pivot["date"],
    )
    assert {p["id"] for p in window} == {p["id"] for p in payouts if p["date"] == pivot["date"]}
    disputes = walk(client, "/shopify_payments/disputes.json", "disputes")
    ledger = state.table_as_of("disputes").filter(pl.col("dispute_id").str.starts_with("dp_"))
    assert sorted(d["order_id"] for d in disputes) == sorted(ledger["order_id"].to_list())
    assert [d["id"] for d in disputes] == sorted((d["id"] for d in disputes), reverse=True)
    for status in {d["status"] for d in disputes}:
        chosen = walk(client, "/shopify_payments/disputes.json", "disputes", status=status)
        assert {d["id"] for d in chosen} == {d["id"] for d in disputes if d["status"] == status}


def test_page_info_carries_the_filters_and_refuses_new_ones(client: TestClient) -> None:
    first = client.get(
        P + "/shopify_payments/payouts.json", params={"limit": 2, "status": "paid"}, headers=TOKEN
    )
    nxt = _link(first.headers["link"], "next")
    assert nxt is not None and "status" not in nxt
    again = client.get(nxt + "&status=paid", headers=TOKEN)
    assert again.status_code == 400 and "page_info" in again.json()["errors"]["status"]
    bad = client.get(
        P + "/shopify_payments/payouts.json", params={"page_info": "garbage"}, headers=TOKEN
    )
    assert bad.status_code == 400 and bad.json() == {"errors": {"page_info": "Invalid value."}}


def test_every_endpoint_goes_through_the_shared_shopify_gate(state: SandboxState) -> None:
    ctx = SandboxContext.create(state, SandboxConfig(bucket_size=3, rate_limit_clock=FakeClock()))  # type: ignore[arg-type]
    with TestClient(Starlette(routes=api_shopify_finance.routes(ctx))) as client:
        oid = shopify_orders(state)["order_id"][0]
        assert client.get(P + f"/orders/{oid}/transactions.json").status_code == 401
        denied = client.get(
            P + "/shopify_payments/balance.json", headers={"X-Shopify-Access-Token": "nope"}
        )
        assert denied.status_code == 401 and "Invalid API key" in denied.json()["errors"]
        # Two calls as orders.json would make them: the same bucket as every Admin call.
        ctx.shopify_gate.bucket.acquire("shpat_sandbox")
        ctx.shopify_gate.bucket.acquire("shpat_sandbox")
        ok = client.get(P + "/shopify_payments/payouts.json", headers=TOKEN)
        assert ok.status_code == 200
        assert ok.headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
        throttled = client.get(P + f"/orders/{oid}/refunds.json", headers=TOKEN)
        assert throttled.status_code == 429
        assert float(throttled.headers["Retry-After"]) > 0


def test_balance_transactions_tie_payouts_to_orders(
    client: TestClient, state: SandboxState
) -> None:
    everything = walk(
        client, "/shopify_payments/balance/transactions.json", "transactions", limit=250
    )
    paged = walk(client, "/shopify_payments/balance/transactions.json", "transactions", limit=9)
    assert [t["id"] for t in paged] == [t["id"] for t in everything]
    assert len({t["id"] for t in paged}) == len(paged)
    ledger = state.table_as_of("balance_transactions")
    assert len(paged) == ledger.height
    assert {t["type"] for t in paged} == {"charge", "refund", "dispute", "payout"}
    payout = walk(client, "/shopify_payments/payouts.json", "payouts", status="paid")[0]
    batched = walk(
        client,
        "/shopify_payments/balance/transactions.json",
        "transactions",
        payout_id=payout["id"],
    )
    assert {t["payout_status"] for t in batched} == {"paid"}
    net = sum(minor(t["net"], "USD") for t in batched if t["type"] != "payout")
    assert net == minor(payout["amount"], "USD")
    unpaid = [t for t in paged if t["payout_id"] is None]
    assert unpaid and {t["payout_status"] for t in unpaid} == {"pending"}
    charge = next(t for t in paged if t["type"] == "charge")
    txns = get(client, f"/orders/{charge['source_order_id']}/transactions.json")["transactions"]
    capture = next(t for t in txns if t["kind"] == "capture")
    assert charge["source_order_transaction_id"] == capture["id"]
