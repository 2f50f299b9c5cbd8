"""``python -m ingestion.ecb``: load the ECB reference rates into the warehouse once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.ecb import ecb_source

if __name__ == "__main__":
    stats = RequestStats()
    print(run_source(make_pipeline("ecb"), ecb_source(stats=stats), "ecb", stats))
