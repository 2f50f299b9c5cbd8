"""Fault profiles as pure functions: HTTP decisions land on their shares, data faults are stable
per record and exactly those the ledger lists, and ``none`` injects nothing."""

from __future__ import annotations

import copy
import math
from datetime import datetime
from typing import Any

import polars as pl
import pytest

from ingestion.sandbox.fault_data import (
    MALFORMED_KINDS,
    SHAPES,
    RecordShape,
    apply_page_faults,
    corrupt,
    malformed_kind,
    malformed_records,
)
from ingestion.sandbox.fault_http import api_family, decide_http_fault
from ingestion.sandbox.faults import PROFILES, FaultProfile, get_profile

SEED = 42
N_DECISIONS = 20_000


def _order(order_id: int) -> dict[str, Any]:
    """A Shopify-like order with every field the ``("shopify", "orders")`` shape names."""
    return {
        "id": order_id,
        "created_at": "2026-08-04T14:04:17-05:00",
        "updated_at": "2026-08-05T10:00:00-05:00",
        "processed_at": "2026-08-04T14:04:17-05:00",
        "currency": "USD",
        "presentment_currency": "EUR",
        "total_price": "19.99",
        "subtotal_price": "17.00",
        "total_tax": "2.99",
        "customer": {"id": 7, "email": "a@example.com"},
        "line_items": [{"id": 1, "price": "17.00", "quantity": 2}],
    }


def _within(count: int, n: int, share: float) -> bool:
    """``count`` out of ``n`` is what a share of ``share`` gives, within 4 standard deviations."""
    return abs(count - n * share) <= 4 * math.sqrt(n * share * (1 - share)) + 2


def test_none_injects_nothing() -> None:
    none = PROFILES["none"]
    assert all(
        decide_http_fault(none, SEED, "GET", f"/admin/api/2026-07/orders.json?p={i}", 0) is None
        for i in range(500)
    )
    page = [_order(i) for i in range(50)]
    # The very same list: no copying, no per-record hashing.
    assert apply_page_faults(none, SEED, "shopify", "orders", page, page, "id") is page
    assert malformed_records(none, SEED, "shopify", "orders", range(1000)).height == 0


def test_profiles_reject_impossible_shares() -> None:
    with pytest.raises(ValueError, match="sum"):
        FaultProfile(name="x", rate_limit_share=0.6, server_error_share=0.6)
    with pytest.raises(ValueError, match="malformed_share"):
        FaultProfile(name="x", malformed_share=1.5)
    with pytest.raises(ValueError, match="unknown fault profile"):
        get_profile("chaos")


@pytest.mark.parametrize("name", ["realistic", "harsh"])
def test_http_faults_land_on_the_profile_shares(name: str) -> None:
    profile = PROFILES[name]
    faults = [
        decide_http_fault(profile, SEED, "GET", f"/wms/v1/items?cursor={i}", 0)
        for i in range(N_DECISIONS)
    ]
    counts = {kind: 0 for kind in ("rate_limited", "server_error", "slow", "timeout")}
    statuses = set()
    for fault in faults:
        if fault is not None:
            counts[fault.kind] += 1
            if fault.status is not None:
                statuses.add(fault.status)
    assert _within(counts["rate_limited"], N_DECISIONS, profile.rate_limit_share), counts
    assert _within(counts["server_error"], N_DECISIONS, profile.server_error_share), counts
    assert _within(counts["slow"], N_DECISIONS, profile.slow_share), counts
    assert _within(counts["timeout"], N_DECISIONS, profile.timeout_share), counts
    assert statuses == {500, 502, 503}


@pytest.mark.parametrize("name", ["realistic", "harsh"])
def test_malformed_records_land_on_the_profile_share(name: str) -> None:
    profile = PROFILES[name]
    ledger = malformed_records(profile, SEED, "shopify", "orders", range(N_DECISIONS))
    assert _within(ledger.height, N_DECISIONS, profile.malformed_share)


