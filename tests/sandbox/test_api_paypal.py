"""The sandbox's PayPal API: OAuth client credentials, Transaction Search windows and pages,
PayPal's error shapes, fixture conformance and agreement with the ledger (the world and helpers
of ``test_api_stripe``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ingestion.sandbox import SandboxState, api_paypal
from ingestion.sandbox.money import format_minor
from ingestion.sandbox.world import DEFAULT_END as END
from tests.conformance import conformance_gaps
from tests.sandbox.test_api_stripe import (
    FakeClock,
    TestClient,
    fixture,
    fresh_state,
    make_client,
    payments_world,
)

PATH = "/v1/reporting/transactions"
CREDENTIALS = (api_paypal.CLIENT_ID, api_paypal.CLIENT_SECRET)


def _paypal_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")  # -0700 style, as PayPal's docs write it


@pytest.fixture
def state() -> SandboxState:
    return fresh_state()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(state: SandboxState, clock: FakeClock) -> Iterator[TestClient]:
    with make_client(api_paypal.routes, state, rate_limit_clock=clock) as c:
        yield c


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/v1/oauth2/token", data={"grant_type": "client_credentials"}, auth=CREDENTIALS
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 32400
    return {"Authorization": f"Bearer {body['access_token']}"}


def search(client: TestClient, auth: dict[str, str], start: datetime, end: datetime, **params: Any):
    return client.get(
        PATH,
        params={"start_date": _paypal_date(start), "end_date": _paypal_date(end), **params},
        headers=auth,
    )


def walk(
    client: TestClient, auth: dict[str, str], start: datetime, end: datetime, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every entry, every page body) of one window, following ``page`` to ``total_pages``."""
    entries: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    page = 1
    while True:
        response = search(client, auth, start, end, page=page, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        entries += body["transaction_details"]
        assert body["page"] == page
        if page >= body["total_pages"]:
            assert body["total_items"] == len(entries)
            return entries, bodies
        assert [link["rel"] for link in body["links"]] == ["self", "next", "last"]
        page += 1


def all_windows(
    client: TestClient, auth: dict[str, str], **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole ledger in 20-day windows that do not overlap (ends one second early)."""
    entries: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    start = payments_world().start - timedelta(days=1)
    end = payments_world().end
    while start < end:
        stop = start + timedelta(days=20)
        e, b = walk(client, auth, start, stop - timedelta(seconds=1), **params)
        entries += e
        bodies += b
        start = stop
    return entries, bodies


def test_pages_are_a_superset_of_paypals_docs_example(
    client: TestClient, auth: dict[str, str]
) -> None:
    example = fixture("api", "paypal", "reporting_transactions.docs_example.json")
    _, bodies = all_windows(client, auth, fields="all", page_size=50)
    missing, missing_types, retyped = conformance_gaps([example], bodies)
    assert not missing, missing
    assert not missing_types, missing_types
    assert not retyped, retyped


def test_every_transaction_is_served_once_and_agrees_with_the_ledger(
    client: TestClient, auth: dict[str, str], state: SandboxState
) -> None:
    entries, _ = all_windows(client, auth, page_size=7)
    infos = [e["transaction_info"] for e in entries]
    ids = [i["transaction_id"] for i in infos]
    assert len(ids) == len(set(ids))
    assert [i["transaction_initiation_date"] for i in infos] == sorted(
        i["transaction_initiation_date"] for i in infos
    )
    assert all(i["transaction_initiation_date"].endswith("+0000") for i in infos)

    def totals(code: str) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for i in infos:
            if i["transaction_event_code"] == code:
                amount = i["transaction_amount"]
                digits = amount["value"].replace(".", "").replace("-", "")
                sign = -1 if amount["value"].startswith("-") else 1
                out[amount["currency_code"]] += sign * int(digits)
        return dict(out)

    payments = state.table_as_of("payments").filter(pl.col("provider") == "paypal")
    by_currency = payments.group_by("currency").agg(pl.col("amount_minor").sum())
    assert totals("T0006") == dict(by_currency.iter_rows())
    refunds = state.table_as_of("payment_refunds").join(
        payments.select("payment_id"), on="payment_id"
    )
    assert refunds.height > 0
    refunded = refunds.group_by("currency").agg(-pl.col("amount_minor").sum())
    assert totals("T1107") == dict(refunded.iter_rows())
    payouts = state.table_as_of("payouts").filter(pl.col("provider") == "paypal")
    assert totals("T0400") == {"USD": -payouts["amount_minor"].sum()}

    fees = {i["transaction_id"]: i["fee_amount"] for i in infos}
    for row in payments.iter_rows(named=True):
        assert fees[row["payment_id"]] == {
            "currency_code": row["fee_currency"],
            "value": format_minor(-row["fee_minor"], row["fee_currency"]),
        }
        assert fees[row["payment_id"]]["value"].startswith("-")
    statuses = {i["transaction_id"]: i["transaction_status"] for i in infos}
    fully = (
        refunds.group_by("payment_id")
        .agg(pl.col("amount_minor").sum())
        .join(payments.select("payment_id", pl.col("amount_minor").alias("paid")), on="payment_id")
    )
    for row in fully.iter_rows(named=True):
        assert statuses[row["payment_id"]] == ("V" if row["amount_minor"] >= row["paid"] else "F")


def test_a_window_over_31_days_is_invalid_request(client: TestClient, auth: dict[str, str]) -> None:
    response = search(client, auth, END - timedelta(days=31, seconds=1), END)
    assert response.status_code == 400
    body = response.json()
    assert body["name"] == "INVALID_REQUEST"
    assert body["details"][0]["field"] == "end_date"
    assert "31 days" in body["details"][0]["issue"]
    assert search(client, auth, END - timedelta(days=31), END).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": None}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"page_size": "501"}, "page_size"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_parameters_name_the_field(
    client: TestClient, auth: dict[str, str], params: dict[str, Any], field: str
) -> None:
    query = {
        "start_date": _paypal_date(END - timedelta(days=3)),
        "end_date": _paypal_date(END),
        **params,
    }
    response = client.get(PATH, params={k: v for k, v in query.items() if v}, headers=auth)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == field


def test_data_lags_until_paypal_refreshes(
    client: TestClient, auth: dict[str, str], state: SandboxState
) -> None:
    state.advance(2.7)  # 16:48: reporting was last refreshed at 16:00
    refreshed = state.now.replace(minute=0, second=0, microsecond=0)
    entries, bodies = walk(client, auth, END - timedelta(days=1), END + timedelta(days=5))
    assert bodies[0]["last_refreshed_datetime"] == refreshed.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert refreshed < state.now
    served = {e["transaction_info"]["transaction_id"] for e in entries}
    payments = state.table_as_of("payments").filter(
        (pl.col("provider") == "paypal") & (pl.col("created_at") >= END - timedelta(days=1))
    )
    visible = payments.filter(pl.col("created_at") <= refreshed)["payment_id"].to_list()
    lagging = payments.filter(pl.col("created_at") > refreshed)["payment_id"].to_list()
    assert set(visible) <= served and not set(lagging) & served
    later = search(client, auth, refreshed + timedelta(minutes=1), END + timedelta(days=5))
    assert later.status_code == 400
    assert later.json()["message"] == "Data for the given start date is not available."


def test_transaction_id_finds_one_transaction(
    client: TestClient, auth: dict[str, str], state: SandboxState
) -> None:
    payment = (
        state.table_as_of("payments").filter(pl.col("provider") == "paypal").row(0, named=True)
    )
    response = search(
        client,
        auth,
        payment["created_at"] - timedelta(days=1),
        payment["created_at"] + timedelta(days=1),
        transaction_id=payment["payment_id"],
        fields="all",
    )
    (entry,) = response.json()["transaction_details"]
    assert entry["transaction_info"]["transaction_id"] == payment["payment_id"]
    assert entry["cart_info"]["item_details"] and entry["payer_info"]["email_address"]


def test_tokens_need_client_credentials_and_expire(
    client: TestClient, auth: dict[str, str], clock: FakeClock
) -> None:
    wrong = client.post(
        "/v1/oauth2/token", data={"grant_type": "client_credentials"}, auth=("x", "y")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    no_grant = client.post("/v1/oauth2/token", auth=CREDENTIALS)
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "unsupported_grant_type"
    window = (END - timedelta(days=2), END)
    assert search(client, {}, *window).status_code == 401
    forged = search(client, {"Authorization": "Bearer A21AAforged"}, *window)
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"
    assert search(client, auth, *window).status_code == 200
    clock.t += api_paypal.TOKEN_TTL_S
    expired = search(client, auth, *window)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"
