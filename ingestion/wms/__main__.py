"""``python -m ingestion.wms``: load the configured WMS into the warehouse once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.wms import wms_source

if __name__ == "__main__":
    stats = RequestStats()
    summary = run_source(make_pipeline("wms"), wms_source(stats=stats), "wms", stats)
    print(summary)
