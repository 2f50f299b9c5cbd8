"""EasyPost settings. Defaults point at the bundled sandbox; a real account is configuration
only: ``SOURCES__EASYPOST__BASE_URL=https://api.easypost.com`` and ``SOURCES__EASYPOST__API_KEY``
(a production key; test keys see test-mode shipments only)."""

from __future__ import annotations

SHIPMENTS_PATH = "/v2/shipments"
REAL_BASE_URL = "https://api.easypost.com"
# EasyPost's maximum ``page_size`` for list endpoints.
PAGE_SIZE = 100
# Pages handed to dlt as one Arrow table (dlt pays about 8 ms per table it receives).
BATCH_PAGES = 10
# First run reads every label bought since this instant.
DEFAULT_START = "2012-01-01T00:00:00Z"
# ``start_datetime`` filters on ``created_at`` (the label purchase), but a shipment changes
# after it: the carrier bills DDP duties and import taxes after import clearance, days to weeks
# later (DHL and FedEx invoice within about 30 days), and refunds of unused labels take up to
# 30 days too. So every run re-reads the last 35 days of labels; the merge on ``id`` keeps one row.
LOOKBACK_SECONDS = 35 * 86_400
# EasyPost publishes no fixed number (limits depend on the account and endpoint and answer 429
# when exceeded); 10 requests a second is a conservative default, overridable per run.
REQUESTS_PER_SECOND = 10.0
SANDBOX_API_KEY = "EZTK_sandbox"
