"""Tracking aggregator (AfterShip Tracking API) settings. Defaults point at the bundled sandbox;
a real AfterShip account is configuration only: ``SOURCES__TRACKING__ENDPOINT``
(``https://api.aftership.com/tracking/2024-04``) and ``SOURCES__TRACKING__API_KEY``.

The parser follows the tracking object of AfterShip's 2024-04 version, which kept v4's field
names and envelope (the official examples are v4). Later versions page with a cursor, which the
client follows as well, but rename some fields (``destination_country_region``...), so moving
to one is a parser change, not only a URL change.
"""

# Base path of the 2024-04 version; the sandbox serves it (and the legacy ``/v4``) too.
API_PATH = "/tracking/2024-04"
TRACKINGS_PATH = "/trackings"
# AfterShip's maximum page size for GET /trackings.
PAGE_SIZE = 200
# Pages parsed together in one column-wise pass: a pass costs about 10 ms of fixed work, so
# ten 200-tracking pages parse in about a quarter of the CPU time of ten passes (1.25 s ->
# 0.3 s for 10k trackings), for about 7 MB of response bodies held at once.
BATCH_PAGES = 10
# First run loads every tracking updated since this instant (AfterShip itself keeps 120 days).
DEFAULT_START = "2000-01-01T00:00:00Z"
# Re-read this window before the cursor on every run: AfterShip stamps ``updated_at`` when it
# polls the carrier, minutes to hours after the scan, and its list index is not instantly
# consistent either.
LOOKBACK_SECONDS = 3600
# 2024-04 and earlier: 10 requests/s per account (2024-07 onwards: 6/s for GET /trackings).
# The client adopts the rate ``X-RateLimit-Limit`` announces either way.
REQUESTS_PER_SECOND = 10.0
BURST = 10
RATE_LIMIT_HEADER = "X-RateLimit-Limit"
SANDBOX_API_KEY = "asat_sandbox"
