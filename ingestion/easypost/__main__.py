"""``python -m ingestion.easypost``: load the configured EasyPost account into the warehouse."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.easypost import easypost_source

if __name__ == "__main__":
    stats = RequestStats()
    print(run_source(make_pipeline("easypost"), easypost_source(stats=stats), "easypost", stats))
