"""The column-wise reader of AfterShip pages gives exactly what the per-record parser gives:
the same trackings and checkpoints (columns, types, values, order), the same quarantine rows
(ids, reasons, payloads) and the same newest ``updated_at``, on a harsh sandbox's pages, on
AfterShip's own examples, and on each odd form a value can take."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pyarrow as pa
import pytest

from ingestion.common.http import load_json
from ingestion.common.quarantine import Quarantine
from ingestion.sandbox import SandboxState, running_sandbox
from ingestion.sandbox.context import SandboxConfig
from ingestion.sandbox.faults import PROFILES
from ingestion.tracking import columnar, settings
from ingestion.tracking.client import iter_tracking_pages, make_client
from ingestion.tracking.columnar import decode_page, parse_pages
from ingestion.tracking.parsers import ParsedTrackings, parse_trackings
from tests.fixtures_path import fixtures_dir


def per_record(contents: list[bytes]) -> ParsedTrackings:
    """The reference: each page decoded into Python objects and parsed record by record."""
    parts = [parse_trackings(load_json(c)["data"]["trackings"]) for c in contents]
    return ParsedTrackings(
        trackings=pa.concat_tables([p.trackings for p in parts]),
        checkpoints=pa.concat_tables([p.checkpoints for p in parts]),
        quarantine=Quarantine(
            source="tracking", rows=[r for p in parts for r in p.quarantine.rows]
        ),
        max_updated_at=max((p.max_updated_at for p in parts if p.max_updated_at), default=None),
    )


def assert_identical(new: ParsedTrackings, old: ParsedTrackings) -> None:
    assert new.trackings.schema == old.trackings.schema
    assert new.checkpoints.schema == old.checkpoints.schema
    assert new.trackings.to_pylist() == old.trackings.to_pylist()
    assert new.checkpoints.to_pylist() == old.checkpoints.to_pylist()
    assert new.trackings.equals(old.trackings) and new.checkpoints.equals(old.checkpoints)

    def quarantined(parsed: ParsedTrackings) -> list[tuple[str, ...]]:
        return [
            (r["quarantine_id"], r["entity"], r["record_id"], r["reason"], r["payload"])
            for r in parsed.quarantine.rows
        ]

    assert quarantined(new) == quarantined(old)
    assert new.max_updated_at == old.max_updated_at


@pytest.fixture
def record_path(monkeypatch) -> list[Any]:
    """Every tracking the column-wise reader hands to the per-record parser."""
    handed: list[Any] = []
    parse_records = columnar.parse_records

    def spy(records: list[Any], quarantine: Any) -> Any:
        handed.extend(records)
        return parse_records(records, quarantine)

    monkeypatch.setattr(columnar, "parse_records", spy)
    return handed


@pytest.fixture(scope="module")
def harsh_pages() -> list[bytes]:
    """Every ``GET /trackings`` page of a harsh sandbox (malformed trackings, duplicated page
    boundaries, 429s and 5xx on the way), 20 trackings a page."""
    state = SandboxState.generate(seed=13, n_orders=400)
    config = SandboxConfig(faults=PROFILES["harsh"])
    with running_sandbox(state=state, config=config) as url:
        client = make_client(
            url + settings.API_PATH, settings.SANDBOX_API_KEY, 1000.0, 1000.0, sleep=lambda s: None
        )
        with client:
            return [
                page.content for page, _ in iter_tracking_pages(client, "2000-01-01T00:00:00Z", 20)
            ]


def test_harsh_sandbox_pages_read_column_wise_equal_the_per_record_parser(harsh_pages, record_path):
    decoded = [decode_page(c) for c in harsh_pages]
    for page, content in zip(decoded, harsh_pages, strict=True):
        assert_identical(parse_pages([page]), per_record([content]))
    # In batches, as the source reads them, and across undecodable pages.
    for start in range(0, len(decoded), settings.BATCH_PAGES):
        batch = slice(start, start + settings.BATCH_PAGES)
        assert_identical(parse_pages(decoded[batch]), per_record(harsh_pages[batch]))

    everything = per_record(harsh_pages)
    assert everything.trackings.num_rows > 200 and everything.checkpoints.num_rows > 500
    # Both paths were taken: most trackings converted column-wise, malformed ones on decoded
    # pages judged by the per-record parser, and pages the schema refuses read record by record.
    undecoded = [p for p in decoded if p.trackings is None]
    columnwise = [p for p in decoded if p.trackings is not None]
    assert undecoded and columnwise
    quarantined_on_decoded_pages = sum(len(parse_pages([p]).quarantine) for p in columnwise)
    assert quarantined_on_decoded_pages > 0
    assert len(record_path) < sum(len(p.trackings) for p in columnwise) / 5


def example_trackings() -> list[dict[str, Any]]:
    folder = fixtures_dir("api", "aftership")
    single = json.loads((folder / "GetTrackingResult.json").read_text())["data"]["tracking"]
    page = json.loads((folder / "GetTrackingsResult.json").read_text())["data"]["trackings"]
    return [single, *page]


def page_of(trackings: list[Any]) -> bytes:
    return orjson.dumps({"meta": {"code": 200}, "data": {"page": 1, "trackings": trackings}})


def test_aftership_s_examples_are_read_column_wise_without_loss(record_path):
    folder = fixtures_dir("api", "aftership")
    for content in (
        (folder / "GetTrackingsResult.json").read_bytes(),
        page_of(example_trackings()),
    ):
        page = decode_page(content)
        assert page.trackings is not None
        parsed = parse_pages([page])
        assert_identical(parsed, per_record([content]))
        assert not parsed.quarantine.rows
    assert parsed.trackings.num_rows == 4 and parsed.checkpoints.num_rows == 25
    assert record_path == []


def _set(path: str, value: Any) -> Any:
    def change(tracking: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = tracking
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[int(last) if last.isdigit() else last] = value

    return change


def _delete(name: str) -> Any:
    return lambda tracking: tracking.pop(name)


# Each is applied to one tracking of a page that also holds untouched ones.
VARIANTS = {
    "missing id": _delete("id"),
    "blank id": _set("id", "   "),
    "id of separators only (str.strip removes them)": _set("id", "\x1c\x1f"),
    "id sent as a number": _set("id", 123456789012),
    "missing checkpoints": _delete("checkpoints"),
    "checkpoints null": _set("checkpoints", None),
    "no checkpoints": _set("checkpoints", []),
    "checkpoint sent as a string": _set("checkpoints.0", '{"tag": "InTransit"}'),
    "checkpoint null": _set("checkpoints.0", None),
    "checkpoint without a time": _set("checkpoints.0.checkpoint_time", None),
    "checkpoint time impossible": _set("checkpoints.0.checkpoint_time", "2026-02-30T10:00:00Z"),
    "checkpoint time with a leap second": _set(
        "checkpoints.0.checkpoint_time", "2026-12-31T23:59:60+00:00"
    ),
    "checkpoint time with fractions": _set(
        "checkpoints.0.checkpoint_time", "2018-07-23T16:58:00.125+08:00"
    ),
    "checkpoint time with a space": _set("checkpoints.0.checkpoint_time", "2018-07-23 16:58:00"),
    "checkpoint time offset without colon": _set(
        "checkpoints.0.checkpoint_time", "2018-07-23T16:58:00+0800"
    ),
    "checkpoint time half-hour west": _set(
        "checkpoints.0.checkpoint_time", "2018-07-23T16:58:00-03:30"
    ),
    "checkpoint time in UTC with Z": _set("checkpoints.0.checkpoint_time", "2018-07-23T08:58:00Z"),
    "checkpoint time date only": _set("checkpoints.0.checkpoint_time", "2018-07-23"),
    "checkpoint time in year 1": _set("checkpoints.0.checkpoint_time", "0001-01-01T00:00:00+01:00"),
    "checkpoint time not a date": _set("checkpoints.0.checkpoint_time", "31/12/2026"),
    "checkpoint created_at without offset": _set("checkpoints.0.created_at", "2018-07-23T08:58:00"),
    "checkpoint empty slug": _set("checkpoints.0.slug", ""),
    "checkpoint blank tag": _set("checkpoints.0.tag", " "),
    "created_at without offset": _set("created_at", "2018-08-17T05:10:38"),
    "updated_at not a date": _set("updated_at", "31/12/2026"),
    "last_updated_at date only": _set("last_updated_at", "2018-08-17"),
    "expected delivery local time": _set("expected_delivery", "2026-11-05T18:00:00"),
    "expected delivery with offset": _set("expected_delivery", "2026-11-05T18:00:00+09:00"),
    "latest estimate as text": _set("latest_estimated_delivery", "2026-11-05"),
    "latest estimate with offset": _set(
        "latest_estimated_delivery", {"datetime": "2026-11-05T18:00:00-05:00"}
    ),
    "estimated delivery dates": _set(
        "aftership_estimated_delivery_date",
        {
            "estimated_delivery_date": "2026-11-05",
            "estimated_delivery_date_min": "2026-11-04",
            "estimated_delivery_date_max": "2026-11-07T00:00:00",
        },
    ),
    "negative tracked count": _set("tracked_count", -1),
    "count as a float": _set("tracked_count", 2.0),
    "count as a boolean": _set("delivery_time", True),
    "weight as an integer": _set("shipment_weight", 3),
    "active as text": _set("active", "true"),
    "custom fields": _set("custom_fields", {"b": 1, "a": [1, "x"]}),
    "custom fields as text": _set("custom_fields", "gift"),
    "tracking null": None,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_odd_value_gives_what_the_per_record_parser_gives(variant):
    trackings = copy.deepcopy(example_trackings())
    change = VARIANTS[variant]
    if change is None:
        trackings[1] = None
    else:
        change(trackings[1])
    content = page_of(trackings)
    expected = per_record([content])
    assert_identical(parse_pages([decode_page(content)]), expected)
    # Untouched trackings always load.
    assert expected.trackings.num_rows >= 3
