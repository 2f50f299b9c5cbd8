"""The ledger's ``malformed_records`` against what a running sandbox really serves: every list
of every API walked with the connectors' own clients, on a server with the ``harsh`` profile's
data faults and on one without faults, over the same world. A record is served corrupted when
it differs from its clean twin or arrives without its id; the ledger must list exactly those."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ingestion.sandbox.fault_data import SERVED_IDS, SHAPES, canonical_id
from ingestion.sandbox.faults import PROFILES
from ingestion.sandbox.ledger import read_ledger, read_manifest
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from ingestion.sandbox.world import generate_world
from tests.sandbox.served import ID_FIELDS, Records, fetch_everything, record_id
from tradelane.cli import app

# harsh's data faults without its HTTP faults: those change when a page arrives, never what
# it holds, and would only make this walk slow.
HARSH_DATA = dataclasses.replace(
    PROFILES["harsh"],
    rate_limit_share=0.0,
    server_error_share=0.0,
    slow_share=0.0,
    timeout_share=0.0,
)
FAST = {"bucket_size": 10_000, "leak_rate_per_s": 10_000.0}


def _corrupted(clean: Records, faulty: Records, key: tuple[str, str]) -> set[str]:
    fields = ID_FIELDS[key]
    clean_by_id = {record_id(r, fields): r for r in clean[key]}
    served_ids = set()
    corrupted = set()
    for record in faulty[key]:
        rid = record_id(record, fields)
        if rid in clean_by_id:
            served_ids.add(rid)
            if record != clean_by_id[rid]:
                corrupted.add(rid)
    # A record that lost (or mangled) its id: its clean twin never shows up by id.
    return corrupted | (set(clean_by_id) - served_ids)


def _walk(n_orders: int, profile):
    world = generate_world(seed=20, n_orders=n_orders)
    # Past the horizon, every record the world will ever hold is served.
    now = world.horizon + timedelta(days=2)
    clean_state = SandboxState(world, now=now)
    faulty_state = SandboxState(world, now=now, faults=profile)
    since = world.start - timedelta(days=120)
    with running_sandbox(clean_state, SandboxConfig(**FAST)) as url:
        clean = fetch_everything(url, since)
    with running_sandbox(faulty_state, SandboxConfig(faults=profile, **FAST)) as url:
        faulty = fetch_everything(url, since, parents=clean)
    return clean, faulty, faulty_state.table_as_of("malformed_records"), world


@pytest.fixture(scope="module")
def walks():
    return _walk(150, HARSH_DATA)


@pytest.mark.parametrize("key", sorted(ID_FIELDS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_the_ledger_draws_from_exactly_the_ids_served(walks, key):
    """Every id the ledger writer considers is served, and every served id is considered."""
    clean, _, _, world = walks
    served = {record_id(r, ID_FIELDS[key]) for r in clean[key]}
    assert {canonical_id(i) for i in SERVED_IDS[key](world)} == served


@pytest.mark.parametrize("key", sorted(ID_FIELDS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_the_ledger_lists_exactly_the_records_served_corrupted(walks, key):
    clean, faulty, ledger, _ = walks
    listed = set(
        ledger.filter((ledger["api"] == key[0]) & (ledger["entity"] == key[1]))["record_id"]
    )
    served = {record_id(r, ID_FIELDS[key]) for r in clean[key]}
    assert listed <= served, f"listed but never served: {sorted(listed - served)[:5]}"
    assert _corrupted(clean, faulty, key) == listed


def test_every_entity_has_malformed_records_in_this_world(walks):
    """Guards the test above against passing vacuously on empty lists."""
    clean, _, ledger, _ = walks
    assert set(SERVED_IDS) == set(ID_FIELDS)  # every faulted list is walked
    assert set(SHAPES) <= set(SERVED_IDS)  # every shaped list has its ids in the ledger
    assert [key for key in ID_FIELDS if not clean[key]] == []
    assert ledger.height >= 20


def test_generate_writes_the_profile_and_its_malformed_records(tmp_path):
    runner = CliRunner()
    args = ["sandbox", "generate", "--seed", "20", "--orders", "150", "--faults", "harsh"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    manifest = read_manifest(tmp_path / "a")
    assert manifest["parameters"]["faults"] == "harsh"
    assert manifest["files"] == read_manifest(tmp_path / "b")["files"]  # byte-identical
    written = read_ledger(tmp_path / "a").malformed_records
    served = SandboxState(generate_world(seed=20, n_orders=150), faults=HARSH_DATA)
    assert written.height > 0
    assert written.equals(served.world.malformed_records)


def test_serving_a_world_with_another_profile_is_refused(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "w")
    runner.invoke(app, ["sandbox", "generate", "--orders", "50", "--faults", "harsh", "--out", out])
    refused = runner.invoke(app, ["sandbox", "serve", "--world", out, "--faults", "none"])
    assert refused.exit_code == 2
    assert "generated with --faults harsh" in " ".join(refused.output.split())


# Shopify serves each order's refunds and fulfillments twice: embedded in the order and on their
# per-order lists. Harsh's 1% leaves few of them malformed in a small world, so this walk breaks
# a third of every record.
EMBEDDED = [("shopify", "refunds"), ("shopify", "fulfillments")]
PER_ORDER = [("shopify_finance", "refunds"), ("shopify_finance", "fulfillments")]


@pytest.fixture(scope="module")
def dense_walks():
    return _walk(150, dataclasses.replace(HARSH_DATA, malformed_share=0.3))


@pytest.mark.parametrize("key", EMBEDDED + PER_ORDER, ids=lambda k: f"{k[0]}.{k[1]}")
def test_both_copies_of_refunds_and_fulfillments_are_corrupted_exactly_as_listed(dense_walks, key):
    clean, faulty, ledger, _ = dense_walks
    listed = set(
        ledger.filter((ledger["api"] == key[0]) & (ledger["entity"] == key[1]))["record_id"]
    )
    assert len(listed) >= 3
    assert _corrupted(clean, faulty, key) == listed


def test_the_embedded_copy_is_corrupted_apart_from_the_per_order_one(dense_walks):
    """Each copy has its own draw: a connector reading either one meets malformed records
    that the ledger lists under the list it reads."""
    _, _, ledger, _ = dense_walks

    def listed(key: tuple[str, str]) -> set[str]:
        return set(
            ledger.filter((ledger["api"] == key[0]) & (ledger["entity"] == key[1]))["record_id"]
        )

    for embedded, per_order in zip(EMBEDDED, PER_ORDER, strict=True):
        assert listed(embedded) != listed(per_order)
        assert listed(embedded) - listed(per_order)
