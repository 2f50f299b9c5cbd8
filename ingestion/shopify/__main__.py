"""``python -m ingestion.shopify``: load the configured store into the warehouse once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.shopify import shopify_source

if __name__ == "__main__":
    stats = RequestStats()
    summary = run_source(make_pipeline("shopify"), shopify_source(stats=stats), "shopify", stats)
    print(summary)
