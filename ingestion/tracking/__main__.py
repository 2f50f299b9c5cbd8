"""``python -m ingestion.tracking``: load the configured tracking account into the warehouse
once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.tracking import tracking_source

if __name__ == "__main__":
    stats = RequestStats()
    summary = run_source(make_pipeline("tracking"), tracking_source(stats=stats), "tracking", stats)
    print(summary)
