"""The tracking parser reads AfterShip's own examples exactly: opaque string ids, every
checkpoint with its UTC instant *and* the carrier's local offset, and refuses (into the
quarantine, with a reason) the malformed trackings the sandbox's fault profiles serve."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ingestion.tracking.parsers import local_time, parse_tracking, parse_trackings
from tests.fixtures_path import fixtures_dir


def examples() -> list[tuple[str, dict[str, Any]]]:
    """Every tracking in the examples: the single GET and the list page."""
    folder = fixtures_dir("api", "aftership")
    single = json.loads((folder / "GetTrackingResult.json").read_text())["data"]["tracking"]
    page = json.loads((folder / "GetTrackingsResult.json").read_text())["data"]["trackings"]
    return [("GetTracking", single), *(("GetTrackings", t) for t in page)]


def test_every_example_tracking_parses_with_every_checkpoint():
    seen = checkpoints_seen = 0
    for name, tracking in examples():
        row, checkpoints = parse_tracking(tracking)
        seen += 1
        assert row["tracking_id"] == tracking["id"], name
        assert row["tracking_number"] == tracking["tracking_number"], name
        assert (row["slug"], row["tag"], row["subtag"]) == (
            tracking["slug"],
            tracking["tag"],
            tracking["subtag"],
        ), name
        for column in ("created_at", "updated_at"):
            expected = datetime.fromisoformat(tracking[column])
            assert row[column] == expected and row[column].tzinfo == UTC, name
        assert row["checkpoint_count"] == len(tracking["checkpoints"]) == len(checkpoints), name
        for seq, (cp, raw) in enumerate(zip(checkpoints, tracking["checkpoints"], strict=True)):
            checkpoints_seen += 1
            assert (cp["tracking_id"], cp["seq"]) == (tracking["id"], seq), name
            instant = datetime.fromisoformat(raw["checkpoint_time"])
            # The same instant, in UTC, with the offset it was written in kept beside it.
            assert cp["checkpoint_time"] == instant and cp["checkpoint_time"].tzinfo == UTC
            assert cp["checkpoint_utc_offset_minutes"] * 60 == instant.utcoffset().total_seconds()
            assert cp["checkpoint_local_time"] == instant.replace(tzinfo=None)
            assert (cp["tag"], cp["subtag"], cp["message"]) == (
                raw["tag"],
                raw["subtag"],
                raw["message"],
            )
            assert (cp["location"], cp["country_iso3"]) == (raw["location"], raw["country_iso3"])
    assert seen == 4 and checkpoints_seen == 25
    page = parse_trackings([t for _, t in examples()])
    assert page.trackings.num_rows == 4 and page.checkpoints.num_rows == 25
    assert not page.quarantine.rows


def test_one_parcel_crosses_offsets_and_utc_keeps_the_scans_in_order():
    """FedEx China to Japan: scans written at -05:00 (the label, in Memphis' zone), +08:00 and
    +09:00. In UTC they follow the list's order, which is what ``seq`` relies on; the local
    day of delivery is still known from the wall clock."""
    _, tracking = examples()[0]
    _, checkpoints = parse_tracking(tracking)
    offsets = {cp["checkpoint_utc_offset_minutes"] for cp in checkpoints}
    assert offsets == {-300, 480, 540}
    instants = [cp["checkpoint_time"] for cp in checkpoints]
    assert instants == sorted(instants)
    delivered = checkpoints[-1]
    assert delivered["tag"] == "Delivered"
    assert delivered["checkpoint_time"] == datetime(2018, 7, 25, 1, 10, tzinfo=UTC)
    assert delivered["checkpoint_local_time"] == datetime(2018, 7, 25, 10, 10)  # Sapporo's day


def test_times_without_an_offset_keep_their_wall_clock_and_no_guessed_instant():
    _, tracking = examples()[0]
    row, _ = parse_tracking(tracking)
    # "shipment_pickup_date": "2018-07-23T08:58:00" has no offset in AfterShip's payload.
    assert row["shipment_pickup_local"] == datetime(2018, 7, 23, 8, 58)
    assert row["first_attempted_at"] == datetime(2018, 7, 25, 1, 10, tzinfo=UTC)
    assert row["first_attempted_at_utc_offset_minutes"] == 540
    assert row["order_promised_delivery_date"] == date(2019, 5, 2)
    assert local_time("2018-07-23T16:58:00", "t") == (None, None, datetime(2018, 7, 23, 16, 58))
    assert local_time("2018-07-23", "t") == (None, None, datetime(2018, 7, 23))


@pytest.mark.parametrize(
    ("value", "expected_date", "expected_at"),
    [
        ("2026-11-05", date(2026, 11, 5), None),
        ("2026-11-05T18:00:00", date(2026, 11, 5), None),
        ("2026-11-05T18:00:00+09:00", date(2026, 11, 5), datetime(2026, 11, 5, 9, tzinfo=UTC)),
    ],
)
def test_expected_delivery_in_each_of_aftership_s_three_forms(value, expected_date, expected_at):
    _, tracking = examples()[1]
    row, _ = parse_tracking({**tracking, "expected_delivery": value})
    assert (row["expected_delivery_date"], row["expected_delivery_at"]) == (
        expected_date,
        expected_at,
    )


def test_a_checkpoint_without_an_offset_loads_with_a_null_instant():
    _, tracking = examples()[0]
    tracking = copy.deepcopy(tracking)
    tracking["checkpoints"][0]["checkpoint_time"] = "2018-07-23T01:21:39"
    _, checkpoints = parse_tracking(tracking)
    first = checkpoints[0]
    assert first["checkpoint_time"] is None and first["checkpoint_utc_offset_minutes"] is None
    assert first["checkpoint_local_time"] == datetime(2018, 7, 23, 1, 21, 39)


def _corrupt(kind: str) -> dict[str, Any]:
    """The malformed forms the sandbox serves (``docs/sandbox-faults.md``), on a real tracking."""
    _, tracking = examples()[0]
    tracking = copy.deepcopy(tracking)
    if kind == "missing_id":
        del tracking["id"]
    elif kind == "bad_timestamp":
        tracking["checkpoints"][0]["checkpoint_time"] = "2026-13-45T25:61:00"
    elif kind == "bad_updated_at":
        tracking["updated_at"] = "31/12/2026"
    elif kind == "truncated_object":
        for field in ("tracking_number", "slug", "tag", "checkpoints"):
            del tracking[field]
    elif kind == "wrong_type":
        tracking["checkpoints"][0] = json.dumps(tracking["checkpoints"][0])
    elif kind == "utc_without_offset":
        tracking["created_at"] = "2018-08-17T05:10:38"
    return tracking


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing_id", "id"),
        ("bad_timestamp", "checkpoints[0].checkpoint_time"),
        ("bad_updated_at", "updated_at"),
        ("truncated_object", "checkpoints"),
        ("wrong_type", "checkpoints[0]"),
        ("utc_without_offset", "created_at"),
    ],
)
def test_a_malformed_tracking_is_quarantined_whole_and_the_page_still_loads(kind, reason):
    _, good = examples()[1]
    bad = _corrupt(kind)
    parsed = parse_trackings([bad, good])
    assert parsed.trackings.column("tracking_id").to_pylist() == [good["id"]]
    assert set(parsed.checkpoints.column("tracking_id").to_pylist()) == {good["id"]}
    [refused] = parsed.quarantine.rows
    assert reason in refused["reason"], refused["reason"]
    assert refused["source"] == "tracking" and refused["entity"] == "tracking"
    # Its tracking number, or its AfterShip id when the number itself is missing.
    assert refused["record_id"] == (bad.get("tracking_number") or bad.get("id"))
    assert json.loads(refused["payload"]) == bad
