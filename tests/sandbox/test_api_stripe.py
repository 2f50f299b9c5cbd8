"""The sandbox's Stripe API: fixture conformance, list pagination as Stripe pages, filters,
auth, the test-mode rate limit, and agreement with the ledger (``SandboxState.table_as_of``).

The PayPal and Shopify finance tests share this module's world and helpers.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from starlette.applications import Starlette

with warnings.catch_warnings():
    # Starlette nudges towards another HTTP client for its test client; httpx is what we pin.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from ingestion.sandbox import SandboxState, World, api_stripe, generate_world
from ingestion.sandbox.context import SandboxConfig, SandboxContext
from tests.conformance import conformance_gaps

FIXTURES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
AUTH = {"Authorization": f"Bearer {api_stripe.SECRET_KEY}"}


@functools.cache
def payments_world() -> World:
    """One generated world for the payment API tests (built once per process: the PayPal and
    Shopify finance tests use it too). 20,000 orders, because disputes are rare (a few in a
    thousand orders) and every dispute case, card brand and refund kind should occur."""
    return generate_world(seed=42, n_orders=20_000)


def fresh_state() -> SandboxState:
    """A state over ``payments_world`` with its clock at the world's end."""
    return SandboxState(payments_world())


class FakeClock:
    """A rate-limit clock the test moves by hand; with ``step``, each reading moves it on (a
    client pacing itself at ``1 / step`` requests a second)."""

    def __init__(self, step: float = 0.0) -> None:
        self.t = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def make_client(routes_of: Any, state: SandboxState, **config: Any) -> TestClient:
    """An in-process client over one API family's routes (no server thread, no sockets)."""
    ctx = SandboxContext.create(state, SandboxConfig(**config))
    return TestClient(Starlette(routes=routes_of(ctx)))


def fixture(*parts: str) -> Any:
    path = FIXTURES_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real API fixtures not found at {path} (shared/ beside the repo)")
    return json.loads(path.read_text())


# --- tests --------------------------------------------------------------------------------------


@pytest.fixture
def state() -> SandboxState:
    return fresh_state()


@pytest.fixture
def client(state: SandboxState) -> Iterator[TestClient]:
    # A client that paces itself below the limit: 20 requests a second.
    with make_client(api_stripe.routes, state, rate_limit_clock=FakeClock(step=0.05)) as c:
        yield c


