"""Benchmark `dbt build` on the unified order mart at scale, and an incremental run for one
new day.

``python -m benchmarks.dbt_build [--orders 1000000] [--base-orders 2000] [--keep DIR]``
writes ``benchmarks/results/dbt_build-<date>.json`` (machine, command, row counts, timings).

How the warehouse is made: serving a million orders through every API (Shopify's finance
alone is three requests per order) would take hours, and what is measured here is dbt, not
the connectors. So a base world (``--base-orders``) is served by the sandbox and loaded
through the real connectors (every source, Shopify finance on), then each raw table is
replicated K times with fresh ids (bigint ids shifted by ``k * 2**40``, text ids suffixed
``-k``, cross-source order references shifted the same way so payments, parcels and scans
still match their orders) until the orders reach ``--orders``. Distributions, currencies,
statuses and join fan-outs are the sandbox's own. World-level tables (warehouses, SKU master,
stock, ECB rates) are not replicated.

The new day: one more replica of the rows of the base world's last day, with every timestamp
moved one day later, inserted into the raw tables as one dlt load would write them (a new
``_dlt_load_id`` on the rows, a row in each dataset's ``_dlt_loads``). The same load re-loads,
unchanged, the rows inside each connector's lookback window (``RELOADED``), as the hourly run
does; then ``dbt build`` runs without ``--full-refresh`` (incremental models read only what
changed; views and tables rebuild).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.sandbox import RESULTS, machine

# Columns that identify something per order, by kind: "bigint" ids are shifted, "text" ids
# suffixed, "ref" columns hold another source's order id (a Shopify bigint as text, or an
# Amazon id) and follow that source's rule. Each table's "time" column picks the last day.
REPLICATED: dict[str, dict[str, Any]] = {
    "raw_shopify.orders": {"bigint": ["id", "customer_id"], "time": "updated_at"},
    "raw_shopify.order_line_items": {"bigint": ["id", "order_id"], "time": "order_updated_at"},
    "raw_shopify.transactions": {"bigint": ["id", "order_id", "parent_id"], "time": "created_at"},
    "raw_shopify.refunds": {"bigint": ["id", "order_id", "return_id"], "time": "created_at"},
    "raw_shopify.refund_line_items": {
        "bigint": ["id", "refund_id", "order_id", "line_item_id"],
        "time": "refund_created_at",
    },
    "raw_shopify.fulfillments": {
        "bigint": ["id", "order_id"],
        "text": ["tracking_number"],
        "time": "updated_at",
    },
    "raw_shopify.fulfillment_tracking_numbers": {
        "bigint": ["fulfillment_id", "order_id"],
        "text": ["tracking_number"],
        "time": "fulfillment_updated_at",
    },
    "raw_shopify.fulfillment_line_items": {
        "bigint": ["fulfillment_id", "line_item_id", "order_id"],
        "time": "fulfillment_updated_at",
    },
    "raw_amazon.orders": {
        "text": ["amazon_order_id", "seller_order_id", "buyer_email_hash"],
        "time": "last_update_date",
    },
    "raw_amazon.order_items": {
        "text": ["amazon_order_id", "order_item_id"],
        "time": "order_last_update_date",
    },
    "raw_stripe.charges": {
        "text": ["id", "balance_transaction_id", "payment_intent_id"],
        "ref": ["order_id"],
        "time": "created_at",
    },
    "raw_stripe.refunds": {
        "text": ["id", "charge_id", "balance_transaction_id", "payment_intent_id"],
        "ref": ["order_id"],
        "time": "created_at",
    },
    "raw_stripe.disputes": {"text": ["id", "charge_id", "payment_intent_id"], "time": "created_at"},
    "raw_stripe.balance_transactions": {"text": ["id", "source_id"], "time": "created_at"},
    "raw_paypal.transactions": {
        "text": ["transaction_id", "invoice_id"],
        "ref": ["custom_field"],
        "time": "updated_at",
    },
    "raw_paypal.transaction_items": {
        "text": ["transaction_id"],
        "time": "transaction_updated_at",
    },
    "raw_tracking.trackings": {
        "text": ["tracking_id", "tracking_number"],
        "ref": ["order_id"],
        "time": "updated_at",
    },
    "raw_tracking.checkpoints": {
        "text": ["tracking_id", "tracking_number"],
        "time": "tracking_updated_at",
    },
}
SHIFT = 2**40
# How far back each connector re-reads on every run (its settings' lookback), by table: the new
# day's load writes these rows again, unchanged. ECB rates are world-level but re-read too.
HOUR, DAY = 3600, 86_400
RELOADED: dict[str, int] = {
    **{t: HOUR for t in REPLICATED if t.startswith("raw_shopify.")},
    "raw_amazon.orders": 2 * HOUR,
    "raw_amazon.order_items": 2 * HOUR,
    "raw_stripe.charges": 7 * DAY,
    "raw_stripe.refunds": 7 * DAY,
    "raw_stripe.disputes": 120 * DAY,
    "raw_stripe.balance_transactions": 14 * DAY,
    "raw_paypal.transactions": DAY,
    "raw_paypal.transaction_items": DAY,
    "raw_tracking.trackings": HOUR,
    "raw_tracking.checkpoints": HOUR,
}
ECB_RELOADED_DAYS = 7


def load_base(base_orders: int, seed: int, warehouse: Path) -> None:
    """Serve a world and load every source through the real connectors."""
    from ingestion.common.http import RequestStats
    from ingestion.common.pipeline import make_pipeline, run_source
    from ingestion.sandbox.server import SandboxConfig, running_sandbox
    from ingestion.sandbox.state import SandboxState
    from pipelines.defs.ingestion.assets import SOURCE_FACTORIES

    os.environ.update(
        SOURCES__SHOPIFY__FINANCE="true",
        # The sandbox's bucket is raised to match: the connectors are not what is measured.
        SOURCES__SHOPIFY__REQUESTS_PER_SECOND="400",
        SOURCES__SHOPIFY__BURST="400",
    )
    state = SandboxState.generate(seed=seed, n_orders=base_orders)
    fast = SandboxConfig(bucket_size=400, leak_rate_per_s=400.0)
    with running_sandbox(state=state, config=fast) as url:
        os.environ["TRADELANE_SANDBOX_URL"] = url
        for name, factory in SOURCE_FACTORIES.items():
            stats = RequestStats()
            run_source(make_pipeline(name, warehouse), factory(stats=stats), name, stats)


def _select(
    con: duckdb.DuckDBPyConnection,
    table: str,
    spec: dict[str, Any],
    k: str,
    shift_days: int = 0,
    load_id: str | None = None,
) -> str:
    """The SELECT list of replica ``k`` (a column or a number) of ``table``, written by load
    ``load_id`` (else by the base world's loads)."""
    schema, name = table.split(".")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'base' and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    out = []
    for column, data_type in columns:
        if column == "_dlt_load_id" and load_id is not None:
            out.append(f"'{load_id}' as {column}")
        elif column in spec.get("bigint", []):
            out.append(f"{column} + {k} * {SHIFT} as {column}")
        elif column in spec.get("text", []):
            out.append(
                f"case when {k} = 0 then {column} else {column} || '-' || {k} end as {column}"
            )
        elif column in spec.get("ref", []):
            out.append(
                f"case when {k} = 0 then {column} "
                f"when try_cast({column} as bigint) is not null "
                f"then cast(cast({column} as bigint) + {k} * {SHIFT} as varchar) "
                f"else {column} || '-' || {k} end as {column}"
            )
        elif shift_days and data_type.startswith(("TIMESTAMP", "DATE")):
            out.append(f"{column} + interval {shift_days} day as {column}")
        else:
            out.append(column)
    return ", ".join(out)


def scale(base: Path, warehouse: Path, replicas: int) -> dict[str, int]:
    """Copy ``base`` to ``warehouse`` with every order-level raw table replicated."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{base}' as base (read_only)")
        con.execute(
            "copy from database base to " + con.execute("select current_database()").fetchone()[0]
        )
        rows = {}
        for table, spec in REPLICATED.items():
            con.execute(f"delete from {table}")
            select = _select(con, table, spec, "k")
            con.execute(
                f"insert into {table} select {select} from base.{table}, range({replicas}) r(k)"
            )
            rows[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
        con.execute("checkpoint")
    return rows


def add_new_day(base: Path, warehouse: Path, replicas: int) -> dict[str, int]:
    """The base world's last day, replicated as often as the rest (new ids: replicas
    ``replicas`` to ``2 * replicas - 1``) and one day later, into ``warehouse`` as one new dlt
    load, which also re-loads each connector's lookback window unchanged (``RELOADED``);
    returns the rows added per table, and per table the rows re-loaded (``<table> reloaded``)."""
    added = {}
    load_id = f"{time.time():.6f}"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{base}' as base (read_only)")
        end = con.execute("select max(updated_at) from base.raw_shopify.orders").fetchone()[0]
        for table, spec in REPLICATED.items():
            [(added[table],)] = con.execute(
                f"update {table} set _dlt_load_id = ? "
                f"where {spec['time']} > ?::timestamptz - to_seconds(?)",
                [load_id, end, RELOADED[table]],
            ).fetchall()
            added[f"{table} reloaded"] = added.pop(table)
            select = _select(con, table, spec, f"({replicas} + k)", shift_days=1, load_id=load_id)
            [(added[table],)] = con.execute(
                f"insert into {table} select {select} from base.{table}, range({replicas}) r(k) "
                f"where {spec['time']} > ?::timestamptz - interval 1 day",
                [end],
            ).fetchall()
        [(added["raw_ecb.rates reloaded"],)] = con.execute(
            "update raw_ecb.rates set _dlt_load_id = ? "
            f"where rate_date > (select max(rate_date) from raw_ecb.rates) - {ECB_RELOADED_DAYS}",
            [load_id],
        ).fetchall()
        for schema in sorted({t.split(".")[0] for t in REPLICATED} | {"raw_ecb"}):
            con.execute(
                f"insert into {schema}._dlt_loads (load_id, schema_name, status, inserted_at, "
                "schema_version_hash) select ?, schema_name, 0, now(), schema_version_hash "
                f"from {schema}._dlt_loads order by inserted_at desc limit 1",
                [load_id],
            )
        con.execute("checkpoint")
    return added


def dbt_build(
    warehouse: Path, work_dir: Path, label: str, *extra: str
) -> tuple[float, dict[str, float]]:
    """Seconds for one `dbt build` (models, seeds, snapshot and every test) on ``warehouse``,
    and where they went: the slowest nodes, and models and tests each summed.

    Both builds share ``work_dir``'s target folder, as the hourly run does: the second one
    reuses dbt's partial parse instead of parsing the project again. Each build's
    ``run_results.json`` is kept as ``<label>-run_results.json`` beside it, for per-node study."""
    from pipelines.defs.dbt.project import run_dbt_on

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_dbt_on(warehouse, "build", *extra, work_dir=work_dir)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-4000:])
    run_results = work_dir / "target" / "run_results.json"
    shutil.copyfile(run_results, work_dir / f"{label}-run_results.json")
    slowest = _slowest(run_results)
    # CPU seconds of the dbt process (DuckDB's threads included): the figure that holds when
    # other jobs share the two cores and stretch the wall time.
    slowest["cpu seconds"] = round(
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1
    )
    return round(seconds, 1), slowest


def _slowest(run_results: Path, top: int = 15) -> dict[str, float]:
    """The ``top`` slowest nodes of a dbt run, the seconds of all its models (seeds and the
    snapshot too) and of all its tests, summed over both threads, and dbt's own elapsed time
    (the wall time less starting Python and parsing)."""
    run = json.loads(run_results.read_text())
    results = run["results"]
    nodes = sorted(results, key=lambda r: -r["execution_time"])[:top]
    slowest = {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 1) for r in nodes}
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    slowest["all tests"] = round(sum(r["execution_time"] for r in tests), 1)
    slowest["all models"] = round(sum(r["execution_time"] for r in results if r not in tests), 1)
    slowest["nodes"] = len(results)
    slowest["dbt elapsed"] = round(run["elapsed_time"], 1)
    return slowest


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dbt_build", description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--base-orders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", help="folder to keep the warehouses in (default: a temp dir)")
    parser.add_argument(
        "--results",
        help="file to write the figures to (default: benchmarks/results/dbt_build-<date>.json)",
    )
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="dbt-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DLT_DATA_DIR", str(folder / "dlt"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")
    base = folder / "base.duckdb"
    if not base.exists():
        load_base(args.base_orders, args.seed, base)
    with duckdb.connect(str(base), read_only=True) as con:
        [(base_orders,)] = con.execute(
            "select (select count(*) from raw_shopify.orders)"
            " + (select count(*) from raw_amazon.orders)"
        ).fetchall()
    replicas = math.ceil(args.orders / base_orders)
    warehouse = folder / "scaled.duckdb"
    warehouse.unlink(missing_ok=True)
    started = time.perf_counter()
    rows = scale(base, warehouse, replicas)
    scale_seconds = round(time.perf_counter() - started, 1)
    full, full_slowest = dbt_build(warehouse, folder / "dbt", "full", "--full-refresh")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = {
            t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
            for t in (
                "fct_orders",
                "fct_order_lines",
                "fct_payments",
                "fct_shipments",
                "fct_tracking_events",
            )
        }
    new_day = add_new_day(base, warehouse, replicas)
    incremental, incremental_slowest = dbt_build(warehouse, folder / "dbt", "new-day")
    result = {
        "benchmark": "dbt_build",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            ["python -m benchmarks.dbt_build", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "base_world_orders": base_orders,
        "replicas": replicas,
        "raw_rows": rows,
        "scale_seconds": scale_seconds,
        "mart_rows": marts,
        "full_build_seconds": full,
        "full_build_slowest_seconds": full_slowest,
        "new_day_raw_rows": new_day,
        "incremental_build_seconds": incremental,
        "incremental_build_slowest_seconds": incremental_slowest,
        "incremental_share_of_full": round(incremental / full, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.results or RESULTS / f"dbt_build-{datetime.now(UTC).date()}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
