"""The Stripe parsers read Stripe's own example objects exactly: integer minor units kept as
sent, converted to major units with the right exponent, lower-case currencies upper-cased,
unix seconds as UTC instants; and refuse what they cannot read exactly, record by record."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingestion.common.currencies import ISO_CURRENCIES, WITHDRAWN_CURRENCIES, iso_minor_units
from ingestion.stripe.currencies import stripe_minor_units
from ingestion.stripe.parsers import OBJECT_KINDS, parse_page
from tests.fixtures_path import fixtures_dir

# fixture file -> the list (table) that serves that object
FIXTURE_TABLES = {
    "balance_transaction.json": "balance_transactions",
    "charge.json": "charges",
    "refund.json": "refunds",
    "dispute.json": "disputes",
    "payout.json": "payouts",
}


def fixture(name: str) -> dict:
    return json.loads((fixtures_dir("api", "stripe") / name).read_text())


def fixture_objects():
    """Every example object of a list we load, including the refunds a charge embeds and the
    balance transactions a dispute embeds (the same objects, served inside another)."""
    for name, table in FIXTURE_TABLES.items():
        obj = fixture(name)
        yield name, table, obj
        if table == "charges":
            for refund in obj["refunds"]["data"]:
                yield f"{name}:refunds", "refunds", refund
        if table == "disputes":
            for txn in obj["balance_transactions"]:
                yield f"{name}:balance_transactions", "balance_transactions", txn


@pytest.mark.parametrize("name", sorted(FIXTURE_TABLES))
def test_every_example_object_parses_with_exact_ids_amounts_and_times(name):
    checked = 0
    for label, table, obj in fixture_objects():
        if not label.startswith(name):
            continue
        parsed = parse_page(table, [obj])
        assert not parsed.quarantine.rows, (label, parsed.quarantine.rows)
        [row] = parsed.rows.to_pylist()
        assert row["id"] == obj["id"]
        assert row["created_at"] == datetime.fromtimestamp(obj["created"], UTC)
        assert row["currency"] == obj["currency"].upper()
        assert row["amount_minor"] == obj["amount"]
        # usd has two decimals: 100 minor units are exactly 1.00
        assert row["amount"] == Decimal(obj["amount"]) / 100
        assert parsed.max_created == obj["created"]
        checked += 1
    assert checked >= 1


def test_balance_transaction_keeps_fee_and_net_exact():
    obj = fixture("balance_transaction.json")
    [row] = parse_page("balance_transactions", [obj]).rows.to_pylist()
    assert (row["fee_minor"], row["net_minor"]) == (obj["fee"], obj["net"])
    assert row["source_id"] == obj["source"] and row["type"] == "charge"
    assert row["available_on"] == datetime.fromtimestamp(obj["available_on"], UTC)


def test_payout_arrival_date_is_the_utc_day():
    obj = fixture("payout.json")
    [row] = parse_page("payouts", [obj]).rows.to_pylist()
    assert row["arrival_date"] == datetime.fromtimestamp(obj["arrival_date"], UTC).date()
    assert row["amount"] == Decimal("11.00") and row["status"] == obj["status"]


def test_charge_links_its_order_through_metadata():
    obj = copy.deepcopy(fixture("charge.json"))
    obj["metadata"] = {"order_id": "9007199254740993", "order_name": "#1001"}
    [row] = parse_page("charges", [obj]).rows.to_pylist()
    assert row["order_id"] == "9007199254740993"  # a 64-bit id kept as text, exactly
    assert json.loads(row["metadata"]) == obj["metadata"]


@pytest.mark.parametrize(
    ("stripe_currency", "amount", "major"),
    [
        ("jpy", 1990, Decimal("1990")),  # zero-decimal: 1990 yen, not 19.90
        ("kwd", 12345, Decimal("12.345")),  # three decimals
        ("usd", 1999, Decimal("19.99")),
        ("eur", -5, Decimal("-0.05")),
        ("isk", 50000, Decimal("500")),  # Stripe keeps ISK two-decimal (ISO says 0)
        ("mga", 5000, Decimal("5000")),  # Stripe makes MGA zero-decimal (ISO says 2)
    ],
)
def test_minor_units_become_major_units_with_the_currency_exponent(stripe_currency, amount, major):
    obj = copy.deepcopy(fixture("refund.json"))
    obj["currency"], obj["amount"] = stripe_currency, amount
    [row] = parse_page("refunds", [obj]).rows.to_pylist()
    assert row["currency"] == stripe_currency.upper()
    assert row["amount_minor"] == amount and row["amount"] == major


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (lambda o: o.update(amount=1999.0000000000002), "amount"),
        (lambda o: o.update(amount=1999.0), "amount"),
        (lambda o: o.update(currency="XXX1"), "currency"),
        (lambda o: o.update(currency="zzz"), "unknown currency"),
        (lambda o: o.pop("id"), "id"),
        (lambda o: o.update(created="2026-13-45T25:61:00"), "created"),
        (lambda o: o.update(outcome='{"type": "authorized"}'), "outcome"),
        (lambda o: [o.pop(k) for k in ("amount", "currency", "created", "status")], "currency"),
    ],
)
def test_a_bad_charge_is_quarantined_with_its_reason_and_the_page_still_loads(corrupt, reason):
    good = fixture("charge.json")
    bad = copy.deepcopy(good)
    bad["id"] = "ch_bad"
    corrupt(bad)
    parsed = parse_page("charges", [bad, good])
    assert parsed.rows.column("id").to_pylist() == [good["id"]]
    [refused] = parsed.quarantine.rows
    assert reason in refused["reason"]
    assert refused["source"] == "stripe" and refused["entity"] == "charge"
    assert refused["record_id"] == bad.get("id")
    assert json.loads(refused["payload"]) == json.loads(json.dumps(bad))


def test_tables_have_non_null_string_keys_and_exact_money_types():
    for kind in OBJECT_KINDS.values():
        key = kind.schema.field("id")
        assert str(key.type) == "string" and not key.nullable
        for field in kind.schema:
            if field.name.endswith("_minor"):
                assert str(field.type) == "int64", (kind.name, field.name)
                major = kind.schema.field(field.name.removesuffix("_minor"))
                assert str(major.type) == "decimal128(18, 4)", (kind.name, major.name)
        assert str(kind.schema.field("created_at").type) == "timestamp[us, tz=UTC]"


def test_currency_table_matches_the_published_iso_4217_list():
    path = fixtures_dir("reference", "iso4217") / "iso4217_six_table.xml"
    published = {}
    for entry in ET.parse(path).iter("CcyNtry"):
        code, units = entry.findtext("Ccy"), entry.findtext("CcyMnrUnts")
        if code and units and units.isdigit():
            published[code] = int(units)
    assert set(published) == ISO_CURRENCIES
    assert {code: iso_minor_units(code) for code in published} == published
    assert not WITHDRAWN_CURRENCIES & set(published)
    assert published["JPY"] == 0 and published["KWD"] == 3
    # Stripe's documented departures and nothing else
    differs = {c for c in published if stripe_minor_units(c) != published[c]}
    assert differs == {"ISK", "MGA"}
