"""Benchmark the sandbox: world generation at several sizes, and serving of every
high-volume list endpoint over HTTP.

``python -m benchmarks.sandbox [--sizes 10000,100000,1000000] [--serve-orders 10000,100000]``
writes ``benchmarks/results/sandbox-<date>.json`` with the machine (cores, memory, Python,
platform, load average) and the command, and prints a summary.

Why these measures: generation must stay vectorized (the target is a million orders, with
their payments, scans and stock, in under three minutes on two cores), and serving must keep
up with ingestion: connectors page through every order, charge, transaction and tracking, so
records served per second over real HTTP (per endpoint), and the cost of the first request
after the clock moves (when views are rebuilt and records pre-rendered), are what limit a
pipeline run. Each size runs in a fresh process, so peak memory is that size's own.
"""

from __future__ import annotations

import argparse
import base64
import http.client
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

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


def _run_server(port: int, n_orders: int, seed: int, cache_mb: int | None) -> None:
    """Child process: generate a world and serve it (the benchmark stops it); the lazily
    rendered lists (Shopify orders, AfterShip trackings, Stripe objects) share one cache of
    ``cache_mb`` (the server's default, ``render_cache.DEFAULT_CACHE_BYTES``, if None).

    Every API's rate limit is lifted (Shopify's bucket, Stripe's 25/s, AfterShip's 10/s,
    Amazon's usage plans): they model the real services' quotas, which bound a connector by
    design; what is measured here is how fast the sandbox itself can serve."""
    import uvicorn

    from ingestion.sandbox import api_aftership, api_amazon, api_stripe, render_cache
    from ingestion.sandbox.context import SandboxConfig
    from ingestion.sandbox.server import create_app
    from ingestion.sandbox.state import SandboxState

    unlimited = 1e9
    api_stripe.RATE_PER_SECOND = int(unlimited)
    api_aftership.RATE_LIMIT_PER_S = unlimited
    api_amazon.USAGE_PLANS = {
        op: api_amazon.UsagePlan(plan.published_rate, int(unlimited), unlimited)
        for op, plan in api_amazon.USAGE_PLANS.items()
    }
    if cache_mb is not None:
        render_cache.set_shared_limit(cache_mb * 2**20)
    state = SandboxState.generate(seed=seed, n_orders=n_orders)
    app = create_app(state, SandboxConfig(bucket_size=10**9))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Client:
    """A lean keep-alive HTTP/1.1 client (``http.client``) that times only the wait for each
    response (request sent until body read): parsing the bodies to count records is done
    between requests and left out, so the figure is the server's, not the client's."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        self.wait = 0.0
        self.first_wait: float | None = None
        self.bytes = 0
        self.requests = 0

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        started = time.perf_counter()
        self.conn.request(method, target, body=body, headers=headers or {})
        response = self.conn.getresponse()
        content = response.read()
        waited = time.perf_counter() - started
        self.wait += waited
        if self.first_wait is None:
            self.first_wait = waited
        self.bytes += len(content)
        self.requests += 1
        if response.status not in (200, 202):
            raise RuntimeError(f"{method} {target}: {response.status} {content[:300]!r}")
        return response, content

    def get_json(self, target: str, headers: dict[str, str]) -> tuple[Any, Any]:
        response, content = self.request("GET", target, headers)
        return response, orjson.loads(content)

    def close(self) -> None:
        self.conn.close()


def _target(path: str, params: dict[str, Any]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _walk_shopify(client: _Client) -> int:
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    params = {"status": "any", "limit": 250, "order": "updated_at asc"}
    target: str | None = _target("/admin/api/2026-07/orders.json", params)
    n = 0
    while target:
        response, body = client.get_json(target, headers)
        n += len(body["orders"])
        link = response.getheader("link") or ""
        nxt = [p.split(";")[0].strip(" <>") for p in link.split(",") if 'rel="next"' in p]
        target = None
        if nxt:
            url = urlsplit(nxt[0])
            target = f"{url.path}?{url.query}"
    return n


_AMAZON = {"x-amz-access-token": "Atza|sandbox"}


def _amazon_order_ids(client: _Client, collect: list[str] | None = None) -> int:
    from ingestion.sandbox.amazon_render import MARKETPLACES

    params: dict[str, Any] = {
        "MarketplaceIds": ",".join(MARKETPLACES),
        "LastUpdatedAfter": "2000-01-01T00:00:00Z",
        "MaxResultsPerPage": 100,
    }
    n = 0
    if collect is not None:
        collect.clear()
    while True:
        _, body = client.get_json(_target("/orders/v0/orders", params), _AMAZON)
        orders = body["payload"]["Orders"]
        n += len(orders)
        if collect is not None:
            collect.extend(o["AmazonOrderId"] for o in orders)
        token = body["payload"].get("NextToken")
        if token is None:
            return n
        params = {"NextToken": token}


def _walk_amazon_items(client: _Client, order_ids: list[str]) -> int:
    n = 0
    for order_id in order_ids:
        target = f"/orders/v0/orders/{order_id}/orderItems"
        while target:
            _, body = client.get_json(target, _AMAZON)
            n += len(body["payload"]["OrderItems"])
            token = body["payload"].get("NextToken")
            target = (
                _target(f"/orders/v0/orders/{order_id}/orderItems", {"NextToken": token})
                if token
                else None
            )
    return n


def _walk_stripe(kind: str) -> Any:
    def walk(client: _Client) -> int:
        headers = {"Authorization": "Bearer sk_test_sandbox"}
        params: dict[str, Any] = {"limit": 100}
        n = 0
        while True:
            _, body = client.get_json(_target(f"/v1/{kind}", params), headers)
            n += len(body["data"])
            if not body["has_more"]:
                return n
            params = {"limit": 100, "starting_after": body["data"][-1]["id"]}

    return walk


def _paypal_headers(client: _Client) -> dict[str, str]:
    """A bearer token's headers (``POST /v1/oauth2/token``, client credentials)."""
    credentials = base64.b64encode(
        b"tradelane_sandbox_client_id:tradelane_sandbox_client_secret"
    ).decode()
    _, content = client.request(
        "POST",
        "/v1/oauth2/token",
        {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        b"grant_type=client_credentials",
    )
    return {"Authorization": f"Bearer {orjson.loads(content)['access_token']}"}


def _paypal_refreshed(client: _Client) -> datetime:
    """PayPal's ``last_refreshed_datetime``: the top of the sandbox clock's hour."""
    _, clock = client.get_json("/_sandbox/clock", {})
    now = datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
    return now.replace(minute=0, second=0, microsecond=0)


def _walk_paypal(client: _Client) -> int:
    headers = _paypal_headers(client)
    end = _paypal_refreshed(client)
    start = end - timedelta(days=31 * 5)  # the world's 90 days of history and more
    n = 0
    while start < end:
        stop = min(start + timedelta(days=31), end)
        page, pages = 1, 1
        while page <= pages:
            params = {
                "start_date": start.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "end_date": stop.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "fields": "all",
                "page_size": 500,
                "page": page,
            }
            _, body = client.get_json(_target("/v1/reporting/transactions", params), headers)
            n += len(body["transaction_details"])
            pages = body["total_pages"]
            page += 1
        start = stop
    return n


def _amazon_report(client: _Client, start: str = "2000-01-01T00:00:00Z") -> int:
    """One All Orders report from ``start`` to the settled clock, every marketplace, as the
    connector fetches it (create, poll to DONE, document, download, gunzip): its item rows."""
    import gzip

    from ingestion.sandbox.amazon_render import MARKETPLACES
    from ingestion.sandbox.api_amazon_reports import PREFIX, REPORT_TYPE

    body = {"reportType": REPORT_TYPE, "marketplaceIds": list(MARKETPLACES), "dataStartTime": start}
    _, created = client.request(
        "POST",
        f"{PREFIX}/reports",
        {**_AMAZON, "Content-Type": "application/json"},
        orjson.dumps(body),
    )
    report_id = orjson.loads(created)["reportId"]
    while True:
        _, report = client.get_json(f"{PREFIX}/reports/{report_id}", _AMAZON)
        if report["processingStatus"] == "CANCELLED":
            return 0
        if report["processingStatus"] == "DONE":
            break
    _, meta = client.get_json(f"{PREFIX}/documents/{report['reportDocumentId']}", _AMAZON)
    url = urlsplit(meta["url"])
    _, content = client.request("GET", f"{url.path}?{url.query}")
    if meta.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return content.count(b"\n") - 1  # the header line


def _walk_aftership(client: _Client) -> int:
    headers = {"as-api-key": "asat_sandbox"}
    params: dict[str, Any] = {"limit": 200, "page": 1}
    n = 0
    while True:
        _, body = client.get_json(_target("/tracking/2024-04/trackings", params), headers)
        data = body["data"]
        n += len(data["trackings"])
        if params["page"] * 200 >= data["count"]:
            return n
        # The first page's resolved window, passed back so that offsets stay put.
        params = {
            "limit": 200,
            "page": params["page"] + 1,
            "created_at_min": data["created_at_min"],
            "created_at_max": data["created_at_max"],
        }


def _walk_wms_inventory(client: _Client) -> int:
    headers = {"Authorization": "Bearer wms_sandbox"}
    params: dict[str, Any] = {"limit": 1000}
    n = 0
    while True:
        _, body = client.get_json(_target("/wms/v1/inventory", params), headers)
        n += len(body["inventory_levels"])
        if body["next_cursor"] is None:
            return n
        params = {"limit": 1000, "cursor": body["next_cursor"]}


_AMAZON_ITEMS_SAMPLE = 5000


def _endpoints(amazon_ids: list[str]) -> dict[str, tuple[str, Any]]:
    """name -> (unit, walk(client) -> records served)."""
    return {
        "shopify_orders": ("orders", _walk_shopify),
        "amazon_get_orders": ("orders", lambda c: _amazon_order_ids(c, amazon_ids)),
        "amazon_get_order_items": (
            "items",
            lambda c: _walk_amazon_items(c, amazon_ids[:_AMAZON_ITEMS_SAMPLE]),
        ),
        "stripe_balance_transactions": ("objects", _walk_stripe("balance_transactions")),
        "stripe_charges": ("objects", _walk_stripe("charges")),
        "stripe_refunds": ("objects", _walk_stripe("refunds")),
        "stripe_payouts": ("objects", _walk_stripe("payouts")),
        "amazon_report": ("items", _amazon_report),
        "paypal_transactions": ("transactions", _walk_paypal),
        "aftership_trackings": ("trackings", _walk_aftership),
        "wms_inventory_levels": ("levels", _walk_wms_inventory),
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(port: int, walk: Any, pid: int) -> dict[str, Any]:
    """Walk an endpoint twice: the first walk's first request builds the views as of the
    clock and pre-renders the records; the second walk is the steady serving rate. The
    server's CPU time during each walk is read from /proc (``pid``)."""
    result: dict[str, Any] = {}
    for label in ("first_walk", "walk"):
        client = _Client(port)
        cpu = _cpu_seconds(pid)
        try:
            records = walk(client)
        finally:
            client.close()
        result[label] = {
            "server_cpu_seconds": round(_cpu_seconds(pid) - cpu, 2),
            "records": records,
            "requests": client.requests,
            "seconds": round(client.wait, 3),
            "records_per_second": round(records / client.wait) if client.wait else None,
            "requests_per_second": round(client.requests / client.wait) if client.wait else None,
            "kib_per_record": round(client.bytes / records / 1024, 2) if records else None,
            # The first walk's first request builds the views and pre-renders every record.
            "first_request_seconds": round(client.first_wait or 0.0, 3),
        }
    return result


def _connector_like_shopify(url: str, page_size: int) -> dict[str, Any]:
    """The Shopify walk as the connector does it (httpx, orjson parse in the loop): what a
    pipeline sees when the client's own costs are counted too."""
    import httpx

    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    params = {"status": "any", "limit": page_size, "order": "updated_at asc"}
    with httpx.Client(timeout=900) as http_client:
        started = time.perf_counter()
        response = http_client.get(
            f"{url}/admin/api/2026-07/orders.json", params=params, headers=headers
        )
        orders = 0
        while True:
            response.raise_for_status()
            orders += len(orjson.loads(response.content)["orders"])
            nxt = response.links.get("next", {}).get("url")
            if not nxt:
                break
            response = http_client.get(nxt, headers=headers)
        walked = time.perf_counter() - started
    return {
        "records": orders,
        "seconds": round(walked, 2),
        "records_per_second": round(orders / walked),
        "client": "httpx 0.28 (h11) + orjson, parse inside the timed loop",
    }


def _memory_mb(pid: int) -> dict[str, int]:
    """Resident (``VmRSS``) and peak resident (``VmHWM``) memory of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[{"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb"}[name]] = int(value.split()[0]) // 1024
    return out


def _serve(
    n_orders: int,
    seed: int,
    page_size: int,
    only: set[str] | None = None,
    cache_mb: int | None = None,
) -> dict[str, Any]:
    """Serve a world from another process and walk every high-volume list endpoint (or those
    in ``only``) over HTTP, as the connectors do; then move the clock and time the first page
    of each lazily rendered list walked (Shopify, AfterShip) again. The server's memory is
    read from /proc after the world is generated and at the end (peak)."""
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_run_server, args=(port, n_orders, seed, cache_mb), daemon=True
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    report: dict[str, Any] = {"world_orders": n_orders, "endpoints": {}}
    try:
        deadline = time.monotonic() + 900
        while True:
            try:
                probe = _Client(port)
                probe.request("GET", "/_sandbox/clock")
                probe.close()
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline or not server.is_alive():
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.5)
        report["server_memory_after_generation"] = _memory_mb(server.pid)
        amazon_ids: list[str] = []
        for name, (unit, walk) in _endpoints(amazon_ids).items():
            if only is not None and name not in only:
                continue
            result = _measure(port, walk, server.pid)
            report["endpoints"][name] = {"unit": unit, **result}
            steady = result["walk"]
            print(
                f"  {name:<28} {steady['records']:>9,} {unit:<12} "
                f"{steady['records_per_second'] or 0:>9,}/s  "
                f"({steady['requests_per_second'] or 0:,} requests/s; first request "
                f"{result['first_walk']['first_request_seconds']:.2f}s)"
            )
        walked = set(report["endpoints"])
        if "shopify_orders" in walked:
            report["shopify_connector_like"] = _connector_like_shopify(url, page_size)
        client = _Client(port)
        client.request("POST", "/_sandbox/clock/advance?days=1")
        firsts = {
            "shopify": (
                "/admin/api/2026-07/orders.json",
                {"status": "any", "limit": page_size, "order": "updated_at asc"},
                {"X-Shopify-Access-Token": "shpat_sandbox"},
            ),
            "aftership": (
                "/tracking/2024-04/trackings",
                {"limit": 200, "page": 1},
                {"as-api-key": "asat_sandbox"},
            ),
            "amazon_get_orders": (
                "/orders/v0/orders",
                {
                    "MarketplaceIds": "ATVPDKIKX0DER,A1PA6795UKMFR9,A1F83G8C2ARO7P,A1VC38T7YXB528",
                    "LastUpdatedAfter": "2000-01-01T00:00:00Z",
                    "MaxResultsPerPage": 100,
                },
                _AMAZON,
            ),
        }
        if "paypal_transactions" in walked:
            end = _paypal_refreshed(client)
            firsts["paypal"] = (
                "/v1/reporting/transactions",
                {
                    "start_date": (end - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "end_date": end.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "fields": "all",
                    "page_size": 500,
                },
                _paypal_headers(client),
            )
        for name, (path, params, headers) in firsts.items():
            if not any(e.startswith(name) for e in walked):
                continue
            started = time.perf_counter()
            client.request("GET", _target(path, params), headers)
            report[f"{name}_first_page_after_clock_advance_seconds"] = round(
                time.perf_counter() - started, 3
            )
        if "amazon_report" in walked:
            # The whole report again, a day's changes included: created, polled, downloaded.
            started = time.perf_counter()
            _amazon_report(client)
            report["amazon_report_after_clock_advance_seconds"] = round(
                time.perf_counter() - started, 3
            )
        client.close()
        report["server_memory_at_end"] = _memory_mb(server.pid)
    finally:
        server.terminate()
        server.join(timeout=30)
    report["client"] = (
        "http.client keep-alive, one connection; seconds = waiting for responses only"
    )
    report["server"] = "separate process (uvicorn + httptools), rate limits lifted"
    return report


def _prerender(n_orders: int, seed: int) -> dict[str, Any]:
    """In this process: generate a world, then time each API's pre-rendering of every record
    as of the clock (what the first request after a clock move pays), then again after the
    clock moves a day."""

    from ingestion.sandbox import api_aftership, api_amazon, api_paypal, api_stripe
    from ingestion.sandbox.context import SandboxConfig, SandboxContext
    from ingestion.sandbox.render_cache import RenderCache
    from ingestion.sandbox.shopify_serving import ShopOrders
    from ingestion.sandbox.state import SandboxState

    state = SandboxState.generate(seed=seed, n_orders=n_orders)
    ctx = SandboxContext.create(state, SandboxConfig())
    # Every order, in a cache that holds them all: after the clock moves, only the orders
    # that changed are rendered again.
    shopify = ShopOrders(state, cache_bytes=1 << 40)
    aftership = api_aftership._AfterShipApi(ctx)
    aftership.rendered = RenderCache(1 << 40)
    amazon = api_amazon._AmazonApi(ctx)
    amazon.rendered = RenderCache(1 << 40)
    stripe = api_stripe.StripeApi(ctx)
    stripe.rendered = RenderCache(1 << 40)
    paypal = api_paypal.PayPalApi(ctx)
    paypal.rendered = RenderCache(1 << 40)
    resources = {r.path.rsplit("/", 1)[-1]: r for r in api_stripe.RESOURCES if r.prerendered}
    steps: dict[str, Any] = {
        "shopify_orders": lambda: len(shopify.current().page_json(shopify.current().orders)),
        "amazon_orders": lambda: len(
            amazon.orders_json(amazon.snapshot(), amazon.snapshot().orders)
        ),
        "aftership_trackings": lambda: len(
            aftership.json_of(aftership.data(), aftership.data().trackings)
        ),
        **{
            f"stripe_{name}": (lambda r=res: len(stripe.json_of(r, stripe._rendered(r))))
            for name, res in resources.items()
        },
        "paypal_transactions": lambda: len(
            paypal.details(paypal._rows().frame, set(api_paypal.SECTIONS))
        ),
    }
    result: dict[str, Any] = {"world_orders": n_orders}
    for label in ("at_start", "after_a_day"):
        for name, step in steps.items():
            started = time.perf_counter()
            records = step()
            result.setdefault(name, {})[label] = {
                "records": records,
                "seconds": round(time.perf_counter() - started, 2),
            }
        state.advance(1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


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
    parser.add_argument(
        "--serve-orders", default="10000,100000", help="orders per served world ('' to skip)"
    )
    parser.add_argument(
        "--prerender-orders",
        default="100000",
        help="orders per world whose pre-rendering is timed in-process ('' to skip)",
    )
    parser.add_argument(
        "--endpoints",
        default="",
        help="served endpoints to walk, comma-separated (default every one): "
        "shopify_orders, amazon_get_orders, stripe_charges, ...",
    )
    parser.add_argument(
        "--cache-mb",
        type=int,
        default=None,
        help="the cache all lazily rendered lists share (Shopify orders, AfterShip trackings, "
        "Stripe objects; default: the server's)",
    )
    parser.add_argument("--label", default="", help="suffix of the result file name")
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
    report["prerender"] = []
    for size in (int(s) for s in args.prerender_orders.split(",") if s):
        result = _in_fresh_process(_prerender, size, args.seed)
        report["prerender"].append(result)
        timings = ", ".join(
            f"{name} {value['at_start']['seconds']:.1f}s"
            for name, value in result.items()
            if isinstance(value, dict)
        )
        print(f"pre-render a {size:,}-order world: {timings}; peak {result['peak_rss_mb']:,} MB")
    report["serving"] = []
    for size in (int(s) for s in args.serve_orders.split(",") if s):
        print(f"serve a {size:,}-order world (steady rate; the first walk builds the views):")
        only = {e for e in args.endpoints.split(",") if e} or None
        serving = _serve(size, args.seed, args.page_size, only, args.cache_mb)
        report["serving"].append(serving)
        like = serving.get("shopify_connector_like")
        if like is not None:
            print(
                f"  Shopify walked as the connector does (httpx + orjson): "
                f"{like['records_per_second']:,} orders/s"
            )
        for key, value in serving.items():
            if key.endswith("_after_clock_advance_seconds"):
                print(f"  {key.replace('_', ' ')}: {value:.2f}s")
        print(f"  server memory at the end: {serving['server_memory_at_end']}")
    args.out.mkdir(parents=True, exist_ok=True)
    # One file per kind of run, so that a serving run does not replace generation figures.
    parts = [
        kind
        for kind, given in (
            ("generation", args.sizes),
            ("prerender", args.prerender_orders),
            ("serving", args.serve_orders),
        )
        if given
    ]
    label = f"-{args.label}" if args.label else ""
    path = args.out / f"sandbox-{'-'.join(parts)}-{datetime.now(UTC):%Y-%m-%d}{label}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
