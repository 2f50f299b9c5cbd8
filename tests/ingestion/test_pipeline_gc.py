"""``run_source`` keeps the garbage collector out of a load's way and gives the process its
collector back afterwards, also when the load fails."""

from __future__ import annotations

import gc

import dlt
import pytest

from ingestion.common.pipeline import GC_GEN0_THRESHOLD, make_pipeline, run_source


def test_a_load_collects_less_often_and_restores_the_collector_even_when_it_fails(tmp_path):
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    @dlt.source(name="broken")
    def broken():
        @dlt.resource(name="rows")
        def rows():
            seen.append(gc.get_threshold())
            yield {"id": 1}
            raise RuntimeError("the API went away")

        return rows

    with pytest.raises(Exception, match="the API went away"):
        run_source(make_pipeline("broken", tmp_path / "w.duckdb"), broken(), "broken")
    assert seen and seen[0][0] == GC_GEN0_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
