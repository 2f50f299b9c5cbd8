"""``python -m ingestion.stripe``: load the configured Stripe account into the warehouse once."""

from ingestion.common.http import RequestStats
from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.stripe import stripe_source

if __name__ == "__main__":
    stats = RequestStats()
    print(run_source(make_pipeline("stripe"), stripe_source(stats=stats), "stripe", stats))
