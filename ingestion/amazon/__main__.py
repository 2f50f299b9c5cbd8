"""``python -m ingestion.amazon``: load the configured seller account into the warehouse once.

``--reset-items`` first drops ``raw_amazon.order_items`` and the source's cursors, so the run
reloads every order and item: needed once for a warehouse loaded before items were keyed by
(amazon_order_id, seller_sku), whose frozen schema refuses the new key."""

import argparse

from dlt.pipeline.helpers import pipeline_drop

from ingestion.amazon import amazon_source
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source


def reset_items(pipeline) -> None:
    """Drop the items table and the state of the resource that walks the orders (its cursors
    and its record of loaded items); the orders table is kept and merged into again."""
    pipeline.sync_destination()
    pipeline_drop(pipeline, resources=["order_items", "order_pages"])()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m ingestion.amazon", description=__doc__)
    parser.add_argument("--reset-items", action="store_true", help="drop items and cursors first")
    args = parser.parse_args()
    pipeline = make_pipeline("amazon")
    if args.reset_items:
        reset_items(pipeline)
    stats = RequestStats()
    summary = run_source(pipeline, amazon_source(stats=stats), "amazon", stats)
    print(summary)