def test_same_seed_and_sequence_meet_the_same_faults() -> None:
    profile = PROFILES["harsh"]
    targets = [f"/admin/api/2026-07/orders.json?page_info={i % 40}" for i in range(400)]

    def run(seed: int) -> list[Any]:
        attempts: dict[str, int] = {}
        out = []
        for target in targets:
            attempt = attempts.get(target, 0)
            attempts[target] = attempt + 1
            out.append(decide_http_fault(profile, seed, "GET", target, attempt))
        return out

    assert run(SEED) == run(SEED)
    assert run(SEED) != run(SEED + 1)


def test_a_retry_of_the_same_url_can_succeed() -> None:
    profile = FaultProfile(name="flaky", rate_limit_share=0.5)
    outcomes = [
        decide_http_fault(profile, SEED, "GET", "/wms/v1/items", attempt) for attempt in range(30)
    ]
    assert any(o is None for o in outcomes) and any(o is not None for o in outcomes)


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/admin/api/2026-07/orders.json", "shopify"),
        ("/orders/v0/orders", "amazon"),
        ("/v1/charges", "stripe"),
        ("/v1/balance_transactions", "stripe"),
        ("/v1/reporting/transactions", "paypal"),
        ("/wms/v1/inventory", "wms"),
        ("/service/data/EXR/D.USD.EUR.SP00.A", "generic"),
    ],
)
def test_api_family_by_path(path: str, family: str) -> None:
    assert api_family(path) == family


# --- Malformed records --------------------------------------------------------------------


def _assert_malformed_as(kind: str, clean: dict[str, Any], bad: dict[str, Any]) -> None:
    """What each kind must look like to a connector."""
    if kind == "money_as_float":
        assert isinstance(bad["total_price"], float)
        assert bad["total_price"] != float(clean["total_price"])
        assert abs(bad["total_price"] - float(clean["total_price"])) < 1e-9
    elif kind == "missing_id":
        assert "id" not in bad
    elif kind == "bad_timestamp":
        with pytest.raises(ValueError):
            datetime.fromisoformat(bad["created_at"])
    elif kind == "id_as_string_float":
        assert isinstance(bad["id"], str) and "e" in bad["id"]
        assert float(bad["id"]) == float(clean["id"])
    elif kind == "negative_quantity":
        assert bad["line_items"][0]["quantity"] == -clean["line_items"][0]["quantity"]
    elif kind == "unknown_currency":
        assert bad["currency"] == "XXX1"
    elif kind == "truncated_object":
        assert bad["id"] == clean["id"]
        assert not {"created_at", "currency", "line_items", "total_price"} & set(bad)
    elif kind == "wrong_type":
        assert isinstance(bad["customer"], str)
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_malformed_kind_corrupts_a_copy(kind: str) -> None:
    clean = _order(9007199254740993)
    before = copy.deepcopy(clean)
    bad = corrupt(clean, kind, SHAPES[("shopify", "orders")], ("id",), 0.0)
    assert clean == before  # renderers' objects are never mutated
    _assert_malformed_as(kind, clean, bad)


def test_every_kind_applies_to_shopify_orders_and_kinds_follow_the_shape() -> None:
    assert SHAPES[("shopify", "orders")].kinds() == MALFORMED_KINDS
    # An entity with no money, timestamps, ... can only lose its id or be truncated.
    assert RecordShape().kinds() == ("missing_id", "truncated_object")
    assert "id_as_string_float" not in SHAPES[("wms", "items")].kinds()


def test_absent_fields_are_created_so_a_listed_record_is_always_malformed() -> None:
    projected = {"id": 5, "updated_at": "2026-08-05T10:00:00Z"}  # as with ?fields=id,updated_at
    shape = SHAPES[("shopify", "orders")]
    for kind in MALFORMED_KINDS:
        assert corrupt(projected, kind, shape, ("id",), 0.5) != projected, kind


