"""Benchmark ingestion throughput: the full load of a sandbox world into a fresh warehouse.

``python -m benchmarks.throughput [--sizes 10000,100000] [--seed 42] [--workers N]
[--processes N] [--sources tracking,stripe] [--label x]``
writes ``benchmarks/results/throughput-<date>[-<label>].json`` with the machine and the command.

For each world size a world is generated and served by ``uvicorn`` in its own process (rate
limits lifted: this measures throughput, not politeness), and every source of the full load
(Shopify orders with finance, Amazon orders and items, Stripe, PayPal, tracking, WMS, ECB) runs
twice, each time into a fresh warehouse:

- **live**: against the server over real HTTP, recording every response on the way;
- **replay**: the same responses served from memory through ``httpx.MockTransport``, so the
  figure is the connectors' own cost (decode, parse, normalize, load into DuckDB) without the
  sandbox's rendering, which another process pays for in the live run and which a real API
  pays for on its own servers.

Reported per source: seconds, the loading process's CPU seconds and, in the live run, the
server's (read from ``/proc``), so wall time splits into client work, server work and waiting;
rows per table, rows/s. Overall: orders/s, where "orders" are the world's orders of every
channel visible at the clock, and the time is the whole load. ``--workers`` sets how many
per-order requests (Amazon items, Shopify transactions) are in flight at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks.sandbox import RESULTS, _free_port, machine

UNLIMITED = 1e9


class Recording:
    """Responses by request (method, URL, body), in the order they were first served.

    Bodies are spooled to an unnamed temporary file and read back by offset: a 100k world
    serves 1.4 GB of responses, so a million-order run kept in memory would need about 14 GB
    beside the server's world. Only the (status, headers, offset, length) of each stays here.
    """

    def __init__(self) -> None:
        self.responses: dict[tuple[str, str, bytes], tuple[int, list[tuple[str, str]], int, int]]
        self.responses = {}
        self._spool = tempfile.TemporaryFile(prefix="throughput-responses-")
        self._size = 0
        # ``parallel_load`` records from several threads.
        self._lock = threading.Lock()

    def key(self, request: httpx.Request) -> tuple[str, str, bytes]:
        return request.method, str(request.url), request.content

    @property
    def megabytes(self) -> float:
        return round(self._size / 2**20, 1)

    def keep(self, request: httpx.Request, status: int, headers: list[Any], body: bytes) -> None:
        with self._lock:
            offset = self._size
            self._spool.seek(offset)
            self._spool.write(body)
            self._spool.flush()
            self._size += len(body)
            self.responses[self.key(request)] = (status, headers, offset, len(body))

    def body(self, offset: int, length: int) -> bytes:
        return os.pread(self._spool.fileno(), length, offset)

    def close(self) -> None:
        self._spool.close()

    def recorder(self) -> httpx.BaseTransport:
        """A real HTTP transport that keeps a copy of every response."""
        recording = self

        class _Recorder(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                response = super().handle_request(request)
                content = response.read()
                response.close()
                headers = [
                    (k, v)
                    for k, v in response.headers.multi_items()
                    if k.lower() not in {"content-encoding", "transfer-encoding", "content-length"}
                ]
                recording.keep(request, response.status_code, headers, content)
                return httpx.Response(response.status_code, headers=headers, content=content)

        return _Recorder()

    def replayer(self) -> httpx.BaseTransport:
        """Serve the recorded responses from the spool; a request never recorded is an error
        (the replay must make exactly the requests the live run made)."""

        def handle(request: httpx.Request) -> httpx.Response:
            try:
                status, headers, offset, length = self.responses[self.key(request)]
            except KeyError:
                raise RuntimeError(f"replay: no recorded response for {request.url}") from None
            return httpx.Response(status, headers=headers, content=self.body(offset, length))

        return httpx.MockTransport(handle)


def _run_server(port: int, n_orders: int, seed: int, ready: Any) -> None:
    """Child process: generate a world, lift every API's rate limit, serve it."""
    import uvicorn

    from ingestion.sandbox import api_aftership, api_amazon, api_amazon_reports, api_stripe
    from ingestion.sandbox.context import SandboxConfig
    from ingestion.sandbox.server import create_app
    from ingestion.sandbox.state import SandboxState

    api_aftership.RATE_LIMIT_PER_S = UNLIMITED
    api_stripe.RATE_PER_SECOND = int(UNLIMITED)
    api_amazon.USAGE_PLANS = {
        op: api_amazon.UsagePlan(plan.published_rate, 10**9, UNLIMITED)
        for op, plan in api_amazon.USAGE_PLANS.items()
    }
    api_amazon_reports.USAGE_PLANS = {
        op: api_amazon.UsagePlan(plan.published_rate, 10**9, UNLIMITED)
        for op, plan in api_amazon_reports.USAGE_PLANS.items()
    }
    state = SandboxState.generate(seed=seed, n_orders=n_orders)
    counts = state.orders_view().group_by("channel_id").len().rows()
    ready.put({channel: n for channel, n in counts})
    app = create_app(state, SandboxConfig(bucket_size=10**9, leak_rate_per_s=UNLIMITED))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def sources(
    url: str,
    transport: httpx.BaseTransport,
    workers: int | None = None,
    only: tuple[str, ...] | None = None,
) -> dict[str, Callable[[Any], Any]]:
    """Every source of the full load (or the ``only`` ones), unthrottled on the client side
    too, each reading through ``transport``; ``workers`` per-order requests in flight (the
    connectors' default if None)."""
    from ingestion.amazon import amazon_source
    from ingestion.ecb import ecb_source
    from ingestion.paypal import paypal_source
    from ingestion.shopify import shopify_source
    from ingestion.stripe import stripe_source
    from ingestion.tracking import settings as tracking_settings
    from ingestion.tracking import tracking_source
    from ingestion.wms import wms_source

    opts = {"client_options": {"transport": transport}}
    fast = {"requests_per_second": UNLIMITED, "burst": UNLIMITED}
    shopify_pool = {} if workers is None else {"transaction_request_workers": workers}
    amazon_pool = {} if workers is None else {"item_request_workers": workers}
    every = {
        "shopify": lambda stats: shopify_source(
            shop_url=url, finance=True, **fast, stats=stats, **shopify_pool, **opts
        ),
        "amazon": lambda stats: amazon_source(
            endpoint=url,
            orders_rate_per_s=UNLIMITED,
            orders_burst=UNLIMITED,
            items_rate_per_s=UNLIMITED,
            items_burst=UNLIMITED,
            reports_rate_per_s=UNLIMITED,
            stats=stats,
            **amazon_pool,
            **opts,
        ),
        "stripe": lambda stats: stripe_source(base_url=url, **fast, stats=stats, **opts),
        # A fixed start: the default (three years before now) would differ between the runs.
        "paypal": lambda stats: paypal_source(
            base_url=url, start_date="2020-01-01T00:00:00Z", **fast, stats=stats, **opts
        ),
        "tracking": lambda stats: tracking_source(
            endpoint=url + tracking_settings.API_PATH, **fast, stats=stats, **opts
        ),
        "wms": lambda stats: wms_source(base_url=url, **fast, stats=stats, **opts),
        "ecb": lambda stats: ecb_source(base_url=url, stats=stats, **opts),
    }
    return {name: make for name, make in every.items() if only is None or name in only}


