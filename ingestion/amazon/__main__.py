"""``python -m ingestion.amazon``: load the configured seller account into the warehouse once."""

from ingestion.amazon import amazon_source
from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source

if __name__ == "__main__":
    stats = RequestStats()
    summary = run_source(make_pipeline("amazon"), amazon_source(stats=stats), "amazon", stats)
    print(summary)