def walk(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of a list, following ``starting_after`` while ``has_more``."""
    out: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        response = client.get(path, params=query, headers=AUTH)
        assert response.status_code == 200, response.text
        body = orjson.loads(response.content)
        assert body["object"] == "list" and body["url"] == path
        out += body["data"]
        if not body["has_more"]:
            return out
        query["starting_after"] = body["data"][-1]["id"]


_OBJECTS = {
    "/v1/charges": ("charge.json", "payments", frozenset({"transfer_data"})),
    "/v1/refunds": ("refund.json", "payment_refunds", frozenset()),
    "/v1/disputes": ("dispute.json", "disputes", frozenset()),
    "/v1/payouts": ("payout.json", "payouts", frozenset()),
    "/v1/balance_transactions": ("balance_transaction.json", "balance_transactions", frozenset()),
}


@pytest.fixture(scope="module")
def served() -> dict[str, list[dict[str, Any]]]:
    """Every object of every list at the world's end, walked once with the largest pages."""
    with make_client(
        api_stripe.routes, fresh_state(), rate_limit_clock=FakeClock(step=0.05)
    ) as client:
        return {path: walk(client, path, limit=100) for path in _OBJECTS}


@pytest.mark.parametrize("path", sorted(_OBJECTS))
def test_served_objects_are_a_superset_of_stripes_examples(
    served: dict[str, list[dict[str, Any]]], path: str
) -> None:
    # ``transfer_data`` exists only on Connect destination charges; the seller is no platform.
    name, _, exempt = _OBJECTS[path]
    assert served[path]
    missing, missing_types, retyped = conformance_gaps(
        [fixture("api", "stripe", name)], served[path], exempt
    )
    assert not missing, missing
    assert not missing_types, missing_types
    assert not retyped, retyped


@pytest.mark.parametrize("path", sorted(_OBJECTS))
def test_every_visible_ledger_row_is_served_once_newest_first(
    served: dict[str, list[dict[str, Any]]], path: str
) -> None:
    _, table, _ = _OBJECTS[path]
    ids = [o["id"] for o in served[path]]
    assert len(ids) == len(set(ids))
    frame = fresh_state().table_as_of(table)
    id_col = frame.columns[0]
    stripe = frame.filter(pl.col(id_col).str.starts_with(ids[0].split("_")[0] + "_"))
    assert sorted(ids) == sorted(stripe[id_col].to_list())
    created = [o["created"] for o in served[path]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(("limit", "days"), [(1, 2), (7, 10), (100, 10)])
def test_small_pages_walk_the_same_list(
    client: TestClient, served: dict[str, list[dict[str, Any]]], limit: int, days: int
) -> None:
    # The last days of charges: every page size must return the same sequence, ties in
    # ``created`` included.
    everything = served["/v1/charges"]
    since = everything[0]["created"] - days * 86_400
    want = [c["id"] for c in everything if c["created"] >= since]
    got = walk(client, "/v1/charges", limit=limit, **{"created[gte]": since})
    assert [c["id"] for c in got] == want


def test_ending_before_walks_back_to_the_same_pages(
    client: TestClient, served: dict[str, list[dict[str, Any]]]
) -> None:
    everything = served["/v1/charges"]
    anchor = everything[25]["id"]
    page = client.get(
        "/v1/charges", params={"limit": 5, "ending_before": anchor}, headers=AUTH
    ).json()
    assert [c["id"] for c in page["data"]] == [c["id"] for c in everything[20:25]]
    assert page["has_more"] is True
    top = client.get(
        "/v1/charges",
        params={"limit": 5, "ending_before": everything[3]["id"]},
        headers=AUTH,
    ).json()
    assert [c["id"] for c in top["data"]] == [c["id"] for c in everything[:3]]
    assert top["has_more"] is False


def test_created_filters_bound_the_list_in_unix_seconds(
    client: TestClient, served: dict[str, list[dict[str, Any]]]
) -> None:
    everything = served["/v1/charges"]
    pivot = everything[150]["created"]
    window = [c for c in everything if pivot - 86_400 <= c["created"] < pivot + 86_400]
    gte = walk(
        client, "/v1/charges", limit=100, **{"created[gte]": pivot, "created[lt]": pivot + 86_400}
    )
    lt = walk(
        client, "/v1/charges", limit=100, **{"created[gte]": pivot - 86_400, "created[lt]": pivot}
    )
    assert [c["id"] for c in gte + lt] == [c["id"] for c in window]
    assert all(c["created"] >= pivot for c in gte) and all(c["created"] < pivot for c in lt)
    gt = walk(client, "/v1/charges", **{"created[gt]": pivot, "created[lte]": pivot + 3600})
    assert [c["id"] for c in gt] == [
        c["id"] for c in everything if pivot < c["created"] <= pivot + 3600
    ]
    exact = walk(client, "/v1/charges", created=pivot)
    assert exact and all(c["created"] == pivot for c in exact)


def test_charges_agree_with_the_ledger_payments(served: dict[str, list[dict[str, Any]]]) -> None:
    charges = served["/v1/charges"]
    state = fresh_state()
    payments = state.table_as_of("payments").filter(pl.col("provider") == "stripe")
    ledger = payments.group_by("currency").agg(pl.col("amount_minor").sum())
    want = {r["currency"].lower(): r["amount_minor"] for r in ledger.iter_rows(named=True)}
    got: dict[str, int] = defaultdict(int)
    for c in charges:
        got[c["currency"]] += c["amount"]
    assert dict(got) == want
    assert {"usd", "jpy", "eur"} <= set(got)
    refunds = state.table_as_of("payment_refunds")
    refunded = refunds.group_by("payment_id").agg(pl.col("amount_minor").sum())
    by_charge = dict(zip(refunded["payment_id"], refunded["amount_minor"], strict=True))
    for c in charges:
        assert c["amount_refunded"] == by_charge.get(c["id"], 0)
        assert c["refunded"] == (c["amount_refunded"] == c["amount"])
        assert sum(r["amount"] for r in c["refunds"]["data"]) == c["amount_refunded"]
    assert any(c["refunded"] for c in charges) and any(c["disputed"] for c in charges)
    # Each charge's balance transaction carries the settlement and fee of the ledger.
    settled = payments.select("payment_id", "settlement_amount_minor", "fee_minor")
    by_source = {
        t["source"]: t for t in served["/v1/balance_transactions"] if t["type"] == "charge"
    }
    for row in settled.iter_rows(named=True):
        t = by_source[row["payment_id"]]
        assert (t["amount"], t["fee"]) == (row["settlement_amount_minor"], row["fee_minor"])


def test_balance_transactions_of_a_payout_net_to_its_amount(
    client: TestClient, served: dict[str, list[dict[str, Any]]]
) -> None:
    now = fresh_state().now.timestamp()
    payouts = served["/v1/payouts"]
    for p in payouts:
        assert p["status"] == ("paid" if p["arrival_date"] <= now else "in_transit")
    for payout in payouts[:: max(1, len(payouts) // 6)]:
        txns = walk(client, "/v1/balance_transactions", payout=payout["id"], limit=100)
        assert txns and all(t["net"] == t["amount"] - t["fee"] for t in txns)
        batched = [t for t in txns if t["type"] != "payout"]
        assert sum(t["net"] for t in batched) == payout["amount"]
        (own,) = [t for t in txns if t["type"] == "payout"]
        assert own["id"] == payout["balance_transaction"] and own["amount"] == -payout["amount"]
    converted = [t for t in served["/v1/balance_transactions"] if t["exchange_rate"]]
    assert converted and all(t["currency"] == "usd" for t in converted)


def test_unknown_payout_filter_and_cursor_are_resource_missing(client: TestClient) -> None:
    response = client.get("/v1/balance_transactions", params={"payout": "po_nope"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "resource_missing"
    response = client.get("/v1/charges", params={"starting_after": "ch_nope"}, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "starting_after" and error["message"] == "No such charge: 'ch_nope'"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"created[gte]": "yesterday"}, "created[gte]"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_parameters_are_invalid_request_errors(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    response = client.get("/v1/charges", params=params, headers=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_expand_is_accepted_and_cursors_are_exclusive(client: TestClient) -> None:
    response = client.get(
        "/v1/charges",
        params={"expand[]": "data.customer", "starting_after": "a", "ending_before": "b"},
        headers=AUTH,
    )
    assert response.status_code == 400
    assert "only specify one" in response.json()["error"]["message"]
    ok = client.get("/v1/charges", params={"expand[]": "data.balance_transaction"}, headers=AUTH)
    assert ok.status_code == 200 and len(ok.json()["data"]) == api_stripe.DEFAULT_LIMIT


def test_wrong_or_missing_key_is_401_with_the_key_masked(client: TestClient) -> None:
    wrong = client.get("/v1/charges", headers={"Authorization": "Bearer sk_test_abcdefgh12345678"})
    assert wrong.status_code == 401
    message = wrong.json()["error"]["message"]
    assert message == "Invalid API Key provided: sk_test_************5678"
    assert "abcdefgh" not in message
    assert wrong.json()["error"]["type"] == "invalid_request_error"
    missing = client.get("/v1/charges")
    assert missing.status_code == 401
    assert "did not provide an API key" in missing.json()["error"]["message"]
    basic = client.get("/v1/charges", auth=(api_stripe.SECRET_KEY, ""))
    assert basic.status_code == 200


def test_token_bucket_allows_25_a_second_then_429(state: SandboxState) -> None:
    clock = FakeClock()
    with make_client(api_stripe.routes, state, rate_limit_clock=clock) as client:
        codes = [
            client.get("/v1/payouts", params={"limit": 1}, headers=AUTH).status_code
            for _ in range(26)
        ]
        assert codes == [200] * 25 + [429]
        refused = client.get("/v1/payouts", headers=AUTH)
        assert refused.json()["error"]["type"] == "rate_limit_error"
        assert refused.headers["Stripe-Should-Retry"] == "true"
        clock.t += float(refused.headers["Retry-After"])
        assert client.get("/v1/payouts", headers=AUTH).status_code == 200


def test_advancing_the_clock_reveals_new_charges_and_payouts(
    client: TestClient, state: SandboxState
) -> None:
    recent = {"created[gte]": int(state.now.timestamp()) - 5 * 86_400, "limit": 100}
    state.advance(3.5)  # mid-morning: that day's payout is on its way to the bank
    before = {c["id"] for c in walk(client, "/v1/charges", **recent)}
    paid_before = {p["id"]: p["status"] for p in walk(client, "/v1/payouts", **recent)}
    state.advance(5)
    after = {c["id"] for c in walk(client, "/v1/charges", **recent)}
    payouts_after = {p["id"]: p["status"] for p in walk(client, "/v1/payouts", **recent)}
    assert before < after
    assert set(paid_before) < set(payouts_after)
    assert any(
        status == "in_transit" and payouts_after[pid] == "paid"
        for pid, status in paid_before.items()
    )


def test_disputes_show_their_status_as_of_the_clock(
    served: dict[str, list[dict[str, Any]]],
) -> None:
    disputes = served["/v1/disputes"]
    statuses = {d["status"] for d in disputes}
    assert {"needs_response", "under_review"} <= statuses
    assert statuses <= {"needs_response", "under_review", "won", "lost"}
    for d in disputes:
        assert d["charge"].startswith("ch_") and d["id"].startswith("dp_")
        assert all(t["source"] == d["id"] for t in d["balance_transactions"])


def test_balance_is_what_no_payout_has_taken_yet(client: TestClient, state: SandboxState) -> None:
    balance = client.get("/v1/balance", headers=AUTH).json()
    missing, missing_types, retyped = conformance_gaps(
        [fixture("api", "stripe", "balance.json")], [balance]
    )
    assert not missing and not missing_types and not retyped, (missing, missing_types, retyped)
    unpaid = state.table_as_of("balance_transactions").filter(
        pl.col("payout_id").is_null() & (pl.col("type") != "payout")
    )
    ready = unpaid.filter(pl.col("available_on") <= state.now.date())["net_minor"].sum()
    assert balance["available"] == [
        {"amount": ready, "currency": "usd", "source_types": {"card": ready}}
    ]
    assert balance["pending"][0]["amount"] == unpaid["net_minor"].sum() - ready
