"""The raw_tracking Great Expectations suites pass on AfterShip's own examples and flag rows
that parse but should not exist."""

from __future__ import annotations

import json

from ingestion.common.expectations import validate
from ingestion.tracking.expectations import SUITES
from ingestion.tracking.parsers import parse_trackings
from tests.fixtures_path import fixtures_dir


def example_page():
    folder = fixtures_dir("api", "aftership")
    single = json.loads((folder / "GetTrackingResult.json").read_text())["data"]["tracking"]
    page = json.loads((folder / "GetTrackingsResult.json").read_text())["data"]["trackings"]
    return parse_trackings([single, *page])


def test_the_examples_pass_both_suites():
    page = example_page()
    for table, frame in (("trackings", page.trackings), ("checkpoints", page.checkpoints)):
        result = validate(table, SUITES[table], frame.to_pandas())
        assert result.success, result.as_metadata()


def test_impossible_offsets_and_unknown_tags_are_flagged():
    checkpoints = example_page().checkpoints.to_pandas()
    checkpoints.loc[0, "checkpoint_utc_offset_minutes"] = 900
    checkpoints.loc[1, "tag"] = "Lost"
    result = validate("checkpoints", SUITES["checkpoints"], checkpoints)
    failed = {f.expectation: f.unexpected for f in result.failures}
    assert not result.success
    assert failed == {
        "expect_column_values_to_be_between(checkpoint_utc_offset_minutes)": 1,
        "expect_column_values_to_be_in_set(tag)": 1,
    }
