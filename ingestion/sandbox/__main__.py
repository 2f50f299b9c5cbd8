"""``python -m ingestion.sandbox [--host H] [--port P] [--seed S] [--orders N]``: serve a
sandbox in the foreground (defaults: 127.0.0.1:8765, seed 42, 2000 orders)."""

from __future__ import annotations

import argparse

from ingestion.sandbox.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ingestion.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--orders", type=int, default=2000, help="orders up to the clock start")
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, seed=args.seed, n_orders=args.orders)


if __name__ == "__main__":
    main()
