"""The column-wise reader of Shopify order pages gives exactly what the per-record parsers give:
the same orders and line items (columns, types, values, order), the same refunds, fulfillments
and their child rows, the same quarantine rows (ids, reasons, payloads) and the same newest
``updated_at``, on a harsh sandbox's pages, on Shopify's own examples, and on each odd form a
value can take."""

from __future__ import annotations

import copy
import json
from typing import Any

import pyarrow as pa
import pytest

from ingestion.common.http import load_json
from ingestion.common.quarantine import Quarantine
from ingestion.sandbox import SandboxState, running_sandbox
from ingestion.sandbox.context import SandboxConfig
from ingestion.sandbox.faults import PROFILES
from ingestion.shopify import _batch_finance, _order_finance, columnar, settings
from ingestion.shopify.client import iter_order_pages, make_client
from ingestion.shopify.columnar import DecodedOrders, decode_page, parse_pages
from ingestion.shopify.finance_parsers import FINANCE_TABLES, ParsedFinance
from ingestion.shopify.parsers import ParsedOrders, parse_orders
from tests.fixtures_path import fixtures_dir

STORE = "tradelane-sandbox.myshopify.com"


def per_record(contents: list[bytes]) -> ParsedOrders:
    """The reference: each page decoded into Python objects and parsed record by record."""
    parts = [parse_orders(load_json(c)["orders"], STORE) for c in contents]
    return ParsedOrders(
        orders=pa.concat_tables([p.orders for p in parts]),
        line_items=pa.concat_tables([p.line_items for p in parts]),
        quarantine=Quarantine.merged("shopify", (p.quarantine for p in parts)),
        max_updated_at=max((p.max_updated_at for p in parts if p.max_updated_at), default=None),
    )


def per_record_finance(contents: list[bytes]) -> ParsedFinance:
    """The reference finance: refunds and fulfillments of the orders as decoded by orjson."""
    orders = [o for c in contents for o in load_json(c)["orders"]]
    return _order_finance(None, None, orders, per_record(contents), STORE, None)  # type: ignore[arg-type]


def quarantined(quarantine: Quarantine) -> list[tuple[str, ...]]:
    return [
        (r["quarantine_id"], r["entity"], r["record_id"], r["reason"], r["payload"])
        for r in quarantine.rows
    ]


def assert_identical(new: ParsedOrders, old: ParsedOrders) -> None:
    assert new.orders.schema == old.orders.schema
    assert new.line_items.schema == old.line_items.schema
    assert new.orders.to_pylist() == old.orders.to_pylist()
    assert new.line_items.to_pylist() == old.line_items.to_pylist()
    assert new.orders.equals(old.orders) and new.line_items.equals(old.line_items)
    assert quarantined(new.quarantine) == quarantined(old.quarantine)
    assert new.max_updated_at == old.max_updated_at


def assert_same_finance(new: ParsedFinance, old: ParsedFinance) -> None:
    for name in FINANCE_TABLES:
        assert new.table(name).equals(old.table(name)), name
    assert quarantined(new.quarantine) == quarantined(old.quarantine)


def columnar_finance(pages: list[DecodedOrders]) -> ParsedFinance:
    return _batch_finance(None, None, pages, parse_pages(pages, STORE), STORE, None)  # type: ignore[arg-type]


@pytest.fixture
def record_path(monkeypatch) -> list[Any]:
    """Every order the column-wise reader hands to the per-record parser."""
    handed: list[Any] = []
    parse_records = columnar.parse_records

    def spy(records: list[Any], store_id: str, quarantine: Any) -> Any:
        handed.extend(records)
        return parse_records(records, store_id, quarantine)

    monkeypatch.setattr(columnar, "parse_records", spy)
    return handed


@pytest.fixture(scope="module")
def harsh_pages() -> list[bytes]:
    """Every ``GET /orders.json`` page of a harsh sandbox (malformed orders, refunds and
    fulfillments, duplicated page boundaries, 429s and 5xx on the way), 20 orders a page."""
    state = SandboxState.generate(seed=13, n_orders=1500)
    config = SandboxConfig(faults=PROFILES["harsh"])
    with running_sandbox(state=state, config=config) as url:
        client = make_client(url, settings.SANDBOX_ACCESS_TOKEN, 1000.0, 1000.0, sleep=lambda s: 0)
        with client:
            return list(iter_order_pages(client, "2000-01-01T00:00:00Z", 20, decode=lambda c: c))