def full_load(
    url: str,
    transport: Callable[[], httpx.BaseTransport],
    warehouse: Path,
    workers: int | None = None,
    server_pid: int | None = None,
    only: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Run every source (or the ``only`` ones) into ``warehouse``, reading through one
    transport from ``transport``; seconds, CPU seconds (ours and, given its pid, the
    server's) and rows per source."""
    from ingestion.common.http import RequestStats
    from ingestion.common.pipeline import make_pipeline, run_source

    out: dict[str, Any] = {}
    for name, make in sources(url, transport(), workers, only).items():
        stats = RequestStats()
        source = make(stats)
        started, cpu_started = time.perf_counter(), time.process_time()
        server_started = process_cpu_seconds(server_pid)
        summary = run_source(make_pipeline(name, warehouse), source, name, stats)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        server_cpu = _delta(server_started, process_cpu_seconds(server_pid))
        rows = sum(n for table, n in summary.rows_by_table.items() if table != "quarantine")
        out[name] = {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "server_cpu_seconds": server_cpu,
            "requests": stats.requests,
            "rows": summary.rows_by_table,
            "rows_per_second": round(rows / seconds) if seconds else None,
        }
        server = "" if server_cpu is None else f", server {server_cpu:6.2f}s"
        print(
            f"  {name:<9} {seconds:7.2f}s (cpu {cpu:6.2f}s{server}) {stats.requests:>7,} "
            f"requests {rows:>10,} rows"
        )
    return out


def parallel_load(
    url: str,
    transport: Callable[[], httpx.BaseTransport],
    warehouse: Path,
    workers: int | None = None,
    server_pid: int | None = None,
    only: tuple[str, ...] | None = None,
    threads: int = 2,
) -> dict[str, Any]:
    """Every source's extract and normalize on ``threads`` threads, then each package loaded
    by this thread, one after the other: DuckDB keeps one writer, and dlt runs pipelines in
    separate threads (each thread has its own injection container). What overlaps is one
    source's waiting for the server with another's parsing."""
    from concurrent.futures import ThreadPoolExecutor

    from ingestion.common.http import RequestStats
    from ingestion.common.pipeline import fewer_gc_pauses, make_pipeline

    # A transport each: closing a source's client closes its transport's connections, which
    # must not be the ones another source is still reading from.
    names = list(sources(url, transport(), workers, only))
    made = {
        name: (sources(url, transport(), workers, only)[name], RequestStats()) for name in names
    }

    def extract(name: str) -> tuple[Any, float]:
        make, stats = made[name]
        started = time.perf_counter()
        pipeline = make_pipeline(name, warehouse)
        pipeline.extract(make(stats), loader_file_format="parquet")
        pipeline.normalize()
        return pipeline, time.perf_counter() - started

    out: dict[str, Any] = {}
    server_started = process_cpu_seconds(server_pid)
    with fewer_gc_pauses(), ThreadPoolExecutor(threads, thread_name_prefix="source") as pool:
        # Submitted in the order of ``sources``: the two longest (Shopify, Amazon) first, side
        # by side, the short ones after them; loaded in that order as each finishes.
        for name, future in [(n, pool.submit(extract, n)) for n in made]:
            pipeline, seconds = future.result()
            counts = pipeline.last_trace.last_normalize_info.row_counts
            pipeline.load().raise_on_failed_jobs()
            rows = {t: n for t, n in counts.items() if not t.startswith("_dlt")}
            out[name] = {
                "extract_normalize_seconds": round(seconds, 2),
                "requests": made[name][1].requests,
                "rows": rows,
            }
            print(f"  {name:<9} extract+normalize {seconds:7.2f}s on its thread, loaded")
    out["server_cpu_seconds"] = _delta(server_started, process_cpu_seconds(server_pid))
    return out


def process_load(
    url: str,
    transport: Callable[[], httpx.BaseTransport],
    warehouse: Path,
    workers: int | None = None,
    server_pid: int | None = None,
    only: tuple[str, ...] | None = None,
    processes: int = 2,
) -> dict[str, Any]:
    """Every source's extract and normalize in a pool of ``processes`` processes (each its own
    interpreter, so parsing runs on both cores, which threads sharing the GIL cannot), then each
    package loaded by this process as its source finishes, one after the other: DuckDB keeps
    one writer. Reads over plain HTTP (``transport`` is not used: a recording cannot cross
    processes), so this mode has no replay. The pool's CPU is read from ``getrusage`` of the
    reaped children, interpreter start-up and imports included."""
    from concurrent.futures import ProcessPoolExecutor

    from ingestion.common.pipeline import make_pipeline

    del transport
    names = list(sources(url, httpx.MockTransport(print), workers, only))
    out: dict[str, Any] = {}
    server_started = process_cpu_seconds(server_pid)
    children_started = _children_cpu_seconds()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        # Submitted in the order of ``sources``: the longest first, loaded as each finishes.
        futures = [
            (name, pool.submit(_extract_in_process, url, name, warehouse, workers))
            for name in names
        ]
        for name, future in futures:
            extracted = future.result()
            started = time.perf_counter()
            make_pipeline(name, warehouse).load().raise_on_failed_jobs()
            out[name] = {**extracted, "load_seconds": round(time.perf_counter() - started, 2)}
            print(
                f"  {name:<9} extract+normalize {extracted['extract_normalize_seconds']:7.2f}s "
                f"(cpu {extracted['cpu_seconds']:6.2f}s) in a worker process, loaded in "
                f"{out[name]['load_seconds']:.2f}s"
            )
    out["server_cpu_seconds"] = _delta(server_started, process_cpu_seconds(server_pid))
    out["worker_processes_cpu_seconds"] = round(_children_cpu_seconds() - children_started, 2)
    return out


def _extract_in_process(
    url: str, name: str, warehouse: Path, workers: int | None
) -> dict[str, Any]:
    """Worker process: extract and normalize one source over HTTP into its pipeline's folder
    (the package waits there for the parent to load it)."""
    from ingestion.common.http import RequestStats
    from ingestion.common.pipeline import fewer_gc_pauses, make_pipeline

    started, cpu_started = time.perf_counter(), time.process_time()
    stats = RequestStats()
    source = sources(url, httpx.HTTPTransport(), workers, (name,))[name](stats)
    pipeline = make_pipeline(name, warehouse)
    with fewer_gc_pauses():
        pipeline.extract(source, loader_file_format="parquet")
        pipeline.normalize()
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {
        "extract_normalize_seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "requests": stats.requests,
        "rows": {t: n for t, n in counts.items() if not t.startswith("_dlt")},
    }


def _children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` from ``/proc`` (Linux); None elsewhere."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime fields 14 and 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 2)


def measure(
    n_orders: int,
    seed: int,
    workers: int | None = None,
    parallel: int = 0,
    only: tuple[str, ...] | None = None,
    processes: int = 0,
) -> dict[str, Any]:
    """Serve one world, load it live (recording), then replay it; both figures. With
    ``parallel`` > 0 the sources are extracted on that many threads (``parallel_load``), with
    ``processes`` > 0 in that many worker processes (``process_load``, live only);
    ``only`` names the sources to load (all when None). Orders/s always counts the world's
    orders: with a subset it is how fast those sources alone would let a full load go."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    port = _free_port()
    server = ctx.Process(target=_run_server, args=(port, n_orders, seed, ready), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {
        "world_orders": n_orders,
        "request_workers": workers,
        "parallel_sources": parallel,
        "source_processes": processes,
        "sources": list(only) if only else "all",
    }
    load = (
        partial(process_load, processes=processes, only=only)
        if processes
        else partial(parallel_load, threads=parallel, only=only)
        if parallel
        else partial(full_load, only=only)
    )
    recording = Recording()
    try:
        orders_by_channel = ready.get(timeout=1800)
        _wait_for(url, server)
        orders = sum(orders_by_channel.values())
        result["orders_visible"] = orders
        result["orders_by_channel"] = orders_by_channel
        with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
            print(f"{n_orders:,}-order world ({orders:,} orders visible): live load")
            result["live"] = _timed(
                load, url, recording.recorder, Path(tmp) / "live.duckdb", workers, server.pid
            )
            live = result["live"]["sources"]
            server_cpu = (
                [live.pop("server_cpu_seconds")]
                if parallel or processes
                else [s["server_cpu_seconds"] for s in live.values()]
            )
            if None not in server_cpu:
                result["live"]["server_cpu_seconds"] = round(sum(server_cpu), 2)
            if processes:
                # The loading process's own CPU plus its worker processes'.
                result["live"]["cpu_seconds"] = round(
                    result["live"]["cpu_seconds"] + live.pop("worker_processes_cpu_seconds"), 2
                )
            result["live"]["orders_per_second"] = round(orders / result["live"]["seconds"])
            print(f"  -> {result['live']['orders_per_second']:,} orders/s over HTTP")
            if processes:
                return result
            print("replay from memory")
            result["replay"] = _timed(
                load, url, recording.replayer, Path(tmp) / "replay.duckdb", workers
            )
            result["replay"]["sources"].pop("server_cpu_seconds", None)
            replay = result["replay"]
            replay["orders_per_second"] = round(orders / replay["seconds"])
            replay["orders_per_cpu_second"] = round(orders / replay["cpu_seconds"])
            print(
                f"  -> {replay['orders_per_second']:,} orders/s from memory "
                f"({replay['orders_per_cpu_second']:,} per CPU second)"
            )
            result["requests"] = len(recording.responses)
            result["response_mb"] = recording.megabytes
    finally:
        recording.close()
        server.terminate()
        server.join(timeout=30)
    return result


def _timed(func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Wall and CPU time of this process: the machine is shared, and CPU time is the
    connectors' own cost whatever else runs beside them."""
    started, cpu_started = time.perf_counter(), time.process_time()
    per_source = func(*args)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "sources": per_source,
    }


def _wait_for(url: str, server: Any) -> None:
    deadline = time.monotonic() + 300
    while True:
        try:
            httpx.get(f"{url}/_sandbox/clock", timeout=5).raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or not server.is_alive():
                raise RuntimeError("the benchmark server did not start") from None
            time.sleep(0.3)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="orders per world")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--workers", type=int, default=None, help="per-order requests in flight (default: 4)"
    )
    parser.add_argument(
        "--parallel-sources",
        type=int,
        default=0,
        help="extract the sources on this many threads, loading one at a time (default: 0, "
        "one source after the other)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="extract the sources in this many worker processes, loading one at a time in "
        "this one (live only; default: 0)",
    )
    parser.add_argument(
        "--sources",
        default="",
        help="comma-separated sources to load, e.g. tracking,stripe (default: all)",
    )
    parser.add_argument("--label", default="", help="suffix of the result file's name")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    only = tuple(s for s in args.sources.split(",") if s) or None
    unknown = set(only or ()) - set(sources("http://unused", httpx.MockTransport(print)))
    if unknown:
        parser.error(f"unknown sources: {', '.join(sorted(unknown))}")
    from ingestion.amazon.settings import configured_items_via

    # As the Makefile sets them (DESIGN.md): no telemetry, no completed jobs kept, dlt state in
    # a throwaway folder so a benchmark never resumes from (or disturbs) a real pipeline.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["LOAD__DELETE_COMPLETED_JOBS"] = "true"
    os.environ["DLT_DATA_DIR"] = tempfile.mkdtemp(prefix="throughput-dlt-")
    report: dict[str, Any] = {
        "benchmark": "throughput",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.throughput", *(argv or sys.argv[1:])]),
        "machine": machine(),
        # How Amazon items were read (SOURCES__AMAZON__ITEMS_VIA; default: the Reports API).
        "amazon_items_via": configured_items_via(),
        "runs": [],
    }
    for size in (int(s) for s in args.sizes.split(",") if s):
        report["runs"].append(
            measure(size, args.seed, args.workers, args.parallel_sources, only, args.processes)
        )
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    path = args.out / f"throughput-{datetime.now(UTC):%Y-%m-%d}{suffix}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
