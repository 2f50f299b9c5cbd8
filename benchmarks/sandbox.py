"""Benchmark the sandbox: world generation at several sizes and Shopify serving over HTTP.

``python -m benchmarks.sandbox [--sizes 10000,100000,1000000] [--serve-orders 100000]``
writes ``benchmarks/results/sandbox-<date>.json`` with the machine (cores, memory, Python,
platform) and the command, and prints a summary.

Why these measures: generation must stay vectorized (the target is a million orders, with
their payments, scans and stock, in under three minutes on two cores), and serving must keep
up with ingestion: the Shopify connector pages through every order, so orders served per
second over real HTTP, and the cost of the first page after the clock moves (when views are
rebuilt), are what limit a pipeline run. Each size runs in a fresh process, so peak memory is
that size's own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _generate(n_orders: int, seed: int, write: bool) -> dict[str, Any]:
    """Generate (and write) one world in this process; timings and sizes."""
    from ingestion.sandbox.ledger import write_ledger
    from ingestion.sandbox.world import generate_world

    started = time.perf_counter()
    world = generate_world(seed=seed, n_orders=n_orders)
    generated = time.perf_counter() - started
    result: dict[str, Any] = {
        "orders_visible_at_start": n_orders,
        "orders_in_ledger": world.orders.height,
        "generate_seconds": round(generated, 2),
        "rows": {name: frame.height for name, frame in world.frames().items()},
    }
    if write:
        folder = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
        try:
            started = time.perf_counter()
            write_ledger(world, folder)
            result["write_seconds"] = round(time.perf_counter() - started, 2)
            size = sum(p.stat().st_size for p in folder.iterdir())
            result["ledger_mb"] = round(size / 2**20, 1)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def _run_server(port: int, n_orders: int, seed: int) -> None:
    """Child process: generate a world and serve it (the benchmark stops it)."""
    import uvicorn

    from ingestion.sandbox.context import SandboxConfig
    from ingestion.sandbox.server import create_app
    from ingestion.sandbox.state import SandboxState

    state = SandboxState.generate(seed=seed, n_orders=n_orders)
    app = create_app(state, SandboxConfig(bucket_size=10**9))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(n_orders: int, seed: int, page_size: int) -> dict[str, Any]:
    """Walk every Shopify order of a world served by another process, over HTTP, as the
    connector does; then move the clock and time the first page (views are rebuilt)."""
    import httpx
    import orjson

    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_run_server, args=(port, n_orders, seed), daemon=True
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    try:
        with httpx.Client(timeout=300) as http:
            deadline = time.monotonic() + 900
            while True:
                try:
                    http.get(f"{url}/_sandbox/clock").raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or not server.is_alive():
                        raise RuntimeError("the benchmark server did not start") from None
                    time.sleep(0.5)
            endpoint = f"{url}/admin/api/2026-07/orders.json"
            params: dict[str, Any] = {
                "status": "any",
                "limit": page_size,
                "order": "updated_at asc",
            }
            started = time.perf_counter()
            response = http.get(endpoint, params=params, headers=headers)
            first_page = time.perf_counter() - started
            orders = pages = size = 0
            while True:
                response.raise_for_status()
                orders += len(orjson.loads(response.content)["orders"])
                size += len(response.content)
                pages += 1
                link = response.headers.get("link", "")
                nxt = [p.split(";")[0].strip(" <>") for p in link.split(",") if 'rel="next"' in p]
                if not nxt:
                    break
                response = http.get(nxt[0], headers=headers)
            walked = time.perf_counter() - started
            http.post(f"{url}/_sandbox/clock/advance", params={"days": 1}).raise_for_status()
            started = time.perf_counter()
            http.get(endpoint, params=params, headers=headers).raise_for_status()
            after_advance = time.perf_counter() - started
    finally:
        server.terminate()
        server.join(timeout=30)
    return {
        "world_orders": n_orders,
        "store_orders_served": orders,
        "pages": pages,
        "page_size": page_size,
        "seconds": round(walked, 2),
        "orders_per_second": round(orders / walked),
        "kib_per_order": round(size / orders / 1024, 2),
        "first_page_seconds": round(first_page, 3),
        "first_page_after_clock_advance_seconds": round(after_advance, 3),
        "server": "separate process (uvicorn), client httpx + orjson in this one",
    }


def _in_fresh_process(func: Any, *args: Any) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(func, args)


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(pages / 2**30, 1),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="orders per world")
    parser.add_argument("--serve-orders", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-write", action="store_true", help="skip writing the ledgers")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "benchmark": "sandbox",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.sandbox", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "generation": [],
    }
    for size in (int(s) for s in args.sizes.split(",") if s):
        result = _in_fresh_process(_generate, size, args.seed, not args.no_write)
        report["generation"].append(result)
        print(
            f"generate {size:>9,} orders ({result['orders_in_ledger']:,} in the ledger): "
            f"{result['generate_seconds']:.1f}s, write {result.get('write_seconds', 0):.1f}s, "
            f"peak {result['peak_rss_mb']:,} MB"
        )
    if args.serve_orders:
        serving = _serve(args.serve_orders, args.seed, args.page_size)
        report["serving"] = serving
        print(
            f"serve Shopify orders of a {args.serve_orders:,}-order world: "
            f"{serving['orders_per_second']:,} orders/s over HTTP "
            f"({serving['pages']} pages of {args.page_size}), first page after a clock move "
            f"{serving['first_page_after_clock_advance_seconds']:.2f}s"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"sandbox-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
