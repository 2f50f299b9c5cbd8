"""The dlt pipeline factory: one pipeline per source, loading its ``raw_<source>`` dataset in
the warehouse with parquet files (DESIGN.md: the default insert path needs ~3 GB for 200k rows).
"""

from __future__ import annotations

import hashlib
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
    """Extract, normalize and load ``source``; finish any package a killed run left behind first
    (dlt's ``run`` does that on its own, before extracting anew)."""
    info: LoadInfo = pipeline.run(source, loader_file_format="parquet")
    info.raise_on_failed_jobs()
    rows = dict(pipeline.last_trace.last_normalize_info.row_counts) if pipeline.last_trace else {}
    rows = {t: n for t, n in rows.items() if not t.startswith("_dlt")}
    return LoadSummary(
        source=source_name,
        load_ids=list(info.loads_ids),
        rows_by_table=rows,
        quarantined=rows.get("quarantine", 0),
        requests=stats.as_dict() if stats is not None else {},
    )
