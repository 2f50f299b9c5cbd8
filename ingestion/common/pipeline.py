"""The dlt pipeline factory: one pipeline per source, loading its ``raw_<source>`` dataset in
the warehouse with parquet files (DESIGN.md: the default insert path needs ~3 GB for 200k rows).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltSource

from tradelane import settings


def make_pipeline(source_name: str, warehouse: Path | None = None) -> dlt.Pipeline:
    """A pipeline named ``tradelane_<source>`` writing dataset ``raw_<source>``."""
    warehouse = warehouse or settings.warehouse_path()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"tradelane_{source_name}",
        pipelines_dir=str(settings.dlt_data_dir() / "pipelines" / _warehouse_tag(warehouse)),
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=f"raw_{source_name}",
    )


def _warehouse_tag(warehouse: Path) -> str:
    """Pipeline state belongs to one warehouse: a test's temporary warehouse must not resume
    from the demo's cursor. The tag keeps one state folder per warehouse file."""
    return hashlib.sha256(str(warehouse.resolve()).encode()).hexdigest()[:12]


@dataclass
class LoadSummary:
    """What one load did, for run metadata and ``tradelane status``."""

    source: str
    load_ids: list[str]
    rows_by_table: dict[str, int]
    quarantined: int
    requests: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "load_ids": ", ".join(self.load_ids) or "none",
            "quarantined_records": self.quarantined,
            **{f"rows_{table}": n for table, n in self.rows_by_table.items()},
            **{f"http_{k}": v for k, v in self.requests.items()},
        }


def run_source(
    pipeline: dlt.Pipeline, source: DltSource, source_name: str, stats: Any = None
) -> LoadSummary:
    """Extract, normalize and load ``source``.

    A run killed earlier may have left a package extracted but not normalized or loaded. Its
    cursor state travels inside that package, so it is finished first (normalize, load) and
    only then is the source extracted again, from the cursor the package committed: the end
    state equals an uninterrupted run's, and nothing already loaded is lost or duplicated.
    """
    with fewer_gc_pauses(), dlt.config.values(LOAD_ID_ON_ARROW_ROWS):
        return _run_source(pipeline, source, source_name, stats)


# Every raw row carries the id of the load that wrote it (`_dlt_load_id`, dlt's default for
# dict rows but off for Arrow tables). dbt's incremental models select what changed by load,
# not by the sources' own timestamps (dbt_project/DECISIONLOG.md, "History and increments").
LOAD_ID_ON_ARROW_ROWS = {"normalize.parquet_normalizer.add_dlt_load_id": True}


# A generation-0 collection every this many new container objects instead of Python's 700.
GC_GEN0_THRESHOLD = 100_000


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """Run with the cyclic garbage collector mostly out of the way.

    Decoding a page of JSON creates hundreds of thousands of dicts and lists at once; with the
    default threshold (a collection every 700 new objects) Python's collector runs hundreds of
    times per page and rescans every surviving object. Measured on 18 Shopify order pages
    (50 MB, 4,486 orders, ``benchmarks/README.md``): orjson decoded 53 MB/s of CPU time with
    the defaults and 140 MB/s with the objects alive before the run frozen and a collection
    every 100,000 objects; the per-record parsers gain too. JSON values hold no reference
    cycles, so collecting less often frees the same memory, only later. The defaults come back
    when the load ends, whatever happens.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_source(
    pipeline: dlt.Pipeline, source: DltSource, source_name: str, stats: Any
) -> LoadSummary:
    load_ids: list[str] = []
    rows: dict[str, int] = {}
    if pipeline.has_pending_data:
        pipeline.normalize()
        _count_rows(pipeline, rows)
        finished = pipeline.load()
        finished.raise_on_failed_jobs()
        load_ids += list(finished.loads_ids)
    info: LoadInfo = pipeline.run(source, loader_file_format="parquet")
    info.raise_on_failed_jobs()
    _count_rows(pipeline, rows)
    load_ids += list(info.loads_ids)
    return LoadSummary(
        source=source_name,
        load_ids=load_ids,
        rows_by_table=rows,
        quarantined=rows.get("quarantine", 0),
        requests=stats.as_dict() if stats is not None else {},
    )


def _count_rows(pipeline: dlt.Pipeline, into: dict[str, int]) -> None:
    """Add the last normalize step's row counts (dlt's own tables left out)."""
    trace = pipeline.last_trace
    normalize_info = trace.last_normalize_info if trace else None
    if normalize_info is None:
        return
    for table, count in normalize_info.row_counts.items():
        if not table.startswith("_dlt"):
            into[table] = into.get(table, 0) + count
