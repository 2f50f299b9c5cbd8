"""The file importer end to end: generated marketplace exports dropped in a folder, loaded with
dlt into a throwaway DuckDB warehouse. Exact totals per currency, files loaded once, changed
files merged (lines replaced whole), bad rows and bad files quarantined while the rest loads."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.common.pipeline import LoadSummary, make_pipeline, run_source
from ingestion.files import files_source
from tests.ingestion.export_samples import (
    SHOP_EU,
    SHOP_US,
    Expected,
    amazon_all_orders,
    etsy_sold_order_items,
    shopify_orders_export,
    write_amazon_tsv,
    write_etsy_csv,
    write_shopify_csv,
    write_shopify_xlsx,
)
from tests.ingestion.test_sources_against_sandbox import table_fingerprint

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-imports.md"
AMAZON_FILE = "amazon_all_orders/All Orders 2026-06.txt"


def load(import_dir: Path, warehouse: Path, **options) -> LoadSummary:
    return run_source(
        make_pipeline("files", warehouse),
        files_source(import_dir=str(import_dir), **options),
        "files",
    )


def user_mapping(import_dir: Path, name: str, data: dict) -> Path:
    path = import_dir / "mappings" / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def shopify_store(import_dir: Path, name: str, store_id: str, **changes) -> Path:
    """A seller's mapping for one shop: the shipped one with the shop's domain."""
    return user_mapping(
        import_dir,
        name,
        {"extends": "shopify_orders_export", "store": {"value": store_id}, **changes},
    )


def query(warehouse: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def loaded_totals(warehouse: Path, channel: str) -> dict[str, Decimal]:
    rows = query(
        warehouse,
        "select currency, sum(total) from raw_files.orders "
        "where channel = ? and total is not null group by 1",
        channel,
    )
    return dict(rows)


def fingerprints(warehouse: Path) -> list[tuple]:
    return [
        table_fingerprint(
            warehouse, "raw_files.orders", "channel || store_id || external_order_id"
        ),
        table_fingerprint(
            warehouse, "raw_files.order_lines", "external_order_id || '/' || line_number"
        ),
    ]


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    return tmp_path / "imports"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def samples(drop: Path) -> dict[str, Expected]:
    """Amazon (four marketplaces) and two Shopify shops (VAT included in EUR, sales tax on top
    in USD), each shop through a two-line user mapping over the shipped one."""
    amazon_rows, amazon = amazon_all_orders(seed=1, n_orders=40)
    write_amazon_tsv(drop / AMAZON_FILE, amazon_rows)
    expected = {"amazon": amazon}
    for shop, name in ((SHOP_EU, "shopify_eu"), (SHOP_US, "shopify_us")):
        rows, orders = shopify_orders_export(shop, seed=len(name), n_orders=30)
        write_shopify_csv(drop / name / "orders_export_1.csv", rows)
        shopify_store(drop, name, shop.store_id)
        expected[name] = orders
    return expected


def test_exports_load_with_exact_totals_per_currency_lines_and_utc_times(drop, warehouse, samples):
    summary = load(drop, warehouse)

    assert summary.quarantined == 0
    amazon, eu, us = samples["amazon"], samples["shopify_eu"], samples["shopify_us"]
    assert loaded_totals(warehouse, "amazon") == amazon.totals_by_currency()
    assert set(amazon.totals_by_currency()) == {"USD", "EUR", "GBP", "JPY"}
    shopify_expected = {**eu.totals_by_currency(), **us.totals_by_currency()}
    assert loaded_totals(warehouse, "shopify") == shopify_expected
    rows = query(
        warehouse,
        "select channel, store_id, external_order_id, currency, total * 100, line_count, "
        "ordered_at, source_row from raw_files.orders",
    )
    loaded = {(c, s, i): rest for c, s, i, *rest in rows}
    everything = {**amazon.orders, **eu.orders, **us.orders}
    assert set(loaded) == set(everything)
    for key, order in everything.items():
        currency, total, line_count, ordered_at, source_row = loaded[key]
        assert currency == order.currency, key
        assert total == order.total_cents, key
        assert line_count == order.line_count, key
        assert ordered_at == order.ordered_at, key
        if order.source_rows:
            assert source_row == order.source_rows[0], key
    lines = query(
        warehouse,
        "select channel, count(*), count(distinct (store_id, external_order_id)) "
        "from raw_files.order_lines "
        "group by 1 order by 1",
    )
    assert lines == [
        ("amazon", amazon.line_count(), len(amazon.orders)),
        ("shopify", eu.line_count() + us.line_count(), len(eu.orders) + len(us.orders)),
    ]
    # The money invariants the order mart tests hold for every loaded order.
    unbalanced = query(
        warehouse,
        "select external_order_id from raw_files.orders where "
        "subtotal != line_items_total - discounts or total != subtotal + shipping "
        "+ coalesce(other_charges, 0) + case when taxes_included then 0 else tax end",
    )
    assert unbalanced == []
    assert query(
        warehouse,
        "select store_id, bool_and(taxes_included), count(*) from raw_files.orders "
        "where channel = 'shopify' group by 1 order by 1",
    ) == [(SHOP_EU.store_id, True, 30), (SHOP_US.store_id, False, 30)]
    # Shopify's 64-bit ids beyond float precision, exact; Amazon's sales channel as the store.
    assert ("shopify", SHOP_US.store_id, "6100000000000000001") in loaded
    assert query(
        warehouse,
        "select distinct store_id from raw_files.orders where channel = 'amazon' order by 1",
    ) == [("amazon.co.jp",), ("amazon.co.uk",), ("amazon.com",), ("amazon.de",)]
    # Order fields written on the first row only reached the order; zips keep their zero.
    assert query(
        warehouse,
        "select count(*) from raw_files.orders where channel = 'shopify' and "
        "(financial_status is null or currency is null or ordered_at is null)",
    ) == [(0,)]
    assert ("02116",) in query(
        warehouse, "select destination_postal_code from raw_files.orders where channel='shopify'"
    )


def test_reloading_the_same_folder_changes_nothing(drop, warehouse, samples):
    load(drop, warehouse)
    before = fingerprints(warehouse)
    again = load(drop, warehouse)
    assert again.rows_by_table == {}, "identical files are skipped"
    assert fingerprints(warehouse) == before
    # Reading every file again anyway merges to the same rows: no duplicates.
    everything = load(drop, warehouse, reload_all=True)
    assert everything.rows_by_table["orders"] == before[0][0]
    assert fingerprints(warehouse) == before


def test_a_changed_file_is_read_again_and_its_orders_merged(drop, warehouse):
    rows, expected = amazon_all_orders(seed=4, n_orders=20)
    path = write_amazon_tsv(drop / AMAZON_FILE, rows)
    load(drop, warehouse)
    by_order: dict[str, list[dict]] = {}
    for row in rows:
        by_order.setdefault(row["amazon-order-id"], []).append(row)
    multi = next(i for i, r in by_order.items() if len(r) > 1 and r[0]["currency"])
    unshipped = next(i for i, r in by_order.items() if r[0]["order-status"] != "Shipped")
    # The new version of the report: one line fewer on one order, another order shipped since,
    # and a new order.
    changed = [r for r in rows if r is not by_order[multi][-1]]
    for row in by_order[unshipped]:
        row["order-status"] = row["item-status"] = "Shipped"
    new_rows, new_expected = amazon_all_orders(seed=5, n_orders=1)
    write_amazon_tsv(path, changed + new_rows)

    summary = load(drop, warehouse)

    assert summary.rows_by_table["orders"] == len(expected.orders) + 1
    assert query(
        warehouse,
        "select count(*), sum(line_count) from raw_files.orders",
    ) == [(len(expected.orders) + 1, len(changed) + len(new_rows))]
    assert query(
        warehouse,
        "select count(*) from raw_files.order_lines where external_order_id = ?",
        multi,
    ) == [(len(by_order[multi]) - 1,)]
    assert query(
        warehouse,
        "select fulfillment_status, channel_order_status from raw_files.orders "
        "where external_order_id = ?",
        unshipped,
    ) == [("fulfilled", "Shipped")]
    (new_id,) = [key[2] for key in new_expected.orders]
    assert query(
        warehouse, "select count(*) from raw_files.orders where external_order_id = ?", new_id
    ) == [(1,)]


def test_bad_rows_are_quarantined_with_file_and_row_and_the_rest_loads(drop, warehouse):
    rows, expected = amazon_all_orders(seed=6, n_orders=24)
    # Row numbers as in the file: the header is row 1.
    priced = [n for n, r in enumerate(rows, start=2) if r["item-price"]]
    bad_price_row = priced[3]
    bad_price = rows[bad_price_row - 2]
    bad_price["item-price"] = "12,99"
    bad_order = bad_price["amazon-order-id"]
    single = next(
        n
        for n, r in enumerate(rows, start=2)
        if sum(x["amazon-order-id"] == r["amazon-order-id"] for x in rows) == 1
        and r["amazon-order-id"] != bad_order
    )
    no_id_order = rows[single - 2]["amazon-order-id"]
    rows[single - 2]["amazon-order-id"] = ""
    write_amazon_tsv(drop / AMAZON_FILE, rows)

    summary = load(drop, warehouse)

    siblings = [n for n, r in enumerate(rows, start=2) if r["amazon-order-id"] == bad_order]
    assert summary.quarantined == len(siblings) + 1
    reasons = dict(
        query(
            warehouse,
            "select record_id, reason from raw_files.quarantine where source = 'files'",
        )
    )
    assert reasons[f"{AMAZON_FILE}:{bad_price_row}"] == (
        "lines.line_price (column 'item-price'): decimal: '12,99' is not a decimal number "
        "(digits with '.' as decimal separator)"
    )
    for row in siblings:
        if row != bad_price_row:
            assert reasons[f"{AMAZON_FILE}:{row}"].startswith(
                f"withheld with order {bad_order!r}: row {bad_price_row} was refused"
            )
    assert reasons[f"{AMAZON_FILE}:{single}"] == "order key column 'amazon-order-id' is blank"
    payload = query(
        warehouse,
        "select payload from raw_files.quarantine where record_id = ?",
        f"{AMAZON_FILE}:{bad_price_row}",
    )[0][0]
    assert '"item-price":"12,99"' in payload and f'"row":{bad_price_row}' in payload
    # Everything else loaded, to the cent.
    kept = {k: o for k, o in expected.orders.items() if k[2] not in {bad_order, no_id_order}}
    assert loaded_totals(warehouse, "amazon") == Expected(kept).totals_by_currency()
    assert query(warehouse, "select count(*) from raw_files.orders") == [(len(kept),)]


def test_a_file_that_does_not_match_its_mapping_is_one_quarantine_row_and_the_run_goes_on(
    drop, warehouse, samples
):
    eu_rows, _ = shopify_orders_export(SHOP_EU, seed=9, n_orders=3)
    # A Shopify export dropped in Amazon's folder (renamed .txt so the tsv mapping reads it).
    write_shopify_csv(drop / "amazon_all_orders" / "orders_export.txt", eu_rows)
    # A seller's mapping naming a column the export does not have.
    bad_mapping = user_mapping(
        drop,
        "shopify_typo",
        {
            "extends": "shopify_orders_export",
            "lines": {"quantity": {"column": "Lineitem qty", "transform": "int"}},
        },
    )
    write_shopify_csv(drop / "shopify_typo" / "orders_export_1.csv", eu_rows)
    # A mapping that is not valid at all, and a folder without a mapping.
    broken = user_mapping(
        drop, "broken", {"extends": "shopify_orders_export", "timezone": "Mars/Olympus"}
    )
    write_shopify_csv(drop / "broken" / "orders.csv", eu_rows)
    write_shopify_csv(drop / "ebay" / "orders.csv", eu_rows)
    (drop / "amazon_all_orders" / "~$All Orders.txt").write_text("an Excel lock file")

    summary = load(drop, warehouse)

    reasons = dict(
        query(
            warehouse,
            "select record_id, reason from raw_files.quarantine where entity = 'file'",
        )
    )
    assert set(reasons) == {
        "amazon_all_orders/orders_export.txt",
        "shopify_typo/orders_export_1.csv",
        "broken/orders.csv",
        "ebay/orders.csv",
    }
    amazon_mapping = Path(__file__).resolve().parents[2] / "ingestion/files/mappings"
    assert re.search(
        rf"does not match mapping {re.escape(str(amazon_mapping))}/amazon_all_orders.yml: "
        r"column 'amazon-order-id' \(order_key, orders.external_order_id\) is not in the file",
        reasons["amazon_all_orders/orders_export.txt"],
    )
    assert (
        f"does not match mapping {bad_mapping}: column 'Lineitem qty' (lines.quantity) "
        "is not in the file" in reasons["shopify_typo/orders_export_1.csv"]
    )
    assert f"mapping {broken}: timezone: 'Mars/Olympus'" in reasons["broken/orders.csv"]
    assert "no mapping named 'ebay'" in reasons["ebay/orders.csv"]
    assert summary.quarantined == 4
    # The good files of the same run loaded.
    assert loaded_totals(warehouse, "amazon") == samples["amazon"].totals_by_currency()
    assert query(warehouse, "select count(*) from raw_files.orders where channel='shopify'") == [
        (60,)
    ]
    # Fixing the mapping reads its files again, without touching them.
    shopify_store(drop, "shopify_typo", "typo.myshopify.com")
    summary = load(drop, warehouse)
    assert summary.rows_by_table == {"orders": 3, "order_lines": len(eu_rows)}
    assert (drop / "shopify_typo" / "orders_export_1.csv").exists()


def test_an_xlsx_export_loads_the_same_orders_as_the_csv(drop, warehouse):
    rows, expected = shopify_orders_export(SHOP_EU, seed=8, n_orders=12)
    write_shopify_csv(drop / "shopify_csv" / "orders_export_1.csv", rows)
    write_shopify_xlsx(drop / "shopify_xlsx" / "orders_export_1.xlsx", rows)
    shopify_store(drop, "shopify_csv", "from-csv")
    shopify_store(
        drop, "shopify_xlsx", "from-xlsx", format={"type": "xlsx", "sheet": "orders_export"}
    )

    summary = load(drop, warehouse)

    assert summary.quarantined == 0
    for table in ("orders", "order_lines"):
        columns = [
            c
            for (c,) in query(
                warehouse,
                "select column_name from information_schema.columns where table_schema = "
                "'raw_files' and table_name = ? and column_name not in "
                "('store_id', 'source_file', 'source_row') and column_name not like '\\_dlt%' "
                "escape '\\' order by ordinal_position",
                table,
            )
        ]
        select = ", ".join(columns)
        by_store = [
            query(
                warehouse,
                f"select {select} from raw_files.{table} where store_id = ? order by all",
                store,
            )
            for store in ("from-csv", "from-xlsx")
        ]
        assert by_store[0] == by_store[1] and len(by_store[0]) > 0, table
    assert sum(
        query(warehouse, "select sum(total) from raw_files.orders where store_id = 'from-xlsx'")[0]
    ) == sum(expected.totals_by_currency().values())


def test_the_docs_worked_example_mapping_loads_an_etsy_export(drop, warehouse):
    text = DOCS.read_text()
    example = text.split("## Worked example", 1)[1]
    mapping_yaml = example.split("```yaml", 1)[1].split("```", 1)[0]
    (drop / "mappings").mkdir(parents=True)
    (drop / "mappings" / "etsy_sold_order_items.yml").write_text(mapping_yaml)
    rows, expected = etsy_sold_order_items()
    write_etsy_csv(drop / "etsy_sold_order_items" / "EtsySoldOrderItems2026-6.csv", rows)

    summary = load(drop, warehouse)

    assert summary.quarantined == 0
    assert loaded_totals(warehouse, "etsy") == expected.totals_by_currency()
    loaded = dict(query(warehouse, "select external_order_id, ordered_at from raw_files.orders"))
    assert loaded == {key[2]: order.ordered_at for key, order in expected.orders.items()}
    assert query(
        warehouse,
        "select distinct destination_country_code from raw_files.orders order by 1",
    ) == [("CA",), ("DE",), ("GB",), ("US",)]


def test_files_are_read_newest_last_so_the_newest_export_of_an_order_wins(drop, warehouse):
    rows, expected = amazon_all_orders(seed=10, n_orders=6)
    old = write_amazon_tsv(drop / "amazon_all_orders" / "b-old.txt", rows)
    newer = [dict(r, **{"order-status": "Shipped", "item-status": "Shipped"}) for r in rows[:2]]
    new = write_amazon_tsv(drop / "amazon_all_orders" / "a-new.txt", newer)
    os.utime(old, ns=(1_700_000_000_000_000_000,) * 2)
    os.utime(new, ns=(1_800_000_000_000_000_000,) * 2)

    load(drop, warehouse)

    order_id = rows[0]["amazon-order-id"]
    assert query(
        warehouse,
        "select channel_order_status, source_file from raw_files.orders "
        "where external_order_id = ?",
        order_id,
    ) == [("Shipped", "amazon_all_orders/a-new.txt")]
    assert query(warehouse, "select count(*) from raw_files.orders") == [(len(expected.orders),)]
