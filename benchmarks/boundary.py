"""How long the great-expectations boundary takes per raw table as tables grow.

The boundary (``pipelines/defs/ingestion/boundary.py``) validates the rows each load wrote; a
first load (or one finishing an interrupted package) validates whole tables. This measures that
cost by table size: a sandbox world is loaded once (Shopify orders and line items, tracking
checkpoints), each table is replicated with fresh keys up to each size, and ``enforce_suite`` is
timed on the whole of it (clean data: nothing to quarantine). The first figure includes the
one-off ``import great_expectations`` (about 6 s).

``python -m benchmarks.boundary [--sizes 100000,1000000]`` writes
``results/boundary-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.sandbox.server import SandboxConfig, running_sandbox
from ingestion.shopify import shopify_source
from ingestion.tracking import tracking_source
from pipelines.defs.ingestion.boundary import enforce_suite
from pipelines.defs.ingestion.suites import RAW_SUITES

RESULTS = Path(__file__).parent / "results"
# (source, table, the key column replicated copies are offset in, its kind)
TABLES = (
    ("shopify", "orders", "id", "int"),
    ("shopify", "order_line_items", "id", "int"),
    ("tracking", "checkpoints", "tracking_id", "text"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="boundary-bench-"))
    os.environ.setdefault("DLT_DATA_DIR", str(work / "dlt"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    base = work / "base.duckdb"
    with running_sandbox(config=SandboxConfig(bucket_size=10**9), n_orders=2000) as url:
        os.environ["TRADELANE_SANDBOX_URL"] = url  # both sources default to the sandbox
        for source, factory in (("shopify", shopify_source), ("tracking", tracking_source)):
            run_source(make_pipeline(source, base), factory(), source)
    results = []
    for size in sizes:
        for source, table, key, kind in TABLES:
            warehouse = work / f"{table}-{size}.duckdb"
            with duckdb.connect(str(warehouse)) as con:
                con.execute(f"attach '{base}' as base (read_only)")
                con.execute(f"create schema raw_{source}")
                [(rows,)] = con.execute(
                    f"select count(*) from base.raw_{source}.{table}"
                ).fetchall()
                copies = -(-size // rows)
                offset = (
                    f"{key} + c.range * 1000000000000"
                    if kind == "int"
                    else (f"{key} || '-' || c.range")
                )
                con.execute(
                    f"create table raw_{source}.{table} as select * replace ({offset} as {key}) "
                    f"from base.raw_{source}.{table} cross join range({copies}) c limit {size}"
                )
            started = time.perf_counter()
            result = enforce_suite(
                make_pipeline(source, warehouse),
                _connector(warehouse),
                source,
                table,
                RAW_SUITES[source][table],
            )
            seconds = time.perf_counter() - started
            assert result.validation is not None and result.validation.success
            results.append({"table": f"raw_{source}.{table}", "rows": size, "seconds": seconds})
            print(f"raw_{source}.{table}: {size:,} rows validated in {seconds:.1f} s", flush=True)
            warehouse.unlink()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"boundary-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(
        json.dumps(
            {
                "command": f"python -m benchmarks.boundary --sizes {args.sizes}",
                "machine": {
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_at_start": load_at_start,
                },
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


@contextmanager
def _connector_context(path: Path):
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()


def _connector(path: Path):
    return lambda: _connector_context(path)


if __name__ == "__main__":
    main()