def test_harsh_sandbox_pages_read_column_wise_equal_the_per_record_parsers(
    harsh_pages, record_path
):
    decoded = [decode_page(c) for c in harsh_pages]
    for page, content in zip(decoded, harsh_pages, strict=True):
        assert_identical(parse_pages([page], STORE), per_record([content]))
    # In batches, as the source reads them, and across undecodable pages.
    for start in range(0, len(decoded), settings.BATCH_PAGES):
        batch = slice(start, start + settings.BATCH_PAGES)
        assert_identical(parse_pages(decoded[batch], STORE), per_record(harsh_pages[batch]))
        assert_same_finance(
            columnar_finance(decoded[batch]), per_record_finance(harsh_pages[batch])
        )

    everything = per_record(harsh_pages)
    assert everything.orders.num_rows > 100 and everything.line_items.num_rows > 100
    finance = per_record_finance(harsh_pages)
    assert len(finance.rows["fulfillments"]) > 50 and finance.rows["refunds"]
    # Both paths were taken: most orders converted column-wise, malformed ones on decoded pages
    # judged by the per-record parser, and pages the schema refuses read record by record.
    undecoded = [p for p in decoded if p.orders is None]
    columnwise = [p for p in decoded if p.orders is not None]
    assert undecoded and columnwise
    assert sum(len(parse_pages([p], STORE).quarantine.rows) for p in columnwise) > 0
    assert 0 < len(record_path) < sum(len(p) for p in columnwise) / 5
    # Refused finance records on decoded pages too (their payload is the JSON Shopify sent).
    assert any(columnar_finance([p]).quarantine.rows for p in columnwise)


def example_orders() -> list[dict[str, Any]]:
    """Shopify's own example orders fetched with every field, refunds and fulfillments too."""
    folder = fixtures_dir("api", "shopify_admin_rest_2026_07")
    orders = []
    for path in sorted(folder.glob("order.test_*.json")):
        document = json.loads(path.read_text())
        if "fields=" in document["_source"]["url"]:
            continue
        body = document["body"]
        orders += body.get("orders", [body["order"]] if "order" in body else [])
    return orders


def page_of(orders: list[Any]) -> bytes:
    """A page as Shopify serves it (the standard library writes ints beyond 64 bits too)."""
    return json.dumps({"orders": orders}).encode()


def test_shopify_s_examples_are_read_column_wise_without_loss(record_path):
    orders = example_orders()
    content = page_of(orders)
    page = decode_page(content)
    assert page.orders is not None
    parsed = parse_pages([page], STORE)
    assert_identical(parsed, per_record([content]))
    assert_same_finance(columnar_finance([page]), per_record_finance([content]))
    assert parsed.orders.num_rows == len(orders) >= 20 and not parsed.quarantine.rows
    assert record_path == []


