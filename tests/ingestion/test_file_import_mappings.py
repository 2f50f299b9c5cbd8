"""Mappings and transforms without a warehouse: precise errors for bad mappings, exact or
refused values, and the rules that derive what an export does not say."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from ingestion.common.parsing import BadValue
from ingestion.files import transforms
from ingestion.files.build import FileMismatch, bind, parse_table
from ingestion.files.canonical import LINE_FIELDS, ORDER_FIELDS
from ingestion.files.check import check_import_dir
from ingestion.files.mapping import Catalog, MappingError, load, shipped_mappings_dir
from ingestion.files.readers import RawRow, RawTable
from tests.ingestion.export_samples import amazon_all_orders, write_amazon_tsv

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-imports.md"

MINIMAL = {
    "format": {"type": "csv"},
    "channel": "etsy",
    "store": {"value": "shop"},
    "order_key": "Order ID",
    "orders": {
        "ordered_at": {"column": "Date", "transform": {"date": "%Y-%m-%d %H:%M %z"}},
        "total": {"column": "Total", "transform": "decimal"},
        "currency": "Currency",
    },
    "lines": {"quantity": {"column": "Qty", "transform": "int"}, "unit_price": "Price"},
}


def write_mapping(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def mapping_error(tmp_path: Path, **changes) -> str:
    data = {**MINIMAL, **changes}
    path = write_mapping(tmp_path, "etsy", data)
    with pytest.raises(MappingError) as caught:
        load("etsy", path)
    message = str(caught.value)
    assert str(path) in message, "every mapping error names its file"
    return message


def table(header: list[str], *rows: list[str | None]) -> RawTable:
    return RawTable(tuple(header), [RawRow(n + 2, tuple(r)) for n, r in enumerate(rows)])


def test_shipped_mappings_are_valid():
    catalog = Catalog({p.stem: p for p in shipped_mappings_dir().glob("*.yml")}, user={})
    assert catalog.names() == ["amazon_all_orders", "shopify_orders_export"]
    for name in catalog.names():
        mapping = catalog.get(name)
        assert mapping.orders["ordered_at"].transforms, name


def test_minimal_mapping_loads(tmp_path):
    mapping = load("etsy", write_mapping(tmp_path, "etsy", MINIMAL))
    assert mapping.orders["external_order_id"].columns == ("Order ID",)  # the order key
    assert mapping.format.delimiter == "," and mapping.format.quote_char == '"'


def test_unknown_transform_is_named_with_the_field(tmp_path):
    message = mapping_error(
        tmp_path, lines={"quantity": {"column": "Qty", "transform": "integer"}, "unit_price": "P"}
    )
    assert "lines.quantity: unknown transform 'integer'" in message
    assert "known: " in message and "int" in message


def test_unknown_canonical_field_and_top_level_typo_are_reported_together(tmp_path):
    message = mapping_error(
        tmp_path,
        orders={**MINIMAL["orders"], "shiping": "Shipping"},
        odrer_key="x",
    )
    assert "orders.shiping: not a canonical field" in message
    assert "odrer_key: unknown key" in message


def test_missing_required_canonical_fields(tmp_path):
    orders = {k: v for k, v in MINIMAL["orders"].items() if k != "ordered_at"}
    message = mapping_error(tmp_path, orders=orders, lines={"sku": "SKU"})
    assert "orders.ordered_at: required canonical field is not mapped" in message
    assert "lines.quantity: required canonical field is not mapped" in message
    assert "lines: map unit_price or line_price" in message


def test_total_needs_taxes_included_when_computed(tmp_path):
    orders = {k: v for k, v in MINIMAL["orders"].items() if k != "total"}
    message = mapping_error(tmp_path, orders=orders)
    assert "orders.taxes_included: required when total is not mapped" in message


def test_local_times_need_a_timezone(tmp_path):
    orders = {
        **MINIMAL["orders"],
        "ordered_at": {"column": "Date", "transform": {"date": "%m/%d/%y"}},
    }
    message = mapping_error(tmp_path, orders=orders)
    assert "orders.ordered_at: date format '%m/%d/%y' has no UTC offset (%z)" in message
    load("etsy", write_mapping(tmp_path, "etsy", {**MINIMAL, "orders": orders, "timezone": "UTC"}))


def test_a_chain_that_cannot_produce_the_field_type_is_refused(tmp_path):
    orders = {**MINIMAL["orders"], "updated_at": {"column": "Updated", "transform": "strip"}}
    message = mapping_error(tmp_path, orders=orders)
    assert "orders.updated_at: produces text but the field holds timestamp" in message
    orders = {**MINIMAL["orders"], "order_number": {"column": "N", "transform": ["int", "lower"]}}
    assert "orders.order_number: lower needs text but gets int" in mapping_error(
        tmp_path, orders=orders
    )


def test_status_maps_must_land_in_tradelanes_vocabulary(tmp_path):
    orders = {
        **MINIMAL["orders"],
        "financial_status": {"column": "S", "transform": {"map": {"Paid": "settled"}}},
    }
    message = mapping_error(tmp_path, orders=orders)
    assert "orders.financial_status: maps to 'settled', not one of" in message


def test_first_nonblank_applies_to_order_fields_only(tmp_path):
    lines = {**MINIMAL["lines"], "sku": {"column": "SKU", "transform": "first_nonblank_in_order"}}
    assert "lines.sku: first_nonblank_in_order applies to order fields" in mapping_error(
        tmp_path, lines=lines
    )


def test_extends_merges_and_detects_cycles(tmp_path):
    user = tmp_path / "mappings"
    write_mapping(user, "base", MINIMAL)
    write_mapping(user, "child", {"extends": "base", "store": {"value": "other"}, "timezone": None})
    catalog = Catalog(shipped={}, user={p.stem: p for p in user.glob("*.yml")})
    child = catalog.get("child")
    assert child.store.constant == "other" and child.channel == "etsy"
    write_mapping(user, "a", {"extends": "b"})
    write_mapping(user, "b", {"extends": "a"})
    catalog = Catalog(shipped={}, user={p.stem: p for p in user.glob("*.yml")})
    with pytest.raises(MappingError, match="in a cycle"):
        catalog.get("a")


def test_a_user_mapping_may_extend_the_shipped_one_it_overrides(tmp_path):
    catalog = Catalog.for_import_dir(tmp_path)
    write_mapping(
        tmp_path / "mappings",
        "shopify_orders_export",
        {"extends": "shopify_orders_export", "store": {"value": "acme.myshopify.com"}},
    )
    catalog = Catalog.for_import_dir(tmp_path)
    mapping = catalog.get("shopify_orders_export")
    assert mapping.store.constant == "acme.myshopify.com"
    assert mapping.path.parent == tmp_path / "mappings"
    assert "Lineitem sku" in mapping.lines["sku"].columns


def test_decimal_is_exact_and_refuses_what_it_would_have_to_guess():
    plain = transforms.build("decimal", None).apply
    assert plain("12.99") == Decimal("12.99") and plain("-2.00") == Decimal("-2.00")
    for bad in ("12,99", "1,234.50", "1e5", "12.99 EUR", "NaN"):
        with pytest.raises(BadValue, match=re.escape(repr(bad))):
            plain(bad)
    european = transforms.build(
        {"decimal": {"decimal_separator": ",", "thousands_separator": "."}}, None
    ).apply
    assert european("1.234,56") == Decimal("1234.56") and european("12,99") == Decimal("12.99")
    with pytest.raises(BadValue):
        european("1.23,4")


def test_int_and_bool():
    assert transforms.build("int", None).apply("6100000000000000001") == 6100000000000000001
    with pytest.raises(BadValue):
        transforms.build("int", None).apply("1.0")
    assert transforms.build("bool", None).apply("Yes") is True
    with pytest.raises(BadValue):
        transforms.build("bool", None).apply("maybe")


def test_dates_in_a_time_zone_refuse_the_daylight_saving_gap():
    paris = ZoneInfo("Europe/Paris")
    local = transforms.build({"date": "%Y-%m-%d %H:%M"}, paris).apply
    assert local("2026-07-04 10:15").astimezone(UTC) == datetime(2026, 7, 4, 8, 15, tzinfo=UTC)
    with pytest.raises(BadValue, match="daylight-saving gap"):
        local("2026-03-29 02:30")
    assert local("2026-10-25 02:30").utcoffset().total_seconds() == 7200  # first occurrence
    iso = transforms.build("iso8601", None).apply
    assert iso("2026-07-04T10:15:00-04:00").astimezone(UTC).hour == 14
    with pytest.raises(BadValue, match="no UTC offset"):
        iso("2026-07-04T10:15:00")


def test_country_names_become_iso_codes():
    country = transforms.build("country_name_to_code", None).apply
    for name, code in {
        "United States": "US",
        "us": "US",
        "DEU": "DE",
        "The Netherlands": "NL",
        "Turkey": "TR",
        "Türkiye": "TR",
        "Côte d'Ivoire": "CI",
        "UK": "GB",
    }.items():
        assert country(name) == code, name
    with pytest.raises(BadValue):
        country("Narnia")
    aliased = transforms.build({"country_name_to_code": {"aliases": {"Deutschland": "DE"}}}, None)
    assert aliased.apply("Deutschland") == "DE"


def test_map_patterns_and_refusal():
    status = transforms.build({"map": {"Shipped*": "fulfilled", "Pending": "unfulfilled"}}, None)
    assert status.apply("Shipped - Delivered to Buyer") == "fulfilled"
    with pytest.raises(BadValue, match="not in the mapping's map"):
        status.apply("Lost")
    assert transforms.build({"regex": r"(\d+)"}, None).apply("#EU1001") == "1001"
    with pytest.raises(transforms.TransformError, match="quote yes, no"):
        transforms.build(yaml.safe_load("{map: {yes: true, no: false}}"), None)


def test_a_missing_column_names_itself_its_field_and_the_mapping_file(tmp_path):
    mapping = load("etsy", write_mapping(tmp_path, "etsy", MINIMAL))
    with pytest.raises(FileMismatch) as caught:
        bind(mapping, ("Order ID", "Date", "Total", "Currency", "Quantity", "Price"))
    message = str(caught.value)
    assert "column 'Qty' (lines.quantity) is not in the file" in message
    assert str(mapping.path) in message
    # Headers match ignoring case and spacing.
    bind(mapping, ("order id", "DATE", "Total", " Currency", "QTY", "price"))


def test_an_order_loads_whole_or_goes_to_quarantine_whole(tmp_path):
    mapping = load("etsy", write_mapping(tmp_path, "etsy", MINIMAL))
    header = ["Order ID", "Date", "Total", "Currency", "Qty", "Price"]
    parsed = parse_table(
        table(
            header,
            ["A", "2026-07-04 10:15 +0200", "30.00", "EUR", "3", "10.00"],
            ["B", "2026-07-04 11:00 +0200", "25.00", "EUR", "1", "12,99"],
            ["B", None, None, None, "1", "12.01"],
            [None, "2026-07-04 11:00 +0200", "5.00", "EUR", "1", "5.00"],
        ),
        mapping,
        "etsy/x.csv",
    )
    assert [o["external_order_id"] for o in parsed.orders] == ["A"]
    order = parsed.orders[0]
    assert order["ordered_at"] == datetime(2026, 7, 4, 8, 15, tzinfo=UTC)
    assert order["ordered_at_utc_offset_minutes"] == 120
    assert order["line_items_total"] == order["subtotal"] == Decimal("30.00")
    assert order["taxes_included"] is False  # total = subtotal and no tax
    assert parsed.lines[0]["line_price"] == Decimal("30.00")
    reasons = {row["record_id"]: row["reason"] for row in parsed.quarantine.rows}
    assert reasons["etsy/x.csv:3"] == "lines.unit_price (column 'Price'): '12,99' is not an amount"
    assert reasons["etsy/x.csv:4"].startswith("withheld with order 'B': row 3 was refused")
    assert reasons["etsy/x.csv:5"] == "order key column 'Order ID' is blank"


def test_unit_price_is_derived_only_when_exact(tmp_path):
    data = {
        **MINIMAL,
        "lines": {"quantity": {"column": "Qty", "transform": "int"}, "line_price": "Price"},
    }
    mapping = load("etsy", write_mapping(tmp_path, "etsy", data))
    header = ["Order ID", "Date", "Total", "Currency", "Qty", "Price"]
    parsed = parse_table(
        table(
            header,
            ["A", "2026-07-04 10:15 +0200", "39.97", "EUR", "3", "29.97"],
            ["A", None, None, None, "3", "10.00"],
        ),
        mapping,
        "etsy/x.csv",
    )
    assert [line["unit_price"] for line in parsed.lines] == [Decimal("9.99"), None]


def test_the_docs_describe_every_transform_and_canonical_field():
    text = DOCS.read_text()
    for name in transforms.NAMES:
        assert f"`{name}`" in text or f"{{{name}:" in text, f"transform {name} undocumented"
    for name in [*ORDER_FIELDS, *LINE_FIELDS]:
        assert f"`{name}`" in text, f"canonical field {name} undocumented"


def test_check_reports_what_would_be_refused_without_loading(tmp_path):
    rows, expected = amazon_all_orders(seed=3, n_orders=5)
    rows[0]["quantity"] = "two"
    write_amazon_tsv(tmp_path / "amazon_all_orders" / "report.txt", rows)
    report, ok = check_import_dir(tmp_path)
    assert not ok
    assert "mapping amazon_all_orders: ok" in report
    assert (
        "amazon_all_orders/report.txt:2: lines.quantity (column 'quantity'): int: 'two' is not "
        "an integer" in report
    )
    rows[0]["quantity"] = "2"
    write_amazon_tsv(tmp_path / "amazon_all_orders" / "report.txt", rows)
    report, ok = check_import_dir(tmp_path)
    assert ok, report
    assert f"report.txt: {len(expected.orders)} orders, {len(rows)} lines, 0 rows refused" in report
