"""``python -m ingestion.paypal``: load the configured PayPal account into the warehouse once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.paypal import paypal_source

if __name__ == "__main__":
    stats = RequestStats()
    print(run_source(make_pipeline("paypal"), paypal_source(stats=stats), "paypal", stats))
