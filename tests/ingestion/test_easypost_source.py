"""The EasyPost source: the real bought-shipment payloads parse exactly; against the sandbox over
real HTTP every label loads once however often it runs, postage and duties per currency equal
the ledger's to the cent, duties billed after the label arrive through the lookback, and
malformed records are quarantined with their reason while the run goes on."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.common.http import RequestStats
from ingestion.common.parsing import BadValue
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.easypost import easypost_source, settings
from ingestion.easypost.parsers import parse_page, parse_shipment
from ingestion.sandbox.fault_data import world_malformed_records
from ingestion.sandbox.faults import FaultProfile
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.sandbox.state import SandboxState
from tests.fixtures_path import fixtures_dir


def _bought() -> dict:
    return json.loads((fixtures_dir("api", "easypost") / "test_shipment_buy.1.json").read_text())[
        "body"
    ]


def test_the_real_bought_shipment_parses_exactly() -> None:
    record = {**_bought(), "reference": "1001"}
    row = parse_shipment(record)
    assert row["id"] == "shp_16578f588f9546ec914afd2474e24ff5"
    assert row["postage_amount"] == Decimal("6.07")
    assert row["label_fee_amount"] == Decimal("0")
    assert row["fee_currency"] == "USD"
    assert (row["carrier"], row["service"]) == ("USPS", "GroundAdvantage")
    assert row["usps_zone"] == 4 and row["duty_amount"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r["selected_rate"].update(rate=6.07), "float"),
        (lambda r: r["fees"][1].update(amount="6.07500"), "whole amount"),
        (lambda r: r["fees"][1].update(amount="7.00000"), "differs"),
        (lambda r: r["fees"].append({"type": "MysteryFee", "amount": "1.00"}), "unknown fee"),
        (lambda r: r["selected_rate"].update(currency="XXY"), "unknown currency"),
        (lambda r: r.update(reference=None), "reference"),
    ],
)
def test_records_that_cannot_be_exact_are_quarantined_with_the_reason(change, reason) -> None:
    bad = {**copy.deepcopy(_bought()), "reference": "1001"}
    change(bad)
    with pytest.raises(BadValue, match=reason):
        parse_shipment(bad)
    page = parse_page([bad, {**_bought(), "reference": "1002", "id": "shp_ok"}])
    assert page.rows.num_rows == 1 and len(page.quarantine) == 1


def load(url: str, warehouse: Path, **options) -> RequestStats:
    stats = RequestStats()
    run_source(
        make_pipeline("easypost", warehouse),
        easypost_source(base_url=url, api_key=settings.SANDBOX_API_KEY, stats=stats, **options),
        "easypost",
        stats,
    )
    return stats


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _ledger_sums(labels: pl.DataFrame) -> dict[str, tuple[int, int]]:
    sums = labels.group_by("currency").agg(
        pl.col("postage_minor").sum(), pl.col("label_fee_minor").sum()
    )
    return {r[0]: (r[1], r[2]) for r in sums.iter_rows()}


def test_labels_load_once_and_duties_arrive_through_the_lookback(tmp_path) -> None:
    state = SandboxState.generate(seed=11, n_orders=300)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state) as url:
        load(url, warehouse, page_size=20, requests_per_second=200.0)
        billed_before = state.table_as_of("shipping_labels")["duties_billed_at"].is_not_null().sum()
        state.advance(days=8)
        second = load(url, warehouse, page_size=20, requests_per_second=200.0)
        again = load(url, warehouse, page_size=20, requests_per_second=200.0)
    labels = state.table_as_of("shipping_labels")
    assert labels["duties_billed_at"].is_not_null().sum() > billed_before
    count, distinct = query(
        warehouse, "select count(*), count(distinct id) from raw_easypost.shipments"
    )[0]
    assert count == distinct == labels.height
    loaded = query(
        warehouse,
        "select fee_currency, cast(sum(postage_amount) * 100 as bigint), "
        "cast(sum(label_fee_amount) * 100 as bigint) from raw_easypost.shipments group by 1",
    )
    assert {r[0]: (r[1], r[2]) for r in loaded} == _ledger_sums(labels)
    # Duties per currency to the minor unit (JPY has none), once billed.
    exps = {"JPY": 0}
    billed = labels.filter(pl.col("duty_minor").is_not_null())
    expected = {
        r[0]: (r[1], r[2])
        for r in billed.group_by("duty_currency")
        .agg(pl.col("duty_minor").sum(), pl.col("import_tax_minor").sum())
        .iter_rows()
    }
    rows = query(
        warehouse,
        "select duties_currency, sum(duty_amount), sum(import_tax_amount) "
        "from raw_easypost.shipments where duties_currency is not null group by 1",
    )
    got = {c: (int(d.scaleb(exps.get(c, 2))), int(t.scaleb(exps.get(c, 2)))) for c, d, t in rows}
    assert got == expected and expected
    # Later runs read from the cursor minus the lookback, not the whole history.
    assert again.requests <= second.requests


def test_malformed_shipments_are_quarantined_and_the_rest_load(tmp_path) -> None:
    state = SandboxState.generate(seed=3, n_orders=300)
    faults = FaultProfile(name="test-malformed", malformed_share=0.08, duplicate_share=0.3)
    warehouse = tmp_path / "w.duckdb"
    with running_sandbox(state=state, config=SandboxConfig(faults=faults)) as url:
        load(url, warehouse, page_size=10, requests_per_second=200.0)
    refused = query(warehouse, "select reason from raw_easypost.quarantine")
    assert refused and all(reason for (reason,) in refused)
    listed = world_malformed_records(state.world, faults).filter(pl.col("api") == "easypost")
    loaded = {r[0] for r in query(warehouse, "select id from raw_easypost.shipments")}
    served = set(state.table_as_of("shipping_labels")["label_id"])
    # Exactly the clean records load (duplicates merged away); each corrupted one is refused.
    corrupted = served & set(listed["record_id"])
    assert loaded == served - corrupted
    assert len(refused) == len(corrupted) > 0