def _set(path: str, value: Any) -> Any:
    def change(order: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = order
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[int(last) if last.isdigit() else last] = value

    return change


def _delete(path: str) -> Any:
    def change(order: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = order
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node.pop(last)

    return change


# Each is applied to one order of a page that also holds untouched ones.
VARIANTS = {
    "missing id": _delete("id"),
    "id sent as a float": _set("id", 9.007199254740993e15),
    "id beyond 64 bits": _set("id", 2**64),
    "blank name": _set("name", "  "),
    "name of separators only (str.strip removes them)": _set("name", "\x1c\x1f"),
    "lower-case currency": _set("currency", "usd"),
    "currency null": _set("currency", None),
    "presentment currency empty (the shop's is used)": _set("presentment_currency", ""),
    "presentment currency missing": _delete("presentment_currency"),
    "created_at without offset": _set("created_at", "2026-08-03T02:35:11"),
    "created_at with fractions": _set("created_at", "2026-08-03T02:35:11.250+02:00"),
    "created_at in UTC with Z": _set("created_at", "2026-08-03T00:35:11Z"),
    "created_at half-hour west": _set("created_at", "2026-08-03T02:35:11-03:30"),
    "created_at impossible": _set("created_at", "2026-02-30T02:35:11+02:00"),
    "updated_at as zeros": _set("updated_at", "0000-00-00 00:00:00"),
    "processed_at date only": _set("processed_at", "2026-08-03"),
    "cancelled_at set": _set("cancelled_at", "2026-08-04T10:00:00-04:00"),
    "amount with five decimals": _set("total_price", "76.57001"),
    "amount with an exponent": _set("total_tax", "1e2"),
    "amount with spaces": _set("subtotal_price", " 12.30 "),
    "amount sent as a number": _set("total_price", 76),
    "amount sent as a float": _set("total_price", 76.57000000000001),
    "amount null": _set("total_discounts", None),
    "amount too large": _set("total_line_items_price", "123456789012345.00"),
    "negative amount": _set("total_discounts", "-5.5"),
    "current total missing (the total is used)": _delete("current_total_price"),
    "current total null": _set("current_total_price", None),
    "shipping set in another currency": _set(
        "total_shipping_price_set.shop_money.currency_code", "XXX"
    ),
    "shipping set missing": _delete("total_shipping_price_set"),
    "presentment total missing": _delete("total_price_set.presentment_money"),
    "test flag null": _set("test", None),
    "test flag as text": _set("test", "false"),
    "customer null": _set("customer", None),
    "shipping address null": _set("shipping_address", None),
    "shipping address as text": _set("shipping_address", '{"city": "Lyon"}'),
    "coordinates as integers": _set("shipping_address.latitude", 45),
    "coordinates as text": _set("shipping_address.longitude", "2.35"),
    "zip as a number": _set("shipping_address.zip", 75001),
    "line requires shipping as text": _set("line_items.0.requires_shipping", "yes"),
    "line grams as a float": _set("line_items.0.grams", 520.5),
    "email as a number": _set("email", 42),
    "line items null": _set("line_items", None),
    "no line items": _set("line_items", []),
    "line item null": _set("line_items.0", None),
    "line without id": _delete("line_items.0.id"),
    "line quantity negative": _set("line_items.0.quantity", -1),
    "line quantity null": _set("line_items.0.quantity", None),
    "line price with five decimals": _set("line_items.0.price", "1.00001"),
    "line discount in another currency": _set(
        "line_items.0.discount_allocations",
        [{"amount_set": {"shop_money": {"amount": "1.00", "currency_code": "XXX"}}}],
    ),
    "line discounts summed": _set(
        "line_items.0.discount_allocations",
        [
            {"amount_set": {"shop_money": {"amount": "1.25", "currency_code": None}}},
            {"amount_set": {"shop_money": {"amount": "0.0005"}}},
        ],
    ),
    "line discount null": _set("line_items.0.discount_allocations", [None]),
    "line tax without amount": _set("line_items.0.tax_lines", [{"price_set": {}}]),
    "refund null": _set("refunds", [None]),
    "refund without created_at": _set("refunds", [{"id": 1, "order_id": 2}]),
    "fulfillment status blank": _set(
        "fulfillments", [{"id": 1, "status": " ", "created_at": "2026-08-03T02:35:11+02:00"}]
    ),
    "fulfillment receipt as text": _set(
        "fulfillments",
        [{"id": 1, "status": "success", "created_at": "2026-08-03T02:35:11Z", "receipt": "{}"}],
    ),
    "order null": lambda order: order.clear(),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_an_order_in_an_uncommon_form_is_read_as_the_per_record_parser_reads_it(variant):
    orders = copy.deepcopy(example_orders()[:4])
    VARIANTS[variant](orders[1])
    if not orders[1]:
        orders[1] = None
    content = page_of(orders)
    page = decode_page(content)
    assert_identical(parse_pages([page], STORE), per_record([content]))
    assert_same_finance(columnar_finance([page]), per_record_finance([content]))
