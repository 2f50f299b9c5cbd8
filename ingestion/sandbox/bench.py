"""Measure the sandbox's speed: world generation and Shopify order rendering.

``python -m ingestion.sandbox.bench [--orders N] [--page 250]`` prints generation time and
orders rendered per second on one core, counting what a served page costs: pulling the rows
out of polars, building the dicts and serialising them with orjson.
"""

from __future__ import annotations

import argparse
import time

import orjson
import polars as pl

from ingestion.sandbox.shopify import ShopContext, page_records, render_order
from ingestion.sandbox.state import SandboxState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ingestion.sandbox.bench")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=250)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    state = SandboxState.generate(seed=args.seed, n_orders=args.orders)
    generated = time.perf_counter() - started
    view = state.orders_view().filter(pl.col("channel_id") == "shopify")
    shop = ShopContext()
    started = time.perf_counter()
    size = 0
    for offset in range(0, view.height, args.page):
        records = page_records(state, view.slice(offset, args.page))
        size += len(orjson.dumps({"orders": [render_order(r, shop) for r in records]}))
    rendered = time.perf_counter() - started
    print(
        f"generated {state.world.orders.height} orders "
        f"({state.world.order_lines.height} lines) in {generated:.2f}s"
    )
    print(
        f"rendered {view.height} orders in {rendered:.2f}s: "
        f"{view.height / rendered:,.0f} orders/s, {size / view.height / 1024:.1f} KiB/order"
    )


if __name__ == "__main__":
    main()
