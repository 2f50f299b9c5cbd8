"""The PayPal parser reads PayPal's documentation example exactly: negative fees kept as PayPal
shows them, ``+0000`` offsets read as UTC, string amounts exact, cart items as rows; and refuses
what it cannot read exactly, record by record."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingestion.paypal.parsers import parse_transactions
from tests.fixtures_path import fixtures_dir


def example() -> dict:
    path = fixtures_dir("api", "paypal") / "reporting_transactions.docs_example.json"
    return json.loads(path.read_text())


def example_detail() -> dict:
    return copy.deepcopy(example()["transaction_details"][0])


def test_every_example_transaction_parses_with_exact_amounts_times_and_items():
    details = example()["transaction_details"]
    parsed = parse_transactions(details)
    assert not parsed.quarantine.rows
    assert parsed.transactions.num_rows == len(details)
    for row, raw in zip(parsed.transactions.to_pylist(), details, strict=True):
        info = raw["transaction_info"]
        assert row["transaction_id"] == info["transaction_id"]
        assert row["gross_amount"] == Decimal(info["transaction_amount"]["value"])
        assert row["fee_amount"] == Decimal(info["fee_amount"]["value"])
        assert row["shipping_amount"] == Decimal(info["shipping_amount"]["value"])
        assert row["invoice_id"] == info["invoice_id"]
        assert row["custom_field"] == info["custom_field"]
        assert row["payer_country_code"] == raw["payer_info"]["country_code"]
        assert row["shipping_country_code"] == raw["shipping_info"]["address"]["country_code"]
        assert row["item_count"] == len(raw["cart_info"]["item_details"])
    items = parsed.items.to_pylist()
    raw_items = [i for d in details for i in d["cart_info"]["item_details"]]
    assert len(items) == len(raw_items)
    for item, raw in zip(items, raw_items, strict=True):
        assert item["item_code"] == raw.get("item_code")
        assert item["quantity"] == Decimal(raw["item_quantity"])
        assert item["unit_price"] == Decimal(raw["item_unit_price"]["value"])
        assert item["total_item_amount"] == Decimal(raw["total_item_amount"]["value"])
        taxes = [Decimal(t["tax_amount"]["value"]) for t in raw.get("tax_amounts", [])]
        assert item["tax_amount"] == (sum(taxes) if taxes else None)
    assert [i["line_number"] for i in items] == [1, 2, 3]


def test_fees_stay_negative_as_paypal_shows_them_and_net_is_gross_plus_fee():
    [row] = parse_transactions([example_detail()]).transactions.to_pylist()
    assert row["fee_amount"] == Decimal("-13.79")
    assert row["net_amount"] == Decimal("451.21")
    assert (row["currency"], row["fee_currency"]) == ("USD", "USD")


def test_colonless_offsets_are_read_as_utc():
    detail = example_detail()
    detail["transaction_info"]["transaction_initiation_date"] = "2026-10-01T23:30:00-0700"
    detail["transaction_info"]["transaction_updated_date"] = "2014-07-11T04:03:52+0000"
    [row] = parse_transactions([detail]).transactions.to_pylist()
    assert row["initiated_at"] == datetime(2026, 10, 2, 6, 30, tzinfo=UTC)
    assert row["updated_at"] == datetime(2014, 7, 11, 4, 3, 52, tzinfo=UTC)


def test_a_fee_in_another_currency_has_no_net():
    detail = example_detail()
    detail["transaction_info"]["fee_amount"] = {"currency_code": "EUR", "value": "-12.50"}
    [row] = parse_transactions([detail]).transactions.to_pylist()
    assert (row["fee_currency"], row["fee_amount"], row["net_amount"]) == (
        "EUR",
        Decimal("-12.50"),
        None,
    )


def test_zero_decimal_amounts_and_refunds_keep_their_sign():
    detail = example_detail()
    info = detail["transaction_info"]
    info["transaction_event_code"] = "T1107"
    info["transaction_amount"] = {"currency_code": "JPY", "value": "-1990"}
    info["fee_amount"] = {"currency_code": "JPY", "value": "70"}
    for name in ("shipping_amount", "insurance_amount", "shipping_discount_amount"):
        info.pop(name)
    detail["cart_info"] = {}
    parsed = parse_transactions([detail])
    [row] = parsed.transactions.to_pylist()
    assert (row["gross_amount"], row["fee_amount"], row["net_amount"]) == (
        Decimal("-1990"),
        Decimal("70"),
        Decimal("-1920"),
    )
    assert parsed.items.num_rows == 0 and row["item_count"] == 0


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (lambda i: i["transaction_amount"].update(value=465.00000000000006), "transaction_amount"),
        (lambda i: i["fee_amount"].update(value="-13.7912345"), "fee_amount"),
        (lambda i: i.update(transaction_initiation_date="31/12/2026"), "initiation_date"),
        (lambda i: i.update(transaction_initiation_date="2026-12-31T10:00:00"), "offset"),
        (lambda i: i["transaction_amount"].update(currency_code="XXX1"), "currency_code"),
        (lambda i: i.pop("transaction_id"), "transaction_id"),
        (lambda i: i.pop("transaction_status"), "transaction_status"),
    ],
)
def test_a_bad_transaction_is_quarantined_with_its_reason_and_the_page_still_loads(corrupt, reason):
    good = example_detail()
    bad = example_detail()
    bad["transaction_info"]["transaction_id"] = "BAD0000000000001"
    corrupt(bad["transaction_info"])
    parsed = parse_transactions([bad, good])
    assert parsed.transactions.column("transaction_id").to_pylist() == ["5TY05013RG002845M"]
    assert parsed.items.num_rows == 3  # only the good transaction's items
    [refused] = parsed.quarantine.rows
    assert reason in refused["reason"]
    assert refused["source"] == "paypal" and refused["entity"] == "transaction"
    assert refused["record_id"] == bad["transaction_info"].get("transaction_id")
    assert json.loads(refused["payload"]) == json.loads(json.dumps(bad))


def test_a_section_served_as_a_string_is_quarantined():
    bad = example_detail()
    bad["payer_info"] = json.dumps(bad["payer_info"])
    parsed = parse_transactions([bad])
    assert parsed.transactions.num_rows == 0
    assert "payer_info" in parsed.quarantine.rows[0]["reason"]