def test_malformed_records_are_stable_and_exactly_the_listed_ones() -> None:
    profile = FaultProfile(name="broken", malformed_share=0.2)
    ids = list(range(9007199254740993, 9007199254740993 + 500))
    clean = [_order(i) for i in ids]
    served = apply_page_faults(profile, SEED, "shopify", "orders", clean, None, "id")
    again = apply_page_faults(profile, SEED, "shopify", "orders", clean, None, "id")
    assert served == again  # the same record is broken the same way on every retry
    broken = {str(c["id"]): s for c, s in zip(clean, served, strict=True) if c != s}

    ledger = malformed_records(profile, SEED, "shopify", "orders", ids)
    assert ledger.columns == ["api", "entity", "record_id", "kind"]
    assert ledger["record_id"].to_list() == sorted(broken)
    kinds = dict(zip(ledger["record_id"], ledger["kind"], strict=True))
    assert set(kinds.values()) == set(MALFORMED_KINDS)  # 100 broken records reach every kind
    for c in clean:
        if str(c["id"]) in kinds:
            _assert_malformed_as(kinds[str(c["id"])], c, broken[str(c["id"])])

    # A record is broken whatever page it lands on, alone or among others.
    one = next(c for c in clean if str(c["id"]) in kinds)
    alone = apply_page_faults(profile, SEED, "shopify", "orders", [one], None, "id")
    assert alone == [broken[str(one["id"])]]
    # The ledger takes a polars Series of ids too, and composite keys as tuples.
    series = malformed_records(profile, SEED, "shopify", "orders", pl.Series(ids))
    assert series.equals(ledger)
    keys = [("SZX", f"TL-{i:04d}") for i in range(200)]
    inventory = malformed_records(profile, SEED, "wms", "inventory", keys)
    assert all(":" in rid for rid in inventory["record_id"])
    assert malformed_kind(profile, SEED, "wms", "inventory", ("SZX", "TL-0001")) == (
        malformed_kind(profile, SEED, "wms", "inventory", "SZX:TL-0001")
    )


# --- Duplicates ---------------------------------------------------------------------------


def test_duplicates_repeat_the_previous_page_last_record() -> None:
    profile = FaultProfile(name="dupes", duplicate_share=1.0)
    previous = [_order(i) for i in range(1, 4)]
    page = [_order(i) for i in range(4, 7)]
    served = apply_page_faults(profile, SEED, "shopify", "orders", page, previous, "id")
    assert [o["id"] for o in served] == [3, 4, 5, 6]
    # First pages (and backwards walks) have no previous page to repeat.
    assert apply_page_faults(profile, SEED, "shopify", "orders", page, None, "id") == page


def test_duplicates_render_the_previous_page_only_when_injected() -> None:
    calls: list[int] = []

    def previous() -> list[dict[str, Any]]:
        calls.append(1)
        return [_order(1)]

    pages = [[_order(i)] for i in range(10, 410)]
    rare = FaultProfile(name="rare", duplicate_share=0.05)
    served = [apply_page_faults(rare, SEED, "shopify", "orders", p, previous, "id") for p in pages]
    duplicated = sum(len(s) == 2 for s in served)
    assert duplicated == len(calls) and _within(duplicated, len(pages), 0.05)
    # The decision belongs to the page: a retried page is served identically.
    again = [apply_page_faults(rare, SEED, "shopify", "orders", p, previous, "id") for p in pages]
    assert again == served


def test_a_repeated_malformed_record_is_malformed_the_same_way() -> None:
    profile = FaultProfile(name="both", duplicate_share=1.0, malformed_share=0.5)
    last = next(i for i in range(100, 200) if malformed_kind(profile, SEED, "shopify", "orders", i))
    previous = [_order(i) for i in range(90, last + 1)]
    alone = apply_page_faults(profile, SEED, "shopify", "orders", previous, None, "id")
    served = apply_page_faults(profile, SEED, "shopify", "orders", [_order(500)], previous, "id")
    assert served[0] == alone[-1] != previous[-1]
